"""Notebook 02's visible checks: every value and gradient computed by hand is the one the graph gives.

The notebook's exercises evaluate and differentiate four small graphs by hand:

* ``f(x0, x1) = (x0^2 / x1) cos(x0) + exp(x0 / x1)``, with the quotient ``v0 = x0 / x1`` one node
  used twice: ``evaluation_trace`` (v0 ... v5), ``f_gradient`` (df/dx0, df/dx1) and
  ``tangent_trace`` (forward mode: the tangent of every v along a direction of the inputs);
* ``L = (a b + c) f``: ``backprop_L`` (dL/d of every variable);
* the neuron ``o = tanh(x1 w1 + x2 w2 + b)``: ``neuron_grads``;
* ``y = sin(x0) + x1 cos(x0) + x1 / x2``: ``forward_pass`` (v0 ... v5) and ``adjoints``.

What the checks prove, at the example in the text:

* a forward value equals its operation applied to the variables before it, with the rule
  table's forward values (:mod:`course.rules`), to 1e-12 relative;
* a gradient d(out)/dv equals the **numerical slope** of the output in ``v`` (a central
  difference: ``v`` nudged, only what depends on it recomputed), to 1e-6 relative;
* a tangent equals the numerical slope of that variable as the inputs move along the given
  direction, to 1e-6 relative.

The expected gradients here are numerical on purpose: this module is part of the student's
copy of the course and holds no closed-form derivative. The hidden checks
(``course_hidden.chain_rule``) ask the same questions at seeded random inputs and compare
with the exact derivatives to 1e-11, which also tells a gradient computed by central
differences (``numerical-slope``) and a hard-coded example (``hard-coded-answer``) apart.

Known mistakes are predicted numerically from the graph too (:mod:`course.checks.chain_rule_graphs`):
the contribution of one use of a variable is the slope with only that use nudged, so "one use
dropped", "the cos sign flipped" or "the inner derivative forgotten" are sums and products
of such slopes, named with the tags the class report counts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from course.diagrams import definition

from .answers import ask, check, fail
from .expect import Known, kind_of, array, expect_close, missing_return, number
from .chain_rule_graphs import F, L, NEURON, Y, Graph, mistakes, tangent_mistakes, wrong_inputs
from .messages import fmt

@dataclass(frozen=True)
class Exercise:
    """One function the student writes: its name, its graph, the example in the text, what it returns."""

    name: str
    graph: Graph
    example: tuple[float, ...]
    keys: tuple[str, ...]  #: the dict's keys (or, for a pair, what each entry is the gradient of)
    pair: bool = False  #: returns a tuple in the order of ``keys`` instead of a dict
    tangents: bool = False  #: its arguments end with one tangent per input (dx0, dx1, ...)

    def split(self, args: tuple[float, ...]) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The graph's inputs and (for a tangent exercise) the direction they move in."""
        n = len(self.graph.inputs)
        return tuple(args[:n]), tuple(args[n:])


TRACE = Exercise("evaluation_trace", F, (1.5, 0.5), tuple(s.name for s in F.steps))
BACKPROP_L = Exercise("backprop_L", L, (2.0, -3.0, 10.0, -2.0), ("d", "f", "e", "c", "a", "b"))
NEURON_GRADS = Exercise("neuron_grads", NEURON, (2.0, 0.0, -3.0, 1.0, 6.8813735870195432),
                        ("n", "s", "b", "x1w1", "x2w2", "x1", "w1", "x2", "w2"))
FORWARD_PASS = Exercise("forward_pass", Y, (1.0, 2.0, 4.0), tuple(s.name for s in Y.steps))
ADJOINTS = Exercise("adjoints", Y, (1.0, 2.0, 4.0), ("v5", "v4", "v3", "v2", "v1", "v0", "x2", "x1", "x0"))
F_GRADIENT = Exercise("f_gradient", F, (1.5, 0.5), ("x0", "x1"), pair=True)
TANGENT_TRACE = Exercise("tangent_trace", F, (1.5, 0.5, 1.0, 0.0), tuple(s.name for s in F.steps), tangents=True)


@dataclass(frozen=True)
class Point:
    """Where a check asks: the inputs and, for the hidden checks, the exact answers and the example's."""

    args: tuple[float, ...]
    label: str = "the example"
    exact: Optional[Mapping[str, float]] = None  #: exact expected values (hidden checks)
    example: Optional[Mapping[str, float]] = None  #: the right answers at the visible example (hidden checks)


# ---------------------------------------------------------------------------
# Asking and judging (shared with the hidden checks)

SLOPE_HINT = ("this matches a numerical slope to about six digits but not the exact derivative: "
              "use the chain rule, not central differences")
HARD_CODED_HINT = "this is the example's number whatever the inputs: compute it from the function's arguments"
EXACT_TOL, SLOPE_TOL, VALUE_TOL = 1e-11, 1e-6, 1e-12  #: relative: times (1 + |expected|)


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
        fail(f"{what} must return a dict", expected=f"a dict with keys {', '.join(ex.keys)}", got=kind_of(got))
    missing = [k for k in ex.keys if k not in got]
    if missing:
        fail(f"{what} returns a dict with keys {', '.join(ex.keys)}", got=sorted(got),
             hint=f"missing: {missing}")
    return {k: number(f"{what}['{k}']", got[k]) for k in ex.keys}


def inputs_of(ex: Exercise, point: Point) -> dict[str, float]:
    """The point's arguments by name, as the function's signature has them."""
    names = ex.graph.inputs + (tuple("d" + x for x in ex.graph.inputs) if ex.tangents else ())
    return dict(zip(names, point.args))


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


def expect_derivative(ex: Exercise, point: Point, key: str, what: str, got: float, numerical: float,
                      known: Known) -> None:
    """``got`` is the numerical derivative to 1e-6 or, at a hidden point, the exact one to 1e-11; a
    failure names the matching known mistakes, a hard-coded example and a numerical slope."""
    exact = point.exact is not None
    want = float(point.exact[key]) if point.exact is not None else numerical
    tol = (EXACT_TOL if exact else SLOPE_TOL) * (1 + abs(want))
    known = list(known)
    if point.example is not None:
        known.append(("hard-coded-answer", point.example[key], HARD_CODED_HINT))
    if exact:
        known.append(("numerical-slope", numerical, SLOPE_HINT))
    expect_close(f"{call_text(ex, point.args)}['{key}'] = {what}, {point.label} "
                 f"(expected: {'exact' if exact else 'numerical slope'})",
                 got, want, tol=tol, inputs=inputs_of(ex, point), known=known)


def judge_gradients(ex: Exercise, fn: Callable[..., Any], point: Point, keys: tuple[str, ...]) -> None:
    """Each gradient ``fn(*args)[k]`` = d(out)/dk: the numerical slope to 1e-6, or ``point.exact[k]`` to 1e-11."""
    got = answers(ex, fn, point.args)
    for k in keys:
        expect_derivative(ex, point, k, f"d{ex.graph.out}/d{k}", got[k], ex.graph.slope(point.args, k),
                          mistakes(ex.graph, point.args, k))


def judge_tangents(ex: Exercise, fn: Callable[..., Any], point: Point) -> None:
    """Each tangent ``fn(*inputs, *direction)[k]`` = dk/dt as the inputs move along the direction."""
    got = answers(ex, fn, point.args)
    args, direction = ex.split(point.args)
    for k in ex.keys:
        expect_derivative(ex, point, k, f"tangent of {k}", got[k], ex.graph.tangent(args, direction, k),
                          tangent_mistakes(ex.graph, args, direction, k))


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


@check
def check_tangent_trace_seed_x0(tangent_trace: Callable[[float, float, float, float], dict]) -> None:
    """tangent_trace(1.5, 0.5, 1, 0): every tangent is the slope of that variable in x0; v5's is df/dx0."""
    judge_tangents(TANGENT_TRACE, tangent_trace, Point(TANGENT_TRACE.example))


@check
def check_tangent_trace_seed_x1(tangent_trace: Callable[[float, float, float, float], dict]) -> None:
    """tangent_trace(1.5, 0.5, 0, 1): every tangent is the slope of that variable in x1; v5's is df/dx1."""
    judge_tangents(TANGENT_TRACE, tangent_trace, Point((1.5, 0.5, 0.0, 1.0), "the example with dx0 = 0, dx1 = 1"))
