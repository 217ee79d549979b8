"""Reverse mode, part two: the backward sweep over a tape, and what it gives.

:mod:`course.tape` records a program as a list of entries, each with its local
derivatives. The sweep visits the entries in *reverse* order, so that every
adjoint ``bar v_k = d out / d v_k`` is complete before it is passed on, and
*accumulates* into the inputs::

    bar v_out = seed
    for (k, inputs, local) in reversed(entries):
        for i, d in zip(inputs, local):
            bar v_i += d * bar v_k

One sweep gives the derivative of one output with respect to every value on
the tape. Seeding with ``u`` the scalar ``sum_k u_k y_k`` gives the
vector-Jacobian product ``u^T J``.

:func:`backward` and :func:`vjp` answer notebook 04's exercises 3 and 4, so
course.toml withholds this module while notebook 04 is graded (the tape itself
stays open); later notebooks, the benchmarks and the project's tests use it
openly.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .tape import Number, Tape, Var, trace

__all__ = ["backward", "vjp", "gradient", "jacobian"]


def backward(tape: Tape, output: Var | int, seed: float = 1.0) -> list[float]:
    """Adjoints ``d output / d v_i`` of every value on ``tape``, by one reverse sweep."""
    out = output.index if isinstance(output, Var) else int(output)
    adj = [0.0] * len(tape.values)
    adj[out] = float(seed)
    for e in reversed(tape.entries):
        g = adj[e.out]
        if g == 0.0:
            continue
        for i, d in zip(e.inputs, e.local):
            adj[i] += d * g
    return adj


def _as_var(tape: Tape, y: Var | Number) -> Var:
    """An output of the traced function as a tape variable (a constant output becomes one)."""
    return y if isinstance(y, Var) else tape.variable(y)


def _outputs(tape: Tape, y: Any) -> tuple[bool, list[Var]]:
    """``(scalar, outputs)``: whether ``f`` returned one value, and its outputs as tape variables."""
    scalar = not isinstance(y, (list, tuple, np.ndarray))
    return scalar, [_as_var(tape, v) for v in ([y] if scalar else list(y))]


def vjp(f: Callable[..., Any], xs: Sequence[Number], u: Sequence[Number] | Number = 1.0
        ) -> tuple[Any, np.ndarray]:
    """``(f(xs), u^T J(xs))`` by one reverse sweep of the scalar ``sum_k u_k y_k``."""
    tape, ins, y = trace(f, xs)
    scalar, ys = _outputs(tape, y)
    us = [float(u)] if np.ndim(u) == 0 else [float(c) for c in u]  # type: ignore[arg-type, union-attr]
    if len(us) != len(ys):
        raise ValueError(f"{len(ys)} outputs but a direction with {len(us)} entries")
    total: Var | float = 0.0
    for c, v in zip(us, ys):
        total = v * c + total
    adj = backward(tape, _as_var(tape, total))
    value = ys[0].value if scalar else np.array([v.value for v in ys])
    return value, np.array([adj[a.index] for a in ins])


def gradient(f: Callable[..., Any], xs: Sequence[Number]) -> np.ndarray:
    """The gradient of a scalar ``f``: one recording, one backward sweep."""
    return vjp(f, xs, 1.0)[1]


def jacobian(f: Callable[..., Any], xs: Sequence[Number]) -> np.ndarray:
    """The Jacobian of ``f: R^n -> R^m``: one recording and ``m`` backward sweeps (rows)."""
    tape, ins, y = trace(f, xs)
    rows = []
    for v in _outputs(tape, y)[1]:
        adj = backward(tape, v)
        rows.append([adj[a.index] for a in ins])
    return np.array(rows)
