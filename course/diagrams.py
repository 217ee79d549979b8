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

__all__ = ["Step", "inputs_of", "draw", "local_table", "definition"]


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


def _fmt(x: float) -> str:
    return f"{float(x):.4f}"


def draw(
    steps: Sequence[Step],
    values: Mapping[str, float] | None = None,
    grads: Mapping[str, float] | None = None,
    *,
    title: str | None = None,
    rankdir: str = "LR",
) -> graphviz.Digraph:
    """The computational graph of ``steps`` as a Graphviz digraph (shown as SVG in Jupyter).

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
    g = graphviz.Digraph(graph_attr={"rankdir": rankdir, "bgcolor": "white", "nodesep": "0.25"},
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
