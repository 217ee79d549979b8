"""Reverse mode, part one: the tape (Wengert list) that records a program.

On the way forward every operation ``v_k = op(v_i, v_j)`` is appended to the
tape with the indices of its inputs and its local derivatives
``dv_k/dv_i, dv_k/dv_j`` (read from :data:`course.rules.RULES`)::

    tape = Tape()
    x0, x1 = tape.variable(1.5), tape.variable(2.0)
    y = x0 * x1 + x0.sin()       # three entries: mul, sin, add
    print(tape.listing())

This module only records: the backward sweep over the entries and what is
derived from it (``backward``, ``vjp``, ``gradient``, ``jacobian``) are in
:mod:`course.reverse`, because they answer notebook 04's exercises 3 and 4 and
course.toml withholds that module while notebook 04 is graded. The tape stays
open: notebook 04 records on it, and so does the student's own ``vjp``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from . import rules
from .rules import RULES

Number = float | int


@dataclass(frozen=True)
class Entry:
    """One line of the Wengert list: ``v[out] = op(v[inputs]...)``."""

    op: str  #: rule name, e.g. ``"mul"``
    out: int  #: index of the result on the tape
    inputs: tuple[int, ...]  #: indices of the operands
    local: tuple[float, ...]  #: d v[out] / d v[inputs[j]], one per operand
    params: tuple[tuple[str, float], ...] = ()  #: e.g. ``(("k", 2.0),)`` for ``**2``


class Tape:
    """Values (``values[i]`` is ``v_i``) and the entries that produced them."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.entries: list[Entry] = []

    def __len__(self) -> int:
        return len(self.values)

    def variable(self, x: Number) -> "Var":
        """An input (or a constant): a value on the tape with no entry."""
        self.values.append(float(x))
        return Var(self, len(self.values) - 1)

    def record(self, op: str, args: Sequence["Var | Number"], **params: float) -> "Var":
        """Compute ``op(*args)``, append it and its local derivatives, return the new variable."""
        params = {p: float(v) for p, v in params.items()}
        vs = [a if isinstance(a, Var) else self.variable(a) for a in args]
        for a in vs:
            if a.tape is not self:
                raise ValueError("cannot combine variables of two different tapes")
        y, local = rules.evaluate(op, tuple(self.values[a.index] for a in vs), **params)
        out = self.variable(y)
        local = tuple(float(d) for d in local)
        self.entries.append(Entry(op, out.index, tuple(a.index for a in vs), local,
                                  tuple(sorted(params.items()))))
        return out

    def listing(self) -> str:
        """The Wengert list as text, one line per entry."""
        lines = []
        for e in self.entries:
            rule = RULES[e.op]
            label = rule.node_label(**dict(e.params))
            args = ", ".join(f"v{i}" for i in e.inputs)
            loc = ", ".join(f"{d:.6g}" for d in e.local)
            lines.append(f"v{e.out} = {label}({args}) = {self.values[e.out]:.6g}"
                         f"    local derivatives: ({loc})")
        return "\n".join(lines)


@rules.install_operators
class Var:
    """A value on a tape: arithmetic and functions append entries.

    Its operators (``+ - * / **``, reflected forms, ``-v``, ``+v``) and methods
    (``v.sin()``, ``v.tanh()``, ...) are the rule table's, installed by
    :func:`course.rules.install_operators`: ``v ** w`` for a ``Var`` ``w`` is one
    entry of rule ``powv``, ``v ** 3`` one of rule ``pow`` and ``2 ** v`` is
    ``powv(2, v)``.
    """

    __slots__ = ("tape", "index")

    def __init__(self, tape: Tape, index: int) -> None:
        self.tape = tape
        self.index = index

    @property
    def value(self) -> float:
        return self.tape.values[self.index]

    def __repr__(self) -> str:
        return f"Var(v{self.index} = {self.value!r})"

    def _apply(self, name: str, *operands: "Var | Number", **params: float) -> "Var":
        """Record rule ``name`` on ``operands`` (an entry and its local derivatives) on this tape.

        The operators and methods are installed from the rule table by
        :func:`course.rules.install_operators`, each one call of this hook:
        ``a * b`` is ``a._apply("mul", a, b)``, ``2 ** a`` is ``a._apply("powv", 2, a)``.
        """
        return self.tape.record(name, operands, **params)


def trace(f: Callable[..., Any], xs: Sequence[Number]) -> tuple[Tape, list[Var], Any]:
    """Run ``f`` on fresh tape variables: ``(tape, inputs, output)``."""
    tape = Tape()
    ins = [tape.variable(x) for x in xs]
    return tape, ins, f(*ins)

