"""Reverse mode on a tape in notebook 04's checks (exercises 3 and 4): the tapes handed to the
student's ``backward`` (:class:`CheckTape`: values and entries recorded from the rule table,
no sweep), how ``backward`` and ``vjp`` are asked, and the hints for their usual mistakes.

Nothing here imports :mod:`course.tape` or the withheld :mod:`course.reverse`: the expected
adjoints are closed forms, the local derivatives :func:`course.rules.local_derivatives`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from course import rules

from .answers import ask, fail
from .expect import array, expect_close, missing_return
from .forward_reverse_common import TOL, as_float, ask_explained, h3, jacobian_h3, value_h3, vec
from .messages import misconception


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
        slots = [a if isinstance(a, Slot) else self.variable(a) for a in args]
        xs = tuple(self.values[s.index] for s in slots)
        y = rules.RULES[name].value(*xs, **params)
        local = tuple(float(d) for d in rules.local_derivatives(name, xs, **params))
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


def ask_vjp(what: str, vjp: Callable, fn: Callable, xs: list[float], u: Any, *,
            outputs: int | None = None) -> tuple[Any, np.ndarray]:
    """Ask the student's vjp for (value, u^T J): the VJP has one entry per input."""
    __tracebackhide__ = True
    got = ask(what, vjp, fn, xs, u)
    if got is None:
        fail(f"{what} returned None", hint=missing_return("vjp", "(value, u^T J)"))
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(f"{what} must return a pair (value, u^T J)", got=got)
    value = (as_float(f"the value returned by {what}", got[0]) if outputs is None
             else array(f"the values returned by {what}", got[0], shape=(outputs,)))
    return value, array(f"u^T J returned by {what}", got[1], shape=(len(xs),))


def vjp_known(J: np.ndarray, u: np.ndarray) -> list[tuple[str, Any, str]]:
    """The VJPs that the usual mistakes give, for the true Jacobian ``J`` and direction ``u``."""
    known = [("vjp-direction-ignored", np.ones(J.shape[0]) @ J,
              "this is the sum of the rows of J: weight output k by u[k] (s = sum of u[k] * y[k])")]
    if J.shape[0] == J.shape[1]:
        known.append(("vjp-transposed", J @ u, "this is J u (a JVP): the VJP is u^T J, one entry per input"))
    return known


def expect_vjp_h3(vjp: Callable, x: Sequence[float], u: Sequence[float],
                  known: Sequence[tuple[str, Any, str]] = ()) -> None:
    """vjp(h, x, u) against u^T J_h(x)."""
    what = f"vjp(h, {vec(x)}, {vec(u)}) with h(a, b, c) = [abc, exp(a)/b, tanh(c - a)]"
    J = jacobian_h3(*x)
    value, got = ask_vjp(what, vjp, h3, list(x), list(u), outputs=3)
    expect_close(f"the values returned by {what}", value, value_h3(*x), tol=TOL)
    expect_close(f"u^T J returned by {what}", got, np.asarray(u) @ J, tol=1e-10,
                 known=[*vjp_known(J, np.asarray(u)), *known])
