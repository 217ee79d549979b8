"""Notebook 05 (PyTorch autograd, and a network's backward pass by hand).

What these tests prove, grouped as in the notebook:

* every derivative the notebook shows or its tests expect (the expression of
  part 1, the vector-Jacobian product, ``detach``, each layer's and each loss's
  gradient, the whole network's) equals torch autograd in float64 and central
  differences (:func:`course.numeric.array_gradient`);
* the notebook's solutions compute the same as the reference layers of
  :mod:`course.layers` (which the benchmark times);
* each common mistake, planted into the solution cell, makes the right test
  cell fail with the hint that names it, while the neighbouring test cells of
  the same exercise still pass; and a correct variant is not flagged.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder import notebooks
from autograder.notebooks import run_in_process
from conftest import ROOT
from course import layers
from course.engine import Value
from course.numeric import array_gradient, gradient

NB = ROOT / "source" / "05_pytorch" / "05_pytorch.ipynb"
DT = torch.float64


# ----------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def ns():
    """The notebook's namespace after its non-slow, non-test cells up to the exercises' end.

    Executed into a dict of our own (not the shared IPython shell, which the
    planted-mistake tests reset), from the notebook's own folder.
    """
    nb = notebooks.read(NB)
    g: dict = {"__name__": "__main__"}
    for c in nb.cells:
        if c.cell_type != "code" or notebooks.is_test_cell(c) or "slow" in c.get("metadata", {}).get("tags", []):
            continue
        exec(compile(c.source, f"<05_pytorch {notebooks.cell_id(c)}>", "exec"), g)
        if notebooks.cell_id(c) == "train_step":
            break
    return g


def rand(rng, *shape):
    return torch.tensor(rng.normal(size=shape), dtype=DT)


def numeric_grad(fn, t: torch.Tensor) -> np.ndarray:
    """Central differences of a scalar function of one tensor."""
    return array_gradient(lambda a: float(fn(torch.tensor(a, dtype=DT))), t.numpy())


def autograd_grad(fn, t: torch.Tensor) -> np.ndarray:
    leaf = t.clone().requires_grad_(True)
    fn(leaf).backward()
    return leaf.grad.numpy()


def close(a, b, rtol=1e-7, atol=1e-8) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol)


def planted(replace: dict[str, str], stop_after: str):
    return run_in_process(NB, replace=replace, stop_after=stop_after, skip_tags={"slow"})


def assert_fails_with(res, cell: str, tag: str) -> None:
    r = res.tests[cell]
    assert not r.ok, f"{cell} passed with the planted mistake"
    assert r.error == "CheckFailed", f"{cell} failed with {r.error}, not a check: {r.message[:300]}"
    assert f"Misconception [{tag}]" in r.message, f"{cell} does not name [{tag}]:\n{r.message}"


def assert_pass(res, *cells: str) -> None:
    for cell in cells:
        assert res.tests[cell].ok, f"{cell} should still pass:\n{res.tests[cell].message}"


# ---------------------------------------------- part 1: the autograd examples

def test_part1_expression_gradient_matches_central_differences_and_engine(ns):
    f = ns["f"]
    xs = (2.0, -3.0, 10.0)
    num = gradient(lambda a, b, c: float(f(*(torch.tensor(v, dtype=DT) for v in (a, b, c)))), xs)
    leaves = [torch.tensor(v, dtype=DT, requires_grad=True) for v in xs]
    f(*leaves).backward()
    auto = [t.grad.item() for t in leaves]
    vals = [Value(v) for v in xs]
    f(*vals).backward()
    assert close(auto, num, rtol=1e-8)
    assert close([v.grad for v in vals], auto, rtol=1e-12, atol=0)


def test_part1_detach_is_a_constant_for_the_chain_rule():
    num = gradient(lambda x: x * 3.0, [3.0])[0]  # x * x.detach() at x = 3 is x * (constant 3)
    x = torch.tensor(3.0, dtype=DT, requires_grad=True)
    (x * x.detach()).backward()
    assert x.grad.item() == 3.0 and abs(num - 3.0) < 1e-9


def test_part1_gradient_argument_is_a_vector_jacobian_product():
    x0 = torch.tensor([0.5, -1.0, 2.0], dtype=DT)
    v = torch.tensor([1.0, 10.0, 100.0], dtype=DT)
    fn = lambda x: (x * x).tanh() * x  # noqa: E731
    xs = x0.clone().requires_grad_(True)
    fn(xs).backward(gradient=v)
    assert close(xs.grad, numeric_grad(lambda x: (v * fn(x)).sum(), x0), rtol=1e-8)


# ---------------------------------- every layer's and loss's derivative (reference)

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_backward_matches_autograd_and_central_differences(seed):
    rng = np.random.default_rng(seed)
    n, n_in, n_out = (int(k) for k in rng.integers(1, 7, size=3))
    x, w, b, g = rand(rng, n, n_in), rand(rng, n_in, n_out), rand(rng, n_out), rand(rng, n, n_out)
    gx, gw, gb = layers.linear_backward(x, w, g)
    for got, fn, at in [(gx, lambda t: (layers.linear(t, w, b) * g).sum(), x),
                        (gw, lambda t: (layers.linear(x, t, b) * g).sum(), w),
                        (gb, lambda t: (layers.linear(x, w, t) * g).sum(), b)]:
        assert close(got, autograd_grad(fn, at), rtol=1e-12, atol=1e-13)
        assert close(got, numeric_grad(fn, at))


@pytest.mark.parametrize("seed", [0, 1])
def test_relu_backward_matches_autograd_and_central_differences_away_from_zero(seed):
    rng = np.random.default_rng(seed)
    x = rand(rng, 4, 5)
    x = x + torch.sign(x) * 0.1  # keep every entry at least 0.1 from the kink
    g = rand(rng, 4, 5)
    fn = lambda t: (layers.relu(t) * g).sum()  # noqa: E731
    got = layers.relu_backward(x, g)
    assert close(got, autograd_grad(fn, x), rtol=1e-15, atol=0)
    assert close(got, numeric_grad(fn, x))


def test_relu_backward_at_zero_follows_torch():
    x = torch.tensor([0.0, -0.0, 1.0, -1.0], dtype=DT)
    g = torch.tensor([2.0, 3.0, 4.0, 5.0], dtype=DT)
    assert close(layers.relu_backward(x, g), autograd_grad(lambda t: (torch.relu(t) * g).sum(), x), atol=0)
    assert close(layers.relu_backward(x, g), [0.0, 0.0, 4.0, 0.0], atol=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_mse_and_its_backward_match_torch_and_central_differences(seed):
    rng = np.random.default_rng(seed)
    p, t = rand(rng, 5, 3), rand(rng, 5, 3)
    assert abs(layers.mse(p, t).item() - F.mse_loss(p, t).item()) < 1e-15
    fn = lambda q: layers.mse(q, t)  # noqa: E731
    assert close(layers.mse_backward(p, t), autograd_grad(lambda q: F.mse_loss(q, t), p), rtol=1e-13, atol=1e-15)
    assert close(layers.mse_backward(p, t), numeric_grad(fn, p))


@pytest.mark.parametrize("seed, scale", [(0, 1.0), (1, 4.0), (2, 800.0)])
def test_cross_entropy_and_its_backward_match_torch_and_central_differences(seed, scale):
    rng = np.random.default_rng(seed)
    z = torch.tensor(rng.normal(scale=scale, size=(6, 4)), dtype=DT)
    y = torch.tensor(rng.integers(0, 4, size=6))
    assert math.isclose(layers.cross_entropy(z, y).item(), F.cross_entropy(z, y).item(), rel_tol=1e-13, abs_tol=1e-13)
    got = layers.cross_entropy_backward(z, y)
    assert close(got, autograd_grad(lambda q: F.cross_entropy(q, y), z), rtol=1e-12, atol=1e-15)
    if scale < 10:  # central differences of a loss near 1e3 lose their digits to round-off
        assert close(got, numeric_grad(lambda q: layers.cross_entropy(q, y), z))


@pytest.mark.parametrize("loss, loss_backward, torch_loss", [
    (layers.mse, layers.mse_backward, F.mse_loss),
    (layers.cross_entropy, layers.cross_entropy_backward, F.cross_entropy)], ids=["mse", "cross_entropy"])
def test_network_backward_matches_autograd_and_central_differences(loss, loss_backward, torch_loss):
    rng = np.random.default_rng(7)
    p = layers.init_params(5, 4, 3, generator=torch.Generator().manual_seed(3))
    p["b1"] = rand(rng, 4)
    x = rand(rng, 6, 5)
    labels = torch.tensor(rng.integers(0, 3, size=6))
    target = F.one_hot(labels, 3).to(DT) if loss is layers.mse else labels
    h_pre = layers.forward(x, p)["h_pre"]
    assert h_pre.abs().min() > 1e-3, "a hidden unit sits at the ReLU kink: pick another seed"
    got = layers.network_backward(x, target, p, loss_backward)
    for k in p:
        def fn(t, k=k):
            return loss(layers.forward(x, {**p, k: t})["out"], target)

        def tfn(t, k=k):
            return torch_loss(layers.forward(x, {**p, k: t})["out"], target)
        assert close(got[k], autograd_grad(tfn, p[k]), rtol=1e-11, atol=1e-14), k
        assert close(got[k], numeric_grad(fn, p[k])), k


# ------------------------------------------ the notebook's solutions = reference

def test_notebook_solutions_equal_the_reference_layers(ns):
    rng = np.random.default_rng(11)
    x, w, g = rand(rng, 5, 4), rand(rng, 4, 3), rand(rng, 5, 3)
    for mine, ref in zip(ns["linear_backward"](x, w, g), layers.linear_backward(x, w, g)):
        assert close(mine, ref, rtol=1e-14, atol=0)
    h = torch.tensor(rng.integers(-2, 3, size=(5, 3)), dtype=DT)
    assert close(ns["relu_backward"](h, g), layers.relu_backward(h, g), atol=0)
    assert close(ns["mse_backward"](x, -x), layers.mse_backward(x, -x), rtol=1e-14, atol=0)
    z, y = rand(rng, 5, 3) * 500, torch.tensor(rng.integers(0, 3, size=5))
    assert math.isclose(ns["cross_entropy"](z, y).item(), layers.cross_entropy(z, y).item(), rel_tol=1e-13)
    assert close(ns["cross_entropy_backward"](z, y), layers.cross_entropy_backward(z, y), rtol=1e-12, atol=1e-15)
    p = ns["init_params"](seed=4)
    xb, yb = ns["X_train"][:32], ns["y_train"][:32]
    mine = ns["network_backward"](xb, yb, p, ns["cross_entropy_backward"])
    ref = layers.network_backward(xb, yb, p, layers.cross_entropy_backward)
    for k in ref:
        assert close(mine[k], ref[k], rtol=1e-12, atol=1e-15), k


def test_notebook_forward_is_the_reference_forward(ns):
    p = ns["init_params"](seed=2)
    x = ns["X_train"][:10]
    for mine, k in zip(ns["forward"](x, p), ("h_pre", "h", "out")):
        assert close(mine, layers.forward(x, p)[k], rtol=1e-14, atol=0)


# ------------------------------------------------- planted misconceptions

LINEAR = "def linear_backward(x, w, grad_out):\n    return {}\n"
LINEAR_TESTS = ("test_linear_backward_input", "test_linear_backward_weights", "test_linear_backward_bias")


def test_linear_input_gradient_without_transpose_is_named():
    res = planted({"linear_backward": LINEAR.format("grad_out @ w, x.T @ grad_out, grad_out.sum(0)")},
                  "test_linear_backward_bias")
    assert_fails_with(res, "test_linear_backward_input", "missing-transpose")
    # (the other two cells fail too, but only in their hidden non-square cases, where g @ w
    # cannot be multiplied: the function as a whole is broken there)


@pytest.mark.parametrize("wrong_w", ["grad_out.T @ x", "x @ grad_out"])
def test_linear_weight_gradient_without_transpose_is_named(wrong_w):
    res = planted({"linear_backward": LINEAR.format(f"grad_out @ w.T, {wrong_w}, grad_out.sum(0)")},
                  "test_linear_backward_bias")
    assert_fails_with(res, "test_linear_backward_weights", "missing-transpose")


def test_bias_gradient_not_summed_over_the_batch_is_named():
    res = planted({"linear_backward": LINEAR.format("grad_out @ w.T, x.T @ grad_out, grad_out")},
                  "test_linear_backward_bias")
    assert_fails_with(res, "test_linear_backward_bias", "bias-not-summed")
    assert_pass(res, "test_linear_backward_input", "test_linear_backward_weights")


def test_bias_gradient_averaged_over_the_batch_is_named():
    res = planted({"linear_backward": LINEAR.format("grad_out @ w.T, x.T @ grad_out, grad_out.mean(0)")},
                  "test_linear_backward_bias")
    assert_fails_with(res, "test_linear_backward_bias", "bias-averaged")


RELU = "def relu_backward(x, grad_out):\n    return {}\n"


@pytest.mark.parametrize("body", ["grad_out * relu(x)", "grad_out * (relu(x) >= 0)"],
                         ids=["times-output-values", "output-mask-with-ge"])
def test_relu_mask_taken_from_the_output_is_named(body):
    res = planted({"relu_backward": RELU.format(body)}, "test_relu_backward_at_zero")
    assert_fails_with(res, "test_relu_backward_value", "relu-mask-from-output")


def test_relu_mask_from_the_output_with_gt_is_correct_and_passes():
    """relu(x) > 0 exactly when x > 0: that form of 'mask from the output' is right, not flagged."""
    res = planted({"relu_backward": RELU.format("grad_out * (relu(x) > 0)")}, "test_relu_backward_at_zero")
    assert_pass(res, "test_relu_backward_value", "test_relu_backward_at_zero")


def test_relu_mask_from_the_upstream_gradient_is_named():
    res = planted({"relu_backward": RELU.format("grad_out * (grad_out > 0)")}, "test_relu_backward_at_zero")
    assert_fails_with(res, "test_relu_backward_value", "relu-mask-from-gradient")


def test_relu_gradient_passed_at_zero_is_named_by_the_zero_test_only():
    res = planted({"relu_backward": RELU.format("grad_out * (x >= 0)")}, "test_relu_backward_at_zero")
    assert_pass(res, "test_relu_backward_value")
    assert_fails_with(res, "test_relu_backward_at_zero", "relu-at-zero")


MSE = "def mse_backward(pred, target):\n    return {}\n"


@pytest.mark.parametrize("body, tag", [
    ("2 * (pred - target)", "forgot-batch-mean"),
    ("2 * (pred - target) / pred.shape[0]", "mse-mean-over-batch-only"),
    ("(pred - target) / pred.numel()", "missing-factor-2")])
def test_mse_gradient_mistakes_are_named(body, tag):
    res = planted({"mse_backward": MSE.format(body)}, "test_mse_backward")
    assert_fails_with(res, "test_mse_backward", tag)


def test_cross_entropy_gradient_not_divided_by_the_batch_size_is_named():
    body = "torch.softmax(logits, dim=1) - F.one_hot(labels, logits.shape[1]).to(logits.dtype)"
    res = planted({"cross_entropy_backward": f"def cross_entropy_backward(logits, labels):\n    return {body}\n"},
                  "test_cross_entropy_backward")
    assert_fails_with(res, "test_cross_entropy_backward", "forgot-batch-mean")


def test_cross_entropy_without_the_max_shift_overflows_and_is_named():
    naive = ("def cross_entropy(logits, labels):\n"
             "    logsumexp = logits.exp().sum(dim=1).log()\n"
             "    return (logsumexp - logits[torch.arange(len(labels)), labels]).mean()\n")
    res = planted({"cross_entropy": naive}, "test_cross_entropy_large_logits")
    assert_pass(res, "test_cross_entropy_value")
    assert_fails_with(res, "test_cross_entropy_large_logits", "softmax-overflow")


TRAIN = "def train_step(model, optimizer, loss_fn, x, target):\n{}\n"


def test_train_step_without_zero_grad_is_named():
    body = "    loss = loss_fn(model(x), target)\n    loss.backward()\n    optimizer.step()\n    return loss.item()"
    res = planted({"train_step": TRAIN.format(body)}, "test_train_step_returns_loss")
    assert_fails_with(res, "test_train_step_updates", "grads-accumulate")
    assert_pass(res, "test_train_step_returns_loss")


def test_train_step_zeroing_after_the_update_is_also_correct():
    body = ("    loss = loss_fn(model(x), target)\n    loss.backward()\n    optimizer.step()\n"
            "    optimizer.zero_grad()\n    return loss.item()")
    res = planted({"train_step": TRAIN.format(body)}, "test_train_step_returns_loss")
    assert_pass(res, "test_train_step_updates", "test_train_step_returns_loss")


def test_network_backward_with_a_wrong_layer_fails_both_network_tests():
    """The network tests check the composition, not only the pieces: a ReLU step skipped is caught."""
    body = ("def network_backward(x, target, p, loss_backward):\n"
            "    h_pre, h, z = forward(x, p)\n"
            "    g_h, g_w2, g_b2 = linear_backward(h, p['w2'], loss_backward(z, target))\n"
            "    _, g_w1, g_b1 = linear_backward(x, p['w1'], g_h)\n"
            "    return {'w1': g_w1, 'b1': g_b1, 'w2': g_w2, 'b2': g_b2}\n")
    res = planted({"network_backward": body}, "test_network_backward_cross_entropy")
    for cell in ("test_network_backward_mse", "test_network_backward_cross_entropy"):
        assert not res.tests[cell].ok
        assert "look at the ReLU step" in res.tests[cell].message
