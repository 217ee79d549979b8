"""Notebook 02's visible checks: every value and gradient computed by hand is the one the graph gives.

The notebook's exercises evaluate and differentiate four small graphs by hand:

* ``f(x0, x1) = (x0^2 / x1) cos(x0) + exp(x0 / x1)``: ``evaluation_trace`` (v0 ... v6) and
  ``f_gradient`` (df/dx0, df/dx1);
* ``L = (a b + c) f``: ``backprop_L`` (dL/d of every variable);
* the neuron ``o = tanh(x1 w1 + x2 w2 + b)``: ``neuron_grads``;
* ``y = sin(x0) + x1 cos(x0) + x1 / x2``: ``forward_pass`` (v0 ... v5) and ``adjoints``.

What the checks prove, at the example in the text:

* a forward value equals its operation applied to the variables before it, with the rule
  table's forward values (:mod:`course.rules`), to 1e-12 relative;
* a gradient d(out)/dv equals the **numerical slope** of the output in ``v`` (a central
  difference: ``v`` nudged, only what depends on it recomputed), to 1e-6 relative.

The expected gradients here are numerical on purpose: this module is part of the student's
copy of the course and holds no closed-form derivative. The hidden checks
(``course_hidden.chain_rule``) ask the same questions at seeded random inputs and compare
with the exact derivatives to 1e-11, which also tells a gradient computed by central
differences (``numerical-slope``) and a hard-coded example (``hard-coded-answer``) apart.

Known mistakes are predicted numerically from the graph too (:func:`mistakes`): the
contribution of one use of a variable is the slope with only that use nudged, so "one use
dropped", "the cos sign flipped" or "the inner derivative forgotten" are sums and products
of such slopes, named with the tags the class report counts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Callable, Mapping, Optional

from course.diagrams import Step, definition
from course.numeric import central_difference

from .answers import ask, check, fail
from .expect import Known, _kind, array, expect_close, missing_return, number
from .messages import fmt

# ---------------------------------------------------------------------------
# The notebook's graphs, as data


@dataclass(frozen=True)
class Graph:
    """A hand-written expression: its inputs in argument order, its steps, the output's name in the text."""

    inputs: tuple[str, ...]
    steps: tuple[Step, ...]
    out: str  #: what the text calls the output ("f", "L", "o", "y")

    def evaluate(self, args: tuple[float, ...], fixed: Mapping[str, float] | None = None,
                 use: tuple[str, str, float] | None = None) -> dict[str, float]:
        """Every variable's value, one step at a time with the rule table's forward values.

        ``fixed`` holds variables at given values (their own step is not recomputed);
        ``use = (step, name, t)`` makes only ``step`` see ``t`` in place of ``name``.
        """
        vals = dict(zip(self.inputs, map(float, args)))
        vals.update(fixed or {})
        for s in self.steps:
            if s.name in (fixed or {}):
                continue
            xs = [use[2] if use is not None and (s.name, x) == use[:2] else vals[x] for x in s.inputs]
            vals[s.name] = s.rule.value(*xs, **s.params)
        return vals

    def output(self, vals: Mapping[str, float]) -> float:
        return vals[self.steps[-1].name]

    def slope(self, args: tuple[float, ...], name: str) -> float:
        """d(out)/d(name) by a central difference: ``name`` nudged, what depends on it recomputed."""
        at = self.evaluate(args)[name]
        return central_difference(lambda t: self.output(self.evaluate(args, fixed={name: t})), at)

    def use_slope(self, args: tuple[float, ...], step: str, name: str) -> float:
        """The contribution of one use of ``name`` (as an input of ``step``): only that use nudged."""
        at = self.evaluate(args)[name]
        return central_difference(lambda t: self.output(self.evaluate(args, use=(step, name, t))), at)

    def uses(self, name: str) -> list[tuple[Step, int]]:
        """The steps that read ``name``, with the position of ``name`` among their inputs."""
        return [(s, i) for s in self.steps for i, x in enumerate(s.inputs) if x == name]


F = Graph(("x0", "x1"), (
    Step("v0", "div", ("x0", "x1")),  # the shared quotient, used twice
    Step("v1", "mul", ("x0", "v0")),
    Step("v2", "cos", ("x0",)),
    Step("v3", "mul", ("v1", "v2")),
    Step("v4", "exp", ("v0",)),
    Step("v5", "add", ("v3", "v4")),
), "f")
L = Graph(("a", "b", "c", "f"), (
    Step("e", "mul", ("a", "b")),
    Step("d", "add", ("e", "c")),
    Step("L", "mul", ("d", "f")),
), "L")
NEURON = Graph(("x1", "x2", "w1", "w2", "b"), (
    Step("x1w1", "mul", ("x1", "w1")),
    Step("x2w2", "mul", ("x2", "w2")),
    Step("s", "add", ("x1w1", "x2w2")),
    Step("n", "add", ("s", "b")),
    Step("o", "tanh", ("n",)),
), "o")
Y = Graph(("x0", "x1", "x2"), (
    Step("v0", "sin", ("x0",)),
    Step("v1", "cos", ("x0",)),
    Step("v2", "mul", ("x1", "v1")),
    Step("v3", "div", ("x1", "x2")),
    Step("v4", "add", ("v0", "v2")),
    Step("v5", "add", ("v4", "v3")),
), "y")


@dataclass(frozen=True)
class Exercise:
    """One function the student writes: its name, its graph, the example in the text, what it returns."""

    name: str
    graph: Graph
    example: tuple[float, ...]
    keys: tuple[str, ...]  #: the dict's keys (or, for a pair, what each entry is the gradient of)
    pair: bool = False  #: returns a tuple in the order of ``keys`` instead of a dict


TRACE = Exercise("evaluation_trace", F, (1.5, 0.5), tuple(s.name for s in F.steps))
BACKPROP_L = Exercise("backprop_L", L, (2.0, -3.0, 10.0, -2.0), ("d", "f", "e", "c", "a", "b"))
NEURON_GRADS = Exercise("neuron_grads", NEURON, (2.0, 0.0, -3.0, 1.0, 6.8813735870195432),
                        ("n", "s", "b", "x1w1", "x2w2", "x1", "w1", "x2", "w2"))
FORWARD_PASS = Exercise("forward_pass", Y, (1.0, 2.0, 4.0), tuple(s.name for s in Y.steps))
ADJOINTS = Exercise("adjoints", Y, (1.0, 2.0, 4.0), ("v5", "v4", "v3", "v2", "v1", "v0", "x2", "x1", "x0"))
F_GRADIENT = Exercise("f_gradient", F, (1.5, 0.5), ("x0", "x1"), pair=True)


@dataclass(frozen=True)
class Point:
    """Where a check asks: the inputs and, for the hidden checks, the exact answers and the example's."""

    args: tuple[float, ...]
    label: str = "the example"
    exact: Optional[Mapping[str, float]] = None  #: exact expected values (hidden checks)
    example: Optional[Mapping[str, float]] = None  #: the right answers at the visible example (hidden checks)


# ---------------------------------------------------------------------------
# Known mistakes, predicted from the graph

SLOPE_HINT = ("this matches a numerical slope to about six digits but not the exact derivative: "
              "use the chain rule, not central differences")
HARD_CODED_HINT = "this is the example's number whatever the inputs: compute it from the function's arguments"
EXACT_TOL, SLOPE_TOL, VALUE_TOL = 1e-11, 1e-6, 1e-12  #: relative: times (1 + |expected|)


def mistakes(graph: Graph, args: tuple[float, ...], name: str) -> list[tuple[str, float, str]]:
    """The gradient d(out)/d(name) that each known mistake would give, as ``(tag, value, hint)``.

    With ``c_j`` the contribution of the j-th use of ``name`` and ``g`` the gradient arriving
    at that use's node: one use dropped (or overwritten by ``=``) gives a partial sum of the
    ``c_j``; a plus node that splits gives ``g/2``; a times node that does not swap gives
    ``g * name``; a local derivative alone gives 1 or the other factor; a flipped sign of
    ``cos`` or of ``d(a/b)/db`` gives ``-c_j``; ``-a/b`` for ``-a/b^2`` gives ``c_j * b``;
    tanh's rule on the input or without the square gives ``g (1 - n^2)`` or ``g (1 - o)``;
    the chain stopped before a node that feeds ``exp`` gives ``g`` for ``c_j``.
    """
    vals = graph.evaluate(args)
    uses = graph.uses(name)
    parts = [graph.use_slope(args, s.name, name) for s, _ in uses]
    total = sum(parts)
    d = f"d{graph.out}/d"
    found: list[tuple[str, float, str]] = []
    if len(uses) > 1:
        nodes = ", ".join(s.name for s, _ in uses)
        text = (f"{name} is used {len(uses)} times (in {nodes}): its gradient is the SUM of one contribution "
                "per use (+= where = would overwrite one)")
        for r in range(1, len(uses)):
            found += [("reused-variable-not-summed", sum(parts[j] for j in part), text)
                      for part in combinations(range(len(uses)), r)]
    denominators = [j for j, (s, i) in enumerate(uses) if s.op == "div" and i == 1]
    if len(denominators) > 1:
        found.append(("division-derivative-sign", total - 2 * sum(parts[j] for j in denominators),
                      f"d(a/b)/db = -a/b^2: every quotient with {name} below the line falls as {name} grows"))
    for shared in shared_upstream(graph, args, name):
        found += shared
    for (s, i), part in zip(uses, parts):
        up, rest = graph.slope(args, s.name), total - part
        if s.op == "add":
            found += [(("plus-node-splits-gradient", rest + up / k,
                        "a plus node does not split the gradient: each input receives ALL of it")) for k in (2, 4)]
            found.append(("chain-rule-no-upstream", rest + 1.0,
                          f"1 is only the plus node's LOCAL derivative: multiply it by the gradient arriving "
                          f"from above, {d}{s.name}"))
        elif s.op == "mul":
            other = s.inputs[1 - i]
            found.append(("times-node-no-swap", rest + up * vals[name],
                          f"a times node swaps its inputs: d{s.name}/d{name} is the OTHER factor, {other}, "
                          f"not {name} itself"))
            found.append(("chain-rule-no-upstream", rest + vals[other],
                          f"{other} is only the local derivative d{s.name}/d{name}: multiply it by the "
                          f"gradient arriving from above, {d}{s.name}"))
        elif s.op == "cos":
            found.append(("cos-derivative-sign", rest - part,
                          "d cos(a)/da = -sin(a): check the sign of the cos contribution"))
        elif s.op == "div" and i == 1:
            found.append(("division-derivative-sign", rest - part,
                          "d(a/b)/db = -a/b^2: the quotient falls as its denominator grows"))
            found.append(("division-derivative-no-square", rest + part * vals[name],
                          "d(a/b)/db = -a/b^2: the denominator is squared"))
        elif s.op == "tanh":
            found.append(("tanh-derivative-of-input", rest + up * (1 - vals[name] ** 2),
                          f"1 - {name}^2 squares the INPUT of tanh: the rule is 1 - tanh({name})^2 = 1 - {s.name}^2"))
            found.append(("tanh-derivative-not-squared", rest + up * (1 - vals[s.name]),
                          f"1 - {s.name} forgets the square: d{s.name}/d{name} = 1 - {s.name}^2"))
        if any(t.op == "exp" and s.name in t.inputs for t in graph.steps):
            found.append(("exp-inner-derivative", rest + up,
                          f"the exp is exp of {definition(s)}: the chain continues "
                          f"through {s.name}, times d{s.name}/d{name}"))
    return found


def shared_upstream(graph: Graph, args: tuple[float, ...], name: str) -> list[list[tuple[str, float, str]]]:
    """For each variable ``u`` that depends on ``name`` and is used more than once: the gradient of
    ``name`` when one use of ``u`` is dropped from u's adjoint (``(all) - c_j(u) du/d(name)``)."""
    vals = graph.evaluate(args)
    total = graph.slope(args, name)
    found = []
    for u in (s.name for s in graph.steps):
        uses = graph.uses(u)
        if u == name or len(uses) < 2:
            continue
        du = central_difference(lambda t: graph.evaluate(args, fixed={name: t})[u], vals[name])
        if du == 0:
            continue
        nodes = ", ".join(s.name for s, _ in uses)
        text = (f"{u} is used {len(uses)} times (in {nodes}): its gradient is the SUM of one contribution per "
                f"use, complete before it passes on to {name}")
        found.append([("reused-variable-not-summed", total - graph.use_slope(args, s.name, u) * du, text)
                      for s, _ in uses])
    return found


def wrong_inputs(graph: Graph, vals: Mapping[str, float], name: str) -> list[tuple[str, float, str]]:
    """The value of step ``name`` with one of its inputs replaced by another variable defined before it."""
    step = next(s for s in graph.steps if s.name == name)
    before = list(graph.inputs) + [s.name for s in graph.steps[:graph.steps.index(step)]]
    found = []
    for i, x in enumerate(step.inputs):
        for other in before:
            if other != x:
                xs = [vals[other] if j == i else vals[y] for j, y in enumerate(step.inputs)]
                found.append(("wrong-input-variable", step.rule.value(*xs, **step.params),
                              f"{definition(step)}: this is what it gives with {other} "
                              f"in place of {x}"))
    return found


# ---------------------------------------------------------------------------
# Asking and judging (shared with the hidden checks)


def call_text(ex: Exercise, args: tuple[float, ...]) -> str:
    """``backprop_L(2, -3, 10, -2)``: the call as the student would write it."""
    return f"{ex.name}({', '.join(fmt(a) for a in args)})"


def answers(ex: Exercise, fn: Callable[..., Any], args: tuple[float, ...]) -> dict[str, float]:
    """Ask ``fn(*args)`` and return what it returned as ``{key: float}``, or fail saying what is wrong."""
    what = call_text(ex, args)
    got = ask(what, fn, *args)
    if ex.pair:
        arr = array(what, got, shape=(len(ex.keys),), returns=f"the pair ({', '.join('df/d' + k for k in ex.keys)})")
        return {k: float(v) for k, v in zip(ex.keys, arr)}
    if got is None:
        fail(f"{what} returned None", expected=f"a dict with keys {', '.join(ex.keys)}",
             hint=missing_return(ex.name, "its dict"))
    if not isinstance(got, dict):
        fail(f"{what} must return a dict", expected=f"a dict with keys {', '.join(ex.keys)}", got=_kind(got))
    missing = [k for k in ex.keys if k not in got]
    if missing:
        fail(f"{what} returns a dict with keys {', '.join(ex.keys)}", got=sorted(got),
             hint=f"missing: {missing}")
    return {k: number(f"{what}['{k}']", got[k]) for k in ex.keys}


def inputs_of(ex: Exercise, point: Point) -> dict[str, float]:
    return dict(zip(ex.graph.inputs, point.args))


def judge_values(ex: Exercise, fn: Callable[..., Any], point: Point) -> None:
    """Each forward value ``fn(*args)[k]`` equals step ``k`` of the graph (rule-table values), to 1e-12."""
    got = answers(ex, fn, point.args)
    want = ex.graph.evaluate(point.args)
    for k in ex.keys:
        mixups = [("variable-mixup", want[j], f"this is the value of {j}: store each variable under its own "
                   "name, computed from the ones before it") for j in ex.keys if j != k]
        mixups += wrong_inputs(ex.graph, want, k)
        hard = [("hard-coded-answer", point.example[k], HARD_CODED_HINT)] if point.example else []
        expect_close(f"{call_text(ex, point.args)}['{k}'], {point.label}", got[k], want[k],
                     tol=VALUE_TOL * (1 + abs(want[k])), inputs=inputs_of(ex, point), known=mixups + hard,
                     hint=["compute the variables in the order of the table, each from the ones before it"])


def judge_gradients(ex: Exercise, fn: Callable[..., Any], point: Point, keys: tuple[str, ...]) -> None:
    """Each gradient ``fn(*args)[k]`` = d(out)/dk: the numerical slope to 1e-6, or ``point.exact[k]`` to 1e-11."""
    got = answers(ex, fn, point.args)
    label = f"d{ex.graph.out}/d"
    for k in keys:
        slope = ex.graph.slope(point.args, k)
        exact = point.exact is not None
        want = float(point.exact[k]) if point.exact is not None else slope
        tol = (EXACT_TOL if exact else SLOPE_TOL) * (1 + abs(want))
        known: Known = mistakes(ex.graph, point.args, k)
        if point.example is not None:
            known += [("hard-coded-answer", point.example[k], HARD_CODED_HINT)]
        if exact:
            known += [("numerical-slope", slope, SLOPE_HINT)]
        expect_close(f"{call_text(ex, point.args)}['{k}'] = {label}{k}, {point.label} "
                     f"(expected: {'exact' if exact else 'numerical slope'})",
                     got[k], want, tol=tol, inputs=inputs_of(ex, point), known=known)


def f_value(x0: float, x1: float) -> float:
    """f(x0, x1) = (x0^2 / x1) cos(x0) + exp(x0 / x1), as the text writes it."""
    return x0 ** 2 / x1 * math.cos(x0) + math.exp(x0 / x1)


def judge_output_is_f(fn: Callable[..., Any], point: Point) -> None:
    """``evaluation_trace(x0, x1)`` ends in f(x0, x1) written in one line, to 1e-12 relative."""
    got = answers(TRACE, fn, point.args)
    last = F.steps[-1]
    want = f_value(*point.args)
    vals = F.evaluate(point.args)
    known = [("variable-mixup", vals[j], f"this is {j}, not f: {definition(last)} is the output")
             for j in last.inputs]
    if point.example is not None:
        known.append(("hard-coded-answer", point.example[last.name], HARD_CODED_HINT))
    expect_close(f"{call_text(TRACE, point.args)}['{last.name}'] equals f(x0, x1), {point.label}", got[last.name],
                 want, tol=VALUE_TOL * (1 + abs(want)), inputs=inputs_of(TRACE, point), known=known)


def expect_keys(ex: Exercise, fn: Callable[..., Any]) -> None:
    """``fn`` at the example returns a number for every key it must return."""
    answers(ex, fn, ex.example)


# ---------------------------------------------------------------------------
# The checks the test cells call


@check
def check_evaluation_trace_steps(evaluation_trace: Callable[[float, float], dict]) -> None:
    """evaluation_trace(1.5, 0.5) returns v0 ... v5, each its operation on the variables before it (1e-12)."""
    judge_values(TRACE, evaluation_trace, Point(TRACE.example))


@check
def check_evaluation_trace_output_is_f(evaluation_trace: Callable[[float, float], dict]) -> None:
    """evaluation_trace(1.5, 0.5)['v5'] = f(1.5, 0.5) = 4.5 cos(1.5) + e^3 (1e-12 relative)."""
    judge_output_is_f(evaluation_trace, Point(TRACE.example))


@check
def check_backprop_L_returns_every_gradient(backprop_L: Callable[..., dict]) -> None:
    """backprop_L(2, -3, 10, -2) returns a number for each of d, f, e, c, a, b."""
    expect_keys(BACKPROP_L, backprop_L)


@check
def check_backprop_L_times_node(backprop_L: Callable[..., dict]) -> None:
    """At L = d f (the example): dL/dd and dL/df are the slopes of L in d and in f (a times node swaps)."""
    judge_gradients(BACKPROP_L, backprop_L, Point(BACKPROP_L.example), ("d", "f"))


@check
def check_backprop_L_plus_node(backprop_L: Callable[..., dict]) -> None:
    """At d = e + c (the example): dL/de and dL/dc are the slopes of L in e and c (the whole dL/dd each)."""
    judge_gradients(BACKPROP_L, backprop_L, Point(BACKPROP_L.example), ("e", "c"))


@check
def check_backprop_L_leaves(backprop_L: Callable[..., dict]) -> None:
    """At e = a b (the example): dL/da and dL/db are the slopes of L in a and b (dL/de times the other input)."""
    judge_gradients(BACKPROP_L, backprop_L, Point(BACKPROP_L.example), ("a", "b"))


@check
def check_neuron_grads_returns_every_gradient(neuron_grads: Callable[..., dict]) -> None:
    """neuron_grads at the example returns a number for each of n, s, b, x1w1, x2w2, x1, w1, x2, w2."""
    expect_keys(NEURON_GRADS, neuron_grads)


@check
def check_neuron_grads_tanh(neuron_grads: Callable[..., dict]) -> None:
    """do/dn at the example is the slope of tanh at n (1 - o^2 = 0.5)."""
    judge_gradients(NEURON_GRADS, neuron_grads, Point(NEURON_GRADS.example), ("n",))


@check
def check_neuron_grads_plus_nodes(neuron_grads: Callable[..., dict]) -> None:
    """do/ds, do/db, do/dx1w1, do/dx2w2 at the example are the slopes of o in each (all equal to do/dn)."""
    judge_gradients(NEURON_GRADS, neuron_grads, Point(NEURON_GRADS.example), ("s", "b", "x1w1", "x2w2"))


@check
def check_neuron_grads_times_nodes(neuron_grads: Callable[..., dict]) -> None:
    """do/dx1, do/dw1, do/dx2, do/dw2 at the example are the slopes of o in each (do/dn times the other factor)."""
    judge_gradients(NEURON_GRADS, neuron_grads, Point(NEURON_GRADS.example), ("x1", "w1", "x2", "w2"))


@check
def check_forward_pass_values(forward_pass: Callable[[float, float, float], dict]) -> None:
    """forward_pass(1, 2, 4) returns v0 ... v5, each its operation on the variables before it (1e-12)."""
    judge_values(FORWARD_PASS, forward_pass, Point(FORWARD_PASS.example))


@check
def check_adjoints_returns_every_adjoint(adjoints: Callable[[float, float, float], dict]) -> None:
    """adjoints(1, 2, 4) returns a number for each of v5 ... v0, x2, x1, x0."""
    expect_keys(ADJOINTS, adjoints)


@check
def check_adjoints_intermediate(adjoints: Callable[[float, float, float], dict]) -> None:
    """bar(v5) ... bar(v0) at (1, 2, 4) are the slopes of y in each intermediate variable."""
    judge_gradients(ADJOINTS, adjoints, Point(ADJOINTS.example), ("v5", "v4", "v3", "v2", "v1", "v0"))


@check
def check_adjoints_x0_sums_two_uses(adjoints: Callable[[float, float, float], dict]) -> None:
    """bar(x0) at (1, 2, 4) is the slope of y in x0: the sum of its contributions through sin and cos."""
    judge_gradients(ADJOINTS, adjoints, Point(ADJOINTS.example), ("x0",))


@check
def check_adjoints_x1_sums_two_uses(adjoints: Callable[[float, float, float], dict]) -> None:
    """bar(x1) at (1, 2, 4) is the slope of y in x1: the sum of its contributions through v2 and v3."""
    judge_gradients(ADJOINTS, adjoints, Point(ADJOINTS.example), ("x1",))


@check
def check_adjoints_x2_division(adjoints: Callable[[float, float, float], dict]) -> None:
    """bar(x2) at (1, 2, 4) is the slope of y in x2, through the quotient v3 = x1 / x2."""
    judge_gradients(ADJOINTS, adjoints, Point(ADJOINTS.example), ("x2",))


@check
def check_f_gradient_x0(f_gradient: Callable[[float, float], tuple]) -> None:
    """f_gradient(1.5, 0.5)[0] is the slope of f in x0: the sum of three contributions (v0, v1, v2)."""
    judge_gradients(F_GRADIENT, f_gradient, Point(F_GRADIENT.example), ("x0",))


@check
def check_f_gradient_x1(f_gradient: Callable[[float, float], tuple]) -> None:
    """f_gradient(1.5, 0.5)[1] is the slope of f in x1, through the shared v0 = x0 / x1 (two contributions)."""
    judge_gradients(F_GRADIENT, f_gradient, Point(F_GRADIENT.example), ("x1",))
