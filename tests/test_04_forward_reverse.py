"""Notebook 04 (forward and reverse mode): its derivatives, its reference modules, its misconceptions.

* course.tape and course.matrix_ops against torch float64 and central differences;
* every derivative the notebook shows or its checks expect, against torch
  float64 and central differences (the closed forms are the check module's own);
* every exercise: each named misconception, planted into the solution, fails the
  right test cell with the hint that names it; hard-coded answers fail the
  hidden tests.
"""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import sympy
import torch

from autograder import notebooks
from autograder.notebooks import run_in_process
from conftest import ROOT
from course import dual, matrix_ops as mo
from course.numeric import array_gradient, central_difference, gradient as central_gradient
from course.checks import forward_reverse as fr
from course.tape import Tape, gradient as tape_gradient, jacobian, vjp

NB = ROOT / "source" / "04_forward_reverse" / "04_forward_reverse.ipynb"
SEED = 2026


@pytest.fixture(scope="module")
def nb():
    return notebooks.read(NB)


def torch_f(x0, x1):
    return (x0 ** 2 / x1) * torch.cos(x0) + torch.exp(x0 / x1)


def course_f(x0, x1):
    return (x0 ** 2 / x1) * dual.cos(x0) + dual.exp(x0 / x1)


def torch_grad(fn, xs):
    ts = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]
    return np.array([float(g) for g in torch.autograd.grad(fn(*ts), ts)])


# ---------------------------------------------------------------------------
# The closed forms the checks expect (course/checks/forward_reverse.py)


def test_the_checks_gradient_of_f_matches_torch_and_central_differences():
    rng = np.random.default_rng(SEED)
    for x0, x1 in [(1.5, 2.0), (0.8, 1.7), *rng.uniform(0.5, 2.5, size=(10, 2))]:
        np.testing.assert_allclose(fr.grad_f(x0, x1), torch_grad(torch_f, [x0, x1]), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(fr.grad_f(x0, x1), central_gradient(course_f, [x0, x1]), rtol=1e-7, atol=1e-9)
        assert fr.value_f(x0, x1) == pytest.approx(float(torch_f(*torch.tensor([x0, x1], dtype=torch.float64))), rel=1e-14)


def test_the_checks_jacobian_of_h_matches_torch():
    def h_torch(x):
        a, b, c = x
        return torch.stack([a * b * c, torch.exp(a) / b, torch.tanh(c - a)])

    rng = np.random.default_rng(SEED)
    for x in [(0.3, 1.2, 0.8), *rng.uniform(0.5, 2.0, size=(5, 3))]:
        want = torch.autograd.functional.jacobian(h_torch, torch.tensor(x, dtype=torch.float64))
        np.testing.assert_allclose(fr.jacobian_h3(*x), want.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(fr.value_h3(*x), h_torch(torch.tensor(x, dtype=torch.float64)).numpy(), rtol=1e-14)


@pytest.mark.parametrize("name,torch_fn", [("sin", torch.sin), ("cos", torch.cos), ("exp", torch.exp),
                                           ("log", torch.log), ("tanh", torch.tanh)])
def test_the_chain_rule_checks_expect_torch_derivatives(name, torch_fn):
    """The tangents check_dual_chain_rule expects for g(3x) at x = 0.7 (and at random points) are torch's."""
    for x, c in [(0.7, 3.0), (0.4, 1.3), (1.1, 0.6)]:
        (_, value, tangent, _), = [case for case in fr.function_cases(c * x, c) if case[0] == name]
        assert tangent == pytest.approx(torch_grad(lambda t: torch_fn(c * t), [x])[0], rel=1e-13)
        assert value == pytest.approx(float(torch_fn(torch.tensor(c * x, dtype=torch.float64))), rel=1e-14)


def test_the_backward_checks_expect_torch_derivatives():
    np.testing.assert_allclose([3.0 * math.cos(6.0), 2.0 * math.cos(6.0)],
                               torch_grad(lambda a, b: torch.sin(a * b), [2.0, 3.0]), rtol=1e-14)
    np.testing.assert_allclose([4.0, 2.0], torch_grad(lambda a, b: a * b + a, [2.0, 3.0]))
    th = math.tanh(0.5)
    assert math.exp(2 * th) * 2 * (1 - th ** 2) == pytest.approx(
        torch_grad(lambda a: torch.exp(2 * torch.tanh(a)), [0.5])[0], rel=1e-14)


def test_the_checks_tape_of_f_is_what_the_course_tape_records():
    """The tape the checks hand to the student's backward has the course Tape's entries for f, to the last digit."""
    ours, _, out = fr.tape_of_f(1.5, 2.0)
    t = Tape()
    y = course_f(t.variable(1.5), t.variable(2.0))
    assert ours.values == t.values and out.index == y.index
    assert [(e.op, e.out, e.inputs, e.local, e.params) for e in ours.entries] == \
        [(e.op, e.out, e.inputs, e.local, e.params) for e in t.entries]
    np.testing.assert_allclose(np.array(t.backward(y))[[0, 1]], fr.grad_f(1.5, 2.0), rtol=1e-14)


def test_the_notebook_runs_and_passes_with_its_withheld_modules_unimportable():
    """course.toml withholds course.dual and course.matrix_ops while 04 is graded: neither the notebook's
    instructor cells nor the checks need them (an import of either raises ImportError here)."""
    from autograder.config import load

    withheld = load(ROOT).assignment("04_forward_reverse").withheld
    assert set(withheld) == {"course.dual", "course.matrix_ops"}
    saved = {m: sys.modules.pop(m, None) for m in withheld}
    try:
        sys.modules.update({m: None for m in withheld})
        res = run_in_process(NB, skip_tags={"slow"})
    finally:
        for m, mod in saved.items():
            del sys.modules[m]
            if mod is not None:
                sys.modules[m] = mod
    assert not res.errors and not res.failed(), (res.errors, res.failed())
    assert len(res.tests) == 19


@pytest.fixture(scope="module")
def solved():
    """The namespace of the source notebook after a run with its solutions (no slow cells)."""
    from IPython.core.interactiveshell import InteractiveShell

    res = run_in_process(NB, skip_tags={"slow"})
    assert not res.failed() and not res.errors, (res.failed(), res.errors)
    return dict(InteractiveShell.instance().user_ns)


def test_the_notebook_solutions_match_torch_and_central_differences(solved):
    """What the notebook prints (jvp, vjp, backward, forward-mode gradient) is right."""
    rng = np.random.default_rng(SEED)
    f = solved["f"]
    for x0, x1 in [(1.5, 2.0), *rng.uniform(0.5, 2.5, size=(5, 2))]:
        want = torch_grad(torch_f, [x0, x1])
        np.testing.assert_allclose(solved["gradient_forward"](f, [x0, x1]), want, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(solved["vjp"](f, [x0, x1], 1.0)[1], want, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(want, central_gradient(course_f, [x0, x1]), rtol=1e-7, atol=1e-9)


def test_the_notebook_dual_solution_matches_torch_in_random_directions(solved):
    """The hand-written Dual of the solution agrees with torch, so the values its tests expect do too."""
    D = solved["Dual"]
    ops = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
           lambda a, b: 2.0 - a / b, lambda a, b: 3.0 / a + b * 2.0, lambda a, b: -a ** 3 + b ** 0.5]
    funcs = [("sin", torch.sin), ("cos", torch.cos), ("exp", torch.exp), ("log", torch.log), ("tanh", torch.tanh)]
    rng = np.random.default_rng(SEED)
    for _ in range(5):
        a, b = rng.uniform(0.3, 2.5, size=2)
        v = rng.normal(size=2)
        for op in ops:
            assert op(D(a, v[0]), D(b, v[1])).tangent == pytest.approx(torch_grad(op, [a, b]) @ v, rel=1e-12, abs=1e-14)
        for name, tfn in funcs:
            got = getattr(D(a, v[0]), name)().tangent
            assert got == pytest.approx(torch_grad(tfn, [a])[0] * v[0], rel=1e-12, abs=1e-14)
            assert got == pytest.approx(central_difference(getattr(dual, name), a) * v[0], rel=1e-7, abs=1e-9)


def test_the_notebook_matrix_op_solutions_match_the_reference_vjps(solved):
    rng = np.random.default_rng(SEED)
    for m, n in [(3, 4), (2, 2), (1, 3)]:
        W, x, g = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
        ours, ref = solved["MatVec"](), mo.MatVec()
        ours.forward(W, x)
        ref.forward(W, x)
        for a, b in zip(ours.backward(g), ref.backward(g)):
            np.testing.assert_allclose(a, b, rtol=1e-15, atol=0)
        ours, ref = solved["Tanh"](), mo.Tanh()
        ours.forward(x)
        ref.forward(x)
        np.testing.assert_allclose(ours.backward(x)[0], ref.backward(x)[0], rtol=1e-15, atol=0)


def test_the_notebook_logistic_map_derivative_matches_torch_and_sympy(solved):
    logistic = solved["logistic"]
    for d in range(1, 9):
        def lt(x, d=d):
            for _ in range(d):
                x = 4 * x * (1 - x)
            return x
        want = torch_grad(lt, [0.3])[0]
        got = solved["vjp"](lambda x: logistic(x, d), [0.3], 1.0)[1][0]
        assert got == pytest.approx(want, rel=1e-12)
        assert central_difference(lambda x: logistic(x, d), 0.3) == pytest.approx(want, rel=1e-5)
        x = sympy.Symbol("x")
        assert float(sympy.diff(logistic(x, d), x).subs(x, 0.3)) == pytest.approx(want, rel=1e-12)


def test_the_notebook_layer_gradients_match_torch_and_central_differences(solved):
    rng = np.random.default_rng(SEED)
    args = dict(W1=rng.normal(size=(4, 3)), b1=rng.normal(size=4), W2=rng.normal(size=(2, 4)),
                b2=rng.normal(size=2), x=rng.normal(size=3), t=rng.normal(size=2))
    loss, ours = solved["two_layer_grads"](**args)
    _, theirs = solved["two_layer_grads_torch"](**args)
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-12, atol=1e-14)

        def L(v, k=k):
            a = dict(args, **{k: v})
            y = np.tanh(a["W2"] @ np.tanh(a["W1"] @ a["x"] + a["b1"]) + a["b2"])
            return float(np.sum((y - a["t"]) ** 2))
        np.testing.assert_allclose(ours[k], array_gradient(L, args[k]), rtol=1e-6, atol=1e-8)


def test_the_notebook_layer_jacobians_match_torch_and_central_differences(solved):
    rng = np.random.default_rng(SEED)
    for m, n in [(3, 4), (1, 2), (4, 1)]:
        W, x, b = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
        J_x, J_W = solved["layer_jacobians"](W, x, b)
        tJ_W, tJ_x = torch.autograd.functional.jacobian(
            lambda W_, x_: torch.tanh(W_ @ x_ + torch.tensor(b)), (torch.tensor(W), torch.tensor(x)))
        np.testing.assert_allclose(J_x, tJ_x.numpy(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(J_W, tJ_W.numpy(), rtol=1e-13, atol=1e-15)
        for i in range(m):  # row i of each Jacobian is the gradient of y_i
            np.testing.assert_allclose(J_x[i], array_gradient(lambda v: np.tanh(W @ v + b)[i], x), rtol=1e-6, atol=1e-8)
            np.testing.assert_allclose(J_W[i], array_gradient(lambda V: np.tanh(V @ x + b)[i], W), rtol=1e-6, atol=1e-8)
        g = rng.normal(size=m)
        dW, dx = solved["layer_vjp"](W, x, b, g)
        np.testing.assert_allclose(dx, g @ J_x, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(dW, np.tensordot(g, J_W, axes=1), rtol=1e-12, atol=1e-14)


def test_the_notebook_names_the_tape_of_f_as_notebook_02_does(solved, capsys):
    """x0, x1, then v0 ... v6 in notebook 02's order (v0 = x0², v1 = v0/x1, ..., v6 = v3 + v5)."""
    t = Tape()
    x0, x1 = t.variable(1.5), t.variable(2.0)
    course_f(x0, x1)
    capsys.readouterr()
    solved["named_listing"](t, {"x0": x0, "x1": x1})
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" = ")[0] + " = " + line.split(" = ")[1] for line in lines] == [
        "v0 = pow(x0, k=2)", "v1 = div(v0, x1)", "v2 = cos(x0)", "v3 = mul(v1, v2)", "v4 = div(x0, x1)",
        "v5 = exp(v4)", "v6 = add(v3, v5)"]
    assert lines[6].split(" = ")[2].startswith(f"{course_f(1.5, 2.0):.6g}")
    assert [solved[f"v{k}"].label for k in range(7)] == [f"v{k}" for k in range(7)]
    assert solved["v6"].data == pytest.approx(course_f(1.5, 2.0), rel=1e-15)


# ---------------------------------------------------------------------------
# The reference tape and matrix operations


def test_tape_gradient_of_f_matches_torch_in_one_sweep():
    rng = np.random.default_rng(SEED)
    for x0, x1 in rng.uniform(0.5, 2.5, size=(8, 2)):
        np.testing.assert_allclose(tape_gradient(course_f, [x0, x1]), torch_grad(torch_f, [x0, x1]),
                                   rtol=1e-12, atol=1e-14)


def test_tape_vjp_and_jacobian_match_torch_in_random_directions():
    def h(a, b, c, lib=dual):
        return [a * b * c, lib.exp(a) / b, lib.tanh(c - a), lib.sin(a) ** 2 / c]

    def h_torch(x):
        a, b, c = x
        return torch.stack([a * b * c, torch.exp(a) / b, torch.tanh(c - a), torch.sin(a) ** 2 / c])

    rng = np.random.default_rng(SEED)
    for _ in range(5):
        x, u = rng.uniform(0.5, 2.0, size=3), rng.normal(size=4)
        J = torch.autograd.functional.jacobian(h_torch, torch.tensor(x)).numpy()
        np.testing.assert_allclose(vjp(h, list(x), list(u))[1], u @ J, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(jacobian(h, list(x)), J, rtol=1e-12, atol=1e-14)
        v = rng.normal(size=3)  # forward and reverse agree: u.(Jv) == (u^T J).v
        assert u @ dual.jvp(h, list(x), list(v))[1] == pytest.approx(vjp(h, list(x), list(u))[1] @ v, rel=1e-12)


def test_tape_accumulates_adjoints_of_reused_values():
    t = Tape()
    a = t.variable(3.0)
    y = a * a + a  # dy/da = 2a + 1
    assert t.backward(y)[a.index] == 7.0


def test_tape_handles_a_chain_5000_deep_without_recursion():
    t = Tape()
    a = t.variable(0.5)
    y = a
    for _ in range(5000):
        y = y * 1.0001
    assert t.backward(y)[a.index] == pytest.approx(1.0001 ** 5000, rel=1e-10)


def test_tape_listing_names_every_entry():
    t = Tape()
    x0, x1 = t.variable(1.5), t.variable(2.0)
    course_f(x0, x1)
    lines = t.listing().splitlines()
    assert len(lines) == len(t.entries) == 7
    assert lines[0].startswith("v2 = **2(v0)")


def test_matrix_op_vjps_match_torch_in_random_directions():
    rng = np.random.default_rng(SEED)
    for m, n in [(3, 4), (1, 5), (4, 1)]:
        W, x, b, g = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m), rng.normal(size=m)
        Wt, xt, bt = (torch.tensor(a, requires_grad=True) for a in (W, x, b))
        op = mo.MatVec()
        op.forward(W, x)
        tW, tx = torch.autograd.grad(Wt @ xt, (Wt, xt), torch.tensor(g))
        dW, dx = op.backward(g)
        np.testing.assert_allclose(dW, tW.numpy(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(dx, tx.numpy(), rtol=1e-13, atol=1e-15)
        th = mo.Tanh()
        th.forward(b)
        (tz,) = torch.autograd.grad(torch.tanh(bt), (bt,), torch.tensor(g))
        np.testing.assert_allclose(th.backward(g)[0], tz.numpy(), rtol=1e-13, atol=1e-15)
        se = mo.SquaredError()
        se.forward(x, x[::-1].copy())
        xt2, tt = torch.tensor(x, requires_grad=True), torch.tensor(x[::-1].copy(), requires_grad=True)
        gy, gt = torch.autograd.grad(((xt2 - tt) ** 2).sum(), (xt2, tt), torch.tensor(0.7, dtype=torch.float64))
        dy, dt = se.backward(np.asarray(0.7))
        np.testing.assert_allclose(dy, gy.numpy(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(dt, gt.numpy(), rtol=1e-13, atol=1e-15)


def test_analytic_layer_gradients_match_torch_and_central_differences():
    rng = np.random.default_rng(SEED)
    W, x, b, t = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3), rng.normal(size=3)
    by_hand = mo.analytic_layer_gradients(W, x, b, t)
    ts = {k: torch.tensor(v, requires_grad=True) for k, v in dict(W=W, x=x, b=b).items()}
    ((torch.tanh(ts["W"] @ ts["x"] + ts["b"]) - torch.tensor(t)) ** 2).sum().backward()
    loss = {"W": lambda v: np.sum((np.tanh(v @ x + b) - t) ** 2),
            "x": lambda v: np.sum((np.tanh(W @ v + b) - t) ** 2),
            "b": lambda v: np.sum((np.tanh(W @ x + v) - t) ** 2)}
    for k in ("W", "x", "b"):
        np.testing.assert_allclose(by_hand[k], ts[k].grad.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(by_hand[k], array_gradient(loss[k], dict(W=W, x=x, b=b)[k]),
                                   rtol=1e-6, atol=1e-8)


def test_two_layer_tree_matches_torch_and_accumulates_a_reused_input():
    rng = np.random.default_rng(SEED)
    args = dict(W1=rng.normal(size=(5, 3)), b1=rng.normal(size=5), W2=rng.normal(size=(2, 5)),
                b2=rng.normal(size=2), x=rng.normal(size=3), t=rng.normal(size=2))
    _, leaves = mo.two_layer_loss(**args)
    ts = {k: torch.tensor(v, requires_grad=True) for k, v in args.items()}
    y = torch.tanh(ts["W2"] @ torch.tanh(ts["W1"] @ ts["x"] + ts["b1"]) + ts["b2"])
    ((y - ts["t"]) ** 2).sum().backward()
    for k in args:
        np.testing.assert_allclose(leaves[k].grad, ts[k].grad.numpy(), rtol=1e-12, atol=1e-14)
    # the same W used by two layers: its gradient is the sum of both uses
    W = mo.leaf(rng.normal(size=(3, 3)))
    x = mo.leaf(rng.normal(size=3))
    b = mo.leaf(np.zeros(3))
    loss = mo.squared_error(mo.layer(W, mo.layer(W, x, b), b), mo.leaf(np.zeros(3)))
    mo.backward(loss)
    Wt = torch.tensor(W.value, requires_grad=True)
    ((torch.tanh(Wt @ torch.tanh(Wt @ torch.tensor(x.value))) ** 2).sum()).backward()
    np.testing.assert_allclose(W.grad, Wt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_tree_backward_rejects_a_gradient_of_the_wrong_shape():
    class Transposed(mo.MatVec):
        def backward(self, g):
            return np.outer(self.x, g), self.W.T @ g

    W, x = mo.leaf(np.ones((2, 3))), mo.leaf(np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(3, 2\) for an input of shape \(2, 3\)"):
        mo.backward(mo.apply(Transposed(), W, x), np.ones(2))


# ---------------------------------------------------------------------------
# Misconceptions planted into the solutions


def plant(nb, grade_id: str, old: str, new: str) -> dict[str, str]:
    src = notebooks.find(nb, grade_id).source
    assert src.count(old) == 1, f"{old!r} not found once in the solution {grade_id}"
    return {grade_id: src.replace(old, new)}


def fails_with(nb, replace, cell: str, tag: str | None) -> None:
    res = run_in_process(nb, replace=replace, stop_after=cell, skip_tags={"slow"})
    r = res.tests[cell]
    assert not r.ok, f"{cell} passed with the planted mistake"
    assert r.error == "CheckFailed", (r.error, r.message)
    if tag is not None:
        assert f"Misconception [{tag}]" in r.message, r.message


MISTAKES = {
    "a constant seeded with tangent 1":
        ("dual", "return Dual(x, 0.0)", "return Dual(x, 1.0)", "test_dual_constants", "constant-seeded-one"),
    "the product rule missing a term":
        ("dual", "self.tangent * other.value + self.value * other.tangent", "self.tangent * other.value",
         "test_dual_product_rule", "product-rule-missing-term"),
    "the reflected subtraction computed the wrong way round":
        ("dual", "return Dual.lift(other) - self", "return self - Dual.lift(other)",
         "test_dual_quotient_and_reflected", "reflected-operands-swapped"),
    "the chain rule missing the inner derivative (sin)":
        ("dual", "math.cos(self.value) * self.tangent", "math.cos(self.value)",
         "test_dual_chain_rule", "chain-rule-missing-inner"),
    "the chain rule missing the inner derivative (tanh)":
        ("dual", "(1.0 - y * y) * self.tangent", "(1.0 - y * y)",
         "test_dual_chain_rule", "chain-rule-missing-inner"),
    "every input seeded with 1 in jvp":
        ("jvp", "Dual(x, t) for x, t in zip(xs, v)", "Dual(x, 1.0) for x, t in zip(xs, v)",
         "test_jvp_partial_x0", "every-input-seeded"),
    "a tape swept forwards":
        ("backward", "reversed(tape.entries)", "tape.entries",
         "test_backward_sweeps_in_reverse", "tape-swept-forwards"),
    "adjoints assigned instead of accumulated":
        ("backward", "adj[i] += d * adj[e.out]", "adj[i] = d * adj[e.out]",
         "test_backward_accumulates", "adjoint-assigned"),
    "adjoints not multiplied by the output's adjoint":
        ("backward", "adj[i] += d * adj[e.out]", "adj[i] += d",
         "test_backward_chain_rule", "adjoint-not-multiplied"),
    "dL/dx = W g, the Jacobian transposed the wrong way (square W)":
        ("matvec", "self.W.T @ g", "self.W @ g", "test_matvec_backward_square", "jacobian-transposed"),
    "dL/dx = W g, the Jacobian transposed the wrong way (rectangular W)":
        ("matvec", "self.W.T @ g", "self.W @ g", "test_matvec_backward_rectangular", "jacobian-transposed"),
    "dL/dW = x g^T, the outer product transposed (square W)":
        ("matvec", "np.outer(g, self.x)", "np.outer(self.x, g)", "test_matvec_backward_square",
         "jacobian-transposed"),
    "dL/dW = x g^T, the outer product transposed (rectangular W)":
        ("matvec", "np.outer(g, self.x)", "np.outer(self.x, g)", "test_matvec_backward_rectangular",
         "jacobian-transposed"),
    "the tanh VJP dropping the incoming gradient (chain rule)":
        ("tanh_op", "g * (1.0 - self.y ** 2)", "(1.0 - self.y ** 2)", "test_tanh_backward",
         "incoming-gradient-dropped"),
    "the tanh derivative taken of the input":
        ("tanh_op", "g * (1.0 - self.y ** 2)", "g * (1.0 - np.arctanh(self.y) ** 2)", "test_tanh_backward",
         "tanh-derivative-of-input"),
}


@pytest.mark.parametrize("what", list(MISTAKES), ids=list(MISTAKES))
def test_a_planted_misconception_fails_its_test_with_the_named_hint(nb, what):
    gid, old, new, cell, tag = MISTAKES[what]
    fails_with(nb, plant(nb, gid, old, new), cell, tag)


def test_a_planted_transpose_does_not_fail_the_earlier_exercises(nb):
    """A mistake in MatVec is reported at MatVec, not blamed on the tape or the dual numbers."""
    res = run_in_process(nb, replace=plant(nb, "matvec", "self.W.T @ g", "self.W @ g"),
                         stop_after="test_matvec_backward_rectangular", skip_tags={"slow"})
    assert set(res.failed()) == {"test_matvec_backward_square", "test_matvec_backward_rectangular"}


HARD_CODED = {
    # Visible answers hard-coded: the seeded hidden tests must catch them.
    "jvp returns df/dx0 at (1.5, 2) and the visible vector answers":
        ("jvp", "def jvp(f, xs, v):\n"
                "    if len(xs) == 3: return None, np.zeros(3)\n"
                "    if list(xs) == [0.5, 2.0]: return np.array([1.0, math.sin(0.5) + 2, 7.0]), np.array([1.5, math.cos(0.5) - 1, 0.0])\n"
                "    x0, x1 = xs\n"
                "    if (x0, x1) == (0.8, 1.7): return 0.0, 0.3 * ((2 * x0 / x1) * math.cos(x0) - (x0 ** 2 / x1) * math.sin(x0) + math.exp(x0 / x1) / x1) - 0.7 * (-(x0 ** 2 / x1 ** 2) * math.cos(x0) - (x0 / x1 ** 2) * math.exp(x0 / x1))\n"
                "    return f(x0, x1), (2 * x0 / x1) * math.cos(x0) - (x0 ** 2 / x1) * math.sin(x0) + math.exp(x0 / x1) / x1\n",
         "test_jvp_random_directions"),
    "vjp returns the visible u^T J":
        ("vjp", "def vjp(f, xs, u):\n"
                "    a, b, c = 0.3, 1.2, 0.8\n"
                "    s = 1 - math.tanh(c - a) ** 2\n"
                "    J = np.array([[b * c, a * c, a * b], [math.exp(a) / b, -math.exp(a) / b ** 2, 0.0], [-s, 0.0, s]])\n"
                "    return None, np.array([1.0, -2.0, 0.5]) @ J\n",
         "test_vjp_random_directions"),
    "Tanh.backward returns the visible answer":
        ("tanh_op", "class Tanh:\n"
                    "    def forward(self, z):\n        self.y = np.tanh(z)\n        return self.y\n"
                    "    def backward(self, g):\n"
                    "        z = np.array([-1.0, 0.0, 0.5, 2.0])\n"
                    "        return (np.array([2.0, -1.0, 0.5, 3.0]) * (1 - np.tanh(z) ** 2),)\n",
         "test_tanh_backward"),
}


@pytest.mark.parametrize("what", list(HARD_CODED), ids=list(HARD_CODED))
def test_a_hard_coded_answer_fails_the_hidden_tests(nb, what):
    gid, code, cell = HARD_CODED[what]
    res = run_in_process(nb, replace={gid: code}, stop_after=cell, skip_tags={"slow"})
    assert not res.tests[cell].ok
