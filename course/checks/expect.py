"""The few shapes most checks take: ask for a number or an array, compare, fail with hints.

All of them go through :func:`course.checks.answers.ask`, so they work the same live,
recorded and replayed. ``known`` lists the predicted results of known mistakes as
``(tag, predicted, text)`` (see :func:`course.checks.messages.diagnose`): when the
student's answer matches one, the failure names it.
"""
from __future__ import annotations

import os
import zlib
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .answers import Foreign, ask, fail
from .messages import diagnose, misconception, worst

Known = Iterable[tuple[str, Any, str]]


def missing_return(what: str, returns: str = "its value") -> str:
    return misconception("missing-return", f"{what} computes {returns} but never returns it: end it with return ...")


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def number(what: str, got: Any, *, returns: str = "its value") -> float:
    """``got`` as a float, or a failure that says what came back instead (None: a missing return)."""
    if got is None:
        fail(f"{what} returned None", hint=missing_return(what.split("(")[0], returns))
    if isinstance(got, np.ndarray) and got.shape == ():
        got = got.item()
    if not is_number(got):
        fail(f"{what} must return a number", expected="a float", got=kind_of(got))
    return float(got)


def array(what: str, got: Any, *, shape: tuple[int, ...] | None = None, returns: str = "its values") -> np.ndarray:
    """``got`` as a float array (of ``shape`` if given), or a failure that says what came back."""
    if got is None:
        fail(f"{what} returned None", hint=missing_return(what.split("(")[0], returns))
    try:
        arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        fail(f"{what} must return numbers", expected="a list or array of floats", got=kind_of(got))
    if shape is not None and arr.shape != tuple(shape):
        fail(f"{what} has the wrong shape", expected=f"shape {tuple(shape)}", got=f"shape {arr.shape}")
    return arr


def kind_of(x: Any) -> str:
    if isinstance(x, Foreign):
        return str(x)
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of {len(x)} items"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    return f"{type(x).__name__} {x!r}"


def ask_number(what: str, fn: Callable[..., Any], *args: Any, returns: str = "its value", **kwargs: Any) -> float:
    """Ask the student's ``fn(*args)`` for one number."""
    return number(what, ask(what, fn, *args, **kwargs), returns=returns)


def ask_array(what: str, fn: Callable[..., Any], *args: Any, shape: tuple[int, ...] | None = None,
              returns: str = "its values", **kwargs: Any) -> np.ndarray:
    """Ask the student's ``fn(*args)`` for an array of numbers."""
    return array(what, ask(what, fn, *args, **kwargs), shape=shape, returns=returns)


def expect_close(what: str, got: float | Sequence[float] | np.ndarray, expected: Any, *, tol: float | np.ndarray,
                 tol_text: str | None = None, inputs: dict | None = None, known: Known = (),
                 rtol: float = 1e-6, atol: float = 1e-9, hint: Iterable[str] = ()) -> None:
    """Pass when ``|got - expected| <= tol`` everywhere (same shape); else fail naming known mistakes."""
    g = np.asarray(got, dtype=float)
    e = np.asarray(expected, dtype=float)
    ok = g.shape == e.shape and bool(np.all(np.abs(g - e) <= tol))
    if ok:
        return
    hints = list(hint) + diagnose(got, known, rtol=rtol, atol=atol)
    if g.ndim and g.shape == e.shape:
        hints = [worst(g, e)] + hints
    fail(what, inputs=inputs, expected=expected if e.ndim else float(e), got=got if g.ndim else float(g),
         tol=tol_text or (tol if np.ndim(tol) == 0 else "elementwise"), hint=hints)


def expect_equal(what: str, got: Any, expected: Any, *, inputs: dict | None = None,
                 hints: dict[Any, str] | None = None) -> None:
    """Pass when ``got == expected`` (plain data); ``hints`` maps known wrong answers to a hint."""
    if _same(got, expected):
        return
    hint = None
    for wrong, text in (hints or {}).items():
        if _same(got, wrong):
            hint = text
    fail(what, inputs=inputs, expected=expected, got=got, hint=hint)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return bool(np.array_equal(np.asarray(a), np.asarray(b)))
        except (TypeError, ValueError):
            return False
    return type(a) is type(b) and a == b if not (is_number(a) and is_number(b)) else float(a) == float(b)


SALT_ENV = "COURSE_CHECK_SALT"  #: an instructor's secret mixed into the hidden checks' seeds when grading


def seeded(name: str) -> np.random.Generator:
    """A random generator seeded from a check's name (and the grading salt, if one is set): the
    same inputs in every run of that check, which a student cannot know in advance when the
    instructor grades with a secret ``COURSE_CHECK_SALT``."""
    return np.random.default_rng(zlib.crc32((os.environ.get(SALT_ENV, "") + name).encode()))
