"""Forward mode and reverse mode, swept over the same picture (notebook 04).

    from course.sweeps import SweepStepper
    SweepStepper(out, wrt=x1)

*Forward mode* seeds the tangent of one input with 1 (every other input and
every constant with 0) and visits the nodes in topological order::

    tangent(v_k) = sum_p  d v_k / d v_(p) * tangent(v_(p))

so one sweep gives ``d out / d wrt`` for one input. *Reverse mode* seeds the
adjoint ``bar(out) = 1`` and visits the edges in reverse order::

    bar(v_i) += bar(v_k) * d v_k / d v_i

so one sweep gives ``d out / d v`` for every input at once. Both read the local
derivatives from :mod:`course.rules` through :mod:`course.graph`; the graph is
laid out once, and switching the sweep or the seeded input changes only text.
"""
from __future__ import annotations

from typing import Any, Callable

import ipywidgets as widgets

from course.graph import Graph, Names, TangentStep, forward_mode, node_index, trace
from course.graph_svg import Frame, Slot, fmt
from course.stepper import BaseStepper, local_name, num, rule_lines, wrapped

FORWARD = "forward mode (tangents)"
REVERSE = "reverse mode (adjoints)"


class SweepStepper(BaseStepper):
    """A forward-mode sweep (tangents along one input) or a reverse-mode sweep (adjoints).

    ``wrt``: the input to seed in forward mode (the object, its name or its
    index; default: the first leaf). ``mode``: ``"forward"`` or ``"reverse"``.
    """

    def __init__(self, out: Any, *, wrt: Any = None, mode: str = "forward",
                 max_nodes: int = 400, title: str = "", interval: int = 900,
                 names: Names = None, numbering: str = "inner") -> None:
        graph = out if isinstance(out, Graph) else trace(out, names=names, numbering=numbering)
        super().__init__(graph, max_nodes=max_nodes, slot_titles=("tangent", "adjoint"),
                         title=title, interval=interval)
        leaves = self._visible_leaves() or [i for i in graph.leaves]
        self.wrt = leaves[0] if wrt is None else node_index(graph, wrt)
        if not graph.nodes[self.wrt].is_leaf:
            raise ValueError(f"wrt={graph.names[self.wrt]} is not an input (leaf) of the graph")
        self.mode_buttons = widgets.ToggleButtons(options=[FORWARD, REVERSE],
                                                  value=FORWARD if mode == "forward" else REVERSE,
                                                  style={"button_width": "190px"})
        self.wrt_menu = widgets.Dropdown(options=[(graph.names[i], i) for i in leaves],
                                         value=self.wrt if self.wrt in leaves else None,
                                         description="seed input", layout={"width": "220px"})
        self.children = (widgets.HBox([self.mode_buttons, self.wrt_menu]), *self.children)
        self._build()
        self.mode_buttons.observe(self._on_mode, "value")
        self._show_wrt_menu()
        self.wrt_menu.observe(self._on_wrt, "value")

    @property
    def mode(self) -> str:
        return "forward" if self.mode_buttons.value == FORWARD else "reverse"

    def _on_mode(self, change: dict[str, Any]) -> None:
        self._show_wrt_menu()
        self._set_frames(self._mode_frames())

    def _show_wrt_menu(self) -> None:
        """The seed-input menu only in forward mode: reverse mode seeds the output, not an input."""
        self.wrt_menu.layout.display = None if self.mode == "forward" else "none"

    def _on_wrt(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.wrt = change["new"]
            self._build()  # the tangents change: new overlay texts (the layout is kept)

    def _build(self) -> None:
        g, lay = self.graph, self.layout_
        self.tangents: list[TangentStep] = forward_mode(g, self.wrt)
        seeds = [(i, f"tangent {fmt(1.0 if i == self.wrt else 0.0)}") for i in self._visible_leaves()]
        tan = seeds + [(t.node, f"tangent {fmt(t.tangent)}") for t in self.tangents
                       if t.node in lay.pos]
        adj = [(g.output, f"adjoint {fmt(1.0)}")] + [
            (g.backward[k].input, f"adjoint {fmt(g.backward[k].grad_after)}")
            for k in lay.edges if g.backward[k].input in lay.pos]
        self._set_picture([Slot("tv", "tangent", tan), Slot("gv", "adjoint", adj)])
        self._set_frames(self._mode_frames())

    def _mode_frames(self) -> list[tuple[Frame, Callable]]:
        if self.mode == "forward":
            return self._tangent_frames()
        return self._backward_frames("adjoint", "gv", "Reverse step") + [self._reverse_done()]

    def _tangent_frames(self) -> list[tuple[Frame, Callable]]:
        g, lay = self.graph, self.layout_
        x = g.names[self.wrt]
        leaves = self._visible_leaves()
        frames: list[tuple[Frame, Callable]] = [(
            Frame(known=len(leaves), slot="tv", revealed=len(leaves), current=self.wrt),
            lambda: [f"Forward mode \u00b7 seed: tangent({x}) = 1, every other input 0",
                     f"  A node's tangent is its derivative d(node)/d{x}. Each step computes",
                     "  a value and its tangent together, in topological order:",
                     "    tangent(node) = sum over inputs of local \u00d7 tangent(input)",
                     f"  One sweep gives d(out)/d{x}: one input per sweep."])]
        steps = [t for t in self.tangents if t.node in lay.pos]
        for j, t in enumerate(steps):
            frames.append((Frame(known=len(leaves) + j + 1, slot="tv", revealed=len(leaves) + j + 1,
                                 current=t.node, related=g.nodes[t.node].inputs,
                                 used_from=self._edges_from(t.node)),
                           lambda t=t, j=j: self._tangent_lines(t, j + 1, len(steps))))
        out = g.nodes[g.output]
        final = next((t.tangent for t in self.tangents if t.node == g.output), None)
        frames.append((Frame(known=len(lay.visible), slot="tv", revealed=len(leaves) + len(steps)),
                       lambda: [f"Done \u00b7 tangent({out.name}) = d{out.name}/d{x} = {num(final)}",
                                f"  reverse mode gives the same number: grad({x}) = "
                                f"{num(g.grads[self.wrt])}",
                                f"  For every input's derivative, forward mode needs "
                                f"{len(g.leaves)} sweeps;",
                                "  reverse mode needs one. Switch to reverse mode above."]))
        return frames

    def _tangent_lines(self, t: TangentStep, j: int, total: int) -> list[str]:
        g = self.graph
        node, names = g.nodes[t.node], g.names
        terms = " + ".join(f"{num(d)} \u00d7 {num(ti)}" for _, d, ti in t.terms)
        symb = " + ".join(f"{local_name(g, node, p)} \u00b7 tangent({names[i]})"
                          for p, (i, _, _) in enumerate(t.terms))
        lead = f"  tangent({node.name}) "
        return [f"Forward step {j} of {total} \u00b7 node {node.name} = {node.formula(names)}",
                f"  value {node.name} = {num(node.data)}",
                f"{lead}= {symb}",
                f"{'':<{len(lead)}}= {terms}",
                f"{'':<{len(lead)}}= {num(t.tangent)}",
                *rule_lines(node)]

    def _reverse_done(self) -> tuple[Frame, Callable]:
        g, lay = self.graph, self.layout_
        revealed = 1 + sum(1 for k in lay.edges if g.backward[k].input in lay.pos)
        out = g.nodes[g.output].name
        leaves = self._visible_leaves()
        return (Frame(known=len(lay.visible), slot="gv", revealed=revealed),
                lambda: [f"Done \u00b7 one reverse sweep gave every adjoint d{out}/d(input):",
                         *wrapped(", ".join(f"{g.names[i]}: {num(g.grads[i])}" for i in leaves)),
                         f"  (forward mode needed one sweep per input: {len(g.leaves)} sweeps)"])
