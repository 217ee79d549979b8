# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Build your own autodiff engine
#
# In notebook 02 you pushed gradients backwards through a graph by hand. Now you
# will write the program that does it for you: a `Value` that holds one number,
# remembers how it was computed, and can send gradients back to everything it
# was computed from. About a hundred lines, and it is enough to train a neural
# network, which you will do at the end.
#
# **Plan.** A `Value` class · `+` and `*` with their local backward ·
# the bug every student meets · drawing the graph · `**`, `-`, `/` and the
# reflected forms (`2 * v`) · `tanh`, `exp`, `relu` · a topological order ·
# `backward()` · a check against PyTorch · a neural network on two moons.
#
# **How to work.** Each exercise is a function with
# `raise NotImplementedError(...)` in it: replace that line with your code, run
# the cell, then run the test cells below it. A failing test says what it
# checked, what it expected, what it got and, for known mistakes, what to fix.

# %%
import math
import random
import time

import numpy as np
import matplotlib.pyplot as plt

import course  # puts the graph layout program `dot` on PATH
from course.checks import report, misconception
from course.numeric import central_difference


# %% [markdown]
# ## 1. A number that remembers
#
# A `Value` stores
#
# | attribute | meaning |
# |---|---|
# | `data` | the number itself |
# | `grad` | $\partial\,\text{output} / \partial\,\text{this value}$, filled in by backpropagation; starts at 0 |
# | `_prev` | the values it was computed from, **in order, duplicates kept** (`a * a` has `_prev == (a, a)`) |
# | `_op` | the operation that made it: `'+'`, `'*'`, ...; `''` for a value you typed in (a *leaf*) |
# | `_backward` | a function, set by the operation, that passes `self.grad` on to the inputs' `grad` |
#
# `_prev` is a tuple, not a set: a set would lose the second `a` of `a * a`,
# and would need `Value`s to be hashable (more on that in section 10).
#
# The class starts with no operations. Each exercise adds one, with a line such
# as `Value.__add__ = __add__`, so every exercise has its own cell and its own
# tests.

# %%
class Value:
    """A scalar that remembers how it was computed."""

    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)   # inputs, in order, duplicates kept
        self._op = _op                  # '' for a leaf
        self._backward = lambda: None   # a leaf has nothing to pass on

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"


# %%
a = Value(2.0)
print(a, a._prev, repr(a._op))

# %% [markdown]
# The next cell holds small tools that the test cells and the checklist use
# (read them later if you like). `op_checklist()` compares every operation's
# value and local gradients with a numerical slope; you will re-run it after
# each step to see that nothing broke.

# %% nbgrader={"grade": false, "grade_id": "tools", "locked": true, "schema_version": 3, "solution": false}
# Tools for the test cells and the checklist. You do not need to change them.

_PROBES = {
    "__add__": lambda: Value(1.0) + Value(2.0),
    "__mul__": lambda: Value(1.0) * Value(2.0),
    "__pow__": lambda: Value(2.0) ** 2,
    "__neg__": lambda: -Value(1.0),
    "__sub__": lambda: Value(1.0) - Value(2.0),
    "__truediv__": lambda: Value(1.0) / Value(2.0),
    "__radd__": lambda: 1.0 + Value(2.0),
    "__rmul__": lambda: 2.0 * Value(2.0),
    "tanh": lambda: Value(0.5).tanh(),
    "exp": lambda: Value(0.5).exp(),
    "relu": lambda: Value(0.5).relu(),
    "topological_order": lambda: topological_order(Value(1.0)),
    "backward": lambda: (Value(1.0) * Value(2.0)).backward(),
    "Neuron": lambda: Neuron(2)([1.0, 2.0]),
}


def needs(*names):
    """Stop a check early, with a clear message, when an exercise it builds on is not written yet."""
    for name in names:
        try:
            _PROBES[name]()
        except NotImplementedError:
            assert False, (f"finish {name} first: its cell above still raises NotImplementedError, "
                           "and this check builds on it")


def attempt(f):
    """(f(), '') or (None, 'the error'); a NotImplementedError (an exercise not written yet) passes through."""
    try:
        return f(), ""
    except NotImplementedError:
        raise
    except RecursionError:
        return None, "RecursionError: maximum recursion depth exceeded"
    except Exception as e:
        return None, f"{type(e).__name__}: {e}"


def walk_back(out, seed=1.0):
    """Backpropagate from out with the tools' own order (so checks work before your backward() does)."""
    order, seen, stack = [], set(), [(out, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
        elif id(v) not in seen:
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((u, False) for u in reversed(v._prev))
    out.grad = seed
    for v in reversed(order):
        v._backward()


CHECKLIST = [  # (expression, on Values, on floats)
    ("a + b", lambda a, b: a + b, lambda a, b: a + b),
    ("a * b", lambda a, b: a * b, lambda a, b: a * b),
    ("a + a", lambda a, b: a + a, lambda a, b: a + a),
    ("a * a", lambda a, b: a * a, lambda a, b: a * a),
    ("a ** 3", lambda a, b: a ** 3, lambda a, b: a ** 3),
    ("a ** -1.5", lambda a, b: a ** -1.5, lambda a, b: a ** -1.5),
    ("-a", lambda a, b: -a, lambda a, b: -a),
    ("a - b", lambda a, b: a - b, lambda a, b: a - b),
    ("a / b", lambda a, b: a / b, lambda a, b: a / b),
    ("2 + a", lambda a, b: 2 + a, lambda a, b: 2 + a),
    ("2 * a", lambda a, b: 2 * a, lambda a, b: 2 * a),
    ("2 - a", lambda a, b: 2 - a, lambda a, b: 2 - a),
    ("2 / a", lambda a, b: 2 / a, lambda a, b: 2 / a),
    ("sum([a, b, a])", lambda a, b: sum([a, b, a]), lambda a, b: a + b + a),
    ("a.tanh()", lambda a, b: a.tanh(), lambda a, b: math.tanh(a)),
    ("a.exp()", lambda a, b: a.exp(), lambda a, b: math.exp(a)),
    ("a.relu()", lambda a, b: a.relu(), lambda a, b: max(a, 0.0)),
]


def op_checklist(a=1.3, b=-0.7):
    """Each operation at (a, b): its value, and the gradients its _backward gives against central differences."""
    print(f"at a = {a}, b = {b}   (d/da, d/db: your gradients; slopes: central differences)")
    for name, on_values, on_floats in CHECKLIST:
        try:
            A, B = Value(a), Value(b)
            out = on_values(A, B)
            walk_back(out)
        except NotImplementedError:
            print(f"  .  {name:15s} not written yet")
            continue
        except (TypeError, AttributeError) as e:
            if "unsupported operand" in str(e) or "bad operand" in str(e) or "no attribute" in str(e):
                print(f"  .  {name:15s} not written yet")
                continue
            print(f"  x  {name:15s} {type(e).__name__}: {e}")
            continue
        except Exception as e:
            print(f"  x  {name:15s} {type(e).__name__}: {e}")
            continue
        value = on_floats(a, b)
        h = 1e-6
        slopes = ((on_floats(a + h, b) - on_floats(a - h, b)) / (2 * h),
                  (on_floats(a, b + h) - on_floats(a, b - h)) / (2 * h))
        grads = (float(A.grad), float(B.grad))
        ok = (abs(float(out.data) - value) <= 1e-9 * (1 + abs(value))
              and all(abs(g - s) <= 1e-5 * (1 + abs(s)) for g, s in zip(grads, slopes)))
        print(f"  {'ok' if ok else 'x '} {name:15s} value {float(out.data):9.5f} (expected {value:9.5f})   "
              f"d/da {grads[0]:9.5f} d/db {grads[1]:9.5f}   slopes {slopes[0]:9.5f} {slopes[1]:9.5f}")


# %%
op_checklist()


# %% [markdown]
# ## 2. Addition
#
# `c = a + b` must do three things:
#
# 1. compute `c.data = a.data + b.data`;
# 2. remember where `c` came from: `Value(..., (self, other), '+')`;
# 3. give `c` a `_backward` that passes `c.grad` on to the inputs. The local
#    derivatives of a sum are $\partial c/\partial a = \partial c/\partial b = 1$,
#    so by the chain rule each input receives $1 \cdot$ `c.grad`.
#
# `_backward` runs later, after `c.grad` has been filled in, so it must read
# `out.grad` when it runs (a closure does exactly that). Let `other` be a plain
# number too: wrap it as `Value(other)` first. Every operation in this notebook
# has the same shape:
#
# ```python
# out = Value(<the result>, (<the inputs>), "<op>")
# def _backward():
#     # for each input: its grad gets (local derivative) * out.grad
#     ...
# out._backward = _backward
# return out
# ```

# %% nbgrader={"grade": false, "grade_id": "value_add", "locked": false, "schema_version": 3, "solution": true}
def __add__(self, other):
    """self + other, where other is a Value or a number."""
    ### BEGIN SOLUTION
    other = other if isinstance(other, Value) else Value(other)
    out = Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad

    out._backward = _backward
    return out
    ### END SOLUTION


Value.__add__ = __add__

# %% nbgrader={"grade": true, "grade_id": "test_add_value", "locked": true, "points": 1, "schema_version": 3, "solution": false}
got = float((Value(2.0) + Value(-3.5)).data)
assert got == -1.5, report("(Value(2.0) + Value(-3.5)).data", expected=-1.5, got=got)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for x, y in rng.uniform(-10, 10, size=(5, 2)):
    got = float((Value(x) + Value(y)).data)
    assert abs(got - (x + y)) <= 1e-12, report(
        f"(Value({x:.6g}) + Value({y:.6g})).data", expected=x + y, got=got, tol=1e-12)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_add_remembers_its_inputs", "locked": true, "points": 1, "schema_version": 3, "solution": false}
a, b = Value(2.0), Value(-3.5)
c = a + b
kids = tuple(getattr(c, "_prev", ()))
assert len(kids) == 2 and kids[0] is a and kids[1] is b and c._op == "+", report(
    "c = a + b must record its inputs and its operation",
    expected="c._prev == (a, b) (the same objects, in order) and c._op == '+'",
    got=f"c._prev = {kids!r}, c._op = {getattr(c, '_op', None)!r}",
    hint=misconception("no-parents", "c has no parents: the graph was cut at op +, so no gradient can reach a "
                       "or b. Build the result as Value(self.data + other.data, (self, other), '+')")
    if not kids else None)

# %% nbgrader={"grade": true, "grade_id": "test_add_number", "locked": true, "points": 1, "schema_version": 3, "solution": false}
a = Value(2.0)
c, err = attempt(lambda: a + 3)
assert not err and float(c.data) == 5.0, report(
    "Value(2.0) + 3 (a plain number on the right)", expected=5.0, got=err or float(c.data),
    hint=misconception("number-not-wrapped", "3 has no .data: wrap a plain number first, "
                       "other = other if isinstance(other, Value) else Value(other)"))

# %% nbgrader={"grade": true, "grade_id": "test_add_local_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
a, b = Value(2.0), Value(-3.5)
c = a + b
c.grad = 1.5
c._backward()
got = (float(a.grad), float(b.grad))
assert got == (1.5, 1.5), report(
    "c = a + b; c.grad = 1.5; c._backward() gives (a.grad, b.grad)", expected=(1.5, 1.5), got=got,
    hint=misconception("chain-rule-missing", "each input gets local derivative 1 times out.grad; "
                       "use out.grad, not the constant 1") if got == (1.0, 1.0) else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2027)
for x, y, g in rng.uniform(-3, 3, size=(5, 3)):
    a, b = Value(x), Value(y)
    c = a + b
    c.grad = g
    c._backward()
    got = (float(a.grad), float(b.grad))
    assert max(abs(got[0] - g), abs(got[1] - g)) <= 1e-12, report(
        f"c = Value({x:.4g}) + Value({y:.4g}); c.grad = {g:.6g}; c._backward() gives (a.grad, b.grad)",
        expected=(g, g), got=got, tol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Multiplication
#
# Same three steps for `c = a * b`. The local derivatives are
# $\partial c/\partial a = b$ and $\partial c/\partial b = a$: a times node
# *swaps* its inputs, then multiplies by `c.grad`.

# %% nbgrader={"grade": false, "grade_id": "value_mul", "locked": false, "schema_version": 3, "solution": true}
def __mul__(self, other):
    """self * other, where other is a Value or a number."""
    ### BEGIN SOLUTION
    other = other if isinstance(other, Value) else Value(other)
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out
    ### END SOLUTION


Value.__mul__ = __mul__

# %% nbgrader={"grade": true, "grade_id": "test_mul_value_and_inputs", "locked": true, "points": 1, "schema_version": 3, "solution": false}
a, b = Value(2.0), Value(-3.5)
c, err = attempt(lambda: a * b)
got = err or float(c.data)
assert got == -7.0, report("(Value(2.0) * Value(-3.5)).data", expected=-7.0, got=got)
kids = tuple(c._prev)
assert len(kids) == 2 and kids[0] is a and kids[1] is b and c._op == "*", report(
    "c = a * b must record its inputs and its operation",
    expected="c._prev == (a, b) and c._op == '*'", got=f"c._prev = {kids!r}, c._op = {c._op!r}",
    hint=misconception("no-parents", "c has no parents: the graph was cut at op *. "
                       "Build the result as Value(self.data * other.data, (self, other), '*')")
    if not kids else None)
c, err = attempt(lambda: a * 3)
assert not err and float(c.data) == 6.0, report(
    "Value(2.0) * 3 (a plain number on the right)", expected=6.0, got=err or float(c.data),
    hint=misconception("number-not-wrapped", "wrap a plain number first: Value(other)"))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2028)
for x, y in rng.uniform(-10, 10, size=(5, 2)):
    got = float((Value(x) * Value(y)).data)
    assert abs(got - x * y) <= 1e-12 * (1 + abs(x * y)), report(
        f"(Value({x:.6g}) * Value({y:.6g})).data", expected=x * y, got=got, tol=1e-12)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_mul_local_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
a, b = Value(2.0), Value(-3.5)
c = a * b
c.grad = 1.5
c._backward()
got = (float(a.grad), float(b.grad))
hints = {(3.0, -5.25): misconception("mul-no-swap", "d(a*b)/da is b, not a: a times node swaps its inputs"),
         (-3.5, 2.0): misconception("chain-rule-missing", "multiply the local derivative by out.grad")}
assert got == (-5.25, 3.0), report(
    "c = a * b with a = 2.0, b = -3.5; c.grad = 1.5; c._backward() gives (a.grad, b.grad)",
    expected=(-5.25, 3.0), got=got, hint=hints.get(got))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2029)
for x, y, g in rng.uniform(-3, 3, size=(5, 3)):
    a, b = Value(x), Value(y)
    c = a * b
    c.grad = g
    c._backward()
    got = (float(a.grad), float(b.grad))
    assert abs(got[0] - y * g) <= 1e-12 and abs(got[1] - x * g) <= 1e-12, report(
        f"c = Value({x:.4g}) * Value({y:.4g}); c.grad = {g:.6g}; c._backward() gives (a.grad, b.grad)",
        expected=(y * g, x * g), got=got, tol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. The bug every student meets: `b = a + a`
#
# $b = a + a = 2a$, so $\partial b / \partial a = 2$. Here is an engine whose
# `+` *sets* the inputs' gradients with `=`:

# %%
class OverwritingValue(Value):
    """The same engine, except that + sets gradients with = instead of adding to them."""

    def __add__(self, other):
        out = OverwritingValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad = out.grad    # the bug
            other.grad = out.grad   # self and other are the same object: this overwrites the line above

        out._backward = _backward
        return out


a = OverwritingValue(3.0)
b = a + a
b.grad = 1.0
b._backward()
print("a.grad =", a.grad, "  but the slope of x + x is", round(central_difference(lambda x: x + x, 3.0), 6))

# %% [markdown]
# `a` is *both* inputs of `+`. The multivariable chain rule sums over every
# path from `a` to the output: $\frac{\partial b}{\partial a} = 1 \cdot 1 + 1 \cdot 1$.
# With `=`, the second contribution overwrites the first. The same happens
# whenever a value is used twice anywhere in a graph (`a * a`, `a * b + a`, a
# weight shared by 100 data points...).
#
# **The fix: always accumulate**, `self.grad += ...`. The gradients then start
# at 0 and every use adds its share. Your engine:

# %%
a = Value(3.0)
b = a + a
b.grad = 1.0
b._backward()
print("your engine: a.grad =", a.grad)

# %% [markdown]
# If that printed `1.0`, change `=` to `+=` in the `_backward` of your `__add__`
# **and** `__mul__` cells, re-run them, and re-run the checks below.

# %% nbgrader={"grade": true, "grade_id": "test_reuse_add", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__")
a = Value(3.0)
b = a + a
b.grad = 1.0
b._backward()
got = float(a.grad)
assert got == 2.0, report(
    "a = Value(3.0); b = a + a; b.grad = 1; b._backward() gives a.grad", expected=2.0, got=got,
    hint=misconception("grad-overwritten", "gradient of a reused node is too small: gradients from every use "
                       "must be added (self.grad += ...), not assigned (=)") if got == 1.0 else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2030)
for x, g in rng.uniform(-3, 3, size=(4, 2)):
    a = Value(x)
    b = a + a
    b.grad = g
    b._backward()
    got = float(a.grad)
    assert abs(got - 2 * g) <= 1e-12, report(
        f"a = Value({x:.4g}); b = a + a; b.grad = {g:.6g}; b._backward() gives a.grad", expected=2 * g, got=got,
        hint=misconception("grad-overwritten", "gradients from every use must be added (+=)"))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_reuse_mul", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__mul__")
a = Value(3.0)
b = a * a
b.grad = 1.0
b._backward()
got = float(a.grad)
assert got == 6.0, report(
    "a = Value(3.0); b = a * a; b.grad = 1; b._backward() gives a.grad (d(a^2)/da = 2a)", expected=6.0, got=got,
    hint=misconception("grad-overwritten", "gradient of a reused node is too small: gradients from every use "
                       "must be added (self.grad += ...), not assigned (=)") if got == 3.0 else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2031)
for x in rng.uniform(-3, 3, size=4):
    a = Value(x)
    walk_back(a * a * a)
    got = float(a.grad)
    assert abs(got - 3 * x * x) <= 1e-12 * (1 + 3 * x * x), report(
        f"a = Value({x:.4g}); backpropagate a * a * a: a.grad (3a^2)", expected=3 * x * x, got=got,
        hint=misconception("grad-overwritten", "gradients from every use must be added (+=)"))
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Drawing the graph
#
# A picture of what `_prev` and `_op` record: a box per `Value` (its name if
# you give one, `data`, `grad`) and a circle per operation. Inputs are drawn in
# order and duplicates are kept, so `a * a` has two arrows.

# %%
import graphviz


def draw(root, **names):
    """Graph of root's expression; name values with keywords, e.g. draw(L, a=a, b=b)."""
    label = {id(v): k for k, v in names.items()}
    nodes, seen, stack = [], set(), [root]
    while stack:                                   # every node once, no recursion
        v = stack.pop()
        if id(v) not in seen:
            seen.add(id(v))
            nodes.append(v)
            stack.extend(v._prev)
    key = {id(v): f"v{i}" for i, v in enumerate(nodes)}
    g = graphviz.Digraph(graph_attr={"rankdir": "LR"}, node_attr={"fontsize": "11"})
    for v in nodes:
        name = label.get(id(v))
        fields = ([name] if name else []) + [f"data {v.data:.4g}", f"grad {v.grad:.4g}"]
        g.node(key[id(v)], "{" + " | ".join(fields) + "}", shape="record")
        if v._prev:
            g.node(key[id(v)] + "op", v._op, shape="circle", width="0.35", fixedsize="false")
            g.edge(key[id(v)] + "op", key[id(v)])
            for u in v._prev:
                g.edge(key[id(u)], key[id(v)] + "op")
    return g


# %% tags=["slow"]
a = Value(3.0)
draw(a * a, a=a)

# %% [markdown]
# Notebook 02's example, $L = (a b + c) f$ at $a = 2, b = -3, c = 10, f = -2$.
# Push the gradient back by hand, one node at a time: each `_backward` may run
# only once its node's `grad` is complete, so we go from `L` towards the leaves.

# %% tags=["slow"]
a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
e = a * b
d = e + c
L = d * f
L.grad = 1.0
L._backward()   # fills d.grad and f.grad
d._backward()   # fills e.grad and c.grad
e._backward()   # fills a.grad and b.grad
draw(L, a=a, b=b, c=c, f=f, e=e, d=d, L=L)


# %% [markdown]
# ## 6. Powers with a number exponent
#
# `v ** k` for a plain number `k` (an `int`, a `float`, or a numpy number such
# as `np.int64(2)`): $\frac{d}{dv} v^k = k\,v^{k-1}$. Label the node
# `f"**{k:g}"` (`'**2'`, `'**-1'`, `'**0.5'`).
#
# Careful: in Python `(-2.0) ** 0.5` is the *complex* number `1.4142135623730951j`,
# silently. A real engine must never do that: when the base is negative and `k`
# is not a whole number, raise `ValueError` with a clear message.

# %% nbgrader={"grade": false, "grade_id": "value_pow", "locked": false, "schema_version": 3, "solution": true}
def __pow__(self, k):
    """self ** k for a number k (int, float or numpy number)."""
    ### BEGIN SOLUTION
    if isinstance(k, Value):
        raise TypeError("only a number exponent is supported: Value ** number")
    k = float(k)
    if self.data < 0 and not k.is_integer():
        raise ValueError(f"{self.data!r} ** {k!r}: a negative base to a fractional power is not a real number")
    out = Value(self.data ** k, (self,), f"**{k:g}")

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out
    ### END SOLUTION


Value.__pow__ = __pow__

# %% nbgrader={"grade": true, "grade_id": "test_pow_value_and_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false}
for x, k in [(3.0, 2), (2.0, -1), (4.0, 0.5), (-1.5, 3)]:
    a = Value(x)
    out = a ** k
    out.grad = 1.0
    out._backward()
    got = (float(out.data), float(a.grad))
    expected = (x ** k, k * x ** (k - 1))
    assert abs(got[0] - expected[0]) <= 1e-12 and abs(got[1] - expected[1]) <= 1e-12, report(
        f"a = Value({x}); out = a ** {k}; out.grad = 1; out._backward() gives (out.data, a.grad)",
        expected=expected, got=got, tol=1e-12,
        hint=misconception("power-rule", "d(a^k)/da = k * a^(k-1), times out.grad")
        if abs(got[1] - x ** (k - 1)) <= 1e-12 or abs(got[1] - k * x ** k) <= 1e-12 else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2032)
for x, k, g in zip(rng.uniform(0.5, 3, 6), rng.choice([-2, -1, 0.5, 1.5, 2, 3], 6), rng.uniform(-2, 2, 6)):
    a = Value(x)
    out = a ** float(k)
    out.grad = g
    out._backward()
    got = (float(out.data), float(a.grad))
    expected = (x ** k, k * x ** (k - 1) * g)
    assert max(abs(got[0] - expected[0]), abs(got[1] - expected[1])) <= 1e-10, report(
        f"a = Value({x:.6g}); out = a ** {k}; out.grad = {g:.6g}; out._backward() gives (out.data, a.grad)",
        expected=expected, got=got, tol=1e-10)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_pow_numpy_exponent", "locked": true, "points": 1, "schema_version": 3, "solution": false}
a = Value(3.0)
out, err = attempt(lambda: a ** np.int64(2))
got = err or float(out.data)
assert got == 9.0, report(
    "Value(3.0) ** np.int64(2)", expected=9.0, got=got,
    hint=misconception("numpy-exponent", "a numpy integer is a number too: convert the exponent with float(k) "
                       "instead of checking isinstance(k, (int, float))"))

# %% nbgrader={"grade": true, "grade_id": "test_pow_negative_base", "locked": true, "points": 1, "schema_version": 3, "solution": false}
out, err = attempt(lambda: Value(-2.0) ** 0.5)
outcome = err.split(":")[0] if err else f"a result with data {out.data!r}"
assert outcome == "ValueError", report(
    "Value(-2.0) ** 0.5 must raise ValueError", expected="ValueError", got=outcome,
    hint=misconception("complex-power", "(-2.0) ** 0.5 is a complex number in Python; check the base and raise "
                       "ValueError for a negative base to a non-integer power, never return a complex number"))
out, err = attempt(lambda: Value(-2.0) ** 3)
got = err or float(out.data)
assert got == -8.0, report("Value(-2.0) ** 3 (a whole exponent is fine)", expected=-8.0, got=got)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2033)
for x, k in zip(-rng.uniform(0.1, 5, 4), rng.choice([0.5, 1.5, -0.5, 2.5], 4)):
    out, err = attempt(lambda: Value(x) ** float(k))
    outcome = err.split(":")[0] if err else f"a result with data {out.data!r}"
    assert outcome == "ValueError", report(
        f"Value({x:.6g}) ** {k} must raise ValueError", expected="ValueError", got=outcome,
        hint=misconception("complex-power", "a negative base to a non-integer power is not a real number"))
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Negation, subtraction, division: from what you have
#
# No new derivatives needed: $-a = a \cdot (-1)$, $a - b = a + (-b)$ and
# $a / b = a \cdot b^{-1}$. Build them from `*`, `+` and `**`, and the graph
# (and its gradients) follows. Division by zero raises `ZeroDivisionError`
# (which $0^{-1}$ already does in Python): that is this course's policy.

# %% nbgrader={"grade": false, "grade_id": "value_neg_sub_div", "locked": false, "schema_version": 3, "solution": true}
def __neg__(self):
    """-self"""
    ### BEGIN SOLUTION
    return self * -1
    ### END SOLUTION


def __sub__(self, other):
    """self - other"""
    ### BEGIN SOLUTION
    return self + (-other)
    ### END SOLUTION


def __truediv__(self, other):
    """self / other"""
    ### BEGIN SOLUTION
    other = other if isinstance(other, Value) else Value(other)
    return self * other ** -1
    ### END SOLUTION


Value.__neg__ = __neg__
Value.__sub__ = __sub__
Value.__truediv__ = __truediv__

# %% nbgrader={"grade": true, "grade_id": "test_neg_and_sub", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__")
a, b = Value(2.0), Value(-3.5)
out = -a
walk_back(out)
got = (float(out.data), float(a.grad))
assert got == (-2.0, -1.0), report("out = -Value(2.0), backpropagated: (out.data, a.grad)",
                                   expected=(-2.0, -1.0), got=got)
a = Value(2.0)
out = a - b
walk_back(out)
got = (float(out.data), float(a.grad), float(b.grad))
assert got == (5.5, 1.0, -1.0), report("out = Value(2.0) - Value(-3.5), backpropagated: (out.data, a.grad, b.grad)",
                                       expected=(5.5, 1.0, -1.0), got=got)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2034)
for x, y in rng.uniform(-5, 5, size=(4, 2)):
    a, b = Value(x), Value(y)
    out = a - b
    walk_back(out)
    got = (float(out.data), float(a.grad), float(b.grad))
    assert max(abs(got[0] - (x - y)), abs(got[1] - 1), abs(got[2] + 1)) <= 1e-12, report(
        f"Value({x:.6g}) - Value({y:.6g}), backpropagated: (out.data, a.grad, b.grad)",
        expected=(x - y, 1.0, -1.0), got=got, tol=1e-12)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_div", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__mul__", "__pow__")
a, b = Value(3.0), Value(-2.0)
out = a / b
walk_back(out)
got = (float(out.data), float(a.grad), float(b.grad))
expected = (-1.5, -0.5, -0.75)   # a/b, 1/b, -a/b^2
assert max(abs(g - e) for g, e in zip(got, expected)) <= 1e-12, report(
    "out = Value(3.0) / Value(-2.0), backpropagated: (out.data, a.grad, b.grad)", expected=expected, got=got,
    tol=1e-12)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2035)
for x, y in rng.uniform(0.5, 4, size=(4, 2)) * rng.choice([-1, 1], size=(4, 2)):
    a, b = Value(x), Value(y)
    out = a / b
    walk_back(out)
    got = (float(out.data), float(a.grad), float(b.grad))
    expected = (x / y, 1 / y, -x / y ** 2)
    assert max(abs(g - e) for g, e in zip(got, expected)) <= 1e-12, report(
        f"Value({x:.6g}) / Value({y:.6g}), backpropagated: (out.data, a.grad, b.grad)",
        expected=expected, got=got, tol=1e-12)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_div_by_zero", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__mul__", "__pow__")
out, err = attempt(lambda: Value(1.0) / Value(0.0))
outcome = err.split(":")[0] if err else f"a result with data {out.data!r}"
assert outcome == "ZeroDivisionError", report(
    "Value(1.0) / Value(0.0) must raise ZeroDivisionError (the course's policy)", expected="ZeroDivisionError",
    got=outcome)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2036)
x = float(rng.uniform(-5, 5))
out, err = attempt(lambda: Value(x) / 0)
outcome = err.split(":")[0] if err else f"a result with data {out.data!r}"
assert outcome == "ZeroDivisionError", report(
    f"Value({x:.6g}) / 0 must raise ZeroDivisionError", expected="ZeroDivisionError", got=outcome)
### END HIDDEN TESTS

# %% [markdown]
# ## 8. A number on the left: `2 * v`, `2 - v`, `sum([...])`
#
# For `2 * v` Python first asks `int.__mul__(2, v)`, which does not know
# `Value` and returns `NotImplemented`; then it asks `v.__rmul__(2)`. So define
# the *reflected* methods. Two traps:
#
# * `__radd__` must not compute `other + self` with `other` a number: that asks
#   `int.__add__` again, which hands back to `__radd__`, forever (`RecursionError`).
#   Write `self + other` (addition commutes).
# * subtraction and division do not commute: `2 - v` is `(-v) + 2`, and
#   `2 / v` is `v ** -1 * 2`.
#
# `sum([a, b])` starts from the integer `0`, so it needs `__radd__` as well.

# %% nbgrader={"grade": false, "grade_id": "value_reflected", "locked": false, "schema_version": 3, "solution": true}
def __radd__(self, other):
    """other + self, where other is a number"""
    ### BEGIN SOLUTION
    return self + other
    ### END SOLUTION


def __rmul__(self, other):
    """other * self"""
    ### BEGIN SOLUTION
    return self * other
    ### END SOLUTION


def __rsub__(self, other):
    """other - self"""
    ### BEGIN SOLUTION
    return (-self) + other
    ### END SOLUTION


def __rtruediv__(self, other):
    """other / self"""
    ### BEGIN SOLUTION
    return self ** -1 * other
    ### END SOLUTION


Value.__radd__ = __radd__
Value.__rmul__ = __rmul__
Value.__rsub__ = __rsub__
Value.__rtruediv__ = __rtruediv__

# %% nbgrader={"grade": true, "grade_id": "test_radd_rmul", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__")
for expr, f, expected in [("2 + v", lambda v: 2 + v, (5.5, 1.0)), ("2 * v", lambda v: 2 * v, (7.0, 2.0))]:
    v = Value(3.5)
    out, err = attempt(lambda: f(v))
    if not err:
        walk_back(out)
    got = err or (float(out.data), float(v.grad))
    hint = None
    if "RecursionError" in str(err):
        hint = misconception("reflected-recursion", "__radd__/__rmul__ call other + self with a number on the left, "
                             "which comes straight back to them; return self + other (self * other) instead")
    elif "unsupported operand" in str(err):
        hint = misconception("reflected-missing", f"{expr} asks the number first, then v.__r...__(2): "
                             "define __radd__ and __rmul__")
    assert got == expected, report(f"v = Value(3.5); out = {expr}, backpropagated: (out.data, v.grad)",
                                   expected=expected, got=got, hint=hint)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2037)
for x, c in rng.uniform(-4, 4, size=(4, 2)):
    v = Value(x)
    out = c * v + c
    walk_back(out)
    got = (float(out.data), float(v.grad))
    assert abs(got[0] - (c * x + c)) <= 1e-12 and abs(got[1] - c) <= 1e-12, report(
        f"v = Value({x:.6g}); out = {c:.6g} * v + {c:.6g}, backpropagated: (out.data, v.grad)",
        expected=(c * x + c, c), got=got, tol=1e-12)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_rsub_rtruediv", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__", "__pow__", "__neg__")
for expr, f, expected in [("2 - v", lambda v: 2 - v, (-2.0, -1.0)), ("2 / v", lambda v: 2 / v, (0.5, -0.125))]:
    v = Value(4.0)
    out, err = attempt(lambda: f(v))
    if not err:
        walk_back(out)
    got = err or (float(out.data), float(v.grad))
    hint = None
    if "RecursionError" in str(err):
        hint = misconception("reflected-recursion", f"{expr}: __rsub__/__rtruediv__ must not compute other - self "
                             "(other / self) with other a number; write (-self) + other and self ** -1 * other")
    elif "unsupported operand" in str(err):
        hint = misconception("reflected-missing", f"{expr} needs __rsub__ / __rtruediv__")
    elif isinstance(got, tuple) and abs(got[0] + expected[0]) < 1e-12 or got == (2.0, 1.0) or got == (2.0, 0.5):
        hint = misconception("reflected-order", f"{expr} is other - self (other / self), not self - other: "
                             "subtraction and division do not commute")
    assert got == expected, report(f"v = Value(4.0); out = {expr}, backpropagated: (out.data, v.grad)",
                                   expected=expected, got=got, hint=hint)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2038)
for x, c in rng.uniform(0.5, 4, size=(4, 2)):
    v = Value(x)
    out = c - v
    walk_back(out)
    got = (float(out.data), float(v.grad))
    assert abs(got[0] - (c - x)) <= 1e-12 and abs(got[1] + 1) <= 1e-12, report(
        f"v = Value({x:.6g}); out = {c:.6g} - v: (out.data, v.grad)", expected=(c - x, -1.0), got=got,
        hint=misconception("reflected-order", "other - self, not self - other"))
    v = Value(x)
    out = c / v
    walk_back(out)
    got = (float(out.data), float(v.grad))
    assert abs(got[0] - c / x) <= 1e-12 and abs(got[1] + c / x ** 2) <= 1e-12, report(
        f"v = Value({x:.6g}); out = {c:.6g} / v: (out.data, v.grad)", expected=(c / x, -c / x ** 2), got=got,
        hint=misconception("reflected-order", "other / self, not self / other"))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_sum_of_values", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__")
a, b = Value(1.5), Value(-4.0)
out, err = attempt(lambda: sum([a, b]))
if not err:
    walk_back(out)
got = err or (float(out.data), float(a.grad), float(b.grad))
assert got == (-2.5, 1.0, 1.0), report(
    "sum([Value(1.5), Value(-4.0)]), backpropagated: (out.data, a.grad, b.grad)", expected=(-2.5, 1.0, 1.0),
    got=got, hint=misconception("reflected-missing", "sum() starts from the integer 0 and computes 0 + a: "
                                "that needs __radd__") if "unsupported operand" in str(err) else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2039)
xs = rng.uniform(-3, 3, 7)
vs = [Value(x) for x in xs]
out = sum(vs)
walk_back(out)
got = float(out.data)
assert abs(got - xs.sum()) <= 1e-12, report(f"sum of 7 Values {np.round(xs, 4).tolist()}", expected=float(xs.sum()),
                                            got=got, tol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# Same checklist as before: the new rows fill in, the old ones still pass.

# %%
op_checklist()


# %% [markdown]
# ## 9. `tanh`, `exp`, `relu`
#
# Each is one node with one input:
#
# | method | value | local derivative |
# |---|---|---|
# | `tanh()` | $t = \tanh(x)$ | $1 - t^2$ (reuse the output) |
# | `exp()` | $e^x$ | $e^x$ (the output again) |
# | `relu()` | $\max(x, 0)$ | $1$ if $x > 0$ else $0$ (at $x = 0$: $0$, as in PyTorch) |
#
# Labels: `'tanh'`, `'exp'`, `'relu'`. Mind overflow: the textbook formula
# $\frac{e^{2x}-1}{e^{2x}+1}$ raises `OverflowError` at $x = 400$, while
# $\tanh(400) = 1$. `math.tanh` is stable.

# %% nbgrader={"grade": false, "grade_id": "value_tanh", "locked": false, "schema_version": 3, "solution": true}
def tanh(self):
    """tanh(self), computed without overflow."""
    ### BEGIN SOLUTION
    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1.0 - t * t) * out.grad

    out._backward = _backward
    return out
    ### END SOLUTION


Value.tanh = tanh

# %% nbgrader={"grade": true, "grade_id": "test_tanh_value_and_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false}
for x in [0.0, 0.5, -1.2, 2.0]:
    a = Value(x)
    out = a.tanh()
    out.grad = 1.0
    out._backward()
    got = (float(out.data), float(a.grad))
    expected = (math.tanh(x), 1 - math.tanh(x) ** 2)
    assert max(abs(g - e) for g, e in zip(got, expected)) <= 1e-12, report(
        f"a = Value({x}); out = a.tanh(); out.grad = 1; out._backward() gives (out.data, a.grad)",
        expected=expected, got=got, tol=1e-12,
        hint=misconception("tanh-derivative", "d tanh(x)/dx = 1 - tanh(x)^2, not 1 - x^2")
        if abs(got[1] - (1 - x * x)) <= 1e-12 and x != 0 else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2040)
for x, g in rng.uniform(-3, 3, size=(5, 2)):
    a = Value(x)
    out = a.tanh()
    out.grad = g
    out._backward()
    got = (float(out.data), float(a.grad))
    expected = (math.tanh(x), (1 - math.tanh(x) ** 2) * g)
    assert max(abs(u - w) for u, w in zip(got, expected)) <= 1e-12, report(
        f"a = Value({x:.6g}); out = a.tanh(); out.grad = {g:.6g}; out._backward() gives (out.data, a.grad)",
        expected=expected, got=got, tol=1e-12)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_tanh_no_overflow", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("tanh")
for x, expected in [(400.0, 1.0), (-400.0, -1.0)]:
    out, err = attempt(lambda: Value(x).tanh())
    got = err or float(out.data)
    assert got == expected, report(
        f"Value({x}).tanh()", expected=expected, got=got,
        hint=misconception("unstable-tanh", "(exp(2x) - 1) / (exp(2x) + 1) overflows for large x; use math.tanh "
                           "(or a form with exp(-2|x|)), and compute the gradient as 1 - t**2")
        if "Overflow" in str(err) or got != got else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2041)
for x in rng.uniform(360, 1000, 3) * rng.choice([-1, 1], 3):
    a = Value(x)
    out, err = attempt(lambda: a.tanh())
    got = err or float(out.data)
    assert got == math.copysign(1.0, x), report(
        f"Value({x:.6g}).tanh()", expected=math.copysign(1.0, x), got=got,
        hint=misconception("unstable-tanh", "use a form that cannot overflow, such as math.tanh"))
    out.grad = 1.0
    out._backward()
    assert float(a.grad) == 0.0, report(f"the gradient of tanh at {x:.6g}", expected=0.0, got=float(a.grad))
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "value_exp", "locked": false, "schema_version": 3, "solution": true}
def exp(self):
    """e ** self"""
    ### BEGIN SOLUTION
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out
    ### END SOLUTION


Value.exp = exp

# %% nbgrader={"grade": true, "grade_id": "test_exp_value_and_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false}
for x in [0.0, 1.0, -2.5]:
    a = Value(x)
    out = a.exp()
    out.grad = 1.0
    out._backward()
    got = (float(out.data), float(a.grad))
    expected = (math.exp(x), math.exp(x))
    assert max(abs(g - e) for g, e in zip(got, expected)) <= 1e-12, report(
        f"a = Value({x}); out = a.exp(); out.grad = 1; out._backward() gives (out.data, a.grad)",
        expected=expected, got=got, tol=1e-12)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2042)
for x, g in rng.uniform(-3, 3, size=(5, 2)):
    a = Value(x)
    out = a.exp()
    out.grad = g
    out._backward()
    got = (float(out.data), float(a.grad))
    expected = (math.exp(x), math.exp(x) * g)
    assert max(abs(u - w) for u, w in zip(got, expected)) <= 1e-11, report(
        f"a = Value({x:.6g}); out = a.exp(); out.grad = {g:.6g}; out._backward() gives (out.data, a.grad)",
        expected=expected, got=got, tol=1e-11)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "value_relu", "locked": false, "schema_version": 3, "solution": true}
def relu(self):
    """max(self, 0); its derivative at 0 is 0."""
    ### BEGIN SOLUTION
    out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

    def _backward():
        self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

    out._backward = _backward
    return out
    ### END SOLUTION


Value.relu = relu

# %% nbgrader={"grade": true, "grade_id": "test_relu_value_and_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false}
for x, expected in [(2.5, (2.5, 1.0)), (-1.0, (0.0, 0.0)), (0.0, (0.0, 0.0))]:
    a = Value(x)
    out = a.relu()
    out.grad = 1.0
    out._backward()
    got = (float(out.data), float(a.grad))
    assert got == expected, report(
        f"a = Value({x}); out = a.relu(); out.grad = 1; out._backward() gives (out.data, a.grad)",
        expected=expected, got=got,
        hint=misconception("relu-kink", "relu'(0) is 0 in this course, as in PyTorch: use x > 0, not x >= 0")
        if x == 0.0 and got == (0.0, 1.0) else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2043)
for x, g in rng.uniform(-3, 3, size=(6, 2)):
    a = Value(x)
    out = a.relu()
    out.grad = g
    out._backward()
    got = (float(out.data), float(a.grad))
    expected = (max(x, 0.0), g if x > 0 else 0.0)
    assert got == expected, report(
        f"a = Value({x:.6g}); out = a.relu(); out.grad = {g:.6g}; out._backward() gives (out.data, a.grad)",
        expected=expected, got=got)
### END HIDDEN TESTS

# %%
op_checklist()


# %% [markdown]
# ## 10. A topological order
#
# In section 5 you called the `_backward`s by hand, from `L` towards the
# leaves, so that each node's gradient was complete before it was passed on.
# For any graph that order is a **reverse topological order**: list the nodes
# so that each comes *after all of its inputs*, then walk the list backwards.
#
# Write `topological_order(root)`: every node of `root`'s graph exactly once,
# each after its inputs, `root` last. Two requirements:
#
# * **iterative**, with your own stack: a recursive depth-first search stops at
#   Python's recursion limit (about 1000 deep), and a chain of 5,000 additions
#   is a small graph;
# * remember visited nodes by `id(node)`: a class that defines `__eq__` (as
#   PyTorch's tensors and many students' `Value`s do) is no longer hashable, so
#   a `set` of nodes breaks; `id()` also keeps two equal-looking nodes apart.
#
# Hint: push `(node, False)`; when you pop a node that is not yet visited, mark
# it, push `(node, True)` and then its inputs; when you pop `(node, True)`, all
# its inputs are done: append it.

# %% nbgrader={"grade": false, "grade_id": "topological_order", "locked": false, "schema_version": 3, "solution": true}
def topological_order(root):
    """All nodes of root's graph, each once and after all of its inputs; root is last."""
    ### BEGIN SOLUTION
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for child in reversed(node._prev):
            if id(child) not in visited:
                stack.append((child, False))
    return order
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_topological_order_is_valid", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__")


def order_problem(order, root):
    """'' if order is a valid topological order of root's graph, else what is wrong."""
    ids = [id(v) for v in order]
    position = {i: k for k, i in enumerate(ids)}
    if len(position) != len(ids):
        return "a node appears more than once"
    everything, stack = set(), [root]
    while stack:
        v = stack.pop()
        if id(v) not in everything:
            everything.add(id(v))
            stack.extend(v._prev)
    if set(ids) != everything:
        return f"{len(everything - set(ids))} node(s) of the graph are missing, {len(set(ids) - everything)} extra"
    for v in order:
        for u in v._prev:
            if position[id(u)] > position[id(v)]:
                return f"{v!r} comes before its input {u!r}"
    if order[-1] is not root:
        return "root is not last"
    return ""


a, b = Value(2.0), Value(-3.0)
c = a * b
d = c + a
e = d * c
problem = order_problem(list(topological_order(e)), e)
assert not problem, report(
    "topological_order(e) for a = 2, b = -3, c = a*b, d = c + a, e = d*c", expected="each node once, after its inputs",
    got=problem, hint=misconception("topo-duplicates", "mark a node visited the first time you reach it; "
                                    "a node listed twice would push its gradient twice") if "more than once" in problem else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2044)
pool = [Value(x) for x in rng.uniform(-2, 2, 4)]
for i, j, op in zip(rng.integers(0, 10**6, 30), rng.integers(0, 10**6, 30), rng.integers(0, 2, 30)):
    u, v = pool[i % len(pool)], pool[j % len(pool)]
    pool.append(u + v if op else u * v)
root = pool[-1]
problem = order_problem(list(topological_order(root)), root)
assert not problem, report("topological_order of a random 30-operation graph with shared nodes",
                           expected="each node once, after its inputs", got=problem)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_topological_order_deep_chain", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__")
x = Value(0.0)
for _ in range(5000):
    x = x + 1.0
order, err = attempt(lambda: topological_order(x))
assert not err, report(
    "topological_order of a chain of 5,000 additions", expected="a list of 10,001 nodes", got=err,
    hint=misconception("recursive-topo-sort", "the sort recurses once per level and hits Python's recursion "
                       "limit: make the sort iterative, with an explicit stack")
    if "Recursion" in err else None)
n = len(list(order))
assert n == 10001, report("the number of nodes in the order of a 5,000-addition chain", expected=10001, got=n)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2045)
depth = int(rng.integers(3000, 6000))
x = Value(1.0)
for _ in range(depth):
    x = x * 1.0001
order, err = attempt(lambda: topological_order(x))
assert not err, report(f"topological_order of a chain of {depth} multiplications", expected="no error", got=err,
                       hint=misconception("recursive-topo-sort", "make the sort iterative"))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_topological_order_unhashable_values", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__")


class EqValue(Value):
    """A Value that compares by data (and so, in Python, is no longer hashable)."""

    def __eq__(self, other):
        return isinstance(other, Value) and self.data == other.data


p, q = EqValue(1.0), EqValue(1.0)
r = p * q + p
order, err = attempt(lambda: topological_order(r))
got = err or f"{len(order)} nodes"
assert got == "4 nodes", report(
    "topological_order(p * q + p) where p and q are distinct Values with equal data and __eq__ defined",
    expected="4 nodes", got=got,
    hint=misconception("visited-by-hash", "a set or dict of nodes needs hashing and equality: key visited "
                       "nodes on id(node) instead, which works for every object and never merges two nodes"))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2046)
x = float(rng.uniform(-2, 2))
leaves = [EqValue(x) for _ in range(4)]
s = leaves[0] * leaves[1] + leaves[2] * leaves[3]
order, err = attempt(lambda: topological_order(s))
got = err or f"{len(order)} nodes"
assert got == "7 nodes", report("topological_order with four equal-data leaves", expected="7 nodes", got=got,
                                hint=misconception("visited-by-hash", "key visited nodes on id(node)"))
### END HIDDEN TESTS

# %% [markdown]
# ## 11. `backward()`
#
# Now the whole pass, `out.backward()`:
#
# 1. `order = topological_order(self)`;
# 2. set the `grad` of every node that has inputs (every non-leaf) to `0.0`:
#    they are recomputed from scratch on each call;
# 3. seed: `self.grad = 1.0` (with `=`: $\partial\,\text{out}/\partial\,\text{out} = 1$);
# 4. call `_backward()` of each node in **reverse** order.
#
# Leaves are not reset, so a second `backward()` *adds* to their gradients, as
# in PyTorch. That is why training calls `zero_grad()` before each step.

# %% nbgrader={"grade": false, "grade_id": "backward", "locked": false, "schema_version": 3, "solution": true}
def backward(self):
    """Fill in d self / d v for every v in self's graph; leaves accumulate over calls."""
    ### BEGIN SOLUTION
    order = topological_order(self)
    for node in order:
        if node._prev:
            node.grad = 0.0
    self.grad = 1.0
    for node in reversed(order):
        node._backward()
    ### END SOLUTION


Value.backward = backward

# %% nbgrader={"grade": true, "grade_id": "test_backward_seed", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__", "topological_order")
a = Value(3.0)
b = a * 2.0 + 1.0
b.backward()
got = (float(b.grad), float(a.grad))
assert got == (1.0, 2.0), report(
    "a = Value(3.0); b = a * 2 + 1; b.backward() gives (b.grad, a.grad)", expected=(1.0, 2.0), got=got,
    hint=misconception("seed-not-set", "the output's own gradient d b/d b is 1: set self.grad = 1.0 before "
                       "walking the graph, or every gradient stays 0") if got == (0.0, 0.0) else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2047)
for x, k in rng.uniform(-3, 3, size=(4, 2)):
    a = Value(x)
    b = a * k + 1.0
    b.backward()
    got = (float(b.grad), float(a.grad))
    assert got == (1.0, k), report(f"a = Value({x:.6g}); b = a * {k:.6g} + 1; b.backward(): (b.grad, a.grad)",
                                   expected=(1.0, k), got=got)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_backward_topological", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "topological_order")
a = Value(1.0)
b = a + a
c = b + b
c.backward()
got = float(a.grad)
hints = {8.0: misconception("no-topological-order",
                            "b pushed its gradient to a before b's own gradient was complete (b gets 1 from each "
                            "use in c, so it must wait for both): call _backward in reverse topological order, "
                            "each node exactly once"),
         1.0: misconception("grad-overwritten", "gradients from every use must be added (+=), not assigned (=)")}
assert got == 4.0, report("a = Value(1.0); b = a + a; c = b + b; c.backward() gives a.grad (c = 4a)",
                          expected=4.0, got=got, hint=hints.get(got))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2048)
x, k = rng.uniform(0.5, 2, 2)
a = Value(x)
b = a * k
c = b * b + b     # dc/da = (2b + 1) k
c.backward()
expected = (2 * x * k + 1) * k
got = float(a.grad)
assert abs(got - expected) <= 1e-12 * (1 + abs(expected)), report(
    f"a = Value({x:.6g}); b = a * {k:.6g}; c = b * b + b; c.backward() gives a.grad", expected=expected, got=got,
    tol=1e-12, hint=misconception("no-topological-order", "walk nodes in reverse topological order, once each"))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_backward_twice_accumulates_on_leaves", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__", "topological_order")
a, w = Value(3.0), Value(-2.0)
b = a * w
c = b + 1.0
c.backward()
c.backward()
got = (float(a.grad), float(w.grad), float(b.grad), float(c.grad))
expected = (-4.0, 6.0, 1.0, 1.0)
if got[3] != 1.0:
    hint = misconception("seed-accumulates", "the seed is set, not added: self.grad = 1.0 (with =)")
elif got[2] != 1.0:
    hint = misconception("stale-intermediate-grad", "b kept its gradient from the first call and the second call "
                         "added to it: reset every non-leaf's grad to 0 at the start of backward()")
elif got[:2] == (-2.0, 3.0):
    hint = misconception("backward-zeroes-leaves", "leaves should accumulate over backward() calls, as in "
                         "PyTorch: reset only nodes that have inputs; zero_grad() is what clears the leaves")
else:
    hint = None
assert got == expected, report(
    "a = Value(3.0), w = Value(-2.0); c = a * w + 1; c.backward() twice: (a.grad, w.grad, b.grad, c.grad)",
    expected=expected, got=got, hint=hint)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2049)
x, y = rng.uniform(-2, 2, 2)
n = int(rng.integers(2, 5))
a, w = Value(x), Value(y)
c = (a * w).tanh() + 1.0
for _ in range(n):
    c.backward()
g = 1 - math.tanh(x * y) ** 2
got = (float(a.grad), float(c.grad))
expected = (n * g * y, 1.0)
assert abs(got[0] - expected[0]) <= 1e-12 and got[1] == 1.0, report(
    f"c = tanh(a * w) + 1 at a = {x:.6g}, w = {y:.6g}; c.backward() {n} times: (a.grad, c.grad)",
    expected=expected, got=got, tol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# Notebook 02's neuron, $o = \tanh(x_1 w_1 + x_2 w_2 + b)$, now backpropagated
# by your engine. Compare with your hand computation: $do/dn = 1 - o^2 = 0.5$.

# %% tags=["slow"]
x1, x2 = Value(2.0), Value(0.0)
w1, w2 = Value(-3.0), Value(1.0)
b = Value(6.8813735870195432)
n = x1 * w1 + x2 * w2 + b
o = n.tanh()
o.backward()
draw(o, x1=x1, x2=x2, w1=w1, w2=w2, b=b, n=n, o=o)

# %% [markdown]
# ### Step through it
#
# `o.backward()` did all of that in one call. The widget replays the same graph, built from
# **your** `Value` objects, one node at a time forward and one edge at a time backward, with the
# chain rule of each edge in the panel. It works on its own copy of the numbers and never changes
# your objects; its last step says whether the `.grad` values your engine stored agree with it.

# %% tags=["slow"]
from course.stepper import GraphStepper

x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
o = (x1 * w1 + x2 * w2 + b).tanh()
o.backward()
for name, v in {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "o": o}.items():
    v.label = name   # names for the picture
GraphStepper(o, title="your engine's neuron, step by step")

# %% [markdown]
# ## 12. Check against PyTorch
#
# PyTorch's tensors have the same operators and methods (`+ - * / **`,
# `.tanh()`, `.exp()`, `.relu()`), so one Python function can run on your
# `Value`s and on `float64` tensors. If the two engines agree on the value and
# on every input's gradient, to rounding, your engine is right on that
# expression. Try your own expressions with `compare_with_torch`.

# %%
import torch


def compare_with_torch(f, xs):
    """Print f's value and gradients from your engine and from torch (float64) side by side."""
    vs = [Value(x) for x in xs]
    out = f(*vs)
    out.backward()
    ts = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]
    ref = f(*ts)
    ref.backward()
    print(f"value   yours {out.data: .15g}   torch {ref.item(): .15g}")
    for i, (v, t) in enumerate(zip(vs, ts)):
        print(f"d/dx{i}  yours {v.grad: .15g}   torch {t.grad.item(): .15g}")


compare_with_torch(lambda a, b: (a * b + b ** 3).tanh() + (a / b).exp() - 2 * a.relu(), [0.7, -1.3])

# %% nbgrader={"grade": true, "grade_id": "test_engine_matches_torch", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__", "__pow__", "__neg__", "__sub__", "__truediv__", "__radd__", "__rmul__",
      "tanh", "exp", "relu", "topological_order", "backward")
import torch

EXPRESSIONS = {
    "(a*b + c)**2 / (1 + b*b) - 3*a": lambda a, b, c: (a * b + c) ** 2 / (1 + b * b) - 3 * a,
    "tanh(a*b) + exp(c - a) * 0.5 + relu(b / c)": lambda a, b, c: (a * b).tanh() + (c - a).exp() * 0.5 + (b / c).relu(),
    "sum([a, b, c, a*a]) ** 0.5 - 2 / c": lambda a, b, c: sum([a, b, c, a * a]) ** 0.5 - 2 / c,
    "-(a - b) * (1 - c).relu() + a * a * a": lambda a, b, c: -(a - b) * (1 - c).relu() + a * a * a,
}
xs = [0.7, -1.3, 2.1]
for name, f in EXPRESSIONS.items():
    vs = [Value(x) for x in xs]
    out = f(*vs)
    out.backward()
    got = np.asarray([out.data] + [v.grad for v in vs], dtype=float)
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    ref = f(*ts)
    ref.backward()
    expected = np.asarray([ref.item()] + [t.grad.item() for t in ts], dtype=float)
    assert np.allclose(got, expected, rtol=1e-10, atol=1e-12), report(
        f"value and gradients of {name} at (a, b, c) = {xs}, against torch float64",
        expected=expected, got=got, tol="rtol 1e-10")

# %% nbgrader={"grade": true, "grade_id": "test_engine_matches_torch_random", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__", "__pow__", "__neg__", "__sub__", "__truediv__", "__radd__", "__rmul__",
      "tanh", "exp", "relu", "topological_order", "backward")
# When your notebook is graded, this cell also compares random expressions (seeded) with torch.
### BEGIN HIDDEN TESTS
import torch

rng = np.random.default_rng(2050)


def random_expression(rng, n_inputs=3, n_ops=14):
    """A random expression (the same on Values and tensors) with shared subexpressions."""
    steps = [(int(o), int(i), int(j), float(k)) for o, i, j, k in
             zip(rng.integers(0, 12, n_ops), rng.integers(0, 10**6, n_ops), rng.integers(0, 10**6, n_ops),
                 rng.uniform(0.5, 2.0, n_ops))]

    def f(*xs):
        pool = list(xs)
        for op, i, j, k in steps:
            u, v = pool[i % len(pool)], pool[j % len(pool)]
            pool.append([
                lambda: u + v, lambda: u * v, lambda: u - v, lambda: u / (v * v + 1.0),
                lambda: (u * u + k) ** 0.5, lambda: (u * k).tanh(), lambda: u.tanh().exp(),
                lambda: (u + 0.1).relu(), lambda: k - u, lambda: k * u, lambda: k / (u * u + 1.0),
                lambda: -u + u ** 3,
            ][op]())
        return sum(pool[n_inputs:])

    return f, steps


for trial in range(6):
    f, steps = random_expression(rng)
    xs = [float(x) for x in rng.uniform(-1.5, 1.5, 3)]
    vs = [Value(x) for x in xs]
    out = f(*vs)
    out.backward()
    got = np.asarray([out.data] + [v.grad for v in vs], dtype=float)
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    ref = f(*ts)
    ref.backward()
    expected = np.asarray([ref.item()] + [t.grad.item() for t in ts], dtype=float)
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-9), report(
        f"value and gradients of random expression #{trial} (steps {steps}) at {np.round(xs, 6).tolist()}, "
        "against torch float64", expected=expected, got=got, tol="rtol 1e-9")
### END HIDDEN TESTS

# %% [markdown]
# ## 13. A neural network on two moons
#
# A neuron computes $\mathrm{relu}(w \cdot x + b)$ (or just $w \cdot x + b$ in
# the last layer), with one `Value` per weight. A layer is a list of neurons
# fed the same inputs; an MLP is a list of layers. Everything is made of the
# operations you wrote, so `loss.backward()` gives the gradient of the loss
# with respect to each of the weights.
#
# `Module.zero_grad()` sets every parameter's gradient to 0 (the leaves
# accumulate over `backward()` calls, section 11).

# %%
class Module:
    """Something with parameters."""

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self):
        return []


# %% [markdown]
# **Exercise.** Write `Neuron.__call__`: the weighted sum of the inputs plus
# the bias, through `relu()` when `self.nonlin` is true. Build it from `Value`
# operations (`sum(..., start)` helps), never from `.data`, or no gradient can
# reach the weights.

# %% nbgrader={"grade": false, "grade_id": "neuron", "locked": false, "schema_version": 3, "solution": true}
class Neuron(Module):
    """relu(w . x + b), or w . x + b when nonlin is False; w starts uniform in [-1, 1], b at 0."""

    def __init__(self, nin, nonlin=True, rng=random):
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        """x: a list of nin numbers or Values; returns a Value."""
        ### BEGIN SOLUTION
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act
        ### END SOLUTION

    def parameters(self):
        return self.w + [self.b]


# %% nbgrader={"grade": true, "grade_id": "test_neuron_output", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__", "__radd__", "relu")
n = Neuron(3, rng=random.Random(0))
for wi, v in zip(n.w, [0.5, -1.0, 2.0]):
    wi.data = v
n.b.data = 0.25
for nonlin, x, expected in [(True, [1.0, 2.0, 0.5], 0.0), (True, [2.0, -1.0, 1.0], 4.25),
                            (False, [1.0, 2.0, 0.5], -0.25)]:
    n.nonlin = nonlin
    out = n(x)
    got = float(out.data)
    assert got == expected, report(f"Neuron with w = [0.5, -1, 2], b = 0.25, nonlin = {nonlin}, at x = {x}",
                                   expected=expected, got=got)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2051)
for trial in range(4):
    nin = int(rng.integers(1, 6))
    n = Neuron(nin, nonlin=bool(trial % 2), rng=random.Random(trial))
    x = rng.uniform(-2, 2, nin)
    w = np.array([wi.data for wi in n.w])
    act = float(w @ x + n.b.data)
    expected = max(act, 0.0) if n.nonlin else act
    got = float(n([float(v) for v in x]).data)
    assert abs(got - expected) <= 1e-12, report(f"Neuron({nin}, nonlin={n.nonlin}) at x = {np.round(x, 4).tolist()}",
                                                expected=expected, got=got, tol=1e-12)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_neuron_gradients_reach_weights", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__", "__radd__", "relu", "backward")
n = Neuron(2, nonlin=False, rng=random.Random(0))
x = [1.5, -2.0]
out = n(x)
out.backward()
got = [float(wi.grad) for wi in n.w] + [float(n.b.grad)]
assert got == [1.5, -2.0, 1.0], report(
    "a linear Neuron(2) at x = [1.5, -2]: out.backward() gives [w0.grad, w1.grad, b.grad] = [x0, x1, 1]",
    expected=[1.5, -2.0, 1.0], got=got,
    hint=misconception("neuron-detached", "the output is not connected to the weights: compute it with Value "
                       "operations on self.w and self.b, not from their .data") if got == [0.0, 0.0, 0.0] else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2052)
n = Neuron(4, nonlin=True, rng=random.Random(7))
x = rng.uniform(-2, 2, 4)
n.b.data = 10.0   # active
out = n([float(v) for v in x])
out.backward()
got = np.asarray([wi.grad for wi in n.w], dtype=float)
assert np.allclose(got, x, atol=1e-12), report("weight gradients of an active ReLU neuron equal its inputs",
                                               expected=x, got=got, tol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# Layers and the MLP are plain bookkeeping:

# %%
class Layer(Module):
    """nout neurons that see the same inputs."""

    def __init__(self, nin, nout, rng=random, **kwargs):
        self.neurons = [Neuron(nin, rng=rng, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP(Module):
    """Layers of sizes nouts after nin inputs; ReLU everywhere except the last layer."""

    def __init__(self, nin, nouts, rng=random):
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[i], sizes[i + 1], rng=rng, nonlin=i < len(nouts) - 1)
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


# %% [markdown]
# The data: 100 points on two interleaved half circles, generated by
# scikit-learn's `make_moons` (noise 0.1, a fixed seed), labels $y = \pm 1$.

# %%
from course.moons import make_data, plot_data, plot_decision_boundary, plot_training, mlp_scores
from course.moons import paused_gc, release_graph

X, y = make_data(n_samples=100, noise=0.1, random_state=1337)
print(len(X), "points; first:", X[0], "label", y[0])

# %% tags=["slow"]
plot_data(X, y)
plt.title("two moons")
plt.show()


# %% [markdown]
# The loss is the support-vector machine's *max-margin* loss,
# $\frac{1}{N}\sum_i \mathrm{relu}(1 - y_i s_i)$ for scores $s_i$: zero once
# every point is on its side with a margin of 1; plus a small L2 penalty
# $\alpha \sum w^2$ with $\alpha = 10^{-4}$. Accuracy counts the points with
# $\mathrm{sign}(s_i) = y_i$.

# %%
def loss_fn(model, X, y, alpha=1e-4):
    """(max-margin loss + alpha * sum of squared parameters as a Value, training accuracy)."""
    scores = [model([Value(a), Value(b)]) for a, b in X]
    margins = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(margins) * (1.0 / len(margins))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    accuracy = sum((yi > 0) == (si.data > 0) for yi, si in zip(y, scores)) / len(y)
    return data_loss + reg_loss, accuracy


# %% [markdown]
# **Exercise.** One step of gradient descent: compute the loss, clear the old
# gradients with `model.zero_grad()`, backpropagate, and move every parameter
# against its gradient, `p.data -= lr * p.grad`. Return the loss (the `Value`,
# computed before the step) and the accuracy.

# %% nbgrader={"grade": false, "grade_id": "train_step", "locked": false, "schema_version": 3, "solution": true}
def train_step(model, X, y, lr):
    """One gradient-descent step on (X, y); returns (loss before the step, accuracy before the step)."""
    ### BEGIN SOLUTION
    loss, accuracy = loss_fn(model, X, y)
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss, accuracy
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_step_moves_against_the_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__", "__radd__", "__rmul__", "relu", "backward", "Neuron")
Xs, ys = X[:8], y[:8]
ref = MLP(2, [4, 1], rng=random.Random(3))
ref_loss, _ = loss_fn(ref, Xs, ys)
ref_loss.backward()
expected = np.asarray([p.data - 0.1 * p.grad for p in ref.parameters()], dtype=float)
model = MLP(2, [4, 1], rng=random.Random(3))
loss, acc = train_step(model, Xs, ys, 0.1)
got = np.asarray([p.data for p in model.parameters()], dtype=float)
assert np.allclose(got, expected, rtol=0, atol=1e-12), report(
    "parameters after one train_step(model, X[:8], y[:8], lr=0.1), against p.data - lr * p.grad",
    expected=expected, got=got, tol=1e-12,
    hint=misconception("ascent-not-descent", "step against the gradient: p.data -= lr * p.grad")
    if np.allclose(2 * np.asarray([p.data for p in ref.parameters()]) - got, expected, atol=1e-12) else None)
got_loss = float(loss.data)
assert abs(got_loss - ref_loss.data) <= 1e-12, report("the loss train_step returns (computed before the step)",
                                                      expected=ref_loss.data, got=got_loss, tol=1e-12)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2053)
seed, lr = int(rng.integers(0, 1000)), float(rng.uniform(0.05, 0.5))
idx = rng.choice(len(X), 10, replace=False)
Xs, ys = [X[i] for i in idx], [y[i] for i in idx]
ref = MLP(2, [5, 1], rng=random.Random(seed))
ref_loss, _ = loss_fn(ref, Xs, ys)
ref_loss.backward()
expected = np.asarray([p.data - lr * p.grad for p in ref.parameters()], dtype=float)
model = MLP(2, [5, 1], rng=random.Random(seed))
train_step(model, Xs, ys, lr)
got = np.asarray([p.data for p in model.parameters()], dtype=float)
assert np.allclose(got, expected, rtol=0, atol=1e-12), report(
    f"parameters after one train_step on 10 random points, lr = {lr:.4g}", expected=expected, got=got, tol=1e-12)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_train_step_zeroes_gradients", "locked": true, "points": 1, "schema_version": 3, "solution": false}
needs("__add__", "__mul__", "__radd__", "__rmul__", "relu", "backward", "Neuron")
Xs, ys = X[:8], y[:8]
ref = MLP(2, [4, 1], rng=random.Random(4))
for step in range(2):                       # two clean steps by hand
    for p in ref.parameters():
        p.grad = 0.0
    ref_loss, _ = loss_fn(ref, Xs, ys)
    ref_loss.backward()
    if step == 0:
        first = np.asarray([p.grad for p in ref.parameters()], dtype=float)
        for p in ref.parameters():
            p.data -= 0.1 * p.grad
expected = np.asarray([p.grad for p in ref.parameters()], dtype=float)
model = MLP(2, [4, 1], rng=random.Random(4))
train_step(model, Xs, ys, 0.1)
train_step(model, Xs, ys, 0.1)
got = np.asarray([p.grad for p in model.parameters()], dtype=float)
assert np.allclose(got, expected, rtol=0, atol=1e-12), report(
    "parameter gradients after a second train_step: the gradient at the current parameters only",
    expected=expected, got=got, tol=1e-12,
    hint=misconception("forgot-zero-grad", "the gradients of both steps were added up: call model.zero_grad() "
                       "before loss.backward() in every step") if np.allclose(got, first + expected, atol=1e-9) else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2054)
seed = int(rng.integers(0, 1000))
model = MLP(2, [3, 1], rng=random.Random(seed))
for _ in range(3):
    train_step(model, Xs, ys, 0.05)
got = np.asarray([p.grad for p in model.parameters()], dtype=float)
for p in model.parameters():
    p.data += 0.05 * p.grad                  # undo the last update
    p.grad = 0.0
fresh, _ = loss_fn(model, Xs, ys)
fresh.backward()
expected = np.asarray([p.grad for p in model.parameters()], dtype=float)
assert np.allclose(got, expected, rtol=0, atol=1e-9), report(
    "gradients after three train_steps: only the last step's", expected=expected, got=got, tol=1e-9,
    hint=misconception("forgot-zero-grad", "call model.zero_grad() before loss.backward()"))
### END HIDDEN TESTS

# %% [markdown]
# ### Training
#
# `MLP(2, [16, 16, 1])`: 337 parameters. 100 steps with the learning rate
# decaying from 1.0 to 0.1. Each step builds a graph of about 65,000 `Value`s.
#
# Two lines make this fast, without changing any number: `paused_gc()` stops
# Python's cycle collector during the steps (every node's `_backward` refers
# back to the node, so each node is part of a reference cycle, and the
# collector would rescan the growing heap again and again: over 90% of the
# time), and `release_graph(loss)` breaks those cycles once a step is done, so
# the old graph is freed at once, as PyTorch frees its graph after `backward()`.

# %% tags=["slow"]
STEPS = 100
model = MLP(2, [16, 16, 1], rng=random.Random(1337))
losses, accuracies = [], []
start = time.perf_counter()
with paused_gc():
    for k in range(STEPS):
        loss, accuracy = train_step(model, X, y, lr=1.0 - 0.9 * k / 100)
        losses.append(loss.data)
        accuracies.append(accuracy)
        release_graph(loss)
        if k % 10 == 0 or k == STEPS - 1:
            print(f"step {k:3d}   loss {loss.data:.4f}   accuracy {accuracy:.0%}")
seconds = time.perf_counter() - start
final_loss, final_accuracy = loss_fn(model, X, y)
print(f"{len(model.parameters())} parameters, {STEPS} steps in {seconds:.1f} s; "
      f"after training: loss {final_loss.data:.4f}, training accuracy {final_accuracy:.0%}")

# %% nbgrader={"grade": true, "grade_id": "test_training_reaches_full_accuracy", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["slow"]
final = float(final_accuracy) if "final_accuracy" in globals() else 0.0
assert final == 1.0, report(
    "training accuracy of MLP(2, [16, 16, 1]) after the training loop above", expected=1.0, got=final,
    hint="run the training cell after the exercises above pass; if the loss does not go down, re-run "
         "their tests (a gradient sign or a missing zero_grad() is the usual cause)")

# %% tags=["slow"]
plot_training(losses, accuracies)
plt.show()

# %% tags=["slow"]
plot_decision_boundary(lambda points: mlp_scores(model, points), X, y)
plt.title("decision boundary: score > 0 is red")
plt.show()

# %% [markdown]
# ## What you built
#
# A `Value` with `+ - * / **`, the reflected forms, `tanh`, `exp` and `relu`;
# an iterative topological sort; `backward()` with PyTorch's accumulation rule;
# a neural network trained to separate the moons perfectly. PyTorch's autograd
# is the same idea on tensors instead of single numbers, with the graph built
# in C++: notebooks 04 and 05.
