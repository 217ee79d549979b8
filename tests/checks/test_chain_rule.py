"""Notebook 02's checks, called directly (no notebook): right answers pass, stubs and known mistakes fail.

For every check of ``course.checks.chain_rule`` (visible) and ``course_hidden.chain_rule``
(hidden): the notebook's solution passes; the released stub fails with "not written yet";
each known mistake fails with the hint that names it (``Misconception [tag]``). The exact
derivatives of the hidden checks and the numerical slopes of the visible ones agree with
torch autograd (float64).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pytest
import torch

import course_hidden.chain_rule as hidden
from course.checks import chain_rule as visible
from course.checks.answers import CheckFailed
from course.numeric import gradient

# ---------------------------------------------------------------- the notebook's solutions


def evaluation_trace(x0, x1):
    v0 = x0 / x1
    v1 = x0 * v0
    v2 = math.cos(x0)
    v3 = v1 * v2
    v4 = math.exp(v0)
    v5 = v3 + v4
    return {"v0": v0, "v1": v1, "v2": v2, "v3": v3, "v4": v4, "v5": v5}


def backprop_L(a, b, c, f):
    e = a * b
    d = e + c
    grad = {"d": 1.0 * f, "f": 1.0 * d}
    grad["e"] = grad["d"] * 1.0
    grad["c"] = grad["d"] * 1.0
    grad["a"] = grad["e"] * b
    grad["b"] = grad["e"] * a
    return grad


def neuron_grads(x1, x2, w1, w2, b):
    o = math.tanh(x1 * w1 + x2 * w2 + b)
    grad = {"n": 1 - o ** 2}
    grad["s"] = grad["n"]
    grad["b"] = grad["n"]
    grad["x1w1"] = grad["s"]
    grad["x2w2"] = grad["s"]
    grad["x1"] = grad["x1w1"] * w1
    grad["w1"] = grad["x1w1"] * x1
    grad["x2"] = grad["x2w2"] * w2
    grad["w2"] = grad["x2w2"] * x2
    return grad


def forward_pass(x0, x1, x2):
    v0 = math.sin(x0)
    v1 = math.cos(x0)
    v2 = x1 * v1
    v3 = x1 / x2
    v4 = v0 + v2
    v5 = v4 + v3
    return {"v0": v0, "v1": v1, "v2": v2, "v3": v3, "v4": v4, "v5": v5}


def adjoints(x0, x1, x2):
    v = forward_pass(x0, x1, x2)
    bar = {"v5": 1.0}
    bar["v4"] = bar["v5"] * 1.0
    bar["v3"] = bar["v5"] * 1.0
    bar["v0"] = bar["v4"] * 1.0
    bar["v2"] = bar["v4"] * 1.0
    bar["x2"] = bar["v3"] * (-x1 / x2 ** 2)
    bar["v1"] = bar["v2"] * x1
    bar["x1"] = bar["v2"] * v["v1"] + bar["v3"] * (1 / x2)
    bar["x0"] = bar["v0"] * math.cos(x0) + bar["v1"] * (-math.sin(x0))
    return bar


def f_gradient(x0, x1):
    v = evaluation_trace(x0, x1)
    v3b = v4b = 1.0
    v1b = v3b * v["v2"]
    v2b = v3b * v["v1"]
    v0b = v4b * v["v4"] + v1b * x0
    x0b = v0b * (1 / x1) + v1b * v["v0"] + v2b * (-math.sin(x0))
    x1b = v0b * (-x0 / x1 ** 2)
    return x0b, x1b


def v0_bar(x0, x1):
    """The adjoint of the shared quotient v0 = x0/x1: its two contributions, e^v0 and x0 cos(x0)."""
    return math.exp(x0 / x1) + x0 * math.cos(x0)


def tangent_trace(x0, x1, dx0, dx1):
    v = evaluation_trace(x0, x1)
    t = {"v0": dx0 / x1 - x0 * dx1 / x1 ** 2}
    t["v1"] = dx0 * v["v0"] + x0 * t["v0"]
    t["v2"] = -math.sin(x0) * dx0
    t["v3"] = t["v1"] * v["v2"] + v["v1"] * t["v2"]
    t["v4"] = v["v4"] * t["v0"]
    t["v5"] = t["v3"] + t["v4"]
    return t


def tangent_with(**changes: Callable) -> Callable:
    """tangent_trace with some tangents computed by ``changes[key](x0, x1, dx0, dx1, v, t)`` (v: values,
    t: the tangents so far): a planted forward-mode mistake that later tangents build on."""
    def mistaken(x0, x1, dx0, dx1):
        v, t = evaluation_trace(x0, x1), {}
        right = {"v0": lambda: dx0 / x1 - x0 * dx1 / x1 ** 2, "v1": lambda: dx0 * v["v0"] + x0 * t["v0"],
                 "v2": lambda: -math.sin(x0) * dx0, "v3": lambda: t["v1"] * v["v2"] + v["v1"] * t["v2"],
                 "v4": lambda: v["v4"] * t["v0"], "v5": lambda: t["v3"] + t["v4"]}
        for k, rule in right.items():
            t[k] = changes[k](x0, x1, dx0, dx1, v, t) if k in changes else rule()
        return t
    return mistaken


SOLUTIONS = {"evaluation_trace": evaluation_trace, "backprop_L": backprop_L, "neuron_grads": neuron_grads,
             "forward_pass": forward_pass, "adjoints": adjoints, "f_gradient": f_gradient,
             "tangent_trace": tangent_trace}


def stub(*args):
    raise NotImplementedError("Not written yet: replace this line with your code")


def with_(fn: Callable, **changes: Callable) -> Callable:
    """``fn`` with some entries of its dict replaced by ``changes[key](*args)``: a planted mistake."""
    def mistaken(*args):
        out = dict(fn(*args))
        out.update({k: change(*args) for k, change in changes.items()})
        return out
    return mistaken


def pair(x0: Callable | None = None, x1: Callable | None = None) -> Callable:
    """f_gradient with its df/dx0 or df/dx1 replaced."""
    def mistaken(a, b):
        g = f_gradient(a, b)
        return (x0(a, b) if x0 else g[0], x1(a, b) if x1 else g[1])
    return mistaken


def constant(fn: Callable, *example: float) -> Callable:
    """The answer at the visible example, whatever the inputs: a hard-coded solution."""
    answer = fn(*example)
    return lambda *args: answer


def numerical(fn_name: str) -> Callable:
    """A gradient function that returns central-difference slopes instead of the chain rule."""
    ex = {e.name: e for e in (visible.BACKPROP_L, visible.NEURON_GRADS, visible.ADJOINTS, visible.F_GRADIENT,
                              visible.TANGENT_TRACE)}[fn_name]

    def slopes(*args):
        if ex.tangents:
            inputs, direction = ex.split(tuple(args))
            return {k: ex.graph.tangent(inputs, direction, k) for k in ex.keys}
        got = {k: ex.graph.slope(tuple(args), k) for k in ex.keys}
        return tuple(got.values()) if ex.pair else got
    return slopes


VISIBLE = [name for name in dir(visible) if name.startswith("check_")]
HIDDEN = [name for name in dir(hidden) if name.startswith("check_")]


def student_of(check_name: str) -> str:
    """The student function a check is about (its first parameter)."""
    fn = getattr(visible, check_name, None) or getattr(hidden, check_name)
    return next(iter(fn.__wrapped__.__code__.co_varnames))


def run(module, check_name: str, fn: Callable) -> None:
    getattr(module, check_name)(fn)


# ---------------------------------------------------------------- solution passes, stub fails


@pytest.mark.parametrize("name", VISIBLE)
def test_visible_check_passes_the_solution(name):
    run(visible, name, SOLUTIONS[student_of(name)])


@pytest.mark.parametrize("name", HIDDEN)
def test_hidden_check_passes_the_solution(name):
    run(hidden, name, SOLUTIONS[student_of(name)])


@pytest.mark.parametrize("module, name", [(visible, n) for n in VISIBLE] + [(hidden, n) for n in HIDDEN],
                         ids=VISIBLE + HIDDEN)
def test_check_fails_the_stub_saying_not_written_yet(module, name):
    with pytest.raises(CheckFailed, match="not written yet"):
        run(module, name, stub)


def test_every_test_cell_of_the_notebook_has_a_visible_check_and_most_a_hidden_one():
    assert len(VISIBLE) == 20 and len(HIDDEN) == 17
    assert all(student_of(n) in SOLUTIONS for n in VISIBLE + HIDDEN)


# ---------------------------------------------------------------- answers of the wrong shape


@pytest.mark.parametrize("returned, says", [
    (None, "Misconception [missing-return]"),
    ([1.0, 2.0], "must return a dict"),
    ({"d": 1.0}, "missing: ['f', 'e', 'c', 'a', 'b']"),
    ({k: "1" for k in "dfecab"}, "must return a number"),
])
def test_a_dict_answer_of_the_wrong_shape_says_what_is_wrong(returned, says):
    with pytest.raises(CheckFailed) as exc:
        visible.check_backprop_L_returns_every_gradient(lambda *args: returned)
    assert says in str(exc.value)


def test_f_gradient_must_return_a_pair():
    with pytest.raises(CheckFailed, match="wrong shape"):
        visible.check_f_gradient_x0(lambda x0, x1: (1.0, 2.0, 3.0))


def test_a_bug_in_the_students_code_is_reported_with_their_frames():
    def broken(a, b, c, f):
        return {"d": 1 / 0}

    with pytest.raises(CheckFailed) as exc:
        visible.check_backprop_L_times_node(broken)
    assert "ZeroDivisionError" in exc.value.message and "broken" in exc.value.trace


# ---------------------------------------------------------------- known mistakes, named

SQ = lambda v: v * v  # noqa: E731
MISTAKES = [
    # evaluation_trace and forward_pass: variables mixed up, hard-coded
    ("check_evaluation_trace_steps", with_(evaluation_trace, v4=lambda x0, x1: (x0 ** 2) / x1), "variable-mixup"),
    ("check_evaluation_trace_output_is_f", with_(evaluation_trace, v5=lambda x0, x1: math.exp(x0 / x1)),
     "variable-mixup"),
    ("check_evaluation_trace_steps_random", constant(evaluation_trace, 1.5, 0.5), "hard-coded-answer"),
    ("check_evaluation_trace_output_random", constant(evaluation_trace, 1.5, 0.5), "hard-coded-answer"),
    ("check_forward_pass_values", with_(forward_pass, v2=lambda x0, x1, x2: x1 * math.sin(x0)), "wrong-input-variable"),
    ("check_forward_pass_values", with_(forward_pass, v4=lambda x0, x1, x2: math.sin(x0) + x1 / x2), "wrong-input-variable"),
    ("check_forward_pass_values", with_(forward_pass, v5=lambda x0, x1, x2: x1 / x2), "variable-mixup"),
    ("check_forward_pass_values_random", constant(forward_pass, 1.0, 2.0, 4.0), "hard-coded-answer"),
    # backprop_L
    ("check_backprop_L_times_node", with_(backprop_L, d=lambda a, b, c, f: a * b + c, f=lambda a, b, c, f: f),
     "times-node-no-swap"),
    ("check_backprop_L_plus_node", with_(backprop_L, e=lambda *_: 1.0, c=lambda *_: 1.0), "chain-rule-no-upstream"),
    ("check_backprop_L_plus_node", with_(backprop_L, e=lambda a, b, c, f: f / 2), "plus-node-splits-gradient"),
    ("check_backprop_L_leaves", with_(backprop_L, a=lambda a, b, c, f: f * a), "times-node-no-swap"),
    ("check_backprop_L_leaves", with_(backprop_L, b=lambda a, b, c, f: a), "chain-rule-no-upstream"),
    ("check_backprop_L_times_node_random", constant(backprop_L, 2.0, -3.0, 10.0, -2.0), "hard-coded-answer"),
    ("check_backprop_L_plus_node_random", constant(backprop_L, 2.0, -3.0, 10.0, -2.0), "hard-coded-answer"),
    ("check_backprop_L_leaves_random", constant(backprop_L, 2.0, -3.0, 10.0, -2.0), "hard-coded-answer"),
    ("check_backprop_L_leaves_random", with_(backprop_L, a=lambda a, b, c, f: f * a), "times-node-no-swap"),
    ("check_backprop_L_leaves_random", numerical("backprop_L"), "numerical-slope"),
    ("check_backprop_L_times_node_random", numerical("backprop_L"), "numerical-slope"),
    # neuron_grads
    ("check_neuron_grads_tanh", with_(neuron_grads, n=lambda x1, x2, w1, w2, b: 1 - SQ(x1 * w1 + x2 * w2 + b)),
     "tanh-derivative-of-input"),
    ("check_neuron_grads_tanh", with_(neuron_grads, n=lambda x1, x2, w1, w2, b: 1 - math.tanh(x1 * w1 + x2 * w2 + b)),
     "tanh-derivative-not-squared"),
    ("check_neuron_grads_plus_nodes", with_(neuron_grads, s=lambda *a: neuron_grads(*a)["n"] / 2), "plus-node-splits-gradient"),
    ("check_neuron_grads_plus_nodes", with_(neuron_grads, x1w1=lambda *a: neuron_grads(*a)["n"] / 4),
     "plus-node-splits-gradient"),
    ("check_neuron_grads_plus_nodes", with_(neuron_grads, b=lambda *_: 1.0), "chain-rule-no-upstream"),
    ("check_neuron_grads_times_nodes", with_(neuron_grads, w1=lambda x1, x2, w1, w2, b: neuron_grads(x1, x2, w1, w2, b)["n"] * w1),
     "times-node-no-swap"),
    ("check_neuron_grads_times_nodes", with_(neuron_grads, x1=lambda x1, x2, w1, w2, b: w1), "chain-rule-no-upstream"),
    ("check_neuron_grads_tanh_random", constant(neuron_grads, 2.0, 0.0, -3.0, 1.0, 6.8813735870195432),
     "hard-coded-answer"),
    ("check_neuron_grads_times_nodes_random", constant(neuron_grads, 2.0, 0.0, -3.0, 1.0, 6.8813735870195432),
     "hard-coded-answer"),
    ("check_neuron_grads_plus_nodes_random", numerical("neuron_grads"), "numerical-slope"),
    # adjoints
    ("check_adjoints_intermediate", with_(adjoints, v1=lambda x0, x1, x2: math.cos(x0)), "times-node-no-swap"),
    ("check_adjoints_intermediate", with_(adjoints, v3=lambda *_: 0.5), "plus-node-splits-gradient"),
    ("check_adjoints_x0_sums_two_uses", with_(adjoints, x0=lambda x0, x1, x2: -x1 * math.sin(x0)),
     "reused-variable-not-summed"),
    ("check_adjoints_x0_sums_two_uses", with_(adjoints, x0=lambda x0, x1, x2: math.cos(x0)),
     "reused-variable-not-summed"),
    ("check_adjoints_x0_sums_two_uses", with_(adjoints, x0=lambda x0, x1, x2: math.cos(x0) + x1 * math.sin(x0)),
     "cos-derivative-sign"),
    ("check_adjoints_x1_sums_two_uses", with_(adjoints, x1=lambda x0, x1, x2: 1 / x2), "reused-variable-not-summed"),
    ("check_adjoints_x2_division", with_(adjoints, x2=lambda x0, x1, x2: x1 / x2 ** 2), "division-derivative-sign"),
    ("check_adjoints_x2_division", with_(adjoints, x2=lambda x0, x1, x2: -x1 / x2), "division-derivative-no-square"),
    ("check_adjoints_intermediate_random", constant(adjoints, 1.0, 2.0, 4.0), "hard-coded-answer"),
    ("check_adjoints_x0_random", constant(adjoints, 1.0, 2.0, 4.0), "hard-coded-answer"),
    ("check_adjoints_x1_random", constant(adjoints, 1.0, 2.0, 4.0), "hard-coded-answer"),
    ("check_adjoints_x2_random", constant(adjoints, 1.0, 2.0, 4.0), "hard-coded-answer"),
    ("check_adjoints_x0_random", with_(adjoints, x0=lambda x0, x1, x2: math.cos(x0)), "reused-variable-not-summed"),
    ("check_adjoints_x2_random", numerical("adjoints"), "numerical-slope"),
    # f_gradient
    ("check_f_gradient_x0", pair(x0=lambda x0, x1: f_gradient(x0, x1)[0] - v0_bar(x0, x1) / x1 + v0_bar(x0, x1)),
     "exp-inner-derivative"),
    ("check_f_gradient_x0", pair(x0=lambda x0, x1: f_gradient(x0, x1)[0] + 2 * x0 ** 2 / x1 * math.sin(x0)),
     "cos-derivative-sign"),
    ("check_f_gradient_x0", pair(x0=lambda x0, x1: f_gradient(x0, x1)[0] + x0 ** 2 / x1 * math.sin(x0)),
     "reused-variable-not-summed"),
    ("check_f_gradient_x0", pair(x0=lambda x0, x1: x0 / x1 * math.cos(x0) - x0 ** 2 / x1 * math.sin(x0)),
     "reused-variable-not-summed"),
    ("check_f_gradient_x0", pair(x0=lambda x0, x1: f_gradient(x0, x1)[0] - x0 * math.cos(x0) / x1),
     "reused-variable-not-summed"),
    ("check_f_gradient_x0", pair(x0=lambda x0, x1: f_gradient(x0, x1)[0] - x0 * math.cos(x0) / x1
                                 + x0 * math.cos(x0)), "times-node-no-swap"),
    ("check_f_gradient_x1", pair(x1=lambda x0, x1: x0 / x1 ** 2 * v0_bar(x0, x1)), "division-derivative-sign"),
    ("check_f_gradient_x1", pair(x1=lambda x0, x1: -x0 / x1 * v0_bar(x0, x1)), "division-derivative-no-square"),
    ("check_f_gradient_x1", pair(x1=v0_bar), "exp-inner-derivative"),
    ("check_f_gradient_x1", pair(x1=lambda x0, x1: -x0 / x1 ** 2 * math.exp(x0 / x1)), "reused-variable-not-summed"),
    ("check_f_gradient_x1", pair(x1=lambda x0, x1: -x0 / x1 ** 2 * x0 * math.cos(x0)), "reused-variable-not-summed"),
    ("check_f_gradient_x0_random", constant(f_gradient, 1.5, 0.5), "hard-coded-answer"),
    # tangent_trace: forward mode by hand
    ("check_tangent_trace_seed_x0", tangent_with(v3=lambda x0, x1, dx0, dx1, v, t: t["v1"] * v["v2"]),
     "product-rule-one-term"),
    ("check_tangent_trace_seed_x0", tangent_with(v4=lambda x0, x1, dx0, dx1, v, t: v["v4"]),
     "chain-rule-no-inner-tangent"),
    ("check_tangent_trace_seed_x0", tangent_with(v2=lambda x0, x1, dx0, dx1, v, t: math.sin(x0) * dx0),
     "cos-derivative-sign"),
    ("check_tangent_trace_seed_x1", tangent_with(v0=lambda x0, x1, dx0, dx1, v, t: dx0 / x1 + x0 * dx1 / x1 ** 2),
     "division-derivative-sign"),
    ("check_tangent_trace_seed_x1", tangent_with(v0=lambda x0, x1, dx0, dx1, v, t: dx0 / x1), "tangent-term-dropped"),
    ("check_tangent_trace_seed_x1", lambda x0, x1, dx0, dx1: tangent_trace(x0, x1, 1.0, 0.0), "tangent-seed-ignored"),
    ("check_tangent_trace_seed_x0_random", constant(tangent_trace, 1.5, 0.5, 1.0, 0.0), "hard-coded-answer"),
    ("check_tangent_trace_any_direction_random", constant(tangent_trace, 1.5, 0.5, 1.0, 0.0), "hard-coded-answer"),
    ("check_tangent_trace_seed_x0_random", numerical("tangent_trace"), "numerical-slope"),
    ("check_tangent_trace_any_direction_random", tangent_with(v2=lambda x0, x1, dx0, dx1, v, t: -math.sin(x0)),
     "chain-rule-no-inner-tangent"),
    ("check_tangent_trace_any_direction_random", tangent_with(v1=lambda x0, x1, dx0, dx1, v, t: x0 * t["v0"]),
     "product-rule-one-term"),
    ("check_f_gradient_x1_random", constant(f_gradient, 1.5, 0.5), "hard-coded-answer"),
    ("check_f_gradient_x0_random", numerical("f_gradient"), "numerical-slope"),
    ("check_f_gradient_x1_random", numerical("f_gradient"), "numerical-slope"),
    ("check_f_gradient_x1_random", pair(x1=v0_bar), "exp-inner-derivative"),
    ("check_f_gradient_x1_random", pair(x1=lambda x0, x1: -x0 / x1 ** 2 * math.exp(x0 / x1)),
     "reused-variable-not-summed"),
]


@pytest.mark.parametrize("name, mistaken, tag", MISTAKES,
                         ids=[f"{n}-{t}-{i}" for i, (n, _, t) in enumerate(MISTAKES)])
def test_check_names_the_mistake(name, mistaken, tag):
    module = visible if hasattr(visible, name) else hidden
    with pytest.raises(CheckFailed) as exc:
        run(module, name, mistaken)
    assert f"Misconception [{tag}]" in str(exc.value), str(exc.value)


def test_every_check_that_compares_numbers_has_a_named_mistake():
    named = {n for n, _, _ in MISTAKES}
    unnamed = [n for n in VISIBLE + HIDDEN if n not in named and "returns_every" not in n]
    assert not unnamed, unnamed


def test_numerical_slopes_pass_the_visible_checks():
    """The visible checks compare with central differences: a numerical gradient passes them, and
    only the hidden checks (exact, at random inputs) tell it from the chain rule."""
    for name in VISIBLE:
        fn = student_of(name)
        if fn in ("backprop_L", "neuron_grads", "adjoints", "f_gradient", "tangent_trace") \
                and "returns_every" not in name:
            run(visible, name, numerical(fn))


# ---------------------------------------------------------------- the references against torch


def t64(*xs: float) -> list[torch.Tensor]:
    return [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]


TORCH = {
    "f_gradient": lambda x0, x1: x0 ** 2 / x1 * torch.cos(x0) + torch.exp(x0 / x1),
    "backprop_L": lambda a, b, c, f: (a * b + c) * f,
    "neuron_grads": lambda x1, x2, w1, w2, b: torch.tanh(x1 * w1 + x2 * w2 + b),
    "adjoints": lambda x0, x1, x2: torch.sin(x0) + x1 * torch.cos(x0) + x1 / x2,
}
EXACT = {"f_gradient": hidden.exact_f_gradient, "backprop_L": hidden.exact_backprop_L,
         "neuron_grads": hidden.exact_neuron_grads, "adjoints": hidden.exact_adjoints}
EXERCISES = {"f_gradient": visible.F_GRADIENT, "backprop_L": visible.BACKPROP_L,
             "neuron_grads": visible.NEURON_GRADS, "adjoints": visible.ADJOINTS}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_exact_derivatives_and_numerical_slopes_agree_with_torch(name):
    ex = EXERCISES[name]
    points = [ex.example] + [p.args for p in hidden.random_points(f"torch {name}", ex)]
    for args in points:
        xs = t64(*args)
        want = dict(zip(ex.graph.inputs, (g.item() for g in torch.autograd.grad(TORCH[name](*xs), xs))))
        exact = EXACT[name](*args)
        for k in ex.graph.inputs:
            if k in exact:
                assert abs(exact[k] - want[k]) <= 1e-12 * (1 + abs(want[k])), (name, args, k)
            assert abs(ex.graph.slope(args, k) - want[k]) <= 1e-8 * (1 + abs(want[k])), (name, args, k)


def test_intermediate_adjoints_agree_with_torch_and_the_graphs_with_the_functions():
    for args in [visible.ADJOINTS.example] + [p.args for p in hidden.random_points("torch y", visible.ADJOINTS)]:
        a, b, c = t64(*args)
        v = {"v0": torch.sin(a), "v1": torch.cos(a)}
        v["v2"] = b * v["v1"]
        v["v3"] = b / c
        v["v4"] = v["v0"] + v["v2"]
        v["v5"] = v["v4"] + v["v3"]
        for t in v.values():
            t.retain_grad()
        v["v5"].backward()
        exact = hidden.exact_adjoints(*args)
        for k, t in v.items():
            assert abs(exact[k] - t.grad.item()) <= 1e-12, k
            assert abs(visible.Y.slope(args, k) - t.grad.item()) <= 1e-8, k
        assert visible.Y.output(visible.Y.evaluate(args)) == pytest.approx(v["v5"].item(), rel=1e-14)
    for x0, x1 in [(1.5, 0.5), (-1.2, -0.7)]:
        assert visible.F.output(visible.F.evaluate((x0, x1))) == pytest.approx(visible.f_value(x0, x1), rel=1e-14)
    assert np.allclose([visible.F.slope((1.5, 0.5), k) for k in ("x0", "x1")],
                       gradient(visible.f_value, [1.5, 0.5]), rtol=1e-12)


def test_tangents_agree_with_torch_forward_mode():
    """The visible checks' numerical tangents and the hidden checks' exact ones are torch's jvp (float64)."""
    ex = visible.TANGENT_TRACE
    points = [ex.example, (1.5, 0.5, 0.0, 1.0)] + [
        p.args for p in hidden.random_points("torch tangents", ex, draw=hidden._direction_args)]
    for args in points:
        (x0, x1), (dx0, dx1) = ex.split(args)

        def trace(a, b):
            v0 = a / b
            v1 = a * v0
            v2 = torch.cos(a)
            v3 = v1 * v2
            v4 = torch.exp(v0)
            return v0, v1, v2, v3, v4, v3 + v4

        _, tangents = torch.autograd.functional.jvp(
            trace, (torch.tensor(x0, dtype=torch.float64), torch.tensor(x1, dtype=torch.float64)),
            (torch.tensor(dx0, dtype=torch.float64), torch.tensor(dx1, dtype=torch.float64)))
        exact = hidden.exact_tangent_trace(*args)
        for k, t in zip(ex.keys, tangents):
            assert abs(exact[k] - t.item()) <= 1e-12 * (1 + abs(t.item())), (args, k)
            assert abs(ex.graph.tangent((x0, x1), (dx0, dx1), k) - t.item()) <= 1e-8 * (1 + abs(t.item())), (args, k)
