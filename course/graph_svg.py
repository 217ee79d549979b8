"""Lay a traced graph out once as inline SVG, and restyle it per step with CSS.

The picture is made once per graph (Graphviz ``dot``: graphviz-pure from
.venv, no system Graphviz) and then never re-sent. A step of a widget changes
only a few CSS rules, of constant size whatever the graph's size:

* node groups come first in the SVG, in topological order (leaves first), so
  "the first K nodes know their value" is one ``:nth-of-type(-n+K)`` rule;
* edge groups follow in backward order (reverse topological order of their
  output, then input position), so the edges already used by a forward or a
  backward pass are a prefix or a suffix: one rule each;
* every value a gradient (or tangent) slot takes during a sweep is drawn in
  advance as an overlay (an opaque cell with its text) over the node's slot,
  in the order the sweep reveals them; showing the first M overlays (later
  ones cover earlier ones) is one rule, and a node used twice visibly shows
  its gradient before and after each ``+=``.

Everything is scoped by a random id, so several pictures can share a page.
"""
from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field
from typing import Sequence

import course  # noqa: F401  (puts .venv/bin, where `dot` is, on PATH)
import graphviz

from course.graph import Graph

PENDING = "\u00b7"  # what a slot shows before the sweep reaches it
FONT = "Helvetica"  # has built-in metrics in dot; browsers fall back to a sans-serif
COLORS = {"current": "#ffd54f", "related": "#cfe8ff", "edge": "#d62728", "used": "#555555",
          "idle": "#c8c8c8", "bad": "#ff8a80"}
PX_PER_PT = 4 / 3  # dot measures in points; a CSS pixel is 3/4 of a point
#: a left-to-right picture wider than this (CSS px) is laid out top to bottom instead, if that
#: is narrower: scaled into a ~900 px column it would shrink its text below about 8 px
WIDE_PX = 1400


_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


def fit_width(svg: str) -> str:
    """Make dot's SVG scale down to its container's width, never up past its own size.

    dot writes ``<svg width="883pt" height="220pt" viewBox=...>``: a fixed size,
    so a graph wider than the notebook column runs off screen. This writes
    ``width="100%"`` with ``max-width`` at the natural size and lets the height
    follow the viewBox's aspect ratio.
    """
    m = _SIZE.search(svg)
    if not m:
        return svg
    w = float(m.group(1)) * PX_PER_PT
    return (svg[:m.start()] + f'<svg width="100%" style="max-width:{w:.0f}px;height:auto;display:block"'
            + svg[m.end():])


def natural_width(svg: str) -> float | None:
    """The width in CSS pixels dot gave a picture (before :func:`fit_width`)."""
    m = _SIZE.search(svg)
    return float(m.group(1)) * PX_PER_PT if m else None


def fmt(x: float | None) -> str:
    """A number as a picture shows it: 4 decimals, or 4 significant digits when huge or tiny."""
    if x is None:
        return "?"
    if x == 0:
        return "0.0000"
    if x != x or abs(x) == float("inf"):
        return str(x)
    return f"{x:.4f}" if 1e-4 <= abs(x) < 1e5 else f"{x:.3e}"


@dataclass
class Slot:
    """A row of values revealed one by one: ``items`` are (node, text) in reveal order."""

    css: str  #: class of the overlay group: 'gv' (gradients/adjoints) or 'tv' (tangents)
    title: str  #: what the pending cell shows, e.g. 'grad'
    items: list[tuple[int, str]]


@dataclass
class Layout:
    """The laid-out picture of (part of) a graph: made once, decorated per slot set."""

    uid: str
    visible: list[int]  #: node indices drawn, in topological order
    edges: list[int]  #: indices into graph.backward drawn, in backward order
    hidden: int  #: how many nodes are collapsed into one box
    raw: str  #: dot's SVG
    pos: dict[int, int] = field(default_factory=dict)  #: node index -> 1-based group position
    edge_pos: dict[int, int] = field(default_factory=dict)  #: backward step -> group position


def choose_visible(graph: Graph, max_nodes: int) -> list[int]:
    """All nodes, or the ``max_nodes`` nearest the output (by edges), in topological order."""
    n = len(graph.nodes)
    if n <= max_nodes:
        return list(range(n))
    dist = {graph.output: 0}
    frontier = [graph.output]
    while frontier and len(dist) < max_nodes:
        nxt = []
        for k in frontier:
            for i in graph.nodes[k].inputs:
                if i not in dist and len(dist) < max_nodes:
                    dist[i] = dist[k] + 1
                    nxt.append(i)
        frontier = nxt
    return sorted(dist)


def _cell(text: str) -> str:
    return f'<td align="left">{html.escape(text, quote=False)}</td>'


def layout(graph: Graph, *, max_nodes: int = 400, slot_width: int = 0) -> Layout:
    """Run ``dot`` once (twice for a graph too wide left to right, see :data:`WIDE_PX`).
    ``slot_width``: characters reserved for the grad/tangent cell."""
    visible = choose_visible(graph, max_nodes)
    shown = set(visible)
    uid = "ag" + secrets.token_hex(5)
    edges = [k for k, s in enumerate(graph.backward) if s.output in shown]
    raw = _dot(graph, uid, visible, edges, max(slot_width, 11), "LR")
    wide = natural_width(raw)
    if wide is not None and wide > WIDE_PX:  # a deep graph: top to bottom keeps its text legible
        tall = _dot(graph, uid, visible, edges, max(slot_width, 11), "TB")
        if (natural_width(tall) or wide) < wide:
            raw = tall
    lay = Layout(uid, visible, edges, len(graph.nodes) - len(visible), raw)
    lay.pos = {i: p + 1 for p, i in enumerate(visible)}
    base = len(visible) + (1 if lay.hidden else 0)
    lay.edge_pos = {k: base + p + 1 for p, k in enumerate(edges)}
    return lay


def _dot(graph: Graph, uid: str, visible: list[int], edges: list[int], width: int,
         rankdir: str) -> str:
    """dot's SVG of the visible part of ``graph``, ``rankdir`` 'LR' or 'TB'."""
    shown = set(visible)
    dot = graphviz.Digraph(graph_attr={"rankdir": rankdir, "nodesep": "0.15", "ranksep": "0.35",
                                       "bgcolor": "transparent"},
                           node_attr={"shape": "plain", "fontname": FONT, "fontsize": "11"},
                           edge_attr={"arrowsize": "0.6"})
    for i in visible:
        node = graph.nodes[i]
        head = node.name if node.is_leaf else f"{node.name}  {node.op or '?'}"
        rows = [_cell(head), _cell(f"data {fmt(node.data)}"), _cell("0" * width)]
        dot.node(f"n{i}", id=f"{uid}_n{i}",
                 label='<<table border="0" cellborder="1" cellspacing="0" cellpadding="2">'
                       + "".join(f"<tr>{r}</tr>" for r in rows) + "</table>>")
    hidden = len(graph.nodes) - len(visible)
    if hidden:
        dot.node("more", id=f"{uid}_more", shape="box", style="dashed", fontcolor="#666666",
                 label=f"{hidden} more nodes\n(collapsed)")
    for k in edges:
        step = graph.backward[k]
        src = f"n{step.input}" if step.input in shown else "more"
        dot.edge(src, f"n{step.output}", id=f"{uid}_e{k}")
    return dot.pipe("svg", encoding="utf-8")


_GROUP = re.compile(r'<g id="([^"]+)" class="(node|edge)">(.*?)</g>\n', re.S)
_TEXT = re.compile(r'(<text [^>]*>)([^<]*)(</text>)')
_POLY = re.compile(r'<polygon [^>]*points="([^"]+)"[^>]*/>')


def decorate(graph: Graph, lay: Layout, slots: Sequence[Slot]) -> str:
    """The final SVG: groups reordered, pending texts, and the slots' overlays."""
    svg = lay.raw[lay.raw.index("<svg"):]
    # smaller picture: no hover titles, the font once in CSS (static_css) not on every text
    svg = re.sub(r"<title>[^<]*</title>\n?", "", svg)
    svg = re.sub(r' font-family="[^"]*" font-size="11.00"', "", svg)
    groups = {m.group(1): m.group(3) for m in _GROUP.finditer(svg)}
    head = svg[:svg.index("<!--", svg.index('class="graph"'))] if "<!--" in svg else svg
    head = head[:head.rindex(">") + 1] + "\n"
    geometry: dict[int, tuple[str, str]] = {}  # node -> (cell polygon, text open tag)
    parts = [head]
    for i in lay.visible:
        body = groups[f"{lay.uid}_n{i}"]
        texts = list(_TEXT.finditer(body))
        polys = list(_POLY.finditer(body))
        slot_text, slot_poly = texts[-1], polys[-1]
        geometry[i] = (slot_poly.group(0), slot_text.group(1))
        pending = "".join(
            f'{slot_text.group(1)[:-1]} class="p{s.css}">{s.title} {PENDING}</text>' for s in slots)
        body = body[:slot_text.start()] + pending + body[slot_text.end():]
        if not graph.nodes[i].is_leaf:  # the value appears when the forward pass reaches it
            data = texts[-2]
            body = (body[:data.start()]
                    + f'{data.group(1)[:-1]} class="dp">data {PENDING}</text>'
                    + f'{data.group(1)[:-1]} class="dk">{data.group(2)}</text>'
                    + body[data.end():])
        parts.append(f'<g id="{lay.uid}_n{i}" class="node">{body}</g>\n')
    if lay.hidden:
        parts.append(f'<g id="{lay.uid}_more" class="node">{groups[lay.uid + "_more"]}</g>\n')
    for k in lay.edges:
        parts.append(f'<g id="{lay.uid}_e{k}" class="edge">{groups[f"{lay.uid}_e{k}"]}</g>\n')
    for s in slots:
        parts.append(f'<g class="{s.css}">')
        for node, text in s.items:
            if node not in geometry:
                continue
            poly, tag = geometry[node]
            poly = poly.replace('fill="none"', 'fill="white"')
            parts.append(f'<g class="o{node}">{poly}{tag}{html.escape(text)}</text></g>')
        parts.append("</g>\n")
    parts.append("</g>\n</svg>\n")
    return fit_width("".join(parts))


def static_css(uid: str) -> str:
    """Rules that hold at every step (sent once, with the picture)."""
    u = f"#{uid}"
    c = COLORS
    return (f"{u} .dk,{u} .gv>g,{u} .tv>g{{display:none}}"
            f"{u} .dp,{u} .pgv,{u} .ptv{{fill:#8a8a8a}}"
            f"{u} g.edge path{{stroke:{c['idle']}}}"
            f"{u} g.edge polygon{{fill:{c['idle']};stroke:{c['idle']}}}"
            f"{u} text{{font-family:Helvetica,Arial,sans-serif;font-size:11px}}")


@dataclass
class Frame:
    """What one step shows, as numbers; :func:`frame_css` turns it into CSS."""

    known: int = 0  #: the first ``known`` node groups show their data
    slot: str = "gv"  #: which overlay row is shown ('gv' or 'tv')
    revealed: int = 0  #: the first ``revealed`` overlays of that row are shown
    current: int | None = None  #: node highlighted
    related: tuple[int, ...] = ()  #: nodes lightly highlighted (inputs, receiver)
    edge: int | None = None  #: backward-step index of the highlighted edge
    used_prefix: int = 0  #: edge groups [1, used_prefix] drawn as used
    used_from: int | None = None  #: edge groups from this position on drawn as used
    bad: tuple[int, ...] = ()  #: nodes drawn red: where a replay differs from the rule table
    edges: tuple[int, ...] = ()  #: more backward-step indices drawn like ``edge``


def frame_css(lay: Layout, f: Frame) -> str:
    """The per-step rules: a handful, whatever the size of the graph."""
    u = f"#{lay.uid}"
    c = COLORS
    other = "tv" if f.slot == "gv" else "gv"
    out = [f"{u} .p{other}{{display:none}}"]
    if f.known:
        sel = f"{u} g.node:nth-of-type(-n+{f.known})"
        out.append(f"{sel} .dk{{display:inline}}{sel} .dp{{display:none}}")
    if f.revealed:
        out.append(f"{u} .{f.slot}>g:nth-of-type(-n+{f.revealed}){{display:inline}}")
    used = []
    if f.used_prefix:
        used.append(f"{u} g.edge:nth-of-type(-n+{f.used_prefix})")
    if f.used_from is not None:
        used.append(f"{u} g.edge:nth-of-type(n+{f.used_from})")
    if used:
        out.append(",".join(s + " path" for s in used) + f"{{stroke:{c['used']}}}")
        out.append(",".join(s + " polygon" for s in used)
                   + f"{{fill:{c['used']};stroke:{c['used']}}}")
    for nodes, color in (((f.current,) if f.current is not None else (), c["current"]),
                         (f.related, c["related"]), (f.bad, c["bad"])):
        sels = [s for i in nodes if i in lay.pos
                for s in (f"{u} {u}_n{i} polygon", f"{u} .{f.slot} .o{i} polygon")]
        if sels:
            out.append(",".join(sels) + f"{{fill:{color}}}")
    red = [k for k in ((f.edge,) if f.edge is not None else ()) + f.edges if k in lay.edge_pos]
    if red:
        es = [f"{u} {u}_e{k}" for k in red]
        out.append(",".join(e + " path" for e in es) + f"{{stroke:{c['edge']};stroke-width:2.5}}"
                   + ",".join(e + " polygon" for e in es) + f"{{fill:{c['edge']};stroke:{c['edge']}}}")
    return "".join(out)
