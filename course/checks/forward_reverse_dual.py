"""Forward mode in notebook 04's checks (exercises 1 and 2): how the student's ``Dual`` and
``jvp`` are asked, the values they are compared with, and the hints for their usual mistakes.

Expected values are closed forms written here or the rule table's
(:func:`course.rules.local_derivatives`), never :mod:`course.dual`'s.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from course import rules

from .answers import fail
from .expect import array, expect_close, is_number, missing_return
from .forward_reverse_common import TOL, as_float, ask_explained, course_f, grad_f
from .messages import misconception


def _pair(d: Any) -> Any:
    """(value, tangent) of what the student's Dual arithmetic returned (None stays None)."""
    if d is None or isinstance(d, (int, float)):
        return d
    return (getattr(d, "value", None), getattr(d, "tangent", None))


def ask_dual(what: str, make: Callable[[], Any]) -> tuple[float, float]:
    """Ask the student's Dual for one result, as (value, tangent) floats."""
    __tracebackhide__ = True
    got = ask_explained(what, lambda: _pair(make()), explain=lambda err: misconception(
        "constant-not-lifted", "a plain number has no .value or .tangent: turn it into a Dual first "
        "(Dual.lift(x) returns Dual(x, 0.0) for a number)")
        if err.is_a("AttributeError") and ("'float'" in err.message or "'int'" in err.message) else None)
    if got is None:
        fail(f"{what} returned None", hint=missing_return("the Dual method behind it", "a new Dual"))
    if not (isinstance(got, tuple) and len(got) == 2 and all(is_number(v) for v in got)):
        fail(f"{what} must give a Dual", expected="a Dual with a float .value and .tangent",
             got=f"{got!r}" if not isinstance(got, tuple) else f"value {got[0]!r}, tangent {got[1]!r}")
    return float(got[0]), float(got[1])


def expect_dual(what: str, got: tuple[float, float], value: float, tangent: float, *,
                known: Sequence[tuple[str, Any, str]] = (), inputs: dict | None = None,
                tol: float = TOL, hint: Sequence[str] = (), value_known: Sequence[tuple[str, Any, str]] = ()) -> None:
    """The value and the tangent of one result, each within ``tol`` (relative for large numbers)."""
    expect_close(f"value of {what}", got[0], value, tol=tol * max(1.0, abs(value)), inputs=inputs,
                 known=value_known)
    expect_close(f"tangent of {what}", got[1], tangent, tol=tol * max(1.0, abs(tangent)), inputs=inputs,
                 known=known, hint=hint)


CONSTANT_SEEDED = ("a plain number is a constant: Dual.lift must give it tangent 0; only the input "
                   "you differentiate by is seeded with 1")


PRODUCT_MISSING = ("d(ab) = da·b + a·db has two terms: add both self.tangent * other.value "
                   "and self.value * other.tangent")


TANGENTS_MULTIPLIED = ("the tangent of a product is not the product of the tangents: "
                       "d(ab) = da·b + a·db (the product rule)")


def product_known(a: float, ta: float, b: float, tb: float) -> list[tuple[str, float, str]]:
    """The tangents of a * b that the product rule's usual mistakes give."""
    return [("product-rule-missing-term", ta * b, PRODUCT_MISSING),
            ("product-rule-missing-term", a * tb, PRODUCT_MISSING),
            ("tangents-multiplied", ta * tb, TANGENTS_MULTIPLIED)]


def quotient_known(a: float, ta: float, b: float, tb: float) -> list[tuple[str, float, str]]:
    """The tangents of a / b that the quotient rule's usual mistakes give."""
    return [("quotient-rule-sign", (a * tb - ta * b) / b ** 2,
             "the quotient rule subtracts the other way round: d(a/b) = (da·b - a·db) / b²"),
            ("quotient-rule-square-missing", (ta * b - a * tb) / b,
             "the quotient rule divides by b² (b squared), not by b: d(a/b) = (da·b - a·db) / b²")]


def swapped(name: str) -> str:
    """The hint for a reflected operation computed with its operands the wrong way round."""
    return (f"{name} came out as if the operands were swapped: in __rsub__ / __rtruediv__ the plain "
            "number `other` comes first (other - self, other / self)")


def power_known(a: float, ta: float, k: float) -> list[tuple[str, float, str]]:
    """The tangents of a ** k that the power rule's usual mistakes give."""
    return [("chain-rule-missing-inner", k * a ** (k - 1),
             "this is only the outer derivative k a^(k-1): multiply it by the inner derivative, self.tangent"),
            ("power-rule-exponent-kept", k * a ** k * ta,
             "the power rule lowers the exponent by one: d(a^k) = k a^(k-1) da, not k a^k da"),
            ("power-rule-factor-missing", a ** (k - 1) * ta,
             "the power rule brings the exponent down as a factor: d(a^k) = k a^(k-1) da")]


def function_cases(u: float, du: float) -> list[tuple[str, float, float, list[tuple[str, float, str]]]]:
    """(name, value, tangent, known mistakes) of sin, cos, exp, log, tanh at a Dual(u, du)."""
    inner = ("this is only the outer derivative g'(u): multiply it by the inner derivative, "
             "the argument's tangent (self.tangent)")
    th = math.tanh(u)
    return [("sin", math.sin(u), math.cos(u) * du, [("chain-rule-missing-inner", math.cos(u), inner)]),
            ("cos", math.cos(u), -math.sin(u) * du,
             [("chain-rule-missing-inner", -math.sin(u), inner),
              ("cos-derivative-sign", math.sin(u) * du, "d cos(a) = -sin(a) da: mind the minus sign")]),
            ("exp", math.exp(u), math.exp(u) * du, [("chain-rule-missing-inner", math.exp(u), inner)]),
            ("log", math.log(u), du / u, [("chain-rule-missing-inner", 1 / u, inner)]),
            ("tanh", th, (1 - th ** 2) * du,
             [("chain-rule-missing-inner", 1 - th ** 2, inner),
              ("tanh-derivative-of-input", (1 - u ** 2) * du,
               "d tanh(a) = (1 - tanh(a)²) da: square the output tanh(a), not the input a")])]


def expect_functions(Dual: type, u: Callable[[], Any], at: str, value: float, tangent: float,
                     tol: float = TOL) -> None:
    """sin, cos, exp, log, tanh of the Dual ``u()`` (of the given value and tangent)."""
    for name, y, dy, known in function_cases(value, tangent):
        what = f"{name}({at})"
        got = ask_dual(what, lambda name=name: getattr(u(), name)())
        expect_dual(what, got, y, dy, known=known, tol=tol)


def expect_rule_table(Dual: type, a: float, t: float) -> None:
    """Every function of Dual(a, t) against the rule table: :func:`course.rules.local_derivatives`."""
    for name, _, _, known in function_cases(a, t):
        rule = rules.RULES[name]
        what = f"Dual({a:.6g}, {t:.6g}).{name}()"
        got = ask_dual(what, lambda name=name: getattr(Dual(a, t), name)())
        expect_dual(what, got, rule.value(a), rules.local_derivatives(name, (a,))[0] * t, known=known,
                    hint=[f"the rule table says: {rule.derivative}"])


def ask_jvp(what: str, jvp: Callable, fn: Callable, xs: list[float], v: list[float], *,
            outputs: int | None = None) -> tuple[Any, Any]:
    """Ask the student's jvp for (value, tangent): two floats, or two arrays of ``outputs`` entries."""
    __tracebackhide__ = True
    got = ask_explained(what, jvp, fn, xs, v, explain=lambda err: misconception(
        "constant-output-not-lifted", "an output of f can be a plain number (the constant 7.0 here): "
        "Dual.lift it, as a constant it has tangent 0")
        if outputs is not None and err.is_a("AttributeError") and "'float'" in err.message else None)
    if got is None:
        fail(f"{what} returned None", hint=missing_return("jvp", "(value, tangent)"))
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(f"{what} must return a pair (value, tangent)", got=got)
    if outputs is None:
        value = as_float(f"the value returned by {what}", got[0])
        tangent = as_float(f"the tangent returned by {what}", got[1])
        return value, tangent
    return (array(f"the values returned by {what}", got[0], shape=(outputs,)),
            array(f"the tangents returned by {what}", got[1], shape=(outputs,)))


EVERY_INPUT_SEEDED = "seed input i with tangent v[i] (Dual(xs[i], v[i])), not every input with 1"


def seeding_known(grad: np.ndarray) -> list[tuple[str, Any, str]]:
    """The directional derivatives that the usual seeding mistakes give, for the true gradient ``grad``."""
    return [("every-input-seeded", grad.sum(axis=-1), f"this is the sum of all partial derivatives: {EVERY_INPUT_SEEDED}"),
            ("no-input-seeded", np.zeros_like(grad.sum(axis=-1)),
             "every tangent came out 0: the inputs must carry the tangents of v (Dual(xs[i], v[i]))")]


def expect_jvp_direction(jvp: Callable, what: str, x: Sequence[float], v: Sequence[float],
                         known: Sequence[tuple[str, Any, str]] = ()) -> None:
    """jvp(f, x, v)[1] against grad f(x) · v."""
    grad = grad_f(*x)
    _, tangent = ask_jvp(what, jvp, course_f, list(x), list(v))
    expect_close(f"{what}: the directional derivative grad f · v", tangent, grad @ np.asarray(v), tol=1e-10,
                 inputs={"x": np.asarray(x), "v": np.asarray(v)},
                 known=[*seeding_known(grad),
                        ("direction-ignored", grad[0], "this is df/dx0 alone: seed the inputs with v, "
                         "not with the first unit vector"), *known])
