"""The course's reference scalar autodiff engine.

A :class:`Value` holds one number (``data``), the derivative of the last
output that :meth:`Value.backward` was called on with respect to it (``grad``),
the values it was computed from (``_prev``, in order, duplicates kept, so
``a * a`` has two edges to ``a``) and the label of the operation that made it
(``_op``). Its interface is micrograd's, so micrograd expressions run
unchanged::

    a = Value(2.0); b = Value(-3.0)
    L = (a * b + 10).relu() ** 2 / 4
    L.backward()          # a.grad == dL/da, b.grad == dL/db

Each operation does three things, as in micrograd: compute the output,
attach how the output's gradient flows back to its inputs, return the output.
Both the forward value and every local derivative ``d output / d input`` come
from the rule table :data:`course.rules.RULES`; this module writes no
derivative of its own. ``v._backward()`` applies the chain rule at ``v``::

    input.grad += (d v / d input) * v.grad      for each input, in order

Where micrograd stores a new closure on every node, this engine stores the
rule's ``local`` function. A closure refers back to its node (a reference
cycle), so micrograd's graphs are only freed by Python's cycle collector,
which must scan them again and again while they grow; here a graph has no
cycles and is freed as soon as it is dropped. On the 337-parameter MLP that
is most of the difference in speed (``benchmarks/engine_vs_micrograd.py``).

Numerical policy (the rule table's): ``tanh`` and ``sigmoid`` never overflow,
a negative base to a non-integer power raises :class:`ValueError`, ``x / 0``
raises :class:`ZeroDivisionError`, ``log(x <= 0)`` raises :class:`ValueError`,
``relu'(0) = 0``.

Backpropagation visits the graph in a topological order built without
recursion, so graphs of any depth work (micrograd's recursive sort stops
near depth 1,000).
"""
from __future__ import annotations

import numbers
from functools import partial
from typing import Callable, Iterator, Union

from course.rules import RULES, Rule, rule_for

__all__ = ["Value", "topological_order"]

Operand = Union["Value", float, int]

def _as_float(x: object) -> float:
    """A real number as a Python float; anything else is a clear TypeError."""
    if isinstance(x, numbers.Real):  # int, float, bool, numpy integers and floats, Fraction
        return float(x)
    if isinstance(x, Value):
        raise TypeError("Value(...) takes a number, not a Value: use the Value itself")
    raise TypeError(f"a Value holds a real number, not {type(x).__name__} {x!r}")


def _wrap(x: Operand) -> Value:
    """A Value as is; a number as a constant leaf."""
    return x if isinstance(x, Value) else Value(x)


class Value:
    """One scalar in a computational graph, with the gradient backward() gives it.

    ``Value(data, label="a")`` makes a leaf (``data`` becomes a Python float;
    numpy scalars are welcome). Numbers on either side of an operator are
    wrapped into constant leaves, so ``2 - v``, ``v / 2``, ``2 ** v`` and
    ``sum([v, w])`` all work and keep every input as a child; a constant gets a
    ``grad`` like any leaf, which nothing reads and nothing needs.

    Equality is identity (``__eq__`` is not overridden), so values can be put
    in sets and dicts; tools should still key on ``id()``.
    """

    __slots__ = ("data", "grad", "_prev", "_op", "_local", "label", "__weakref__")
    #: numpy scalars defer to Value: ``np.float64(2) * v`` calls ``v.__rmul__``
    __array_ufunc__ = None

    def __init__(self, data: float, _children: tuple[Value, ...] = (), _op: str = "",
                 label: str = "") -> None:
        self.data: float = data if type(data) is float else _as_float(data)
        self.grad: float = 0.0
        self._prev: tuple[Value, ...] = _children if type(_children) is tuple else tuple(_children)
        self._op: str = _op
        self._local: Callable[..., tuple[float, ...]] | None = None  # set by the operation
        self.label: str = label

    # ---- the two shapes every operation takes -------------------------------
    @staticmethod
    def _unary(rule: Rule, a: Value, op: str | None = None, **params: float) -> Value:
        """``out = rule(a)``, remembering ``rule.local`` for the chain rule."""
        out = Value(rule.value(a.data, **params), (a,), op or rule.label)
        out._local = partial(rule.local, **params) if params else rule.local
        return out

    @staticmethod
    def _binary(rule: Rule, a: Value, b: Value) -> Value:
        """``out = rule(a, b)``, remembering ``rule.local`` for the chain rule."""
        out = Value(rule.value(a.data, b.data), (a, b), rule.label)
        out._local = rule.local
        return out

    def _backward(self) -> None:
        """The chain rule at this node: every input gets ``d self/d input * self.grad``.

        micrograd's ``v._backward()``; the local derivatives are the rule's."""
        prev, g = self._prev, self.grad
        if prev and self._local is None:
            raise RuntimeError(
                f"{self!r} was built by hand from {len(prev)} inputs with no local derivative:"
                " make values with operators (a * b, a.tanh(), ...)")
        if len(prev) == 2:
            a, b = prev
            da, db = self._local((a.data, b.data), self.data)
            a.grad += da * g
            b.grad += db * g
        elif prev:
            (a,) = prev
            (da,) = self._local((a.data,), self.data)
            a.grad += da * g

    # ---- arithmetic: a Value or a number on either side ---------------------
    def __add__(self, other: Operand) -> Value:
        return Value._binary(RULES["add"], self, _wrap(other))

    def __radd__(self, other: Operand) -> Value:  # other + self, e.g. sum() starting at 0
        return Value._binary(RULES["add"], Value(other), self)

    def __sub__(self, other: Operand) -> Value:
        return Value._binary(RULES["sub"], self, _wrap(other))

    def __rsub__(self, other: Operand) -> Value:  # other - self
        return Value._binary(RULES["sub"], Value(other), self)

    def __mul__(self, other: Operand) -> Value:
        return Value._binary(RULES["mul"], self, _wrap(other))

    def __rmul__(self, other: Operand) -> Value:  # other * self
        return Value._binary(RULES["mul"], Value(other), self)

    def __truediv__(self, other: Operand) -> Value:
        return Value._binary(RULES["div"], self, _wrap(other))

    def __rtruediv__(self, other: Operand) -> Value:  # other / self
        return Value._binary(RULES["div"], Value(other), self)

    def __neg__(self) -> Value:
        return Value._unary(RULES["neg"], self)

    def __pow__(self, k: Operand) -> Value:
        """``self ** k``: a number k is a constant exponent (rule ``pow``, label ``**k``);
        a Value k is differentiated too (rule ``powv``: ``d/dk a**k = a**k log a``)."""
        if isinstance(k, Value):
            return Value._binary(RULES["powv"], self, k)
        k = _as_float(k)  # np.int64(2) -> 2.0, so gradients stay Python floats
        rule = RULES["pow"]
        return Value._unary(rule, self, rule.node_label(k=k), k=k)

    def __rpow__(self, base: Operand) -> Value:  # base ** self, e.g. 2 ** v
        return Value._binary(RULES["powv"], Value(base), self)

    # ---- functions ----------------------------------------------------------
    def relu(self) -> Value:
        return Value._unary(RULES["relu"], self)

    def tanh(self) -> Value:
        return Value._unary(RULES["tanh"], self)

    def exp(self) -> Value:
        return Value._unary(RULES["exp"], self)

    def log(self) -> Value:
        return Value._unary(RULES["log"], self)

    def sigmoid(self) -> Value:
        return Value._unary(RULES["sigmoid"], self)

    def sin(self) -> Value:
        return Value._unary(RULES["sin"], self)

    def cos(self) -> Value:
        return Value._unary(RULES["cos"], self)

    # ---- backpropagation ----------------------------------------------------
    def backward(self) -> None:
        """Fill ``.grad`` of every value this one depends on with ``d self / d value``.

        Semantics: the seed is *set*, ``self.grad = 1.0`` (also when ``self``
        is a leaf); every intermediate value (one with inputs) has its grad
        reset to 0 first, so its grad is always this pass's derivative; leaves
        (values with no inputs: parameters, inputs, constants) *accumulate*,
        as in PyTorch: calling ``backward()`` twice, or on two outputs, adds
        the gradients, so call ``zero_grad()`` (or set ``p.grad = 0``) between
        training steps.

        No recursion: a chain 100,000 deep works.
        """
        order = _interior_order(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()

    # ---- for tools (graph widgets, checks) ----------------------------------
    @property
    def children(self) -> tuple[Value, ...]:
        """The inputs this value was computed from, in order, duplicates kept."""
        return self._prev

    @property
    def op(self) -> str:
        """The label of the operation that made this value (``""`` for a leaf)."""
        return self._op

    @property
    def rule(self) -> tuple[Rule, dict[str, float]] | None:
        """The rule behind :attr:`op` and its parameters, or None for a leaf."""
        return rule_for(self._op) if self._op else None

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"


def _interior_order(root: Value) -> list[Value]:
    """The values with inputs that ``root`` depends on (root included), each after all
    of its inputs, with their grads reset to 0.0 on the way.

    Iterative depth-first post-order: expanding a node pushes it back under a
    ``None`` marker with its unvisited inputs above, so it is emitted only once
    everything above the marker, its inputs, has been. Leaves are never emitted
    (their backward does nothing). Visited is keyed on ``id()``, so it needs no
    hashing or equality of values.
    """
    order: list[Value] = []
    if not root._prev:
        return order
    seen: set[int] = set()
    stack: list[Value | None] = [root]
    pop, push, visit, emit = stack.pop, stack.append, seen.add, order.append
    while stack:
        v = pop()
        if v is None:  # the marker pushed below: the node under it has all inputs emitted
            v = pop()
            v.grad = 0.0
            emit(v)
        elif id(v) not in seen:
            visit(id(v))
            push(v)
            push(None)
            for c in v._prev:
                if c._prev and id(c) not in seen:
                    push(c)
    return order


def topological_order(root: Value) -> list[Value]:
    """Every value ``root`` depends on, leaves included, each after all its inputs.

    Several orders are valid; this one is deterministic (depth-first, inputs
    in order) and built without recursion.
    """
    order: list[Value] = []
    seen = {id(root)}
    stack: list[tuple[Value, Iterator[Value]]] = [(root, iter(root._prev))]
    while stack:
        v, inputs = stack[-1]
        for c in inputs:
            if id(c) not in seen:
                seen.add(id(c))
                stack.append((c, iter(c._prev)))
                break
        else:
            stack.pop()
            order.append(v)
    return order
