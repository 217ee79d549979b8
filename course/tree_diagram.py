"""A picture of an array expression tree (:mod:`course.expression_tree`).

Notebook 04 builds ``L = sum((tanh(W x + b) - t)^2)`` from array operations
(``MatVec``, ``Add``, ``Tanh``, ``SquaredError``). :func:`draw_tree` draws that
tree the way :mod:`course.diagrams` draws scalar graphs: a box per value (its
name and shape, or its value when it is a scalar), a circle per operation named
after the op's class, one edge per use (a node used twice draws two edges).
After ``backward`` the boxes can show each gradient's shape, which is always its
value's: the point of a vector-Jacobian product.

The result is a :class:`course.diagrams.Figure`: Jupyter shows it as inline SVG
that scales down to the notebook column. Nothing here evaluates or
differentiates, and the tree's nodes are only read.
"""
from __future__ import annotations

from dataclasses import dataclass

from .diagrams import Figure
from .expression_tree import Node, topological_order

__all__ = ["TreeBox", "boxes", "draw_tree"]


@dataclass(frozen=True)
class TreeBox:
    """One value of the tree as the picture shows it."""

    id: str  #: the Graphviz node id, ``n<k>`` for the k-th node in topological order
    label: str  #: ``"W | shape (3, 4)"``, ``"v2 | shape (3,)"``, ``"L | 0.8123"``
    op: str | None  #: the op's class name (``"MatVec"``), None for a leaf
    inputs: tuple[str, ...]  #: ids of the op's inputs, in order, repeats kept


def _shape(shape: tuple[int, ...]) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else str(tuple(shape))


def _label(node: Node, name: str, grads: bool) -> str:
    """``name | shape (m, n)`` (or ``name | value`` for a scalar), then ``grad (m, n)`` when asked."""
    value = node.value
    fields = [name, f"{float(value):.4f}" if value.ndim == 0 else f"shape {_shape(value.shape)}"]
    if grads:
        grad = getattr(node, "grad", None)
        shape = getattr(grad, "shape", None)
        fields.append("grad ?" if shape is None else
                      f"grad {float(grad):.4f}" if shape == () else f"grad {_shape(shape)}")
    return " | ".join(fields)


def boxes(root: Node, *, grads: bool = False) -> list[TreeBox]:
    """Every node of the tree under ``root``, leaves and inputs first: what :func:`draw_tree` draws.

    A node's name is its own (``leaf(W, "W")``); an unnamed one is ``v0, v1, ...``
    in order of computation.
    """
    order = topological_order(root)
    ids = {id(n): f"n{k}" for k, n in enumerate(order)}
    out, unnamed = [], 0
    for n in order:
        name = n.name
        if not name:
            name, unnamed = f"v{unnamed}", unnamed + 1
        op = None if n.op is None else type(n.op).__name__
        out.append(TreeBox(ids[id(n)], _label(n, name, grads), op, tuple(ids[id(p)] for p in n.parents)))
    return out


def draw_tree(root: Node, *, title: str | None = None, grads: bool = False) -> Figure:
    """The expression tree under ``root`` as a :class:`~course.diagrams.Figure` (left to right:
    inputs to loss). ``grads=True`` adds each node's gradient shape (after ``backward``)."""
    fig = Figure(graph_attr={"rankdir": "LR", "bgcolor": "white", "nodesep": "0.2", "ranksep": "0.3"},
                 node_attr={"fontname": "Helvetica", "fontsize": "11"}, edge_attr={"arrowsize": "0.7"})
    if title:
        fig.attr(label=title, labelloc="t", fontname="Helvetica", fontsize="13")
    for box in boxes(root, grads=grads):
        fig.node(box.id, label=box.label, shape="record", style="filled",
                 fillcolor="#e8f0fe" if box.op is None else "#ffffff")
        if box.op is not None:
            fig.node(f"{box.id}op", label=box.op, shape="ellipse", style="filled", fillcolor="#fff4d6")
            fig.edge(f"{box.id}op", box.id)
            for i in box.inputs:
                fig.edge(i, f"{box.id}op")
    return fig
