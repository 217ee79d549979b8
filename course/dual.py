"""Forward mode: dual numbers.

A dual number ``a + b ε`` with ``ε² = 0`` carries a value ``a`` and a tangent
``b``. For any differentiable ``g``, ``g(a + b ε) = g(a) + g'(a) b ε``, so
evaluating a program on dual numbers carries, next to every value ``v``, its
directional derivative ``dv/dt`` along the direction in which the inputs were
seeded:

* the chosen input is seeded with tangent 1, the other inputs and every
  constant with 0, and then the output's tangent is ``df/dx_i``;
* seeding the inputs with a direction ``v`` gives the Jacobian-vector product
  ``J v`` in one pass; the full gradient of ``f: R^n -> R`` needs ``n`` passes.

Every local derivative comes from :data:`course.rules.RULES` (the one rule
table): an operation ``y = op(x_1, ..., x_k)`` gives the tangent
``sum_j (dy/dx_j) * tangent(x_j)``. The table also gives ``Dual`` its
operators, as it gives them to the engine's ``Value`` and the tape's ``Var``.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import rules
from .rules import RULES

Number = float | int


@rules.install_operators
class Dual:
    """``value + tangent ε``: a number and its derivative along one direction.

    Its operators (``+ - * / **``, reflected forms, ``-d``, ``+d``) and methods
    (``d.sin()``, ``d.tanh()``, ...) are the rule table's, installed by
    :func:`course.rules.install_operators`: ``d ** e`` for a ``Dual`` ``e`` is
    rule ``powv``, ``d ** 3`` rule ``pow`` and ``2 ** d`` is ``powv(2, d)``.
    """

    __slots__ = ("value", "tangent")

    def __init__(self, value: Number, tangent: Number = 0.0) -> None:
        self.value = float(value)
        self.tangent = float(tangent)

    def __repr__(self) -> str:
        return f"Dual(value={self.value!r}, tangent={self.tangent!r})"

    @staticmethod
    def lift(x: "Dual | Number") -> "Dual":
        """A plain number is a constant: tangent 0."""
        if isinstance(x, Dual):
            return x
        if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
            return Dual(float(x), 0.0)
        raise TypeError(f"cannot combine a Dual with {type(x).__name__}")

    def _apply(self, name: str, *operands: "Dual | Number", **params: float) -> "Dual":
        """``out = rule(*operands)``; its tangent is ``sum_j (d out/d x_j) * tangent(x_j)``.

        The operators and methods are installed from the rule table by
        :func:`course.rules.install_operators`, each one call of this hook
        (``a * b`` is ``a._apply("mul", a, b)``). An operand with tangent 0 (a
        constant, an unseeded input) contributes nothing, even where its local
        derivative is nan or inf (``d/db a**b`` for ``a < 0``), as the tape skips
        a zero adjoint.
        """
        args = tuple(Dual.lift(x) for x in operands)
        params = {p: float(v) for p, v in params.items()}
        y, local = rules.evaluate(name, tuple(a.value for a in args), **params)  # the output
        return Dual(y, sum(d * a.tangent for d, a in zip(local, args) if a.tangent))  # its tangent


def _dispatch(method: str, name: str) -> Callable[[Any], Any]:
    """``sin(x)``: ``x.sin()`` for dual numbers and tape variables, the rule's value for floats."""
    def fn(x: Any) -> Any:
        bound = getattr(x, method, None)
        if callable(bound) and not isinstance(x, (np.ndarray, np.generic)):
            return bound()
        return RULES[name].value(float(x))

    fn.__name__ = fn.__qualname__ = method
    fn.__doc__ = f"{method}(x) for floats, dual numbers and tape variables: {RULES[name].derivative}."
    return fn


#: ``sin(x)``, ``exp(x)``, ``tanh(x)``, ...: one function per function-like method in the table
FUNCTIONS: dict[str, Callable[[Any], Any]] = {m: _dispatch(m, r) for m, r in rules.functions().items()}
globals().update(FUNCTIONS)


def _outputs(y: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """Values and tangents of a Dual or a sequence of Duals (constants have tangent 0)."""
    scalar = not isinstance(y, (list, tuple, np.ndarray))
    ys = [Dual.lift(v) for v in ([y] if scalar else list(y))]
    return (np.array([d.value for d in ys]), np.array([d.tangent for d in ys]), scalar)


def jvp(f: Callable[..., Any], xs: Sequence[Number], v: Sequence[Number]) -> tuple[Any, Any]:
    """One forward pass: ``(f(xs), J(xs) v)``, inputs seeded with the direction ``v``.

    ``f`` takes the inputs as separate arguments and returns a number or a
    sequence of numbers; the result has the same form (float or array).
    """
    if len(xs) != len(v):
        raise ValueError(f"{len(xs)} inputs but a direction with {len(v)} entries")
    values, tangents, scalar = _outputs(f(*(Dual(x, t) for x, t in zip(xs, v))))
    return (float(values[0]), float(tangents[0])) if scalar else (values, tangents)


def partial(f: Callable[..., Any], xs: Sequence[Number], i: int) -> Any:
    """``df/dx_i``: one forward pass with input ``i`` seeded with 1, the others with 0."""
    e = [0.0] * len(xs)
    e[i] = 1.0
    return jvp(f, xs, e)[1]


def gradient(f: Callable[..., Any], xs: Sequence[Number]) -> np.ndarray:
    """The gradient of a scalar ``f`` (or its Jacobian, one column per input) by ``len(xs)`` forward passes."""
    cols = [partial(f, xs, i) for i in range(len(xs))]
    return np.array(cols, dtype=float) if all(isinstance(c, float) for c in cols) else np.stack(cols, axis=-1)


__all__ = ["Dual", *FUNCTIONS, "jvp", "partial", "gradient"]
