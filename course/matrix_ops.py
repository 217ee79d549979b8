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

:class:`MatVec` and :class:`Tanh` answer notebook 04's exercise 5 (this module is
withheld while notebook 04 is graded); ``Add``, ``SquaredError`` and the expression
tree (:class:`Node`, :func:`backward`, which visits the nodes in reverse topological
order and *adds* each contribution into the inputs' ``grad``) live in
:mod:`course.expression_tree`, open to every notebook, and are re-exported here.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .expression_tree import Add, Node, Op, SquaredError, apply, backward, leaf, topological_order

__all__ = ["MatVec", "Tanh", "Add", "SquaredError", "Node", "Op", "leaf", "apply", "topological_order",
           "backward", "layer", "squared_error", "two_layer_loss", "analytic_layer_gradients"]


class MatVec:
    """``y = W x`` for ``W`` of shape (m, n) and ``x`` of shape (n,)."""

    def forward(self, W: np.ndarray, x: np.ndarray) -> np.ndarray:
        self.W, self.x = W, x
        return W @ x

    def backward(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``dL/dW_ij = g_i x_j`` (shape (m, n)); ``dL/dx = W^T g`` (shape (n,))."""
        return np.outer(g, self.x), self.W.T @ g


class Tanh:
    """``y = tanh(z)`` elementwise; its Jacobian is ``diag(1 - y^2)``."""

    def forward(self, z: np.ndarray) -> np.ndarray:
        self.y = np.tanh(z)
        return self.y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray]:
        return (g * (1.0 - self.y ** 2),)


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
