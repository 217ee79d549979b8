"""Hidden checks of notebook 05: every visible idea on seeded random shapes and values.

Expected gradients are torch autograd's in float64; shapes vary (N, n_in, n_out from 1 to
8) so that an answer written for 3x3 inputs, or a transpose that happens to fit a square
matrix, fails.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from course.checks.answers import check
from course.checks.expect import expect_close, seeded
from course.checks.pytorch import (DT, ask_loss, ask_part, ce_grad, check_returned_loss, check_weights_after_steps,
                                   compare_network, expect_allclose, linear_grads, mse_grad, relu_grad)


def tensor(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    return torch.tensor(rng.normal(scale=scale, size=shape), dtype=DT)


def _linear_cases(name: str):
    rng = seeded(name)
    for _ in range(4):
        n, n_in, n_out = (int(k) for k in rng.integers(1, 9, size=3))
        yield (n, n_in, n_out), tensor(rng, n, n_in), tensor(rng, n_in, n_out), tensor(rng, n_out), tensor(rng, n, n_out)


def _check_linear_part(linear_backward: Callable, index: int, name: str) -> None:
    label = ["dL/dx", "dL/dw", "dL/db"][index]
    for (n, n_in, n_out), x, w, b, g in _linear_cases(f"linear_backward_{name}"):
        what = f"{label} of linear_backward on a random layer: N={n}, n_in={n_in}, n_out={n_out}"
        expected = linear_grads(x, w, b, g)[index]
        expect_allclose(what, ask_part(what, linear_backward, index, x, w, g), expected, rtol=1e-10, atol=1e-12)


@check
def check_linear_backward_input_random(linear_backward: Callable) -> None:
    _check_linear_part(linear_backward, 0, "input")


@check
def check_linear_backward_weights_random(linear_backward: Callable) -> None:
    _check_linear_part(linear_backward, 1, "weights")


@check
def check_linear_backward_bias_random(linear_backward: Callable) -> None:
    _check_linear_part(linear_backward, 2, "bias")


@check
def check_relu_backward_random(relu_backward: Callable) -> None:
    rng = seeded("relu_backward")
    for _ in range(4):
        shape = tuple(int(k) for k in rng.integers(1, 7, size=2))
        x, g = tensor(rng, *shape), tensor(rng, *shape)
        what = f"relu_backward on random x and g of shape {shape}"
        expect_allclose(what, ask_part(what, relu_backward, None, x, g), relu_grad(x, g), rtol=1e-12, atol=0)


@check
def check_relu_backward_at_zero_random(relu_backward: Callable) -> None:
    rng = seeded("relu_backward_at_zero")
    x = torch.tensor(rng.integers(-2, 3, size=(5, 6)), dtype=DT)  # many exact zeros
    g = tensor(rng, 5, 6)
    what = "relu_backward on random integer x (with zeros)"
    expect_allclose(what, ask_part(what, relu_backward, None, x, g), relu_grad(x, g), rtol=1e-12, atol=0)


@check
def check_mse_backward_random(mse_backward: Callable) -> None:
    rng = seeded("mse_backward")
    for _ in range(4):
        shape = tuple(int(k) for k in rng.integers(1, 9, size=2))
        pred, target = tensor(rng, *shape), tensor(rng, *shape)
        what = f"mse_backward on random pred and target of shape {shape}"
        expect_allclose(what, ask_part(what, mse_backward, None, pred, target), mse_grad(pred, target),
                        rtol=1e-10, atol=1e-14)


def _check_cross_entropy(cross_entropy: Callable, name: str, scales: tuple[float, ...]) -> None:
    rng = seeded(name)
    for scale in scales:
        n, c = (int(k) for k in rng.integers(1, 9, size=2))
        logits, labels = tensor(rng, n, c, scale=scale), torch.tensor(rng.integers(0, c, size=n))
        what = f"cross_entropy on random logits of shape ({n}, {c}) and size about {scale:g}"
        expected = float(F.cross_entropy(logits, labels))
        expect_close(what, ask_loss(what, cross_entropy, logits, labels), expected,
                     tol=1e-9 * max(1.0, abs(expected)), tol_text="1e-9 max(1, |expected|)")


@check
def check_cross_entropy_random(cross_entropy: Callable) -> None:
    _check_cross_entropy(cross_entropy, "cross_entropy", (3.0,) * 4)


@check
def check_cross_entropy_large_logits_random(cross_entropy: Callable) -> None:
    _check_cross_entropy(cross_entropy, "cross_entropy_large_logits", (800.0,) * 2)


@check
def check_cross_entropy_backward_random(cross_entropy_backward: Callable) -> None:
    rng = seeded("cross_entropy_backward")
    for scale in (1.0, 3.0, 800.0):
        n, c = (int(k) for k in rng.integers(1, 9, size=2))
        logits, labels = tensor(rng, n, c, scale=scale), torch.tensor(rng.integers(0, c, size=n))
        what = f"cross_entropy_backward on random logits of shape ({n}, {c}) and size about {scale:g}"
        expect_allclose(what, ask_part(what, cross_entropy_backward, None, logits, labels), ce_grad(logits, labels),
                        rtol=1e-10, atol=1e-14)


def _random_networks(name: str):
    rng = seeded(name)
    for _ in range(3):
        n, n_in, n_hidden, c = (int(k) for k in rng.integers(1, 12, size=4))
        gen = torch.Generator().manual_seed(int(rng.integers(1000)))
        p = {"w1": torch.randn(n_in, n_hidden, generator=gen, dtype=DT), "b1": torch.randn(n_hidden, generator=gen, dtype=DT),
             "w2": torch.randn(n_hidden, c, generator=gen, dtype=DT), "b2": torch.randn(c, generator=gen, dtype=DT)}
        x = torch.randn(n, n_in, generator=gen, dtype=DT)
        labels = torch.tensor(rng.integers(0, c, size=n))
        yield f"N={n}, n_in={n_in}, n_hidden={n_hidden}, C={c}", x, labels, p, c


@check
def check_network_backward_mse_random(network_backward: Callable, mse_backward: Callable) -> None:
    for shape, x, labels, p, c in _random_networks("network_backward_mse"):
        compare_network(f"network_backward on a random network: {shape}", network_backward, mse_backward, x,
                        F.one_hot(labels, c).to(DT), p, F.mse_loss)


@check
def check_network_backward_cross_entropy_random(network_backward: Callable, cross_entropy_backward: Callable) -> None:
    for shape, x, labels, p, _ in _random_networks("network_backward_cross_entropy"):
        compare_network(f"network_backward on a random network: {shape}", network_backward, cross_entropy_backward,
                        x, labels, p, F.cross_entropy)


@check
def check_train_step_updates_random(train_step: Callable) -> None:
    rng = seeded("train_step_updates")
    n, n_in, n_out = (int(k) for k in rng.integers(1, 7, size=3))
    gen = torch.Generator().manual_seed(int(rng.integers(1000)))
    x = torch.randn(n, n_in, generator=gen, dtype=DT)
    t = torch.randn(n, n_out, generator=gen, dtype=DT)
    check_weights_after_steps(train_step, 23, (n_in, n_out), x, t, 5, 0.05,
                              f"the weights of a random nn.Linear({n_in}, {n_out}) after 5 steps")


@check
def check_train_step_returns_loss_random(train_step: Callable) -> None:
    rng = seeded("train_step_returns_loss")
    x = tensor(rng, 7, 4)
    labels = torch.tensor(rng.integers(0, 3, size=7))
    check_returned_loss(train_step, int(rng.integers(1000)), (4, 3), x, labels, F.cross_entropy,
                        "the loss train_step returns, with cross-entropy")
