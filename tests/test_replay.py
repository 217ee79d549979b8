"""Replaying the student's own backward (course.replay) on planted engines.

What is proved: for each known engine mistake (a gradient overwritten instead
of accumulated, a times node that does not swap, a forgotten upstream factor,
a wrong order, a node run twice, a missing seed) a small engine written here
with that one mistake makes the replay stop at the right step and node, with
the expected and actual contribution and the misconception's hint; a correct
engine (closures, and the course's __slots__ engine) shows no difference; a
backward() that is not written yet is replaced by a valid order and said so;
the student's objects, their closures and their grads are unchanged.
"""
from __future__ import annotations

import math

import pytest

from course.engine import Value as CourseValue
from course.replay import replay


def engine(bug: str = ""):
    """A student's Value class, micrograd-style closures, with at most one planted ``bug``."""

    class Value:
        def __init__(self, data, _children=(), _op="", label=""):
            self.data, self.grad = float(data), 0.0
            self._prev, self._op, self.label = tuple(_children), _op, label
            self._backward = lambda: None

        def __add__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data + other.data, (self, other), "+")

            def _backward():
                if bug == "overwrite":
                    self.grad = out.grad
                    other.grad = out.grad
                else:
                    self.grad += out.grad
                    other.grad += out.grad
            out._backward = _backward
            return out

        def __mul__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data * other.data, (self, other), "*")

            def _backward():
                if bug == "no-swap":
                    self.grad += self.data * out.grad
                    other.grad += other.data * out.grad
                elif bug == "no-upstream":
                    self.grad += other.data
                    other.grad += self.data
                else:
                    self.grad += other.data * out.grad
                    other.grad += self.data * out.grad
            out._backward = _backward
            return out

        __radd__, __rmul__ = __add__, __mul__

        def tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")

            def _backward():
                self.grad += (1 - t * t) * out.grad
            out._backward = _backward
            return out

        def backward(self):
            if bug == "not-written":
                raise NotImplementedError
            if bug == "recursive":  # no topological order: recurse into the inputs
                self.grad = 1.0

                def push(v):
                    v._backward()
                    for c in v._prev:
                        push(c)
                push(self)
                return
            order, seen = [], set()

            def visit(v):
                if id(v) not in seen:
                    seen.add(id(v))
                    for c in v._prev:
                        visit(c)
                    order.append(v)
            visit(self)
            if bug == "forward-order":
                order.reverse()  # walks inputs first: every node runs before its users
            if bug != "no-seed":
                self.grad = 1.0
            for v in reversed(order):
                v._backward()

    return Value


def neuron(Value):
    x1, x2, w1, w2 = Value(2.0, label="x1"), Value(0.0, label="x2"), Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    return (x1 * w1 + x2 * w2 + b).tanh()


def where(r):
    p = r.first
    return p.tag, r.graph.names[p.node], (r.graph.names[p.input] if p.input is not None else None)


def test_a_correct_engine_shows_no_difference_and_replays_every_node_in_its_own_order():
    r = replay(neuron(engine()), names=["x1w1", "x2w2", "s", "n", "o"])
    assert r.first is None and "no difference" in r.report()
    assert [r.graph.names[c.node] for c in r.calls] == ["o", "n", "s", "x2w2", "x1w1"]
    assert r.order == "your backward()"
    leaves = {r.graph.names[i]: r.final[i] for i in r.graph.leaves}
    assert leaves == pytest.approx({"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}, abs=1e-12)


def test_the_course_engine_with_slots_and_a_method_backward_shows_no_difference():
    a = CourseValue(3.0, label="a")
    r = replay(neuron(CourseValue) * a + a)
    assert r.first is None, r.report()
    assert len(r.calls) == 7


def test_an_overwritten_gradient_stops_at_the_plus_node_that_reuses_its_input():
    Value = engine("overwrite")
    a = Value(3.0, label="a")
    y = (a + a) * Value(2.0, label="c")
    r = replay(y)
    assert where(r) == ("grad-overwritten", "v0", "a")
    assert r.first.step == 2 and (r.first.expected, r.first.actual) == (4.0, 2.0)
    assert "Misconception [grad-overwritten]" in r.report()
    assert "expected (rule table): grad(a) += 4;  your _backward added: 2" in r.report()


def test_a_times_node_that_does_not_swap_stops_at_its_first_input():
    r = replay(neuron(engine("no-swap")))
    assert where(r) == ("mul-no-swap", "v1", "x2")  # x2*w2 runs first (reverse order)
    assert r.first.expected == pytest.approx(0.5) and r.first.actual == 0.0
    assert "Misconception [mul-no-swap]" in r.report()


def test_a_forgotten_upstream_factor_stops_where_the_upstream_is_not_one():
    r = replay(neuron(engine("no-upstream")), names=["x1w1", "x2w2", "s", "n", "o"])
    assert where(r) == ("chain-rule-missing", "x2w2", "x2")
    assert r.first.expected == pytest.approx(0.5) and r.first.actual == 1.0
    assert "grad(x2w2) = 0.5" in r.report() and "Misconception [chain-rule-missing]" in r.report()


def test_a_wrong_order_stops_at_the_first_node_run_before_its_users():
    r = replay(neuron(engine("forward-order")), names=["x1w1", "x2w2", "s", "n", "o"])
    tag, node, _ = where(r)
    assert (tag, node, r.first.step) == ("no-topological-order", "x1w1", 1)
    assert "runs before s (which uses x1w1)" in r.report()


def test_recursion_without_a_topological_order_stops_at_the_node_run_twice():
    Value = engine("recursive")
    a = Value(1.0, label="a")
    b = a + a
    r = replay(b + b, names=["b", "c"])
    assert where(r)[:2] == ("no-topological-order", "b") and r.first.step == 3
    assert "runs a second time" in r.report()
    assert r.final[0] == 8.0, "the replay shows what the student's engine really computes"


def test_a_missing_seed_is_the_first_difference():
    r = replay(neuron(engine("no-seed")))
    assert r.first.tag == "seed" and r.first.step == 1
    assert "must set the output's grad to 1" in r.report()


def test_a_backward_not_written_yet_is_replaced_by_a_valid_order_and_said_so():
    r = replay(neuron(engine("not-written")))
    assert r.first is None
    assert r.order.startswith("a valid topological order")
    assert "not written yet" in r.report()


def snapshot(out):
    """Every node's attributes and its closure cells' contents, by value and identity."""
    seen, stack, rows = set(), [out], []
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        fn = v._backward
        cells = tuple((id(c.cell_contents), repr(c.cell_contents)) for c in fn.__closure__ or ())
        rows.append((id(v), v.data, v.grad, tuple(map(id, v._prev)), id(fn), cells, type(v)))
        stack.extend(v._prev)
    return sorted(rows, key=lambda r: r[0])


@pytest.mark.parametrize("bug", ["", "overwrite", "no-swap", "recursive", "no-seed"])
def test_the_students_objects_and_closures_are_unchanged_by_a_replay(bug):
    out = neuron(engine(bug))
    out.backward()  # the student already ran backward: their grads must stay as they are
    before = snapshot(out)
    replay(out)
    assert snapshot(out) == before


def test_the_course_engines_objects_are_unchanged_and_keep_their_class():
    out = neuron(CourseValue)
    nodes = [out, *out._prev]
    before = [(type(v), v.data, v.grad) for v in nodes]
    replay(out)
    assert [(type(v), v.data, v.grad) for v in nodes] == before


def test_a_backward_that_reaches_an_original_through_a_global_is_undone_and_said_so():
    Value = engine()
    a = Value(2.0, label="a")
    out = a * a
    global LEAK
    LEAK = a

    def leaky():
        LEAK.grad += 100.0
    out._backward = leaky
    r = replay(out)
    assert a.grad == 0.0 and "were put back" in r.report()


# --- the widget ----------------------------------------------------------------------
def panel_text(w):
    import html
    import re
    return html.unescape(re.sub(r"<[^>]+>", "", w.panel.value))


def test_the_replay_stepper_shows_each_call_and_jumps_to_the_first_difference_drawn_red():
    from course.replay_stepper import ReplayStepper
    w = ReplayStepper(neuron(engine("no-swap")), names=["x1w1", "x2w2", "s", "n", "o"])
    assert w.n_steps == 1 + 5 + 1 and w.diff_step == 4
    assert "first difference at step 4, node x2w2" in w.header.value
    w.next()
    assert "Step 1 of 5" in panel_text(w) and "o = tanh(n)" in panel_text(w)
    w.jump_to_difference()
    text = panel_text(w)
    assert w.step == 4 and "x2w2 = x2 * w2" in text and "FIRST DIFFERENCE" in text
    assert "x2       +0            +0.5" in text and "\u2717 differs" in text
    assert "Misconception [mul-no-swap]" in text
    uid = w.layout_.uid
    x2w2, x2 = w.graph.names.index("x2w2"), w.graph.names.index("x2")
    red = w.style_.value.split("{fill:#ff8a80}")[0].rsplit("}", 1)[-1]
    assert f"#{uid}_n{x2w2} polygon" in red and f"#{uid}_n{x2} polygon" in red
    w.next()
    assert "Step 5 of 5" in panel_text(w) and "#ff8a80" not in w.style_.value, "only the first"
    w.jump(w.n_steps - 1)
    assert "the rule table's:" in panel_text(w) and "x1: 1, w1: -1.5" in panel_text(w)


def test_play_stops_at_the_first_difference():
    from course.replay_stepper import ReplayStepper
    w = ReplayStepper(neuron(engine("no-upstream")))
    w.play.playing = True
    for _ in range(w.n_steps):  # what the Play widget does, one tick at a time
        if not w.play.playing:
            break
        w.slider.value += 1
    assert w.step == w.diff_step == 4 and not w.play.playing


def test_a_correct_engine_has_no_difference_to_jump_to():
    from course.stepper import ReplayStepper
    w = ReplayStepper(neuron(engine()))
    assert w.diff_step is None and w.diff_button.disabled
    assert all("#ff8a80" not in (w.jump(k) or w.style_.value) for k in range(w.n_steps))
    assert "No difference" in panel_text(w)


def test_micrograds_set_children_and_closures_replay_with_no_difference():
    micrograd = pytest.importorskip("micrograd.engine")
    a, b = micrograd.Value(3.0), micrograd.Value(-2.0)
    out = (a * a + a * b).relu() + (b - a) ** 2
    r = replay(out)
    assert r.first is None, r.report()
    out.backward()
    grads = {id(v): r.final[i] for v, i in ((a, r.graph.ids[id(a)]), (b, r.graph.ids[id(b)]))}
    assert grads == {id(a): a.grad, id(b): b.grad}, "the replay computes what micrograd computes"


def test_a_backward_that_calls_in_circles_is_stopped_and_said_so():
    Value = engine()

    def forever(self):
        self.grad = 1.0
        while True:
            self._backward()
    Value.backward = forever
    a = Value(1.0, label="a")
    r = replay(a * 2.0)
    assert r.first.tag == "no-topological-order" and r.first.step == 2
    assert "stopped after" in r.report()


def test_a_backward_that_raises_outside_any_backward_is_the_difference():
    Value = engine()

    def broken(self):
        raise RecursionError("maximum recursion depth exceeded")
    Value.backward = broken
    r = replay(Value(1.0) * 2.0)
    assert r.first.tag == "backward-error" and "RecursionError" in r.report()


def test_the_graph_stepper_points_to_the_replay_when_the_students_grads_differ():
    from course.stepper import GraphStepper
    out = neuron(engine("no-swap"))
    out.backward()
    w = GraphStepper(out)
    w.jump(w.n_steps - 1)
    text = " ".join(panel_text(w).split())  # long lines wrap in the panel
    assert "they differ at x1, w1, x2, w2" in text and "ReplayStepper(out)" in text
    fine = neuron(engine())
    fine.backward()
    w = GraphStepper(fine)
    w.jump(w.n_steps - 1)
    assert "they all match" in panel_text(w) and "ReplayStepper" not in panel_text(w)
