"""The picture of an array expression tree (course.tree_diagram), as dot draws it.

What is proved, on the SVG that dot really renders: every node of the tree is drawn once, a
box per value with its name and shape (and its gradient's shape when asked), an oval per
operation named after the op's class; every use of a value is one edge (a W used by two
layers draws two); the picture scales to the notebook column; the tree is only read.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

from course.expression_tree import Add, SquaredError, apply, backward, leaf, topological_order
from course.matrix_ops import MatVec, Tanh, layer
from course.tree_diagram import boxes, draw_tree

SVG = "{http://www.w3.org/2000/svg}"


def drawn(fig) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """What dot drew: each node's id with the texts inside it, and every edge (from, to)."""
    root = ET.fromstring(fig.pipe(format="svg", encoding="utf-8"))
    nodes, edges = {}, []
    for g in root.iter(f"{SVG}g"):
        title = g.findtext(f"{SVG}title")
        if g.get("class") == "node":
            nodes[title] = [t.text for t in g.iter(f"{SVG}text")]
        elif g.get("class") == "edge":
            edges.append(tuple(title.split("->")))
    return nodes, edges


def one_layer():
    rng = np.random.default_rng(4)
    W, x = leaf(rng.normal(size=(3, 4)), "W"), leaf(rng.normal(size=4), "x")
    b, t = leaf(rng.normal(size=3), "b"), leaf(np.array([0.5, -0.5, 0.0]), "t")
    return apply(SquaredError(), apply(Tanh(), apply(Add(), apply(MatVec(), W, x), b)), t, name="L")


def test_every_node_of_the_tree_is_drawn_once_with_its_name_and_shape():
    loss = one_layer()
    nodes, _ = drawn(draw_tree(loss))
    order = topological_order(loss)
    ops = [n for n in order if n.op is not None]
    assert len(nodes) == len(order) + len(ops) == 12
    names = {texts[0]: texts[1:] for texts in nodes.values() if len(texts) > 1}
    assert names == {"W": ["shape (3, 4)"], "x": ["shape (4,)"], "b": ["shape (3,)"], "t": ["shape (3,)"],
                     "v0": ["shape (3,)"], "v1": ["shape (3,)"], "v2": ["shape (3,)"],
                     "L": [f"{float(loss.value):.4f}"]}
    assert sorted(texts[0] for texts in nodes.values() if len(texts) == 1) == ["Add", "MatVec", "SquaredError", "Tanh"]


def test_every_use_of_a_value_is_one_edge_into_its_operation():
    """Two layers sharing W: W has two edges out, one per layer, and each op one edge per input."""
    rng = np.random.default_rng(5)
    W = leaf(rng.normal(size=(3, 3)), "W")
    x, b = leaf(rng.normal(size=3), "x"), leaf(np.zeros(3), "b")
    loss = apply(SquaredError(), layer(W, layer(W, x, b), b), leaf(np.zeros(3), "t"))
    nodes, edges = drawn(draw_tree(loss))
    by_name = {texts[0]: node_id for node_id, texts in nodes.items()}
    order = topological_order(loss)
    assert len(edges) == sum(len(n.parents) + 1 for n in order if n.op is not None)
    assert sum(1 for a, _ in edges if a == by_name["W"]) == 2
    assert sum(1 for a, _ in edges if a == by_name["b"]) == 2
    for box in boxes(loss):
        if box.op is not None:
            assert sorted(a for a, c in edges if c == f"{box.id}op") == sorted(box.inputs)
            assert (f"{box.id}op", box.id) in edges


def test_after_backward_each_box_shows_its_gradients_shape_and_the_tree_is_unchanged():
    loss = one_layer()
    backward(loss)
    before = [(n.value.copy(), n.grad.copy()) for n in topological_order(loss)]
    nodes, _ = drawn(draw_tree(loss, grads=True))
    names = {texts[0]: texts[1:] for texts in nodes.values() if len(texts) > 1}
    assert names["W"] == ["shape (3, 4)", "grad (3, 4)"] and names["L"][1] == "grad 1.0000"
    for (value, grad), n in zip(before, topological_order(loss)):
        np.testing.assert_array_equal(n.value, value)
        np.testing.assert_array_equal(n.grad, grad)


def test_the_picture_scales_to_the_notebook_column():
    html = draw_tree(one_layer(), title="L")._repr_mimebundle_()["text/html"]
    tag = re.search(r"<svg [^>]*>", html).group(0)
    assert 'width="100%"' in tag and "max-width:" in tag and "viewBox" in tag
