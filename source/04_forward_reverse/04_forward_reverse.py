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
# # 04 · Forward mode and reverse mode
#
# In notebook 03 your `Value` engine built a graph and then walked it backwards.
# That is one of **two** ways to apply the chain rule mechanically:
#
# * **forward mode** carries, next to every value, its derivative with respect to *one chosen
#   input*, computed as the program runs: no graph is stored;
# * **reverse mode** records the program on a *tape* and then sweeps it backwards, giving the
#   derivative of *one output* with respect to *every input* at once.
#
# By the end of this notebook you will have built both, measured when each one wins, compared them
# with symbolic differentiation, and used reverse mode on vectors and matrices (a neural-network
# layer), checked against PyTorch.
#
# Run the cells in order. Cells marked with an exercise have a test cell below them: run it to
# check your work.

# %%
import math
import time

import numpy as np
import matplotlib.pyplot as plt

from course.rules import RULES
from course.numeric import gradient as central_gradient

# %% [markdown]
# ## 1 · Forward mode: dual numbers
#
# A **dual number** $a + b\,\varepsilon$ is a pair: a value $a$ and a **tangent** $b$, with the rule
# $\varepsilon^2 = 0$. Put one into a smooth function and Taylor's formula stops after the first term:
#
# $$g(a + b\,\varepsilon) = g(a) + g'(a)\,b\,\varepsilon .$$
#
# So if every operation maps (value, tangent) to (new value, local derivative × tangent), the
# tangent that comes out of a whole program is the chain rule, applied as the program runs.
#
# * The input we differentiate with respect to is **seeded** with tangent 1.
# * Every other input, and every **constant** like the `2` in `x + 2`, carries tangent **0**: it
#   does not change when the input changes.
#
# The local derivatives are the ones in the course's rule table (the same table the engine of
# notebook 03 reads):

# %%
for rule in RULES.values():
    print(f"{rule.name:8s} {rule.derivative}")


# %% [markdown]
# ### Exercise 1: the `Dual` class
#
# Complete each method. Write the derivatives by hand (the tests compare them with the rule table):
#
# | operation | value | tangent |
# |---|---|---|
# | `a + b` | $a + b$ | $\dot a + \dot b$ |
# | `a - b` | $a - b$ | $\dot a - \dot b$ |
# | `a * b` | $ab$ | $\dot a\, b + a\, \dot b$ (product rule: two terms) |
# | `a / b` | $a/b$ | $(\dot a\, b - a\, \dot b)/b^2$ |
# | `a ** k` (`k` a number) | $a^k$ | $k\,a^{k-1}\,\dot a$ |
# | `sin(a)`, `cos(a)` | | $\cos(a)\,\dot a$, $-\sin(a)\,\dot a$ |
# | `exp(a)`, `log(a)`, `tanh(a)` | | $e^a\,\dot a$, $\dot a / a$, $(1 - \tanh^2 a)\,\dot a$ |
#
# The dot is the tangent. Notice the $\dot a$ at the end of every function's rule: that is the chain
# rule's *inner* derivative. The reflected methods (`__radd__`, `__rsub__`, ...) are what Python
# calls for `2 + x`, `2 - x`, ... when the number comes first: mind the order in `2 - x` and `2 / x`.

# %% nbgrader={"grade": false, "grade_id": "dual", "locked": false, "schema_version": 3, "solution": true}
class Dual:
    """A dual number value + tangent·ε (with ε² = 0)."""

    def __init__(self, value, tangent=0.0):
        self.value = float(value)
        self.tangent = float(tangent)

    def __repr__(self):
        return f"Dual(value={self.value:.6g}, tangent={self.tangent:.6g})"

    @staticmethod
    def lift(x):
        """A Dual stays as it is; a plain number becomes a constant Dual."""
        if isinstance(x, Dual):
            return x
        ### BEGIN SOLUTION
        return Dual(x, 0.0)
        ### END SOLUTION

    def __add__(self, other):  # self + other
        other = Dual.lift(other)
        ### BEGIN SOLUTION
        return Dual(self.value + other.value, self.tangent + other.tangent)
        ### END SOLUTION

    def __radd__(self, other):  # other + self, other a plain number
        ### BEGIN SOLUTION
        return Dual.lift(other) + self
        ### END SOLUTION

    def __sub__(self, other):  # self - other
        other = Dual.lift(other)
        ### BEGIN SOLUTION
        return Dual(self.value - other.value, self.tangent - other.tangent)
        ### END SOLUTION

    def __rsub__(self, other):  # other - self
        ### BEGIN SOLUTION
        return Dual.lift(other) - self
        ### END SOLUTION

    def __mul__(self, other):  # self * other
        other = Dual.lift(other)
        ### BEGIN SOLUTION
        return Dual(self.value * other.value,
                    self.tangent * other.value + self.value * other.tangent)
        ### END SOLUTION

    def __rmul__(self, other):  # other * self
        ### BEGIN SOLUTION
        return Dual.lift(other) * self
        ### END SOLUTION

    def __truediv__(self, other):  # self / other
        other = Dual.lift(other)
        ### BEGIN SOLUTION
        return Dual(self.value / other.value,
                    (self.tangent * other.value - self.value * other.tangent) / other.value ** 2)
        ### END SOLUTION

    def __rtruediv__(self, other):  # other / self
        ### BEGIN SOLUTION
        return Dual.lift(other) / self
        ### END SOLUTION

    def __neg__(self):  # -self
        ### BEGIN SOLUTION
        return Dual(-self.value, -self.tangent)
        ### END SOLUTION

    def __pow__(self, k):  # self ** k, k a plain number
        ### BEGIN SOLUTION
        return Dual(self.value ** k, k * self.value ** (k - 1) * self.tangent)
        ### END SOLUTION

    def sin(self):
        ### BEGIN SOLUTION
        return Dual(math.sin(self.value), math.cos(self.value) * self.tangent)
        ### END SOLUTION

    def cos(self):
        ### BEGIN SOLUTION
        return Dual(math.cos(self.value), -math.sin(self.value) * self.tangent)
        ### END SOLUTION

    def exp(self):
        ### BEGIN SOLUTION
        e = math.exp(self.value)
        return Dual(e, e * self.tangent)
        ### END SOLUTION

    def log(self):
        ### BEGIN SOLUTION
        return Dual(math.log(self.value), self.tangent / self.value)
        ### END SOLUTION

    def tanh(self):
        ### BEGIN SOLUTION
        y = math.tanh(self.value)
        return Dual(y, (1.0 - y * y) * self.tangent)
        ### END SOLUTION


# %% [markdown]
# The functions `sin`, `cos`, `exp`, `log`, `tanh` below call the method of the same name for a
# `Dual` (or, later, a tape variable) and the ordinary math function for a plain number, so one
# Python function `f` works on all of them.

# %%
def method_or_math(name):
    """name(x): the method x.name() for a Dual, a tape variable or a Value; math.name(x) for a number."""
    def fn(x):
        return getattr(x, name)() if hasattr(x, name) else getattr(math, name)(x)
    fn.__name__ = name
    return fn

sin, cos, exp, log, tanh = (method_or_math(name) for name in ("sin", "cos", "exp", "log", "tanh"))

x = Dual(3.0, 1.0)       # the input, seeded with tangent 1
print(x * x + 2 * x)     # value 15, tangent d(x² + 2x)/dx = 2x + 2 = 8
print(sin(x))            # value sin 3, tangent cos 3

# %% nbgrader={"grade": true, "grade_id": "test_dual_constants", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_dual_constants
check_dual_constants(Dual)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_dual_constants_random
check_dual_constants_random(Dual)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dual_product_rule", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_dual_product_rule
check_dual_product_rule(Dual)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_dual_product_rule_random
check_dual_product_rule_random(Dual)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dual_quotient_and_reflected", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_dual_quotient_and_reflected
check_dual_quotient_and_reflected(Dual)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_dual_quotient_and_reflected_random
check_dual_quotient_and_reflected_random(Dual)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dual_power", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_dual_power
check_dual_power(Dual)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_dual_power_random
check_dual_power_random(Dual)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dual_chain_rule", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_dual_chain_rule
check_dual_chain_rule(Dual)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_dual_chain_rule_random
check_dual_chain_rule_random(Dual)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dual_matches_rule_table", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_dual_matches_rule_table
check_dual_matches_rule_table(Dual)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_dual_matches_rule_table_random
check_dual_matches_rule_table_random(Dual)
### END HIDDEN TESTS

# %% [markdown]
# ### The course function and one partial derivative
#
# Throughout this notebook we differentiate
#
# $$f(x_0, x_1) = \frac{x_0^2}{x_1}\cos x_0 + \exp\!\left(\frac{x_0}{x_1}\right).$$
#
# To get $\partial f/\partial x_0$ at $(1.5, 2)$, seed $x_0$ with tangent 1 and $x_1$ with tangent 0,
# and run `f` once:

# %%
def f(x0, x1):
    return (x0 ** 2 / x1) * cos(x0) + exp(x0 / x1)

out = f(Dual(1.5, 1.0), Dual(2.0, 0.0))
print("f(1.5, 2)     =", out.value)
print("df/dx0(1.5, 2) =", out.tangent)
print("central difference:", central_gradient(f, [1.5, 2.0])[0])


# %% [markdown]
# Seeding the inputs with any direction $v$ instead of a unit vector gives the **directional
# derivative** $\nabla f \cdot v$, and for a function with several outputs the
# **Jacobian-vector product** (JVP) $J v$: one forward pass, whatever $v$ is.
#
# ### Exercise 2: `jvp`
#
# Write `jvp(f, xs, v)`: run `f` once on dual numbers whose values are `xs` and whose tangents are
# `v`, and return `(value, tangent)`: two floats when `f` returns one number, two arrays when `f`
# returns a list. (A constant in the output list has tangent 0: `Dual.lift` helps.)

# %% nbgrader={"grade": false, "grade_id": "jvp", "locked": false, "schema_version": 3, "solution": true}
def jvp(f, xs, v):
    """One forward pass: (f(xs), J(xs) @ v), the inputs seeded with the direction v."""
    ### BEGIN SOLUTION
    ys = f(*[Dual(x, t) for x, t in zip(xs, v)])
    if isinstance(ys, (list, tuple)):
        ys = [Dual.lift(y) for y in ys]
        return np.array([y.value for y in ys]), np.array([y.tangent for y in ys])
    ys = Dual.lift(ys)
    return ys.value, ys.tangent
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_jvp_partial_x0", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_jvp_partial_x0
check_jvp_partial_x0(jvp)

# %% nbgrader={"grade": true, "grade_id": "test_jvp_vector_output", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_jvp_vector_output
check_jvp_vector_output(jvp)

# %% nbgrader={"grade": true, "grade_id": "test_jvp_random_directions", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_jvp_direction
check_jvp_direction(jvp)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_jvp_random
check_jvp_random(jvp)
### END HIDDEN TESTS

# %% [markdown]
# ### n inputs, n forward passes
#
# One forward pass gives one directional derivative. The full gradient of a function of $n$
# inputs needs the $n$ unit directions, so **$n$ passes**, each as expensive as running $f$ itself:

# %%
def gradient_forward(f, xs):
    # One forward pass per input: seed input i with 1, the others with 0.
    n = len(xs)
    return np.array([jvp(f, xs, [1.0 if j == i else 0.0 for j in range(n)])[1] for i in range(n)])

calls = 0
def f_counted(x0, x1):
    global calls
    calls += 1
    return f(x0, x1)

print("gradient by forward mode:", gradient_forward(f_counted, [1.5, 2.0]), f"({calls} passes)")
print("central differences:     ", central_gradient(f, [1.5, 2.0]))

# %% [markdown]
# ## 2 · Reverse mode: a tape
#
# Reverse mode runs the program **once**, writing every operation onto a **tape** (a *Wengert list*):
# each line says which values went in, which came out, and the local derivatives. Nothing is
# differentiated yet. Then it sweeps the tape **backwards**, carrying **adjoints**
# $\bar v_k = \partial\,\text{out}/\partial v_k$:
#
# $$\bar v_{\text{out}} = 1, \qquad \bar v_i \mathrel{+}= \frac{\partial v_k}{\partial v_i}\,\bar v_k
# \quad\text{for every line } v_k = \mathrm{op}(\dots, v_i, \dots) \text{, last line first.}$$
#
# Two details matter: go from the **last** line to the first (an adjoint is complete only when
# every line that *uses* it has been visited), and **add** (`+=`): a value used twice receives a
# contribution from each use.
#
# The course's `Tape` records the operations (with the local derivatives of the rule table):

# %%
from course.tape import Tape

tape = Tape()
x0, x1 = tape.variable(1.5), tape.variable(2.0)   # the inputs: indices 0 and 1 on the tape
out = f(x0, x1)

def named_listing(tape, inputs):
    # The tape's lines, naming the values as notebook 02 did: the inputs by name, the k-th result v_k.
    names = {v.index: name for name, v in inputs.items()}
    names.update({e.out: f"v{k}" for k, e in enumerate(tape.entries)})
    for e in tape.entries:
        args = ", ".join([names.get(i, f"{tape.values[i]:g}") for i in e.inputs]
                         + [f"{key}={value:g}" for key, value in e.params])
        local = ", ".join(f"{d:.6g}" for d in e.local)
        print(f"{names[e.out]} = {e.op}({args}) = {tape.values[e.out]:.6g}    local derivatives: ({local})")

named_listing(tape, {"x0": x0, "x1": x1})
print("output:", out)


# %% [markdown]
# These are the seven intermediate variables $v_0, \dots, v_6$ of notebook 02's evaluation trace,
# in the same order. On the tape every value has an **index**: `tape.values[i]` is the value at
# index `i` (here $x_0$ and $x_1$ are at 0 and 1, $v_0 \dots v_6$ at 2 … 8), and a variable's index is
# `x0.index`. `tape.entries` is the list of lines, each with `e.out` (the index of the result),
# `e.inputs` (the indices of its operands) and `e.local` (one local derivative per operand).
#
# ### Exercise 3: the backward sweep
#
# Write `backward(tape, output)`: a list with one adjoint per value on the tape (`len(tape.values)`
# entries), starting from 1 at `output.index`.

# %% nbgrader={"grade": false, "grade_id": "backward", "locked": false, "schema_version": 3, "solution": true}
def backward(tape, output):
    """Adjoints d output / d v_i of every value on the tape, by one reverse sweep."""
    ### BEGIN SOLUTION
    adj = [0.0] * len(tape.values)
    adj[output.index] = 1.0
    for e in reversed(tape.entries):
        for i, d in zip(e.inputs, e.local):
            adj[i] += d * adj[e.out]
    return adj
    ### END SOLUTION


# %%
adj = backward(tape, out)
print("gradient by one reverse sweep:", np.array([adj[x0.index], adj[x1.index]]))
print("gradient by forward mode:     ", gradient_forward(f, [1.5, 2.0]))

# %% [markdown]
# ### Both sweeps on one graph
#
# Here is $f$ once more, built step by step with the course's `Value` engine so a widget can draw
# its graph, with the names $v_0 \dots v_6$ of the tape above.
# Switch between **forward mode** (the tangents flow from the seeded input to the output:
# one sweep per input) and **reverse mode** (the adjoints flow from the output back to every
# input: one sweep for all). Choose the seeded input from the menu and compare the last step
# of each sweep with the gradient above.

# %%
from course.engine import Value
from course.sweeps import SweepStepper

def named(v, name):
    v.label = name   # the name the graph shows for this node
    return v

g0, g1 = Value(1.5, label="x0"), Value(2.0, label="x1")
v0 = named(g0 ** 2, "v0")          # f step by step, as in notebook 02's evaluation trace
v1 = named(v0 / g1, "v1")
v2 = named(cos(g0), "v2")
v3 = named(v1 * v2, "v3")
v4 = named(g0 / g1, "v4")
v5 = named(exp(v4), "v5")
v6 = named(v3 + v5, "v6")
SweepStepper(v6, wrt=g0, title="f(x0, x1): forward mode (tangents) and reverse mode (adjoints)")

# %% nbgrader={"grade": true, "grade_id": "test_backward_sweeps_in_reverse", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_backward_sweeps_in_reverse
check_backward_sweeps_in_reverse(backward)

# %% nbgrader={"grade": true, "grade_id": "test_backward_accumulates", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_backward_accumulates
check_backward_accumulates(backward)

# %% nbgrader={"grade": true, "grade_id": "test_backward_chain_rule", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_backward_chain_rule
check_backward_chain_rule(backward)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_backward_random
check_backward_random(backward)
### END HIDDEN TESTS

# %% [markdown]
# ### Vector-Jacobian products
#
# For a function with outputs $y_1, \dots, y_m$, one sweep started from the scalar
# $s = \sum_k u_k\, y_k$ gives $\partial s / \partial x = u^\top J$: the **vector-Jacobian product**
# (VJP). With one output and $u = 1$ it is the gradient.
#
# ### Exercise 4: `vjp`
#
# Write `vjp(f, xs, u)`: record `f` on a fresh tape (one `tape.variable` per input), form
# $s = \sum_k u_k y_k$ on the tape (for a single output, $s = u\,y$), sweep once with your
# `backward`, and return `(value, u^T J)`: the value as a float (or an array of the outputs'
# values), the VJP as an array with one entry per input.

# %% nbgrader={"grade": false, "grade_id": "vjp", "locked": false, "schema_version": 3, "solution": true}
def vjp(f, xs, u):
    """One recording and one reverse sweep: (f(xs), u^T J(xs))."""
    ### BEGIN SOLUTION
    tape = Tape()
    ins = [tape.variable(x) for x in xs]
    ys = f(*ins)
    if isinstance(ys, (list, tuple)):
        s = 0.0
        for uk, yk in zip(u, ys):
            s = uk * yk + s
        value = np.array([getattr(y, "value", y) for y in ys], dtype=float)
    else:
        s = u * ys
        value = float(getattr(ys, "value", ys))
    if not hasattr(s, "index"):        # every output was a constant
        s = tape.variable(float(s))
    adj = backward(tape, s)
    return value, np.array([adj[v.index] for v in ins])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_vjp_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_vjp_gradient
check_vjp_gradient(vjp)

# %% nbgrader={"grade": true, "grade_id": "test_vjp_random_directions", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_vjp_direction
check_vjp_direction(vjp)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_vjp_random
check_vjp_random(vjp)
### END HIDDEN TESTS

# %% [markdown]
# ## 3 · Which one is cheaper? Measure it
#
# For a Jacobian $J$ of shape $m \times n$ (m outputs, n inputs):
#
# * forward mode gives one **column** $J e_i$ per pass: the whole $J$ takes **n** passes;
# * reverse mode gives one **row** $e_k^\top J$ per sweep: the whole $J$ takes **m** sweeps
#   (after one recording).
#
# Each pass or sweep costs a small multiple of running $f$. So a loss with a million parameters
# and one output ($m = 1$) wants reverse mode, and a function of one variable with many outputs
# wants forward mode. Claims like that are worth checking. First the gradient of a scalar function
# of $n$ inputs, whose work grows like $n$:
#
# $$f_n(x) = \sum_{i} \sin(x_i)\, x_{(i+1) \bmod n}.$$
#
# (The timing cells are tagged `slow`; they take a few seconds.)

# %% tags=["slow"]
def many_inputs(*xs):
    n = len(xs)
    total = 0.0
    for i in range(n):
        total = sin(xs[i]) * xs[(i + 1) % n] + total
    return total

def show_panels(*axes):
    # Legends and grids on every panel, then the figure.
    for ax in axes:
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
    plt.tight_layout()
    plt.show()

def best_time(fn, repeat=3):
    # The fastest of a few runs: the least disturbed by whatever else the machine does.
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)

rng = np.random.default_rng(0)
sizes = [1, 2, 4, 8, 16, 32, 64, 128]
t_forward, t_reverse = [], []
for n in sizes:
    xs = list(rng.uniform(0.5, 1.5, size=n))
    assert np.allclose(gradient_forward(many_inputs, xs), vjp(many_inputs, xs, 1.0)[1])
    t_forward.append(best_time(lambda: gradient_forward(many_inputs, xs)))
    t_reverse.append(best_time(lambda: vjp(many_inputs, xs, 1.0)))

print(" n   forward (ms)   reverse (ms)   forward / reverse")
for n, a, b in zip(sizes, t_forward, t_reverse):
    print(f"{n:3d}   {1e3 * a:11.3f}   {1e3 * b:11.3f}   {a / b:8.2f}")
wins = [n for i, n in enumerate(sizes) if all(t_reverse[j] < t_forward[j] for j in range(i, len(sizes)))]
print(f"measured crossover: reverse mode is faster for every n >= {wins[0]}" if wins else
      "reverse mode never stayed faster in this run")


# %% [markdown]
# Now the opposite shape: **one input, m outputs**. The outputs are the states of an iteration
# $y_k = \sin(y_{k-1})\,t + t$ (think of the points of a trajectory): forward mode gets all $m$
# derivatives $dy_k/dt$ in one pass; reverse mode records once and then needs one sweep per output.

# %% tags=["slow"]
def many_outputs(t, m):
    ys, y = [], t
    for _ in range(m):
        y = sin(y) * t + t
        ys.append(y)
    return ys

def jacobian_reverse(f, xs):
    # One recording, then one backward sweep per output (one row of J each).
    tape = Tape()
    ins = [tape.variable(x) for x in xs]
    rows = []
    for y in f(*ins):
        adj = backward(tape, y)
        rows.append([adj[v.index] for v in ins])
    return np.array(rows)

m_sizes = [1, 2, 4, 8, 16, 32, 64, 128]
t_fwd_m, t_rev_m = [], []
for m in m_sizes:
    fm = lambda t: many_outputs(t, m)
    assert np.allclose(jvp(fm, [0.3], [1.0])[1], jacobian_reverse(fm, [0.3])[:, 0])
    t_fwd_m.append(best_time(lambda: jvp(fm, [0.3], [1.0])))
    t_rev_m.append(best_time(lambda: jacobian_reverse(fm, [0.3])))

print(" m   forward (ms)   reverse (ms)   reverse / forward")
for m, a, b in zip(m_sizes, t_fwd_m, t_rev_m):
    print(f"{m:3d}   {1e3 * a:11.3f}   {1e3 * b:11.3f}   {b / a:8.2f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.loglog(sizes, 1e3 * np.array(t_forward), "o-", label="forward mode: n passes")
ax1.loglog(sizes, 1e3 * np.array(t_reverse), "s-", label="reverse mode: 1 sweep")
if wins:
    ax1.axvline(wins[0], color="gray", linestyle=":", label=f"measured crossover, n = {wins[0]}")
ax1.set(xlabel="n inputs", ylabel="time for the full gradient (ms)", title="f: R^n -> R")
ax2.loglog(m_sizes, 1e3 * np.array(t_fwd_m), "o-", label="forward mode: 1 pass")
ax2.loglog(m_sizes, 1e3 * np.array(t_rev_m), "s-", label="reverse mode: m sweeps")
ax2.set(xlabel="m outputs", ylabel="time for the full Jacobian (ms)", title="f: R -> R^m")
show_panels(ax1, ax2)

# %% [markdown]
# On the log-log plot, a line of slope 1 is cost $\propto n$ and slope 2 is $\propto n^2$. With $n$
# inputs forward mode repeats the whole $O(n)$ program $n$ times: $O(n^2)$. Reverse mode records
# once and sweeps once: $O(n)$, with a larger constant (every operation is written to the tape and
# read back), which is why forward mode can win for the smallest $n$. With one input and $m$
# outputs the roles swap.
#
# **When each wins.** A full Jacobian costs $\min(n, m)$ passes of the cheaper kind:
#
# | shape of $J$ | use | because |
# |---|---|---|
# | $m \ll n$ (a loss of many parameters) | reverse mode, VJPs | one sweep per output |
# | $m \gg n$ (a trajectory of one parameter) | forward mode, JVPs | one pass per input |
# | you need only $Jv$ or only $u^\top J$ | one JVP or one VJP | never build $J$ |
#
# Reverse mode pays in **memory** too: the tape holds every intermediate value until the sweep;
# forward mode holds nothing but the current (value, tangent) pairs.

# %% [markdown]
# ## 4 · Automatic versus symbolic differentiation
#
# A computer algebra system differentiates the *expression*; automatic differentiation differentiates
# the *program*, one number at a time. For our $f$ they agree:

# %%
import sympy as sp

s0, s1 = sp.symbols("x0 x1")
f_sym = (s0 ** 2 / s1) * sp.cos(s0) + sp.exp(s0 / s1)
grad_sym = [sp.diff(f_sym, s) for s in (s0, s1)]
for s, g in zip((s0, s1), grad_sym):
    print(f"df/d{s} =", g)
at = {s0: 1.5, s1: 2.0}
print("symbolic at (1.5, 2):", np.array([float(g.subs(at)) for g in grad_sym]))
print("forward mode:        ", gradient_forward(f, [1.5, 2.0]))
print("reverse mode:        ", vjp(f, [1.5, 2.0], 1.0)[1])


# %% [markdown]
# The difference shows with depth. Take the logistic map $\ell_{k+1} = 4\,\ell_k(1 - \ell_k)$,
# $\ell_0 = x$, a program of 3 operations per step. As an expression tree, $\ell_k$ repeats
# $\ell_{k-1}$ twice, and its derivative (product rule: two terms, each holding a copy of the
# subexpression) grows much faster: **expression swell**. The tape of the same program grows by 3
# lines per step.

# %%
def logistic(x, depth):
    for _ in range(depth):
        x = 4 * x * (1 - x)
    return x

xs_ = sp.Symbol("x")
print("l_2(x) =", logistic(xs_, 2))
print("d l_2/dx =", sp.diff(logistic(xs_, 2), xs_))
print("at x = 0.3, sympy:", float(sp.diff(logistic(xs_, 2), xs_).subs(xs_, 0.3)),
      " reverse mode:", vjp(lambda x: logistic(x, 2), [0.3], 1.0)[1][0])

# %% [markdown]
# A fair race separates two costs. Symbolic differentiation pays **once** to differentiate the
# expression (`sp.diff`) and compile the result into a Python function (`sp.lambdify`); after that,
# each **evaluation** of the compiled derivative is plain arithmetic. Reverse mode has no one-off
# step: every evaluation records the program on a tape and sweeps it. So we time the one-off work
# and the evaluations separately.

# %% tags=["slow"]
from sympy.core.cache import clear_cache   # sympy remembers results: differentiate from scratch

def per_call(fn, calls):
    # The time of one call, from the fastest of a few batches of `calls` calls.
    return best_time(lambda: [fn() for _ in range(calls)]) / calls

depths = list(range(1, 9))
size_f, size_df, tape_len, t_diff, t_compile, t_eval, t_tape = [], [], [], [], [], [], []
for d in depths:
    clear_cache()
    start = time.perf_counter()
    dexpr = sp.diff(logistic(xs_, d), xs_)                 # one-off: differentiate ...
    t_diff.append(time.perf_counter() - start)
    start = time.perf_counter()
    dldx = sp.lambdify(xs_, dexpr, modules="math")         # ... and compile
    t_compile.append(time.perf_counter() - start)
    t_eval.append(per_call(lambda: dldx(0.3), calls=200))  # every evaluation: the compiled derivative
    t_tape.append(per_call(lambda: vjp(lambda x: logistic(x, d), [0.3], 1.0), calls=20))  # or the tape
    size_f.append(sp.count_ops(logistic(xs_, d)))
    size_df.append(sp.count_ops(dexpr))
    tape = Tape()
    logistic(tape.variable(0.3), d)
    tape_len.append(len(tape.entries))
    ad = float(vjp(lambda x: logistic(x, d), [0.3], 1.0)[1][0])
    if abs(dldx(0.3) - ad) > 1e-9 * max(1.0, abs(ad)):
        raise RuntimeError(f"depth {d}: sympy says {dldx(0.3)}, reverse mode {ad}")

print("depth  ops in f  ops in df/dx  tape entries   diff (ms)  lambdify (ms)  compiled df (µs)  tape (µs)")
for row in zip(depths, size_f, size_df, tape_len, t_diff, t_compile, t_eval, t_tape):
    print("{:5d} {:9d} {:13d} {:13d} {:11.1f} {:14.1f} {:17.2f} {:10.1f}".format(
        *row[:4], 1e3 * row[4], 1e3 * row[5], 1e6 * row[6], 1e6 * row[7]))
faster = [d for d, a, b in zip(depths, t_eval, t_tape) if a < b]
print(f"the compiled derivative evaluated faster than the tape at depths {faster}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.semilogy(depths, size_df, "o-", label="sympy: operations in df/dx")
ax1.semilogy(depths, size_f, "^-", label="sympy: operations in f")
ax1.semilogy(depths, tape_len, "s-", label="autodiff: tape entries")
ax1.set(xlabel="depth (steps of the logistic map)", ylabel="size", title="expression swell")
ax2.semilogy(depths, 1e3 * (np.array(t_diff) + np.array(t_compile)), "o--", label="sympy, once: diff + lambdify")
ax2.semilogy(depths, 1e3 * np.array(t_eval), "o-", label="sympy, each evaluation: compiled df/dx")
ax2.semilogy(depths, 1e3 * np.array(t_tape), "s-", label="reverse mode, each evaluation: record + sweep")
ax2.set(xlabel="depth", ylabel="time (ms)", title="one-off cost and cost per evaluation")
show_panels(ax1, ax2)

# %% [markdown]
# The symbolic derivative more than doubles with every step; the tape grows by three entries.
# Read the two costs apart:
#
# * **once**: differentiating and compiling grow with the swollen expression; at depth 8 they take
#   far longer than thousands of evaluations by the tape;
# * **each evaluation**: a compiled derivative is straight-line arithmetic with no bookkeeping, so
#   for shallow programs it beats the tape (which records and sweeps every entry in Python) by a wide
#   margin; but its cost grows with the swell, the tape's only with the program, so the gap closes
#   as the program gets deeper and, deep enough, reverses (the last line of the table says where it
#   stood in your run).
#
# Symbolic differentiation is not *wrong*: it gives a formula valid for every $x$, which autodiff
# never does. And the swell comes from writing shared subexpressions out as a tree: a computer
# algebra system that keeps the sharing (`sp.cse`, common subexpression elimination, or
# `sp.lambdify(..., cse=True)`) recovers much of it, and what it then computes is close to what
# reverse mode does with numbers.

# %% [markdown]
# ## 5 · Vectors and matrices
#
# Real models work on arrays. The unit of reverse mode stays the same: an **operation** that knows
# its forward computation and its **backward**, the vector-Jacobian product. If $y = \mathrm{op}(x)$
# and $g = \partial L/\partial y$ arrives from above, backward returns $\partial L/\partial x =
# J^\top g$, with the same shape as $x$. The Jacobian itself is never built: for `tanh` on a vector of
# a thousand entries it would be a $1000 \times 1000$ diagonal matrix.
#
# For a layer $\;y = \tanh(Wx + b)\;$ with $W$ of shape $(m, n)$:
#
# | op | forward | backward, given $g$ |
# |---|---|---|
# | `MatVec` | $Wx$ | $\partial L/\partial W = g\,x^\top$ (shape $m \times n$), $\;\partial L/\partial x = W^\top g$ (shape $n$) |
# | `Add` | $a + b$ | $g,\ g$ |
# | `Tanh` | $y = \tanh z$ | $g \odot (1 - y^2)$ |
# | `SquaredError` | $\sum_i (y_i - t_i)^2$ | $2(y - t)\,g,\ -2(y - t)\,g$ |
#
# Check the shapes: $W^\top g$ has the shape of $x$, $g\,x^\top$ (`np.outer(g, x)`) the shape of $W$.
# The course provides `Add`, `SquaredError` and the expression tree: `leaf(value)` makes an input,
# `apply(op, *nodes)` runs `op.forward` and remembers its inputs, and `tree_backward(root)` visits
# the nodes in reverse topological order, calls each op's `backward`, and adds the results into
# each input's `.grad`.

# %%
from course.expression_tree import Add, SquaredError, leaf, apply
from course.expression_tree import backward as tree_backward


# %% [markdown]
# ### Exercise 5: `MatVec.backward` and `Tanh.backward`
#
# Each returns a tuple with one gradient per input, each of the input's shape.

# %% nbgrader={"grade": false, "grade_id": "matvec", "locked": false, "schema_version": 3, "solution": true}
class MatVec:
    """y = W @ x, W of shape (m, n), x of shape (n,)."""

    def forward(self, W, x):
        self.W, self.x = W, x
        return W @ x

    def backward(self, g):
        """(dL/dW, dL/dx) given g = dL/dy of shape (m,)."""
        ### BEGIN SOLUTION
        return np.outer(g, self.x), self.W.T @ g
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_matvec_backward_square", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_matvec_backward_square
check_matvec_backward_square(MatVec)

# %% nbgrader={"grade": true, "grade_id": "test_matvec_backward_rectangular", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_matvec_backward_rectangular
check_matvec_backward_rectangular(MatVec)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_matvec_backward_random
check_matvec_backward_random(MatVec)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "tanh_op", "locked": false, "schema_version": 3, "solution": true}
class Tanh:
    """y = tanh(z), elementwise."""

    def forward(self, z):
        self.y = np.tanh(z)
        return self.y

    def backward(self, g):
        """(dL/dz,) given g = dL/dy."""
        ### BEGIN SOLUTION
        return (g * (1.0 - self.y ** 2),)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_tanh_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_tanh_backward
check_tanh_backward(Tanh)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_tanh_backward_random
check_tanh_backward_random(Tanh)
### END HIDDEN TESTS

# %% [markdown]
# ### A layer, two layers, a loss
#
# With the four operations, a layer is three nodes and the network is a composition. One call to
# `tree_backward(loss)` fills every `.grad`:

# %%
def layer(W, x, b):
    # tanh(W x + b) as three nodes of the expression tree
    return apply(Tanh(), apply(Add(), apply(MatVec(), W, x), b))

rng = np.random.default_rng(4)
W = leaf(rng.normal(size=(3, 4)), "W")
x = leaf(rng.normal(size=4), "x")
b = leaf(rng.normal(size=3), "b")
target = leaf(np.array([0.5, -0.5, 0.0]), "t")

loss = apply(SquaredError(), layer(W, x, b), target)
tree_backward(loss)
print("loss =", float(loss.value))
print("dL/dW =\n", W.grad)
print("dL/db =", b.grad)
print("dL/dx =", x.grad)

# %% [markdown]
# By hand: with $y = \tanh(Wx + b)$ and $\delta = \partial L/\partial z = 2(y - t) \odot (1 - y^2)$,
#
# $$\frac{\partial L}{\partial W} = \delta\, x^\top, \qquad \frac{\partial L}{\partial b} = \delta,
# \qquad \frac{\partial L}{\partial x} = W^\top \delta .$$

# %%
y = np.tanh(W.value @ x.value + b.value)
delta = 2 * (y - target.value) * (1 - y ** 2)
print("max |tree - by hand|:",
      max(np.abs(W.grad - np.outer(delta, x.value)).max(), np.abs(b.grad - delta).max(),
          np.abs(x.grad - W.value.T @ delta).max()))

# %% nbgrader={"grade": true, "grade_id": "test_layer_gradients_analytic", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_layer_gradients
check_layer_gradients(MatVec, Tanh)

# %% [markdown]
# Two layers stacked, $L = \lVert \tanh(W_2 \tanh(W_1 x + b_1) + b_2) - t \rVert^2$, checked against
# PyTorch's autograd in float64:

# %%
import torch

def two_layer_grads(W1, b1, W2, b2, x, t):
    # Gradients of L with respect to W1, b1, W2, b2, x by our expression tree.
    nodes = {k: leaf(v) for k, v in dict(W1=W1, b1=b1, W2=W2, b2=b2, x=x).items()}
    h = layer(nodes["W1"], nodes["x"], nodes["b1"])
    L = apply(SquaredError(), layer(nodes["W2"], h, nodes["b2"]), leaf(t))
    tree_backward(L)
    return float(L.value), {k: n.grad for k, n in nodes.items()}

def two_layer_grads_torch(W1, b1, W2, b2, x, t):
    ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
          for k, v in dict(W1=W1, b1=b1, W2=W2, b2=b2, x=x).items()}
    y = torch.tanh(ts["W2"] @ torch.tanh(ts["W1"] @ ts["x"] + ts["b1"]) + ts["b2"])
    L = ((y - torch.tensor(t, dtype=torch.float64)) ** 2).sum()
    L.backward()
    return float(L.detach()), {k: v.grad.numpy() for k, v in ts.items()}

rng = np.random.default_rng(5)
args = dict(W1=rng.normal(size=(5, 4)), b1=rng.normal(size=5), W2=rng.normal(size=(2, 5)),
            b2=rng.normal(size=2), x=rng.normal(size=4), t=np.array([0.5, -0.5]))
ours, theirs = two_layer_grads(**args), two_layer_grads_torch(**args)
print("loss:", ours[0], "torch:", theirs[0])
for k in ours[1]:
    print(f"max |ours - torch| for dL/d{k}: {np.abs(ours[1][k] - theirs[1][k]).max():.2e}")

# %% nbgrader={"grade": true, "grade_id": "test_two_layers_against_torch", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.forward_reverse import check_two_layers_against_torch
check_two_layers_against_torch(MatVec, Tanh)
### BEGIN HIDDEN TESTS
from course_hidden.forward_reverse import check_two_layers_random
check_two_layers_random(MatVec, Tanh)
### END HIDDEN TESTS

# %% [markdown]
# ### The Jacobian that the VJP never builds
#
# For one layer $y = \tanh(Wx + b)$ the Jacobians exist, and for small sizes we can write them out.
# With $d = 1 - y^2$ (elementwise):
#
# * $\partial y/\partial x = \mathrm{diag}(d)\, W$, a matrix of shape $(m, n)$;
# * $\partial y_i/\partial W_{kj} = d_i\, [i = k]\, x_j$: three indices, shape $(m, m, n)$, and all
#   but $mn$ of its $m^2 n$ entries are 0 (only row $i$ of $W$ moves $y_i$).
#
# Built explicitly and checked against PyTorch's `torch.autograd.functional.jacobian`:

# %%
def layer_jacobians(W, x, b):
    # The explicit Jacobians of y = tanh(W x + b): dy/dx of shape (m, n), dy/dW of shape (m, m, n).
    y = np.tanh(W @ x + b)
    d = 1 - y ** 2
    m, n = W.shape
    J_x = d[:, None] * W                   # diag(d) @ W without building diag(d)
    J_W = np.zeros((m, m, n))
    for i in range(m):
        J_W[i, i, :] = d[i] * x            # only row i of W moves y_i
    return J_x, J_W

rng = np.random.default_rng(6)
W_, x_, b_ = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3)
J_x, J_W = layer_jacobians(W_, x_, b_)
torch_J_W, torch_J_x = torch.autograd.functional.jacobian(
    lambda W, x: torch.tanh(W @ x + torch.tensor(b_)), (torch.tensor(W_), torch.tensor(x_)))
print("shapes:", J_x.shape, J_W.shape)
print(f"max |ours - torch|: dy/dx {np.abs(J_x - torch_J_x.numpy()).max():.1e}, "
      f"dy/dW {np.abs(J_W - torch_J_W.numpy()).max():.1e}")

# %% [markdown]
# A VJP with the Jacobians is a contraction, $g^\top J$; your `Tanh.backward` and `MatVec.backward`
# give the same numbers without ever forming $J$:

# %%
def layer_vjp(W, x, b, g):
    # (dL/dW, dL/dx) of y = tanh(W x + b) for dL/dy = g, by your backward methods: no Jacobian.
    matvec, tanh_op = MatVec(), Tanh()
    tanh_op.forward(matvec.forward(W, x) + b)
    (dz,) = tanh_op.backward(g)
    return matvec.backward(dz)

g_ = rng.normal(size=3)
dW_, dx_ = layer_vjp(W_, x_, b_, g_)
print(f"max |g^T J - VJP|: for x {np.abs(g_ @ J_x - dx_).max():.1e}, "
      f"for W {np.abs(np.tensordot(g_, J_W, axes=1) - dW_).max():.1e}")

# %% [markdown]
# What building the Jacobians costs, against the VJP, for square layers of growing size $n$
# (time and the peak memory Python allocated, measured with `tracemalloc`):

# %% tags=["slow"]
import tracemalloc

def peak_bytes(fn):
    # The most memory allocated at once while fn runs (numpy's arrays included).
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak

def vjp_by_jacobians(W, x, b, g):
    J_x, J_W = layer_jacobians(W, x, b)
    return np.tensordot(g, J_W, axes=1), g @ J_x

jac_sizes = [8, 16, 32, 64, 128]
t_jac, t_vjp_layer, mem_jac, mem_vjp = [], [], [], []
for n in jac_sizes:
    W_, x_, b_, g_ = rng.normal(size=(n, n)), rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    by_jacobians, by_vjp = vjp_by_jacobians(W_, x_, b_, g_), layer_vjp(W_, x_, b_, g_)
    if max(np.abs(a - c).max() for a, c in zip(by_jacobians, by_vjp)) > 1e-10:
        raise RuntimeError(f"n = {n}: the Jacobians and the VJP disagree")
    t_jac.append(best_time(lambda: vjp_by_jacobians(W_, x_, b_, g_)))
    t_vjp_layer.append(best_time(lambda: layer_vjp(W_, x_, b_, g_)))
    mem_jac.append(peak_bytes(lambda: vjp_by_jacobians(W_, x_, b_, g_)))
    mem_vjp.append(peak_bytes(lambda: layer_vjp(W_, x_, b_, g_)))

print("  n   Jacobians (ms)   VJP (ms)   time ratio   Jacobians (MB)   VJP (MB)   memory ratio")
for n, a, c, ma, mc in zip(jac_sizes, t_jac, t_vjp_layer, mem_jac, mem_vjp):
    print(f"{n:3d} {1e3 * a:16.3f} {1e3 * c:10.3f} {a / c:12.1f} {ma / 1e6:16.3f} {mc / 1e6:10.3f} {ma / mc:14.1f}")

# %% [markdown]
# The Jacobian of $y$ with respect to $W$ has $n^3$ entries for an $n \times n$ layer, so its memory
# grows like $n^3$, and so does its time once the arithmetic outweighs Python's fixed costs, against
# $n^2$ for the VJP (which allocates only the two gradients, each of its input's shape). At $n = 1000$, a small layer by today's standards, $J_W$ would take
# 8 GB; the VJP needs 8 MB. That is why reverse mode on arrays is written as one VJP per operation.

# %% [markdown]
# ## Summary
#
# * **Forward mode** (dual numbers): tangents travel with the values; one pass gives $Jv$; a
#   gradient of $n$ inputs costs $n$ passes. Constants have tangent 0.
# * **Reverse mode** (a tape): record once, sweep backwards accumulating adjoints; one sweep gives
#   $u^\top J$, so the gradient of a scalar costs about one extra pass, whatever $n$ is, paid for
#   with the memory of the tape.
# * You measured the crossover: reverse mode wins as soon as a scalar function has more than a
#   handful of inputs; forward mode wins for one input and many outputs.
# * Symbolic differentiation gives formulas, at the price of expression swell; autodiff gives
#   numbers at the cost of a small multiple of the program.
# * On arrays, every operation's backward is a VJP: $W^\top g$ and $g\,x^\top$ for a matrix product,
#   $g \odot (1 - y^2)$ for `tanh`. That is exactly what PyTorch does, as notebook 05 shows.
