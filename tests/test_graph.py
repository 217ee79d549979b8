"""Tracing a Value-like graph into records (course.graph), for the step-by-step widget.

What is proved: the traced steps of a*a, a+a, a diamond and notebook 02's tanh
neuron have a valid topological order, the local derivatives of the rule table
and the right contributions; the contributions add up to the gradients that
the engine's own backward() computes (and to central differences); forward
mode's tangents equal those gradients; micrograd's set-valued _prev and
students' own attribute names are read correctly; the student's objects are
never changed.
"""
from __future__ import annotations

import copy
import math

import pytest

from course.graph import forward_mode, node_index, trace


class Value:
    """A tiny engine with the course engine's interface: ``_prev`` is an ordered
    tuple that keeps duplicates, ``_op`` a label that course.rules reads."""

    def __init__(self, data, _prev=(), _op="", label=""):
        self.data, self.grad = float(data), 0.0
        self._prev, self._op, self.label = tuple(_prev), _op, label
        self._backward = lambda: None

    @staticmethod
    def _v(x):
        return x if isinstance(x, Value) else Value(x)

    def _make(self, data, prev, op, locals_):
        out = Value(data, prev, op)

        def _backward():
            for p, d in zip(prev, locals_):
                p.grad += d * out.grad
        out._backward = _backward
        return out

    def __add__(self, o):
        o = self._v(o)
        return self._make(self.data + o.data, (self, o), "+", (1.0, 1.0))

    def __sub__(self, o):
        o = self._v(o)
        return self._make(self.data - o.data, (self, o), "-", (1.0, -1.0))

    def __mul__(self, o):
        o = self._v(o)
        return self._make(self.data * o.data, (self, o), "*", (o.data, self.data))

    def __truediv__(self, o):
        o = self._v(o)
        return self._make(self.data / o.data, (self, o), "/",
                          (1 / o.data, -self.data / o.data ** 2))

    def __pow__(self, k):
        return self._make(self.data ** k, (self,), f"**{k}", (k * self.data ** (k - 1),))

    __radd__, __rmul__ = __add__, __mul__

    def tanh(self):
        t = math.tanh(self.data)
        return self._make(t, (self,), "tanh", (1 - t * t,))

    def exp(self):
        e = math.exp(self.data)
        return self._make(e, (self,), "exp", (e,))

    def backward(self):
        topo, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                topo.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((c, False) for c in v._prev)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


def neuron(cls=Value):
    """Notebook 02's neuron o = tanh(x1*w1 + x2*w2 + b): o = 0.7071, do/dx1 = -1.5."""
    x1, x2, w1, w2 = cls(2.0), cls(0.0), cls(-3.0), cls(1.0)
    b = cls(6.8813735870195432)
    for v, name in ((x1, "x1"), (x2, "x2"), (w1, "w1"), (w2, "w2"), (b, "b")):
        v.label = name
    o = (x1 * w1 + x2 * w2 + b).tanh()
    return o, dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b)


def diamond(cls=Value):
    """x feeds two branches that meet again: d = tanh(x) * x**2."""
    x = cls(0.7)
    return x.tanh() * x ** 2, x


def assert_valid_order(g):
    for node in g.nodes:
        assert all(i < node.index for i in node.inputs), f"{node.name} comes before an input"
    leaves = [n.is_leaf for n in g.nodes]
    assert leaves == sorted(leaves, reverse=True), "leaves come first"
    assert g.output == len(g.nodes) - 1


def contributions_sum(g):
    total = [0.0] * len(g.nodes)
    total[g.output] = 1.0
    for s in g.backward:
        total[s.input] += s.contribution
    return total


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


# --- a*a, a+a: a value used twice receives two contributions ------------------------
def test_a_times_a_records_two_edges_and_two_contributions_of_a():
    a = Value(3.0)
    g = trace(a * a)
    assert_valid_order(g)
    sq = g.nodes[g.output]
    assert sq.inputs == (0, 0) and sq.rule == "mul" and sq.local == (3.0, 3.0)
    steps = [(s.upstream, s.local, s.contribution, s.grad_before, s.grad_after, s.count, s.of)
             for s in g.backward]
    assert steps == [(1.0, 3.0, 3.0, 0.0, 3.0, 1, 2), (1.0, 3.0, 3.0, 3.0, 6.0, 2, 2)]
    assert g.grads[0] == 6.0


def test_a_plus_a_gives_gradient_two_from_two_contributions():
    a = Value(-1.25)
    g = trace(a + a)
    assert [s.contribution for s in g.backward] == [1.0, 1.0]
    assert [(s.grad_before, s.grad_after) for s in g.backward] == [(0.0, 1.0), (1.0, 2.0)]
    assert g.grads[0] == 2.0


# --- diamond and neuron: contributions add up to backward() ---------------------------
def test_diamond_contributions_add_up_to_backward_and_central_difference():
    d, x = diamond()
    g = trace(d)
    assert_valid_order(g)
    into_x = [s for s in g.backward if s.input == node_index(g, x)]
    assert len(into_x) == 2, "x is used by tanh and by **2: two contributions"
    assert [s.count for s in into_x] == [1, 2]
    d.backward()
    ix = node_index(g, x)
    assert g.grads[ix] == pytest.approx(x.grad, rel=1e-12)
    assert contributions_sum(g)[ix] == pytest.approx(x.grad, rel=1e-12)
    f = lambda t: math.tanh(t) * t ** 2
    assert g.grads[ix] == pytest.approx(central(f, 0.7), rel=1e-7)


def test_neuron_order_locals_and_gradients_match_backward():
    o, leaves = neuron()
    g = trace(o)
    assert_valid_order(g)
    names = g.names
    assert names[:5] == ["x1", "w1", "x2", "w2", "b"], "leaves in depth-first order from o"
    out = g.nodes[g.output]
    assert out.rule == "tanh" and out.data == pytest.approx(math.sqrt(0.5), rel=1e-12)
    assert out.local[0] == pytest.approx(0.5, rel=1e-12), "d tanh/dn = 1 - o^2 = 0.5"
    x1w1 = g.nodes[5]
    assert [names[i] for i in x1w1.inputs] == ["x1", "w1"] and x1w1.local == (-3.0, 2.0)
    o.backward()
    total = contributions_sum(g)
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}
    for name, v in leaves.items():
        i = node_index(g, name)
        assert g.grads[i] == pytest.approx(v.grad, abs=1e-12) == pytest.approx(expected[name], abs=1e-12)
        assert total[i] == pytest.approx(v.grad, abs=1e-12)
    # every edge: contribution = upstream * local, upstream is the output's final grad
    for s in g.backward:
        assert s.contribution == s.upstream * s.local
        assert s.upstream == g.grads[s.output]


def test_neuron_gradients_match_central_differences():
    o, leaves = neuron()
    g = trace(o)
    base = {k: v.data for k, v in leaves.items()}
    f = lambda **kw: math.tanh(kw["x1"] * kw["w1"] + kw["x2"] * kw["w2"] + kw["b"])
    for name in base:
        slope = central(lambda t: f(**{**base, name: t}), base[name])
        assert g.grads[node_index(g, name)] == pytest.approx(slope, abs=1e-8)


def test_forward_mode_tangent_of_output_equals_reverse_gradient_for_every_input():
    o, leaves = neuron()
    g = trace(o)
    for name in leaves:
        i = node_index(g, name)
        steps = forward_mode(g, i)
        assert [s.node for s in steps] == [n.index for n in g.nodes if not n.is_leaf]
        assert steps[-1].tangent == pytest.approx(g.grads[i], abs=1e-12)
        seeded = {t_in for s in steps for j, _, t_in in s.terms if g.nodes[j].is_leaf and j != i}
        assert seeded <= {0.0}, "constants and other inputs carry tangent 0"
    with pytest.raises(ValueError, match="not an input"):
        forward_mode(g, g.output)


# --- determinism, depth, immutability -------------------------------------------------
def test_trace_is_deterministic_across_rebuilds():
    shapes = []
    for _ in range(3):
        o, _ = neuron()
        g = trace(o)
        shapes.append([(n.name, n.op, n.inputs, n.data) for n in g.nodes])
    assert shapes[0] == shapes[1] == shapes[2]


def test_a_chain_five_thousand_deep_traces_without_recursion_error():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    g = trace(y)
    assert len(g.nodes) == 10001 and len(g.backward) == 10000
    assert g.grads[node_index(g, x)] == pytest.approx(1.0001 ** 5000, rel=1e-9)


def snapshot(objs):
    return [(id(v), v.data, v.grad, tuple(map(id, v._prev)), v._op, dict(vars(v)))
            for v in objs]


def all_values(out):
    seen, stack = {}, [out]
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen[id(v)] = v
            stack.extend(v._prev)
    return list(seen.values())


def test_tracing_never_changes_the_students_objects():
    o, _ = neuron()
    o.backward()  # grads already set by the student: they must survive untouched
    objs = all_values(o)
    before = snapshot(objs)
    g = trace(o)
    forward_mode(g, 0)
    assert snapshot(objs) == before
    assert [n.engine_grad for n in g.nodes][:5] == pytest.approx([-1.5, 1.0, 0.5, 0.0, 0.5], abs=1e-12)


# --- other engines: micrograd (set children), students' own attribute names ------------
def test_micrograd_set_children_keep_both_uses_of_a_reused_value():
    micrograd = pytest.importorskip("micrograd.engine")
    a, b = micrograd.Value(3.0), micrograd.Value(-2.0)
    out = a * a + a * b - b ** 2
    g = trace(out)
    assert_valid_order(g)
    square = next(n for n in g.nodes if n.rule == "mul" and n.inputs[0] == n.inputs[1])
    assert square.local == (3.0, 3.0), "a set keeps one copy of a in a*a; the trace keeps two"
    out.backward()
    for v in (a, b):
        assert g.grads[node_index(g, v)] == pytest.approx(v.grad, rel=1e-12)
    assert g.grads[node_index(g, a)] == pytest.approx(2 * 3.0 + -2.0)


def test_micrograd_graphs_are_numbered_the_same_every_time_despite_set_order():
    micrograd = pytest.importorskip("micrograd.engine")
    shapes = set()
    for _ in range(8):  # new objects, new ids, other set orders
        a, b, c = micrograd.Value(1.0), micrograd.Value(2.0), micrograd.Value(3.0)
        g = trace((a * b + b * c) * (c + a))
        shapes.add(tuple((n.op, n.inputs, n.data) for n in g.nodes))
    assert len(shapes) == 1


class Student:
    """A student's class with other attribute names and a set of children."""

    def __init__(self, data, children=(), op=""):
        self.data, self.grad, self._children, self.op = data, 0, set(children), op

    def __sub__(self, other):
        return Student(self.data - other.data, (self, other), "-")

    def __truediv__(self, other):
        return Student(self.data / other.data, (self, other), "/")


def test_students_set_children_are_put_in_the_order_that_reproduces_the_value():
    for _ in range(5):  # set order varies with ids; the trace must not
        a, b = Student(5.0), Student(2.0)
        g = trace((a - b) / b)
        sub = next(n for n in g.nodes if n.rule == "sub")
        div = g.nodes[g.output]
        assert (g.nodes[sub.inputs[0]].data, g.nodes[sub.inputs[1]].data) == (5.0, 2.0)
        assert g.nodes[div.inputs[0]].data == 3.0
        assert g.grads[node_index(g, a)] == pytest.approx(0.5)
        assert g.grads[node_index(g, b)] == pytest.approx(-0.5 - 3.0 / 4.0)


def test_the_course_engine_is_traced_with_its_duplicate_edges():
    engine = pytest.importorskip("course.engine")
    a = engine.Value(1.5)
    out = (a * a + a).tanh()
    g = trace(out)
    assert len([s for s in g.backward if s.input == node_index(g, a)]) == 3
    out.backward()
    assert g.grads[node_index(g, a)] == pytest.approx(a.grad, rel=1e-12)


class Odd:
    def __init__(self, data, prev=(), op=""):
        self.data, self.grad, self.prev, self.op = data, 0.0, list(prev), op


def test_an_operation_without_a_rule_is_kept_with_its_derivative_marked_unknown():
    a, b = Odd(1.0), Odd(2.0)
    c = Odd(7.0, (a, b), "hypot3")
    d = Odd(14.0, (c, c), "+")
    g = trace(d)
    node = g.nodes[node_index(g, c)]
    assert node.rule is None and node.local is None
    assert "no derivative rule for the operation 'hypot3'" in node.note
    assert any("hypot3" in n for n in g.notes)
    assert g.grads[node.index] == 2.0, "the known part of the graph is still differentiated"
    assert g.grads[0] is None and g.grads[1] is None, "unknown, not silently zero"


def test_a_value_that_does_not_match_its_operation_is_flagged():
    a, b = Odd(3.0), Odd(4.0)
    wrong = Odd(7.0, (a, b), "*")  # a student's * that adds
    g = trace(wrong)
    assert "check the forward computation of '*'" in g.nodes[g.output].note


def test_a_plain_number_stored_among_the_inputs_is_drawn_as_a_constant():
    a = Odd(3.0)
    out = Odd(6.0, (a, 2), "*")  # a student's __mul__ that did not wrap the 2
    g = trace(out)
    const = g.nodes[g.nodes[g.output].inputs[1]]
    assert const.is_leaf and const.data == 2.0 and const.name == "2"
    assert g.grads[node_index(g, a)] == 2.0


def test_an_object_without_inputs_gets_a_clear_error():
    class NoKids:
        data, grad = 1.0, 0.0
    with pytest.raises(TypeError, match="_prev, _children, children or prev"):
        trace(NoKids())


def test_copying_is_not_how_the_trace_avoids_mutation():
    # deepcopy would give the records other ids: the trace must map the real objects
    o, leaves = neuron()
    g = trace(o)
    assert node_index(g, leaves["w2"]) == node_index(g, "w2")
    with pytest.raises(KeyError):
        node_index(g, copy.copy(leaves["w2"]))


# --- names: the ones the student has already met ------------------------------------
def test_computed_nodes_are_numbered_v0_v1_in_evaluation_order_as_notebook_02_does():
    x0, x1 = Value(1.5, label="x0"), Value(2.0, label="x1")
    f = (x0 ** 2 / x1) * x0.tanh() + (x0 / x1).exp()  # notebook 02's f, tanh for cos
    g = trace(f)
    inner = [n for n in g.nodes if not n.is_leaf]
    assert [(n.name, n.formula(g.names)) for n in inner] == [
        ("v0", "x0**2"), ("v1", "v0 / x1"), ("v2", "tanh(x0)"), ("v3", "v1 * v2"),
        ("v4", "x0 / x1"), ("v5", "exp(v4)"), ("v6", "v3 + v5")]
    assert trace(f, numbering="all").names[2:] == [f"v{i}" for i in range(2, 9)]


def test_unlabelled_leaves_are_named_by_their_value_and_names_stay_unique():
    a, b = Value(1.0, label="x0"), Value(0.1)
    g = trace((a * b + 0.1) * 2 + Value(2.0, label="v1"))
    assert g.names == ["x0", "0.1", "0.1#2", "2", "v1", "v0", "v2", "v3", "v4"]
    assert [n.formula(g.names) for n in g.nodes[6:8]] == ["v0 + 0.1#2", "v2 * 2"]


def test_names_can_be_given_as_a_list_a_name_to_node_map_or_renames():
    o, leaves = neuron()
    evaluated = ["x1w1", "x2w2", "s", "n", "o"]
    g = trace(o, names=evaluated)
    assert g.names == ["x1", "w1", "x2", "w2", "b", *evaluated]
    assert g.nodes[7].formula(g.names) == "x1w1 + x2w2"
    assert trace(o, names={"out": o, "weight": leaves["w1"]}).names[1::8] == ["weight", "out"]
    assert trace(o, names={o: "out"}).names[-1] == "out"
    assert trace(o, names={"v2": "s", 5: "x1w1"}).names[5:8] == ["x1w1", "v0", "s"]
    with pytest.raises(ValueError, match="3 names given for 5 computed nodes"):
        trace(o, names=["a", "b", "c"])
    with pytest.raises(KeyError, match="no node is called v7"):
        trace(o, names={"v7": "z"})
    with pytest.raises(KeyError, match="not a node of this graph"):
        trace(o, names={"stranger": Value(1.0)})
