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
``sum_j (dy/dx_j) * tangent(x_j)``.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .rules import RULES

Number = float | int


class Dual:
    """``value + tangent ε``: a number and its derivative along one direction."""

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

    def _apply(self, name: str, *others: "Dual | Number", **params: float) -> "Dual":
        """Apply rule ``name`` to ``(self, *others)``: tangent = sum of local derivative * tangent."""
        rule = RULES[name]
        args = (self, *(Dual.lift(o) for o in others))
        xs = tuple(a.value for a in args)
        y = rule.value(*xs, **params)
        local = rule.local(xs, y, **params)
        return Dual(y, sum(d * a.tangent for d, a in zip(local, args)))

    # arithmetic ---------------------------------------------------------
    def __add__(self, other: "Dual | Number") -> "Dual":
        return self._apply("add", other)

    def __radd__(self, other: Number) -> "Dual":
        return Dual.lift(other)._apply("add", self)

    def __sub__(self, other: "Dual | Number") -> "Dual":
        return self._apply("sub", other)

    def __rsub__(self, other: Number) -> "Dual":
        return Dual.lift(other)._apply("sub", self)

    def __mul__(self, other: "Dual | Number") -> "Dual":
        return self._apply("mul", other)

    def __rmul__(self, other: Number) -> "Dual":
        return Dual.lift(other)._apply("mul", self)

    def __truediv__(self, other: "Dual | Number") -> "Dual":
        return self._apply("div", other)

    def __rtruediv__(self, other: Number) -> "Dual":
        return Dual.lift(other)._apply("div", self)

    def __neg__(self) -> "Dual":
        return self._apply("neg")

    def __pos__(self) -> "Dual":
        return self

    def __pow__(self, k: "Dual | Number") -> "Dual":
        """``a ** k`` by the power rule for a constant ``k``; ``exp(k log a)`` for a dual ``k``."""
        if isinstance(k, Dual):
            base = self._apply("pow", k=k.value)  # value a**k and tangent k a^(k-1) a'
            if k.tangent == 0.0:
                return base
            return Dual(base.value, base.tangent + base.value * RULES["log"].value(self.value) * k.tangent)
        return self._apply("pow", k=float(k))

    def __rpow__(self, base: Number) -> "Dual":
        """``c ** d = exp(d log c)`` for a constant base ``c > 0``."""
        return (self * RULES["log"].value(float(base))).exp()

    # functions ----------------------------------------------------------
    def sin(self) -> "Dual":
        return self._apply("sin")

    def cos(self) -> "Dual":
        return self._apply("cos")

    def exp(self) -> "Dual":
        return self._apply("exp")

    def log(self) -> "Dual":
        return self._apply("log")

    def tanh(self) -> "Dual":
        return self._apply("tanh")

    def sigmoid(self) -> "Dual":
        return self._apply("sigmoid")

    def relu(self) -> "Dual":
        return self._apply("relu")


def _dispatch(name: str) -> Callable[[Any], Any]:
    """``sin(x)``: ``x.sin()`` for dual numbers and tape variables, the rule's value for floats."""
    rule = RULES[name]

    def fn(x: Any) -> Any:
        method = getattr(x, name, None)
        if callable(method) and not isinstance(x, (np.ndarray, np.generic)):
            return method()
        return rule.value(float(x))

    fn.__name__ = name
    fn.__doc__ = f"{name}(x) for floats, dual numbers and tape variables: {rule.derivative}."
    return fn


sin = _dispatch("sin")
cos = _dispatch("cos")
exp = _dispatch("exp")
log = _dispatch("log")
tanh = _dispatch("tanh")
sigmoid = _dispatch("sigmoid")
relu = _dispatch("relu")


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


__all__ = ["Dual", "sin", "cos", "exp", "log", "tanh", "sigmoid", "relu", "jvp", "partial",
           "gradient"]
