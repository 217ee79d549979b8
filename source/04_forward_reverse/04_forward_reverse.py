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
from course.checks import report, misconception, worst
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
from course.dual import sin, cos, exp, log, tanh

x = Dual(3.0, 1.0)       # the input, seeded with tangent 1
print(x * x + 2 * x)     # value 15, tangent d(x² + 2x)/dx = 2x + 2 = 8
print(sin(x))            # value sin 3, tangent cos 3

# %% nbgrader={"grade": true, "grade_id": "test_dual_constants", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception
x = Dual(3.0, 1.0)
cases = {"x + 2": x + 2, "2 + x": 2 + x, "x - 4": x - 4, "x * 5": x * 5, "5 * x": 5 * x}
expected = {"x + 2": 1.0, "2 + x": 1.0, "x - 4": 1.0, "x * 5": 5.0, "5 * x": 5.0}
one_seeded = {"x + 2": 2.0, "2 + x": 2.0, "x - 4": 0.0, "x * 5": 8.0, "5 * x": 8.0}
for name, d in cases.items():
    got = float(d.tangent)
    assert abs(got - expected[name]) <= 1e-12, report(
        f"tangent of {name} with x = Dual(3.0, tangent=1.0)", expected=expected[name], got=got, tol=1e-12,
        hint=misconception("constant-seeded-one",
                           "a plain number is a constant: Dual.lift must give it tangent 0, "
                           "only the input you differentiate by is seeded with 1")
        if abs(got - one_seeded[name]) <= 1e-12 else "a constant carries tangent 0 (see Dual.lift)")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(5):
    a, c, t = rng.uniform(-3, 3, size=3)
    x = Dual(a, t)
    for name, d, want in [("x + c", x + c, t), ("c + x", c + x, t), ("c * x", c * x, c * t),
                          ("x - c", x - c, t), ("x * c", x * c, c * t)]:
        assert abs(float(d.value) - {"x + c": a + c, "c + x": a + c, "c * x": c * a,
                                     "x - c": a - c, "x * c": a * c}[name]) <= 1e-12, report(
            f"value of {name}", inputs={"x": a, "c": c})
        assert abs(float(d.tangent) - want) <= 1e-12, report(
            f"tangent of {name}", inputs={"x": a, "tangent": t, "c": c}, expected=want,
            got=float(d.tangent), tol=1e-12,
            hint=misconception("constant-seeded-one", "a plain number is a constant with tangent 0"))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dual_product_rule", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception
x = Dual(3.0, 1.0)   # seeded input
y = Dual(4.0, 0.0)   # another input, not seeded
for name, d, want, wrong in [("x * x", x * x, 6.0, 3.0), ("x * y", x * y, 4.0, None), ("y * x", y * x, 4.0, 0.0)]:
    got = float(d.tangent)
    assert abs(float(d.value) - {"x * x": 9.0, "x * y": 12.0, "y * x": 12.0}[name]) <= 1e-12, report(
        f"value of {name}", inputs={"x": 3.0, "y": 4.0}, got=float(d.value))
    assert abs(got - want) <= 1e-12, report(
        f"tangent of {name} with x = Dual(3, 1), y = Dual(4, 0)", expected=want, got=got, tol=1e-12,
        hint=misconception("product-rule-missing-term",
                           "d(ab) = da·b + a·db has two terms: add both self.tangent*other.value "
                           "and self.value*other.tangent")
        if wrong is not None and abs(got - wrong) <= 1e-12 else "product rule: d(ab) = da·b + a·db")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(5):
    a, b, ta, tb = rng.uniform(-3, 3, size=4)
    got = float((Dual(a, ta) * Dual(b, tb)).tangent)
    want = ta * b + a * tb
    assert abs(got - want) <= 1e-12, report(
        "tangent of a * b", inputs={"a": a, "da": ta, "b": b, "db": tb}, expected=want, got=got,
        tol=1e-12, hint=misconception("product-rule-missing-term", "d(ab) = da·b + a·db has two terms"))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dual_quotient_and_reflected", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception
x = Dual(2.0, 1.0)
y = Dual(4.0, 0.0)
cases = [("x / y", x / y, 0.5, 0.25), ("y / x", y / x, 2.0, -1.0), ("2 - x", 2 - x, 0.0, -1.0),
         ("2 / x", 2 / x, 1.0, -0.5), ("-x", -x, -2.0, -1.0)]
for name, d, value, tangent in cases:
    got_v, got_t = float(d.value), float(d.tangent)
    swapped = {"2 - x": (0.0, 1.0), "2 / x": (1.0, 0.5)}.get(name)
    hint = (misconception("reflected-operands-swapped",
                          f"{name} came out as if the operands were swapped: in __rsub__ / __rtruediv__ "
                          "the plain number `other` comes first")
            if swapped is not None and abs(got_t - swapped[1]) <= 1e-12 else
            "quotient rule: d(a/b) = (da·b - a·db) / b²")
    assert abs(got_v - value) <= 1e-12, report(f"value of {name} with x = 2, y = 4", expected=value, got=got_v, tol=1e-12, hint=hint)
    assert abs(got_t - tangent) <= 1e-12, report(
        f"tangent of {name} with x = Dual(2, 1), y = Dual(4, 0)", expected=tangent, got=got_t, tol=1e-12, hint=hint)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(5):
    a, b, ta, tb = rng.uniform(0.5, 3, size=4)
    d = Dual(a, ta) / Dual(b, tb)
    want = (ta * b - a * tb) / b ** 2
    assert abs(float(d.tangent) - want) <= 1e-12, report(
        "tangent of a / b", inputs={"a": a, "da": ta, "b": b, "db": tb}, expected=want,
        got=float(d.tangent), tol=1e-12)
    c = float(rng.uniform(-3, 3))
    for name, d, want in [("c - a", c - Dual(a, ta), -ta), ("c / a", c / Dual(a, ta), -c * ta / a ** 2)]:
        assert abs(float(d.tangent) - want) <= 1e-12, report(
            f"tangent of {name}", inputs={"a": a, "da": ta, "c": c}, expected=want, got=float(d.tangent), tol=1e-12)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dual_power", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report
x = Dual(2.0, 1.0)
for k, value, tangent in [(3, 8.0, 12.0), (0.5, math.sqrt(2.0), 0.5 / math.sqrt(2.0)), (-1, 0.5, -0.25)]:
    d = x ** k
    got_v, got_t = float(d.value), float(d.tangent)
    assert abs(got_v - value) <= 1e-12 and abs(got_t - tangent) <= 1e-12, report(
        f"x ** {k} with x = Dual(2, 1)", expected=(value, tangent), got=(got_v, got_t), tol=1e-12,
        hint="power rule: d(a^k) = k a^(k-1) da")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(5):
    a, t, k = rng.uniform(0.5, 3), rng.uniform(-2, 2), rng.uniform(-3, 3)
    got = float((Dual(a, t) ** k).tangent)
    want = k * a ** (k - 1) * t
    assert abs(got - want) <= 1e-10 * max(1.0, abs(want)), report(
        "tangent of a ** k", inputs={"a": a, "da": t, "k": k}, expected=want, got=got, tol=1e-10)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dual_chain_rule", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception
x = Dual(0.7, 1.0)
u = 3 * x    # inner function, du/dx = 3
cases = [("sin(3x)", sin(u), 3 * math.cos(2.1), math.cos(2.1)),
         ("cos(3x)", cos(u), -3 * math.sin(2.1), -math.sin(2.1)),
         ("exp(3x)", exp(u), 3 * math.exp(2.1), math.exp(2.1)),
         ("log(3x)", log(u), 1 / 0.7, 1 / 2.1),
         ("tanh(3x)", tanh(u), 3 * (1 - math.tanh(2.1) ** 2), 1 - math.tanh(2.1) ** 2)]
for name, d, want, outer_only in cases:
    got = float(d.tangent)
    assert abs(got - want) <= 1e-12, report(
        f"tangent of {name} at x = Dual(0.7, 1)", expected=want, got=got, tol=1e-12,
        hint=misconception("chain-rule-missing-inner",
                           "this is only the outer derivative g'(u): multiply it by the inner "
                           "derivative, the argument's tangent (self.tangent)")
        if abs(got - outer_only) <= 1e-12 else "chain rule: d g(u) = g'(u) · du")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(5):
    a, c = rng.uniform(0.2, 1.5, size=2)
    u = c * Dual(a, 1.0)
    for name, d, want in [("sin", sin(u), c * math.cos(c * a)), ("cos", cos(u), -c * math.sin(c * a)),
                          ("exp", exp(u), c * math.exp(c * a)), ("log", log(u), 1 / a),
                          ("tanh", tanh(u), c * (1 - math.tanh(c * a) ** 2))]:
        assert abs(float(d.tangent) - want) <= 1e-10 * max(1.0, abs(want)), report(
            f"tangent of {name}(c x)", inputs={"x": a, "c": c}, expected=want, got=float(d.tangent), tol=1e-10,
            hint=misconception("chain-rule-missing-inner", "multiply the outer derivative by the argument's tangent"))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dual_matches_rule_table", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report
from course.rules import RULES
def check(name, a, t):
    d = getattr(Dual(a, t), name)()
    y = RULES[name].value(a)
    want = RULES[name].local((a,), y)[0] * t
    assert abs(float(d.value) - y) <= 1e-12 * max(1.0, abs(y)), report(
        f"value of {name}(Dual({a:.6g}, {t:.6g}))", expected=y, got=float(d.value), tol=1e-12)
    assert abs(float(d.tangent) - want) <= 1e-12 * max(1.0, abs(want)), report(
        f"tangent of {name}(Dual({a:.6g}, {t:.6g}))", expected=want, got=float(d.tangent), tol=1e-12,
        hint=f"the rule table says: {RULES[name].derivative}")
for name in ["sin", "cos", "exp", "log", "tanh"]:
    check(name, 1.3, 1.0)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for name in ["sin", "cos", "exp", "log", "tanh"]:
    for _ in range(5):
        check(name, float(rng.uniform(0.1, 3.0)), float(rng.normal()))
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
from course.checks import report, misconception
x0, x1 = 1.5, 2.0
dfdx0 = (2 * x0 / x1) * math.cos(x0) - (x0 ** 2 / x1) * math.sin(x0) + math.exp(x0 / x1) / x1
dfdx1 = -(x0 ** 2 / x1 ** 2) * math.cos(x0) - (x0 / x1 ** 2) * math.exp(x0 / x1)
value, tangent = jvp(f, [x0, x1], [1.0, 0.0])
got = float(tangent)
assert abs(float(value) - f(x0, x1)) <= 1e-12, report("value returned by jvp(f, [1.5, 2.0], [1, 0])",
                                                      expected=f(x0, x1), got=float(value))
assert abs(got - dfdx0) <= 1e-10, report(
    "df/dx0 = jvp(f, [1.5, 2.0], [1, 0])[1]", expected=dfdx0, got=got, tol=1e-10,
    hint=misconception("every-input-seeded",
                       "this is df/dx0 + df/dx1: seed each input with its entry of v, "
                       "not every input with 1")
    if abs(got - (dfdx0 + dfdx1)) <= 1e-10 else "seed input i with tangent v[i]")

# %% nbgrader={"grade": true, "grade_id": "test_jvp_vector_output", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, worst
def g(a, b):
    return [a * b, sin(a) + b, 7.0]
value, tangent = jvp(g, [0.5, 2.0], [1.0, -1.0])
value, tangent = np.asarray(value, dtype=float), np.asarray(tangent, dtype=float)
want = np.array([1.0 * 2.0 + 0.5 * -1.0, math.cos(0.5) - 1.0, 0.0])
assert value.shape == (3,) and np.allclose(value, [1.0, math.sin(0.5) + 2.0, 7.0], atol=1e-12), report(
    "values of g(a, b) = [a*b, sin(a) + b, 7] at (0.5, 2)", got=value)
assert tangent.shape == (3,) and np.allclose(tangent, want, atol=1e-12), report(
    "J v for g(a, b) = [a*b, sin(a) + b, 7] at (0.5, 2), v = (1, -1)", expected=want, got=tangent,
    tol=1e-12, hint=worst(tangent, want))

# %% nbgrader={"grade": true, "grade_id": "test_jvp_random_directions", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report
x0, x1, v = 0.8, 1.7, np.array([0.3, -0.7])
grad = np.array([(2 * x0 / x1) * math.cos(x0) - (x0 ** 2 / x1) * math.sin(x0) + math.exp(x0 / x1) / x1,
                 -(x0 ** 2 / x1 ** 2) * math.cos(x0) - (x0 / x1 ** 2) * math.exp(x0 / x1)])
got = float(jvp(f, [x0, x1], list(v))[1])
assert abs(got - grad @ v) <= 1e-10, report("jvp(f, [0.8, 1.7], [0.3, -0.7]): the directional derivative grad f . v",
                                            expected=grad @ v, got=got, tol=1e-10,
                                            hint="seed input i with tangent v[i]; one pass gives grad f . v")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(5):
    x0, x1 = rng.uniform(0.5, 2.5, size=2)
    v = rng.normal(size=2)
    grad = np.array([(2 * x0 / x1) * math.cos(x0) - (x0 ** 2 / x1) * math.sin(x0) + math.exp(x0 / x1) / x1,
                     -(x0 ** 2 / x1 ** 2) * math.cos(x0) - (x0 / x1 ** 2) * math.exp(x0 / x1)])
    got = float(jvp(f, [x0, x1], list(v))[1])
    assert abs(got - grad @ v) <= 1e-9, report("jvp(f, x, v) in a random direction",
                                                inputs={"x0": x0, "x1": x1, "v": v}, expected=grad @ v, got=got, tol=1e-9)
    a, b, c = rng.uniform(0.5, 2.0, size=3)
    w = rng.normal(size=3)
    h = lambda a, b, c: [a * b * c, exp(a) / b, tanh(c - a)]
    J = np.array([[b * c, a * c, a * b],
                  [math.exp(a) / b, -math.exp(a) / b ** 2, 0.0],
                  [-(1 - math.tanh(c - a) ** 2), 0.0, 1 - math.tanh(c - a) ** 2]])
    got = np.asarray(jvp(h, [a, b, c], list(w))[1], dtype=float)
    assert got.shape == (3,) and np.allclose(got, J @ w, atol=1e-9), report(
        "J v of a function with 3 inputs and 3 outputs in a random direction", expected=J @ w, got=got, tol=1e-9)
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
x0, x1 = tape.variable(1.5), tape.variable(2.0)   # inputs: v0, v1
out = f(x0, x1)
print(tape.listing())
print("output:", out)


# %% [markdown]
# `tape.values[i]` is the value $v_i$; `tape.entries` is the list of lines, each with `e.out` (the
# index of the result), `e.inputs` (the indices of its operands) and `e.local` (one local derivative
# per operand).
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
# Here is $f$ once more, built with the course's `Value` engine so a widget can draw its graph.
# Switch between **forward mode** (the tangents flow from the seeded input to the output:
# one sweep per input) and **reverse mode** (the adjoints flow from the output back to every
# input: one sweep for all). Choose the seeded input from the menu and compare the last step
# of each sweep with the gradient above.

# %%
from course.engine import Value
from course.sweeps import SweepStepper

g0, g1 = Value(1.5, label="x0"), Value(2.0, label="x1")
SweepStepper(f(g0, g1), wrt=g0, title="f(x0, x1): forward mode (tangents) and reverse mode (adjoints)")

# %% nbgrader={"grade": true, "grade_id": "test_backward_sweeps_in_reverse", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception
t = Tape()
a, b = t.variable(2.0), t.variable(3.0)
y = sin(a * b)                               # v2 = a*b, v3 = sin(v2)
adj = np.asarray(backward(t, y), dtype=float)
got = adj[[a.index, b.index]]
want = np.array([3.0 * math.cos(6.0), 2.0 * math.cos(6.0)])
assert adj.shape == (len(t.values),), report("backward returns one adjoint per value on the tape",
                                             expected=f"{len(t.values)} adjoints", got=f"{adj.shape[0]} adjoints")
assert abs(adj[y.index] - 1.0) <= 1e-12, report("adjoint of the output itself", expected=1.0, got=adj[y.index])
assert np.allclose(got, want, atol=1e-12), report(
    "gradient of sin(a*b) at a = 2, b = 3", expected=want, got=got, tol=1e-12,
    hint=misconception("tape-swept-forwards",
                       "the sweep must go from the last entry to the first (reversed(tape.entries)): "
                       "visited first-to-last, an entry passes on an adjoint that is still 0")
    if np.allclose(got, 0.0) else "bar v_i += (local derivative) * bar v_out, last entry first")

# %% nbgrader={"grade": true, "grade_id": "test_backward_accumulates", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception
t = Tape()
a, b = t.variable(2.0), t.variable(3.0)
y = a * b + a                                # a is used twice
adj = np.asarray(backward(t, y), dtype=float)
got = adj[[a.index, b.index]]
want = np.array([4.0, 2.0])
assert np.allclose(got, want, atol=1e-12), report(
    "gradient of a*b + a at a = 2, b = 3", expected=want, got=got, tol=1e-12,
    hint=misconception("adjoint-assigned",
                       "a value used twice gets a contribution from each use: accumulate with "
                       "adj[i] += ..., never assign adj[i] = ...")
    if np.allclose(got, [3.0, 2.0]) else "adjoints add up over every use of a value")
t = Tape()
a = t.variable(3.0)
y = a * a
got = float(np.asarray(backward(t, y), dtype=float)[a.index])
assert abs(got - 6.0) <= 1e-12, report(
    "d(a*a)/da at a = 3", expected=6.0, got=got, tol=1e-12,
    hint=misconception("adjoint-assigned", "both operands of a*a are a: add both contributions (+=)")
    if abs(got - 3.0) <= 1e-12 else None)

# %% nbgrader={"grade": true, "grade_id": "test_backward_chain_rule", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception
t = Tape()
a = t.variable(0.5)
y = exp(2 * tanh(a))                         # three entries in a chain
got = float(np.asarray(backward(t, y), dtype=float)[a.index])
th = math.tanh(0.5)
want = math.exp(2 * th) * 2 * (1 - th ** 2)
assert abs(got - want) <= 1e-12, report(
    "d exp(2 tanh(a)) / da at a = 0.5", expected=want, got=got, tol=1e-12,
    hint=misconception("adjoint-not-multiplied",
                       "each contribution is (local derivative) * (adjoint of the entry's output): "
                       "the adjoint carries the chain rule from the output down")
    if abs(got - (1 - th ** 2)) <= 1e-12 else None)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(5):
    p, q = rng.uniform(0.5, 2.5, size=2)
    t = Tape()
    a, b = t.variable(p), t.variable(q)
    adj = np.asarray(backward(t, f(a, b)), dtype=float)
    want = np.array([(2 * p / q) * math.cos(p) - (p ** 2 / q) * math.sin(p) + math.exp(p / q) / q,
                     -(p ** 2 / q ** 2) * math.cos(p) - (p / q ** 2) * math.exp(p / q)])
    assert np.allclose(adj[[a.index, b.index]], want, atol=1e-10), report(
        "gradient of f by backward at a random point", inputs={"x0": p, "x1": q}, expected=want,
        got=adj[[a.index, b.index]], tol=1e-10)
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
from course.checks import report, worst
x0, x1 = 1.5, 2.0
want = np.array([(2 * x0 / x1) * math.cos(x0) - (x0 ** 2 / x1) * math.sin(x0) + math.exp(x0 / x1) / x1,
                 -(x0 ** 2 / x1 ** 2) * math.cos(x0) - (x0 / x1 ** 2) * math.exp(x0 / x1)])
value, g = vjp(f, [x0, x1], 1.0)
g = np.asarray(g, dtype=float)
assert abs(float(value) - f(x0, x1)) <= 1e-12, report("value returned by vjp(f, [1.5, 2.0], 1.0)",
                                                      expected=f(x0, x1), got=float(value))
assert g.shape == (2,) and np.allclose(g, want, atol=1e-12), report(
    "gradient of f at (1.5, 2) by vjp(f, [1.5, 2.0], 1.0)", expected=want, got=g, tol=1e-12, hint=worst(g, want))

# %% nbgrader={"grade": true, "grade_id": "test_vjp_random_directions", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, worst
def h(a, b, c):
    return [a * b * c, exp(a) / b, tanh(c - a)]
def jacobian_h(a, b, c):
    s = 1 - math.tanh(c - a) ** 2
    return np.array([[b * c, a * c, a * b], [math.exp(a) / b, -math.exp(a) / b ** 2, 0.0], [-s, 0.0, s]])
u = np.array([1.0, -2.0, 0.5])
got = np.asarray(vjp(h, [0.3, 1.2, 0.8], list(u))[1], dtype=float)
want = u @ jacobian_h(0.3, 1.2, 0.8)
assert got.shape == (3,) and np.allclose(got, want, atol=1e-12), report(
    "u^T J for h(a, b, c) = [abc, exp(a)/b, tanh(c - a)] at (0.3, 1.2, 0.8), u = (1, -2, 0.5)",
    expected=want, got=got, tol=1e-12, hint=worst(got, want))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(5):
    x = rng.uniform(0.5, 2.0, size=3)
    u = rng.normal(size=3)
    got = np.asarray(vjp(h, list(x), list(u))[1], dtype=float)
    want = u @ jacobian_h(*x)
    assert got.shape == (3,) and np.allclose(got, want, atol=1e-10), report(
        "u^T J in a random direction", inputs={"x": x, "u": u}, expected=want, got=got, tol=1e-10)
    # the two products agree: u . (J v) == (u^T J) . v
    v = rng.normal(size=3)
    lhs = float(u @ np.asarray(jvp(h, list(x), list(v))[1], dtype=float))
    rhs = float(np.asarray(vjp(h, list(x), list(u))[1], dtype=float) @ v)
    assert abs(lhs - rhs) <= 1e-10, report("u . (J v) equals (u^T J) . v", expected=lhs, got=rhs, tol=1e-10)
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
for ax in (ax1, ax2):
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
plt.tight_layout()
plt.show()

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

# %% tags=["slow"]
depths = list(range(1, 9))
size_f, size_df, tape_len, t_sym, t_ad = [], [], [], [], []
from sympy.core.cache import clear_cache   # sympy remembers results: time it from scratch

def symbolic_derivative(d):
    clear_cache()
    dexpr = sp.diff(logistic(xs_, d), xs_)
    return dexpr, float(dexpr.subs(xs_, 0.3))

for d in depths:
    dexpr, value = symbolic_derivative(d)
    t_sym.append(best_time(lambda: symbolic_derivative(d), repeat=2))
    size_f.append(sp.count_ops(logistic(xs_, d)))
    size_df.append(sp.count_ops(dexpr))
    ad = float(vjp(lambda x: logistic(x, d), [0.3], 1.0)[1][0])
    t_ad.append(best_time(lambda: vjp(lambda x: logistic(x, d), [0.3], 1.0)))
    tape = Tape()
    logistic(tape.variable(0.3), d)
    tape_len.append(len(tape.entries))
    assert abs(value - ad) <= 1e-9 * max(1.0, abs(ad))

print("depth   ops in f   ops in df/dx   tape entries   sympy (ms)   reverse mode (ms)")
for row in zip(depths, size_f, size_df, tape_len, t_sym, t_ad):
    print("{:5d} {:10d} {:14d} {:14d} {:12.2f} {:19.3f}".format(*row[:4], 1e3 * row[4], 1e3 * row[5]))

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.semilogy(depths, size_df, "o-", label="sympy: operations in df/dx")
ax1.semilogy(depths, size_f, "^-", label="sympy: operations in f")
ax1.semilogy(depths, tape_len, "s-", label="autodiff: tape entries")
ax1.set(xlabel="depth (steps of the logistic map)", ylabel="size", title="expression swell")
ax2.semilogy(depths, 1e3 * np.array(t_sym), "o-", label="sympy: diff + evaluate")
ax2.semilogy(depths, 1e3 * np.array(t_ad), "s-", label="reverse mode: record + sweep")
ax2.set(xlabel="depth", ylabel="time (ms)", title="time for one derivative")
for ax in (ax1, ax2):
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
plt.tight_layout()
plt.show()

# %% [markdown]
# The symbolic derivative doubles and more with every step; the tape grows by three entries.
# Symbolic differentiation is not *wrong*: it gives a formula valid for every $x$, which autodiff
# never does. And the swell comes from writing shared subexpressions out as a tree: a computer
# algebra system that keeps the sharing (`sp.cse`, common subexpression elimination) recovers much
# of it, and what it then computes is close to what reverse mode does with numbers.

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
from course.matrix_ops import Add, SquaredError, leaf, apply
from course.matrix_ops import backward as tree_backward


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
from course.checks import report, misconception, worst
W = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [2.0, -2.0, 1.0]])
x = np.array([0.5, -1.0, 2.0])
g = np.array([1.0, -3.0, 0.25])
op = MatVec()
y = np.asarray(op.forward(W, x), dtype=float)
dW, dx = (np.asarray(a, dtype=float) for a in op.backward(g))
assert dx.shape == (3,) and np.allclose(dx, W.T @ g, atol=1e-12), report(
    "dL/dx from MatVec.backward(g)", inputs={"W": W, "x": x, "g": g}, expected=W.T @ g, got=dx, tol=1e-12,
    hint=misconception("jacobian-transposed", "this is W @ g: the gradient flows back through the "
                       "transpose, dL/dx = W.T @ g") if dx.shape == (3,) and np.allclose(dx, W @ g) else worst(dx, W.T @ g))
assert dW.shape == (3, 3) and np.allclose(dW, np.outer(g, x), atol=1e-12), report(
    "dL/dW from MatVec.backward(g)", inputs={"W": W, "x": x, "g": g}, expected=np.outer(g, x), got=dW, tol=1e-12,
    hint=misconception("jacobian-transposed", "this is x g^T, the transpose: dL/dW[i, j] = g[i] * x[j], "
                       "np.outer(g, x)") if dW.shape == (3, 3) and np.allclose(dW, np.outer(x, g)) else worst(dW, np.outer(g, x)))

# %% nbgrader={"grade": true, "grade_id": "test_matvec_backward_rectangular", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception, worst
W = np.arange(1.0, 7.0).reshape(2, 3)          # m = 2 outputs, n = 3 inputs
x = np.array([1.0, 0.0, -1.0])
g = np.array([0.5, -1.0])
op = MatVec()
op.forward(W, x)
try:
    grads, error = op.backward(g), ""
except ValueError as e:                            # numpy's shape mismatch
    grads, error = None, str(e)
assert not error, report(
    "MatVec.backward(g) with W of shape (2, 3) raised ValueError: " + error,
    hint=misconception("jacobian-transposed", "shapes tell the orientation: dL/dx = W.T @ g has x's shape (3,), "
                       "dL/dW = np.outer(g, x) has W's shape (2, 3)"))
dW, dx = (np.asarray(a, dtype=float) for a in grads)
assert dW.shape == (2, 3) and dx.shape == (3,), report(
    "shapes of (dL/dW, dL/dx) for W of shape (2, 3)", expected=((2, 3), (3,)), got=(dW.shape, dx.shape),
    hint=misconception("jacobian-transposed", "a gradient has the shape of what it is the gradient of"))
assert np.allclose(dW, np.outer(g, x), atol=1e-12) and np.allclose(dx, W.T @ g, atol=1e-12), report(
    "values of (dL/dW, dL/dx)", expected=(np.outer(g, x), W.T @ g), got=(dW, dx), tol=1e-12)
### BEGIN HIDDEN TESTS
import torch
rng = np.random.default_rng(2026)
for m, n in [(4, 3), (2, 5), (1, 1)]:
    W, x, g = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
    op = MatVec()
    op.forward(W, x)
    dW, dx = (np.asarray(a, dtype=float) for a in op.backward(g))
    Wt = torch.tensor(W, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    tW, tx = torch.autograd.grad(Wt @ xt, (Wt, xt), grad_outputs=torch.tensor(g))
    assert np.allclose(dW, tW.numpy(), atol=1e-12) and np.allclose(dx, tx.numpy(), atol=1e-12), report(
        f"VJP of W @ x against torch in a random direction, W of shape {(m, n)}",
        expected=(tW.numpy(), tx.numpy()), got=(dW, dx), tol=1e-12)
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
from course.checks import report, misconception, worst
z = np.array([-1.0, 0.0, 0.5, 2.0])
g = np.array([2.0, -1.0, 0.5, 3.0])
op = Tanh()
y = np.tanh(z)
op.forward(z)
out = op.backward(g)
assert isinstance(out, tuple) and len(out) == 1, report(
    "Tanh.backward returns a tuple with one gradient, (dL/dz,)", got=type(out).__name__)
dz = np.asarray(out[0], dtype=float)
want = g * (1 - y ** 2)
if dz.shape == want.shape and np.allclose(dz, 1 - y ** 2):
    hint = misconception("incoming-gradient-dropped", "this is the local derivative 1 - y² alone: "
                         "multiply it by the incoming gradient g (chain rule)")
elif dz.shape == want.shape and np.allclose(dz, g * (1 - z ** 2)):
    hint = misconception("tanh-derivative-of-input", "1 - tanh(z)² uses the output y = tanh(z), not z")
else:
    hint = worst(dz, want)
assert dz.shape == want.shape and np.allclose(dz, want, atol=1e-12), report(
    "dL/dz from Tanh.backward(g)", inputs={"z": z, "g": g}, expected=want, got=dz, tol=1e-12, hint=hint)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(3):
    z, g = rng.normal(size=6), rng.normal(size=6)
    op = Tanh()
    op.forward(z)
    dz = np.asarray(op.backward(g)[0], dtype=float)
    assert np.allclose(dz, g * (1 - np.tanh(z) ** 2), atol=1e-12), report(
        "Tanh VJP in a random direction", expected=g * (1 - np.tanh(z) ** 2), got=dz, tol=1e-12)
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
from course.checks import report, worst
W_ = leaf(np.array([[0.2, -0.4], [1.0, 0.3], [-0.5, 0.6]]))
x_ = leaf(np.array([1.5, -2.0]))
b_ = leaf(np.array([0.1, 0.0, -0.2]))
t_ = leaf(np.array([0.3, -0.3, 0.9]))
L = apply(SquaredError(), apply(Tanh(), apply(Add(), apply(MatVec(), W_, x_), b_)), t_)
tree_backward(L)
y = np.tanh(W_.value @ x_.value + b_.value)
delta = 2 * (y - t_.value) * (1 - y ** 2)
for name, node, want in [("W", W_, np.outer(delta, x_.value)), ("b", b_, delta), ("x", x_, W_.value.T @ delta)]:
    got = np.asarray(node.grad, dtype=float)
    assert got.shape == want.shape and np.allclose(got, want, atol=1e-12), report(
        f"dL/d{name} of L = sum((tanh(W x + b) - t)^2)", expected=want, got=got, tol=1e-12, hint=worst(got, want))

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
from course.checks import report, worst
import torch
def check(args, what):
    ours = two_layer_grads(**args)[1]
    ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
          for k, v in args.items() if k != "t"}
    y = torch.tanh(ts["W2"] @ torch.tanh(ts["W1"] @ ts["x"] + ts["b1"]) + ts["b2"])
    ((y - torch.tensor(args["t"], dtype=torch.float64)) ** 2).sum().backward()
    for k, v in ts.items():
        got, want = np.asarray(ours[k], dtype=float), v.grad.numpy()
        assert got.shape == want.shape and np.allclose(got, want, atol=1e-10), report(
            f"dL/d{k} of the two-layer loss against torch float64 ({what})", expected=want, got=got,
            tol=1e-10, hint=worst(got, want))
check(dict(W1=np.array([[0.5, -1.0], [0.3, 0.8], [-0.2, 0.1]]), b1=np.array([0.0, 0.1, -0.1]),
           W2=np.array([[1.0, -0.5, 0.25]]), b2=np.array([0.2]), x=np.array([1.0, -0.5]),
           t=np.array([0.7])), "fixed inputs")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for n, h, m in [(3, 4, 2), (5, 2, 3)]:
    check(dict(W1=rng.normal(size=(h, n)), b1=rng.normal(size=h), W2=rng.normal(size=(m, h)),
               b2=rng.normal(size=m), x=rng.normal(size=n), t=rng.normal(size=m)), f"random, sizes {(n, h, m)}")
### END HIDDEN TESTS

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
