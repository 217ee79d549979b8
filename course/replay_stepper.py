"""Step through the student's own backward pass, one ``_backward`` call at a time.

    from course.replay_stepper import ReplayStepper
    ReplayStepper(loss)       # loss: the output of the student's own Value class

Each step is one call of the student's ``_backward``, in the order their
``backward()`` made it (:mod:`course.replay` runs it on a copy of the graph:
the student's objects are not changed). The picture shows the gradients the
student's engine really computed; the panel puts what the call added to each
input beside what the rule table says it should add. The first step that
differs is drawn red, with the node, the operation, both contributions and the
misconception's hint when it is a known one; the "first difference" button
jumps there and play stops there.
"""
from __future__ import annotations

from typing import Any, Callable

import ipywidgets as widgets

from course.graph import Names
from course.graph_svg import Frame, Slot, fmt
from course.replay import Call, Replay, describe, replay
from course.stepper import BaseStepper, num, rule_lines, wrapped


class ReplayStepper(BaseStepper):
    """The student's backward, replayed call by call beside the rule table."""

    panel_height = 13

    def __init__(self, out: Any, *, names: Names = None, numbering: str = "inner",
                 max_nodes: int = 400, title: str = "", interval: int = 900) -> None:
        self.replay: Replay = replay(out, names=names, numbering=numbering)
        super().__init__(self.replay.graph, max_nodes=max_nodes, slot_titles=("grad",),
                         title=title or "your backward, replayed call by call", interval=interval)
        self.diff_button = widgets.Button(description="first difference", icon="bug",
                                          tooltip="jump to the first step that differs from the rule table",
                                          layout={"width": "auto"})
        self.diff_button.on_click(lambda _: self.jump_to_difference())
        first = self.replay.first
        self.diff_step: int | None = (first.step if first and first.step else
                                      (len(self.replay.calls) + 1 if first else None))
        self.diff_button.disabled = self.diff_step is None
        controls = self.children[-1]
        controls.children = (*controls.children[:3], self.diff_button, *controls.children[3:])
        items, counts = self._overlays()
        self._set_picture([Slot("gv", "grad", items)])
        self._set_frames(self._frames_for(counts))

    def _header_html(self, title: str) -> str:
        base = super()._header_html(title)
        r = getattr(self, "replay", None)
        if r is None or r.first is None:
            return base
        p = r.first
        where = f"step {p.step}" if p.step else "the end"
        node = f", node {r.graph.names[p.node]}" if p.node is not None else ""
        return base + (f"<div style='font-size:12px;color:#b00020'><b>first difference at {where}"
                       f"{node}</b>: press \u201cfirst difference\u201d</div>")

    # --- what the picture reveals, call by call ----------------------------------
    def _overlays(self) -> tuple[list[tuple[int, str]], list[int]]:
        """Overlay texts in reveal order, and how many are revealed after the seed and each call."""
        lay, r = self.layout_, self.replay
        items = [(i, f"grad {fmt(x)}") for i, x in sorted(r.seed.items()) if i in lay.pos]
        counts = [len(items)]
        for c in r.calls:
            for i, after in c.after.items():
                if i in lay.pos:
                    items.append((i, f"grad {fmt(after)}"))
            counts.append(len(items))
        return items, counts

    def _frames_for(self, counts: list[int]) -> list[tuple[Frame, Callable]]:
        g, lay, r = self.graph, self.layout_, self.replay
        known = len(lay.visible)
        frames: list[tuple[Frame, Callable]] = [(Frame(known=known, revealed=counts[0],
                                                       current=g.output), self._intro_lines)]
        for c, revealed in zip(r.calls, counts[1:]):
            bad = self._bad_nodes(c)
            edges = tuple(k for k, s in enumerate(g.backward) if s.output == c.node)
            frames.append((Frame(known=known, revealed=revealed,
                                 current=None if bad else c.node, related=g.nodes[c.node].inputs,
                                 bad=bad, edges=edges),
                           lambda c=c: self._call_lines(c)))
        frames.append((Frame(known=known, revealed=counts[-1],
                             bad=self._bad_nodes(None)), self._done_lines))
        return frames

    def _bad_nodes(self, call: Call | None) -> tuple[int, ...]:
        p = self.replay.first
        if p is None or (call is None) != (p.step is None) or (call and call.step != p.step):
            return ()
        return tuple(i for i in (p.node, p.input) if i is not None)

    # --- panel texts -----------------------------------------------------------------
    def _intro_lines(self) -> list[str]:
        g, r = self.graph, self.replay
        seed = ", ".join(f"grad({g.names[i]}) = {num(x)}" for i, x in sorted(r.seed.items()))
        lines = [f"Replay \u00b7 your backward on a copy of the graph (your objects are not changed)",
                 f"  {len(r.calls)} calls of _backward, in the order of {r.order}.",
                 "  Each step shows what your _backward added to each input, and beside",
                 "  it what the rule table adds: upstream (the node's grad) \u00d7 local.",
                 f"  Seed, before the first call: {seed or 'every grad is 0'}"]
        lines += [*wrapped(" ".join(r.notes), 2)] if r.notes else []
        if r.first is None:
            lines.append("  No difference: every step adds what the rule table says.")
        else:
            lines += ["", *wrapped(describe(g, r.first, r).split("\n")[0], 3)]
        return lines

    def _call_lines(self, c: Call) -> list[str]:
        g, r = self.graph, self.replay
        node = g.nodes[c.node]
        op = f" ({node.op!r})" if node.op else ""
        rows = [f"Step {c.step} of {len(r.calls)} \u00b7 your {node.name}._backward() for "
                f"{node.name} = {node.formula(g.names)}{op}",
                f"  run with grad({node.name}) = {num(c.upstream)} (the upstream gradient)",
                f"  {'input':<8} {'yours added':<13} {'rule table adds':<16} grad before \u2192 after"]
        for i in c.after:
            want = c.expected.get(i, 0.0)
            got = c.added(i)
            mark = "" if want is None else ("  same" if _same(got, want) else "  \u2717 differs")
            rows.append(f"  {g.names[i]:<8} {_signed(got):<13} {_signed(want):<16} "
                        f"{num(c.before[i])} \u2192 {num(c.after[i])}{mark}")
        rows += rule_lines(node)
        p = r.first
        if p is not None and p.step == c.step:
            rows += ["", *wrapped("\u2717 FIRST DIFFERENCE: " + p.message, 3)]
            if p.hint:
                rows += wrapped(p.hint, 3)
        return rows

    def _done_lines(self) -> list[str]:
        g, r = self.graph, self.replay
        leaves = self._visible_leaves()
        yours = ", ".join(f"{g.names[i]}: {num(r.final[i])}" for i in leaves)
        table = ", ".join(f"{g.names[i]}: {num(g.grads[i])}" for i in leaves)
        lines = ["Done \u00b7 the gradients your backward computed:", *wrapped(yours, 2),
                 "  the rule table's:", *wrapped(table, 2)]
        if r.first is None:
            lines.append("  No difference at any step.")
        else:
            lines += ["", *wrapped(describe(g, r.first, r).replace("\n", " "), 3)]
            if r.first.hint:
                lines += wrapped(r.first.hint, 2)
        return lines

    # --- navigation ----------------------------------------------------------------
    def jump_to_difference(self) -> None:
        """Go to the first step that differs from the rule table (nothing if none does)."""
        if self.diff_step is not None:
            self.play.playing = False
            self.jump(self.diff_step)

    def _show(self, k: int) -> None:
        super()._show(k)
        if self.diff_step is not None and k == self.diff_step and self.play.playing:
            self.play.playing = False  # play stops at the first difference


def _signed(x: float | None) -> str:
    return "?" if x is None else ("+" if x >= 0 else "") + f"{x:.6g}"


def _same(a: float | None, b: float | None) -> bool:
    from course.replay import close
    return close(a, b)
