"""A neuron, a layer and a multi-layer perceptron on :class:`course.engine.Value`.

The interface is micrograd's (``MLP(2, [16, 16, 1])`` has 337 parameters,
``parameters()``, ``zero_grad()``, calling a model on a list of numbers or
Values), plus seeded initialisation: every weight is drawn from
``rng.uniform(-1, 1)`` and every bias starts at 0, in the order micrograd draws
them, so ``MLP(..., seed=1337)`` starts from the weights micrograd's demo gets
after ``random.seed(1337)``.

A neuron computes ``relu(w . x + b)`` (or ``w . x + b`` without the
non-linearity, as the last layer does); a layer is a list of neurons fed the
same inputs; an MLP chains layers.
"""
from __future__ import annotations

import random
from typing import Sequence, Union

from course.engine import Value

__all__ = ["Module", "Neuron", "Layer", "MLP", "svm_loss", "accuracy"]

Input = Union[Value, float]


def _rng(seed: int | None, rng: random.Random | None) -> random.Random:
    if rng is not None and seed is not None:
        raise TypeError("pass either seed or rng, not both")
    return rng if rng is not None else random.Random(seed)


class Module:
    """Something with parameters: a neuron, a layer or a network."""

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (leaves accumulate across backward() calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        return []


class Neuron(Module):
    """``relu(sum_i w_i x_i + b)``, or the affine part alone with ``nonlin=False``."""

    def __init__(self, nin: int, nonlin: bool = True, *, seed: int | None = None,
                 rng: random.Random | None = None) -> None:
        r = _rng(seed, rng)
        self.w = [Value(r.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Input]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons that all read the same ``nin`` inputs."""

    def __init__(self, nin: int, nout: int, nonlin: bool = True, *, seed: int | None = None,
                 rng: random.Random | None = None) -> None:
        r = _rng(seed, rng)
        self.neurons = [Neuron(nin, nonlin, rng=r) for _ in range(nout)]

    def __call__(self, x: Sequence[Input]) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes ``nin -> nouts[0] -> ... -> nouts[-1]``; ReLU on all but the last.

    ``MLP(2, [16, 16, 1], seed=1337)``: 2*16+16 + 16*16+16 + 16+1 = 337 parameters.
    """

    def __init__(self, nin: int, nouts: Sequence[int], *, seed: int | None = None,
                 rng: random.Random | None = None) -> None:
        r = _rng(seed, rng)
        sizes = [nin, *nouts]
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1, rng=r)
                       for i in range(len(nouts))]

    def __call__(self, x: Sequence[Input]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def svm_loss(model: Module, X: Sequence[Sequence[float]], y: Sequence[float],
             alpha: float = 1e-4) -> tuple[Value, list[Value]]:
    """micrograd demo's loss: mean max-margin ``relu(1 - y_i score_i)`` plus
    ``alpha * sum(p**2)``. Labels are -1 or +1. Returns the loss and the scores."""
    scores = [model([float(v) for v in row]) for row in X]
    losses = [(1 + -float(yi) * s).relu() for yi, s in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    return data_loss + reg_loss, scores


def accuracy(scores: Sequence[Value], y: Sequence[float]) -> float:
    """Share of points whose score has the sign of their label (-1 or +1)."""
    return sum((float(yi) > 0) == (s.data > 0) for yi, s in zip(y, scores)) / len(scores)
