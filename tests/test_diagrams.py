"""Static graph pictures (course.diagrams) fit the notebook column.

What is proved: draw() and draw_values() show themselves as inline SVG with
width 100% and their natural width as max-width (wide graphs shrink, small ones
keep their size) and stay Digraphs (source, pipe); draw_values names values as
the student did and shows the grads their engine computed, without changing
their objects.
"""
from __future__ import annotations

import re

from course.diagrams import Figure, Step, draw, draw_values
from course.engine import Value
from course.graph_svg import natural_width

F_STEPS = [Step("v0", "pow", ("x0",), {"k": 2}), Step("v1", "div", ("v0", "x1")),
           Step("v2", "cos", ("x0",)), Step("v3", "mul", ("v1", "v2")),
           Step("v4", "div", ("x0", "x1")), Step("v5", "exp", ("v4",)), Step("v6", "add", ("v3", "v5"))]


def shown_svg(fig: Figure) -> str:
    html = fig._repr_mimebundle_()["text/html"]
    assert "image/svg+xml" not in fig._repr_mimebundle_(), "an SVG output is an <img> of fixed size"
    return html


def test_a_wide_hand_written_graph_scales_to_the_column_and_keeps_its_natural_size_as_the_limit():
    fig = draw(F_STEPS, values={f"v{i}": -1.2345 for i in range(7)}, grads={"x0": 1.0, "x1": -2.5})
    natural = natural_width(fig.pipe(format="svg", encoding="utf-8"))
    assert natural > 968, "wider than a notebook column: the case that ran off screen"
    tag = re.search(r"<svg [^>]*>", shown_svg(fig)).group(0)
    assert 'width="100%"' in tag and f"max-width:{natural:.0f}px" in tag and "viewBox" in tag
    assert 'height="' not in tag, "the height follows the viewBox's aspect ratio"
    assert "v0 -> v1__op" in fig.source.replace('"', ""), "still a Digraph"


def test_draw_values_names_values_as_the_student_did_and_shows_their_engines_grads():
    x1, w1, b = Value(2.0), Value(-3.0), Value(1.0)
    o = (x1 * w1 + b).tanh()
    o.backward()
    before = [(v.data, v.grad) for v in (x1, w1, b, o)]
    fig = draw_values(o, x1=x1, w1=w1, b=b, o=o)
    src = fig.source
    assert "x1 | data 2.0000 | grad" in src and f"grad {x1.grad:.4f}" in src
    assert "v0 | data -6.0000" in src, "unnamed computed values: v0, v1, ... as in the steppers"
    assert src.count("->") == (2 + 2 + 1) + 3, "one edge per use (5) plus op -> value (3)"
    assert [(v.data, v.grad) for v in (x1, w1, b, o)] == before
    assert 'width="100%"' in shown_svg(fig)
