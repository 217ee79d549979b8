"""Checks of notebook 01 (numerical slopes): the visible test cells call these.

Each check asks the student's function one question (:func:`course.checks.answers.ask`)
and compares the answer with a value worked out here in closed form, never with
the course's own ``course.numeric`` (withheld while notebook 01 is graded) and
never by writing out the formula the exercise asks for:

* the secant of a parabola ``3x² - 4x + 5`` over ``[x, x + h]`` has slope
  ``6x - 4 + 3h`` exactly;
* the secant of ``t³`` over ``[1 - h, 1 + h]`` has slope ``3 + h²`` exactly, so its
  error shrinks like ``h²`` (order 2) while a forward difference's shrinks like ``h``.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from .answers import ask, check, fail
from .expect import array, ask_array, ask_number, expect_close, number
from .messages import diagnose, misconception

Slope = Callable[[Callable[[float], float], float, float], float]
EPS = float(np.finfo(float).eps)
STEPS = np.logspace(-1, -15, 57)  #: the steps notebook 01 sweeps: 0.1 down to 1e-15, four per decade


def parabola(t: float) -> float:
    """f(x) = 3x² - 4x + 5, the notebook's first function."""
    return 3 * t**2 - 4 * t + 5


def cube(t: float) -> float:
    return t**3


def d_of_abc(a: float, b: float, c: float) -> float:
    """d = a*b + c: its partial slopes are (b, a, 1)."""
    return a * b + c


# ---------------------------------------------------------------------------
# Exercise 1: the forward difference


@check
def check_forward_difference(forward_difference: Slope) -> None:
    """forward_difference(f, 3, 1e-3) on f = 3x² - 4x + 5 is the secant slope 6·3 - 4 + 3h = 14.003."""
    what = "forward_difference(f, x=3.0, h=1e-3) with f(x) = 3x^2 - 4x + 5"
    got = ask_number(what, forward_difference, parabola, 3.0, 1e-3)
    expected = 14.0 + 3 * 1e-3
    expect_close(what, got, expected, tol=1e-9, known=[
        ("wrong-sign", -expected, "the sign is flipped: compute f(x + h) - f(x), the later value first"),
        ("divide-by-2h", expected / 2, "the forward difference divides by h, the distance between its two "
                                       "points, not by 2h"),
        ("ignores-h", 14.0, "this is the exact slope 14, not the secant's slope with the step h you were given: "
                            "compute (f(x + h) - f(x)) / h with that h (not a central difference, not a step "
                            "of your own)"),
    ])


# ---------------------------------------------------------------------------
# Exercise 2: the central difference


@check
def check_central_difference(central_difference: Slope) -> None:
    """central_difference(t³, 1, 1e-2) is the secant slope over [0.99, 1.01]: 3 + h² = 3.0001."""
    what = "central_difference(f, x=1.0, h=1e-2) with f(t) = t**3"
    got = ask_number(what, central_difference, cube, 1.0, 1e-2)
    h = 1e-2
    expected = 3.0 + h**2
    expect_close(what, got, expected, tol=1e-9, known=[
        ("forward-difference", 3.0 + 3 * h + h**2,
         "this is (f(x+h) - f(x))/h, a forward difference; a central difference steps to both sides"),
        ("backward-difference", 3.0 - 3 * h + h**2,
         "this is (f(x) - f(x-h))/h, a one-sided difference; a central difference steps to both sides"),
        ("divide-by-h", 2 * expected, "the two points x - h and x + h are 2h apart: divide by 2h, not by h"),
        ("wrong-sign", -expected, "the sign is flipped: compute f(x + h) - f(x - h), the right-hand value first"),
    ])


def _errors_of(slope: Slope, steps: Sequence[float]) -> list[float]:
    """|slope(t³, 1, h) - 3| for each h (runs the student's function: only inside ask)."""
    return [abs(float(slope(cube, 1.0, float(s))) - 3.0) for s in steps]


@check
def check_central_difference_order(central_difference: Slope) -> None:
    """The error of central_difference(t³, 1, h) shrinks like h² (slope 2 on a log-log plot)."""
    steps = np.array([1e-1, 1e-2, 1e-3])
    what = "the errors |central_difference(t**3, 1.0, h) - 3| for h = 0.1, 0.01, 0.001"
    errors = array(what, ask(what, _errors_of, central_difference, steps.tolist()), shape=(3,))
    order = float(np.polyfit(np.log10(steps), np.log10(np.maximum(errors, 1e-300)), 1)[0])
    if not 1.8 <= order <= 2.2:
        fail("the error of central_difference(t**3, x=1.0, h) shrinks like h^2 (slope 2 on a log-log plot)",
             inputs={"h": steps, "errors": errors}, expected="an order between 1.8 and 2.2", got=order,
             hint=diagnose(order, [
                 ("forward-difference", 1.0, "the error shrinks like h, not h^2: this behaves like "
                                             "(f(x+h) - f(x))/h, a forward difference; a central difference "
                                             "steps to both sides"),
                 ("error-does-not-shrink", 0.0, "the error does not shrink as h does: use the h you are given, "
                                                "divide by 2h, and compute from f (no fixed numbers)"),
             ], atol=0.25, rtol=0))


# ---------------------------------------------------------------------------
# Exercise 3: the numerical gradient

GRADIENT_HINTS = [
    ("nudge-all-at-once", None, "every entry is the same: you nudged all inputs together; nudge input i only, "
                                "keep the others as they are"),
    ("wrong-sign", -1, "the signs are flipped: compute f(..., x_i + h, ...) - f(..., x_i - h, ...)"),
    ("divide-by-h", 2, "the two points are 2h apart: divide by 2h"),
]


def gradient_mistakes(expected: np.ndarray) -> list[tuple[str, np.ndarray, str]]:
    """What the usual mistakes of a numerical gradient predict, given the true gradient."""
    out = []
    for tag, factor, text in GRADIENT_HINTS:
        out.append((tag, np.full(expected.shape, expected.sum()) if factor is None else factor * expected, text))
    return out


@check
def check_numerical_gradient_shape(numerical_gradient: Callable[..., Sequence[float]]) -> None:
    """numerical_gradient(d, [2, -3, 10]) returns one partial slope per input: three numbers."""
    what = "numerical_gradient(d, [2.0, -3.0, 10.0]) with d(a, b, c) = a*b + c"
    got = ask(what, numerical_gradient, d_of_abc, [2.0, -3.0, 10.0])
    arr = array(what, got, returns="the gradient")
    if arr.shape != (3,):
        fail(f"{what} gives one number per input", expected="3 numbers", got=f"shape {arr.shape}: {got!r}",
             hint="return a flat list (or 1-d array) with one partial slope per input")


@check
def check_numerical_gradient_value(numerical_gradient: Callable[..., Sequence[float]]) -> None:
    """The partial slopes of d = a*b + c at (2, -3, 10) are (b, a, 1) = (-3, 2, 1)."""
    what = "numerical_gradient(d, [a, b, c] = [2.0, -3.0, 10.0]) with d = a*b + c"
    got = ask_array(what, numerical_gradient, d_of_abc, [2.0, -3.0, 10.0], shape=(3,), returns="the gradient")
    expected = np.array([-3.0, 2.0, 1.0])
    expect_close(what, got, expected, tol=1e-6, known=gradient_mistakes(expected), atol=1e-5)


def _watch_inputs(numerical_gradient: Callable[..., Sequence[float]]) -> tuple[int, list[float]]:
    """Call numerical_gradient with a function that looks at the caller's list every time it runs.

    Returns how many times the list was seen changed (during the call, and after it) and the
    list as it is after the call. Runs the student's function: only inside ask."""
    point = [2.0, -3.0, 10.0]
    original = list(point)
    seen: list[list[float]] = []

    def d_watching(a: float, b: float, c: float) -> float:
        seen.append([float(v) for v in point])
        return a * b + c

    numerical_gradient(d_watching, point)
    after = [float(v) for v in point]
    return sum(1 for s in seen + [after] if s != original), after


@check
def check_numerical_gradient_leaves_inputs_alone(numerical_gradient: Callable[..., Sequence[float]]) -> None:
    """numerical_gradient(f, point) never changes the caller's list, during the call or after it."""
    what = "numerical_gradient(d, point) with point = [2.0, -3.0, 10.0]"
    changed, after = ask(what, _watch_inputs, numerical_gradient)
    if changed:
        fail("numerical_gradient(d, point) leaves the caller's list point = [2.0, -3.0, 10.0] alone, "
             "during the call and after it",
             expected=np.array([2.0, -3.0, 10.0]), got=np.array(after),
             inputs={"times the list was seen changed": changed},
             hint=misconception("mutates-input",
                                "your function nudges the caller's own list (and even adding h and subtracting "
                                "it again can leave rounding behind): nudge a copy, up = list(inputs)"))


# ---------------------------------------------------------------------------
# Exercise 4: how small should h be?


def expected_errors(f: Callable[[float], float], df: Callable[[float], float], x: float,
                    steps: np.ndarray, central: bool) -> tuple[np.ndarray, np.ndarray]:
    """(|slope - df(x)|, slope - df(x)) of the forward or central secant slopes, one per step.

    The steps divide exactly as the notebook's formulas do (by h, or by 2h): (x + h) - x is
    not h in floating point, and at h = 1e-15 the difference is 11%."""
    if central:
        slopes = np.array([(f(x + h) - f(x - h)) / (2 * h) for h in steps])
    else:
        slopes = np.array([(f(x + h) - f(x)) / h for h in steps])
    signed = slopes - df(x)
    return np.abs(signed), signed


def ask_errors(difference_errors: Callable[..., tuple], which: int, f: Callable[[float], float],
               df: Callable[[float], float], x: float, steps: np.ndarray, label: str) -> np.ndarray:
    """The student's forward (``which=0``) or central (1) errors of ``difference_errors(f, df, x, steps)``."""
    what = f"difference_errors({label}, x={x:g}, hs)"
    got = ask(what, difference_errors, f, df, x, steps)
    if got is None:
        fail(f"{what} returned None", hint=misconception(
            "missing-return", "the function computes the errors but never returns them: "
                              "end it with return forward_errors, central_errors"))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{what} returns two arrays, (forward_errors, central_errors)", expected="a pair of arrays",
             got=f"{type(got).__name__} {got!r}"[:200])
    return array(what, got[which], shape=(len(steps),))


def _check_errors(difference_errors: Callable[..., tuple], central: bool) -> None:
    which, name = (1, "central") if central else (0, "forward")
    got = ask_errors(difference_errors, which, math.sin, math.cos, 1.0, STEPS, "sin, cos")
    expected, signed = expected_errors(math.sin, math.cos, 1.0, STEPS, central)
    known = [("signed-error", signed, "some errors are negative: an error is a distance, "
                                      "take abs(difference - df(x))")]
    if central:
        known.append(("forward-difference", expected_errors(math.sin, math.cos, 1.0, STEPS, False)[0],
                      "these are the errors of a forward difference (they shrink like h, not h^2): "
                      "use central_difference for the central errors"))
    # equivalent formulas may round differently: allow a few ulps of f, magnified by 1/h
    expect_close(f"{name} errors of difference_errors(sin, cos, x=1.0, hs), hs = 1e-1 ... 1e-15",
                 got, expected, tol=1e-6 * expected + 8 * EPS / STEPS, tol_text="1e-6 |expected| + 8 eps / h",
                 known=known, atol=0, rtol=1e-6)


@check
def check_difference_errors_forward(difference_errors: Callable[..., tuple]) -> None:
    """The forward errors are |(sin(1 + h) - sin 1)/h - cos 1| for every h in hs."""
    _check_errors(difference_errors, central=False)


@check
def check_difference_errors_central(difference_errors: Callable[..., tuple]) -> None:
    """The central errors are |(sin(1 + h) - sin(1 - h))/(2h) - cos 1| for every h in hs."""
    _check_errors(difference_errors, central=True)


@check
def check_best_step(best_step: Callable[[Sequence[float], Sequence[float]], float]) -> None:
    """best_step(hs, errors) returns the step whose error is smallest: here 1e-3."""
    hs = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]
    errors = [1e-1, 1e-3, 1e-6, 1e-4, 1e-2]
    what = "best_step(hs, errors) with hs = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5], errors = [1e-1, 1e-3, 1e-6, 1e-4, 1e-2]"
    got = ask_number(what, best_step, np.array(hs), np.array(errors), returns="the step")
    if got != 1e-3:
        fail(what, expected=1e-3, got=got, hint=best_step_mistakes(got, hs, errors))


def best_step_mistakes(got: float, hs: Sequence[float], errors: Sequence[float]) -> list[str]:
    i = int(np.argmin(errors))
    return diagnose(got, [
        ("smallest-h-is-best", min(hs), "this is simply the smallest step; below a point a smaller h makes the "
                                        "error larger (round-off): pick the step whose error is smallest"),
        ("largest-error", hs[int(np.argmax(errors))], "this is the step with the largest error: use np.argmin, "
                                                      "not np.argmax"),
        ("returned-error", errors[i], "this is the smallest error itself: return the step hs[i] where it occurs"),
        ("returned-index", float(i), "this is the position of the best step: return hs[i], not i"),
    ], rtol=1e-12, atol=0)


#: where the total error (truncation + round-off) of each difference is smallest, for f = sin at x = 1:
#: forward h|f''|/2 + eps|f|/h is least at sqrt(2 eps |f| / |f''|); central h²|f'''|/6 + eps|f|/h at
#: (3 eps |f| / |f'''|)^(1/3)
BEST_H = {"forward": math.sqrt(2 * EPS * math.sin(1) / math.sin(1)),
          "central": (3 * EPS * math.sin(1) / math.cos(1)) ** (1 / 3)}


def _check_best_h(difference_errors: Callable[..., tuple], best_step: Callable[..., float], central: bool) -> None:
    name = "central" if central else "forward"
    errors = ask_errors(difference_errors, int(central), math.sin, math.cos, 1.0, STEPS, "sin, cos")
    what = f"best_step(hs, {name}_errors)"
    chosen = number(what, ask(what, best_step, STEPS, errors), returns="the step")
    theory = BEST_H[name]
    low, high = theory / 30, theory * 30
    formula = "sqrt(2 eps |f| / |f''|)" if not central else "(3 eps |f| / |f'''|)^(1/3)"
    hints = []
    if chosen < low:
        hints.append(misconception(
            "h-too-small", "at this step round-off dominates: f(x + h) and f(x) share almost all their digits, "
                           "and dividing their difference by a tiny h magnifies the rounding noise (about "
                           f"eps |f| / h). The {name} difference does best near {formula}, about {theory:.1g}"
            + (": a larger step than the forward difference's, because its truncation error shrinks faster."
               if central else ".")))
    if chosen > high:
        hints.append(misconception("h-too-large", "at this step truncation dominates: the secant is still far "
                                                  "from the tangent. Pick the step at the bottom of the error curve."))
    if not low <= chosen <= high:
        fail(f"best_step(hs, {name}_errors) for sin at x = 1 is near the step where the total error is smallest, "
             f"{formula} = {theory:.2g} (within a factor of 30)",
             expected=f"between {low:.2g} and {high:.2g}", got=chosen, hint=hints)


@check
def check_best_h_forward(difference_errors: Callable[..., tuple], best_step: Callable[..., float]) -> None:
    """Your pipeline picks a forward step near sqrt(2 eps |f|/|f''|) ≈ 2.1e-8 for sin at 1."""
    _check_best_h(difference_errors, best_step, central=False)


@check
def check_best_h_central(difference_errors: Callable[..., tuple], best_step: Callable[..., float]) -> None:
    """Your pipeline picks a central step near (3 eps |f|/|f'''|)^(1/3) ≈ 1.0e-5 for sin at 1."""
    _check_best_h(difference_errors, best_step, central=True)
