"""Checks of notebook 04 (forward and reverse mode).

What they prove about the student's code:

* ``Dual``: constants carry tangent 0, the product, quotient, power and reflected
  rules, the chain rule's inner factor in ``sin``/``cos``/``exp``/``log``/``tanh``, and
  agreement with the course's rule table;
* ``jvp``: one forward pass seeded with the direction ``v`` gives ``J v``;
* ``backward``: one reverse sweep over a tape gives every adjoint (last entry first,
  accumulated with ``+=``, each contribution times the adjoint of the entry's output);
* ``vjp``: one recording and one sweep give ``u^T J``;
* ``MatVec.backward`` and ``Tanh.backward``: the vector-Jacobian products of ``W x``
  and ``tanh z``, alone and composed into one and two layers.

Every expected value comes from a closed form written here (the project's tests check
each one against torch float64 and central differences), from torch float64, or from
the rule table :mod:`course.rules`; never from :mod:`course.dual`,
:mod:`course.tape`, :mod:`course.reverse` or :mod:`course.matrix_ops`. The tapes handed to the
student's ``backward`` are built by the checks (:class:`CheckTape`: values and entries, no sweep).

This module holds the checks the notebook's test cells import, with the inputs of the visible
tests; how each exercise is asked and judged is in :mod:`.forward_reverse_dual` (exercises 1-2),
:mod:`.forward_reverse_tape` (3-4) and :mod:`.forward_reverse_matrix` (5), what they share in
:mod:`.forward_reverse_common`.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .answers import check
from .expect import expect_close
from .forward_reverse_common import TOL, call, course_f, grad_f, value_f
from .forward_reverse_dual import (CONSTANT_SEEDED, EVERY_INPUT_SEEDED, ask_dual, ask_jvp, expect_dual,
                                   expect_functions, expect_jvp_direction, expect_rule_table, power_known,
                                   product_known, quotient_known, seeding_known, swapped)
from .forward_reverse_matrix import expect_layers, expect_matvec, expect_tanh
from .forward_reverse_tape import (ASSIGNED, NOT_MULTIPLIED, SWEPT_FORWARDS, CheckTape, ask_adjoints, ask_vjp,
                                   expect_vjp_h3)


# ---------------------------------------------------------------------------
# Exercise 1: dual numbers


# (expression, value, tangent, tangent if the constant were seeded with 1) at x = Dual(3, 1)
CONSTANT_CASES = [("x + 2", lambda D: D(3.0, 1.0) + 2, 5.0, 1.0, 2.0),
                  ("2 + x", lambda D: 2 + D(3.0, 1.0), 5.0, 1.0, 2.0),
                  ("x - 4", lambda D: D(3.0, 1.0) - 4, -1.0, 1.0, 0.0),
                  ("x * 5", lambda D: D(3.0, 1.0) * 5, 15.0, 5.0, 8.0),
                  ("5 * x", lambda D: 5 * D(3.0, 1.0), 15.0, 5.0, 8.0)]


@check
def check_dual_constants(Dual: type) -> None:
    """x = Dual(3, 1): x + 2, 2 + x, x - 4 have tangent 1, x * 5 and 5 * x tangent 5 (a constant has tangent 0)."""
    for name, make, value, tangent, seeded_one in CONSTANT_CASES:
        got = ask_dual(f"{name} with x = Dual(3.0, 1.0)", lambda make=make: make(Dual))
        expect_dual(f"{name} with x = Dual(3.0, 1.0)", got, value, tangent,
                    known=[("constant-seeded-one", seeded_one, CONSTANT_SEEDED)])


def _square(x: Any) -> Any:
    """x * x: one Dual used twice."""
    return x * x


# (expression, a, da, b, db): x = Dual(3, 1) seeded, y = Dual(4, 0) another input, p, q both moving
PRODUCT_CASES = [("x * x", 3.0, 1.0, 3.0, 1.0), ("x * y", 3.0, 1.0, 4.0, 0.0), ("y * x", 4.0, 0.0, 3.0, 1.0),
                 ("p * q", 2.0, 0.5, -1.5, 2.0)]


@check
def check_dual_product_rule(Dual: type) -> None:
    """The tangent of a * b is da·b + a·db: x * x = 6, x * y = y * x = 4 at x = Dual(3, 1), y = Dual(4, 0)."""
    inputs = "x = Dual(3, 1), y = Dual(4, 0), p = Dual(2, 0.5), q = Dual(-1.5, 2)"
    for name, a, ta, b, tb in PRODUCT_CASES:
        got = ask_dual(f"{name} with {inputs}", lambda a=a, ta=ta, b=b, tb=tb, same=name == "x * x":
                       _square(Dual(a, ta)) if same else Dual(a, ta) * Dual(b, tb))
        expect_dual(f"{name} with {inputs}", got, a * b, ta * b + a * tb, known=product_known(a, ta, b, tb))


@check
def check_dual_quotient_and_reflected(Dual: type) -> None:
    """At x = Dual(2, 1), y = Dual(4, 0): x/y = (0.5, 0.25), y/x = (2, -1), 2 - x = (0, -1), 2/x = (1, -0.5), -x = (-2, -1)."""
    inputs = "x = Dual(2, 1), y = Dual(4, 0)"
    cases = [("x / y", lambda: Dual(2.0, 1.0) / Dual(4.0, 0.0), (0.5, 0.25), quotient_known(2.0, 1.0, 4.0, 0.0)),
             ("y / x", lambda: Dual(4.0, 0.0) / Dual(2.0, 1.0), (2.0, -1.0), quotient_known(4.0, 0.0, 2.0, 1.0)),
             ("2 - x", lambda: 2 - Dual(2.0, 1.0), (0.0, -1.0),
              [("reflected-operands-swapped", 1.0, swapped("2 - x"))]),
             ("2 / x", lambda: 2 / Dual(2.0, 1.0), (1.0, -0.5),
              [("reflected-operands-swapped", 0.5, swapped("2 / x"))] + quotient_known(2.0, 0.0, 2.0, 1.0)),
             ("-x", lambda: -Dual(2.0, 1.0), (-2.0, -1.0),
              [("negation-tangent-kept", 1.0, "-x changes the sign of the tangent too: d(-a) = -da")])]
    for name, make, (value, tangent), known in cases:
        got = ask_dual(f"{name} with {inputs}", make)
        expect_dual(f"{name} with {inputs}", got, value, tangent, known=known)


@check
def check_dual_power(Dual: type) -> None:
    """x ** k at x = Dual(2, 1.5) has tangent k 2^(k-1) 1.5, for k = 3, 0.5 and -1 (the power rule)."""
    for k in (3, 0.5, -1):
        got = ask_dual(f"x ** {k} with x = Dual(2, 1.5)", lambda k=k: Dual(2.0, 1.5) ** k)
        expect_dual(f"x ** {k} with x = Dual(2, 1.5)", got, 2.0 ** k, k * 2.0 ** (k - 1) * 1.5,
                    known=power_known(2.0, 1.5, k))


@check
def check_dual_chain_rule(Dual: type) -> None:
    """sin, cos, exp, log, tanh of u = 3x at x = Dual(0.7, 1): each tangent is g'(2.1) times du = 3."""
    expect_functions(Dual, lambda: 3 * Dual(0.7, 1.0), "3x) with x = Dual(0.7, 1", 2.1, 3.0)


@check
def check_dual_matches_rule_table(Dual: type) -> None:
    """sin, cos, exp, log, tanh of Dual(1.3, 1): values and tangents as the rule table course.rules gives them."""
    expect_rule_table(Dual, 1.3, 1.0)


# ---------------------------------------------------------------------------
# Exercise 2: jvp


@check
def check_jvp_partial_x0(jvp: Callable) -> None:
    """jvp(f, [1.5, 2], [1, 0]) is (f(1.5, 2), df/dx0(1.5, 2)) for f = (x0²/x1) cos x0 + exp(x0/x1)."""
    what = "jvp(f, [1.5, 2.0], [1.0, 0.0])"
    value, tangent = ask_jvp(what, jvp, course_f, [1.5, 2.0], [1.0, 0.0])
    grad = grad_f(1.5, 2.0)
    expect_close(f"the value returned by {what}", value, value_f(1.5, 2.0), tol=TOL)
    expect_close(f"df/dx0 = {what}[1]", tangent, grad[0], tol=1e-10, known=seeding_known(grad))


@check
def check_jvp_vector_output(jvp: Callable) -> None:
    """For g(a, b) = [a*b, sin(a) + b, 7] at (0.5, 2) and v = (1, -1): J v = [1.5, cos(0.5) - 1, 0]."""
    what = "jvp(g, [0.5, 2.0], [1.0, -1.0]) with g(a, b) = [a*b, sin(a) + b, 7.0]"
    g = lambda a, b: [a * b, call("sin", a) + b, 7.0]  # noqa: E731
    value, tangent = ask_jvp(what, jvp, g, [0.5, 2.0], [1.0, -1.0], outputs=3)
    J = np.array([[2.0, 0.5], [math.cos(0.5), 1.0], [0.0, 0.0]])
    expect_close(f"the values returned by {what}", value, [1.0, math.sin(0.5) + 2.0, 7.0], tol=TOL)
    expect_close(f"J v returned by {what}", tangent, J @ [1.0, -1.0], tol=TOL,
                 known=[("every-input-seeded", J @ [1.0, 1.0], EVERY_INPUT_SEEDED)])


@check
def check_jvp_direction(jvp: Callable) -> None:
    """jvp(f, [0.8, 1.7], [0.3, -0.7]) gives the directional derivative grad f · v in one pass."""
    what = "jvp(f, [0.8, 1.7], [0.3, -0.7])"
    expect_jvp_direction(jvp, what, [0.8, 1.7], [0.3, -0.7])


# ---------------------------------------------------------------------------
# Exercise 3: the backward sweep, on tapes the checks build


@check
def check_backward_sweeps_in_reverse(backward: Callable) -> None:
    """On the tape of sin(a*b) at a = 2, b = 3: adjoint 1 at the output, (3 cos 6, 2 cos 6) at (a, b)."""
    t = CheckTape()
    a, b = t.variable(2.0), t.variable(3.0)
    y = t.op("sin", t.op("mul", a, b))
    adj = ask_adjoints("backward(tape, y) for y = sin(a*b), a = 2, b = 3", backward, t, y)
    expect_close("adjoint of the output itself, adj[y.index]", adj[y.index], 1.0, tol=TOL,
                 known=[("output-not-seeded", 0.0, "the sweep starts from adj[output.index] = 1.0")])
    want = np.array([3.0 * math.cos(6.0), 2.0 * math.cos(6.0)])
    expect_close("gradient (adj[a.index], adj[b.index]) of sin(a*b) at a = 2, b = 3", adj[[a.index, b.index]],
                 want, tol=TOL, known=[("tape-swept-forwards", [0.0, 0.0], SWEPT_FORWARDS)])


@check
def check_backward_accumulates(backward: Callable) -> None:
    """A value used twice gets both contributions: a*b + a at (2, 3) has gradient (4, 2), a*a at 3 has 6."""
    t = CheckTape()
    a, b = t.variable(2.0), t.variable(3.0)
    y = t.op("add", t.op("mul", a, b), a)
    adj = ask_adjoints("backward(tape, y) for y = a*b + a, a = 2, b = 3", backward, t, y)
    expect_close("gradient (adj[a.index], adj[b.index]) of a*b + a at a = 2, b = 3", adj[[a.index, b.index]],
                 [4.0, 2.0], tol=TOL, known=[("adjoint-assigned", [3.0, 2.0], ASSIGNED)])
    t = CheckTape()
    a = t.variable(3.0)
    y = t.op("mul", a, a)
    adj = ask_adjoints("backward(tape, y) for y = a*a, a = 3", backward, t, y)
    expect_close("d(a*a)/da = adj[a.index] at a = 3", adj[a.index], 6.0, tol=TOL,
                 known=[("adjoint-assigned", 3.0, "both operands of a*a are a: add both contributions (+=)")])


@check
def check_backward_chain_rule(backward: Callable) -> None:
    """On the tape of exp(2 tanh(a)) at a = 0.5: adj[a] = exp(2 tanh a) · 2 · (1 - tanh² a)."""
    t = CheckTape()
    a = t.variable(0.5)
    y = t.op("exp", t.op("mul", 2.0, t.op("tanh", a)))
    adj = ask_adjoints("backward(tape, y) for y = exp(2 tanh(a)), a = 0.5", backward, t, y)
    th = math.tanh(0.5)
    expect_close("d exp(2 tanh(a)) / da = adj[a.index] at a = 0.5", adj[a.index],
                 math.exp(2 * th) * 2 * (1 - th ** 2), tol=TOL,
                 known=[("adjoint-not-multiplied", 1 - th ** 2, NOT_MULTIPLIED)])


# ---------------------------------------------------------------------------
# Exercise 4: vjp


@check
def check_vjp_gradient(vjp: Callable) -> None:
    """vjp(f, [1.5, 2], 1.0) is (f(1.5, 2), grad f(1.5, 2)): the gradient by one sweep."""
    what = "vjp(f, [1.5, 2.0], 1.0)"
    value, g = ask_vjp(what, vjp, course_f, [1.5, 2.0], 1.0)
    expect_close(f"the value returned by {what}", value, value_f(1.5, 2.0), tol=TOL)
    expect_close(f"gradient of f at (1.5, 2) by {what}", g, grad_f(1.5, 2.0), tol=TOL)


@check
def check_vjp_direction(vjp: Callable) -> None:
    """For h(a, b, c) = [abc, exp(a)/b, tanh(c - a)] at (0.3, 1.2, 0.8), u = (1, -2, 0.5): u^T J."""
    expect_vjp_h3(vjp, [0.3, 1.2, 0.8], [1.0, -2.0, 0.5])


# ---------------------------------------------------------------------------
# Exercise 5: MatVec.backward, Tanh.backward and the layers made of them


SQUARE = (np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [2.0, -2.0, 1.0]]), np.array([0.5, -1.0, 2.0]),
          np.array([1.0, -3.0, 0.25]))


RECTANGULAR = (np.arange(1.0, 7.0).reshape(2, 3), np.array([1.0, 0.0, -1.0]), np.array([0.5, -1.0]))


@check
def check_matvec_backward_square(MatVec: type) -> None:
    """For a 3 x 3 W: MatVec.backward(g) = (np.outer(g, x), W.T @ g), as torch's VJP of W @ x."""
    expect_matvec(MatVec, *SQUARE)


@check
def check_matvec_backward_rectangular(MatVec: type) -> None:
    """For a 2 x 3 W the shapes decide: dL/dW has shape (2, 3), dL/dx shape (3,), values as torch's."""
    expect_matvec(MatVec, *RECTANGULAR)


TANH_CASE = (np.array([-1.0, 0.0, 0.5, 2.0]), np.array([2.0, -1.0, 0.5, 3.0]))


@check
def check_tanh_backward(Tanh: type) -> None:
    """Tanh.backward(g) = (g * (1 - tanh(z)²),) at z = (-1, 0, 0.5, 2), as torch's VJP of tanh."""
    expect_tanh(Tanh, *TANH_CASE)


LAYER_CASE = ([np.array([[0.2, -0.4], [1.0, 0.3], [-0.5, 0.6]])], [np.array([0.1, 0.0, -0.2])],
              np.array([1.5, -2.0]), np.array([0.3, -0.3, 0.9]))


TWO_LAYER_CASE = ([np.array([[0.5, -1.0], [0.3, 0.8], [-0.2, 0.1]]), np.array([[1.0, -0.5, 0.25]])],
                  [np.array([0.0, 0.1, -0.1]), np.array([0.2])], np.array([1.0, -0.5]), np.array([0.7]))


@check
def check_layer_gradients(MatVec: type, Tanh: type) -> None:
    """L = sum((tanh(W x + b) - t)²): dL/dW = δ xᵀ, dL/db = δ, dL/dx = Wᵀ δ with δ = 2(y - t)(1 - y²), as torch's."""
    expect_layers(MatVec, Tanh, *LAYER_CASE, what="one layer y = tanh(W x + b), W of shape (3, 2)", tol=TOL)


@check
def check_two_layers_against_torch(MatVec: type, Tanh: type) -> None:
    """Two layers stacked: every gradient of sum((tanh(W2 tanh(W1 x + b1) + b2) - t)²) as torch float64's."""
    expect_layers(MatVec, Tanh, *TWO_LAYER_CASE, what="two layers, W1 of shape (3, 2), W2 of shape (1, 3)")
