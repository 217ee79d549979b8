# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Numerical slopes
#
# Automatic differentiation computes derivatives *exactly* and *fast*. Before we build it, we need
# a yardstick to check it against, and a feeling for what a derivative is: **how much the output
# moves when you nudge an input**. That is what this notebook is about.
#
# You will
#
# 1. measure the slope of a curve by nudging its input a little,
# 2. do the same for a function of several inputs, one input at a time,
# 3. write the three tools every later notebook uses to check its derivatives: the **forward
#    difference**, the **central difference** and the **numerical gradient**,
# 4. find out why "a smaller step is better" stops being true, and which step to use.
#
# **How the exercises work.** Write your code where it says `YOUR CODE HERE` (delete the
# `raise NotImplementedError(...)` line), run that cell, then run the test cells below it. A test
# that fails tells you what it checked, the inputs, the expected value, your value and, when your
# numbers look like a well-known mistake, a hint that names it. Some tests are hidden: they run
# the same checks on random inputs when your work is graded, so make your code work for any input,
# not just the ones shown.

# %%
import math

import numpy as np
import matplotlib.pyplot as plt


# %% [markdown]
# ## 1. A function and its picture
#
# Here is a function of one input, $f(x) = 3x^2 - 4x + 5$:

# %%
def f(x):
    return 3 * x**2 - 4 * x + 5


print(f(3.0))

# %% [markdown]
# A parabola: it goes down, turns at some point, and goes up again.

# %% tags=["slow"]
xs = np.arange(-5, 5, 0.25)
plt.figure(figsize=(5, 3))
plt.plot(xs, f(xs))
plt.xlabel("x")
plt.ylabel("f(x)")
plt.title("f(x) = 3x² - 4x + 5")
plt.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 2. The slope at a point
#
# Stand at $x = 3$ and take a tiny step $h$ to the right. The function moves from $f(x)$ to
# $f(x + h)$. Rise over run is the **slope** of the curve there:
#
# $$\text{slope} \approx \frac{f(x + h) - f(x)}{h}.$$

# %%
h = 0.001
x = 3.0
print("f(x)     =", f(x))
print("f(x + h) =", f(x + h))
print("slope    =", (f(x + h) - f(x)) / h)

# %% [markdown]
# About 14: near $x = 3$ the output grows 14 times as fast as the input. Calculus says the same
# thing exactly: $f'(x) = 6x - 4$, and $f'(3) = 14$. Our estimate is off by $0.003 = 3h$, and the
# gap shrinks with $h$:

# %%
for h in [0.1, 0.01, 0.001, 0.0001]:
    slope = (f(3.0 + h) - f(3.0)) / h
    print(f"h = {h:<7} slope = {slope:.6f}   gap to 14 = {slope - 14:.6f}")

# %% [markdown]
# To the left of the turning point the curve goes *down* and the slope is negative:

# %%
h = 0.0001
x = -3.0
print("slope at x = -3:", (f(x + h) - f(x)) / h)   # f'(-3) = 6*(-3) - 4 = -22

# %% [markdown]
# And at the bottom of the parabola, $x = 2/3$, where $6x - 4 = 0$, the curve is flat: nudging
# $x$ barely moves $f$ at all.

# %%
h = 0.0001
x = 2 / 3
print("slope at x = 2/3:", (f(x + h) - f(x)) / h)   # f'(2/3) = 0

# %% [markdown]
# $0.0003$ is the same gap $3h$ as before: the exact slope here is $0$.

# %% [markdown]
# ### Explore: the secant turns into the tangent
#
# The line through $(x, f(x))$ and $(x + h, f(x + h))$ is a **secant**; its slope is our estimate.
# Drag the sliders: move $x$ to the bottom of the parabola, then make $h$ small and watch the orange
# secant settle onto the green tangent. Halve $h$ and the gap halves.

# %% tags=["slow"]
from IPython.display import display
from course.slopes_widget import SlopeExplorer

explorer = SlopeExplorer(f, df=lambda x: 6 * x - 4, x=3.0, h=1.0)
display(explorer.widget)

# %% [markdown]
# ## 3. Several inputs
#
# Most functions we differentiate in this course have many inputs (a neural network has millions).
# Take three inputs and one output:

# %%
a = 2.0
b = -3.0
c = 10.0
d = a * b + c
print(d)

# %% [markdown]
# How does $d$ respond to each input? Nudge **one** input, keep the others fixed, and measure the
# slope. That is a **partial slope**, written $\partial d / \partial a$. First $a$:

# %%
h = 0.0001
d1 = a * b + c
d2 = (a + h) * b + c
print("d1 =", d1)
print("d2 =", d2)
print("slope dd/da =", (d2 - d1) / h)

# %% [markdown]
# $-3$: the output goes *down* when $a$ goes up, because $a$ is multiplied by $b = -3$. Indeed
# $\partial d / \partial a = b$. Now $b$ and $c$:

# %%
d2 = a * (b + h) + c
print("slope dd/db =", (d2 - d1) / h)   # = a = 2

d2 = a * b + (c + h)
print("slope dd/dc =", (d2 - d1) / h)   # = 1: c is simply added


# %% [markdown]
# The three partial slopes $(-3, 2, 1)$ together are the **gradient** of $d$. Note that we
# nudged one input at a time: that is what "partial" means.
#
# Automatic differentiation will give us such gradients exactly, for any number of inputs, in one
# sweep. Numerical slopes are slower and only approximate, but they are simple, and they will be
# our check on every derivative we compute later. So let us write them properly.
#
# ---
# ## Exercise 1: the forward difference
#
# Write `forward_difference(f, x, h)`: the slope of the secant from $x$ to $x + h$,
#
# $$\frac{f(x + h) - f(x)}{h}.$$
#
# Use the `f`, `x` and `h` you are given (any function, any point, any step).

# %% nbgrader={"grade": false, "grade_id": "forward_difference", "locked": false, "schema_version": 3, "solution": true}
def forward_difference(f, x, h):
    """Slope of the secant from x to x + h: (f(x + h) - f(x)) / h."""
    ### BEGIN SOLUTION
    return (f(x + h) - f(x)) / h
    ### END SOLUTION


# %%
print(forward_difference(f, 3.0, 0.001))   # about 14.003

# %% nbgrader={"grade": true, "grade_id": "test_forward_difference_value", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import numpy as np
from course.checks import report, misconception, diagnose

def parabola(t):
    return 3 * t**2 - 4 * t + 5


got = forward_difference(parabola, 3.0, 1e-3)
assert got is not None, report(
    "forward_difference(f, x=3.0, h=1e-3) returned None",
    hint=misconception("missing-return", "the function computes its value but never returns it: "
                       "end it with return ..."))
got = float(got)
expected = (parabola(3.0 + 1e-3) - parabola(3.0)) / 1e-3   # 14.003
assert abs(got - expected) <= 1e-9, report(
    "forward_difference(f, x=3.0, h=1e-3) with f(x) = 3x^2 - 4x + 5",
    expected=expected, got=got, tol=1e-9,
    hint=diagnose(got, [
        ("wrong-sign", -expected, "the sign is flipped: compute f(x + h) - f(x), the later value first"),
        ("divide-by-2h", expected / 2, "the forward difference divides by h, the distance between its two points, not by 2h"),
        ("ignores-h", 14.0, "this is the exact slope 14, not the secant's slope with the step h you were given: "
                            "compute (f(x + h) - f(x)) / h with that h (not a central difference, not a step of your own)"),
    ]))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(6):
    p = rng.uniform(-3, 3, size=4)
    def cubic(t, p=p):
        return ((p[0] * t + p[1]) * t + p[2]) * t + p[3]
    x0 = float(rng.uniform(-2, 2))
    step = float(10 ** rng.uniform(-4, -1))
    got = float(forward_difference(cubic, x0, step))
    expected = (cubic(x0 + step) - cubic(x0)) / step
    assert abs(got - expected) <= 1e-8 * (1 + abs(expected)), report(
        "forward_difference on a random cubic",
        inputs={"coefficients": p, "x": x0, "h": step}, expected=expected, got=got,
        tol=1e-8 * (1 + abs(expected)),
        hint=diagnose(got, [
            ("hard-coded", 14.003, "this is the answer of the visible test: compute the difference "
                                   "from the f, x and h you are given"),
            ("wrong-sign", -expected, "the sign is flipped: compute f(x + h) - f(x)"),
            ("divide-by-2h", expected / 2, "divide by h, not by 2h"),
        ]))
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2: the central difference
#
# The forward difference looks only to the right of $x$, so it leans towards whatever the curve
# does there: its error is about $h\,f''(x)/2$, proportional to $h$. Looking equally far to both
# sides cancels that term:
#
# $$\frac{f(x + h) - f(x - h)}{2h}.$$
#
# The two points are $2h$ apart. The error of this **central difference** is about
# $h^2 f'''(x)/6$: halve $h$ and the error drops four times.
#
# Write `central_difference(f, x, h)`.

# %% nbgrader={"grade": false, "grade_id": "central_difference", "locked": false, "schema_version": 3, "solution": true}
def central_difference(f, x, h):
    """Slope of the secant from x - h to x + h: (f(x + h) - f(x - h)) / (2h)."""
    ### BEGIN SOLUTION
    return (f(x + h) - f(x - h)) / (2 * h)
    ### END SOLUTION


# %%
print(central_difference(f, 3.0, 0.001))   # 14, up to rounding: exact for a parabola

# %% nbgrader={"grade": true, "grade_id": "test_central_difference_value", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import numpy as np
from course.checks import report, misconception, diagnose

def cube(t):
    return t**3


got = central_difference(cube, 1.0, 1e-2)
assert got is not None, report(
    "central_difference(t**3, x=1.0, h=1e-2) returned None",
    hint=misconception("missing-return", "the function computes its value but never returns it: "
                       "end it with return ..."))
got = float(got)
expected = (cube(1.0 + 1e-2) - cube(1.0 - 1e-2)) / 2e-2   # 3.0001
assert abs(got - expected) <= 1e-9, report(
    "central_difference(f, x=1.0, h=1e-2) with f(t) = t**3",
    expected=expected, got=got, tol=1e-9,
    hint=diagnose(got, [
        ("forward-difference", (cube(1.01) - cube(1.0)) / 1e-2,
         "this is (f(x+h) - f(x))/h, a forward difference; a central difference steps to both sides"),
        ("backward-difference", (cube(1.0) - cube(0.99)) / 1e-2,
         "this is (f(x) - f(x-h))/h, a one-sided difference; a central difference steps to both sides"),
        ("divide-by-h", 2 * expected, "the two points x - h and x + h are 2h apart: divide by 2h, not by h"),
        ("wrong-sign", -expected, "the sign is flipped: compute f(x + h) - f(x - h), the right-hand value first"),
    ]))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2027)
for _ in range(6):
    p = rng.uniform(-3, 3, size=4)
    def cubic(t, p=p):
        return ((p[0] * t + p[1]) * t + p[2]) * t + p[3]
    x0 = float(rng.uniform(-2, 2))
    step = float(10 ** rng.uniform(-4, -1))
    got = float(central_difference(cubic, x0, step))
    expected = (cubic(x0 + step) - cubic(x0 - step)) / (2 * step)
    assert abs(got - expected) <= 1e-8 * (1 + abs(expected)), report(
        "central_difference on a random cubic",
        inputs={"coefficients": p, "x": x0, "h": step}, expected=expected, got=got,
        tol=1e-8 * (1 + abs(expected)),
        hint=diagnose(got, [
            ("hard-coded", 3.0001, "this is the answer of the visible test: compute the difference "
                                   "from the f, x and h you are given"),
            ("forward-difference", (cubic(x0 + step) - cubic(x0)) / step,
             "this is (f(x+h) - f(x))/h, a forward difference; step to both sides"),
            ("divide-by-h", 2 * expected, "divide by 2h, not by h"),
            ("wrong-sign", -expected, "the sign is flipped: compute f(x + h) - f(x - h)"),
        ]))
### END HIDDEN TESTS

# %% [markdown]
# The value is right; now the property that makes the central difference worth having. For
# $f(t) = t^3$ at $t = 1$ (exact slope 3), the test measures the error at $h = 10^{-1}, 10^{-2},
# 10^{-3}$: each tenth of $h$ must cut the error about a hundred times (order 2), where a forward
# difference only manages ten times (order 1).

# %% nbgrader={"grade": true, "grade_id": "test_central_difference_order", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import numpy as np
from course.checks import report, misconception, diagnose

steps = np.array([1e-1, 1e-2, 1e-3])
errors = np.array([abs(float(central_difference(lambda t: t**3, 1.0, s)) - 3.0) for s in steps])
order = float(np.polyfit(np.log10(steps), np.log10(np.maximum(errors, 1e-300)), 1)[0])
assert 1.8 <= order <= 2.2, report(
    "the error of central_difference(t**3, x=1.0, h) shrinks like h^2 (slope 2 on a log-log plot)",
    inputs={"h": steps, "errors": errors}, expected="an order between 1.8 and 2.2", got=order,
    hint=diagnose(order, [
        ("forward-difference", 1.0, "the error shrinks like h, not h^2: this behaves like (f(x+h) - f(x))/h, "
                                    "a forward difference; a central difference steps to both sides"),
        ("error-does-not-shrink", 0.0, "the error does not shrink as h does: use the h you are given, "
                                       "divide by 2h, and compute from f (no fixed numbers)"),
    ], atol=0.25, rtol=0))


# %% [markdown]
# ## Exercise 3: the numerical gradient
#
# Now several inputs. `numerical_gradient(f, inputs, h)` gets a function `f` of several numbers
# and a list `inputs` of where to evaluate it, `f(*inputs)`. It returns the list of partial slopes,
# one per input: for each input $i$, nudge **only** input $i$ up by $h$ and down by $h$ and take
# the central difference,
#
# $$\frac{\partial f}{\partial x_i} \approx \frac{f(\dots, x_i + h, \dots) - f(\dots, x_i - h, \dots)}{2h}.$$
#
# Do not change the caller's list: work on copies (`list(inputs)`).

# %% nbgrader={"grade": false, "grade_id": "numerical_gradient", "locked": false, "schema_version": 3, "solution": true}
def numerical_gradient(f, inputs, h=1e-5):
    """Partial slopes of f(*inputs), one per input, by central differences.

    Nudges one input at a time and leaves the list `inputs` unchanged.
    """
    ### BEGIN SOLUTION
    grad = []
    for i in range(len(inputs)):
        up = list(inputs)
        down = list(inputs)
        up[i] = up[i] + h
        down[i] = down[i] - h
        grad.append((f(*up) - f(*down)) / (2 * h))
    return grad
    ### END SOLUTION


# %%
def d_of(a, b, c):
    return a * b + c


print(numerical_gradient(d_of, [2.0, -3.0, 10.0]))   # about [-3, 2, 1]

# %% nbgrader={"grade": true, "grade_id": "test_numerical_gradient_shape", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import numpy as np
from course.checks import report, misconception, diagnose

def d_of_abc(a, b, c):
    return a * b + c


result = numerical_gradient(d_of_abc, [2.0, -3.0, 10.0])
assert result is not None, report(
    "numerical_gradient(d, [2.0, -3.0, 10.0]) returned None",
    hint=misconception("missing-return", "the function builds the gradient but never returns it: "
                       "end it with return ..."))
got = np.asarray(result, dtype=float)
assert got.shape == (3,), report(
    "numerical_gradient(d, [2.0, -3.0, 10.0]) gives one number per input",
    expected="3 numbers", got=got,
    hint="return a flat list (or 1-d array) with one partial slope per input")

# %% nbgrader={"grade": true, "grade_id": "test_numerical_gradient_value", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import numpy as np
from course.checks import report, misconception, diagnose

def d_of_abc(a, b, c):
    return a * b + c


got = np.asarray(numerical_gradient(d_of_abc, [2.0, -3.0, 10.0]), dtype=float)
expected = np.array([-3.0, 2.0, 1.0])   # (b, a, 1)
assert got.shape == expected.shape and np.all(np.abs(got - expected) <= 1e-6), report(
    "numerical_gradient(d, [a, b, c] = [2.0, -3.0, 10.0]) with d = a*b + c",
    expected=expected, got=got, tol=1e-6,
    hint=diagnose(got, [
        ("nudge-all-at-once", np.full(3, expected.sum()),
         "every entry is the same: you nudged all inputs together; nudge input i only, keep the others as they are"),
        ("wrong-sign", -expected, "the signs are flipped: compute f(..., x_i + h, ...) - f(..., x_i - h, ...)"),
        ("divide-by-h", 2 * expected, "the two points are 2h apart: divide by 2h"),
    ], atol=1e-5))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2028)
_gradient_cases = []
for _ in range(3):
    p = rng.uniform(0.5, 2.0, size=3) * rng.choice([-1.0, 1.0], size=3)
    _gradient_cases += [
        (lambda a, b, c, p=p: p[0] * a * b + p[1] * c * c * a,
         lambda a, b, c, p=p: [p[0] * b + p[1] * c * c, p[0] * a, 2 * p[1] * c * a],
         list(rng.uniform(-2, 2, size=3))),
        (lambda x, y, z, w, p=p: x * y * z * w + p[0] * x**2 - p[1] * w / y,
         lambda x, y, z, w, p=p: [y * z * w + 2 * p[0] * x, x * z * w + p[1] * w / y**2,
                                  x * y * w, x * y * z - p[1] / y],
         list(rng.uniform(0.5, 2, size=4) * rng.choice([-1.0, 1.0], size=4))),
        (lambda u, p=p: p[2] * u**3,
         lambda u, p=p: [3 * p[2] * u**2],
         list(rng.uniform(-2, 2, size=1))),
        (lambda x, y: (x - y)**2 / (1 + x * x),
         lambda x, y: [2 * (x - y) / (1 + x * x) - (x - y)**2 * 2 * x / (1 + x * x)**2,
                       -2 * (x - y) / (1 + x * x)],
         list(rng.uniform(-2, 2, size=2))),
    ]
for fn, grad_fn, point in _gradient_cases:
    got = np.asarray(numerical_gradient(fn, list(point)), dtype=float)
    expected = np.asarray(grad_fn(*point), dtype=float)
    tol = 1e-6 * (1 + np.abs(expected))
    assert got.shape == expected.shape and np.all(np.abs(got - expected) <= tol), report(
        f"numerical_gradient of a random function of {len(point)} inputs",
        inputs={"point": np.asarray(point)}, expected=expected, got=got, tol="1e-6 (1 + |expected|)",
        hint=diagnose(got, [
            ("hard-coded", [-3.0, 2.0, 1.0], "this is the answer of the visible test: compute the "
                                             "slopes from the f and inputs you are given"),
            ("nudge-all-at-once", np.full(expected.shape, expected.sum()),
             "every entry is the same: you nudged all inputs together; nudge input i only"),
        ], atol=1e-5, rtol=1e-5))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_numerical_gradient_leaves_inputs_alone", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import numpy as np
from course.checks import report, misconception, diagnose

original = np.array([2.0, -3.0, 10.0])
point = [2.0, -3.0, 10.0]
seen = []


def d_watching(a, b, c):
    seen.append(np.asarray(point, dtype=float).copy())   # the caller's list while f is evaluated
    return a * b + c


numerical_gradient(d_watching, point)
after = np.asarray(point, dtype=float)
changed = sum(1 for s in seen + [after] if s.shape != original.shape or np.any(s != original))
assert changed == 0, report(
    "numerical_gradient(d, point) leaves the caller's list point = [2.0, -3.0, 10.0] alone, "
    "during the call and after it",
    expected=original, got=after, inputs={"times the list was seen changed": changed},
    hint=misconception("mutates-input",
                       "your function nudges the caller's own list (and even adding h and subtracting it "
                       "again can leave rounding behind): nudge a copy, up = list(inputs)"))

# %% [markdown]
# ## Exercise 4: how small should h be?
#
# Theory says: make $h$ small and the error shrinks, like $h$ (forward) or $h^2$ (central). That
# is the **truncation error**: what we cut off by using a straight line instead of the curve.
#
# But a computer stores numbers with about 16 significant digits. The smallest relative gap
# between two floats is the **machine epsilon**, $\varepsilon \approx 2.2 \times 10^{-16}$. When
# $h$ is tiny, $f(x + h)$ and $f(x)$ agree in almost all their digits, their difference is mostly
# rounding noise of size about $\varepsilon |f(x)|$, and dividing by $h$ blows that noise up:
# the **round-off error** is about $\varepsilon |f(x)| / h$, growing as $h$ shrinks.
#
# The total error is the sum of both, so there is a best $h$ in between:
#
# | difference | truncation | round-off | best $h$ (where they balance) |
# |---|---|---|---|
# | forward | $h\,\lvert f''\rvert / 2$ | $\varepsilon \lvert f \rvert / h$ | about $\sqrt{2\varepsilon} \approx 2 \times 10^{-8}$ |
# | central | $h^2 \lvert f'''\rvert / 6$ | $\varepsilon \lvert f \rvert / h$ | about $\varepsilon^{1/3} \approx 6 \times 10^{-6}$ |
#
# Let us see it. We use $f = \sin$ at $x = 1$, whose exact slope is $\cos(1)$, and steps from
# $10^{-1}$ down to $10^{-15}$:

# %%
hs = np.logspace(-1, -15, 57)   # 0.1 down to 1e-15, four steps per decade
eps = np.finfo(float).eps
print("machine epsilon:", eps)
print("first steps:", hs[:5])


# %% [markdown]
# Write `difference_errors(f, df, x, hs)`: for every step in `hs`, the **absolute** error of your
# forward and your central difference at `x` against the exact slope `df(x)`. Return two numpy
# arrays, `(forward_errors, central_errors)`, each as long as `hs`.

# %% nbgrader={"grade": false, "grade_id": "difference_errors", "locked": false, "schema_version": 3, "solution": true}
def difference_errors(f, df, x, hs):
    """Absolute errors |difference - df(x)| of both differences at x, for every h in hs.

    Returns (forward_errors, central_errors), two numpy arrays as long as hs.
    """
    ### BEGIN SOLUTION
    exact = df(x)
    forward_errors = np.array([abs(forward_difference(f, x, h) - exact) for h in hs])
    central_errors = np.array([abs(central_difference(f, x, h) - exact) for h in hs])
    return forward_errors, central_errors
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_difference_errors_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import numpy as np
from course.checks import report, misconception, diagnose, worst

import math

steps = np.logspace(-1, -15, 57)
result = difference_errors(math.sin, math.cos, 1.0, steps)
assert result is not None, report(
    "difference_errors(sin, cos, 1.0, hs) returned None",
    hint=misconception("missing-return", "the function computes the errors but never returns them: "
                       "end it with return forward_errors, central_errors"))
got = np.asarray(result[0], dtype=float)
approx = np.array([(math.sin(1.0 + s) - math.sin(1.0)) / s for s in steps])
expected = np.abs(approx - math.cos(1.0))
# equivalent formulas may round differently: allow a few ulps of f, magnified by 1/h
tol = 1e-6 * expected + 8 * np.finfo(float).eps / steps
assert got.shape == expected.shape and np.all(np.abs(got - expected) <= tol), report(
    "forward errors of difference_errors(sin, cos, x=1.0, hs), hs = 1e-1 ... 1e-15",
    expected=expected, got=got, tol="1e-6 |expected| + 8 eps / h",
    hint=[worst(got, expected)] + diagnose(got, [
        ("signed-error", approx - math.cos(1.0),
         "some errors are negative: an error is a distance, take abs(difference - df(x))"),
    ], atol=0, rtol=1e-6))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2029)
_quartic_cases_forward = []
for _ in range(3):
    p = rng.uniform(-2, 2, size=5)
    def quartic(t, p=p):
        return (((p[0] * t + p[1]) * t + p[2]) * t + p[3]) * t + p[4]
    def quartic_slope(t, p=p):
        return ((4 * p[0] * t + 3 * p[1]) * t + 2 * p[2]) * t + p[3]
    x0 = float(rng.uniform(-1.5, 1.5))
    _quartic_cases_forward.append((quartic, quartic_slope, x0))
    few = np.logspace(-1, -6, 11)
    got = np.asarray(difference_errors(quartic, quartic_slope, x0, few)[0], dtype=float)
    approx = np.array([(quartic(x0 + s) - quartic(x0)) / s for s in few])
    expected = np.abs(approx - quartic_slope(x0))
    tol = 1e-6 * expected + 64 * np.finfo(float).eps * (1 + abs(quartic(x0))) / few
    assert got.shape == expected.shape and np.all(np.abs(got - expected) <= tol), report(
        "forward errors of difference_errors on a random quartic",
        inputs={"coefficients": p, "x": x0, "hs": few}, expected=expected, got=got,
        tol="1e-6 |expected| + 64 eps (1 + |f(x)|) / h",
        hint=[worst(got, expected)] + diagnose(got, [
            ("signed-error", approx - quartic_slope(x0), "take abs(difference - df(x))"),
        ], atol=0, rtol=1e-6))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_difference_errors_central", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import numpy as np
from course.checks import report, misconception, diagnose, worst

import math

steps = np.logspace(-1, -15, 57)
result = difference_errors(math.sin, math.cos, 1.0, steps)
assert result is not None, report(
    "difference_errors(sin, cos, 1.0, hs) returned None",
    hint=misconception("missing-return", "the function computes the errors but never returns them: "
                       "end it with return forward_errors, central_errors"))
got = np.asarray(result[1], dtype=float)
approx = np.array([(math.sin(1.0 + s) - math.sin(1.0 - s)) / (2 * s) for s in steps])
expected = np.abs(approx - math.cos(1.0))
# equivalent formulas may round differently: allow a few ulps of f, magnified by 1/h
tol = 1e-6 * expected + 8 * np.finfo(float).eps / steps
assert got.shape == expected.shape and np.all(np.abs(got - expected) <= tol), report(
    "central errors of difference_errors(sin, cos, x=1.0, hs), hs = 1e-1 ... 1e-15",
    expected=expected, got=got, tol="1e-6 |expected| + 8 eps / h",
    hint=[worst(got, expected)] + diagnose(got, [
        ("signed-error", approx - math.cos(1.0),
         "some errors are negative: an error is a distance, take abs(difference - df(x))"),
        ("forward-difference", np.abs(np.array([(math.sin(1.0 + s) - math.sin(1.0)) / s for s in steps]) - math.cos(1.0)),
         "these are the errors of a forward difference (they shrink like h, not h^2): "
         "use central_difference for the central errors"),
    ], atol=0, rtol=1e-6))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2030)
_quartic_cases_central = []
for _ in range(3):
    p = rng.uniform(-2, 2, size=5)
    def quartic(t, p=p):
        return (((p[0] * t + p[1]) * t + p[2]) * t + p[3]) * t + p[4]
    def quartic_slope(t, p=p):
        return ((4 * p[0] * t + 3 * p[1]) * t + 2 * p[2]) * t + p[3]
    x0 = float(rng.uniform(-1.5, 1.5))
    _quartic_cases_central.append((quartic, quartic_slope, x0))
    few = np.logspace(-1, -6, 11)
    got = np.asarray(difference_errors(quartic, quartic_slope, x0, few)[1], dtype=float)
    approx = np.array([(quartic(x0 + s) - quartic(x0 - s)) / (2 * s) for s in few])
    expected = np.abs(approx - quartic_slope(x0))
    tol = 1e-6 * expected + 64 * np.finfo(float).eps * (1 + abs(quartic(x0))) / few
    assert got.shape == expected.shape and np.all(np.abs(got - expected) <= tol), report(
        "central errors of difference_errors on a random quartic",
        inputs={"coefficients": p, "x": x0, "hs": few}, expected=expected, got=got,
        tol="1e-6 |expected| + 64 eps (1 + |f(x)|) / h",
        hint=[worst(got, expected)] + diagnose(got, [
            ("signed-error", approx - quartic_slope(x0), "take abs(difference - df(x))"),
        ], atol=0, rtol=1e-6))
### END HIDDEN TESTS

# %% [markdown]
# Now compute both error arrays for $\sin$ at $x = 1$ and plot them. On a log-log plot a power
# law $h^k$ is a straight line of slope $k$. The dotted guides have
# slopes 1 and 2 (truncation) and $-1$ (round-off, $\varepsilon / h$).

# %% tags=["slow"]
forward_errors, central_errors = difference_errors(np.sin, np.cos, 1.0, hs)

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.loglog(hs, forward_errors, "o-", ms=3, label="forward difference")
ax.loglog(hs, central_errors, "s-", ms=3, label="central difference")
ax.loglog(hs, 0.5 * math.sin(1) * hs, "k:", lw=1, label="h |f''|/2  (slope 1)")
ax.loglog(hs, math.cos(1) / 6 * hs**2, "k--", lw=1, label="h² |f'''|/6  (slope 2)")
ax.loglog(hs, eps * math.sin(1) / hs, "k-.", lw=1, label="ε |f| / h  (round-off)")
ax.axvline(math.sqrt(2 * eps), color="tab:blue", alpha=0.3)
ax.axvline(eps ** (1 / 3), color="tab:orange", alpha=0.3)
ax.set_ylim(1e-14, 1)
ax.set_xlabel("step h")
ax.set_ylabel("|error|")
ax.set_title("Error of numerical slopes of sin at x = 1")
ax.legend(loc="lower left", fontsize=8)
ax.grid(alpha=0.3, which="both")
plt.show()


# %% [markdown]
# Read the plot from right to left. At large $h$ both errors follow their straight guides: slope
# 1 for the forward difference, slope 2 for the central one. Then, near the vertical lines at
# $\sqrt{2\varepsilon}$ and $\varepsilon^{1/3}$, round-off takes over, and the error climbs
# again, noisily, along the $\varepsilon/h$ guide. At $h = 10^{-15}$ the estimate has hardly one
# correct digit left.
#
# So "the smaller $h$, the better" is wrong. Write `best_step(hs, errors)`: the step in `hs` whose
# error is smallest (`np.argmin` finds where that is). Return the step itself, a float, not its
# position and not the error.

# %% nbgrader={"grade": false, "grade_id": "best_step", "locked": false, "schema_version": 3, "solution": true}
def best_step(hs, errors):
    """The step h in hs with the smallest error (errors[i] belongs to hs[i])."""
    ### BEGIN SOLUTION
    return float(hs[np.argmin(errors)])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_best_step_value", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import numpy as np
from course.checks import report, misconception, diagnose

steps = np.array([1e-1, 1e-2, 1e-3, 1e-4, 1e-5])
errs = np.array([1e-1, 1e-3, 1e-6, 1e-4, 1e-2])
got = best_step(steps, errs)
assert got is not None, report(
    "best_step(hs, errors) returned None",
    hint=misconception("missing-return", "the function finds the step but never returns it: end it with return ..."))
got = float(got)
assert got == 1e-3, report(
    "best_step(hs, errors) with hs = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5], errors = [1e-1, 1e-3, 1e-6, 1e-4, 1e-2]",
    expected=1e-3, got=got,
    hint=diagnose(got, [
        ("smallest-h-is-best", 1e-5, "this is simply the smallest step; below a point a smaller h makes the "
                                     "error larger (round-off): pick the step whose error is smallest"),
        ("largest-error", 1e-1, "this is the step with the largest error: use np.argmin, not np.argmax"),
        ("returned-error", 1e-6, "this is the smallest error itself: return the step hs[i] where it occurs"),
        ("returned-index", 2.0, "this is the position of the best step: return hs[i], not i"),
    ], rtol=1e-12, atol=0))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2031)
for _ in range(5):
    steps = np.logspace(-1, -15, 29)
    best = float(10 ** rng.uniform(-11, -3))
    errs = (steps / best + best / steps) * float(10 ** rng.uniform(-12, -6)) * rng.uniform(1, 1.3, size=steps.size)
    expected = float(steps[np.argmin(errs)])
    got = float(best_step(steps, errs))
    assert got == expected, report(
        "best_step on a random V-shaped error curve", inputs={"hs": steps, "errors": errs},
        expected=expected, got=got,
        hint=diagnose(got, [
            ("hard-coded", 1e-3, "this is the answer of the visible test: compute it from hs and errors"),
            ("smallest-h-is-best", float(steps.min()), "this is simply the smallest step: pick the one "
                                                       "whose error is smallest"),
        ], rtol=1e-12, atol=0))
### END HIDDEN TESTS

# %% [markdown]
# Your best steps for $\sin$ at $x = 1$, next to the rules of thumb:

# %%
forward_errors, central_errors = difference_errors(np.sin, np.cos, 1.0, hs)
best_h_forward = best_step(hs, forward_errors)
best_h_central = best_step(hs, central_errors)
print("best h, forward difference:", best_h_forward, "   sqrt(2 eps) =", math.sqrt(2 * eps))
print("best h, central difference:", best_h_central, "   eps^(1/3)   =", eps ** (1 / 3))

# %% [markdown]
# The last two tests check that your whole pipeline, `difference_errors` and then `best_step`,
# lands near the step where theory says truncation and round-off balance.

# %% nbgrader={"grade": true, "grade_id": "test_best_h_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import numpy as np
from course.checks import report, misconception, diagnose

import math

steps = np.logspace(-1, -15, 57)
errors = np.asarray(difference_errors(math.sin, math.cos, 1.0, steps)[0], dtype=float)
chosen = float(best_step(steps, errors))
eps = np.finfo(float).eps
# where truncation h |f''| / 2 and round-off eps |f| / h balance, for f = sin at x = 1
theory = math.sqrt(2 * eps * math.sin(1) / math.sin(1))
low, high = theory / 30, theory * 30
hints = []
if chosen < low:
    hints.append(misconception("h-too-small", "at this step round-off dominates: f(x + h) and f(x) "
                               "share almost all their digits, and dividing their difference by a tiny h "
                               "magnifies the rounding noise (about eps |f| / h). The forward difference does best near sqrt(2 eps), about 2e-8."))
if chosen > high:
    hints.append(misconception("h-too-large", "at this step truncation dominates: the secant is "
                               "still far from the tangent. Pick the step at the bottom of the error curve."))
assert low <= chosen <= high, report(
    "best_step(hs, forward_errors) for sin at x = 1 is near the step where truncation and round-off "
    "balance, sqrt(2 eps |f| / |f''|) = 2.1e-8 (within a factor of 30)",
    expected=f"between {low:.2g} and {high:.2g}", got=chosen, hint=hints)

# %% nbgrader={"grade": true, "grade_id": "test_best_h_central", "locked": true, "points": 1, "schema_version": 3, "solution": false}
import numpy as np
from course.checks import report, misconception, diagnose

import math

steps = np.logspace(-1, -15, 57)
errors = np.asarray(difference_errors(math.sin, math.cos, 1.0, steps)[1], dtype=float)
chosen = float(best_step(steps, errors))
eps = np.finfo(float).eps
# where truncation h^2 |f'''| / 6 and round-off eps |f| / h balance, for f = sin at x = 1
theory = (3 * eps * math.sin(1) / math.cos(1)) ** (1 / 3)
low, high = theory / 30, theory * 30
hints = []
if chosen < low:
    hints.append(misconception("h-too-small", "at this step round-off dominates: f(x + h) and f(x) "
                               "share almost all their digits, and dividing their difference by a tiny h "
                               "magnifies the rounding noise (about eps |f| / h). The central difference does best near eps^(1/3), about 6e-6: a larger step than the forward difference's, because its truncation error shrinks faster."))
if chosen > high:
    hints.append(misconception("h-too-large", "at this step truncation dominates: the secant is "
                               "still far from the tangent. Pick the step at the bottom of the error curve."))
assert low <= chosen <= high, report(
    "best_step(hs, central_errors) for sin at x = 1 is near the step where truncation and round-off "
    "balance, (3 eps |f| / |f'''|)^(1/3) = 1.0e-5 (within a factor of 30)",
    expected=f"between {low:.2g} and {high:.2g}", got=chosen, hint=hints)

# %% [markdown]
# ## What you have
#
# * A derivative is the slope of the output against a nudge of the input; for several inputs,
#   one partial slope per input, nudging one at a time: the gradient.
# * The **forward difference** $\frac{f(x+h)-f(x)}{h}$ has error $\propto h$; the **central
#   difference** $\frac{f(x+h)-f(x-h)}{2h}$ has error $\propto h^2$.
# * Smaller is not always better: below $h \approx \varepsilon^{1/3} \approx 6\times10^{-6}$
#   (central) round-off wins. Even at the best $h$, a numerical slope has only about 10 correct
#   digits, and a gradient of $n$ inputs costs $2n$ evaluations of $f$.
#
# That last point is why we want automatic differentiation: exact to the last digit, and a whole
# gradient for the price of about one extra evaluation. From now on the course checks every
# derivative you compute against a central difference; the course's own version of these tools is
# `course.numeric` (`forward_difference`, `central_difference`, `gradient`).
#
# **Next: 02 · The chain rule**, where we compute the slopes of `d = a*b + c` exactly, by hand,
# one operation at a time.
