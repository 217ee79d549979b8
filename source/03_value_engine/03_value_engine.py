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
# The next cell imports the checklist: `op_checklist(Value)` compares every
# operation's value and local gradients with a numerical slope; you will re-run
# it after each step to see that nothing broke. (The test cells call checks
# from `course.checks`: read them if you like, they are plain Python.)

# %% nbgrader={"grade": false, "grade_id": "tools", "locked": true, "schema_version": 3, "solution": false}
from course.checks.value_engine import op_checklist   # the tools of the checks: course/checks/value_engine_probes.py

# %%
op_checklist(Value)


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
from course.checks.value_engine import check_add_value
check_add_value(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_add_value_random
check_add_value_random(Value)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_add_remembers_its_inputs", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_add_records_inputs
check_add_records_inputs(Value)

# %% nbgrader={"grade": true, "grade_id": "test_add_number", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_add_number
check_add_number(Value)

# %% nbgrader={"grade": true, "grade_id": "test_add_local_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_add_local_backward
check_add_local_backward(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_add_local_backward_random
check_add_local_backward_random(Value)
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
from course.checks.value_engine import check_mul_value_and_inputs
check_mul_value_and_inputs(Value)

# %% nbgrader={"grade": true, "grade_id": "test_mul_local_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_mul_local_backward
check_mul_local_backward(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_mul_random
check_mul_random(Value)
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
from course.checks.value_engine import check_reuse_add
check_reuse_add(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_reuse_add_random
check_reuse_add_random(Value)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_reuse_mul", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_reuse_mul
check_reuse_mul(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_reuse_mul_random
check_reuse_mul_random(Value)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Drawing the graph
#
# A picture of what `_prev` and `_op` record: a box per `Value` (its name if
# you give one, `data`, `grad`) and a circle per operation. Inputs are drawn in
# order and duplicates are kept, so `a * a` has two arrows. `draw` only reads
# your objects (`data`, `grad`, `_prev`, `_op`); the picture scales to the width
# of the notebook.

# %%
from course.diagrams import draw_values as draw   # draw(L, a=a, b=b): names for the values you pass


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
from course.checks.value_engine import check_pow_value_and_grad
check_pow_value_and_grad(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_pow_random
check_pow_random(Value)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_pow_numpy_exponent", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_pow_numpy_exponent
check_pow_numpy_exponent(Value)

# %% nbgrader={"grade": true, "grade_id": "test_pow_negative_base", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_pow_negative_base
check_pow_negative_base(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_pow_negative_base_random
check_pow_negative_base_random(Value)
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
from course.checks.value_engine import check_neg_and_sub
check_neg_and_sub(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_neg_and_sub_random
check_neg_and_sub_random(Value)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_div", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_div
check_div(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_div_random
check_div_random(Value)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_div_by_zero", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_div_by_zero
check_div_by_zero(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_div_by_zero_random
check_div_by_zero_random(Value)
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
from course.checks.value_engine import check_radd_rmul
check_radd_rmul(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_reflected_random
check_reflected_random(Value)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_rsub_rtruediv", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_rsub_rtruediv
check_rsub_rtruediv(Value)

# %% nbgrader={"grade": true, "grade_id": "test_sum_of_values", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_sum_of_values
check_sum_of_values(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_sum_random
check_sum_random(Value)
### END HIDDEN TESTS

# %% [markdown]
# Same checklist as before: the new rows fill in, the old ones still pass.

# %%
op_checklist(Value)


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
from course.checks.value_engine import check_tanh_value_and_grad
check_tanh_value_and_grad(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_tanh_random
check_tanh_random(Value)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_tanh_no_overflow", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_tanh_no_overflow
check_tanh_no_overflow(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_tanh_large_random
check_tanh_large_random(Value)
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
from course.checks.value_engine import check_exp_value_and_grad
check_exp_value_and_grad(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_exp_random
check_exp_random(Value)
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
from course.checks.value_engine import check_relu_value_and_grad
check_relu_value_and_grad(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_relu_random
check_relu_random(Value)
### END HIDDEN TESTS

# %%
op_checklist(Value)


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
# * remember visited nodes by `id(node)`. A class that defines `__eq__` and
#   not `__hash__` (as many students' `Value`s do, to compare by data) is no
#   longer hashable: a `set` of its nodes raises `TypeError`. And a list
#   searched with `node in visited` compares with `==`, which merges two
#   distinct nodes that hold equal data. `id()` works for every object and
#   never merges two nodes.
#
# PyTorch's tensors, for comparison, *are* hashable: `Tensor.__hash__` is
# `id`-based (hashing by identity), while `Tensor.__eq__` is elementwise and
# returns a tensor. So `{t, u}` holds two tensors even when they are equal,
# but `t in [u]` asks `bool(t == u)`, which is an error for tensors of more
# than one element. The next cell shows both.
#
# %%
import torch

t, u = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
print("len({t, u}) =", len({t, u}), "  hash(t) == id(t):", hash(t) == id(t), "  t == u:", t == u)
try:
    t in [u]
except RuntimeError as e:
    print("t in [u]: RuntimeError:", e)

# %% [markdown]
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
from course.checks.value_engine import check_topological_order_is_valid
check_topological_order_is_valid(Value, topological_order)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_topological_order_random
check_topological_order_random(Value, topological_order)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_topological_order_deep_chain", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_topological_order_deep_chain
check_topological_order_deep_chain(Value, topological_order)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_deep_chain_random
check_deep_chain_random(Value, topological_order)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_topological_order_unhashable_values", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_topological_order_unhashable_values
check_topological_order_unhashable_values(Value, topological_order)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_unhashable_random
check_unhashable_random(Value, topological_order)
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
from course.checks.value_engine import check_backward_seed
check_backward_seed(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_backward_seed_random
check_backward_seed_random(Value)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_backward_topological", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_backward_topological
check_backward_topological(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_backward_topological_random
check_backward_topological_random(Value)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_backward_twice_accumulates_on_leaves", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_backward_twice_accumulates_on_leaves
check_backward_twice_accumulates_on_leaves(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_backward_twice_random
check_backward_twice_random(Value)
### END HIDDEN TESTS

# %% [markdown]
# ### When a backward test fails: replay your own backward
#
# `ReplayStepper` runs **your** `backward()` on a copy of the graph (your objects
# are never changed), one `_backward` call at a time in your own order, and shows
# beside each call what it added to each input and what the chain rule says it
# should add. The first call that differs is drawn red, with the node, the
# operation, both numbers and, when the difference is a known mistake (a
# gradient overwritten with `=`, a times node that does not swap, a forgotten
# `out.grad`, a node run before the nodes that use it), the hint that names it.
# With a correct engine it shows no difference.

# %% tags=["slow"]
from course.replay_stepper import ReplayStepper

a, b = Value(3.0), Value(-2.0)
c = a * b + a
ReplayStepper(c)

# %% [markdown]
# ### tanh from exp: a bigger graph, the same gradient
#
# $\tanh(x) = \frac{e^{2x} - 1}{e^{2x} + 1}$, so `tanh` could be built from
# operations you already have, with no derivative of its own. The graph is
# bigger (each `*`, `+`, `**`, `exp` is a node, and each number a leaf) but the
# chain rule through all of them gives the same gradient as the one-node
# `tanh` with its rule $1 - t^2$: to rounding.

# %%
def tanh_from_exp(x):
    """tanh(x) = (e^2x - 1) / (e^2x + 1), built from your own operations only."""
    e2x = (2 * x).exp()
    return (e2x - 1) / (e2x + 1)


for x in [0.7, -1.9]:
    a1, a2 = Value(x), Value(x)
    one_node, composed = a1.tanh(), tanh_from_exp(a2)
    one_node.backward()
    composed.backward()
    print(f"x = {x:5}: tanh {one_node.data:.15f} with {len(topological_order(one_node))} nodes, d/dx {a1.grad:.15f}")
    print(f"{'':9} from exp {composed.data:.15f} with {len(topological_order(composed))} nodes, d/dx {a2.grad:.15f}")

# %% [markdown]
# The one-node version is also the stable one: at $x = 400$, $e^{2x}$ overflows
# (`OverflowError`), while `Value(400.0).tanh()` is exactly 1 (pitfall checked by
# `test_tanh_no_overflow`). That is why real engines give common functions
# their own node and rule.
#
# ### One step along the gradient
#
# The gradient says how the output changes when the inputs move: to first
# order, $\Delta o \approx \sum_i \frac{\partial o}{\partial x_i} \Delta x_i$.
# Nudge every input of notebook 02's neuron by $\varepsilon$ times its own
# gradient, $\Delta x_i = \varepsilon\, \partial o / \partial x_i$: the output
# should rise by $\varepsilon \sum_i (\partial o / \partial x_i)^2$, and to
# first order no step of the same length rises more. Training (section 13) takes
# the same step *against* the gradient of a loss, to make it fall.

# %%
def neuron(x1, x2, w1, w2, b):
    return (x1 * w1 + x2 * w2 + b).tanh()


start = [2.0, 0.0, -3.0, 1.0, 6.8813735870195432]
inputs = [Value(v) for v in start]
o = neuron(*inputs)
o.backward()
eps = 1e-4
moved = neuron(*[Value(v.data + eps * v.grad) for v in inputs])
predicted = eps * sum(v.grad ** 2 for v in inputs)
print(f"gradients {[round(v.grad, 6) for v in inputs]}")
print(f"output {o.data:.9f} -> {moved.data:.9f}: rose by {moved.data - o.data:.6e}, "
      f"predicted eps * sum(grad^2) = {predicted:.6e} (ratio {(moved.data - o.data) / predicted:.5f})")

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
for name, v in {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}.items():
    v.label = name   # names for the picture
# the computed nodes get the names notebook 02 gave them
GraphStepper(o, names=["x1w1", "x2w2", "s", "n", "o"], title="your engine's neuron, step by step")

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
from course.checks.value_engine import check_engine_matches_torch
check_engine_matches_torch(Value)

# %% nbgrader={"grade": true, "grade_id": "test_engine_matches_torch_random", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_engine_matches_torch_shared
check_engine_matches_torch_shared(Value)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_engine_matches_torch_random
check_engine_matches_torch_random(Value)
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
from course.checks.value_engine import check_neuron_output
check_neuron_output(Value, Neuron)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_neuron_output_random
check_neuron_output_random(Value, Neuron)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_neuron_gradients_reach_weights", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_neuron_gradients_reach_weights
check_neuron_gradients_reach_weights(Value, Neuron)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_neuron_gradients_random
check_neuron_gradients_random(Value, Neuron)
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
from course.moons import Progress, paused_gc, release_graph

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
from course.checks.value_engine import check_train_step_moves_against_the_gradient
check_train_step_moves_against_the_gradient(Value, MLP, train_step)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_train_step_random
check_train_step_random(Value, MLP, train_step)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_train_step_zeroes_gradients", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.value_engine import check_train_step_zeroes_gradients
check_train_step_zeroes_gradients(Value, MLP, train_step)
### BEGIN HIDDEN TESTS
from course_hidden.value_engine import check_zero_grad_random
check_zero_grad_random(Value, MLP, train_step)
### END HIDDEN TESTS

# %% [markdown]
# ### Training
#
# `MLP(2, [16, 16, 1])`: 337 parameters. 100 steps with the learning rate
# decaying from 1.0 to 0.1. Each step builds a graph of about 65,000 `Value`s.
# **The cell takes about half a minute to a minute** on a free laptop core
# (about 0.4 s a step; measured at 2.0 s a step on a 2-core machine shared by
# 11 busy processes), and it prints the time it took.
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
progress = Progress(STEPS, every=10)   # a line every 10 steps: the time so far and an estimate of the rest
start = time.perf_counter()
with paused_gc():
    for k in range(STEPS):
        loss, accuracy = train_step(model, X, y, lr=1.0 - 0.9 * k / 100)
        losses.append(loss.data)
        accuracies.append(accuracy)
        release_graph(loss)
        progress.update(k, loss=loss.data, accuracy=accuracy)
seconds = time.perf_counter() - start
final_loss, final_accuracy = loss_fn(model, X, y)
print(f"{len(model.parameters())} parameters, {STEPS} steps in {seconds:.1f} s; "
      f"after training: loss {final_loss.data:.4f}, training accuracy {final_accuracy:.0%}")

# %% nbgrader={"grade": true, "grade_id": "test_training_reaches_full_accuracy", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["slow"]
from course.checks.value_engine import check_training_accuracy
check_training_accuracy(model)

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
