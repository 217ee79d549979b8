"""Notebook 02, the chain rule by hand: its derivatives are right, its tests catch each mistake.

Three groups:

* every derivative the notebook shows or its tests expect agrees with torch
  autograd (float64) and with central differences, at the visible examples and
  at seeded random inputs; the numbers quoted in its text are the true ones;
* the hand-written graphs it draws (``F_STEPS``, ``L_STEPS``, ``NEURON_STEPS``,
  ``Y_STEPS``) compute the functions of the exercises, and the local
  derivatives its tables show agree with ``course.rules``;
* each common misconception, planted into the solution, makes the right test
  cell fail with a hint that names it (``Misconception [tag]``).
"""
from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from autograder import notebooks
from autograder.notebooks import run_in_process
from conftest import ROOT
from course.numeric import central_difference, gradient
from course.rules import RULES

NB = ROOT / "source" / "02_chain_rule" / "02_chain_rule.ipynb"
RELEASE_NB = ROOT / "release" / "02_chain_rule" / "02_chain_rule.ipynb"
STUB = "Not written yet: replace this line with your code"
N0 = 0.8813735870195432  # n at the neuron example, 6.8813735870195432 - 6

# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def ns() -> dict:
    """The notebook's namespace after running every cell except the graded test cells."""
    nb = notebooks.read(NB)
    env: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for c in nb.cells:
            if c.cell_type == "code" and not notebooks.is_test_cell(c):
                exec(compile(c.source, notebooks.cell_id(c) or "cell", "exec"), env)
    return env


def run_steps(steps, inputs: dict) -> dict:
    """Evaluate a hand-written graph with the rule table's forward values."""
    vals = dict(inputs)
    for s in steps:
        vals[s.name] = s.rule.value(*(vals[x] for x in s.inputs), **s.params)
    return vals


def backprop_steps(steps, vals: dict) -> dict:
    """Adjoints of every variable of a hand-written graph, from the rule table's local derivatives."""
    bar = {steps[-1].name: 1.0}
    for s in reversed(steps):
        xs = tuple(vals[x] for x in s.inputs)
        for x, local in zip(s.inputs, s.rule.local(xs, vals[s.name], **s.params)):
            bar[x] = bar.get(x, 0.0) + bar.get(s.name, 0.0) * local
    return bar


def t64(*xs: float) -> list[torch.Tensor]:
    return [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]


def f_trace_torch(a: torch.Tensor, b: torch.Tensor) -> dict:
    """f's variables v0 ... v5 in torch, the quotient v0 = a / b computed once and used twice."""
    v = {"v0": a / b}
    v["v1"] = a * v["v0"]
    v["v2"] = torch.cos(a)
    v["v3"] = v["v1"] * v["v2"]
    v["v4"] = torch.exp(v["v0"])
    v["v5"] = v["v3"] + v["v4"]
    return v


def close(got: float, want: float, rel: float = 1e-12) -> bool:
    return abs(float(got) - float(want)) <= rel * (1 + abs(float(want)))


RNG_SEED = 20260202


def random_points(n: int, make) -> list:
    rng = np.random.default_rng(RNG_SEED)
    return [make(rng) for _ in range(n)]


def f_point(rng):
    return float(rng.uniform(-2, 2)), float(rng.choice([-1, 1]) * rng.uniform(0.5, 2))


def y_point(rng):
    return (float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)),
            float(rng.choice([-1, 1]) * rng.uniform(0.5, 3)))


F_POINTS = [(1.5, 0.5)] + random_points(8, f_point)
L_POINTS = [(2.0, -3.0, 10.0, -2.0)] + random_points(8, lambda r: tuple(float(v) for v in r.uniform(-3, 3, 4)))
NEURON_POINTS = [(2.0, 0.0, -3.0, 1.0, 6.8813735870195432)] + random_points(
    8, lambda r: tuple(float(v) for v in r.uniform(-1.5, 1.5, 5)))
Y_POINTS = [(1.0, 2.0, 4.0)] + random_points(8, y_point)


# ---------------------------------------------------------------- derivatives vs torch and central differences


@pytest.mark.parametrize("x0, x1", F_POINTS)
def test_evaluation_trace_matches_torch_and_the_drawn_graph(ns, x0, x1):
    trace = ns["evaluation_trace"](x0, x1)
    a, b = t64(x0, x1)
    want = f_trace_torch(a, b)
    assert close(want["v5"].item(), (a ** 2 / b * torch.cos(a) + torch.exp(a / b)).item())
    drawn = run_steps(ns["F_STEPS"], {"x0": x0, "x1": x1})
    for k, w in want.items():
        assert close(trace[k], w.item()), (k, trace[k], w.item())
        assert close(drawn[k], w.item()), (k, drawn[k], w.item())


@pytest.mark.parametrize("x0, x1", F_POINTS)
def test_tangent_trace_matches_torch_forward_mode_and_f_gradient(ns, x0, x1):
    def trace(a, b):
        return tuple(f_trace_torch(a, b).values())

    point = (torch.tensor(x0, dtype=torch.float64), torch.tensor(x1, dtype=torch.float64))
    for seed in [(1.0, 0.0), (0.0, 1.0), (0.3, -1.7)]:
        got = ns["tangent_trace"](x0, x1, *seed)
        _, want = torch.autograd.functional.jvp(trace, point, tuple(torch.tensor(d, dtype=torch.float64) for d in seed))
        for k, w in zip(["v0", "v1", "v2", "v3", "v4", "v5"], want):
            assert close(got[k], w.item()), (seed, k, got[k], w.item())
    g = ns["f_gradient"](x0, x1)
    assert close(ns["tangent_trace"](x0, x1, 1.0, 0.0)["v5"], g[0], 1e-11)
    assert close(ns["tangent_trace"](x0, x1, 0.0, 1.0)["v5"], g[1], 1e-11)


@pytest.mark.parametrize("x0, x1", F_POINTS)
def test_f_gradient_matches_torch_and_central_differences(ns, x0, x1):
    got = np.asarray(ns["f_gradient"](x0, x1), dtype=float)
    a, b = t64(x0, x1)
    y = a ** 2 / b * torch.cos(a) + torch.exp(a / b)
    want = [g.item() for g in torch.autograd.grad(y, (a, b))]
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12), (got, want)
    num = gradient(lambda p, q: p ** 2 / q * math.cos(p) + math.exp(p / q), [x0, x1])
    assert np.allclose(got, num, rtol=1e-7, atol=1e-7), (got, num)
    bar = backprop_steps(ns["F_STEPS"], run_steps(ns["F_STEPS"], {"x0": x0, "x1": x1}))
    assert np.allclose(got, [bar["x0"], bar["x1"]], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("a, b, c, f", L_POINTS)
def test_backprop_L_matches_torch_on_every_variable(ns, a, b, c, f):
    got = ns["backprop_L"](a, b, c, f)
    ta, tb, tc, tf = t64(a, b, c, f)
    e = ta * tb
    e.retain_grad()
    d = e + tc
    d.retain_grad()
    (d * tf).backward()
    want = {"a": ta.grad, "b": tb.grad, "c": tc.grad, "f": tf.grad, "e": e.grad, "d": d.grad}
    for k, w in want.items():
        assert close(got[k], w.item()), (k, got[k], w.item())
    num = gradient(lambda *xs: (xs[0] * xs[1] + xs[2]) * xs[3], [a, b, c, f])
    assert np.allclose([got[k] for k in "abcf"], num, rtol=1e-7, atol=1e-7)
    bar = backprop_steps(ns["L_STEPS"], run_steps(ns["L_STEPS"], dict(a=a, b=b, c=c, f=f)))
    for k in want:
        assert close(got[k], bar[k]), k


@pytest.mark.parametrize("x1, x2, w1, w2, b", NEURON_POINTS)
def test_neuron_grads_match_torch_on_every_variable(ns, x1, x2, w1, w2, b):
    got = ns["neuron_grads"](x1, x2, w1, w2, b)
    tx1, tx2, tw1, tw2, tb = t64(x1, x2, w1, w2, b)
    p, q = tx1 * tw1, tx2 * tw2
    s = p + q
    n = s + tb
    for v in (p, q, s, n):
        v.retain_grad()
    torch.tanh(n).backward()
    want = {"x1": tx1.grad, "x2": tx2.grad, "w1": tw1.grad, "w2": tw2.grad, "b": tb.grad,
            "x1w1": p.grad, "x2w2": q.grad, "s": s.grad, "n": n.grad}
    for k, w in want.items():
        assert close(got[k], w.item()), (k, got[k], w.item())
    num = gradient(lambda *v: math.tanh(v[0] * v[2] + v[1] * v[3] + v[4]), [x1, x2, w1, w2, b])
    assert np.allclose([got[k] for k in ("x1", "x2", "w1", "w2", "b")], num, rtol=1e-7, atol=1e-8)
    vals = run_steps(ns["NEURON_STEPS"], dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b))
    bar = backprop_steps(ns["NEURON_STEPS"], vals)
    for k in want:
        assert close(got[k], bar[k]), k


@pytest.mark.parametrize("x0, x1, x2", Y_POINTS)
def test_forward_pass_and_adjoints_match_torch_on_every_variable(ns, x0, x1, x2):
    fwd = ns["forward_pass"](x0, x1, x2)
    bar = ns["adjoints"](x0, x1, x2)
    a, b, c = t64(x0, x1, x2)
    v = {"v0": torch.sin(a), "v1": torch.cos(a)}
    v["v2"] = b * v["v1"]
    v["v3"] = b / c
    v["v4"] = v["v0"] + v["v2"]
    v["v5"] = v["v4"] + v["v3"]
    for t in v.values():
        t.retain_grad()
    v["v5"].backward()
    for k, t in v.items():
        assert close(fwd[k], t.item()), (k, fwd[k], t.item())
        assert close(bar[k], t.grad.item()), (k, bar[k], t.grad.item())
    for k, t in {"x0": a, "x1": b, "x2": c}.items():
        assert close(bar[k], t.grad.item()), (k, bar[k], t.grad.item())
    num = gradient(lambda p, q, r: math.sin(p) + q * math.cos(p) + q / r, [x0, x1, x2])
    assert np.allclose([bar["x0"], bar["x1"], bar["x2"]], num, rtol=1e-7, atol=1e-8)
    drawn = run_steps(ns["Y_STEPS"], {"x0": x0, "x1": x1, "x2": x2})
    rule_bar = backprop_steps(ns["Y_STEPS"], drawn)
    for k in list(v) + ["x0", "x1", "x2"]:
        assert close(rule_bar[k], bar[k]), k
    for k in v:
        assert close(drawn[k], fwd[k]), k


def test_numbers_quoted_in_the_text_are_true(ns):
    trace = ns["evaluation_trace"](1.5, 0.5)
    assert trace["v0"] == 3.0 and trace["v1"] == 4.5
    assert round(trace["v5"], 4) == 20.4039
    assert ns["L"] == -8.0 and ns["e"] == -6.0 and ns["d"] == 4.0
    g = ns["backprop_L"](2.0, -3.0, 10.0, -2.0)
    assert (g["a"], g["b"]) == (6.0, -4.0)
    assert abs(ns["neuron"]["o"] - 1 / math.sqrt(2)) <= 1e-15
    assert round(ns["neuron"]["n"], 4) == 0.8814
    ng = ns["neuron_grads"](2.0, 0.0, -3.0, 1.0, 6.8813735870195432)
    assert abs(ng["n"] - 0.5) <= 1e-15 and abs(ng["w1"] - 1.0) <= 1e-14 and ng["w2"] == 0.0
    t = ns["tangent_trace"](1.5, 0.5, 1.0, 0.0)
    assert (t["v0"], t["v1"]) == (2.0, 6.0) and round(t["v5"], 4) == 36.1068
    y = ns["forward_pass"](1.0, 2.0, 4.0)["v5"]
    assert round(y, 4) == 2.4221 and close(y, math.sin(1) + 2 * math.cos(1) + 0.5)


# ---------------------------------------------------------------- the drawn graphs and their tables

STEP_LISTS = ["F_STEPS", "L_STEPS", "NEURON_STEPS", "Y_STEPS"]
STEP_INPUTS = {
    "F_STEPS": lambda r: {"x0": r.uniform(-2, 2), "x1": r.uniform(0.5, 2)},
    "L_STEPS": lambda r: dict(zip("abcf", r.uniform(-3, 3, 4))),
    "NEURON_STEPS": lambda r: dict(zip(["x1", "x2", "w1", "w2", "b"], r.uniform(-1.5, 1.5, 5))),
    "Y_STEPS": lambda r: {"x0": r.uniform(-3, 3), "x1": r.uniform(-3, 3), "x2": r.uniform(0.5, 3)},
}
FUNCS = {"sin": math.sin, "cos": math.cos, "exp": math.exp, "tanh": math.tanh}


@pytest.mark.parametrize("name", STEP_LISTS)
def test_local_derivatives_shown_agree_with_the_rule_table_and_central_differences(ns, name):
    steps = ns[name]
    assert all(s.local for s in steps), f"{name}: every step shows its local derivatives"
    rng = np.random.default_rng(7)
    for _ in range(5):
        vals = run_steps(steps, {k: float(v) for k, v in STEP_INPUTS[name](rng).items()})
        for s in steps:
            xs = tuple(vals[x] for x in s.inputs)
            from_rules = s.rule.local(xs, vals[s.name], **s.params)
            for i, (x, expr) in enumerate(zip(s.inputs, s.local)):
                shown = eval(expr, {"__builtins__": {}}, {**FUNCS, **vals})  # noqa: S307 (our own strings)

                def moved(t, i=i, s=s, xs=xs):
                    ys = list(xs)
                    ys[i] = t
                    return s.rule.value(*ys, **s.params)

                slope = central_difference(moved, xs[i])
                assert close(shown, from_rules[i]), (name, s.name, x, expr, shown, from_rules[i])
                assert abs(shown - slope) <= 1e-6 * (1 + abs(slope)), (name, s.name, x, shown, slope)


def test_tables_show_the_rule_tables_own_words_and_render_them_intact(ns):
    """Each table shows its rules' words, and rendered as Markdown (mistune, as nbconvert does) every
    formula survives verbatim: d(a*b)/da = b keeps its asterisks instead of turning into italics."""
    import html

    import mistune
    from course.diagrams import local_table

    for name in STEP_LISTS:
        table = local_table(ns[name])
        rendered = html.unescape(mistune.html(table))
        assert "<em>" not in rendered, (name, rendered)
        for s in ns[name]:
            formula, _, words = RULES[s.op].derivative.partition(": ")
            assert f"<code>{formula}</code>" in rendered and words in rendered, (name, s.op)


def test_markdown_of_the_notebook_uses_asterisks_only_for_emphasis():
    """Outside code spans and LaTeX, a '*' in the notebook's text opens or closes emphasis (*word* or
    **word**), never a product that Markdown would eat (d(a*b)/da would render as d(a<em>b)/da)."""
    import re

    bad = []
    for c in notebooks.read(NB).cells:
        if c.cell_type != "markdown":
            continue
        for para in c.source.split("\n\n"):
            text = re.sub(r"(?m)^\s*\* ", "", para)  # list items
            text = re.sub(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$", "", text.replace("\n", " "))
            # emphasis opens after a space or start and closes before one: a '*' between letters is a product
            text = re.sub(r"\*\*[^*]+\*\*|(?<![\w)])\*[^*\s][^*]*(?<![\s(])\*(?![\w(])", "", text)
            if "*" in text:
                bad.append(para)
    assert not bad, bad


def test_drawn_graphs_render_to_svg_with_one_edge_per_use(ns):
    from course.diagrams import Step, draw

    svg = draw(ns["F_STEPS"]).pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    # x0 is used three times in f: three edges leave it
    assert svg.count("<title>x0&#45;&gt;") == 3
    # the shared quotient v0 = x0 / x1 is one node used twice: two edges leave it
    assert svg.count("<title>v0&#45;&gt;") == 2
    square = draw([Step("y", "mul", ("x", "x"))]).source
    assert square.count("x -> y__op") == 2, "x * x draws two edges"


def test_drawing_with_values_and_grads_labels_every_box(ns):
    from course.diagrams import draw

    vals = run_steps(ns["L_STEPS"], dict(a=2.0, b=-3.0, c=10.0, f=-2.0))
    src = draw(ns["L_STEPS"], values=vals, grads=backprop_steps(ns["L_STEPS"], vals)).source
    for k in "abcfedL":
        assert f"data {vals[k]:.4f}" in src
    assert "grad 6.0000" in src and "grad -4.0000" in src


def test_hand_written_graphs_reject_unknown_operations_wrong_arity_and_redefinitions():
    from course.diagrams import Step, draw, inputs_of

    with pytest.raises(KeyError, match="unknown operation"):
        Step("v", "sqrt", ("x",))
    with pytest.raises(ValueError, match="takes 2 input"):
        Step("v", "mul", ("x",))
    with pytest.raises(ValueError, match="one local derivative per input"):
        Step("v", "mul", ("x", "y"), local=("y",))
    with pytest.raises(ValueError, match="defined more than once"):
        draw([Step("v", "exp", ("x",)), Step("v", "sin", ("x",))])
    assert inputs_of([Step("v", "mul", ("x", "y")), Step("w", "add", ("v", "x"))]) == ["x", "y"]


# ---------------------------------------------------------------- planted misconceptions


def source_of(grade_id: str) -> str:
    return notebooks.find(notebooks.read(NB), grade_id).source


def mutate(grade_id: str, *edits: tuple[str, str]) -> str:
    """The solution cell with each ``old`` replaced by ``new`` (each must occur exactly once)."""
    src = source_of(grade_id)
    for old, new in edits:
        assert src.count(old) == 1, f"{grade_id}: {old!r} occurs {src.count(old)} times"
        src = src.replace(old, new)
    return src


@dataclass
class Plant:
    id: str
    grade_id: str
    code: str
    targets: tuple[str, ...]  # test cells that must fail with the tag
    tag: str
    also_fail: tuple[str, ...] = ()  # later cells of the same exercise that may fail too


HARD_L = '''def backprop_L(a, b, c, f):
    return {"d": -2.0, "f": 4.0, "e": -2.0, "c": -2.0, "a": 6.0, "b": -4.0}'''
HARD_NEURON = '''def neuron_grads(x1, x2, w1, w2, b):
    return {"n": 0.5, "s": 0.5, "b": 0.5, "x1w1": 0.5, "x2w2": 0.5,
            "x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0}'''
HARD_ADJ = '''def adjoints(x0, x1, x2):
    return {"v5": 1.0, "v4": 1.0, "v3": 1.0, "v2": 1.0, "v1": 2.0, "v0": 1.0,
            "x2": -0.125, "x1": 0.7903023058681398, "x0": -1.1426396637476532}'''
HARD_TRACE = '''def evaluation_trace(x0, x1):
    return {"v0": 3.0, "v1": 4.5, "v2": 0.0707372016677029, "v3": 0.3183174075046631,
            "v4": 20.085536923187668, "v5": 20.40385433069233}'''
HARD_TANGENT = '''def tangent_trace(x0, x1, dx0, dx1):
    return {"v0": 2.0, "v1": 6.0, "v2": -0.9974949866040544, "v3": -4.064304229712027,
            "v4": 40.171073846375336, "v5": 36.10676961666331}'''
HARD_FWD = '''def forward_pass(x0, x1, x2):
    return {"v0": 0.8414709848078965, "v1": 0.5403023058681398, "v2": 1.0806046117362795,
            "v3": 0.5, "v4": 1.922075596544176, "v5": 2.4220755965441763}'''
HARD_FGRAD = '''def f_gradient(x0, x1):
    return 36.10676961666331, -121.14985635413534'''
SLOPES_L = '''def backprop_L(a, b, c, f):
    g = gradient(lambda a_, b_, c_, f_: (a_ * b_ + c_) * f_, [a, b, c, f])
    d = a * b + c
    return {"d": central_difference(lambda d_: d_ * f, d), "f": g[3],
            "e": central_difference(lambda e_: (e_ + c) * f, a * b), "c": g[2], "a": g[0], "b": g[1]}'''
SLOPES_F = '''def f_gradient(x0, x1):
    return tuple(gradient(lambda p, q: p ** 2 / q * math.cos(p) + math.exp(p / q), [x0, x1]))'''

L_CELLS = ("test_backprop_L_times_node", "test_backprop_L_plus_node", "test_backprop_L_leaves")
N_CELLS = ("test_neuron_grads_tanh", "test_neuron_grads_plus_nodes", "test_neuron_grads_times_nodes")
A_CELLS = ("test_adjoints_intermediate", "test_adjoints_x0_sums_two_uses",
           "test_adjoints_x1_sums_two_uses", "test_adjoints_x2_division")
F_CELLS = ("test_f_gradient_x0", "test_f_gradient_x1")
T_CELLS = ("test_tangent_trace_seed_x0", "test_tangent_trace_seed_x1")

PLANTS = [
    # L = (a*b + c) * f
    Plant("L-times-node-not-swapped-at-the-output", "backprop_L",
          mutate("backprop_L", ('grad["d"] = 1.0 * f', 'grad["d"] = 1.0 * d'), ('grad["f"] = 1.0 * d', 'grad["f"] = 1.0 * f')),
          ("test_backprop_L_times_node",), "times-node-no-swap", L_CELLS[1:]),
    Plant("L-times-node-not-swapped-at-the-leaves", "backprop_L",
          mutate("backprop_L", ('grad["a"] = grad["e"] * b', 'grad["a"] = grad["e"] * a'),
                 ('grad["b"] = grad["e"] * a', 'grad["b"] = grad["e"] * b')),
          ("test_backprop_L_leaves",), "times-node-no-swap"),
    Plant("L-plus-node-local-derivative-without-upstream", "backprop_L",
          mutate("backprop_L", ('grad["e"] = grad["d"] * 1.0', 'grad["e"] = 1.0'),
                 ('grad["c"] = grad["d"] * 1.0', 'grad["c"] = 1.0')),
          ("test_backprop_L_plus_node", "test_backprop_L_leaves"), "chain-rule-no-upstream"),
    Plant("L-hard-coded-example-numbers", "backprop_L", HARD_L, L_CELLS, "hard-coded-answer"),
    # the neuron
    Plant("neuron-tanh-derivative-1-minus-n-squared", "neuron_grads",
          mutate("neuron_grads", ('{"n": 1 - o ** 2}', '{"n": 1 - n ** 2}')),
          ("test_neuron_grads_tanh",), "tanh-derivative-of-input", N_CELLS[1:]),
    Plant("neuron-tanh-derivative-1-minus-o", "neuron_grads",
          mutate("neuron_grads", ('{"n": 1 - o ** 2}', '{"n": 1 - o}')),
          ("test_neuron_grads_tanh",), "tanh-derivative-not-squared", N_CELLS[1:]),
    Plant("neuron-plus-node-splits-the-gradient", "neuron_grads",
          mutate("neuron_grads", ('grad["s"] = grad["n"] ', 'grad["s"] = grad["n"] / 2 '),
                 ('grad["b"] = grad["n"]', 'grad["b"] = grad["n"] / 2')),
          ("test_neuron_grads_plus_nodes",), "plus-node-splits-gradient", N_CELLS[2:]),
    Plant("neuron-times-nodes-not-swapped", "neuron_grads",
          mutate("neuron_grads", ('grad["x1"] = grad["x1w1"] * w1', 'grad["x1"] = grad["x1w1"] * x1'),
                 ('grad["w1"] = grad["x1w1"] * x1', 'grad["w1"] = grad["x1w1"] * w1'),
                 ('grad["x2"] = grad["x2w2"] * w2', 'grad["x2"] = grad["x2w2"] * x2'),
                 ('grad["w2"] = grad["x2w2"] * x2', 'grad["w2"] = grad["x2w2"] * w2')),
          ("test_neuron_grads_times_nodes",), "times-node-no-swap"),
    Plant("neuron-hard-coded-example-numbers", "neuron_grads", HARD_NEURON, N_CELLS, "hard-coded-answer"),
    # the adjoints of y = sin(x0) + x1 cos(x0) + x1/x2
    Plant("adjoints-x0-used-twice-not-summed", "adjoints",
          mutate("adjoints", ('bar["x0"] = bar["v0"] * math.cos(x0) + bar["v1"]', 'bar["x0"] = bar["v1"]')),
          ("test_adjoints_x0_sums_two_uses",), "reused-variable-not-summed"),
    Plant("adjoints-x1-used-twice-not-summed", "adjoints",
          mutate("adjoints", ('bar["x1"] = bar["v2"] * v["v1"] + bar["v3"]', 'bar["x1"] = bar["v3"]')),
          ("test_adjoints_x1_sums_two_uses",), "reused-variable-not-summed"),
    Plant("adjoints-cos-derivative-sign", "adjoints",
          mutate("adjoints", ('bar["v1"] * (-math.sin(x0))', 'bar["v1"] * math.sin(x0)')),
          ("test_adjoints_x0_sums_two_uses",), "cos-derivative-sign"),
    Plant("adjoints-division-derivative-sign", "adjoints",
          mutate("adjoints", ('(-x1 / x2 ** 2)', '(x1 / x2 ** 2)')),
          ("test_adjoints_x2_division",), "division-derivative-sign"),
    Plant("adjoints-times-node-not-swapped", "adjoints",
          mutate("adjoints", ('bar["v1"] = bar["v2"] * x1', 'bar["v1"] = bar["v2"] * v["v1"]')),
          ("test_adjoints_intermediate",), "times-node-no-swap", ("test_adjoints_x0_sums_two_uses",)),
    Plant("adjoints-hard-coded-example-numbers", "adjoints", HARD_ADJ, A_CELLS, "hard-coded-answer"),
    # the gradient of f
    Plant("f-exp-inner-derivative-forgotten-in-x0", "f_gradient",
          mutate("f_gradient", ("x0b = v0b * (1 / x1)", "x0b = v0b")),
          ("test_f_gradient_x0",), "exp-inner-derivative"),
    Plant("f-exp-inner-derivative-forgotten-in-x1", "f_gradient",
          mutate("f_gradient", ("x1b = v0b * (-x0 / x1 ** 2)", "x1b = v0b")),
          ("test_f_gradient_x1",), "exp-inner-derivative"),
    Plant("f-shared-node-used-twice-not-summed", "f_gradient",
          mutate("f_gradient", ('v0b = v4b * v["v4"] + v1b * x0', 'v0b = v4b * v["v4"]')),
          F_CELLS, "reused-variable-not-summed"),
    Plant("f-shared-node-overwritten-by-its-second-use", "f_gradient",
          mutate("f_gradient", ('v0b = v4b * v["v4"] + v1b * x0', 'v0b = v4b * v["v4"]\n    v0b = v1b * x0')),
          F_CELLS, "reused-variable-not-summed"),
    Plant("f-cos-derivative-sign", "f_gradient",
          mutate("f_gradient", ("v2b * (-math.sin(x0))", "v2b * math.sin(x0)")),
          ("test_f_gradient_x0",), "cos-derivative-sign"),
    Plant("f-division-derivative-sign", "f_gradient",
          mutate("f_gradient", ("(-x0 / x1 ** 2)", "(x0 / x1 ** 2)")),
          ("test_f_gradient_x1",), "division-derivative-sign"),
    Plant("f-x0-used-three-times-one-use-dropped", "f_gradient",
          mutate("f_gradient", (" + v2b * (-math.sin(x0))", "")),
          ("test_f_gradient_x0",), "reused-variable-not-summed"),
    Plant("f-hard-coded-example-numbers", "f_gradient", HARD_FGRAD, F_CELLS, "hard-coded-answer"),
    # numerical slopes instead of the chain rule pass the visible checks, not the exact hidden ones
    Plant("L-numerical-slopes-instead-of-the-chain-rule", "backprop_L", SLOPES_L, L_CELLS, "numerical-slope"),
    Plant("f-numerical-slopes-instead-of-the-chain-rule", "f_gradient", SLOPES_F, F_CELLS, "numerical-slope"),
    # forward passes
    Plant("trace-hard-coded-example-numbers", "evaluation_trace", HARD_TRACE,
          ("test_evaluation_trace_steps", "test_evaluation_trace_output_is_f"), "hard-coded-answer"),
    Plant("forward-pass-hard-coded-example-numbers", "forward_pass", HARD_FWD,
          ("test_forward_pass_values",), "hard-coded-answer"),
    # forward mode by hand
    Plant("tangent-product-rule-one-term", "tangent_trace",
          mutate("tangent_trace", ('t["v1"] = dx0 * v["v0"] + x0 * t["v0"]', 't["v1"] = x0 * t["v0"]')),
          T_CELLS, "product-rule-one-term"),
    Plant("tangent-exp-without-the-inner-tangent", "tangent_trace",
          mutate("tangent_trace", ('t["v4"] = v["v4"] * t["v0"]', 't["v4"] = v["v4"]')),
          T_CELLS, "chain-rule-no-inner-tangent"),
    Plant("tangent-quotient-rule-sign", "tangent_trace",
          mutate("tangent_trace", ('dx0 / x1 - x0 * dx1 / x1 ** 2', 'dx0 / x1 + x0 * dx1 / x1 ** 2')),
          ("test_tangent_trace_seed_x1",), "division-derivative-sign"),
    Plant("tangent-seeds-ignored", "tangent_trace",
          mutate("tangent_trace", ('    v = evaluation_trace(x0, x1)\n', '    v = evaluation_trace(x0, x1)\n'
                                   '    dx0, dx1 = 1.0, 0.0\n')),
          ("test_tangent_trace_seed_x1",), "tangent-seed-ignored"),
    Plant("tangent-hard-coded-example-numbers", "tangent_trace", HARD_TANGENT, T_CELLS[:1], "hard-coded-answer",
          T_CELLS[1:]),
]

LAST_CELL = {"evaluation_trace": "test_evaluation_trace_output_is_f", "backprop_L": L_CELLS[-1],
             "neuron_grads": N_CELLS[-1], "forward_pass": "test_forward_pass_values",
             "adjoints": A_CELLS[-1], "f_gradient": F_CELLS[-1], "tangent_trace": T_CELLS[-1]}


@pytest.mark.parametrize("plant", PLANTS, ids=[p.id for p in PLANTS])
def test_planted_misconception_fails_the_right_cell_with_its_hint(plant):
    res = run_in_process(NB, replace={plant.grade_id: plant.code},
                         stop_after=LAST_CELL[plant.grade_id], skip_tags={"slow"})
    for target in plant.targets:
        r = res.tests[target]
        assert not r.ok, f"{target} passed with the planted mistake"
        assert r.error == "CheckFailed", r
        assert f"Misconception [{plant.tag}]" in r.message, r.message
    # nothing else breaks: earlier exercises pass, later cells of this one fail only where allowed
    unexpected = [g for g in res.failed() if g not in plant.targets + plant.also_fail]
    assert not unexpected, f"cells failed that this mistake does not concern: {unexpected}"
    assert not res.errors, res.errors


def test_plants_differ_from_the_solution_and_hard_coded_ones_pass_the_visible_example():
    """Every plant changes the solution, and the hard-coded ones give the right numbers at the
    visible example (so only the hidden, seeded inputs can catch them)."""
    for p in PLANTS:
        assert p.code != source_of(p.grade_id), p.id
    env: dict = {"math": math}
    for code in (HARD_L, HARD_NEURON, HARD_ADJ, HARD_TRACE, HARD_FWD, HARD_FGRAD, HARD_TANGENT):
        exec(code, env)
    ref: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for c in notebooks.read(NB).cells:
            if notebooks.is_solution_cell(c) or (c.cell_type == "code" and c.source.startswith("import")):
                exec(c.source, ref)
    for fn, args in [("backprop_L", (2.0, -3.0, 10.0, -2.0)), ("neuron_grads", (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)),
                     ("adjoints", (1.0, 2.0, 4.0)), ("evaluation_trace", (1.5, 0.5)),
                     ("forward_pass", (1.0, 2.0, 4.0)), ("tangent_trace", (1.5, 0.5, 1.0, 0.0))]:
        want, got = ref[fn](*args), env[fn](*args)
        assert all(close(got[k], want[k], 1e-12) for k in want), fn
    assert np.allclose(env["f_gradient"](1.5, 0.5), ref["f_gradient"](1.5, 0.5), rtol=1e-14)


def test_visible_checks_use_numerical_slopes_and_hidden_checks_the_exact_derivative():
    """A gradient computed with central differences passes the visible example (as the student's
    own check does) and fails only the hidden, exact checks: the numerical-slope plants above
    fail, and here they pass the visible part (the release, which has no hidden tests)."""
    for code, gid, cells in [(SLOPES_L, "backprop_L", L_CELLS), (SLOPES_F, "f_gradient", F_CELLS)]:
        res = run_in_process(RELEASE_NB, replace={gid: code}, stop_after=LAST_CELL[gid])
        for g in cells:
            assert res.tests[g].ok, res.tests[g]


def test_release_test_cells_are_one_import_and_one_check_call_on_a_student_name():
    """Each released test cell is ``from course.checks.chain_rule import check_x`` and ``check_x(name)``,
    with ``name`` a function the student writes: no reference answer, nothing else (a check returns
    None, so nbgrader reads no partial credit from the call)."""
    import ast

    nb = notebooks.read(RELEASE_NB)
    students = {node.name for c in nb.cells if notebooks.is_solution_cell(c)
                for node in ast.parse(c.source).body if isinstance(node, ast.FunctionDef)}
    for c in notebooks.test_cells(nb):
        body = ast.parse(c.source).body
        assert len(c.source.strip().splitlines()) == 2 and len(body) == 2, c.source
        imp, call = body
        assert isinstance(imp, ast.ImportFrom) and imp.module == "course.checks.chain_rule", c.source
        name = imp.names[0].name
        assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call), c.source
        assert call.value.func.id == name and name.startswith("check_"), c.source
        assert [a.id for a in call.value.args] in ([s] for s in students), c.source


def test_solution_passes_every_test_cell_in_process():
    res = run_in_process(NB, skip_tags={"slow"})
    assert len(res.tests) == 20
    assert not res.failed(), {g: res.tests[g].message for g in res.failed()}
    assert not res.errors, res.errors


def test_released_stubs_fail_every_test_cell_with_the_stub_message():
    res = run_in_process(RELEASE_NB, skip_tags={"slow"})
    assert res.tests and not res.passed(), res.passed()
    for g, r in res.tests.items():
        assert r.error == "CheckFailed" and "not written yet" in r.message and STUB in r.message, \
            (g, r.error, r.message[:200])
    for cell, err, msg in res.errors:
        assert err == "NotImplementedError" and STUB in msg, (cell, err, msg[:200])
