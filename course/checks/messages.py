"""Failure messages for the notebooks' test cells.

Test cells decide with a plain ``assert`` on plain floats that the cell itself
builds (``float(...)`` or ``np.asarray(..., dtype=float)``), and only ask this
module for the *message*: what was checked, the inputs, the expected value, the
student's value, the tolerance and, where a known mistake explains the numbers,
a hint that names it::

    got = float(central_difference(f, 3.0, 1e-4))
    assert abs(got - 14.0) <= 1e-6, report(
        "central_difference(f, x=3.0, h=1e-4)", expected=14.0, got=got, tol=1e-6,
        hint=misconception("forward-difference",
                           "this is (f(x+h) - f(x)) / h; step to both sides"))

The message is only built when the assertion fails. Hints carry a stable tag
(``Misconception [forward-difference]: ...``) that the grading tool counts in
its class report.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

MISCONCEPTION_TAG = re.compile(r"Misconception \[([a-z0-9][a-z0-9-]*)\]")


def misconception(tag: str, text: str) -> str:
    """A hint naming a known mistake, tagged so reports can count it."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", tag):
        raise ValueError(f"a misconception tag is lower-case words joined by '-', not {tag!r}")
    return f"Misconception [{tag}]: {text}"


def fmt(x: Any) -> str:
    """Numbers to 12 significant digits, arrays with their shape, the rest by repr."""
    if isinstance(x, (bool, np.bool_)):
        return repr(bool(x))
    if isinstance(x, (int, float, np.integer, np.floating)):
        return f"{float(x):.12g}"
    if isinstance(x, np.ndarray):
        with np.printoptions(precision=8, threshold=20, edgeitems=3):
            return f"array of shape {x.shape}: {np.array2string(x, separator=', ')}"
    text = repr(x)
    return text if len(text) <= 200 else text[:197] + "..."


def report(
    what: str,
    *,
    inputs: Mapping[str, Any] | None = None,
    expected: Any = None,
    got: Any = None,
    tol: float | str | None = None,
    hint: str | Iterable[str] | None = None,
) -> str:
    """The message of a failed check, one fact per line."""
    lines = [f"Check failed: {what}"]
    if inputs:
        lines.append("  inputs:    " + ", ".join(f"{k} = {fmt(v)}" for k, v in inputs.items()))
    if expected is not None:
        lines.append(f"  expected:  {fmt(expected)}")
    if got is not None:
        lines.append(f"  got:       {fmt(got)}")
        if _is_number(expected) and _is_number(got):
            lines.append(f"  error:     {abs(float(got) - float(expected)):.3g}")
    if tol is not None:
        lines.append(f"  tolerance: {tol if isinstance(tol, str) else fmt(tol)}")
    if hint:
        for h in [hint] if isinstance(hint, str) else hint:
            lines.append(f"  hint:      {h}")
    return "\n".join(lines)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def worst(got: np.ndarray, expected: np.ndarray) -> str:
    """Where two arrays differ most: index, both values, the difference."""
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if got.shape != expected.shape:
        return f"shape {got.shape} where {expected.shape} was expected"
    diff = np.abs(got - expected)
    if diff.size == 0:
        return "both empty"
    i = np.unravel_index(int(np.nanargmax(np.where(np.isnan(diff), np.inf, diff))), diff.shape)
    return (f"largest difference at index {tuple(int(j) for j in i)}: "
            f"got {fmt(got[i])}, expected {fmt(expected[i])}")


def diagnose(
    got: Any,
    known: Iterable[tuple[str, Any, str]],
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> list[str]:
    """Hints for the known mistakes whose predicted result matches ``got``.

    ``known`` lists ``(tag, predicted, text)``: the value a known mistake would
    produce and what to say about it. Every entry whose ``predicted`` equals
    ``got`` within ``|got - predicted| <= atol + rtol |predicted|`` (elementwise,
    same shape) gives ``misconception(tag, text)``. Values that cannot be
    compared (None, other shapes, nan) match nothing. A test cell passes the list
    straight to :func:`report` as its ``hint``::

        hint=diagnose(got, [("wrong-sign", -expected, "subtract f(x) from f(x + h)")])
    """
    hints = []
    for tag, predicted, text in known:
        try:
            g = np.asarray(got, dtype=float)
            p = np.asarray(predicted, dtype=float)
        except (TypeError, ValueError):
            continue
        if g.shape != p.shape or g.size == 0:
            continue
        if np.all(np.abs(g - p) <= atol + rtol * np.abs(p)):
            hints.append(misconception(tag, text))
    return hints
