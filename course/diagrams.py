"""Pictures and tables of computational graphs written out by hand.

Notebook 02 breaks expressions into intermediate variables, one elementary
operation each, before any engine exists. A hand-written graph is a list of
:class:`Step` records::

    STEPS = [Step("e", "mul", ("a", "b")),      # e = a * b
             Step("d", "add", ("e", "c")),      # d = e + c
             Step("L", "mul", ("d", "f"))]      # L = d * f

Every ``op`` is a key of :data:`course.rules.RULES`, so the operation labels on
the picture and the derivative rules in the table come from the one rule table.
Names that no step defines are the graph's inputs (leaves).

* :func:`draw` lays the graph out with Graphviz (a box per variable showing
  its value and gradient when given, a circle per operation, one edge per use:
  ``x0 * x0`` draws two edges) and returns a :class:`graphviz.Digraph`, which
  Jupyter shows as SVG;
* :func:`local_table` is a Markdown table of each step's definition, the rule
  from :mod:`course.rules` and the local derivatives written for that step.

Nothing here evaluates or differentiates: the student does that by hand.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import graphviz

from .rules import RULES, Rule

__all__ = ["Step", "Figure", "inputs_of", "draw", "draw_values", "local_table", "definition"]


@dataclass(frozen=True)
class Step:
    """One intermediate variable: ``name = op(*inputs; **params)``.

    ``local`` optionally holds the local derivatives ``d name / d input``, one
    Python expression per input in the step's own variable names (for example
    ``("1/x1", "-v0/x1**2")`` for ``v1 = v0 / x1``); :func:`local_table` shows
    them and the project's tests evaluate them against the rule table.
    """

    name: str
    op: str
    inputs: tuple[str, ...]
    params: Mapping[str, float] = field(default_factory=dict)
    local: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.op not in RULES:
            raise KeyError(f"{self.name}: unknown operation {self.op!r}; use one of {sorted(RULES)}")
        rule = RULES[self.op]
        if len(self.inputs) != rule.arity:
            raise ValueError(f"{self.name} = {self.op}{self.inputs}: {self.op} takes {rule.arity} input(s)")
        if self.local and len(self.local) != rule.arity:
            raise ValueError(f"{self.name}: give one local derivative per input, not {self.local!r}")

    @property
    def rule(self) -> Rule:
        return RULES[self.op]


def inputs_of(steps: Sequence[Step]) -> list[str]:
    """The leaves: names used by a step but defined by none, in order of first use."""
    defined = {s.name for s in steps}
    seen: list[str] = []
    for s in steps:
        for x in s.inputs:
            if x not in defined and x not in seen:
                seen.append(x)
    return seen


_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def definition(step: Step) -> str:
    """``"v1 = v0 / x1"``, ``"v0 = x0^2"``, ``"v2 = cos(x0)"``."""
    xs = step.inputs
    if step.op in _INFIX:
        rhs = f"{xs[0]} {_INFIX[step.op]} {xs[1]}"
    elif step.op == "pow":
        rhs = f"{xs[0]}^{step.rule.node_label(**step.params)[2:]}"
    elif step.op == "neg":
        rhs = f"-{xs[0]}"
    else:
        rhs = f"{step.op}({xs[0]})"
    return f"{step.name} = {rhs}"


class Figure(graphviz.Digraph):
    """A :class:`graphviz.Digraph` that Jupyter shows at most as wide as the notebook column.

    Jupyter shows a plain Digraph as an SVG image of fixed size, so a wide graph
    runs off the column. A Figure shows itself as inline SVG with ``width=100%``
    and its natural size as ``max-width`` (:func:`course.graph_svg.fit_width`):
    wide graphs shrink to the column, small ones keep their size. Everything
    else (``.source``, ``.pipe()``, ``.render()``) is the Digraph's.
    """

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        from course.graph_svg import fit_width

        svg = self.pipe(format="svg", encoding="utf-8")
        svg = svg[svg.index("<svg"):]
        return {"text/html": f'<div class="ag-figure" style="max-width:100%">{fit_width(svg)}</div>',
                "text/plain": f"<graph of {self.source.count('->')} edges: run the cell to draw it>"}


def draw_values(root: object, *, names: Mapping[str, object] | None = None, title: str | None = None,
                **named: object) -> Figure:
    """The graph of a Value-like expression after (or before) backward: a box per value
    (its name, data and grad) and a circle per operation, one edge per use.

    ``draw_values(L, a=a, b=b)`` or ``names={"a": a}`` names values (the names
    the student gave them); other values are named as in the steppers
    (computed ones ``v0, v1, ...``, see :func:`course.graph.choose_names`).
    Reads the objects only (through :func:`course.graph.trace`); grads are the
    objects' own ``.grad``, so the picture shows what the student's engine did.
    """
    from course.graph import trace

    g = trace(root, names={**(names or {}), **named} or None)
    dot = Figure(graph_attr={"rankdir": "LR", "bgcolor": "white", "nodesep": "0.2", "ranksep": "0.3"},
                 node_attr={"fontname": "Helvetica", "fontsize": "11"}, edge_attr={"arrowsize": "0.7"})
    if title:
        dot.attr(label=title, labelloc="t", fontname="Helvetica", fontsize="13")
    for node in g.nodes:
        fields = [node.name, f"data {_fmt(node.data)}"]
        if node.engine_grad is not None:
            fields.append(f"grad {_fmt(node.engine_grad)}")
        dot.node(f"n{node.index}", label=" | ".join(fields), shape="record", style="filled",
                 fillcolor="#e8f0fe" if node.is_leaf else "#ffffff")
        if node.inputs:
            label = RULES[node.rule].node_label(**node.params) if node.rule else (node.op or "?")
            dot.node(f"n{node.index}op", label=label, shape="circle", width="0.45", style="filled",
                     fillcolor="#fff4d6")
            dot.edge(f"n{node.index}op", f"n{node.index}")
            for i in node.inputs:
                dot.edge(f"n{i}", f"n{node.index}op")
    return dot


def _fmt(x: float) -> str:
    return f"{float(x):.4f}"


def draw(
    steps: Sequence[Step],
    values: Mapping[str, float] | None = None,
    grads: Mapping[str, float] | None = None,
    *,
    title: str | None = None,
    rankdir: str = "LR",
) -> Figure:
    """The computational graph of ``steps`` as a Graphviz digraph (a :class:`Figure`: it
    scales down to the notebook column).

    Each variable is a box ``name | data | grad`` (data and grad only for the
    names present in ``values`` / ``grads``); each operation is a circle
    labelled from the rule table (``*``, ``/``, ``cos``, ``**2``). Node ids are
    the variable names, so the drawing is the same on every run.
    """
    names = [s.name for s in steps]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"each variable is defined once; defined more than once: {sorted(dupes)}")
    values = dict(values or {})
    grads = dict(grads or {})
    g = Figure(graph_attr={"rankdir": rankdir, "bgcolor": "white", "nodesep": "0.25", "ranksep": "0.3"},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"},
                         edge_attr={"arrowsize": "0.7"})
    if title:
        g.attr(label=title, labelloc="t", fontname="Helvetica", fontsize="13")

    def box(name: str, leaf: bool) -> None:
        fields = [name]
        if name in values:
            fields.append(f"data {_fmt(values[name])}")
        if name in grads:
            fields.append(f"grad {_fmt(grads[name])}")
        label = " | ".join(fields)  # stacked in a left-to-right layout, side by side top-down
        g.node(name, label=label, shape="record",
               style="filled", fillcolor="#e8f0fe" if leaf else "#ffffff")

    for x in inputs_of(steps):
        box(x, leaf=True)
    for s in steps:
        box(s.name, leaf=False)
        op_id = f"{s.name}__op"
        g.node(op_id, label=s.rule.node_label(**s.params), shape="circle",
               width="0.45", fixedsize="false", style="filled", fillcolor="#fff4d6")
        for x in s.inputs:  # duplicates kept: x0 * x0 draws two edges
            g.edge(x, op_id)
        g.edge(op_id, s.name)
    return g


def local_table(steps: Sequence[Step]) -> str:
    """A Markdown table: each step's definition, its rule from course.rules, its local derivatives."""
    rows = ["| variable | rule (course.rules) | local derivatives |", "|---|---|---|"]
    for s in steps:
        if s.local:
            locs = ", ".join(f"∂{s.name}/∂{x} = {_pretty(e)}" for x, e in zip(s.inputs, s.local))
        else:
            locs = ""
        rows.append(f"| `{definition(s)}` | {_rule_text(s.rule.derivative)} | {locs} |")
    return "\n".join(rows)


def _rule_text(derivative: str) -> str:
    """A rule's words with its formula in a code span: ``d(a*b)/da = b`` must not lose its ``*`` to italics."""
    formula, sep, words = derivative.partition(": ")
    return f"`{formula}`{sep}{words}"


def _pretty(expr: str) -> str:
    return f"`{expr.replace('**', '^')}`"
