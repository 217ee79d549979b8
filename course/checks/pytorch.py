"""Checks of notebook 05 (PyTorch, and a network's backward pass by hand).

Every expected gradient is torch autograd's, in float64, on inputs the check
builds itself; ``course.layers`` (the hand-written layers' reference) is withheld
while notebook 05 is graded and never used here. For ``y = x @ w + b`` and an
upstream gradient ``g = dL/dy``: ``dL/dx = g wᵀ``, ``dL/dw = xᵀ g``,
``dL/db = Σ_rows g``; ``relu'(x) = [x > 0]`` (0 at 0, as in torch); for the mean
squared error ``dL/dpred = 2 (pred - target) / numel``; for the mean
cross-entropy ``dL/dz = (softmax(z) - onehot) / N``.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .answers import ask, check, fail
from .expect import array, expect_close, number
from .messages import misconception, worst

DT = torch.float64
X = torch.tensor([[1.0, 2.0, -1.0], [0.5, -3.0, 2.0], [4.0, 0.0, 1.0]], dtype=DT)
W = torch.tensor([[0.2, -1.0, 0.5], [1.5, 0.3, -0.7], [-0.4, 0.8, 2.0]], dtype=DT)
G = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0], [2.0, 1.0, 1.0]], dtype=DT)


def np_(t: torch.Tensor) -> np.ndarray:
    return np.asarray(t.detach(), dtype=float)


def first_matching(got: np.ndarray, expected: np.ndarray, wrong: list[tuple[Any, str, str]]) -> str:
    """The hint of the first known mistake whose prediction ``got`` matches, else where it differs most."""
    for cand, tag, text in wrong:
        cand = np.asarray(cand, dtype=float)
        if got.shape == cand.shape and np.allclose(got, cand):
            return misconception(tag, text)
    return worst(got, expected)


def expect_allclose(what: str, got: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float,
                    hint: str | None = None, inputs: dict | None = None) -> None:
    """Pass when ``got`` has ``expected``'s shape and matches it (np.allclose)."""
    if got.shape == expected.shape and np.allclose(got, expected, rtol=rtol, atol=atol):
        return
    fail(what, inputs=inputs, expected=expected, got=got, tol=f"{rtol:g} relative",
         hint=hint if hint is not None else worst(got, expected))


def linear_grads(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, g: torch.Tensor) -> list[np.ndarray]:
    """(dL/dx, dL/dw, dL/db) of L = sum((x @ w + b) * g), by autograd."""
    xr, wr, br = (t.clone().requires_grad_(True) for t in (x, w, b))
    ((xr @ wr + br) * g).sum().backward()
    return [np_(t.grad) for t in (xr, wr, br)]


def ask_part(what: str, fn: Callable, index: int | None, *args: Any) -> np.ndarray:
    """The student's result (or its ``index``-th part) as a float array."""
    got = ask(what, lambda: fn(*args) if index is None else fn(*args)[index])
    return array(what, got)


# ---------------------------------------------------------------------------
# linear_backward

LINEAR = "linear_backward(x, w, g)"


@check
def check_linear_backward_input(linear_backward: Callable) -> None:
    """dL/dx = g @ w.T, the first result."""
    expected = linear_grads(X, W, torch.zeros(3, dtype=DT), G)[0]
    got = ask_part(f"dL/dx, the first result of {LINEAR}", linear_backward, 0, X, W, G)
    expect_allclose(f"dL/dx, the first result of {LINEAR}", got, expected, rtol=1e-10, atol=1e-12,
                    inputs={"x": np_(X), "w": np_(W), "g": np_(G)},
                    hint=first_matching(got, expected, [(np_(G @ W), "missing-transpose",
                                                         "this is g @ w; w has shape (n_in, n_out), so dL/dx = g @ w.T")]))


@check
def check_linear_backward_weights(linear_backward: Callable) -> None:
    """dL/dw = x.T @ g, the second result, with w's shape."""
    expected = linear_grads(X, W, torch.zeros(3, dtype=DT), G)[1]
    got = ask_part(f"dL/dw, the second result of {LINEAR}", linear_backward, 1, X, W, G)
    expect_allclose(f"dL/dw, the second result of {LINEAR}", got, expected, rtol=1e-10, atol=1e-12,
                    inputs={"x": np_(X), "w": np_(W), "g": np_(G)},
                    hint=first_matching(got, expected, [
                        (np_(X @ G), "missing-transpose", "this is x @ g; the batch index must be summed over, "
                                                          "so dL/dw = x.T @ g"),
                        (expected.T, "missing-transpose", "this is (x.T @ g).T = g.T @ x, the transpose; dL/dw has "
                                                          "w's shape (n_in, n_out): x.T @ g")]))


BIAS_MISTAKES = [
    (lambda g: g, "bias-not-summed", "this is g itself, one row per example; b is shared by every row of the batch, "
                                     "so sum g over the batch: g.sum(0)"),
    (lambda g: g.mean(0), "bias-averaged", "this is the mean of g over the batch; the loss already divides by N, "
                                           "so here sum: g.sum(0)"),
    (lambda g: g.sum(1), "bias-wrong-axis", "this sums g over the outputs (axis 1); b has one entry per output, so "
                                            "sum over the batch (axis 0)"),
]


@check
def check_linear_backward_bias(linear_backward: Callable) -> None:
    """dL/db = g.sum(0): b is shared by every row of the batch."""
    expected = linear_grads(X, W, torch.zeros(3, dtype=DT), G)[2]
    got = ask_part(f"dL/db, the third result of {LINEAR}", linear_backward, 2, X, W, G)
    g = np_(G)
    expect_allclose(f"dL/db, the third result of {LINEAR}", got, expected, rtol=1e-10, atol=1e-12, inputs={"g": g},
                    hint=first_matching(got, expected, [(f(g), tag, text) for f, tag, text in BIAS_MISTAKES]))


# ---------------------------------------------------------------------------
# relu_backward


def relu_grad(x: torch.Tensor, g: torch.Tensor) -> np.ndarray:
    xr = x.clone().requires_grad_(True)
    (torch.relu(xr) * g).sum().backward()
    return np_(xr.grad)


def relu_mistakes(x: np.ndarray, g: np.ndarray) -> list[tuple[np.ndarray, str, str]]:
    return [(g * np.maximum(x, 0), "relu-mask-from-output", "this is g * relu(x): you multiplied by the layer's output "
                                                            "values; multiply by the 0/1 mask (x > 0)"),
            (g, "relu-mask-from-output", "nothing was blocked: a mask such as relu(x) >= 0 is true everywhere; use the "
                                         "input's mask (x > 0)"),
            (g * (g > 0), "relu-mask-from-gradient", "this is relu(g): the mask came from the sign of the upstream "
                                                     "gradient; it must come from the layer's input, (x > 0)"),
            (g * (x < 0), "relu-mask-inverted", "the gradient passed where x < 0: the mask is inverted; use (x > 0)"),
            (g * (x >= 0), "relu-at-zero", "the gradient passed at x == 0: relu'(0) is 0 in PyTorch and in this "
                                           "course; use x > 0, not x >= 0")]


@check
def check_relu_backward_value(relu_backward: Callable) -> None:
    """dL/dx = g * (x > 0): the gradient passes where the input was positive."""
    x = torch.tensor([[-2.0, 1.5, 0.5], [3.0, -0.5, -1.0]], dtype=DT)
    g = torch.tensor([[0.5, -2.0, 3.0], [-0.7, 2.0, 0.3]], dtype=DT)
    expected = relu_grad(x, g)
    got = ask_part("relu_backward(x, g)", relu_backward, None, x, g)
    expect_allclose("relu_backward(x, g)", got, expected, rtol=1e-12, atol=0, inputs={"x": np_(x), "g": np_(g)},
                    hint=first_matching(got, expected, relu_mistakes(np_(x), np_(g))[:4]))


@check
def check_relu_backward_at_zero(relu_backward: Callable) -> None:
    """relu'(0) = 0: no gradient passes where x is exactly 0."""
    x = torch.tensor([[0.0, 2.0, -1.0, 0.0]], dtype=DT)
    g = torch.tensor([[1.0, 1.0, 1.0, -3.0]], dtype=DT)
    expected = relu_grad(x, g)
    got = ask_part("relu_backward(x, g) where some x are exactly 0", relu_backward, None, x, g)
    expect_allclose("relu_backward(x, g) where some x are exactly 0", got, expected, rtol=1e-12, atol=0,
                    inputs={"x": np_(x), "g": np_(g)},
                    hint=first_matching(got, expected, relu_mistakes(np_(x), np_(g))[4:]))


# ---------------------------------------------------------------------------
# losses


def mse_mistakes(d: np.ndarray) -> list[tuple[np.ndarray, str, str]]:
    n, c = d.shape
    return [(2 * d, "forgot-batch-mean", "this is 2 (pred - target) with no division: the loss is a mean, so divide "
                                         "by the number of entries, pred.numel() = N*C"),
            (2 * d / c, "forgot-batch-mean", "you divided by the C outputs but not by the batch size N: divide by "
                                             "pred.numel() = N*C"),
            (2 * d / n, "mse-mean-over-batch-only", "you divided by the batch size N only; mse_loss averages over all "
                                                    "N*C entries: divide by pred.numel()"),
            (d / (n * c), "missing-factor-2", "the derivative of (pred - target)**2 is 2 (pred - target): the factor 2 "
                                              "is missing"),
            (-2 * d / (n * c), "sign-flipped", "the sign is flipped: it is 2 (pred - target), not 2 (target - pred)")]


def mse_grad(pred: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    pr = pred.clone().requires_grad_(True)
    F.mse_loss(pr, target).backward()
    return np_(pr.grad)


@check
def check_mse_backward(mse_backward: Callable) -> None:
    """dL/dpred = 2 (pred - target) / pred.numel() for the mean squared error."""
    pred = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [0.2, 0.4, 0.6], [-1.0, 3.0, 1.0]], dtype=DT)
    target = torch.eye(3, dtype=DT)[[0, 1, 2, 0]]
    expected = mse_grad(pred, target)
    got = ask_part("mse_backward(pred, target)", mse_backward, None, pred, target)
    expect_allclose("mse_backward(pred, target) with N = 4, C = 3", got, expected, rtol=1e-10, atol=1e-14,
                    inputs={"pred": np_(pred), "target": np_(target)},
                    hint=first_matching(got, expected, mse_mistakes(np_(pred - target))))


LOGITS = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 0.0], [1.0, -2.0, 3.0]], dtype=DT)
LABELS = torch.tensor([0, 1, 2, 0])


def ask_loss(what: str, cross_entropy: Callable, logits: torch.Tensor, labels: torch.Tensor) -> float:
    return number(what, ask(what, cross_entropy, logits, labels), returns="the loss")


@check
def check_cross_entropy_value(cross_entropy: Callable) -> None:
    """cross_entropy(logits, labels) is the batch mean of logsumexp(z_i) - z_i[label_i], as F.cross_entropy."""
    expected = float(F.cross_entropy(LOGITS, LABELS))
    got = ask_loss("cross_entropy(logits, labels)", cross_entropy, LOGITS, LABELS)
    n = len(LABELS)
    expect_close("cross_entropy(logits, labels)", got, expected, tol=1e-12,
                 inputs={"logits": np_(LOGITS), "labels": LABELS.numpy()}, known=[
                     ("ce-sum-not-mean", n * expected, "this is the sum over the batch: the loss is the mean, "
                                                       "divide by N"),
                     ("ce-sign", -expected, "the sign is flipped: it is logsumexp(z) - z[label], not the other way"),
                 ])


@check
def check_cross_entropy_large_logits(cross_entropy: Callable) -> None:
    """Logits of size 1000 must not overflow: subtract each row's maximum before exp."""
    logits = torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0]], dtype=DT)
    labels = torch.tensor([0, 2])
    expected = float(F.cross_entropy(logits, labels))
    got = ask_loss("cross_entropy on logits of size 1000", cross_entropy, logits, labels)
    if not (math.isfinite(got) and abs(got - expected) <= 1e-12):
        fail("cross_entropy on logits of size 1000", inputs={"logits": np_(logits), "labels": labels.numpy()},
             expected=expected, got=got, tol=1e-12,
             hint=misconception("softmax-overflow", "exp(1000) overflows to inf: subtract each row's maximum from "
                                                    "the logits before exp (log-sum-exp trick)")
             if not math.isfinite(got) else None)


def ce_grad(logits: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    lr = logits.clone().requires_grad_(True)
    F.cross_entropy(lr, labels).backward()
    return np_(lr.grad)


@check
def check_cross_entropy_backward(cross_entropy_backward: Callable) -> None:
    """dL/dz = (softmax(z) - onehot) / N for the mean cross-entropy."""
    expected = ce_grad(LOGITS, LABELS)
    got = ask_part("cross_entropy_backward(logits, labels)", cross_entropy_backward, None, LOGITS, LABELS)
    probs = np_(torch.softmax(LOGITS, dim=1))
    onehot = np.eye(3)[LABELS.numpy()]
    n = len(LABELS)
    expect_allclose("cross_entropy_backward(logits, labels)", got, expected, rtol=1e-10, atol=1e-14,
                    inputs={"logits": np_(LOGITS), "labels": LABELS.numpy()},
                    hint=first_matching(got, expected, [
                        (probs - onehot, "forgot-batch-mean", "this is softmax - onehot without the 1/N: the loss is a "
                                                              "mean over the batch, so divide by N"),
                        (probs / n, "ce-missing-onehot", "this is softmax / N: subtract 1 at each example's label "
                                                         "(softmax - onehot) before dividing"),
                        ((onehot - probs) / n, "sign-flipped", "the sign is flipped: it is (softmax - onehot) / N")]))


# ---------------------------------------------------------------------------
# network_backward


def digits_batch(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` of sklearn's 8x8 digits (scaled to [0, 1]) and their labels."""
    from sklearn.datasets import load_digits
    d = load_digits()
    return torch.tensor(d.data[:n] / 16.0, dtype=DT), torch.tensor(d.target[:n], dtype=torch.long)


def random_params(n_in: int, n_hidden: int, n_out: int, seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {"w1": torch.randn(n_in, n_hidden, generator=gen, dtype=DT) * 0.3,
            "b1": torch.randn(n_hidden, generator=gen, dtype=DT) * 0.1,
            "w2": torch.randn(n_hidden, n_out, generator=gen, dtype=DT) * 0.3,
            "b2": torch.randn(n_out, generator=gen, dtype=DT) * 0.1}


def network_grads(x: torch.Tensor, target: torch.Tensor, p: dict, loss_fn: Callable) -> dict[str, np.ndarray]:
    """Autograd's gradients of loss(relu(x w1 + b1) w2 + b2, target) for every parameter."""
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in p.items()}
    z = (x @ leaves["w1"] + leaves["b1"]).relu() @ leaves["w2"] + leaves["b2"]
    loss_fn(z, target).backward()
    return {k: np_(v.grad) for k, v in leaves.items()}


def _student_grads(network_backward: Callable, x: torch.Tensor, target: torch.Tensor, p: dict,
                   loss_backward: Callable) -> dict[str, Any]:
    got = network_backward(x, target, {k: v.clone() for k, v in p.items()}, loss_backward)
    return {k: got[k] for k in ("w1", "b1", "w2", "b2")}


def compare_network(what: str, network_backward: Callable, loss_backward: Callable, x: torch.Tensor,
                    target: torch.Tensor, p: dict, loss_fn: Callable) -> None:
    """The student's four gradients against autograd's, second layer first."""
    expected = network_grads(x, target, p, loss_fn)
    got = ask(what, _student_grads, network_backward, x, target, p, loss_backward)
    if not isinstance(got, dict):
        fail(f"{what} returns a dict of four gradients", expected='{"w1": ..., "b1": ..., "w2": ..., "b2": ...}',
             got=got)
    for k in ("w2", "b2", "w1", "b1"):
        mine = array(f"{what}: the gradient of {k}", got[k])
        hint = worst(mine, expected[k]) if mine.shape == expected[k].shape else f"shape {mine.shape}"
        if k in ("w1", "b1"):
            hint += "; the second layer's gradients are right, so look at the ReLU step or the first linear layer"
        expect_allclose(f"{what}: the gradient of {k}", mine, expected[k], rtol=1e-9, atol=1e-13, hint=hint)


@check
def check_network_backward_mse(network_backward: Callable, mse_backward: Callable) -> None:
    """network_backward with the squared error gives autograd's four gradients on 64 digits."""
    x, y = digits_batch()
    compare_network("network_backward on a batch of 64 digits with the squared error", network_backward,
                    mse_backward, x, F.one_hot(y, 10).to(DT), random_params(64, 32, 10, seed=1), F.mse_loss)


@check
def check_network_backward_cross_entropy(network_backward: Callable, cross_entropy_backward: Callable) -> None:
    """network_backward with cross-entropy gives autograd's four gradients on 64 digits."""
    x, y = digits_batch()
    compare_network("network_backward on a batch of 64 digits with cross-entropy", network_backward,
                    cross_entropy_backward, x, y, random_params(64, 32, 10, seed=1), F.cross_entropy)


# ---------------------------------------------------------------------------
# train_step


def sgd_weights(seed: int, shape: tuple[int, int], x: torch.Tensor, t: torch.Tensor, steps: int, lr: float,
                zero: bool, loss_fn: Callable = F.mse_loss) -> np.ndarray:
    """The weight of nn.Linear(*shape) (initialised from ``seed``) after ``steps`` SGD steps."""
    torch.manual_seed(seed)
    m = nn.Linear(*shape).to(DT)
    o = torch.optim.SGD(m.parameters(), lr=lr)
    for _ in range(steps):
        if zero:
            o.zero_grad()
        loss_fn(m(x), t).backward()
        o.step()
    return np_(m.weight)


def _train(train_step: Callable, seed: int, shape: tuple[int, int], x: torch.Tensor, t: torch.Tensor,
           steps: int, lr: float) -> Any:
    torch.manual_seed(seed)
    model = nn.Linear(*shape).to(DT)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        train_step(model, opt, F.mse_loss, x, t)
    return model.weight.detach().clone()


def check_weights_after_steps(train_step: Callable, seed: int, shape: tuple[int, int], x: torch.Tensor,
                              t: torch.Tensor, steps: int, lr: float, what: str) -> None:
    got = array(what, ask(what, _train, train_step, seed, shape, x, t, steps, lr))
    expected = sgd_weights(seed, shape, x, t, steps, lr, zero=True)
    stale = sgd_weights(seed, shape, x, t, steps, lr, zero=False)
    expect_allclose(what, got, expected, rtol=1e-12, atol=1e-14, hint=first_matching(got, expected, [
        (stale, "grads-accumulate", "each step used the sum of all earlier gradients: backward() adds into .grad, "
                                    "so call optimizer.zero_grad() in every step before backward()"),
        (np_(_initial_weight(seed, shape)), "no-update", "the weights did not move: call optimizer.step() after "
                                                         "backward()")]))


def _initial_weight(seed: int, shape: tuple[int, int]) -> torch.Tensor:
    torch.manual_seed(seed)
    return nn.Linear(*shape).to(DT).weight.detach()


@check
def check_train_step_updates(train_step: Callable) -> None:
    """Three train_steps with SGD(lr=0.1) move nn.Linear(3, 2)'s weights exactly as torch's loop does."""
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(4, 3, generator=gen, dtype=DT)
    t = torch.randn(4, 2, generator=gen, dtype=DT)
    check_weights_after_steps(train_step, 11, (3, 2), x, t, 3, 0.1,
                              "the weights of nn.Linear(3, 2) after 3 calls of train_step with SGD(lr=0.1)")


def _one_step_loss(train_step: Callable, seed: int, shape: tuple[int, int], x: torch.Tensor, t: torch.Tensor,
                   loss_fn: Callable) -> Any:
    torch.manual_seed(seed)
    model = nn.Linear(*shape).to(DT)
    return train_step(model, torch.optim.SGD(model.parameters(), lr=0.1), loss_fn, x, t)


def check_returned_loss(train_step: Callable, seed: int, shape: tuple[int, int], x: torch.Tensor, t: torch.Tensor,
                        loss_fn: Callable, what: str) -> None:
    got = ask(what, _one_step_loss, train_step, seed, shape, x, t, loss_fn)
    if not isinstance(got, float):
        fail("train_step returns the loss as a Python float (loss.item())", expected="a float",
             got=f"{type(got).__name__} {got!r}"[:120], hint=None if got is not None else misconception(
                 "missing-return", "train_step computes the loss but never returns it: end it with return loss.item()"))
    torch.manual_seed(seed)
    model = nn.Linear(*shape).to(DT)
    with torch.no_grad():
        expected = float(loss_fn(model(x), t))
    expect_close(what, got, expected, tol=1e-12,
                 hint=["return loss.item() of the loss you called backward() on, computed before the update"])


@check
def check_train_step_returns_loss(train_step: Callable) -> None:
    """train_step returns loss.item() of the loss before the update."""
    gen = torch.Generator().manual_seed(6)
    x = torch.randn(5, 3, generator=gen, dtype=DT)
    t = torch.randn(5, 2, generator=gen, dtype=DT)
    check_returned_loss(train_step, 12, (3, 2), x, t, F.mse_loss, "the loss train_step returns: the loss before "
                                                                  "the update")
