"""The two-moons task of notebook 03: data, training helpers and pictures.

* :func:`make_data` -- scikit-learn's ``make_moons`` (generated, never
  downloaded), labels mapped from {0, 1} to {-1, +1} for the max-margin loss
  ``mean(relu(1 - y * score))``.
* :func:`paused_gc` and :func:`release_graph` -- a scalar engine builds about
  65,000 nodes per training step. Each node's ``_backward`` closure refers
  back to the node, a reference cycle, so Python's cycle collector keeps
  rescanning the growing heap during the forward pass (over 90% of a step's
  time: benchmarks/nb03_training_steps.py prints the ratio) and only it can
  free the old graphs. Pausing the collector
  during a step and breaking the cycles once the step is done (PyTorch frees
  its graph after ``backward()`` too) lets reference counting free each graph
  at once: same numbers, many times faster.
* :func:`mlp_scores` -- the scores of a micrograd-style MLP on many points at
  once with numpy (for the decision-boundary picture; a grid of 40,000 points
  through the scalar engine would take minutes).
* :func:`plot_data`, :func:`plot_decision_boundary`, :func:`plot_training`.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

import numpy as np


def make_data(n_samples: int = 100, noise: float = 0.1,
              random_state: int = 1337) -> tuple[list[list[float]], list[int]]:
    """Two interleaved half circles: points ``X`` (n x 2 floats) and labels ``y`` in {-1, +1}."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=random_state)
    return X.tolist(), [int(2 * v - 1) for v in y]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Turn Python's cycle collector off inside the block, back on (if it was on) after it."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def release_graph(root: Any) -> int:
    """Break the cycle ``node -> node._backward -> node`` of every computed node under ``root``.

    Works on any micrograd-style value (attributes ``_prev`` and ``_backward``).
    Leaves (no ``_prev``) keep their ``_backward``. After this the graph can no
    longer be backpropagated. Returns the number of nodes visited. Iterative,
    so deep graphs are fine.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node._prev:
            node._backward = _noop
        stack.extend(node._prev)
    return len(seen)


def _noop() -> None:
    return None


def mlp_scores(model: Any, points: np.ndarray) -> np.ndarray:
    """Scores of ``model`` at each row of ``points`` (n x nin), computed with numpy.

    ``model`` is laid out as micrograd's MLP: ``model.layers``, each with
    ``.neurons``, each with weights ``.w`` (Values), bias ``.b`` and ``.nonlin``
    (ReLU when true). Layer by layer: ``h = relu(h @ W.T + b)``.
    """
    h = np.asarray(points, dtype=float)
    for layer in model.layers:
        W = np.array([[w.data for w in n.w] for n in layer.neurons], dtype=float)
        b = np.array([n.b.data for n in layer.neurons], dtype=float)
        h = h @ W.T + b
        relu = np.array([bool(n.nonlin) for n in layer.neurons])
        h = np.where(relu, np.maximum(h, 0.0), h)
    return h[:, 0] if h.shape[1] == 1 else h


def plot_data(X: Sequence[Sequence[float]], y: Sequence[int], ax: Any = None) -> Any:
    """Scatter the points, coloured by label."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=30, edgecolors="k", linewidths=0.5)
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    ax.set_aspect("equal")
    return ax


def plot_decision_boundary(scores: Callable[[np.ndarray], np.ndarray],
                           X: Sequence[Sequence[float]], y: Sequence[int],
                           ax: Any = None, resolution: int = 200) -> Any:
    """Shade where ``scores(points) > 0`` (class +1) over the data's box, then scatter the data."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    Xa = np.asarray(X, dtype=float)
    lo, hi = Xa.min(axis=0) - 0.5, Xa.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    z = np.asarray(scores(np.c_[gx.ravel(), gy.ravel()]), dtype=float).reshape(gx.shape)
    ax.contourf(gx, gy, z > 0, levels=[-0.5, 0.5, 1.5], cmap="coolwarm", alpha=0.3)
    ax.contour(gx, gy, z, levels=[0.0], colors="k", linewidths=1)
    return plot_data(X, y, ax)


def plot_training(losses: Sequence[float], accuracies: Sequence[float]) -> Any:
    """Loss (log scale) and training accuracy against the step."""
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3))
    a1.semilogy(losses)
    a1.set_xlabel("step")
    a1.set_ylabel("loss")
    a2.plot(100 * np.asarray(accuracies, dtype=float))
    a2.set_xlabel("step")
    a2.set_ylabel("training accuracy (%)")
    a2.set_ylim(40, 102)
    fig.tight_layout()
    return fig


class Progress:
    """A line every ``every`` steps of a long loop: where it is, how long it took, how long to go.

        progress = Progress(100, every=10)
        for k in range(100):
            ...
            progress.update(k, loss=loss.data, accuracy=accuracy)

    prints ``step  10/100  loss 0.3085  accuracy 86%  |  4.2 s so far, about 42 s in all
    (38 s to go)`` after steps 0, 10, 20, ... and the last; the estimate is the
    mean time per step so far times the number of steps. Printed lines (not a
    redrawn bar) stay readable in a saved notebook and in nbgrader's feedback.
    """

    def __init__(self, total: int, every: int = 10, *, out: Callable[[str], Any] = print,
                 clock: Callable[[], float] | None = None) -> None:
        import time

        if total < 1 or every < 1:
            raise ValueError(f"Progress needs total >= 1 and every >= 1, not {total}, {every}")
        self.total, self.every, self.out = total, every, out
        self.clock = clock or time.perf_counter
        self.start = self.clock()

    @property
    def elapsed(self) -> float:
        return self.clock() - self.start

    def line(self, k: int, **figures: float) -> str:
        """The text for step ``k`` (0-based) finished, with ``figures`` such as ``loss=0.31``."""
        done = k + 1
        spent = self.elapsed
        total = spent / done * self.total
        parts = [f"step {done:>{len(str(self.total))}}/{self.total}"]
        for name, value in figures.items():
            parts.append(f"{name} {value:.0%}" if name == "accuracy" else f"{name} {value:.4f}")
        when = f"{spent:.1f} s so far"
        if done < self.total:
            when += f", about {total:.0f} s in all ({total - spent:.0f} s to go)"
        return "  ".join(parts) + "  |  " + when

    def update(self, k: int, **figures: float) -> str | None:
        """Print (and return) the line for step ``k`` when it is due: steps 0, every, 2 every, ..., last."""
        if k % self.every and k != self.total - 1:
            return None
        text = self.line(k, **figures)
        self.out(text)
        return text
