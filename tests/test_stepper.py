"""The step-by-step graph widgets (course.stepper, course.sweeps) without a browser.

What is proved: next/previous/reset/jump and the slider move through the
steps and update the highlighted node and the chain-rule panel; a node used
twice shows both contributions with its gradient before and after each +=;
a step sends a few hundred bytes of CSS and text, never the picture (measured
on the messages ipywidgets would send); the picture is laid out once with
graphviz-pure even when PATH holds no system `dot`; large graphs are
collapsed and say so; forward-mode tangents and reverse-mode adjoints sweep
the same picture; the student's objects are never changed.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import ipywidgets
import pytest

from course import graph_svg
from course.graph import trace
from course.stepper import GraphStepper
from course.sweeps import REVERSE, SweepStepper
from test_graph import Value, all_values, diamond, neuron, snapshot

ROOT = Path(__file__).resolve().parent.parent


def mlp_like(n_layers=15, width=4):
    """About 300 nodes: layers of sums of products, each value reused by the next layer."""
    xs = [Value(0.1 * (i + 1)) for i in range(width)]
    for layer in range(n_layers):
        xs = [(xs[i] * xs[(i + 1) % width] * 0.5 + xs[i]).tanh() for i in range(width)]
    return sum(xs[1:], xs[0])


def test_next_prev_reset_jump_move_through_the_steps_and_update_highlight_and_panel():
    o, _ = neuron()
    w = GraphStepper(o)
    g = w.graph
    assert w.n_steps == 1 + 5 + 1 + 9 + 1, "start, 5 nodes, seed, 9 edges, done"
    assert w.step == 0 and w.prev_button.disabled and not w.next_button.disabled
    start_panel, start_style = w.panel.value, w.style_.value
    w.next()
    assert w.step == 1 and w.slider.value == 1
    assert w.frame.current == 5 and g.names[5] == "v0", "computed nodes are v0, v1, ... as notebook 02 numbers them"
    assert "Forward step 1 of 5" in w.panel.value and "v0 = x1 * w1" in w.panel.value
    assert f"#{w.layout_.uid}_n5 polygon" in w.style_.value
    assert w.panel.value != start_panel and w.style_.value != start_style
    w.prev()
    assert w.step == 0 and w.panel.value == start_panel and w.style_.value == start_style
    w.prev()
    assert w.step == 0, "previous at the first step stays there"
    w.jump(7)  # first backward edge: tanh passes grad 1 * 0.5 to n
    assert w.frame.current == g.output and w.frame.edge == 0
    assert "Backward step 1 of 9" in w.panel.value and "grad(v3) += 0.5:  0 \u2192 0.5" in w.panel.value
    w.jump(10_000)
    assert w.step == w.n_steps - 1 and w.next_button.disabled
    assert "x1: -1.5, w1: 1, x2: 0.5, w2: 0, b: 0.5" in w.panel.value
    w.next()
    assert w.step == w.n_steps - 1, "next at the last step stays there"
    w.reset()
    assert w.step == 0 and w.panel.value == start_panel


def test_moving_the_slider_as_play_does_shows_that_step():
    o, _ = neuron()
    w = GraphStepper(o)
    w.slider.value = 3  # what the Play widget does through its link to the slider
    assert "Forward step 3 of 5" in w.panel.value and w.frame.current == 7
    w.play.playing = True
    w.reset()
    assert not w.play.playing and w.step == 0


def test_a_node_used_twice_visibly_receives_two_contributions():
    a = Value(3.0, label="a")
    w = GraphStepper(a * a)
    w.jump(3)  # start, forward '*', seed, first edge
    first, first_style = w.panel.value, w.style_.value
    w.next()
    second, second_style = w.panel.value, w.style_.value
    assert "grad(a) += 3:  0 \u2192 3   (contribution 1 of 2)" in first
    assert "grad(a) += 3:  3 \u2192 6   (contribution 2 of 2)" in second
    svg = w.picture.value
    assert svg.count('class="edge"') == 2, "a*a draws two edges"
    overlays = re.findall(r'<g class="o0">.*?>(grad [^<]+)</text>', svg)
    assert overlays == ["grad 3.0000", "grad 6.0000"], "the picture shows a.grad after each +="
    assert ".gv>g:nth-of-type(-n+2)" in first_style and ".gv>g:nth-of-type(-n+3)" in second_style


def test_the_svg_puts_nodes_first_in_topological_order_then_edges_in_backward_order():
    d, _ = diamond()
    w = GraphStepper(d)
    svg = w.picture.value
    uid = w.layout_.uid
    ids = re.findall(r'<g id="(' + uid + r'_[ne]\d+)" class="(node|edge)"', svg)
    nodes = [i for i, kind in ids if kind == "node"]
    edges = [i for i, kind in ids if kind == "edge"]
    assert nodes == [f"{uid}_n{i}" for i in range(len(w.graph.nodes))]
    assert edges == [f"{uid}_e{k}" for k in range(len(w.graph.backward))]
    assert [kind for _, kind in ids] == ["node"] * len(nodes) + ["edge"] * len(edges)
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg, "inline SVG inside HTML"


class Recorder:
    def __init__(self):
        self.messages = []

    def __call__(self, widget, msg, buffers=None):
        self.messages.append((type(widget).__name__, json.dumps(msg)))


@pytest.fixture
def sent(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(ipywidgets.Widget, "_send", lambda self, msg, buffers=None: rec(self, msg))
    return rec


def test_a_step_sends_a_few_hundred_bytes_and_never_the_picture(sent, monkeypatch):
    out = mlp_like()
    w = GraphStepper(out)
    monkeypatch.setattr(graph_svg.graphviz.Digraph, "pipe",
                        lambda *a, **k: pytest.fail("a step ran the layout again"))
    assert 250 <= len(w.graph.nodes) <= 350
    picture = w.picture.value
    sent.messages.clear()
    per_step = []
    for k in (1, 2, 150, w.n_steps // 2, w.n_steps - 2, w.n_steps - 1):
        sent.messages.clear()
        w.jump(k)
        per_step.append(sum(len(m) for _, m in sent.messages))
        assert not any("<svg" in m for _, m in sent.messages), "a step must not resend the picture"
    assert w.picture.value is picture
    assert min(per_step) > 200, "each step does send its style and panel (the recorder works)"
    assert max(per_step) < 2500, f"bytes sent per step: {per_step}"
    assert len(picture) > 50 * max(per_step), "the picture is sent once, the steps are tiny"


def test_the_style_of_a_step_does_not_grow_with_the_graph():
    small = GraphStepper(neuron()[0])
    big = GraphStepper(mlp_like())
    small.jump(small.n_steps - 2)
    big.jump(big.n_steps - 2)
    assert len(big.style_.value) < len(small.style_.value) + 60, "a constant number of rules"


def test_a_graph_beyond_max_nodes_is_collapsed_and_says_so():
    x = Value(0.5, label="x")
    y = x
    for _ in range(300):
        y = y * 1.01
    w = GraphStepper(y, max_nodes=60)
    lay = w.layout_
    assert len(lay.visible) == 60 and lay.hidden == len(w.graph.nodes) - 60
    assert "collapsed" in w.header.value and f"{lay.hidden} earlier nodes" in w.header.value
    assert f'{lay.hidden} more nodes' in w.picture.value
    assert w.picture.value.count('class="node"') == 61
    w.jump(w.n_steps - 1)
    assert w.step == w.n_steps - 1


def test_forward_mode_tangents_and_reverse_mode_adjoints_sweep_the_same_picture(monkeypatch):
    o, leaves = neuron()
    w = SweepStepper(o, wrt=leaves["x1"])
    raw = w.layout_.raw
    assert w.n_steps == 1 + 5 + 1
    w.jump(w.n_steps - 1)
    assert "tangent(v4) = dv4/dx1 = -1.5" in w.panel.value
    assert "tangent -1.5000" in w.picture.value
    calls = []
    monkeypatch.setattr(graph_svg.graphviz.Digraph, "pipe", lambda *a, **k: calls.append(1))
    w.wrt_menu.value = w.graph.names.index("b")
    w.jump(w.n_steps - 1)
    assert "tangent(v4) = dv4/db = 0.5" in w.panel.value
    w.mode_buttons.value = REVERSE
    assert w.n_steps == 1 + 9 + 1 and w.step == 0 and "seed" in w.panel.value
    w.jump(w.n_steps - 1)
    assert "x1: -1.5, w1: 1, x2: 0.5, w2: 0, b: 0.5" in w.panel.value
    assert "adjoint 0.5000" in w.picture.value
    assert calls == [] and w.layout_.raw is raw, "switching sweeps never lays out again"


def test_an_unknown_operation_is_stepped_through_and_said_to_be_unknown():
    class Odd:
        def __init__(self, data, prev=(), op=""):
            self.data, self.grad, self.prev, self.op = data, 0.0, list(prev), op
    a = Odd(1.0)
    c = Odd(7.0, (a,), "mystery")
    w = GraphStepper(Odd(14.0, (c, c), "+"))
    w.jump(1)
    assert "local derivatives: unknown" in w.panel.value
    w.jump(w.n_steps - 2)
    assert "(no rule)" in w.panel.value and "= ?" in w.panel.value


def test_stepping_never_changes_the_students_objects():
    o, _ = neuron()
    objs = all_values(o)
    before = snapshot(objs)
    w = GraphStepper(o)
    for k in range(w.n_steps):
        w.jump(k)
    SweepStepper(o).jump(3)
    assert snapshot(objs) == before


def test_a_reopened_notebook_without_a_kernel_shows_a_useful_text():
    w = GraphStepper(neuron()[0])
    assert repr(w).startswith("GraphStepper of v4 (10 nodes)")


def path_without_system_dot() -> str:
    venv_bin = Path(sys.executable).parent.resolve()
    keep = [p for p in os.environ.get("PATH", "").split(os.pathsep)
            if p and Path(p).resolve() != venv_bin and not (Path(p) / "dot").exists()]
    return os.pathsep.join(keep)


def test_the_picture_is_laid_out_with_graphviz_pure_when_path_has_no_system_dot():
    code = ("import shutil\n"
            "assert shutil.which('dot') is None, shutil.which('dot')\n"
            "from course.stepper import GraphStepper\n"
            "from test_graph import neuron\n"
            "w = GraphStepper(neuron()[0])\n"
            "dot = shutil.which('dot')\n"
            "import os\n"
            "print(os.path.realpath(dot), w.picture.value.count('class=\"node\"'))\n")
    env = {**os.environ, "PATH": path_without_system_dot(), "PYTHONPATH": str(ROOT / "tests")}
    res = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    where, nodes = res.stdout.split()
    assert Path(where).name == "graphviz-pure" and Path(where).parent == Path(sys.executable).parent
    assert nodes == "10"


def test_the_seed_input_menu_shows_in_forward_mode_only():
    o, leaves = neuron()
    w = SweepStepper(o, wrt=leaves["x1"])
    assert w.wrt_menu.layout.display is None
    w.mode_buttons.value = REVERSE
    assert w.wrt_menu.layout.display == "none"
    w.mode_buttons.value = w.mode_buttons.options[0]
    assert w.wrt_menu.layout.display is None
    assert SweepStepper(o, mode="reverse").wrt_menu.layout.display == "none"


def test_every_picture_scales_to_the_column_and_never_past_its_own_size():
    w = GraphStepper(mlp_like(4, 4))
    svg = w.picture.value
    natural = graph_svg.natural_width(w.layout_.raw)
    assert natural > 300
    assert f'<svg width="100%" style="max-width:{natural:.0f}px;height:auto;display:block"' in svg
    tag = svg[svg.index("<svg "):].split(">", 1)[0]
    assert "viewBox=" in tag and 'height="' not in tag, tag


def test_a_long_rule_line_wraps_onto_the_next_lines_instead_of_being_cut():
    from course.stepper import panel_html
    long = "  rule: " + "word " * 40
    text = panel_html([long])
    assert "\u2026" not in text and text.count("word") == 40
    assert all(len(ln) <= 80 for ln in text.split(">", 1)[1].split("\n"))


def chain(k):
    x = Value(0.5, label="x")
    y = x
    for i in range(k):
        y = (y * Value(1.1, label=f"w{i}") + 0.1).tanh()
    return y


def test_a_graph_too_wide_left_to_right_is_laid_out_top_to_bottom_and_a_moderate_one_is_not():
    moderate, deep = GraphStepper(chain(2)).layout_, GraphStepper(chain(9)).layout_
    w, h = (float(v) for v in re.search(r'viewBox="0[.0]* 0[.0]* ([\d.]+) ([\d.]+)"', moderate.raw).groups())
    assert graph_svg.WIDE_PX > graph_svg.natural_width(moderate.raw) > 968 and w > h, "left to right"
    assert graph_svg.natural_width(deep.raw) < graph_svg.WIDE_PX, "the deep chain is narrow now"
    w, h = (float(v) for v in re.search(r'viewBox="0[.0]* 0[.0]* ([\d.]+) ([\d.]+)"', deep.raw).groups())
    assert h > 2 * w, "top to bottom"
