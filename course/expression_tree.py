"""Reverse mode on arrays: the expression tree and the operations no exercise asks for.

An operation ``y = op(x_1, ..., x_k)`` has ``forward(*xs)`` (the value, remembering
what the backward needs) and ``backward(g)`` (given ``g = dL/dy``, the vector-Jacobian
products ``dL/dx_j``, one per input, each of its input's shape). :func:`apply` makes a
:class:`Node` that remembers its op and inputs; :func:`backward` seeds the root and
visits the nodes in reverse topological order, *adding* each contribution into the
inputs' ``grad`` (a node used twice receives both).

``Add`` and ``SquaredError`` are here; ``MatVec`` and ``Tanh``, notebook 04's exercise,
are in :mod:`course.matrix_ops`, which is withheld while notebook 04 is graded.
"""
from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy as np


class Op(Protocol):
    def forward(self, *xs: np.ndarray) -> np.ndarray: ...
    def backward(self, g: np.ndarray) -> tuple[np.ndarray, ...]: ...


class Add:
    """``y = a + b`` (same shapes)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return g, g


class SquaredError:
    """``L = sum((y - t)^2)``, a scalar."""

    def forward(self, y: np.ndarray, t: np.ndarray) -> np.ndarray:
        self.r = y - t
        return np.asarray(np.sum(self.r ** 2))

    def backward(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return 2.0 * self.r * g, -2.0 * self.r * g


class Node:
    """A value in the expression tree: a leaf (``op is None``) or ``op(*parents)``."""

    def __init__(self, value: Any, op: Any = None, parents: Sequence["Node"] = (), name: str = "") -> None:
        self.value = np.asarray(value, dtype=float)
        self.op = op
        self.parents = tuple(parents)
        self.name = name
        self.grad = np.zeros_like(self.value)

    def __repr__(self) -> str:
        what = type(self.op).__name__ if self.op is not None else "leaf"
        return f"Node({self.name or what}, shape={self.value.shape})"


def leaf(value: Any, name: str = "") -> Node:
    return Node(value, name=name)


def apply(op: Any, *parents: Node, name: str = "") -> Node:
    """Run ``op.forward`` on the parents' values and make the node that remembers them."""
    return Node(op.forward(*(p.value for p in parents)), op, parents, name)


def topological_order(root: Node) -> list[Node]:
    """Every node after all of its inputs (iterative: deep graphs do not recurse)."""
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for p in reversed(node.parents):
            if id(p) not in seen:
                stack.append((p, False))
    return order


def backward(root: Node, seed: Any = 1.0) -> None:
    """Fill ``grad`` of every node: seed the root, then push VJPs in reverse topological order."""
    order = topological_order(root)
    for n in order:
        n.grad = np.zeros_like(n.value)
    root.grad = np.broadcast_to(np.asarray(seed, dtype=float), root.value.shape).copy()
    for n in reversed(order):
        if n.op is None:
            continue
        grads = n.op.backward(n.grad)
        if len(grads) != len(n.parents):
            raise ValueError(f"{type(n.op).__name__}.backward returned {len(grads)} gradients "
                             f"for {len(n.parents)} inputs")
        for p, g in zip(n.parents, grads):
            g = np.asarray(g, dtype=float)
            if g.shape != p.value.shape:
                raise ValueError(f"{type(n.op).__name__}.backward: gradient of shape {g.shape} "
                                 f"for an input of shape {p.value.shape}")
            p.grad = p.grad + g
