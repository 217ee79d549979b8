"""The derivative rules of every primitive, defined once.

Each primitive operation ``y = op(x_1, ..., x_k; params)`` has

* ``value(*xs, **params)``: the forward computation, ``y``;
* ``local(xs, y, **params)``: the local derivatives ``(dy/dx_1, ..., dy/dx_k)``
  evaluated at the inputs ``xs`` (a tuple of floats) and the output ``y``.
  Rules that are cheaper in terms of the output use it
  (``d tanh(x)/dx = 1 - y**2``, ``d exp(x)/dx = y``).

The reference engine (:mod:`course.engine`), forward mode, the graph widget's
labels and the project's tests all read this table, so a derivative is written
in exactly one place.

Numerical policy, the same everywhere:

* ``tanh`` and ``sigmoid`` are computed in forms that never overflow
  (``tanh(400) == 1.0``, ``sigmoid(-1000) == 0.0``);
* a negative base to a non-integer power raises :class:`ValueError`
  (never a complex number);
* ``x / 0`` and ``0 ** negative`` raise :class:`ZeroDivisionError`;
  ``log(x)`` for ``x <= 0`` raises :class:`ValueError`;
* ``relu'(0) = 0``, as in PyTorch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

Local = Callable[..., tuple[float, ...]]


@dataclass(frozen=True)
class Rule:
    """One primitive: its forward value, its local derivatives and its labels."""

    name: str  #: key in :data:`RULES`, e.g. ``"mul"``
    arity: int  #: number of differentiable inputs
    value: Callable[..., float]  #: ``value(*xs, **params) -> y``
    local: Local  #: ``local(xs, y, **params) -> (dy/dx_1, ...)``
    label: str  #: what a graph node shows, e.g. ``"*"``; ``{k}`` is filled from params
    derivative: str  #: the rule in words, for widgets and hints
    aliases: tuple[str, ...] = field(default=())  #: other op labels students use

    def node_label(self, **params: float) -> str:
        """The label of a node, e.g. ``"**2"`` for ``pow`` with ``k=2``."""
        return self.label.format(**{k: _num(v) for k, v in params.items()})


def _num(v: float) -> str:
    """2.0 -> '2', 0.5 -> '0.5'."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def power(a: float, k: float) -> float:
    """``a ** k`` for real numbers only: raise instead of returning a complex."""
    if a < 0 and not float(k).is_integer():
        raise ValueError(
            f"{a!r} ** {k!r}: a negative base to a non-integer power is not a real number"
        )
    if a == 0 and k < 0:
        raise ZeroDivisionError(f"0 ** {k!r}: zero to a negative power is infinite")
    try:
        return float(a) ** float(k)
    except OverflowError:  # 10.0 ** 400: inf, as exp(1000) and 1e200 * 1e200 give
        odd = float(k).is_integer() and float(k) % 2 == 1
        return -math.inf if a < 0 and odd else math.inf


def divide(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError(f"{a!r} / 0: division by zero")
    return a / b


def tanh(x: float) -> float:
    """math.tanh is already stable: tanh(400) == 1.0, tanh(-400) == -1.0."""
    return math.tanh(x)


def sigmoid(x: float) -> float:
    """``1 / (1 + e^-x)``, computed so that neither side overflows."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # x < 0: e in (0, 1), no overflow
    return e / (1.0 + e)


def log(x: float) -> float:
    if x <= 0:
        raise ValueError(f"log({x!r}): the logarithm is only defined for x > 0")
    return math.log(x)


def exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _powv_local(xs: tuple[float, ...], y: float) -> tuple[float, float]:
    """Local derivatives of ``a ** b`` when the exponent is a variable too.

    ``d/da = b a^(b-1)``; ``d/db = a^b log(a)`` for ``a > 0``, 0 for ``a == 0, b >= 0``
    and nan for ``a < 0`` (``a ** b`` is not real for nearby non-integer ``b``),
    as PyTorch does.
    """
    a, b = xs
    da = b * power(a, b - 1) if b != 0 else 0.0
    if a > 0:
        return da, y * math.log(a)
    return da, (0.0 if a == 0 and b >= 0 else math.nan)


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.name: r for r in rules}


RULES: dict[str, Rule] = _rules(
    Rule("add", 2, lambda a, b: a + b, lambda xs, y: (1.0, 1.0),
         "+", "d(a+b)/da = 1, d(a+b)/db = 1: a plus node passes the gradient on unchanged"),
    Rule("sub", 2, lambda a, b: a - b, lambda xs, y: (1.0, -1.0),
         "-", "d(a-b)/da = 1, d(a-b)/db = -1"),
    Rule("mul", 2, lambda a, b: a * b, lambda xs, y: (xs[1], xs[0]),
         "*", "d(a*b)/da = b, d(a*b)/db = a: a times node swaps its inputs"),
    Rule("div", 2, divide, lambda xs, y: (1.0 / xs[1], -xs[0] / xs[1] / xs[1]),
         "/", "d(a/b)/da = 1/b, d(a/b)/db = -a/b^2"),
    Rule("neg", 1, lambda a: -a, lambda xs, y: (-1.0,),
         "neg", "d(-a)/da = -1", aliases=("-1*",)),
    Rule("pow", 1, power, lambda xs, y, k: (k * power(xs[0], k - 1) if k != 0 else 0.0,),
         "**{k}", "d(a^k)/da = k a^(k-1)"),
    Rule("powv", 2, power, _powv_local,
         "**", "d(a^b)/da = b a^(b-1), d(a^b)/db = a^b log(a): the exponent is a variable too"),
    Rule("exp", 1, exp, lambda xs, y: (y,),
         "exp", "d exp(a)/da = exp(a)"),
    Rule("log", 1, log, lambda xs, y: (1.0 / xs[0],),
         "log", "d log(a)/da = 1/a"),
    Rule("tanh", 1, tanh, lambda xs, y: (1.0 - y * y,),
         "tanh", "d tanh(a)/da = 1 - tanh(a)^2"),
    Rule("sigmoid", 1, sigmoid, lambda xs, y: (y * (1.0 - y),),
         "sigmoid", "d sigmoid(a)/da = sigmoid(a) (1 - sigmoid(a))", aliases=("σ",)),
    Rule("relu", 1, lambda a: a if a > 0 else 0.0, lambda xs, y: (1.0 if xs[0] > 0 else 0.0,),
         "ReLU", "d relu(a)/da = 1 if a > 0 else 0", aliases=("relu",)),
    Rule("sin", 1, math.sin, lambda xs, y: (math.cos(xs[0]),),
         "sin", "d sin(a)/da = cos(a)"),
    Rule("cos", 1, math.cos, lambda xs, y: (-math.sin(xs[0]),),
         "cos", "d cos(a)/da = -sin(a)"),
)


def rule_for(label: str) -> tuple[Rule, dict[str, float]]:
    """Find the rule behind an op label as engines write it.

    Accepts rule names (``"mul"``), labels (``"*"``, ``"ReLU"``), aliases and
    micrograd's power labels (``"**2"``, ``"**-1"``, ``"**0.5"``), returning the
    rule and its parameters: ``rule_for("**2") == (RULES["pow"], {"k": 2.0})``.
    Raises :class:`KeyError` for an unknown label.
    """
    if label in RULES:
        return RULES[label], {}
    if label.startswith("**") and label != "**":  # "**" alone is powv
        return RULES["pow"], {"k": float(label[2:])}
    for r in RULES.values():
        if label == r.label or label in r.aliases or label.lower() == r.name:
            return r, {}
    raise KeyError(f"no derivative rule for the operation {label!r}")
