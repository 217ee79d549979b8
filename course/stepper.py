"""Step through the forward and backward pass of an expression, one node or edge at a time.

    from course.stepper import GraphStepper
    GraphStepper(out)          # out: the output node of any Value-like expression

The forward pass visits the nodes in topological order and shows each value
as it is computed. The backward pass seeds ``grad(out) = 1`` and visits every
edge ``v_i -> v_k`` in reverse order, showing the chain rule for that edge::

    grad(v_i) += grad(v_k) * d v_k / d v_i      (upstream x local = contribution)

with ``grad(v_i)`` before and after the ``+=``: a node used twice receives two
contributions. The student's objects are only read (see :mod:`course.graph`).

The picture is laid out once (:mod:`course.graph_svg`); a step sends a few
CSS rules and the text of the panel, never a new picture.
"""
from __future__ import annotations

import html
import textwrap
from typing import Any, Callable

import ipywidgets as widgets

from course import rules
from course.graph import BackwardStep, Graph, Names, Node, trace
from course.graph_svg import Frame, Layout, Slot, decorate, fmt, frame_css, layout, static_css

PANEL_LINES = 9
PANEL_WIDTH = 80  # characters: the panel never changes size, so the page never jumps


def num(x: float | None) -> str:
    """A number as the panel shows it (more digits than the picture)."""
    return "?" if x is None else f"{x:.6g}"


def local_name(graph: Graph, node: Node, position: int) -> str:
    """``d v3/d v1`` for the ``position``-th input of ``node``."""
    return f"d{node.name}/d{graph.names[node.inputs[position]]}"


def rule_text(node: Node) -> str:
    if node.rule is None:
        return f"no rule: {node.note}" if node.note else "no derivative rule for this operation"
    text = f"rule: {rules.RULES[node.rule].derivative}"
    return f"{text}  [{node.note}]" if node.note else text


def rule_lines(node: Node) -> list[str]:
    """The rule line, wrapped over up to three panel lines (never cut mid-sentence)."""
    return wrapped(rule_text(node), 3)


def wrapped(text: str, lines: int = 3) -> list[str]:
    """``text`` over at most ``lines`` indented panel lines (the last one cut with an ellipsis)."""
    out = textwrap.wrap(text, PANEL_WIDTH - 2, initial_indent="  ", subsequent_indent="  ")
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][:PANEL_WIDTH - 2] + " \u2026"
    return out


def panel_html(lines: list[str], height: int = PANEL_LINES) -> str:
    """A fixed-size block of text: ``height`` lines; a long line wraps onto the next ones
    (indented), so nothing is cut off; lines beyond the panel's size are dropped."""
    out: list[str] = []
    for ln in lines:
        if len(ln) <= PANEL_WIDTH:
            out.append(ln)
            continue
        indent = " " * min(len(ln) - len(ln.lstrip()) + 2, 12)
        out += textwrap.wrap(ln, PANEL_WIDTH, subsequent_indent=indent, drop_whitespace=True) or [ln]
    lines = (out + [""] * height)[:height]
    body = html.escape("\n".join(lines))
    return (f'<pre class="ag-panel" style="width:{PANEL_WIDTH + 2}ch;height:{height * 1.35 + 1:.2f}em;'
            f'margin:4px 0;padding:6px 8px;box-sizing:content-box;overflow:hidden;'
            f'font-size:12.5px;line-height:1.35em;background:#f7f7f9;border:1px solid #ddd;'
            f'border-radius:4px;white-space:pre">{body}</pre>')


class BaseStepper(widgets.VBox):
    """Picture + per-step style + chain-rule panel + controls; subclasses supply the frames."""

    panel_height = PANEL_LINES  #: lines of the text panel (fixed, so the page never jumps)

    def __init__(self, graph: Graph, *, max_nodes: int = 400, slot_titles: tuple[str, ...] = ("grad",),
                 title: str = "", interval: int = 900) -> None:
        self.graph = graph
        width = max(len(t) for t in slot_titles) + 9  # fmt() is 6-11 characters
        self.layout_ = layout(graph, max_nodes=max_nodes, slot_width=width)
        self._frames: list[tuple[Frame, Callable[[], list[str]]]] = []
        self.picture = widgets.HTML(layout=widgets.Layout(overflow="auto", max_height="560px",
                                                          max_width="100%"))
        self.style_ = widgets.HTML(layout=widgets.Layout(height="0px", margin="0"))
        self.panel = widgets.HTML()
        self.header = widgets.HTML(self._header_html(title))
        self.first_button = widgets.Button(description="reset", icon="step-backward",
                                           tooltip="back to the first step", layout={"width": "auto"})
        self.prev_button = widgets.Button(description="previous", icon="chevron-left",
                                          tooltip="previous step", layout={"width": "auto"})
        self.next_button = widgets.Button(description="next", icon="chevron-right",
                                          tooltip="next step", layout={"width": "auto"})
        self.slider = widgets.IntSlider(0, 0, 0, description="step", continuous_update=True,
                                        layout={"width": "340px"})
        self.play = widgets.Play(value=0, min=0, max=0, interval=interval, tooltip="play")
        self.speed = widgets.IntSlider(interval, 150, 2500, step=50, description="ms/step",
                                       layout={"width": "260px"})
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        widgets.jslink((self.speed, "value"), (self.play, "interval"))
        self.first_button.on_click(lambda _: self.reset())
        self.prev_button.on_click(lambda _: self.prev())
        self.next_button.on_click(lambda _: self.next())
        self.slider.observe(self._on_slider, "value")
        controls = widgets.HBox([self.first_button, self.prev_button, self.next_button, self.play,
                                 self.slider, self.speed], layout={"flex_flow": "row wrap"})
        super().__init__([self.header, self.picture, self.style_, self.panel, controls])
        self.add_class("ag-stepper")

    # --- what subclasses provide -------------------------------------------------
    def _header_html(self, title: str) -> str:
        lay, g = self.layout_, self.graph
        bits = [f"<b>{html.escape(title)}</b>"] if title else []
        bits.append(f"{len(g.nodes)} nodes, {len(g.backward)} edges")
        if lay.hidden:
            bits.append(f"<b>large graph: showing the {len(lay.visible)} nodes nearest the output; "
                        f"{lay.hidden} earlier nodes are collapsed into one box and not stepped through"
                        f"</b>")
        for note in g.notes[:3]:
            bits.append(f"<span style='color:#a33'>{html.escape(note)}</span>")
        return "<div style='font-size:12px'>" + " &middot; ".join(bits) + "</div>"

    def _set_picture(self, slots: list[Slot]) -> None:
        uid = self.layout_.uid
        svg = decorate(self.graph, self.layout_, slots)
        self.picture.value = f'<div id="{uid}"><style>{static_css(uid)}</style>{svg}</div>'

    def _set_frames(self, frames: list[tuple[Frame, Callable[[], list[str]]]]) -> None:
        self._frames = frames
        self.play.playing = False
        self.slider.unobserve(self._on_slider, "value")
        self.slider.value = 0
        self.slider.max = self.play.max = len(frames) - 1
        self.play.value = 0
        self.slider.observe(self._on_slider, "value")
        self._show(0)

    def __repr__(self) -> str:  # what a notebook reopened without its kernel shows
        out = self.graph.names[self.graph.output]
        return (f"{type(self).__name__} of {out} ({len(self.graph.nodes)} nodes): "
                "run the cell to step through the graph")

    # --- state and navigation ----------------------------------------------------
    @property
    def n_steps(self) -> int:
        return len(self._frames)

    @property
    def step(self) -> int:
        return self.slider.value

    @property
    def frame(self) -> Frame:
        return self._frames[self.step][0]

    def panel_lines(self, k: int | None = None) -> list[str]:
        return self._frames[self.step if k is None else k][1]()

    def jump(self, k: int) -> None:
        """Go to step ``k`` (clipped to the first and last step)."""
        self.slider.value = max(0, min(int(k), self.n_steps - 1))

    def next(self) -> None:
        self.jump(self.step + 1)

    def prev(self) -> None:
        self.jump(self.step - 1)

    def reset(self) -> None:
        self.play.playing = False
        self.jump(0)

    def _on_slider(self, change: dict[str, Any]) -> None:
        self._show(change["new"])

    def _show(self, k: int) -> None:
        frame, lines = self._frames[k]
        self.style_.value = f"<style>{frame_css(self.layout_, frame)}</style>"
        self.panel.value = panel_html(lines(), self.panel_height)
        self.prev_button.disabled = self.first_button.disabled = k == 0
        self.next_button.disabled = k == self.n_steps - 1

    # --- helpers for frames ------------------------------------------------------
    def _edges_from(self, node: int) -> int | None:
        """Group position of the first drawn edge whose output is ``node`` or earlier."""
        for k in self.layout_.edges:
            if self.graph.backward[k].output <= node:
                return self.layout_.edge_pos[k]
        return None

    def _visible_leaves(self) -> list[int]:
        return [i for i in self.layout_.visible if self.graph.nodes[i].is_leaf]

    def _visible_inner(self) -> list[int]:
        return [i for i in self.layout_.visible if not self.graph.nodes[i].is_leaf]

    def _backward_frames(self, word: str, slot: str, counter: str) -> list[tuple[Frame, Callable]]:
        """Seed, then one frame per drawn edge: ``word`` is 'grad' or 'adjoint'."""
        g, lay = self.graph, self.layout_
        out = g.nodes[g.output]
        known = len(lay.visible)
        frames: list[tuple[Frame, Callable]] = [(
            Frame(known=known, slot=slot, revealed=1, current=g.output),
            lambda: [f"{counter} 0 of {len(lay.edges)} \u00b7 seed",
                     f"  {word}({out.name}) = d{out.name}/d{out.name} = 1",
                     "  Now every edge, in reverse topological order, passes its node's",
                     f"  {word} back to one input: {word}(input) += upstream \u00d7 local.",
                     "  A value used twice receives two contributions."])]
        revealed = 1
        for n, k in enumerate(lay.edges):
            s = g.backward[k]
            if s.input in lay.pos:
                revealed += 1
            frames.append((Frame(known=known, slot=slot, revealed=revealed, current=s.output,
                                 related=(s.input,), edge=k, used_prefix=lay.edge_pos[k]),
                           (lambda s=s, n=n: self._edge_lines(s, n + 1, len(lay.edges), word,
                                                              counter))))
        return frames

    def _edge_lines(self, s: BackwardStep, n: int, total: int, word: str, counter: str) -> list[str]:
        g = self.graph
        node, names = g.nodes[s.output], g.names
        target = names[s.input]
        which = f"input {s.position + 1} of {node.name} = {node.formula(names)}"
        d = local_name(g, node, s.position)
        extra = f"   (contribution {s.count} of {s.of})" if s.of > 1 else ""
        rows = [("upstream", f"{word}({node.name})", num(s.upstream)),
                ("local", d, num(s.local) + ("" if s.local is not None else "  (no rule)")),
                ("contribution", f"{num(s.upstream)} \u00d7 {num(s.local)}", num(s.contribution))]
        w = max(len(r[1]) for r in rows)
        return [f"{counter} {n} of {total} \u00b7 edge {target} \u2192 {node.name} ({which})",
                *(f"  {a:<13} {b:<{w}} = {c}" for a, b, c in rows),
                f"  {word}({target}) += {num(s.contribution)}:  "
                f"{num(s.grad_before)} \u2192 {num(s.grad_after)}{extra}",
                *rule_lines(node)]


class GraphStepper(BaseStepper):
    """Forward pass node by node, then backward pass edge by edge, of ``out``'s graph.

    ``max_nodes``: graphs with more nodes show the ones nearest the output and
    collapse the rest into one box (and say so).
    """

    def __init__(self, out: Any, *, max_nodes: int = 400, title: str = "",
                 interval: int = 900, names: Names = None, numbering: str = "inner") -> None:
        graph = out if isinstance(out, Graph) else trace(out, names=names, numbering=numbering)
        super().__init__(graph, max_nodes=max_nodes, slot_titles=("grad",), title=title,
                         interval=interval)
        g, lay = self.graph, self.layout_
        items = [(g.output, f"grad {fmt(1.0)}")] + [
            (g.backward[k].input, f"grad {fmt(g.backward[k].grad_after)}")
            for k in lay.edges if g.backward[k].input in lay.pos]
        self._set_picture([Slot("gv", "grad", items)])
        self._set_frames(self._forward_frames() + self._backward_frames("grad", "gv", "Backward step")
                         + [self._done_frame()])

    def _forward_frames(self) -> list[tuple[Frame, Callable]]:
        g = self.graph
        leaves, inner = self._visible_leaves(), self._visible_inner()
        frames: list[tuple[Frame, Callable]] = [(
            Frame(known=len(leaves)),
            lambda: ["Start \u00b7 the inputs (leaves) hold their values:",
                     "  " + ", ".join(f"{g.names[i]} = {num(g.nodes[i].data)}" for i in leaves),
                     "",
                     f"Press next: the forward pass computes the {len(inner)} other nodes one at",
                     "a time, each after all of its inputs (topological order); then the",
                     "backward pass sends gradients back along every edge, one at a time."])]
        for j, c in enumerate(inner):
            node = g.nodes[c]
            frames.append((Frame(known=len(leaves) + j + 1, current=c, related=node.inputs,
                                 used_from=self._edges_from(c)),
                           lambda node=node, j=j: self._node_lines(node, j + 1, len(inner))))
        return frames

    def _node_lines(self, node: Node, j: int, total: int) -> list[str]:
        g = self.graph
        names = g.names
        vals = ", ".join(f"{names[i]} = {num(g.nodes[i].data)}" for i in dict.fromkeys(node.inputs))
        if node.local is None:
            local = "  local derivatives: unknown"
        else:
            local = "  local derivatives (used on the way back): " + ", ".join(
                f"{local_name(g, node, p)} = {num(d)}" for p, d in enumerate(node.local))
        return [f"Forward step {j} of {total} \u00b7 node {node.name} (operation {node.op!r})",
                f"  {node.name} = {node.formula(names)}",
                f"  with {vals}",
                f"  {node.name} = {num(node.data)}",
                local,
                *rule_lines(node)]

    def _done_frame(self) -> tuple[Frame, Callable]:
        g, lay = self.graph, self.layout_
        revealed = 1 + sum(1 for k in lay.edges if g.backward[k].input in lay.pos)

        def lines() -> list[str]:
            out = g.nodes[g.output].name
            leaves = self._visible_leaves()
            text = ", ".join(f"{g.names[i]}: {num(g.grads[i])}" for i in leaves)
            res = [f"Done \u00b7 every gradient is complete: d{out}/d(leaf) =", *wrapped(text)]
            engine = [(i, g.nodes[i].engine_grad) for i in leaves]
            if any(e not in (None, 0.0) for _, e in engine):
                bad = [g.names[i] for i, e in engine
                       if e is None or g.grads[i] is None or abs(e - g.grads[i]) > 1e-9 * (1 + abs(e))]
                res += ["", "  your objects' .grad (read when the widget was made): "
                        + ("they all match." if not bad else "they differ at " + ", ".join(bad))]
                if bad:
                    res.append("  to see the step of your backward that goes wrong: "
                               "from course.replay_stepper import ReplayStepper; ReplayStepper(out)")
            return res

        return Frame(known=len(lay.visible), revealed=revealed), lines


def __getattr__(name: str) -> Any:
    """``from course.stepper import ReplayStepper`` works too (defined in course.replay_stepper)."""
    if name == "ReplayStepper":
        from course.replay_stepper import ReplayStepper
        return ReplayStepper
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
