"""Reverse mode on vectors and matrices: atomic operations and an expression tree.

Each operation ``y = op(x_1, ..., x_k)`` defines

* ``forward(*xs)``: the value ``y``, remembering what the backward needs;
* ``backward(g)``: given the incoming gradient ``g = dL/dy`` (same shape as
  ``y``), the vector-Jacobian products ``dL/dx_j = J_j^T g`` (same shape as
  ``x_j``), one per input. The Jacobian itself is never built.

The operations of a layer ``tanh(W x + b)`` and a squared-error loss
``L = sum((y - t)^2)``:

=================  ==================  ===========================================
op                 forward             backward (VJP)
=================  ==================  ===========================================
``MatVec``         ``W @ x``           ``dW = g x^T`` (outer), ``dx = W^T g``
``Add``            ``a + b``           ``(g, g)``
``Tanh``           ``tanh(z)``         ``g * (1 - y^2)`` (elementwise)
``SquaredError``   ``sum((y - t)^2)``  ``(2 (y - t) g, -2 (y - t) g)``
=================  ==================  ===========================================

:class:`Node` composes them into an expression tree; :func:`backward` visits
the nodes in reverse topological order and *adds* each contribution into the
inputs' ``grad`` (a node used twice receives both).
"""
from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy as np


class Op(Protocol):
    def forward(self, *xs: np.ndarray) -> np.ndarray: ...
    def backward(self, g: np.ndarray) -> tuple[np.ndarray, ...]: ...


class MatVec:
    """``y = W x`` for ``W`` of shape (m, n) and ``x`` of shape (n,)."""

    def forward(self, W: np.ndarray, x: np.ndarray) -> np.ndarray:
        self.W, self.x = W, x
        return W @ x

    def backward(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``dL/dW_ij = g_i x_j`` (shape (m, n)); ``dL/dx = W^T g`` (shape (n,))."""
        return np.outer(g, self.x), self.W.T @ g


class Add:
    """``y = a + b`` (same shapes)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return g, g


class Tanh:
    """``y = tanh(z)`` elementwise; its Jacobian is ``diag(1 - y^2)``."""

    def forward(self, z: np.ndarray) -> np.ndarray:
        self.y = np.tanh(z)
        return self.y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray]:
        return (g * (1.0 - self.y ** 2),)


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


def layer(W: Node, x: Node, b: Node, ops: Any = None) -> Node:
    """``tanh(W x + b)`` as three nodes; ``ops`` may supply other MatVec/Add/Tanh classes."""
    mv, add, th = (MatVec, Add, Tanh) if ops is None else ops
    return apply(th(), apply(add(), apply(mv(), W, x), b))


def squared_error(y: Node, t: Node) -> Node:
    return apply(SquaredError(), y, t)


def two_layer_loss(W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray,
                   x: np.ndarray, t: np.ndarray) -> tuple[Node, dict[str, Node]]:
    """``L = sum((tanh(W2 tanh(W1 x + b1) + b2) - t)^2)``, after :func:`backward`."""
    leaves = {k: leaf(v, k) for k, v in dict(W1=W1, b1=b1, W2=W2, b2=b2, x=x, t=t).items()}
    h = layer(leaves["W1"], leaves["x"], leaves["b1"])
    y = layer(leaves["W2"], h, leaves["b2"])
    loss = squared_error(y, leaves["t"])
    backward(loss)
    return loss, leaves


def analytic_layer_gradients(W: np.ndarray, x: np.ndarray, b: np.ndarray, t: np.ndarray
                             ) -> dict[str, np.ndarray]:
    """By hand, for ``L = sum((tanh(W x + b) - t)^2)``: ``delta = 2 (y - t) (1 - y^2)``,
    ``dL/dW = delta x^T``, ``dL/db = delta``, ``dL/dx = W^T delta``."""
    y = np.tanh(W @ x + b)
    delta = 2.0 * (y - t) * (1.0 - y ** 2)
    return {"W": np.outer(delta, x), "b": delta, "x": W.T @ delta}
