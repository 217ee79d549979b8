"""The checks of notebook 05, called directly: the solution passes, the stub fails saying what
to do, and each known mistake fails with the hint that names it."""
from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn.functional as F

from course.checks import pytorch as visible
from course.checks.answers import CheckFailed
from course_hidden import pytorch as hidden


# the notebook's solutions
def linear_backward(x, w, grad_out):
    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(0)


def relu_backward(x, grad_out):
    return grad_out * (x > 0)


def mse_backward(pred, target):
    return 2 * (pred - target) / pred.numel()


def cross_entropy(logits, labels):
    m = logits.max(dim=1, keepdim=True).values
    return (m[:, 0] + (logits - m).exp().sum(dim=1).log() - logits[torch.arange(len(labels)), labels]).mean()


def cross_entropy_backward(logits, labels):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    probs = shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)
    return (probs - F.one_hot(labels, logits.shape[1]).to(logits.dtype)) / logits.shape[0]


def forward(x, p):
    h_pre = x @ p["w1"] + p["b1"]
    h = h_pre.relu()
    return h_pre, h, h @ p["w2"] + p["b2"]


def network_backward(x, target, p, loss_backward):
    h_pre, h, z = forward(x, p)
    g_z = loss_backward(z, target)
    g_h, g_w2, g_b2 = linear_backward(h, p["w2"], g_z)
    _, g_w1, g_b1 = linear_backward(x, p["w1"], relu_backward(h_pre, g_h))
    return {"w1": g_w1, "b1": g_b1, "w2": g_w2, "b2": g_b2}


def train_step(model, optimizer, loss_fn, x, target):
    optimizer.zero_grad()
    loss = loss_fn(model(x), target)
    loss.backward()
    optimizer.step()
    return loss.item()


def stub(*args, **kwargs):
    raise NotImplementedError("Not written yet: replace this line with your code")


SOLUTIONS = {n: f for n, f in globals().items() if n in (
    "linear_backward", "relu_backward", "mse_backward", "cross_entropy", "cross_entropy_backward",
    "network_backward", "train_step")}
CHECKS = [fn for mod in (visible, hidden) for _, fn in inspect.getmembers(mod)
          if getattr(fn, "__is_check__", False) and fn.__module__ == mod.__name__]


def args_of(chk, table=SOLUTIONS):
    return [table[name] for name in inspect.signature(chk).parameters]


@pytest.mark.parametrize("chk", CHECKS, ids=lambda c: c.__name__)
def test_the_solution_passes(chk):
    assert chk(*args_of(chk)) is None


@pytest.mark.parametrize("chk", CHECKS, ids=lambda c: c.__name__)
def test_the_stub_fails_saying_the_exercise_is_not_written(chk):
    with pytest.raises(CheckFailed, match="not written yet"):
        chk(*[stub for _ in inspect.signature(chk).parameters])


def without_zero_grad(model, optimizer, loss_fn, x, target):
    loss = loss_fn(model(x), target)
    loss.backward()
    optimizer.step()
    return loss.item()


def unshifted(logits, labels):
    return (logits.exp().sum(dim=1).log() - logits[torch.arange(len(labels)), labels]).mean()


MISTAKES = [
    (visible.check_linear_backward_input, lambda x, w, g: (g @ w, x.T @ g, g.sum(0)), "missing-transpose"),
    (visible.check_linear_backward_weights, lambda x, w, g: (g @ w.T, x @ g, g.sum(0)), "missing-transpose"),
    (visible.check_linear_backward_weights, lambda x, w, g: (g @ w.T, g.T @ x, g.sum(0)), "missing-transpose"),
    (visible.check_linear_backward_bias, lambda x, w, g: (g @ w.T, x.T @ g, g), "bias-not-summed"),
    (visible.check_linear_backward_bias, lambda x, w, g: (g @ w.T, x.T @ g, g.mean(0)), "bias-averaged"),
    (visible.check_linear_backward_bias, lambda x, w, g: (g @ w.T, x.T @ g, g.sum(1)), "bias-wrong-axis"),
    (visible.check_relu_backward_value, lambda x, g: g * x.relu(), "relu-mask-from-output"),
    (visible.check_relu_backward_value, lambda x, g: g * (x.relu() >= 0), "relu-mask-from-output"),
    (visible.check_relu_backward_value, lambda x, g: g * (g > 0), "relu-mask-from-gradient"),
    (visible.check_relu_backward_value, lambda x, g: g * (x < 0), "relu-mask-inverted"),
    (visible.check_relu_backward_at_zero, lambda x, g: g * (x >= 0), "relu-at-zero"),
    (visible.check_mse_backward, lambda p, t: 2 * (p - t), "forgot-batch-mean"),
    (visible.check_mse_backward, lambda p, t: 2 * (p - t) / p.shape[0], "mse-mean-over-batch-only"),
    (visible.check_mse_backward, lambda p, t: (p - t) / p.numel(), "missing-factor-2"),
    (visible.check_mse_backward, lambda p, t: 2 * (t - p) / p.numel(), "sign-flipped"),
    (visible.check_cross_entropy_value, lambda z, y: cross_entropy(z, y) * len(y), "ce-sum-not-mean"),
    (visible.check_cross_entropy_large_logits, unshifted, "softmax-overflow"),
    (visible.check_cross_entropy_backward, lambda z, y: cross_entropy_backward(z, y) * len(y), "forgot-batch-mean"),
    (visible.check_cross_entropy_backward, lambda z, y: torch.softmax(z, 1) / len(y), "ce-missing-onehot"),
    (visible.check_cross_entropy_backward, lambda z, y: -cross_entropy_backward(z, y), "sign-flipped"),
    (visible.check_train_step_updates, without_zero_grad, "grads-accumulate"),
    (visible.check_train_step_returns_loss, lambda *a: None, "missing-return"),
]


@pytest.mark.parametrize("chk, student, tag", MISTAKES, ids=[f"{c.__name__}-{t}" for c, _, t in MISTAKES])
def test_each_known_mistake_fails_with_the_hint_that_names_it(chk, student, tag):
    with pytest.raises(CheckFailed) as e:
        chk(student)
    assert f"Misconception [{tag}]" in str(e.value), str(e.value)


def test_a_wrong_first_layer_is_located_by_the_network_check():
    def half_relu(x, g):
        return g * (x > 0) * 0.5

    def backward(x, target, p, loss_backward):
        h_pre, h, z = forward(x, p)
        g_h, g_w2, g_b2 = linear_backward(h, p["w2"], loss_backward(z, target))
        _, g_w1, g_b1 = linear_backward(x, p["w1"], half_relu(h_pre, g_h))
        return {"w1": g_w1, "b1": g_b1, "w2": g_w2, "b2": g_b2}

    with pytest.raises(CheckFailed, match="look at the ReLU step or the first linear layer"):
        visible.check_network_backward_mse(backward, mse_backward)


def test_returning_the_loss_tensor_instead_of_a_float_is_named():
    def returns_tensor(model, optimizer, loss_fn, x, target):
        optimizer.zero_grad()
        loss = loss_fn(model(x), target)
        loss.backward()
        optimizer.step()
        return loss

    with pytest.raises(CheckFailed, match="Python float"):
        visible.check_train_step_returns_loss(returns_tensor)


def test_hidden_shapes_catch_a_transpose_that_fits_square_inputs():
    with pytest.raises(CheckFailed):
        hidden.check_linear_backward_weights_random(lambda x, w, g: (g @ w.T, (g.T @ x).T, g.sum(0)) if x.shape[0] == 3
                                                    else (g @ w.T, g.T @ x, g.sum(0)))
