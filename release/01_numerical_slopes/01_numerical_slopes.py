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
from course.checks.numerical_slopes import check_forward_difference
check_forward_difference(forward_difference)
### BEGIN HIDDEN TESTS
from course_hidden.numerical_slopes import check_forward_difference_random
check_forward_difference_random(forward_difference)
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
from course.checks.numerical_slopes import check_central_difference
check_central_difference(central_difference)
### BEGIN HIDDEN TESTS
from course_hidden.numerical_slopes import check_central_difference_random
check_central_difference_random(central_difference)
### END HIDDEN TESTS

# %% [markdown]
# The value is right; now the property that makes the central difference worth having. For
# $f(t) = t^3$ at $t = 1$ (exact slope 3), the test measures the error at $h = 10^{-1}, 10^{-2},
# 10^{-3}$: each tenth of $h$ must cut the error about a hundred times (order 2), where a forward
# difference only manages ten times (order 1).

# %% nbgrader={"grade": true, "grade_id": "test_central_difference_order", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.numerical_slopes import check_central_difference_order
check_central_difference_order(central_difference)


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
from course.checks.numerical_slopes import check_numerical_gradient_shape
check_numerical_gradient_shape(numerical_gradient)

# %% nbgrader={"grade": true, "grade_id": "test_numerical_gradient_value", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.numerical_slopes import check_numerical_gradient_value
check_numerical_gradient_value(numerical_gradient)
### BEGIN HIDDEN TESTS
from course_hidden.numerical_slopes import check_numerical_gradient_random
check_numerical_gradient_random(numerical_gradient)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_numerical_gradient_leaves_inputs_alone", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.numerical_slopes import check_numerical_gradient_leaves_inputs_alone
check_numerical_gradient_leaves_inputs_alone(numerical_gradient)

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
# The total error is the sum of both, so there is a best $h$ in between: the step where the sum
# is smallest (set its derivative in $h$ to zero). For $f = \sin$ at $x = 1$, $|f| = |f''| = \sin 1$
# and $|f'''| = \cos 1$:
#
# | difference | truncation | round-off | best $h$ (the sum is smallest) | for $\sin$ at 1 |
# |---|---|---|---|---|
# | forward | $h\,\lvert f''\rvert / 2$ | $\varepsilon \lvert f \rvert / h$ | $\sqrt{2\varepsilon \lvert f\rvert / \lvert f''\rvert}$ | $\approx 2.1 \times 10^{-8}$ |
# | central | $h^2 \lvert f'''\rvert / 6$ | $\varepsilon \lvert f \rvert / h$ | $(3\varepsilon \lvert f\rvert / \lvert f'''\rvert)^{1/3}$ | $\approx 1.0 \times 10^{-5}$ |
#
# The constants matter little (a cube root of 3 is 1.4) but they are there: the rule of thumb
# $\varepsilon^{1/3} \approx 6 \times 10^{-6}$ drops them.
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
from course.checks.numerical_slopes import check_difference_errors_forward
check_difference_errors_forward(difference_errors)
### BEGIN HIDDEN TESTS
from course_hidden.numerical_slopes import check_difference_errors_forward_random
check_difference_errors_forward_random(difference_errors)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_difference_errors_central", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.numerical_slopes import check_difference_errors_central
check_difference_errors_central(difference_errors)
### BEGIN HIDDEN TESTS
from course_hidden.numerical_slopes import check_difference_errors_central_random
check_difference_errors_central_random(difference_errors)
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
ax.axvline(math.sqrt(2 * eps * math.sin(1) / math.sin(1)), color="tab:blue", alpha=0.3)
ax.axvline((3 * eps * math.sin(1) / math.cos(1)) ** (1 / 3), color="tab:orange", alpha=0.3)
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
# the best steps of the table, $2.1 \times 10^{-8}$ and $1.0 \times 10^{-5}$, round-off takes over, and the error climbs
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
from course.checks.numerical_slopes import check_best_step
check_best_step(best_step)
### BEGIN HIDDEN TESTS
from course_hidden.numerical_slopes import check_best_step_random
check_best_step_random(best_step)
### END HIDDEN TESTS

# %% [markdown]
# Your best steps for $\sin$ at $x = 1$, next to the rules of thumb:

# %%
forward_errors, central_errors = difference_errors(np.sin, np.cos, 1.0, hs)
best_h_forward = best_step(hs, forward_errors)
best_h_central = best_step(hs, central_errors)
print("best h, forward difference:", best_h_forward, "   sqrt(2 eps |f|/|f''|)      =",
      math.sqrt(2 * eps * math.sin(1) / math.sin(1)))
print("best h, central difference:", best_h_central, "   (3 eps |f|/|f'''|)^(1/3) =",
      (3 * eps * math.sin(1) / math.cos(1)) ** (1 / 3))

# %% [markdown]
# The last two tests check that your whole pipeline, `difference_errors` and then `best_step`,
# lands near the step where theory says the total error is smallest (within a factor of 30).

# %% nbgrader={"grade": true, "grade_id": "test_best_h_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.numerical_slopes import check_best_h_forward
check_best_h_forward(difference_errors, best_step)

# %% nbgrader={"grade": true, "grade_id": "test_best_h_central", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.numerical_slopes import check_best_h_central
check_best_h_central(difference_errors, best_step)

# %% [markdown]
# ## What you have
#
# * A derivative is the slope of the output against a nudge of the input; for several inputs,
#   one partial slope per input, nudging one at a time: the gradient.
# * The **forward difference** $\frac{f(x+h)-f(x)}{h}$ has error $\propto h$; the **central
#   difference** $\frac{f(x+h)-f(x-h)}{2h}$ has error $\propto h^2$.
# * Smaller is not always better: below $h \approx (3\varepsilon|f|/|f'''|)^{1/3}$, about $10^{-5}$
#   for the central difference of $\sin$ at 1, round-off wins. Even at the best $h$, a numerical slope has only about 10 correct
#   digits, and a gradient of $n$ inputs costs $2n$ evaluations of $f$.
#
# That last point is why we want automatic differentiation: exact to the last digit, and a whole
# gradient, however many inputs, for a small constant multiple of the cost of one evaluation of
# $f$: reverse mode costs at most about 4 times one evaluation (Griewank and Walther's bound on
# the operation count; 2 to 3 times is typical), where numerical slopes cost $2n$ evaluations. From now on the course checks every
# derivative you compute against a central difference; the course's own version of these tools is
# `course.numeric` (`forward_difference`, `central_difference`, `gradient`).
#
# **Next: 02 · The chain rule**, where we compute the slopes of `d = a*b + c` exactly, by hand,
# one operation at a time.
