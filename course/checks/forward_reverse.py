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
:mod:`course.tape` or :mod:`course.matrix_ops`. The tapes handed to the student's
``backward`` are built here (:class:`CheckTape`: values and entries, no sweep).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .answers import CheckFailed, StudentError, ask, check, fail
from .expect import array, expect_close, is_number, missing_return
from .messages import misconception, report

TOL = 1e-12  #: every check's tolerance: the rules are exact up to rounding

# ---------------------------------------------------------------------------
# The functions the notebook differentiates (the checks' own copies)


def call(name: str, x: Any) -> Any:
    """``x.sin()`` (or cos, exp, ...) for a dual number or a tape variable, ``math.sin(x)`` for a float."""
    if isinstance(x, (int, float)):
        return getattr(math, name)(x)
    return getattr(x, name)()


def course_f(x0: Any, x1: Any) -> Any:
    """f(x0, x1) = (x0² / x1) cos x0 + exp(x0 / x1), the notebook's function."""
    return (x0 ** 2 / x1) * call("cos", x0) + call("exp", x0 / x1)


def grad_f(x0: float, x1: float) -> np.ndarray:
    """The gradient of :func:`course_f` by hand."""
    return np.array([(2 * x0 / x1) * math.cos(x0) - (x0 ** 2 / x1) * math.sin(x0) + math.exp(x0 / x1) / x1,
                     -(x0 ** 2 / x1 ** 2) * math.cos(x0) - (x0 / x1 ** 2) * math.exp(x0 / x1)])


def value_f(x0: float, x1: float) -> float:
    """f(x0, x1) in floats."""
    return (x0 ** 2 / x1) * math.cos(x0) + math.exp(x0 / x1)


def h3(a: Any, b: Any, c: Any) -> list[Any]:
    """h(a, b, c) = [abc, exp(a)/b, tanh(c - a)]: three inputs, three outputs."""
    return [a * b * c, call("exp", a) / b, call("tanh", c - a)]


def jacobian_h3(a: float, b: float, c: float) -> np.ndarray:
    """The Jacobian of :func:`h3` by hand (rows: outputs, columns: inputs)."""
    s = 1 - math.tanh(c - a) ** 2
    return np.array([[b * c, a * c, a * b], [math.exp(a) / b, -math.exp(a) / b ** 2, 0.0], [-s, 0.0, s]])


def value_h3(a: float, b: float, c: float) -> np.ndarray:
    """h(a, b, c) in floats."""
    return np.array([a * b * c, math.exp(a) / b, math.tanh(c - a)])


def vec(xs: Sequence[float]) -> str:
    """A list of numbers as the student would type it: [0.3, 1.2, 0.8]."""
    return "[" + ", ".join(f"{float(v):.6g}" for v in xs) + "]"


def hard_coded(visible: Any, what: str = "the answer") -> tuple[str, Any, str]:
    """The ``known`` entry of a hidden check: the visible test's answer, whatever the inputs."""
    return ("hard-coded", visible, f"this is {what} of the visible test, whatever the inputs: "
                                   "compute it from the inputs instead of returning a fixed value")


def ask_explained(what: str, fn: Callable, *args: Any, explain: Callable[[StudentError], str | None]) -> Any:
    """:func:`ask`, and when the student's code raises an error that a known mistake explains
    (``explain(err)`` gives its hint), a failure with that hint and the student's own frames."""
    __tracebackhide__ = True
    try:
        return ask(what, fn, *args)
    except StudentError as err:
        hint = explain(err)
        if hint is None:
            raise
        raise CheckFailed(report(f"{err.what} raised {err.name}: {err.message}", hint=hint), err.trace) from None


# ---------------------------------------------------------------------------
# Dual numbers


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


PRODUCT_MISSING = ("d(ab) = da·b + a·db has two terms: add both self.tangent * other.value "
                   "and self.value * other.tangent")
TANGENTS_MULTIPLIED = ("the tangent of a product is not the product of the tangents: "
                       "d(ab) = da·b + a·db (the product rule)")


def product_known(a: float, ta: float, b: float, tb: float) -> list[tuple[str, float, str]]:
    """The tangents of a * b that the product rule's usual mistakes give."""
    return [("product-rule-missing-term", ta * b, PRODUCT_MISSING),
            ("product-rule-missing-term", a * tb, PRODUCT_MISSING),
            ("tangents-multiplied", ta * tb, TANGENTS_MULTIPLIED)]


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


def power_known(a: float, ta: float, k: float) -> list[tuple[str, float, str]]:
    """The tangents of a ** k that the power rule's usual mistakes give."""
    return [("chain-rule-missing-inner", k * a ** (k - 1),
             "this is only the outer derivative k a^(k-1): multiply it by the inner derivative, self.tangent"),
            ("power-rule-exponent-kept", k * a ** k * ta,
             "the power rule lowers the exponent by one: d(a^k) = k a^(k-1) da, not k a^k da"),
            ("power-rule-factor-missing", a ** (k - 1) * ta,
             "the power rule brings the exponent down as a factor: d(a^k) = k a^(k-1) da")]


@check
def check_dual_power(Dual: type) -> None:
    """x ** k at x = Dual(2, 1.5) has tangent k 2^(k-1) 1.5, for k = 3, 0.5 and -1 (the power rule)."""
    for k in (3, 0.5, -1):
        got = ask_dual(f"x ** {k} with x = Dual(2, 1.5)", lambda k=k: Dual(2.0, 1.5) ** k)
        expect_dual(f"x ** {k} with x = Dual(2, 1.5)", got, 2.0 ** k, k * 2.0 ** (k - 1) * 1.5,
                    known=power_known(2.0, 1.5, k))


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


@check
def check_dual_chain_rule(Dual: type) -> None:
    """sin, cos, exp, log, tanh of u = 3x at x = Dual(0.7, 1): each tangent is g'(2.1) times du = 3."""
    expect_functions(Dual, lambda: 3 * Dual(0.7, 1.0), "3x) with x = Dual(0.7, 1", 2.1, 3.0)


@check
def check_dual_matches_rule_table(Dual: type) -> None:
    """sin, cos, exp, log, tanh of Dual(1.3, 1): values and tangents as the rule table course.rules gives them."""
    expect_rule_table(Dual, 1.3, 1.0)


def expect_rule_table(Dual: type, a: float, t: float) -> None:
    """Every function of Dual(a, t) against :data:`course.rules.RULES`."""
    from course.rules import RULES

    for name, _, _, known in function_cases(a, t):
        rule = RULES[name]
        y = rule.value(a)
        what = f"Dual({a:.6g}, {t:.6g}).{name}()"
        got = ask_dual(what, lambda name=name: getattr(Dual(a, t), name)())
        expect_dual(what, got, y, rule.local((a,), y)[0] * t, known=known,
                    hint=[f"the rule table says: {rule.derivative}"])


# ---------------------------------------------------------------------------
# jvp


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
        value = _number(f"the value returned by {what}", got[0])
        tangent = _number(f"the tangent returned by {what}", got[1])
        return value, tangent
    return (array(f"the values returned by {what}", got[0], shape=(outputs,)),
            array(f"the tangents returned by {what}", got[1], shape=(outputs,)))


def _number(what: str, x: Any) -> float:
    """One float of a returned pair (a one-element array counts), or a failure that says what it was."""
    if isinstance(x, np.ndarray) and x.size == 1:
        x = x.reshape(()).item()
    if not is_number(x):
        fail(f"{what} must be a float", expected="a float", got=x)
    return float(x)


EVERY_INPUT_SEEDED = "seed input i with tangent v[i] (Dual(xs[i], v[i])), not every input with 1"


def seeding_known(grad: np.ndarray) -> list[tuple[str, Any, str]]:
    """The directional derivatives that the usual seeding mistakes give, for the true gradient ``grad``."""
    return [("every-input-seeded", grad.sum(axis=-1), f"this is the sum of all partial derivatives: {EVERY_INPUT_SEEDED}"),
            ("no-input-seeded", np.zeros_like(grad.sum(axis=-1)),
             "every tangent came out 0: the inputs must carry the tangents of v (Dual(xs[i], v[i]))")]


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


# ---------------------------------------------------------------------------
# The backward sweep, on tapes the checks build


@dataclass(frozen=True)
class CheckEntry:
    """One line of a check's tape, with the fields of the course's tape entries."""

    op: str
    out: int
    inputs: tuple[int, ...]
    local: tuple[float, ...]
    params: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Slot:
    """A value on a check's tape (what ``output.index`` refers to)."""

    index: int


class CheckTape:
    """Values and entries like the course's Tape, recorded by the check from the rule table; no sweep."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.entries: list[CheckEntry] = []

    def __len__(self) -> int:
        return len(self.values)

    def variable(self, x: float) -> Slot:
        """An input or a constant: a value with no entry."""
        self.values.append(float(x))
        return Slot(len(self.values) - 1)

    def op(self, name: str, *args: "Slot | float", **params: float) -> Slot:
        """Record ``name(*args)`` (numbers become constants on the tape, as the course's Tape does)."""
        from course.rules import RULES

        rule = RULES[name]
        slots = [a if isinstance(a, Slot) else self.variable(a) for a in args]
        xs = tuple(self.values[s.index] for s in slots)
        y = rule.value(*xs, **params)
        local = tuple(float(d) for d in rule.local(xs, y, **params))
        out = self.variable(y)
        self.entries.append(CheckEntry(name, out.index, tuple(s.index for s in slots), local,
                                       tuple(sorted(params.items()))))
        return out


def tape_of_f(x0: float, x1: float) -> tuple[CheckTape, list[Slot], Slot]:
    """f(x0, x1) recorded as the course's Tape records it: 7 entries."""
    t = CheckTape()
    a, b = t.variable(x0), t.variable(x1)
    y = t.op("add", t.op("mul", t.op("div", t.op("pow", a, k=2.0), b), t.op("cos", a)),
             t.op("exp", t.op("div", a, b)))
    return t, [a, b], y


COURSE_SWEEP = ("the sweep is yours to write: the tape handed to backward has only .values and "
                ".entries; loop over reversed(tape.entries) yourself")


def ask_adjoints(what: str, backward: Callable, tape: CheckTape, out: Slot) -> np.ndarray:
    """The student's adjoints of every value on ``tape`` (one float each)."""
    __tracebackhide__ = True
    got = ask_explained(what, backward, tape, out, explain=lambda err: misconception(
        "course-sweep-called", COURSE_SWEEP) if err.is_a("AttributeError") and "backward" in err.message else None)
    adj = array(what, got, returns="the list of adjoints")
    if adj.shape != (len(tape.values),):
        fail(f"{what} must return one adjoint per value on the tape",
             expected=f"{len(tape.values)} adjoints (len(tape.values))", got=f"shape {adj.shape}",
             hint="start from adj = [0.0] * len(tape.values), set adj[output.index] = 1.0")
    return adj


SWEPT_FORWARDS = ("the sweep must go from the last entry to the first (reversed(tape.entries)): "
                  "visited first-to-last, an entry passes on an adjoint that is still 0")
ASSIGNED = ("a value used twice gets a contribution from each use: accumulate with adj[i] += ..., "
            "never assign adj[i] = ...")
NOT_MULTIPLIED = ("each contribution is (local derivative) * (adjoint of the entry's output): "
                  "the adjoint carries the chain rule from the output down")


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
# vjp


def ask_vjp(what: str, vjp: Callable, fn: Callable, xs: list[float], u: Any, *,
            outputs: int | None = None) -> tuple[Any, np.ndarray]:
    """Ask the student's vjp for (value, u^T J): the VJP has one entry per input."""
    __tracebackhide__ = True
    got = ask(what, vjp, fn, xs, u)
    if got is None:
        fail(f"{what} returned None", hint=missing_return("vjp", "(value, u^T J)"))
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(f"{what} must return a pair (value, u^T J)", got=got)
    value = (_number(f"the value returned by {what}", got[0]) if outputs is None
             else array(f"the values returned by {what}", got[0], shape=(outputs,)))
    return value, array(f"u^T J returned by {what}", got[1], shape=(len(xs),))


def vjp_known(J: np.ndarray, u: np.ndarray) -> list[tuple[str, Any, str]]:
    """The VJPs that the usual mistakes give, for the true Jacobian ``J`` and direction ``u``."""
    known = [("vjp-direction-ignored", np.ones(J.shape[0]) @ J,
              "this is the sum of the rows of J: weight output k by u[k] (s = sum of u[k] * y[k])")]
    if J.shape[0] == J.shape[1]:
        known.append(("vjp-transposed", J @ u, "this is J u (a JVP): the VJP is u^T J, one entry per input"))
    return known


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


def expect_vjp_h3(vjp: Callable, x: Sequence[float], u: Sequence[float],
                  known: Sequence[tuple[str, Any, str]] = ()) -> None:
    """vjp(h, x, u) against u^T J_h(x)."""
    what = f"vjp(h, {vec(x)}, {vec(u)}) with h(a, b, c) = [abc, exp(a)/b, tanh(c - a)]"
    J = jacobian_h3(*x)
    value, got = ask_vjp(what, vjp, h3, list(x), list(u), outputs=3)
    expect_close(f"the values returned by {what}", value, value_h3(*x), tol=TOL)
    expect_close(f"u^T J returned by {what}", got, np.asarray(u) @ J, tol=1e-10,
                 known=[*vjp_known(J, np.asarray(u)), *known])


# ---------------------------------------------------------------------------
# MatVec.backward, Tanh.backward and the layers made of them


def torch_matvec_vjp(W: np.ndarray, x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dW, dL/dx) of y = W x for dL/dy = g, by torch float64."""
    import torch

    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    dW, dx = torch.autograd.grad(Wt @ xt, (Wt, xt), grad_outputs=torch.tensor(g, dtype=torch.float64))
    return dW.numpy(), dx.numpy()


def torch_tanh_vjp(z: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dL/dz of y = tanh(z) for dL/dy = g, by torch float64."""
    import torch

    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    (dz,) = torch.autograd.grad(torch.tanh(zt), (zt,), grad_outputs=torch.tensor(g, dtype=torch.float64))
    return dz.numpy()


def _matvec_grads(MatVec: type, W: np.ndarray, x: np.ndarray, g: np.ndarray) -> Any:
    """What the student's MatVec().backward(g) returns after forward(W, x) (on copies of the inputs)."""
    op = MatVec()
    op.forward(W.copy(), x.copy())
    return op.backward(g.copy())


TRANSPOSED_DX = ("this is W @ g: the gradient flows back through the transpose, dL/dx = W.T @ g "
                 "(it has the shape of x)")
TRANSPOSED_DW = ("this is x g^T, the transpose: dL/dW[i, j] = g[i] * x[j], np.outer(g, x) (it has the "
                 "shape of W)")
SHAPES = ("shapes tell the orientation: dL/dx = W.T @ g has the shape of x, dL/dW = np.outer(g, x) the "
          "shape of W")


def ask_matvec(what: str, MatVec: type, W: np.ndarray, x: np.ndarray, g: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """The student's (dL/dW, dL/dx), each of its input's shape."""
    __tracebackhide__ = True
    got = ask_explained(what, _matvec_grads, MatVec, W, x, g, explain=lambda err: misconception(
        "jacobian-transposed", SHAPES) if err.is_a("ValueError") else None)
    if got is None:
        fail(f"{what} returned None", hint=missing_return("MatVec.backward", "(dL/dW, dL/dx)"))
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(f"{what} must return a tuple (dL/dW, dL/dx)", got=got)
    dW, dx = array(f"dL/dW from {what}", got[0]), array(f"dL/dx from {what}", got[1])
    if dW.shape == x.shape and dx.shape == W.shape and W.shape != x.shape:
        fail(f"{what} returned (dL/dx, dL/dW)", expected=f"(dL/dW of shape {W.shape}, dL/dx of shape {x.shape})",
             got=f"shapes ({dW.shape}, {dx.shape})",
             hint=misconception("gradients-swapped", "return one gradient per input, in the order of "
                                "forward's inputs: (dL/dW, dL/dx)"))
    for name, arr, shape in (("dL/dW", dW, W.shape), ("dL/dx", dx, x.shape)):
        if arr.shape != shape:
            fail(f"shape of {name} from {what}", expected=f"shape {shape}", got=f"shape {arr.shape}",
                 hint=misconception("jacobian-transposed", "a gradient has the shape of what it is the "
                                    "gradient of: " + SHAPES))
    return dW, dx


def expect_matvec(MatVec: type, W: np.ndarray, x: np.ndarray, g: np.ndarray,
                  known_dW: Sequence = (), known_dx: Sequence = ()) -> None:
    """MatVec.backward(g) against torch's VJP of W @ x."""
    what = f"MatVec.backward(g) after forward(W, x), W of shape {W.shape}"
    dW, dx = ask_matvec(what, MatVec, W, x, g)
    want_dW, want_dx = torch_matvec_vjp(W, x, g)
    inputs = {"W": W, "x": x, "g": g}
    known = [("jacobian-transposed", W @ g, TRANSPOSED_DX)] if W.shape[0] == W.shape[1] else []
    expect_close(f"dL/dx from {what}", dx, want_dx, tol=TOL, inputs=inputs, known=[*known, *known_dx])
    known = [("jacobian-transposed", np.outer(x, g), TRANSPOSED_DW)] if W.shape[0] == W.shape[1] else []
    expect_close(f"dL/dW from {what}", dW, want_dW, tol=TOL, inputs=inputs, known=[*known, *known_dW])


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


def _tanh_grads(Tanh: type, z: np.ndarray, g: np.ndarray) -> Any:
    """What the student's Tanh().backward(g) returns after forward(z) (on copies of the inputs)."""
    op = Tanh()
    op.forward(z.copy())
    return op.backward(g.copy())


def tanh_known(z: np.ndarray, g: np.ndarray) -> list[tuple[str, Any, str]]:
    """The VJPs of tanh that its usual mistakes give."""
    y = np.tanh(z)
    return [("incoming-gradient-dropped", 1 - y ** 2, "this is the local derivative 1 - y² alone: multiply "
             "it by the incoming gradient g (chain rule)"),
            ("tanh-derivative-of-input", g * (1 - z ** 2), "1 - tanh(z)² uses the output y = tanh(z), not z"),
            ("tanh-derivative-square-missing", g * (1 - y), "the derivative of tanh is 1 - y², y squared")]


def expect_tanh(Tanh: type, z: np.ndarray, g: np.ndarray, known: Sequence = ()) -> None:
    """Tanh.backward(g) against torch's VJP of tanh."""
    what = f"Tanh.backward(g) after forward(z), z of shape {z.shape}"
    got = ask(what, _tanh_grads, Tanh, z, g)
    if got is None:
        fail(f"{what} returned None", hint=missing_return("Tanh.backward", "(dL/dz,)"))
    if not (isinstance(got, tuple) and len(got) == 1):
        fail(f"{what} must return a tuple with one gradient, (dL/dz,)", got=got,
             hint=misconception("backward-not-a-tuple", "backward returns one gradient per input, in a "
                                "tuple even for one input: return (g * (...),)"))
    dz = array(f"dL/dz from {what}", got[0], shape=z.shape)
    expect_close(f"dL/dz from {what}", dz, torch_tanh_vjp(z, g), tol=TOL, inputs={"z": z, "g": g},
                 known=[*tanh_known(z, g), *known])


TANH_CASE = (np.array([-1.0, 0.0, 0.5, 2.0]), np.array([2.0, -1.0, 0.5, 3.0]))


@check
def check_tanh_backward(Tanh: type) -> None:
    """Tanh.backward(g) = (g * (1 - tanh(z)²),) at z = (-1, 0, 0.5, 2), as torch's VJP of tanh."""
    expect_tanh(Tanh, *TANH_CASE)


def layers_by_student(MatVec: type, Tanh: type, Ws: list[np.ndarray], bs: list[np.ndarray], x: np.ndarray,
                      t: np.ndarray) -> dict[str, Any]:
    """L = sum((y - t)²) for y = tanh(W_k ... tanh(W_1 x + b_1) ... + b_k), forward by the student's ops,
    backward by their backward methods (the Add node passes g to both inputs): every gradient, by name."""
    ops, h = [], x.copy()
    for W, b in zip(Ws, bs):
        mv, th = MatVec(), Tanh()
        h = th.forward(mv.forward(W.copy(), h) + b)
        ops.append((mv, th))
    g = 2.0 * (np.asarray(h, dtype=float) - t)
    grads: dict[str, Any] = {}
    for k in range(len(Ws), 0, -1):
        mv, th = ops[k - 1]
        (dz,) = th.backward(g)
        grads[f"b{k}"] = dz
        grads[f"W{k}"], g = mv.backward(dz)
    grads["x"] = g
    return grads


def torch_layers(Ws: list[np.ndarray], bs: list[np.ndarray], x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """The same gradients by torch float64."""
    import torch

    leaves = {f"W{k + 1}": torch.tensor(W, dtype=torch.float64, requires_grad=True) for k, W in enumerate(Ws)}
    leaves.update({f"b{k + 1}": torch.tensor(b, dtype=torch.float64, requires_grad=True) for k, b in enumerate(bs)})
    leaves["x"] = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    h = leaves["x"]
    for k in range(1, len(Ws) + 1):
        h = torch.tanh(leaves[f"W{k}"] @ h + leaves[f"b{k}"])
    ((h - torch.tensor(t, dtype=torch.float64)) ** 2).sum().backward()
    return {k: v.grad.numpy() for k, v in leaves.items()}


def expect_layers(MatVec: type, Tanh: type, Ws: list[np.ndarray], bs: list[np.ndarray], x: np.ndarray,
                  t: np.ndarray, what: str, tol: float = 1e-10) -> None:
    """Every gradient of the loss of ``len(Ws)`` layers, by the student's ops, against torch float64."""
    asked = f"the gradients of L = sum((y - t)²) for {what}, by your MatVec and Tanh"
    got = ask(asked, layers_by_student, MatVec, Tanh, Ws, bs, x, t)
    if not isinstance(got, dict):
        fail(asked, expected="a gradient for every parameter", got=got)
    names = [n.replace("1", "") for n in got] if len(Ws) == 1 else list(got)
    want = torch_layers(Ws, bs, x, t)
    for name, label in zip(got, names):
        arr = array(f"dL/d{label} of {what}", got[name], shape=want[name].shape)
        expect_close(f"dL/d{label} of {what}, against torch float64", arr, want[name], tol=tol,
                     hint=["check MatVec and Tanh with the tests above first"])


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
