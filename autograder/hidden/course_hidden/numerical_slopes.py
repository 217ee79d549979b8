"""Hidden checks of notebook 01: the visible checks' ideas on seeded random inputs.

A student who hard-codes the visible tests' answers (14.003, 3.0001, [-3, 2, 1], 1e-3)
fails here, with a ``hard-coded`` hint when the answer is exactly the visible one.
Expected values come from closed forms (random cubics, quartics and their exact
derivatives), never from ``course.numeric``.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from course.checks.answers import check, fail
from course.checks.messages import misconception
from course.checks.expect import ask_array, ask_number, expect_close, seeded
from course.checks.numerical_slopes import best_step_mistakes, expected_errors, ask_errors, gradient_mistakes


def polynomial(p: Sequence[float]) -> tuple[Callable[[float], float], Callable[[float], float]]:
    """p[0] t^n + ... + p[n] and its exact derivative (Horner's rule for both)."""
    p = [float(c) for c in p]

    def f(t: float) -> float:
        out = 0.0
        for c in p:
            out = out * t + c
        return out

    n = len(p) - 1
    dp = [c * (n - i) for i, c in enumerate(p[:-1])]

    def df(t: float) -> float:
        out = 0.0
        for c in dp:
            out = out * t + c
        return out

    return f, df


def _check_secants(fn: Callable, name: str, central: bool, visible_answer: float) -> None:
    rng = seeded(name)
    for _ in range(6):
        p = rng.uniform(-3, 3, size=4)
        f, _ = polynomial(p)
        x = float(rng.uniform(-2, 2))
        h = float(10 ** rng.uniform(-4, -1))
        what = f"{name}(f, x={x:.6g}, h={h:.3g}) on a random cubic"
        got = ask_number(what, fn, f, x, h)
        expected = (f(x + h) - f(x - h)) / (2 * h) if central else (f(x + h) - f(x)) / h
        known = [("hard-coded", visible_answer, "this is the answer of the visible test: compute the difference "
                                                "from the f, x and h you are given"),
                 ("wrong-sign", -expected, "the sign is flipped")]
        if central:
            known += [("forward-difference", (f(x + h) - f(x)) / h, "this is (f(x+h) - f(x))/h, a forward "
                                                                    "difference; step to both sides"),
                      ("divide-by-h", 2 * expected, "divide by 2h, not by h")]
        else:
            known += [("divide-by-2h", expected / 2, "divide by h, not by 2h")]
        expect_close(what, got, expected, tol=1e-8 * (1 + abs(expected)), tol_text="1e-8 (1 + |expected|)",
                     inputs={"coefficients": p}, known=known)


@check
def check_forward_difference_random(forward_difference: Callable) -> None:
    """forward_difference on six random cubics, points and steps."""
    _check_secants(forward_difference, "forward_difference", central=False, visible_answer=14.003)


@check
def check_central_difference_random(central_difference: Callable) -> None:
    """central_difference on six random cubics, points and steps."""
    _check_secants(central_difference, "central_difference", central=True, visible_answer=3.0001)


def _random_functions(rng: np.random.Generator) -> list[tuple[str, Callable, Callable, list[float]]]:
    """(description, f, its exact gradient, a point): functions of 1 to 4 inputs."""
    cases = []
    for _ in range(3):
        p = rng.uniform(0.5, 2.0, size=3) * rng.choice([-1.0, 1.0], size=3)
        cases += [
            ("p0 a b + p1 c^2 a", lambda a, b, c, p=p: p[0] * a * b + p[1] * c * c * a,
             lambda a, b, c, p=p: [p[0] * b + p[1] * c * c, p[0] * a, 2 * p[1] * c * a],
             [float(v) for v in rng.uniform(-2, 2, size=3)]),
            ("x y z w + p0 x^2 - p1 w / y", lambda x, y, z, w, p=p: x * y * z * w + p[0] * x**2 - p[1] * w / y,
             lambda x, y, z, w, p=p: [y * z * w + 2 * p[0] * x, x * z * w + p[1] * w / y**2,
                                      x * y * w, x * y * z - p[1] / y],
             [float(v) for v in rng.uniform(0.5, 2, size=4) * rng.choice([-1.0, 1.0], size=4)]),
            ("p2 u^3", lambda u, p=p: p[2] * u**3, lambda u, p=p: [3 * p[2] * u**2],
             [float(v) for v in rng.uniform(-2, 2, size=1)]),
            ("(x - y)^2 / (1 + x^2)", lambda x, y: (x - y)**2 / (1 + x * x),
             lambda x, y: [2 * (x - y) / (1 + x * x) - (x - y)**2 * 2 * x / (1 + x * x)**2, -2 * (x - y) / (1 + x * x)],
             [float(v) for v in rng.uniform(-2, 2, size=2)]),
        ]
    return cases


@check
def check_numerical_gradient_random(numerical_gradient: Callable) -> None:
    """numerical_gradient of twelve random functions of 1 to 4 inputs, against their exact gradients."""
    for desc, f, grad, point in _random_functions(seeded("numerical_gradient")):
        what = f"numerical_gradient(f, {np.round(point, 4).tolist()}) with a random function of {len(point)} inputs, f = {desc}"
        got = ask_array(what, numerical_gradient, f, list(point), shape=(len(point),), returns="the gradient")
        expected = np.asarray(grad(*point), dtype=float)
        known = [("hard-coded", np.array([-3.0, 2.0, 1.0]) if len(point) == 3 else None,
                  "this is the answer of the visible test: compute the slopes from the f and inputs you are given")]
        expect_close(what, got, expected, tol=1e-6 * (1 + np.abs(expected)), tol_text="1e-6 (1 + |expected|)",
                     known=[k for k in known if k[1] is not None] + gradient_mistakes(expected), atol=1e-5, rtol=1e-5)


def _check_errors_random(difference_errors: Callable, central: bool) -> None:
    name = "central" if central else "forward"
    rng = seeded(f"difference_errors_{name}")
    few = np.logspace(-1, -6, 11)
    for _ in range(3):
        p = rng.uniform(-2, 2, size=5)
        f, df = polynomial(p)
        x = float(rng.uniform(-1.5, 1.5))
        got = ask_errors(difference_errors, int(central), f, df, x, few, "a random quartic f, its derivative df")
        expected, signed = expected_errors(f, df, x, few, central)
        expect_close(f"{name} errors of difference_errors on a random quartic", got, expected,
                     tol=1e-6 * expected + 64 * np.finfo(float).eps * (1 + abs(f(x))) / few,
                     tol_text="1e-6 |expected| + 64 eps (1 + |f(x)|) / h",
                     inputs={"coefficients": p, "x": x, "hs": few},
                     known=[("signed-error", signed, "take abs(difference - df(x))")], atol=0, rtol=1e-6)


@check
def check_difference_errors_forward_random(difference_errors: Callable) -> None:
    """Forward errors on three random quartics."""
    _check_errors_random(difference_errors, central=False)


@check
def check_difference_errors_central_random(difference_errors: Callable) -> None:
    """Central errors on three random quartics."""
    _check_errors_random(difference_errors, central=True)


@check
def check_best_step_random(best_step: Callable) -> None:
    """best_step on five random V-shaped error curves."""
    rng = seeded("best_step")
    for _ in range(5):
        steps = np.logspace(-1, -15, 29)
        best = float(10 ** rng.uniform(-11, -3))
        errs = (steps / best + best / steps) * float(10 ** rng.uniform(-12, -6)) * rng.uniform(1, 1.3, size=steps.size)
        expected = float(steps[np.argmin(errs)])
        what = "best_step(hs, errors) on a random V-shaped error curve"
        got = ask_number(what, best_step, steps, errs, returns="the step")
        if got != expected:
            hints = best_step_mistakes(got, steps.tolist(), errs.tolist())
            if got == 1e-3:
                hints.insert(0, misconception("hard-coded", "this is the answer of the visible test: "
                                                            "compute it from hs and errors"))
            fail(what, inputs={"hs": steps, "errors": errs}, expected=expected, got=got, hint=hints)
