"""What every part of notebook 04's checks uses: the functions the notebook differentiates
(the checks' own copies, with their derivatives by hand: the project's tests check each one
against torch float64 and central differences), the shared tolerance, and two helpers.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from .answers import CheckFailed, StudentError, ask, fail
from .expect import is_number
from .messages import report


TOL = 1e-12  #: every check's tolerance: the rules are exact up to rounding


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


def as_float(what: str, x: Any) -> float:
    """One float of a returned pair (a one-element array counts), or a failure that says what it was."""
    if isinstance(x, np.ndarray) and x.size == 1:
        x = x.reshape(()).item()
    if not is_number(x):
        fail(f"{what} must be a float", expected="a float", got=x)
    return float(x)
