"""Notebook 02's hidden checks: the same questions at seeded random inputs, against exact derivatives.

Each check here re-asks one visible check of :mod:`course.checks.chain_rule` at five
seeded random points (``seeded(check name)``, salted when the instructor grades) and
compares with the closed-form derivative to 1e-11 relative, so that

* an answer that equals the visible example's answer at other inputs is named
  ``hard-coded-answer``;
* a gradient computed with central differences (right to about six digits only) is
  named ``numerical-slope``;
* every other known mistake is named as in the visible checks.

The closed forms below are written from the calculus, independently of the graphs the
visible checks evaluate; the project's tests compare them with torch (float64).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

from course.checks.answers import check
from course.checks.chain_rule import (ADJOINTS, BACKPROP_L, F_GRADIENT, FORWARD_PASS, NEURON_GRADS, TANGENT_TRACE,
                                      TRACE, Exercise, Point, judge_gradients, judge_output_is_f, judge_tangents,
                                      judge_values)
from course.checks.expect import seeded

POINTS = 5  #: random points per check

Exact = Callable[..., Mapping[str, float]]


# ---------------------------------------------------------------------------
# Exact answers, from the calculus


def exact_f_gradient(x0: float, x1: float) -> dict[str, float]:
    """df/dx0 = 2 x0 cos(x0) / x1 - x0^2 sin(x0) / x1 + e^(x0/x1) / x1;
    df/dx1 = -x0^2 cos(x0) / x1^2 - x0 e^(x0/x1) / x1^2."""
    e = math.exp(x0 / x1)
    return {"x0": 2 * x0 / x1 * math.cos(x0) - x0 ** 2 / x1 * math.sin(x0) + e / x1,
            "x1": -(x0 ** 2) / x1 ** 2 * math.cos(x0) - x0 / x1 ** 2 * e}


def exact_backprop_L(a: float, b: float, c: float, f: float) -> dict[str, float]:
    """L = (a b + c) f: dL/dd = dL/de = dL/dc = f, dL/df = a b + c, dL/da = f b, dL/db = f a."""
    return {"d": f, "f": a * b + c, "e": f, "c": f, "a": f * b, "b": f * a}


def exact_neuron_grads(x1: float, x2: float, w1: float, w2: float, b: float) -> dict[str, float]:
    """o = tanh(n), n = x1 w1 + x2 w2 + b: do/dn = 1 - tanh(n)^2 for n, s, b, x1w1, x2w2; times the other factor."""
    dn = 1 - math.tanh(x1 * w1 + x2 * w2 + b) ** 2
    return {"n": dn, "s": dn, "b": dn, "x1w1": dn, "x2w2": dn,
            "x1": dn * w1, "w1": dn * x1, "x2": dn * w2, "w2": dn * x2}


def exact_adjoints(x0: float, x1: float, x2: float) -> dict[str, float]:
    """y = sin(x0) + x1 cos(x0) + x1/x2: bar(v1) = x1, the other bar(v) = 1,
    dy/dx0 = cos(x0) - x1 sin(x0), dy/dx1 = cos(x0) + 1/x2, dy/dx2 = -x1/x2^2."""
    return {"v5": 1.0, "v4": 1.0, "v3": 1.0, "v2": 1.0, "v1": x1, "v0": 1.0,
            "x2": -x1 / x2 ** 2, "x1": math.cos(x0) + 1 / x2, "x0": math.cos(x0) - x1 * math.sin(x0)}


def exact_tangent_trace(x0: float, x1: float, dx0: float, dx1: float) -> dict[str, float]:
    """The tangent of each v of f along (dx0, dx1): the total differential of each variable as a
    function of x0 and x1 (v0 = x0/x1, v1 = x0^2/x1, v2 = cos x0, v3 = x0^2 cos(x0)/x1,
    v4 = e^(x0/x1), v5 = f)."""
    dv0 = dx0 / x1 - x0 * dx1 / x1 ** 2
    dv1 = 2 * x0 * dx0 / x1 - x0 ** 2 * dx1 / x1 ** 2
    dv2 = -math.sin(x0) * dx0
    dv3 = (2 * x0 * math.cos(x0) - x0 ** 2 * math.sin(x0)) * dx0 / x1 - x0 ** 2 * math.cos(x0) * dx1 / x1 ** 2
    dv4 = math.exp(x0 / x1) * dv0
    return {"v0": dv0, "v1": dv1, "v2": dv2, "v3": dv3, "v4": dv4, "v5": dv3 + dv4}


# ---------------------------------------------------------------------------
# Random points


def _f_args(rng: np.random.Generator) -> tuple[float, ...]:
    return float(rng.uniform(-2, 2)), float(rng.choice([-1, 1]) * rng.uniform(0.5, 2))


def _l_args(rng: np.random.Generator) -> tuple[float, ...]:
    return tuple(float(v) for v in rng.uniform(-3, 3, size=4))


def _neuron_args(rng: np.random.Generator) -> tuple[float, ...]:
    return tuple(float(v) for v in rng.uniform(-1.5, 1.5, size=5))


def _y_args(rng: np.random.Generator) -> tuple[float, ...]:
    return (float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)),
            float(rng.choice([-1, 1]) * rng.uniform(0.5, 3)))


def _seed_x0_args(rng: np.random.Generator) -> tuple[float, ...]:
    return _f_args(rng) + (1.0, 0.0)


def _direction_args(rng: np.random.Generator) -> tuple[float, ...]:
    return _f_args(rng) + tuple(float(v) for v in rng.uniform(-2, 2, size=2))


DRAW = {"evaluation_trace": _f_args, "f_gradient": _f_args, "backprop_L": _l_args,
        "neuron_grads": _neuron_args, "forward_pass": _y_args, "adjoints": _y_args}


def random_points(name: str, ex: Exercise, exact: Exact | None = None,
                  draw: Callable[[np.random.Generator], tuple[float, ...]] | None = None) -> list[Point]:
    """Five seeded points for check ``name`` (drawn by ``draw``, else the exercise's usual draw); with
    ``exact``, each carries the exact answers and the example's (for the hard-coding hint). Without
    it, the example's answers are the forward values."""
    rng = seeded(name)
    points = []
    for _ in range(POINTS):
        args = (draw or DRAW[ex.name])(rng)
        if exact is None:
            points.append(Point(args, "random inputs", example=ex.graph.evaluate(ex.example)))
        else:
            points.append(Point(args, "random inputs", exact=exact(*args), example=exact(*ex.example)))
    return points


def _gradients(name: str, ex: Exercise, exact: Exact, fn: Callable[..., Any], keys: tuple[str, ...]) -> None:
    for point in random_points(name, ex, exact):
        judge_gradients(ex, fn, point, keys)


# ---------------------------------------------------------------------------
# The hidden checks


@check
def check_evaluation_trace_steps_random(evaluation_trace: Callable[[float, float], dict]) -> None:
    """At random (x0, x1): every v0 ... v6 is its operation on the variables before it (1e-12)."""
    for point in random_points("check_evaluation_trace_steps_random", TRACE):
        judge_values(TRACE, evaluation_trace, point)


@check
def check_evaluation_trace_output_random(evaluation_trace: Callable[[float, float], dict]) -> None:
    """At random (x0, x1): v6 = (x0^2 / x1) cos(x0) + exp(x0 / x1) (1e-12)."""
    for point in random_points("check_evaluation_trace_output_random", TRACE):
        judge_output_is_f(evaluation_trace, point)


@check
def check_backprop_L_times_node_random(backprop_L: Callable[..., dict]) -> None:
    """At random (a, b, c, f): dL/dd = f and dL/df = a b + c exactly."""
    _gradients("check_backprop_L_times_node_random", BACKPROP_L, exact_backprop_L, backprop_L, ("d", "f"))


@check
def check_backprop_L_plus_node_random(backprop_L: Callable[..., dict]) -> None:
    """At random (a, b, c, f): dL/de = dL/dc = f exactly."""
    _gradients("check_backprop_L_plus_node_random", BACKPROP_L, exact_backprop_L, backprop_L, ("e", "c"))


@check
def check_backprop_L_leaves_random(backprop_L: Callable[..., dict]) -> None:
    """At random (a, b, c, f): dL/da = f b and dL/db = f a exactly."""
    _gradients("check_backprop_L_leaves_random", BACKPROP_L, exact_backprop_L, backprop_L, ("a", "b"))


@check
def check_neuron_grads_tanh_random(neuron_grads: Callable[..., dict]) -> None:
    """At random inputs: do/dn = 1 - tanh(n)^2 exactly."""
    _gradients("check_neuron_grads_tanh_random", NEURON_GRADS, exact_neuron_grads, neuron_grads, ("n",))


@check
def check_neuron_grads_plus_nodes_random(neuron_grads: Callable[..., dict]) -> None:
    """At random inputs: do/ds = do/db = do/dx1w1 = do/dx2w2 = 1 - tanh(n)^2 exactly."""
    _gradients("check_neuron_grads_plus_nodes_random", NEURON_GRADS, exact_neuron_grads, neuron_grads,
               ("s", "b", "x1w1", "x2w2"))


@check
def check_neuron_grads_times_nodes_random(neuron_grads: Callable[..., dict]) -> None:
    """At random inputs: do/dx1 = do/dn w1, do/dw1 = do/dn x1, and so on for x2, w2, exactly."""
    _gradients("check_neuron_grads_times_nodes_random", NEURON_GRADS, exact_neuron_grads, neuron_grads,
               ("x1", "w1", "x2", "w2"))


@check
def check_forward_pass_values_random(forward_pass: Callable[[float, float, float], dict]) -> None:
    """At random (x0, x1, x2): every v0 ... v5 is its operation on the variables before it (1e-12)."""
    for point in random_points("check_forward_pass_values_random", FORWARD_PASS):
        judge_values(FORWARD_PASS, forward_pass, point)


@check
def check_adjoints_intermediate_random(adjoints: Callable[[float, float, float], dict]) -> None:
    """At random (x0, x1, x2): bar(v1) = x1 and bar(v5) = bar(v4) = bar(v3) = bar(v2) = bar(v0) = 1 exactly."""
    _gradients("check_adjoints_intermediate_random", ADJOINTS, exact_adjoints, adjoints,
               ("v5", "v4", "v3", "v2", "v1", "v0"))


@check
def check_adjoints_x0_random(adjoints: Callable[[float, float, float], dict]) -> None:
    """At random (x0, x1, x2): bar(x0) = cos(x0) - x1 sin(x0) exactly."""
    _gradients("check_adjoints_x0_random", ADJOINTS, exact_adjoints, adjoints, ("x0",))


@check
def check_adjoints_x1_random(adjoints: Callable[[float, float, float], dict]) -> None:
    """At random (x0, x1, x2): bar(x1) = cos(x0) + 1/x2 exactly."""
    _gradients("check_adjoints_x1_random", ADJOINTS, exact_adjoints, adjoints, ("x1",))


@check
def check_adjoints_x2_random(adjoints: Callable[[float, float, float], dict]) -> None:
    """At random (x0, x1, x2): bar(x2) = -x1/x2^2 exactly."""
    _gradients("check_adjoints_x2_random", ADJOINTS, exact_adjoints, adjoints, ("x2",))


@check
def check_f_gradient_x0_random(f_gradient: Callable[[float, float], tuple]) -> None:
    """At random (x0, x1): df/dx0 = 2 x0 cos(x0)/x1 - x0^2 sin(x0)/x1 + e^(x0/x1)/x1 exactly."""
    _gradients("check_f_gradient_x0_random", F_GRADIENT, exact_f_gradient, f_gradient, ("x0",))


@check
def check_f_gradient_x1_random(f_gradient: Callable[[float, float], tuple]) -> None:
    """At random (x0, x1): df/dx1 = -x0^2 cos(x0)/x1^2 - x0 e^(x0/x1)/x1^2 exactly."""
    _gradients("check_f_gradient_x1_random", F_GRADIENT, exact_f_gradient, f_gradient, ("x1",))


@check
def check_tangent_trace_seed_x0_random(tangent_trace: Callable[[float, float, float, float], dict]) -> None:
    """At random (x0, x1) with seed (1, 0): every tangent is d v/d x0 exactly (v5's is df/dx0)."""
    for point in random_points("check_tangent_trace_seed_x0_random", TANGENT_TRACE, exact_tangent_trace,
                               _seed_x0_args):
        judge_tangents(TANGENT_TRACE, tangent_trace, point)


@check
def check_tangent_trace_any_direction_random(tangent_trace: Callable[[float, float, float, float], dict]) -> None:
    """At random (x0, x1) and a random direction (dx0, dx1): every tangent is dv/dx0 dx0 + dv/dx1 dx1 exactly."""
    for point in random_points("check_tangent_trace_any_direction_random", TANGENT_TRACE, exact_tangent_trace,
                               _direction_args):
        judge_tangents(TANGENT_TRACE, tangent_trace, point)
