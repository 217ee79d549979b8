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
attach how the output's gradient flows back to its inputs, return the output
(:meth:`Value._apply`, a few lines). Both the forward value and every local
derivative ``d output / d input`` come from the rule table
:data:`course.rules.RULES`, which also names the operators: the table installs
``+ - * / **``, their reflected forms and ``tanh``, ``exp``, ... onto
``Value`` (:func:`course.rules.install_operators`), as it does onto forward
mode's ``Dual`` and the tape's ``Var``. This module writes no derivative and no
operator of its own. ``v._backward()`` applies the chain rule at ``v``::

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

from course.rules import RULES, Rule, install_operators, rule_for

__all__ = ["Value", "topological_order"]

Operand = Union["Value", float, int]

def _as_float(x: object) -> float:
    """A real number as a Python float; anything else is a clear TypeError."""
    if isinstance(x, numbers.Real):  # int, float, bool, numpy integers and floats, Fraction
        return float(x)
    if isinstance(x, Value):
        raise TypeError("Value(...) takes a number, not a Value: use the Value itself")
    raise TypeError(f"a Value holds a real number, not {type(x).__name__} {x!r}")


@install_operators
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

    # ---- the one operation: every operator and method calls it ---------------
    def _apply(self, name: str, *operands: Operand, **params: float) -> Value:
        """``out = rule(*operands)``, remembering the rule's local derivatives for backward.

        The operators (``+ - * / ** neg`` and their reflected forms) and the
        methods (``tanh``, ``exp``, ...) are installed from the rule table by
        :func:`course.rules.install_operators`; each is one call of this hook:
        ``a * b`` is ``a._apply("mul", a, b)``, ``2 ** a`` is
        ``a._apply("powv", 2, a)``, ``a ** 3`` is ``a._apply("pow", a, k=3)``.
        """
        rule = RULES[name]
        # 0. the inputs: a number becomes a constant leaf; xs are their data. Spelled out for
        #    the table's arities, 2 and 1: this runs on every operation (a loop costs 10%).
        if len(operands) == 2:
            a, b = operands
            if not (isinstance(a, Value) and isinstance(b, Value)):
                operands = a, b = (a if isinstance(a, Value) else Value(a),
                                   b if isinstance(b, Value) else Value(b))
            xs: tuple[float, ...] = (a.data, b.data)
        elif len(operands) == 1 and isinstance(operands[0], Value):
            xs = (operands[0].data,)
        else:
            operands = tuple([x if isinstance(x, Value) else Value(x) for x in operands])
            xs = tuple([v.data for v in operands])
        if params:  # pow's k: a Python float (np.int64(2) -> 2.0), shown in the label "**2"
            params = {p: _as_float(v) for p, v in params.items()}
            out = Value(rule.value(*xs, **params), operands, rule.node_label(**params))  # 1. the output
            out._local = partial(rule.local, **params)  # 2. its local backward: the rule's
        else:
            out = Value(rule.value(*xs), operands, rule.label)  # 1. the output
            out._local = rule.local  # 2. its local backward (applied by _backward)
        return out  # 3. return it

    def _backward(self) -> None:
        """The chain rule at this node: every input gets ``d self/d input * self.grad``.

        micrograd's ``v._backward()``; the local derivatives are the rule's."""
        prev, g = self._prev, self.grad
        try:
            if len(prev) == 2:
                a, b = prev
                da, db = self._local((a.data, b.data), self.data)
                a.grad += da * g
                b.grad += db * g
            elif prev:
                (a,) = prev
                (da,) = self._local((a.data,), self.data)
                a.grad += da * g
        except TypeError:
            if self._local is None:  # checked only here: a check per node costs time on every node
                raise RuntimeError(
                    f"{self!r} was built by hand from {len(prev)} inputs with no local derivative:"
                    " make values with operators (a * b, a.tanh(), ...)") from None
            raise

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
