"""The derivative rules of every primitive, defined once.

Each primitive operation ``y = op(x_1, ..., x_k; params)`` has

* ``value(*xs, **params)``: the forward computation, ``y``;
* ``local(xs, y, **params)``: the local derivatives ``(dy/dx_1, ..., dy/dx_k)``
  evaluated at the inputs ``xs`` (a tuple of floats) and the output ``y``.
  Rules that are cheaper in terms of the output use it
  (``d tanh(x)/dx = 1 - y**2``, ``d exp(x)/dx = y``).

The table also names the Python operators and methods that apply each rule
(``Rule.methods``: ``a * b`` is ``mul``; ``Rule.reflected``: ``2 * a`` is ``mul``
with the number first), and :func:`install_operators` gives them to a number
type, so the operator set is defined once, here, for every number type: the
reference engine (:class:`course.engine.Value`), forward mode
(:class:`course.dual.Dual`) and the tape (:class:`course.tape.Var`). Each type
writes one hook, ``_apply(rule_name, *operands, **params)``; the graph widget's
labels, the checks (:func:`local_derivatives`) and the project's tests read the
same table, so a derivative is written in exactly one place and a rule added
with :func:`register` appears on every number type at once.

A variable exponent is one rule everywhere: ``a ** b`` is ``powv`` when ``b`` is
a number type and ``pow`` (parameter ``k = b``) when ``b`` is a plain number;
``2 ** a`` is ``powv(2, a)``.

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
from typing import Any, Callable, TypeVar

Local = Callable[..., tuple[float, ...]]
T = TypeVar("T", bound=type)


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
    #: Python names that apply the rule to ``(self, *others)``: ``("__mul__",)``, ``("tanh",)``
    methods: tuple[str, ...] = field(default=())
    #: Python names that apply it to ``(other, self)``: ``2 * a`` calls ``a.__rmul__(2)``
    reflected: tuple[str, ...] = field(default=())
    #: ``(rule, param)``: this rule is ``rule`` with its last operand a plain number,
    #: passed as ``param`` (``pow`` is ``powv`` with a constant exponent ``k``)
    constant_of: tuple[str, str] = field(default=())

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
         "+", "d(a+b)/da = 1, d(a+b)/db = 1: a plus node passes the gradient on unchanged",
         methods=("__add__",), reflected=("__radd__",)),
    Rule("sub", 2, lambda a, b: a - b, lambda xs, y: (1.0, -1.0),
         "-", "d(a-b)/da = 1, d(a-b)/db = -1",
         methods=("__sub__",), reflected=("__rsub__",)),
    Rule("mul", 2, lambda a, b: a * b, lambda xs, y: (xs[1], xs[0]),
         "*", "d(a*b)/da = b, d(a*b)/db = a: a times node swaps its inputs",
         methods=("__mul__",), reflected=("__rmul__",)),
    Rule("div", 2, divide, lambda xs, y: (1.0 / xs[1], -xs[0] / xs[1] / xs[1]),
         "/", "d(a/b)/da = 1/b, d(a/b)/db = -a/b^2",
         methods=("__truediv__",), reflected=("__rtruediv__",)),
    Rule("neg", 1, lambda a: -a, lambda xs, y: (-1.0,),
         "neg", "d(-a)/da = -1", aliases=("-1*",), methods=("__neg__",)),
    Rule("pow", 1, power, lambda xs, y, k: (k * power(xs[0], k - 1) if k != 0 else 0.0,),
         "**{k}", "d(a^k)/da = k a^(k-1)", constant_of=("powv", "k")),
    Rule("powv", 2, power, _powv_local,
         "**", "d(a^b)/da = b a^(b-1), d(a^b)/db = a^b log(a): the exponent is a variable too",
         methods=("__pow__",), reflected=("__rpow__",)),
    Rule("exp", 1, exp, lambda xs, y: (y,),
         "exp", "d exp(a)/da = exp(a)", methods=("exp",)),
    Rule("log", 1, log, lambda xs, y: (1.0 / xs[0],),
         "log", "d log(a)/da = 1/a", methods=("log",)),
    Rule("tanh", 1, tanh, lambda xs, y: (1.0 - y * y,),
         "tanh", "d tanh(a)/da = 1 - tanh(a)^2", methods=("tanh",)),
    Rule("sigmoid", 1, sigmoid, lambda xs, y: (y * (1.0 - y),),
         "sigmoid", "d sigmoid(a)/da = sigmoid(a) (1 - sigmoid(a))", aliases=("σ",),
         methods=("sigmoid",)),
    Rule("relu", 1, lambda a: a if a > 0 else 0.0, lambda xs, y: (1.0 if xs[0] > 0 else 0.0,),
         "ReLU", "d relu(a)/da = 1 if a > 0 else 0", aliases=("relu",), methods=("relu",)),
    Rule("sin", 1, math.sin, lambda xs, y: (math.cos(xs[0]),),
         "sin", "d sin(a)/da = cos(a)", methods=("sin",)),
    Rule("cos", 1, math.cos, lambda xs, y: (-math.sin(xs[0]),),
         "cos", "d cos(a)/da = -sin(a)", methods=("cos",)),
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


# ---- reading the table ------------------------------------------------------

def evaluate(name: str, xs: tuple[float, ...], **params: float) -> tuple[float, tuple[float, ...]]:
    """``(y, (dy/dx_1, ...))`` of rule ``name`` at the inputs ``xs``: its value and local derivatives.

    ``evaluate("mul", (2.0, 3.0)) == (6.0, (3.0, 2.0))``.
    """
    rule = RULES[name]
    y = rule.value(*xs, **params)
    return y, rule.local(xs, y, **params)


def local_derivatives(name: str, xs: tuple[float, ...], **params: float) -> tuple[float, ...]:
    """The table's local derivatives ``(dy/dx_1, ...)`` of rule ``name`` at ``xs``.

    What a check expects of a local backward:
    ``local_derivatives("mul", (a, b)) == (b, a)``,
    ``local_derivatives("pow", (a,), k=3) == (3 * a**2,)``.
    """
    return evaluate(name, tuple(float(x) for x in xs), **{p: float(v) for p, v in params.items()})[1]


def functions() -> dict[str, str]:
    """Method names that read as functions (``tanh``, not ``__mul__``), each with its rule's name."""
    return {m: r.name for r in RULES.values() for m in r.methods if not m.startswith("__")}


def operator_names() -> frozenset[str]:
    """Every name :func:`install_operators` gives a number type: the table's methods and
    reflected forms, and ``__pos__`` (``+x`` is ``x`` itself: no rule, nothing recorded)."""
    names = {m for r in RULES.values() for m in (*r.methods, *r.reflected)}
    return frozenset(names | {"__pos__"})


# ---- giving the table's operators to a number type ---------------------------

#: every class :func:`install_operators` has equipped, so :func:`register` reaches them all
NUMBER_TYPES: list[type] = []


def install_operators(cls: T) -> T:
    """Class decorator: give ``cls`` every operator and method the table names.

    ``cls`` writes one hook, ``_apply(self, rule_name, *operands, **params)``,
    which applies rule ``rule_name`` to the operands in order (``self`` is one
    of them; the others may be plain numbers) and returns a new number. Then::

        a * b    is  a._apply("mul", a, b)
        2 - a    is  a._apply("sub", 2, a)         (reflected: a.__rsub__(2))
        a.tanh() is  a._apply("tanh", a)
        a ** b   is  a._apply("powv", a, b)        (b of type cls)
        a ** 3   is  a._apply("pow", a, k=3)       (a plain number: pow's parameter)
        +a       is  a

    The rule is looked up by name when the operation runs, so a change to
    :data:`RULES` shows at once. A class that writes one of these names itself
    is refused (:class:`TypeError`): the table is the one definition.
    """
    methods = _methods(cls)
    for name in methods:
        own = vars(cls).get(name)
        if own is not None and getattr(own, "__module__", None) != __name__:
            raise TypeError(f"{cls.__name__}.{name} is written by hand, but the rule table defines it:"
                            " give the rule its Python names in course.rules instead")
    for name, method in methods.items():
        setattr(cls, name, method)
    if cls not in NUMBER_TYPES:
        NUMBER_TYPES.append(cls)
    return cls


def register(rule: Rule) -> Rule:
    """Add ``rule`` to :data:`RULES` and its operators to every number type at once
    (autodidact's one registration per primitive)."""
    RULES[rule.name] = rule
    for cls in NUMBER_TYPES:
        install_operators(cls)
    return rule


def _methods(cls: type) -> dict[str, Callable[..., Any]]:
    """The functions :func:`install_operators` sets on ``cls``, by Python name."""
    #: general rule -> (its rule for a constant last operand, that rule's parameter)
    constant = {r.constant_of[0]: (r.name, r.constant_of[1]) for r in RULES.values() if r.constant_of}
    out: dict[str, Callable[..., Any]] = {"__pos__": _identity}
    for r in RULES.values():
        for py in r.methods:
            if r.name in constant:  # a ** b: powv for a number type b, pow(k=b) for a number b
                out[py] = _unless_constant(cls, r.name, *constant[r.name])
            elif r.arity == 1:
                out[py] = _unary(r.name)
            else:
                out[py] = _binary(r.name)
        for py in r.reflected:
            out[py] = _reflected(r.name)
    for py, fn in out.items():
        if fn is not _identity:
            fn.__name__, fn.__qualname__ = py, f"{cls.__name__}.{py}"
    return out


def _identity(self: Any) -> Any:
    """``+x`` is ``x``: nothing is computed, so no rule and no node."""
    return self


def _unary(name: str) -> Callable[[Any], Any]:
    def method(self: Any) -> Any:
        return self._apply(name, self)
    method.__doc__ = f"Rule {name!r} of course.rules.RULES on self: {RULES[name].derivative}."
    return method


def _binary(name: str) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        return self._apply(name, self, other)
    method.__doc__ = f"Rule {name!r} of course.rules.RULES on (self, other): {RULES[name].derivative}."
    return method


def _reflected(name: str) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        return self._apply(name, other, self)
    method.__doc__ = (f"Rule {name!r} of course.rules.RULES on (other, self), a number on the left:"
                      f" {RULES[name].derivative}.")
    return method


def _unless_constant(cls: type, name: str, constant: str, param: str) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        if isinstance(other, cls):
            return self._apply(name, self, other)
        return self._apply(constant, self, **{param: other})
    method.__doc__ = (f"Rule {name!r} of course.rules.RULES on (self, other) when other is a"
                      f" {cls.__name__}: {RULES[name].derivative}; rule {constant!r} with"
                      f" {param} = other when other is a plain number: {RULES[constant].derivative}.")
    return method
