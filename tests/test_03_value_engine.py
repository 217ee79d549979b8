"""Notebook 03 (the Value engine): its derivatives, its misconceptions, its helpers.

* every derivative the notebook's engine computes, and every number its test
  cells expect, against torch float64 and central differences;
* every misconception of the engine-pitfalls note that applies, planted into the
  solution, fails the right test cell with the hint that names it (and the
  exercise's other test cells still pass: one idea per cell);
* a stub in one exercise fails only the tests that need it, with "finish X first";
* course.moons: data, the numpy scores of an MLP, the graph release and the paused
  collector.
"""
from __future__ import annotations

import contextlib
import gc
import io
import math
import random
import weakref

import numpy as np
import pytest
import torch

from autograder import notebooks
from checks import engine_mistakes as mistakes
from autograder.notebooks import run_in_process
from conftest import ROOT
from course import moons
from course.numeric import gradient as central_gradient

NB_PATH = ROOT / "source" / "03_value_engine" / "03_value_engine.ipynb"
NB = notebooks.read(NB_PATH)
STUB = 'raise NotImplementedError("Not written yet: replace this line with your code.")'


def solution(gid: str) -> str:
    return notebooks.find(NB, gid).source


def planted(gid: str, old: str, new: str) -> dict[str, str]:
    """The solution of ``gid`` with ``old`` replaced by ``new`` (``old`` must occur in it)."""
    src = solution(gid)
    assert old in src, f"{gid}: {old!r} not in the solution"
    return {gid: src.replace(old, new)}


def run(replace: dict[str, str], stop_after: str):
    return run_in_process(NB, replace=replace, stop_after=stop_after, skip_tags={"slow"}, cwd=NB_PATH.parent)


def assert_fails_with(res, test_id: str, tag: str, *also: str) -> None:
    r = res.tests[test_id]
    assert not r.ok, f"{test_id} passed with the mistake planted"
    assert r.error == "CheckFailed", f"{test_id} failed with {r.error}, not a check's verdict: {r.message}"
    assert f"Misconception [{tag}]" in r.message, f"{test_id} lacks the hint [{tag}]:\n{r.message}"
    for text in also:
        assert text in r.message, f"{test_id}: {text!r} not in\n{r.message}"


# ---------------------------------------------------------------------------
# The notebook's own engine (its solution cells), loaded once

@pytest.fixture(scope="module")
def ns():
    """Namespace after running every code cell except test cells and slow cells."""
    space: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in NB.cells:
            if cell.cell_type != "code" or notebooks.is_test_cell(cell):
                continue
            if "slow" in cell.get("metadata", {}).get("tags", []):
                continue
            exec(compile(cell.source, notebooks.cell_id(cell) or "cell", "exec"), space)
    return space


# Every operation the notebook teaches, as a function of two inputs that runs
# on the notebook's Values and on torch tensors alike; inputs stay away from
# kinks (relu at 0) and from the domain edges.
OPS = {
    "a + b": lambda a, b: a + b,
    "a * b": lambda a, b: a * b,
    "a + a": lambda a, b: a + a,
    "a * a + a": lambda a, b: a * a + a,
    "b ** 3": lambda a, b: b ** 3,
    "a ** 0.5": lambda a, b: a ** 0.5,
    "a ** -1.5": lambda a, b: a ** -1.5,
    "b ** np.int64(2)": lambda a, b: b ** np.int64(2),
    "-a": lambda a, b: -a,
    "a - b": lambda a, b: a - b,
    "a / b": lambda a, b: a / b,
    "2 + a": lambda a, b: 2 + a,
    "2 * b": lambda a, b: 2 * b,
    "2 - a": lambda a, b: 2 - a,
    "2 / b": lambda a, b: 2 / b,
    "sum([a, b, a])": lambda a, b: sum([a, b, a]),
    "tanh(b)": lambda a, b: b.tanh(),
    "exp(b)": lambda a, b: b.exp(),
    "relu(b)": lambda a, b: b.relu(),
    "relu(a - 0.1)": lambda a, b: (a - 0.1).relu(),
    "deep mix": lambda a, b: ((a * b).tanh() + (b - a).exp() * 0.5) / (1 + a * a) + (2 - b) ** 2,
}


def engine_value_and_grads(ns, f, xs):
    vs = [ns["Value"](x) for x in xs]
    out = f(*vs)
    out.backward()
    return float(out.data), np.array([float(v.grad) for v in vs])


def torch_value_and_grads(f, xs):
    ts = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]
    out = f(*ts)
    grads = torch.autograd.grad(out, ts, allow_unused=True)
    return float(out.detach()), np.array([0.0 if g is None else float(g) for g in grads])


@pytest.mark.parametrize("name", list(OPS))
def test_engine_derivatives_match_torch_and_central_differences(ns, name):
    f = OPS[name]
    rng = np.random.default_rng(7)
    for a, b in zip(rng.uniform(0.3, 2.0, 5), rng.uniform(0.3, 2.0, 5) * rng.choice([-1, 1], 5)):
        value, grads = engine_value_and_grads(ns, f, [a, b])
        t_value, t_grads = torch_value_and_grads(f, [a, b])
        slopes = central_gradient(lambda x, y: torch_value_and_grads(f, [x, y])[0], [a, b])
        assert value == pytest.approx(t_value, rel=1e-13, abs=1e-13)
        np.testing.assert_allclose(grads, t_grads, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(grads, slopes, rtol=1e-6, atol=1e-7)


def test_numbers_the_test_cells_expect_agree_with_torch():
    def g(f, xs):
        return torch_value_and_grads(f, xs)

    # reuse: a + a, a * a, a * a + a
    assert g(lambda a: a + a, [3.0])[1][0] == 2.0
    assert g(lambda a: a * a, [3.0])[1][0] == 6.0
    # backward through b = a + a, c = b + b
    assert g(lambda a: (a + a) + (a + a), [1.0])[1][0] == 4.0
    # neg, sub, div, reflected
    assert g(lambda a: -a, [2.0])[1].tolist() == [-1.0]
    assert g(lambda a, b: a - b, [2.0, -3.5])[1].tolist() == [1.0, -1.0]
    v, d = g(lambda a, b: a / b, [3.0, -2.0])
    assert (v, *d) == (-1.5, -0.5, -0.75)
    v, d = g(lambda v: 2 - v, [4.0])
    assert (v, d[0]) == (-2.0, -1.0)
    v, d = g(lambda v: 2 / v, [4.0])
    assert (v, d[0]) == (0.5, -0.125)
    v, d = g(lambda v: 2 + v, [3.5])
    assert (v, d[0]) == (5.5, 1.0)
    v, d = g(lambda v: 2 * v, [3.5])
    assert (v, d[0]) == (7.0, 2.0)
    # powers in test_pow_value_and_grad: k * x ** (k - 1)
    for x, k in [(3.0, 2), (2.0, -1), (4.0, 0.5), (-1.5, 3)]:
        v, d = g(lambda a: a ** k, [x])
        assert v == pytest.approx(x ** k, rel=1e-15) and d[0] == pytest.approx(k * x ** (k - 1), rel=1e-15)
    # tanh does not overflow; its gradient there is 0
    v, d = g(lambda a: a.tanh(), [400.0])
    assert (v, d[0]) == (1.0, 0.0)
    assert float(torch.tanh(torch.tensor(-400.0, dtype=torch.float64))) == -1.0
    # backward twice: leaves accumulate (-4, 6); intermediates hold one pass (1)
    a = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    w = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
    b = a * w
    b.retain_grad()
    c = b + 1.0
    c.backward(retain_graph=True)
    b.grad = None
    c.backward(retain_graph=True)
    assert (float(a.grad), float(w.grad), float(b.grad)) == (-4.0, 6.0, 1.0)
    # the neuron of test_neuron_output
    wt = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    assert float(torch.relu(wt @ torch.tensor([2.0, -1.0, 1.0], dtype=torch.float64) + 0.25)) == 4.25
    assert float(wt @ torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64) + 0.25) == -0.25
    # section 5's manual backward and the neuron of section 11 (notebook 02's numbers)
    v, d = g(lambda a, b, c, f: (a * b + c) * f, [2.0, -3.0, 10.0, -2.0])
    assert v == -8.0 and d.tolist() == [6.0, -4.0, -2.0, 4.0]
    v, d = g(lambda x1, x2, w1, w2, b: (x1 * w1 + x2 * w2 + b).tanh(), [2.0, 0.0, -3.0, 1.0, 6.8813735870195432])
    assert v == pytest.approx(math.sqrt(0.5), abs=1e-12) and d[0] == pytest.approx(-1.5, abs=1e-12)


def test_notebook_loss_gradients_match_torch(ns):
    """The MLP, the max-margin loss with L2 and its gradients, against the same network in torch."""
    model = ns["MLP"](2, [4, 4, 1], rng=random.Random(5))
    X, y = ns["X"][:12], ns["y"][:12]
    loss, acc = ns["loss_fn"](model, X, y)
    model.zero_grad()
    loss.backward()
    ours = np.array([p.grad for p in model.parameters()])

    params = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in model.parameters()]
    it = iter(params)
    layers = [[([next(it) for _ in n.w], next(it), n.nonlin) for n in layer.neurons] for layer in model.layers]
    total = 0.0
    correct = 0
    for (x0, x1), yi in zip(X, y):
        h = [torch.tensor(x0, dtype=torch.float64), torch.tensor(x1, dtype=torch.float64)]
        for layer in layers:
            h = [(sum(w * xi for w, xi in zip(ws, h)) + b) for ws, b, _ in layer]
            h = [torch.relu(v) if nonlin else v for v, (_, _, nonlin) in zip(h, layer)]
        score = h[0]
        total = total + torch.relu(1 - yi * score)
        correct += int((yi > 0) == (score.item() > 0))
    ref = total / len(X) + 1e-4 * sum(p * p for p in params)
    ref.backward()
    assert float(loss.data) == pytest.approx(ref.item(), rel=1e-13)
    assert acc == correct / len(X)
    np.testing.assert_allclose(ours, [float(p.grad) for p in params], rtol=1e-10, atol=1e-14)


def test_tanh_from_exp_is_a_bigger_graph_with_the_gradient_of_tanh(ns):
    """Section 11's demo: (e^2x - 1)/(e^2x + 1) on the notebook's engine, against torch's tanh and central differences."""
    V, order = ns["Value"], ns["topological_order"]
    for x in [0.7, -1.9, 0.05]:
        a, b = V(x), V(x)
        one, composed = a.tanh(), ns["tanh_from_exp"](b)
        one.backward()
        composed.backward()
        t_value, t_grads = torch_value_and_grads(lambda v: v.tanh(), [x])
        assert composed.data == pytest.approx(t_value, abs=1e-15) and one.data == pytest.approx(t_value, abs=1e-15)
        assert b.grad == pytest.approx(t_grads[0], abs=1e-14) and a.grad == pytest.approx(t_grads[0], abs=1e-15)
        assert b.grad == pytest.approx(central_gradient(math.tanh, [x])[0], abs=1e-8)
        assert len(order(composed)) > len(order(one)) == 2


def test_one_step_along_the_gradient_rises_by_the_predicted_amount(ns):
    """Section 11's demo: the neuron's rise after x += eps * grad is eps * |grad|^2 to first order (torch's gradient)."""
    start = ns["start"]
    f = lambda x1, x2, w1, w2, b: (x1 * w1 + x2 * w2 + b).tanh()  # noqa: E731
    value, grads = torch_value_and_grads(f, start)
    np.testing.assert_allclose([v.grad for v in ns["inputs"]], grads, rtol=1e-12, atol=1e-15)
    eps = ns["eps"]
    moved, _ = torch_value_and_grads(f, [x + eps * g for x, g in zip(start, grads)])
    rise, predicted = moved - value, eps * float(np.sum(grads ** 2))
    assert ns["predicted"] == pytest.approx(predicted, rel=1e-12)
    assert ns["moved"].data - ns["o"].data == pytest.approx(rise, rel=1e-9)
    assert abs(rise / predicted - 1) < 1e-2  # the second-order term, O(eps), is what is left


def test_notebook_topological_sort_handles_a_100000_deep_chain(ns):
    V = ns["Value"]
    with moons.paused_gc():   # the collector would rescan the 400,000 live nodes many times
        x = leaf = V(0.5)
        for _ in range(100_000):
            x = x * 1.0 + 0.0
        x.backward()
        assert leaf.grad == 1.0
        assert ns["topological_order"](x)[-1] is x
        moons.release_graph(x)
        del x


# ---------------------------------------------------------------------------
# Misconceptions planted into the solution fail the right cell with the right hint

ADD_ACC = "        self.grad += out.grad\n        other.grad += out.grad"
MUL_ACC = "        self.grad += other.data * out.grad\n        other.grad += self.data * out.grad"

ATTACH = "\n\nValue.backward = backward\n"  # a notebook cell replaced whole must attach the method itself
RECURSIVE_BACKWARD = mistakes.RECURSIVE_BACKWARD + ATTACH
MICROGRAD_BACKWARD = mistakes.MICROGRAD_BACKWARD + ATTACH
ZERO_ALL_BACKWARD = mistakes.ZERO_ALL_BACKWARD + ATTACH
RECURSIVE_TOPO, HASHED_TOPO = mistakes.RECURSIVE_TOPO, mistakes.HASHED_TOPO
EQUALITY_TOPO, DUPLICATING_TOPO = mistakes.EQUALITY_TOPO, mistakes.DUPLICATING_TOPO

NO_REFLECTED = "pass\n"

RECURSIVE_RADD = '''
def __radd__(self, other):
    return other + self


def __rmul__(self, other):
    return other * self


Value.__radd__ = __radd__
Value.__rmul__ = __rmul__
'''

RSUB_RECURSES = '''
def __radd__(self, other):
    return self + other


def __rmul__(self, other):
    return self * other


def __rsub__(self, other):
    return other - self


def __rtruediv__(self, other):
    return other / self


Value.__radd__ = __radd__
Value.__rmul__ = __rmul__
Value.__rsub__ = __rsub__
Value.__rtruediv__ = __rtruediv__
'''

CASES = [
    # (why, replace, test cell, tag)
    ("= instead of += in add's backward: a + a gives 1",
     planted("value_add", ADD_ACC, ADD_ACC.replace("+=", "=")), "test_reuse_add", "grad-overwritten"),
    ("= instead of += in mul's backward: a * a gives a",
     planted("value_mul", MUL_ACC, MUL_ACC.replace("+=", "=")), "test_reuse_mul", "grad-overwritten"),
    ("add's result made without its children",
     planted("value_add", '(self, other), "+"', ""), "test_add_remembers_its_inputs", "no-parents"),
    ("mul's result made without its children",
     planted("value_mul", '(self, other), "*"', ""), "test_mul_value_and_inputs", "no-parents"),
    ("a plain number not wrapped in Value",
     planted("value_add", "other = other if isinstance(other, Value) else Value(other)\n", ""),
     "test_add_number", "number-not-wrapped"),
    ("add's backward ignores out.grad",
     planted("value_add", ADD_ACC, ADD_ACC.replace("out.grad", "1.0")), "test_add_local_backward",
     "chain-rule-missing"),
    ("mul's backward does not swap its inputs",
     planted("value_mul", MUL_ACC, "        self.grad += self.data * out.grad\n        other.grad += other.data * out.grad"),
     "test_mul_local_backward", "mul-no-swap"),
    ("power rule without the factor k",
     planted("value_pow", "k * self.data ** (k - 1) * out.grad", "self.data ** (k - 1) * out.grad"),
     "test_pow_value_and_grad", "power-rule"),
    ("a negative base to a fractional power returns a complex number",
     planted("value_pow", "    if self.data < 0 and not k.is_integer():\n", "    if False:\n"),
     "test_pow_negative_base", "complex-power"),
    ("a numpy integer exponent is rejected",
     planted("value_pow", "    k = float(k)\n", "    assert isinstance(k, (int, float)), 'number exponents only'\n    k = float(k)\n"),
     "test_pow_numpy_exponent", "numpy-exponent"),
    ("reflected operations missing: 2 + v", {"value_reflected": NO_REFLECTED}, "test_radd_rmul", "reflected-missing"),
    ("reflected operations missing: sum([...])", {"value_reflected": NO_REFLECTED}, "test_sum_of_values",
     "reflected-missing"),
    ("__radd__ computes other + self and recurses", {"value_reflected": RECURSIVE_RADD}, "test_radd_rmul",
     "reflected-recursion"),
    ("__rsub__ computes other - self and recurses", {"value_reflected": RSUB_RECURSES}, "test_rsub_rtruediv",
     "reflected-recursion"),
    ("__rsub__ computes self - other",
     planted("value_reflected", "return (-self) + other", "return self - other"), "test_rsub_rtruediv",
     "reflected-order"),
    ("tanh by the textbook formula overflows at 400",
     planted("value_tanh", "t = math.tanh(self.data)",
             "t = (math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1)"),
     "test_tanh_no_overflow", "unstable-tanh"),
    ("tanh's derivative written as 1 - x**2",
     planted("value_tanh", "(1.0 - t * t)", "(1.0 - self.data ** 2)"), "test_tanh_value_and_grad",
     "tanh-derivative"),
    ("relu'(0) taken as 1",
     planted("value_relu", "(1.0 if self.data > 0 else 0.0)", "(1.0 if self.data >= 0 else 0.0)"),
     "test_relu_value_and_grad", "relu-kink"),
    ("recursive topological sort on a 5,000-deep chain", {"topological_order": RECURSIVE_TOPO},
     "test_topological_order_deep_chain", "recursive-topo-sort"),
    ("visited set holds the nodes: unhashable with __eq__", {"topological_order": HASHED_TOPO},
     "test_topological_order_unhashable_values", "visited-by-hash"),
    ("visited list compared by ==: equal nodes merged", {"topological_order": EQUALITY_TOPO},
     "test_topological_order_unhashable_values", "visited-by-hash"),
    ("topological order without a visited mark lists shared nodes twice", {"topological_order": DUPLICATING_TOPO},
     "test_topological_order_is_valid", "topo-duplicates"),
    ("seed gradient never set",
     planted("backward", "    self.grad = 1.0\n", ""), "test_backward_seed", "seed-not-set"),
    ("recursive backward without a topological order: a=1; b=a+a; c=b+b gives 8",
     {"backward": RECURSIVE_BACKWARD}, "test_backward_topological", "no-topological-order"),
    ("seed set with += and intermediates never reset", {"backward": MICROGRAD_BACKWARD.format(seed="+=")},
     "test_backward_twice_accumulates_on_leaves", "seed-accumulates"),
    ("intermediates keep their gradient from the previous backward", {"backward": MICROGRAD_BACKWARD.format(seed="=")},
     "test_backward_twice_accumulates_on_leaves", "stale-intermediate-grad"),
    ("backward zeroes the leaves too (no accumulation as in torch)", {"backward": ZERO_ALL_BACKWARD},
     "test_backward_twice_accumulates_on_leaves", "backward-zeroes-leaves"),
    ("neuron built from .data: detached from its weights",
     planted("neuron", "sum((wi * xi for wi, xi in zip(self.w, x)), self.b)",
             "Value(sum(wi.data * float(getattr(xi, 'data', xi)) for wi, xi in zip(self.w, x)) + self.b.data)"),
     "test_neuron_gradients_reach_weights", "neuron-detached"),
    ("gradient ascent instead of descent",
     planted("train_step", "p.data -= lr * p.grad", "p.data += lr * p.grad"),
     "test_train_step_moves_against_the_gradient", "ascent-not-descent"),
    ("zero_grad forgotten between training steps",
     planted("train_step", "    model.zero_grad()\n", ""), "test_train_step_zeroes_gradients", "forgot-zero-grad"),
]


@pytest.mark.parametrize("why,replace,test_id,tag", CASES, ids=[c[0] for c in CASES])
def test_planted_misconception_fails_the_right_cell_with_its_hint(why, replace, test_id, tag):
    res = run(replace, stop_after=test_id)
    assert_fails_with(res, test_id, tag)
    # the mistake is named, not merely detected: the message also shows what was checked
    assert "Check failed:" in res.tests[test_id].message


def test_recursive_sort_hint_says_make_the_sort_iterative():
    res = run({"topological_order": RECURSIVE_TOPO}, stop_after="test_topological_order_deep_chain")
    assert_fails_with(res, "test_topological_order_deep_chain", "recursive-topo-sort", "make the sort iterative",
                      "RecursionError")
    assert res.tests["test_topological_order_is_valid"].ok, "a recursive sort is valid on small graphs"


def test_assignment_in_add_passes_the_local_add_checks_and_fails_only_on_reuse():
    """One idea per cell: with = instead of +=, a + b is still right; only reuse is wrong."""
    res = run(planted("value_add", ADD_ACC, ADD_ACC.replace("+=", "=")), stop_after="test_backward_topological")
    for ok in ["test_add_value", "test_add_remembers_its_inputs", "test_add_number", "test_add_local_backward"]:
        assert res.tests[ok].ok, res.tests[ok].message
    assert_fails_with(res, "test_reuse_add", "grad-overwritten")
    assert_fails_with(res, "test_backward_topological", "grad-overwritten")


def test_recursive_backward_is_named_with_the_node_pushed_too_early():
    res = run({"backward": RECURSIVE_BACKWARD}, stop_after="test_backward_topological")
    assert res.tests["test_backward_seed"].ok
    assert_fails_with(res, "test_backward_topological", "no-topological-order",
                      "b pushed its gradient to a before b's own gradient was complete", "got 8, expected 4")


def test_forgotten_zero_grad_still_moves_parameters_correctly_in_the_first_step():
    res = run(planted("train_step", "    model.zero_grad()\n", ""), stop_after="test_train_step_zeroes_gradients")
    assert res.tests["test_train_step_moves_against_the_gradient"].ok
    assert_fails_with(res, "test_train_step_zeroes_gradients", "forgot-zero-grad")


def test_a_stubbed_exercise_fails_only_the_checks_that_need_it():
    stub = solution("value_add").split("    ### BEGIN SOLUTION")[0] + "    " + STUB + "\n\n\nValue.__add__ = __add__\n"
    res = run({"value_add": stub}, stop_after="test_engine_matches_torch")
    for gid in ["test_add_value", "test_add_local_backward"]:
        r = res.tests[gid]
        assert r.error == "CheckFailed" and "this exercise is not written yet" in r.message, (gid, r)
    for gid in ["test_reuse_add", "test_neg_and_sub", "test_topological_order_deep_chain", "test_backward_seed",
                "test_engine_matches_torch"]:
        r = res.tests[gid]
        assert not r.ok and r.error == "CheckFailed" and "finish __add__ first" in r.message, (gid, r)
    independent = ["test_mul_value_and_inputs", "test_mul_local_backward", "test_reuse_mul",
                   "test_pow_value_and_grad", "test_pow_negative_base", "test_tanh_value_and_grad",
                   "test_tanh_no_overflow", "test_exp_value_and_grad", "test_relu_value_and_grad"]
    failing = {g: res.tests[g].message[:200] for g in independent if not res.tests[g].ok}
    assert not failing, f"tests that do not need __add__ fail: {failing}"


def test_hard_coded_answers_fail_the_hidden_tests():
    """An add that returns the visible answer, and a backward that writes the visible gradient, fail."""
    fake_add = planted("value_add", "out = Value(self.data + other.data, (self, other), \"+\")",
                       "out = Value(-1.5, (self, other), \"+\")")
    res = run(fake_add, stop_after="test_add_value")
    assert not res.tests["test_add_value"].ok and "Check failed" in res.tests["test_add_value"].message
    fake_backward = ("def backward(self):\n"
                     "    for node in topological_order(self):\n"
                     "        if not node._prev:\n"
                     "            node.grad = 4.0\n"
                     "    self.grad = 1.0\n\n\n"
                     "Value.backward = backward\n")
    res = run({"backward": fake_backward}, stop_after="test_backward_topological")
    r = res.tests["test_backward_topological"]
    assert not r.ok and "Check failed" in r.message and "out = b * b + b" in r.message, r


def test_the_solution_passes_every_test_cell_it_reaches_without_slow_cells():
    res = run({}, stop_after="test_train_step_zeroes_gradients")
    assert res.tests and not res.failed(), {g: res.tests[g].message[:300] for g in res.failed()}
    assert not res.errors, res.errors


# ---------------------------------------------------------------------------
# course.moons

def test_make_data_is_the_seeded_two_moons_with_plus_minus_one_labels():
    X, y = moons.make_data()
    X2, y2 = moons.make_data()
    assert len(X) == len(y) == 100 and X == X2 and y == y2
    assert sorted(set(y)) == [-1, 1] and y.count(1) == 50
    assert all(len(p) == 2 and all(isinstance(v, float) for v in p) for p in X)


def test_mlp_scores_equal_the_engine_forward_pass(ns):
    model = ns["MLP"](2, [16, 16, 1], rng=random.Random(1337))
    X, _ = moons.make_data()
    got = moons.mlp_scores(model, np.array(X[:20]))
    expected = [model([ns["Value"](a), ns["Value"](b)]).data for a, b in X[:20]]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_release_graph_lets_reference_counting_free_the_graph(ns):
    V = ns["Value"]
    a = V(2.0)
    with moons.paused_gc():
        out = (a * a + a).tanh()
        probe = weakref.ref(out._prev[0])
        n = moons.release_graph(out)
        assert n == 4 and a._backward() is None
        del out
        assert probe() is None, "the graph stayed alive after release_graph"


def test_without_release_the_graph_is_a_reference_cycle(ns):
    """Why release_graph exists: without it only the cycle collector frees a graph."""
    V = ns["Value"]
    with moons.paused_gc():
        out = V(2.0) * V(3.0)
        probe = weakref.ref(out)
        del out
        assert probe() is not None
    gc.collect()
    assert probe() is None


def test_paused_gc_restores_the_collector_state():
    assert gc.isenabled()
    with moons.paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with moons.paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(RuntimeError):
        with moons.paused_gc():
            raise RuntimeError("boom")
    assert gc.isenabled()
