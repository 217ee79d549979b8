"""A network's backward pass written by hand, in tensor form (reference for notebook 05).

Shapes follow the notebook: a batch ``x`` of ``N`` rows, a linear layer
``y = x @ w + b`` with ``w`` of shape ``(n_in, n_out)`` and ``b`` of shape
``(n_out,)``. Every ``*_backward`` takes the gradient of the loss with respect
to the layer's output, ``g = dL/dy``, and returns the gradients with respect
to the layer's inputs (the chain rule, one layer at a time):

* linear: ``dL/dx = g @ w.T``, ``dL/dw = x.T @ g``, ``dL/db = sum over the batch of g``;
* ReLU: ``dL/dx = g * [x > 0]`` (``relu'(0) = 0``, as in PyTorch);
* mean squared error ``L = mean((p - t)**2)`` over all ``N * C`` entries:
  ``dL/dp = 2 (p - t) / (N C)``;
* cross-entropy ``L = mean_i(logsumexp(z_i) - z_i[y_i])``:
  ``dL/dz = (softmax(z) - onehot(y)) / N``.

The functions work on torch tensors without autograd (plain tensor algebra),
so the project's tests can compare them with ``torch.autograd`` in float64 and
the benchmark can time them against it.
"""
from __future__ import annotations

from typing import Callable

import torch

Tensor = torch.Tensor
Params = dict[str, Tensor]


def linear(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """``y = x @ w + b``: ``(N, n_in) @ (n_in, n_out) + (n_out,)``."""
    return x @ w + b


def linear_backward(x: Tensor, w: Tensor, grad_out: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(dL/dx, dL/dw, dL/db) = (g @ w.T, x.T @ g, g.sum(0))`` for ``g = dL/dy``."""
    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(0)


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)`` elementwise."""
    return x.clamp_min(0)


def relu_backward(x: Tensor, grad_out: Tensor) -> Tensor:
    """``g * [x > 0]``: the gradient passes where the input was positive, and nowhere else."""
    return grad_out * (x > 0)


def mse(pred: Tensor, target: Tensor) -> Tensor:
    """``mean((p - t)**2)`` over every entry (``torch.nn.functional.mse_loss``)."""
    return ((pred - target) ** 2).mean()


def mse_backward(pred: Tensor, target: Tensor) -> Tensor:
    """``dL/dp = 2 (p - t) / numel``."""
    return 2 * (pred - target) / pred.numel()


def log_softmax(z: Tensor) -> Tensor:
    """``z - logsumexp(z)`` per row, with the row maximum subtracted first so nothing overflows."""
    m = z.max(dim=1, keepdim=True).values
    shifted = z - m
    return shifted - shifted.exp().sum(dim=1, keepdim=True).log()


def cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    """``mean_i(-log softmax(z_i)[y_i])`` (``torch.nn.functional.cross_entropy``)."""
    n = logits.shape[0]
    return -log_softmax(logits)[torch.arange(n), labels].mean()


def cross_entropy_backward(logits: Tensor, labels: Tensor) -> Tensor:
    """``dL/dz = (softmax(z) - onehot(y)) / N``."""
    n = logits.shape[0]
    grad = log_softmax(logits).exp()
    grad[torch.arange(n), labels] -= 1
    return grad / n


def forward(x: Tensor, p: Params) -> dict[str, Tensor]:
    """The two-layer network linear -> ReLU -> linear; keeps what backward needs."""
    h_pre = linear(x, p["w1"], p["b1"])
    h = relu(h_pre)
    out = linear(h, p["w2"], p["b2"])
    return {"x": x, "h_pre": h_pre, "h": h, "out": out}


def network_backward(x: Tensor, target: Tensor, p: Params,
                     loss_backward: Callable[[Tensor, Tensor], Tensor]) -> Params:
    """Gradients of the loss with respect to ``w1, b1, w2, b2``, by the chain rule layer by layer."""
    return backward_from(forward(x, p), target, p, loss_backward)


def loss_and_grads(x: Tensor, target: Tensor, p: Params, loss: Callable[[Tensor, Tensor], Tensor],
                   loss_backward: Callable[[Tensor, Tensor], Tensor]) -> tuple[Tensor, Params]:
    """One forward pass, the loss (for the training log) and every gradient: a training step's work."""
    s = forward(x, p)
    return loss(s["out"], target), backward_from(s, target, p, loss_backward)


def backward_from(s: dict[str, Tensor], target: Tensor, p: Params,
                  loss_backward: Callable[[Tensor, Tensor], Tensor]) -> Params:
    """The backward pass from the intermediate results ``s`` that :func:`forward` kept."""
    g_out = loss_backward(s["out"], target)
    g_h, g_w2, g_b2 = linear_backward(s["h"], p["w2"], g_out)
    g_hpre = relu_backward(s["h_pre"], g_h)
    _, g_w1, g_b1 = linear_backward(s["x"], p["w1"], g_hpre)
    return {"w1": g_w1, "b1": g_b1, "w2": g_w2, "b2": g_b2}


def init_params(n_in: int, n_hidden: int, n_out: int, *, generator: torch.Generator | None = None,
                dtype: torch.dtype = torch.float64) -> Params:
    """Kaiming-style initial weights (variance 2/n_in for the ReLU layer), zero biases."""
    w1 = torch.randn(n_in, n_hidden, generator=generator, dtype=dtype) * (2 / n_in) ** 0.5
    w2 = torch.randn(n_hidden, n_out, generator=generator, dtype=dtype) * (1 / n_hidden) ** 0.5
    return {"w1": w1, "b1": torch.zeros(n_hidden, dtype=dtype),
            "w2": w2, "b2": torch.zeros(n_out, dtype=dtype)}


def sgd_step(p: Params, grads: Params, lr: float) -> None:
    """``p <- p - lr * grad`` in place, for every parameter."""
    for k, v in p.items():
        v.sub_(grads[k], alpha=lr)
