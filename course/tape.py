"""Reverse mode: a tape (Wengert list).

On the way forward every operation ``v_k = op(v_i, v_j)`` is appended to the
tape with the indices of its inputs and its local derivatives
``dv_k/dv_i, dv_k/dv_j`` (read from :data:`course.rules.RULES`). The backward
sweep then visits the entries in *reverse* order, so that every adjoint
``bar v_k = d out / d v_k`` is complete before it is passed on, and
*accumulates* into the inputs::

    bar v_out = seed
    for (k, inputs, local) in reversed(entries):
        for i, d in zip(inputs, local):
            bar v_i += d * bar v_k

One sweep gives the derivative of one output with respect to every value on
the tape. Seeding with ``u`` the scalar ``sum_k u_k y_k`` gives the
vector-Jacobian product ``u^T J``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

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

    def backward(self, output: "Var | int", seed: float = 1.0) -> list[float]:
        """Adjoints ``d output / d v_i`` of every value on the tape, by one reverse sweep."""
        out = output.index if isinstance(output, Var) else int(output)
        adj = [0.0] * len(self.values)
        adj[out] = float(seed)
        for e in reversed(self.entries):
            g = adj[e.out]
            if g == 0.0:
                continue
            for i, d in zip(e.inputs, e.local):
                adj[i] += d * g
        return adj

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


def _as_var(tape: Tape, y: "Var | Number") -> Var:
    return y if isinstance(y, Var) else tape.variable(y)


def vjp(f: Callable[..., Any], xs: Sequence[Number], u: Sequence[Number] | Number = 1.0
        ) -> tuple[Any, np.ndarray]:
    """``(f(xs), u^T J(xs))`` by one reverse sweep of the scalar ``sum_k u_k y_k``."""
    tape, ins, y = trace(f, xs)
    scalar = not isinstance(y, (list, tuple, np.ndarray))
    ys = [_as_var(tape, v) for v in ([y] if scalar else list(y))]
    us = [float(u)] if np.ndim(u) == 0 else [float(c) for c in u]  # type: ignore[arg-type]
    if len(us) != len(ys):
        raise ValueError(f"{len(ys)} outputs but a direction with {len(us)} entries")
    total: Var | float = 0.0
    for c, v in zip(us, ys):
        total = v * c + total
    adj = tape.backward(_as_var(tape, total))
    value = ys[0].value if scalar else np.array([v.value for v in ys])
    return value, np.array([adj[a.index] for a in ins])


def gradient(f: Callable[..., Any], xs: Sequence[Number]) -> np.ndarray:
    """The gradient of a scalar ``f``: one recording, one backward sweep."""
    return vjp(f, xs, 1.0)[1]


def jacobian(f: Callable[..., Any], xs: Sequence[Number]) -> np.ndarray:
    """The Jacobian of ``f: R^n -> R^m``: one recording and ``m`` backward sweeps (rows)."""
    tape, ins, y = trace(f, xs)
    ys = [_as_var(tape, v) for v in (y if isinstance(y, (list, tuple, np.ndarray)) else [y])]
    rows = []
    for v in ys:
        adj = tape.backward(v)
        rows.append([adj[a.index] for a in ins])
    return np.array(rows)
