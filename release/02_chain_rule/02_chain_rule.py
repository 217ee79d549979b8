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
# # 02 · The chain rule by hand
#
# In notebook 01 you measured slopes numerically: nudge an input by $h$, watch the output move.
# That works, but it costs two evaluations **per input** and is accurate to ten digits at
# best. Automatic differentiation gets exact derivatives of any program in one backward
# sweep. Before we let an engine do it (notebook 03), we do it by hand, once, slowly:
#
# 1. break an expression into **intermediate variables**, one elementary operation each,
#    and draw its **computational graph**;
# 2. **evaluate** the graph from the inputs forward (the *evaluation trace*);
# 3. send gradients **backward** through the graph with the chain rule, one node at a time;
# 4. check every hand-made gradient against the numerical slopes of notebook 01.
#
# Every exercise is a function. Its visible tests use the numbers in the text; hidden tests call
# it again on random inputs, so write the general formula, not the numbers.

# %%
import math

import numpy as np

import course
from course.diagrams import Step, draw, local_table
from course.numeric import central_difference, gradient
from course.rules import RULES
from IPython.display import Markdown, display

# %% [markdown]
# ## 1. Intermediate variables and the computational graph
#
# Take
#
# $$f(x_0, x_1) = \frac{x_0^2}{x_1}\cos(x_0) + e^{x_0 / x_1}.$$
#
# A computer never evaluates this "all at once": it runs one elementary operation after another,
# each storing its result in an intermediate variable. Written out, one operation per line:
#
# | variable | operation |
# |---|---|
# | $v_0 = x_0^2$ | square |
# | $v_1 = v_0 / x_1$ | divide |
# | $v_2 = \cos(x_0)$ | cosine |
# | $v_3 = v_1 \cdot v_2$ | multiply |
# | $v_4 = x_0 / x_1$ | divide |
# | $v_5 = e^{v_4}$ | exponential |
# | $v_6 = v_3 + v_5$ | add: $f = v_6$ |
#
# Seven elementary operations, so seven intermediate variables $v_0 \dots v_6$. Notice that
# $x_0$ is used **three** times ($v_0$, $v_2$, $v_4$) and $x_1$ twice: remember that for later.
#
# The same list as data: each `Step` names its variable, its operation (a key of the course's
# rule table, `course.rules.RULES`) and its inputs.

# %%
F_STEPS = [
    Step("v0", "pow", ("x0",), {"k": 2}, local=("2*x0",)),
    Step("v1", "div", ("v0", "x1"), local=("1/x1", "-v0/x1**2")),
    Step("v2", "cos", ("x0",), local=("-sin(x0)",)),
    Step("v3", "mul", ("v1", "v2"), local=("v2", "v1")),
    Step("v4", "div", ("x0", "x1"), local=("1/x1", "-x0/x1**2")),
    Step("v5", "exp", ("v4",), local=("exp(v4)",)),
    Step("v6", "add", ("v3", "v5"), local=("1", "1")),
]
draw(F_STEPS, title="f(x0, x1) = (x0^2 / x1) cos(x0) + exp(x0 / x1)")

# %% [markdown]
# Read the picture from left to right: the blue boxes are the inputs, each circle is one
# operation, each white box the variable it produces. An input used three times has three
# arrows leaving it.
#
# Each operation also knows its **local derivatives**: how its output moves when one of its
# inputs moves, the others held still. They come from a handful of rules, kept in one table
# (`course.rules`) that the whole course uses. Here are the rules, and what they say for each
# step of $f$:

# %%
display(Markdown(local_table(F_STEPS)))


# %% [markdown]
# ### Exercise 1: the evaluation trace
#
# Write `evaluation_trace(x0, x1)`: compute $v_0, \dots, v_6$ in order, **one operation per
# line**, each from the variables before it, and return them in a dict
# `{"v0": ..., ..., "v6": ...}`. Use `math.cos` and `math.exp`.
#
# At $x_0 = 1.5$, $x_1 = 0.5$ you should find $v_0 = 2.25$, $v_4 = 3$ and $f = v_6 \approx 20.4039$.

# %% nbgrader={"grade": false, "grade_id": "evaluation_trace", "locked": false, "schema_version": 3, "solution": true}
def evaluation_trace(x0, x1):
    '''The intermediate variables v0 ... v6 of f(x0, x1), as a dict of floats.'''
    ### BEGIN SOLUTION
    v0 = x0 ** 2
    v1 = v0 / x1
    v2 = math.cos(x0)
    v3 = v1 * v2
    v4 = x0 / x1
    v5 = math.exp(v4)
    v6 = v3 + v5
    return {"v0": v0, "v1": v1, "v2": v2, "v3": v3, "v4": v4, "v5": v5, "v6": v6}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_evaluation_trace_steps", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

x0, x1 = 1.5, 0.5
trace = evaluation_trace(x0, x1)
names = ["v0", "v1", "v2", "v3", "v4", "v5", "v6"]
missing = [k for k in names if k not in trace]
assert not missing, report("evaluation_trace(1.5, 0.5) returns a dict with keys v0 ... v6",
                           got=sorted(trace), hint=f"missing: {missing}")
want = {"v0": x0 ** 2, "v2": math.cos(x0), "v4": x0 / x1}
want["v1"] = want["v0"] / x1
want["v3"] = want["v1"] * want["v2"]
want["v5"] = math.exp(want["v4"])
want["v6"] = want["v3"] + want["v5"]
for k in names:
    got = float(trace[k])
    assert abs(got - want[k]) <= 1e-12 * (1 + abs(want[k])), report(
        f"evaluation_trace(1.5, 0.5)['{k}']", expected=want[k], got=got, tol=1e-12,
        hint="compute the variables in the order of the table, each from the ones before it")

# %% nbgrader={"grade": true, "grade_id": "test_evaluation_trace_output_is_f", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception


def f_of(x0, x1):
    return x0 ** 2 / x1 * math.cos(x0) + math.exp(x0 / x1)


got = float(evaluation_trace(1.5, 0.5)["v6"])
assert abs(got - f_of(1.5, 0.5)) <= 1e-12 * (1 + abs(f_of(1.5, 0.5))), report(
    "evaluation_trace(1.5, 0.5)['v6'] equals f(1.5, 0.5)", expected=f_of(1.5, 0.5), got=got, tol=1e-12)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(5):
    x0, x1 = float(rng.uniform(-2, 2)), float(rng.choice([-1, 1]) * rng.uniform(0.5, 2))
    got = float(evaluation_trace(x0, x1)["v6"])
    want = f_of(x0, x1)
    hint = None
    if abs(got - f_of(1.5, 0.5)) <= 1e-9:
        hint = misconception("hard-coded-answer",
                             "this is the value at the example's inputs (1.5, 0.5): compute from x0 and x1")
    assert abs(got - want) <= 1e-12 * (1 + abs(want)), report(
        "evaluation_trace(x0, x1)['v6'] at random inputs", inputs={"x0": x0, "x1": x1},
        expected=want, got=got, tol=1e-12, hint=hint)
### END HIDDEN TESTS

# %% [markdown]
# The graph again, now with your values on it:

# %%
draw(F_STEPS, values={"x0": 1.5, "x1": 0.5, **evaluation_trace(1.5, 0.5)})

# %% [markdown]
# ## 2. Backpropagation by hand
#
# Now the other direction. Take a graph small enough to check in your head:
#
# $$e = a \cdot b,\qquad d = e + c,\qquad L = d \cdot f,$$
#
# at $a = 2$, $b = -3$, $c = 10$, $f = -2$: $e = -6$, $d = 4$, $L = -8$.

# %%
L_STEPS = [
    Step("e", "mul", ("a", "b"), local=("b", "a")),
    Step("d", "add", ("e", "c"), local=("1", "1")),
    Step("L", "mul", ("d", "f"), local=("f", "d")),
]
a, b, c, f = 2.0, -3.0, 10.0, -2.0
e = a * b
d = e + c
L = d * f
print(f"e = {e}, d = {d}, L = {L}")
draw(L_STEPS, values={"a": a, "b": b, "c": c, "f": f, "e": e, "d": d, "L": L})

# %% [markdown]
# We want $\partial L / \partial x$ for **every** variable $x$ in the graph: how much $L$ moves
# per unit nudge of $x$. Start at the output, $\partial L/\partial L = 1$, and walk backward.
# At each node, the **chain rule** says
#
# $$\frac{\partial L}{\partial \text{input}} = \frac{\partial L}{\partial \text{output}} \cdot
# \frac{\partial\, \text{output}}{\partial \text{input}}$$
#
# (the gradient that arrives from above, times the node's local derivative). The two kinds of
# node here:

# %%
for op in ("mul", "add"):
    print(f"{op}: {RULES[op].derivative}")


# %% [markdown]
# * **A times node swaps its inputs.** $L = d \cdot f$ gives $\partial L/\partial d = f$ and
#   $\partial L/\partial f = d$: each input's local derivative is the *other* input.
# * **A plus node distributes the gradient.** $d = e + c$ has local derivatives 1 and 1, so
#   $e$ and $c$ each receive the *whole* gradient of $d$, unchanged (copied, not split).
#
# For example $\partial L/\partial d = f = -2$, and then
# $\partial L/\partial c = \partial L/\partial d \cdot 1 = -2$.
#
# ### Exercise 2: every gradient of L
#
# Write `backprop_L(a, b, c, f)`, returning the dict
# `{"d": dL/dd, "f": dL/df, "e": dL/de, "c": dL/dc, "a": dL/da, "b": dL/db}`.
# Compute them in that order, each from the one above it in the graph (compute the forward
# values you need first). At the example you should get $\partial L/\partial a = 6$ and
# $\partial L/\partial b = -4$.

# %% nbgrader={"grade": false, "grade_id": "backprop_L", "locked": false, "schema_version": 3, "solution": true}
def backprop_L(a, b, c, f):
    '''Gradients of L = (a*b + c) * f with respect to every variable, by the chain rule.'''
    ### BEGIN SOLUTION
    e = a * b
    d = e + c
    grad = {}
    grad["d"] = 1.0 * f          # L = d * f: times node, swap
    grad["f"] = 1.0 * d
    grad["e"] = grad["d"] * 1.0  # d = e + c: plus node, pass on
    grad["c"] = grad["d"] * 1.0
    grad["a"] = grad["e"] * b    # e = a * b: times node, swap
    grad["b"] = grad["e"] * a
    return grad
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_backprop_L_returns_every_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report

grads = backprop_L(2.0, -3.0, 10.0, -2.0)
missing = [k for k in ("d", "f", "e", "c", "a", "b") if k not in grads]
assert not missing, report("backprop_L(2, -3, 10, -2) returns a dict with keys d, f, e, c, a, b",
                           got=sorted(grads), hint=f"missing: {missing}")

# %% nbgrader={"grade": true, "grade_id": "test_backprop_L_times_node", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")
NO_SWAP = misconception("times-node-no-swap",
                        "a times node swaps its inputs: d(d*f)/dd = f and d(d*f)/df = d, not the input itself")
EXAMPLE = {"d": -2.0, "f": 4.0}


def check(a, b, c, f, what, exact=None):
    grads = backprop_L(a, b, c, f)
    d = a * b + c
    slopes = {"d": central_difference(lambda d_: d_ * f, d), "f": central_difference(lambda f_: d * f_, f)}
    own = {"d": d, "f": f}
    for name, slope in slopes.items():
        got = float(grads[name])
        want = float(exact(a, b, c, f)[name]) if exact else slope
        near = 1e-6 * (1 + abs(want))
        tol = 1e-11 * (1 + abs(want)) if exact else near
        hint = None
        if abs(got - own[name]) <= near:
            hint = NO_SWAP
        elif what == "random inputs" and abs(got - EXAMPLE[name]) <= 1e-9:
            hint = HARD_CODED
        elif abs(got - want) <= near:
            hint = SLOPE
        assert abs(got - want) <= tol, report(
            f"dL/d{name} from backprop_L, {what} (expected: {'exact' if exact else 'numerical slope'})",
            inputs={"a": a, "b": b, "c": c, "f": f}, expected=want, got=got, tol=tol, hint=hint)


for example in [(2.0, -3.0, 10.0, -2.0)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2026)
for _ in range(5):
    check(*[float(v) for v in rng.uniform(-3, 3, size=4)], "random inputs",
          exact=lambda a, b, c, f: {"d": f, "f": a * b + c})
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_backprop_L_plus_node", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")
LOCAL_ONLY = misconception("chain-rule-no-upstream",
                           "1 is only the plus node's LOCAL derivative: multiply it by the gradient "
                           "arriving from above, dL/dd")
EXAMPLE = {"e": -2.0, "c": -2.0}


def check(a, b, c, f, what, exact=None):
    grads = backprop_L(a, b, c, f)
    e = a * b
    slopes = {"e": central_difference(lambda e_: (e_ + c) * f, e),
              "c": central_difference(lambda c_: (e + c_) * f, c)}
    for name, slope in slopes.items():
        got = float(grads[name])
        want = float(exact(a, b, c, f)[name]) if exact else slope
        near = 1e-6 * (1 + abs(want))
        tol = 1e-11 * (1 + abs(want)) if exact else near
        hint = None
        if abs(got - 1.0) <= near:
            hint = LOCAL_ONLY
        elif what == "random inputs" and abs(got - EXAMPLE[name]) <= 1e-9:
            hint = HARD_CODED
        elif abs(got - want) <= near:
            hint = SLOPE
        assert abs(got - want) <= tol, report(
            f"dL/d{name} from backprop_L, {what} (expected: {'exact' if exact else 'numerical slope'})",
            inputs={"a": a, "b": b, "c": c, "f": f}, expected=want, got=got, tol=tol, hint=hint)


for example in [(2.0, -3.0, 10.0, -2.0)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2027)
for _ in range(5):
    check(*[float(v) for v in rng.uniform(-3, 3, size=4)], "random inputs",
          exact=lambda a, b, c, f: {"e": f, "c": f})
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_backprop_L_leaves", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")
EXAMPLE = {"a": 6.0, "b": -4.0}


def check(a, b, c, f, what, exact=None):
    grads = backprop_L(a, b, c, f)
    slopes = gradient(lambda a_, b_, c_, f_: (a_ * b_ + c_) * f_, [a, b, c, f])
    for name, slope, own, other in [("a", slopes[0], a, b), ("b", slopes[1], b, a)]:
        got = float(grads[name])
        want = float(exact(a, b, c, f)[name]) if exact else float(slope)
        near = 1e-6 * (1 + abs(want))
        tol = 1e-11 * (1 + abs(want)) if exact else near
        hint = None
        if abs(got - f * own) <= near:
            hint = misconception("times-node-no-swap",
                                 f"dL/d{name} = dL/de * (the OTHER input of e = a*b), not times {name} itself")
        elif abs(got - other) <= near:
            hint = misconception("chain-rule-no-upstream",
                                 f"that is only the local derivative de/d{name}: multiply it by dL/de")
        elif what == "random inputs" and abs(got - EXAMPLE[name]) <= 1e-9:
            hint = HARD_CODED
        elif abs(got - want) <= near:
            hint = SLOPE
        assert abs(got - want) <= tol, report(
            f"dL/d{name} from backprop_L, {what} (expected: {'exact' if exact else 'numerical slope'})",
            inputs={"a": a, "b": b, "c": c, "f": f}, expected=want, got=got, tol=tol, hint=hint)


for example in [(2.0, -3.0, 10.0, -2.0)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2028)
for _ in range(5):
    check(*[float(v) for v in rng.uniform(-3, 3, size=4)], "random inputs",
          exact=lambda a, b, c, f: {"a": f * b, "b": f * a})
### END HIDDEN TESTS

# %% [markdown]
# Your gradients on the graph, and each one against a numerical slope (notebook 01's central
# difference: nudge that one input, recompute $L$):

# %%
grads = backprop_L(a, b, c, f)
numeric = gradient(lambda a_, b_, c_, f_: (a_ * b_ + c_) * f_, [a, b, c, f])
for name, slope in zip("abcf", numeric):
    print(f"dL/d{name}: by hand {grads[name]:+.6f}   numerical slope {slope:+.6f}")
draw(L_STEPS, values={"a": a, "b": b, "c": c, "f": f, "e": e, "d": d, "L": L}, grads={"L": 1.0, **grads})

# %% [markdown]
# ### A neuron
#
# A neuron multiplies its inputs by weights, adds a bias and squashes the sum:
#
# $$o = \tanh(n),\qquad n = x_1 w_1 + x_2 w_2 + b.$$
#
# Take $x_1 = 2$, $x_2 = 0$, $w_1 = -3$, $w_2 = 1$, $b = 6.8813735870195432$: then $n \approx 0.8814$
# and $o \approx 0.7071$ (the bias was picked so that $o = 1/\sqrt 2$).

# %%
NEURON_STEPS = [
    Step("x1w1", "mul", ("x1", "w1"), local=("w1", "x1")),
    Step("x2w2", "mul", ("x2", "w2"), local=("w2", "x2")),
    Step("s", "add", ("x1w1", "x2w2"), local=("1", "1")),
    Step("n", "add", ("s", "b"), local=("1", "1")),
    Step("o", "tanh", ("n",), local=("1 - o**2",)),
]
x1, x2, w1, w2, bias = 2.0, 0.0, -3.0, 1.0, 6.8813735870195432
neuron = {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": bias,
          "x1w1": x1 * w1, "x2w2": x2 * w2, "s": x1 * w1 + x2 * w2}
neuron["n"] = neuron["s"] + bias
neuron["o"] = math.tanh(neuron["n"])
print(f"n = {neuron['n']:.6f}, o = {neuron['o']:.6f}")
print(RULES["tanh"].derivative)
draw(NEURON_STEPS, values=neuron)


# %% [markdown]
# The new node is $\tanh$. Its local derivative is cheapest in terms of its **output**:
#
# $$\frac{do}{dn} = 1 - \tanh(n)^2 = 1 - o^2 .$$
#
# Square the output $o$, not the input $n$. After that it is the two rules you know: the plus
# nodes hand $do/dn$ unchanged to $s$, $b$, $x_1w_1$ and $x_2w_2$; each times node swaps.
#
# ### Exercise 3: the neuron's gradients
#
# Write `neuron_grads(x1, x2, w1, w2, b)`, returning the dict of $\partial o/\partial(\cdot)$ for
# `"n", "s", "b", "x1w1", "x2w2", "x1", "w1", "x2", "w2"`. At the example,
# $\partial o/\partial n = 0.5$, $\partial o/\partial w_1 = 1$ and $\partial o/\partial w_2 = 0$
# (why zero? look at $x_2$).

# %% nbgrader={"grade": false, "grade_id": "neuron_grads", "locked": false, "schema_version": 3, "solution": true}
def neuron_grads(x1, x2, w1, w2, b):
    '''Gradients of o = tanh(x1*w1 + x2*w2 + b) with respect to every variable of the graph.'''
    ### BEGIN SOLUTION
    n = x1 * w1 + x2 * w2 + b
    o = math.tanh(n)
    grad = {"n": 1 - o ** 2}
    grad["s"] = grad["n"]          # n = s + b: plus node
    grad["b"] = grad["n"]
    grad["x1w1"] = grad["s"]       # s = x1w1 + x2w2: plus node
    grad["x2w2"] = grad["s"]
    grad["x1"] = grad["x1w1"] * w1  # times nodes swap
    grad["w1"] = grad["x1w1"] * x1
    grad["x2"] = grad["x2w2"] * w2
    grad["w2"] = grad["x2w2"] * x2
    return grad
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_neuron_grads_returns_every_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report

grads = neuron_grads(2.0, 0.0, -3.0, 1.0, 6.8813735870195432)
missing = [k for k in ("n", "s", "b", "x1w1", "x2w2", "x1", "w1", "x2", "w2") if k not in grads]
assert not missing, report("neuron_grads(2, 0, -3, 1, 6.88...) returns a dict with keys "
                           "n, s, b, x1w1, x2w2, x1, w1, x2, w2", got=sorted(grads), hint=f"missing: {missing}")

# %% nbgrader={"grade": true, "grade_id": "test_neuron_grads_tanh", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")


def check(x1, x2, w1, w2, b, what, exact=None):
    n = x1 * w1 + x2 * w2 + b
    o = math.tanh(n)
    got = float(neuron_grads(x1, x2, w1, w2, b)["n"])
    want = float(exact(o)) if exact else central_difference(math.tanh, n)
    near = 1e-6 * (1 + abs(want))
    tol = 1e-11 * (1 + abs(want)) if exact else near
    hint = None
    if abs(got - (1 - n ** 2)) <= near:
        hint = misconception("tanh-derivative-of-input",
                             "1 - n^2 squares the INPUT of tanh: the rule is 1 - tanh(n)^2 = 1 - o^2")
    elif abs(got - (1 - o)) <= near:
        hint = misconception("tanh-derivative-not-squared", "1 - o forgets the square: do/dn = 1 - o^2")
    elif what == "random inputs" and abs(got - 0.5) <= 1e-9:
        hint = HARD_CODED
    elif abs(got - want) <= near:
        hint = SLOPE
    assert abs(got - want) <= tol, report(
        f"do/dn from neuron_grads, {what} (expected: {'exact' if exact else 'numerical slope'})",
        inputs={"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}, expected=want, got=got, tol=tol, hint=hint)


for example in [(2.0, 0.0, -3.0, 1.0, 6.8813735870195432)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2029)
for _ in range(5):
    check(*[float(v) for v in rng.uniform(-1.5, 1.5, size=5)], "random inputs", exact=lambda o: 1 - o * o)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_neuron_grads_plus_nodes", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")


def check(x1, x2, w1, w2, b, what, exact=None):
    grads = neuron_grads(x1, x2, w1, w2, b)
    p, q = x1 * w1, x2 * w2
    slopes = {"s": central_difference(lambda s_: math.tanh(s_ + b), p + q),
              "b": central_difference(lambda b_: math.tanh(p + q + b_), b),
              "x1w1": central_difference(lambda p_: math.tanh(p_ + q + b), p),
              "x2w2": central_difference(lambda q_: math.tanh(p + q_ + b), q)}
    dn = 1 - math.tanh(p + q + b) ** 2
    for name, slope in slopes.items():
        got = float(grads[name])
        want = float(exact(math.tanh(p + q + b))) if exact else slope
        near = 1e-6 * (1 + abs(want))
        tol = 1e-11 * (1 + abs(want)) if exact else near
        hint = None
        if abs(got - dn / 2) <= near or abs(got - dn / 4) <= near:
            hint = misconception("plus-node-splits-gradient",
                                 "a plus node does not split the gradient: each input receives ALL of it")
        elif abs(got - 1.0) <= near:
            hint = misconception("chain-rule-no-upstream",
                                 "1 is only the plus node's local derivative: multiply it by do/dn")
        elif what == "random inputs" and abs(got - 0.5) <= 1e-9:
            hint = HARD_CODED
        elif abs(got - want) <= near:
            hint = SLOPE
        assert abs(got - want) <= tol, report(
            f"do/d{name} from neuron_grads, {what} (expected: {'exact' if exact else 'numerical slope'})",
            inputs={"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}, expected=want, got=got, tol=tol, hint=hint)


for example in [(2.0, 0.0, -3.0, 1.0, 6.8813735870195432)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2030)
for _ in range(5):
    check(*[float(v) for v in rng.uniform(-1.5, 1.5, size=5)], "random inputs", exact=lambda o: 1 - o * o)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_neuron_grads_times_nodes", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")
EXAMPLE = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0}


def check(x1, x2, w1, w2, b, what, exact=None):
    grads = neuron_grads(x1, x2, w1, w2, b)
    slopes = gradient(lambda x1_, x2_, w1_, w2_, b_: math.tanh(x1_ * w1_ + x2_ * w2_ + b_), [x1, x2, w1, w2, b])
    slopes = dict(zip(["x1", "x2", "w1", "w2"], slopes[:4]))
    own = {"x1": x1, "x2": x2, "w1": w1, "w2": w2}
    dn = 1 - math.tanh(x1 * w1 + x2 * w2 + b) ** 2
    for name in ("x1", "w1", "x2", "w2"):
        got = float(grads[name])
        want = float(exact(x1, x2, w1, w2, b)[name]) if exact else float(slopes[name])
        near = 1e-6 * (1 + abs(want))
        tol = 1e-11 * (1 + abs(want)) if exact else near
        hint = None
        if abs(got - own[name] * dn) <= near:
            hint = misconception("times-node-no-swap",
                                 f"a times node swaps its inputs: do/d{name} = do/dn * (the other factor), "
                                 f"not * {name}")
        elif what == "random inputs" and abs(got - EXAMPLE[name]) <= 1e-9:
            hint = HARD_CODED
        elif abs(got - want) <= near:
            hint = SLOPE
        assert abs(got - want) <= tol, report(
            f"do/d{name} from neuron_grads, {what} (expected: {'exact' if exact else 'numerical slope'})",
            inputs={"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}, expected=want, got=got, tol=tol, hint=hint)


for example in [(2.0, 0.0, -3.0, 1.0, 6.8813735870195432)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS


def exact(x1, x2, w1, w2, b):
    dn = 1 - math.tanh(x1 * w1 + x2 * w2 + b) ** 2
    return {"x1": dn * w1, "w1": dn * x1, "x2": dn * w2, "w2": dn * x2}


rng = np.random.default_rng(2031)
for _ in range(5):
    check(*[float(v) for v in rng.uniform(-1.5, 1.5, size=5)], "random inputs", exact=exact)
### END HIDDEN TESTS

# %%
ngrads = neuron_grads(x1, x2, w1, w2, bias)
numeric = gradient(lambda x1_, x2_, w1_, w2_, b_: math.tanh(x1_ * w1_ + x2_ * w2_ + b_), [x1, x2, w1, w2, bias])
for name, slope in zip(["x1", "x2", "w1", "w2", "b"], numeric):
    print(f"do/d{name:2}: by hand {ngrads[name]:+.6f}   numerical slope {slope:+.6f}")
draw(NEURON_STEPS, values=neuron, grads={"o": 1.0, **ngrads})

# %% [markdown]
# ### Watch it happen
#
# The same neuron, built with the course's `Value` engine and stepped through by a widget.
# Press **next**: first the forward pass, one node at a time; then the backward pass, one
# **edge** at a time. For each edge the panel shows the chain rule you just used by hand:
# upstream gradient × local derivative = contribution, added (`+=`) to the input's gradient.
# Compare every number with your `neuron_grads`.

# %%
from course.engine import Value
from course.stepper import GraphStepper

vx1, vx2 = Value(2.0, label="x1"), Value(0.0, label="x2")
vw1, vw2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
vb = Value(6.8813735870195432, label="b")
o_node = (vx1 * vw1 + vx2 * vw2 + vb).tanh()
GraphStepper(o_node, title="o = tanh(x1*w1 + x2*w2 + b): forward, then backward edge by edge")

# %% [markdown]
# ## 3. Adjoints: the backward pass as a program
#
# Give each variable $v_i$ its **adjoint** $\bar v_i = \partial y / \partial v_i$: how much the
# final output $y$ moves per unit nudge of $v_i$, everything *downstream* of $v_i$ recomputed,
# everything else held still. Reverse mode is then just two loops:
#
# 1. **forward pass**: evaluate every $v_i$ in order (the evaluation trace);
# 2. **backward pass**: start with $\bar y = 1$ and visit the variables in reverse order. Each
#    variable collects one contribution from every place it is used:
#
# $$\bar v_i = \sum_{j \,:\, v_i \text{ is an input of } v_j} \bar v_j \, \frac{\partial v_j}{\partial v_i}.$$
#
# A variable used **twice** gets **two** contributions, and they add up. Take
#
# $$y = \sin(x_0) + x_1 \cos(x_0) + \frac{x_1}{x_2}.$$
#
# Here $x_0$ feeds both $\sin$ and $\cos$, and $x_1$ feeds both the product and the quotient.

# %%
Y_STEPS = [
    Step("v0", "sin", ("x0",), local=("cos(x0)",)),
    Step("v1", "cos", ("x0",), local=("-sin(x0)",)),
    Step("v2", "mul", ("x1", "v1"), local=("v1", "x1")),
    Step("v3", "div", ("x1", "x2"), local=("1/x2", "-x1/x2**2")),
    Step("v4", "add", ("v0", "v2"), local=("1", "1")),
    Step("v5", "add", ("v4", "v3"), local=("1", "1")),
]
display(Markdown(local_table(Y_STEPS)))
draw(Y_STEPS, title="y = sin(x0) + x1 cos(x0) + x1 / x2")


# %% [markdown]
# ### Exercise 4a: the forward pass
#
# Write `forward_pass(x0, x1, x2)`, returning `{"v0": ..., ..., "v5": ...}` as in the table
# ($y = v_5$). At $x_0 = 1$, $x_1 = 2$, $x_2 = 4$: $y = \sin 1 + 2\cos 1 + 0.5 \approx 2.4221$.

# %% nbgrader={"grade": false, "grade_id": "forward_pass", "locked": false, "schema_version": 3, "solution": true}
def forward_pass(x0, x1, x2):
    '''The intermediate variables v0 ... v5 of y = sin(x0) + x1*cos(x0) + x1/x2.'''
    ### BEGIN SOLUTION
    v0 = math.sin(x0)
    v1 = math.cos(x0)
    v2 = x1 * v1
    v3 = x1 / x2
    v4 = v0 + v2
    v5 = v4 + v3
    return {"v0": v0, "v1": v1, "v2": v2, "v3": v3, "v4": v4, "v5": v5}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_forward_pass_values", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception


def values(x0, x1, x2):
    want = {"v0": math.sin(x0), "v1": math.cos(x0), "v2": x1 * math.cos(x0), "v3": x1 / x2}
    want["v4"] = want["v0"] + want["v2"]
    want["v5"] = want["v4"] + want["v3"]
    return want


EXAMPLE = values(1.0, 2.0, 4.0)


def check(x0, x1, x2, what):
    v = forward_pass(x0, x1, x2)
    for k, w in values(x0, x1, x2).items():
        assert k in v, report(f"forward_pass({x0}, {x1}, {x2}) has key {k}", got=sorted(v))
        got = float(v[k])
        hint = None
        if what == "random inputs" and abs(got - EXAMPLE[k]) <= 1e-9:
            hint = misconception("hard-coded-answer", "this is the example's value whatever the inputs: compute it from x0, x1, x2")
        assert abs(got - w) <= 1e-12 * (1 + abs(w)), report(
            f"forward_pass(...)['{k}'], {what}", inputs={"x0": x0, "x1": x1, "x2": x2},
            expected=w, got=got, tol=1e-12, hint=hint)


for example in [(1.0, 2.0, 4.0)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2032)
for _ in range(5):
    check(float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)),
          float(rng.choice([-1, 1]) * rng.uniform(0.5, 3)), "random inputs")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4b: the backward pass
#
# Write `adjoints(x0, x1, x2)`: run `forward_pass`, then set $\bar v_5 = 1$ and compute
# $\bar v_4, \bar v_3, \bar v_2, \bar v_1, \bar v_0$ and finally $\bar x_2, \bar x_1, \bar x_0$, each
# as the sum of its contributions, using the local derivatives of the table above. Return
# `{"v5": ..., "v4": ..., "v3": ..., "v2": ..., "v1": ..., "v0": ..., "x2": ..., "x1": ..., "x0": ...}`.
#
# Two of them are sums of two terms. Which, and why?

# %% nbgrader={"grade": false, "grade_id": "adjoints", "locked": false, "schema_version": 3, "solution": true}
def adjoints(x0, x1, x2):
    '''The adjoints dy/dv of every variable of y = sin(x0) + x1*cos(x0) + x1/x2.'''
    v = forward_pass(x0, x1, x2)
    ### BEGIN SOLUTION
    bar = {"v5": 1.0}
    bar["v4"] = bar["v5"] * 1.0                 # v5 = v4 + v3
    bar["v3"] = bar["v5"] * 1.0
    bar["v0"] = bar["v4"] * 1.0                 # v4 = v0 + v2
    bar["v2"] = bar["v4"] * 1.0
    bar["x2"] = bar["v3"] * (-x1 / x2 ** 2)     # v3 = x1 / x2
    bar["v1"] = bar["v2"] * x1                  # v2 = x1 * v1: swap
    bar["x1"] = bar["v2"] * v["v1"] + bar["v3"] * (1 / x2)          # x1 is used twice
    bar["x0"] = bar["v0"] * math.cos(x0) + bar["v1"] * (-math.sin(x0))  # x0 is used twice
    return bar
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_adjoints_returns_every_adjoint", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report

bar = adjoints(1.0, 2.0, 4.0)
missing = [k for k in ("v5", "v4", "v3", "v2", "v1", "v0", "x2", "x1", "x0") if k not in bar]
assert not missing, report("adjoints(1, 2, 4) returns a dict with keys v5 ... v0, x2, x1, x0",
                           got=sorted(bar), hint=f"missing: {missing}")

# %% nbgrader={"grade": true, "grade_id": "test_adjoints_intermediate", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")


def check(x0, x1, x2, what, exact=None):
    bar = adjoints(x0, x1, x2)
    s, c, q = math.sin(x0), math.cos(x0), x1 / x2
    # the slope of y in each intermediate variable, with only what depends on it recomputed
    slopes = {"v5": central_difference(lambda v5: v5, s + x1 * c + q),
              "v4": central_difference(lambda v4: v4 + q, s + x1 * c),
              "v3": central_difference(lambda v3: s + x1 * c + v3, q),
              "v2": central_difference(lambda v2: s + v2 + q, x1 * c),
              "v1": central_difference(lambda v1: s + x1 * v1 + q, c),
              "v0": central_difference(lambda v0: v0 + x1 * c + q, s)}
    for k, slope in slopes.items():
        got = float(bar[k])
        want = float(exact(x0, x1, x2)[k]) if exact else slope
        near = 1e-6 * (1 + abs(want))
        tol = 1e-11 * (1 + abs(want)) if exact else near
        hint = None
        if k == "v1" and abs(got - c) <= near:
            hint = misconception("times-node-no-swap",
                                 "v2 = x1 * v1, so the local derivative dv2/dv1 is the OTHER factor, x1")
        elif k == "v1" and what == "random inputs" and abs(got - 2.0) <= 1e-9:
            hint = HARD_CODED
        elif abs(got - want) <= near:
            hint = SLOPE
        assert abs(got - want) <= tol, report(
            f"adjoints(...)['{k}'], {what} (expected: {'exact' if exact else 'numerical slope'})",
            inputs={"x0": x0, "x1": x1, "x2": x2}, expected=want, got=got, tol=tol, hint=hint)


for example in [(1.0, 2.0, 4.0)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS


def exact(x0, x1, x2):
    return {"v5": 1.0, "v4": 1.0, "v3": 1.0, "v2": 1.0, "v1": x1, "v0": 1.0}


rng = np.random.default_rng(2033)
for _ in range(5):
    check(float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)),
          float(rng.choice([-1, 1]) * rng.uniform(0.5, 3)), "random inputs", exact=exact)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_adjoints_x0_sums_two_uses", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")


def check(x0, x1, x2, what, exact=None):
    got = float(adjoints(x0, x1, x2)["x0"])
    slope = central_difference(lambda t: math.sin(t) + x1 * math.cos(t) + x1 / x2, x0)
    want = float(exact(x0, x1, x2)) if exact else slope
    near = 1e-6 * (1 + abs(want))
    tol = 1e-11 * (1 + abs(want)) if exact else near
    via_sin, via_cos = math.cos(x0), -x1 * math.sin(x0)
    hint = None
    if abs(got - via_sin) <= near or abs(got - via_cos) <= near:
        hint = misconception("reused-variable-not-summed",
                             "x0 feeds two nodes (v0 = sin x0 and v1 = cos x0): its adjoint is the SUM "
                             "of both contributions, bar(v0) * cos(x0) + bar(v1) * (-sin(x0))")
    elif abs(got - (via_sin - via_cos)) <= near:
        hint = misconception("cos-derivative-sign", "d cos(a)/da = -sin(a): check the sign of the cos contribution")
    elif what == "random inputs" and abs(got - (-1.1426396637)) <= 1e-9:
        hint = HARD_CODED
    elif abs(got - want) <= near:
        hint = SLOPE
    assert abs(got - want) <= tol, report(
        f"adjoints(...)['x0'] = dy/dx0, {what} (expected: {'exact' if exact else 'numerical slope'})",
        inputs={"x0": x0, "x1": x1, "x2": x2}, expected=want, got=got, tol=tol, hint=hint)


for example in [(1.0, 2.0, 4.0)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS


def exact(x0, x1, x2):
    return math.cos(x0) - x1 * math.sin(x0)


rng = np.random.default_rng(2034)
for _ in range(5):
    check(float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)),
          float(rng.choice([-1, 1]) * rng.uniform(0.5, 3)), "random inputs", exact=exact)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_adjoints_x1_sums_two_uses", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")


def check(x0, x1, x2, what, exact=None):
    got = float(adjoints(x0, x1, x2)["x1"])
    slope = central_difference(lambda t: math.sin(x0) + t * math.cos(x0) + t / x2, x1)
    want = float(exact(x0, x1, x2)) if exact else slope
    near = 1e-6 * (1 + abs(want))
    tol = 1e-11 * (1 + abs(want)) if exact else near
    hint = None
    if abs(got - math.cos(x0)) <= near or abs(got - 1 / x2) <= near:
        hint = misconception("reused-variable-not-summed",
                             "x1 feeds two nodes (v2 = x1 * v1 and v3 = x1 / x2): its adjoint is the SUM "
                             "of both contributions")
    elif what == "random inputs" and abs(got - 0.7903023059) <= 1e-9:
        hint = HARD_CODED
    elif abs(got - want) <= near:
        hint = SLOPE
    assert abs(got - want) <= tol, report(
        f"adjoints(...)['x1'] = dy/dx1, {what} (expected: {'exact' if exact else 'numerical slope'})",
        inputs={"x0": x0, "x1": x1, "x2": x2}, expected=want, got=got, tol=tol, hint=hint)


for example in [(1.0, 2.0, 4.0)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS


def exact(x0, x1, x2):
    return math.cos(x0) + 1 / x2


rng = np.random.default_rng(2035)
for _ in range(5):
    check(float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)),
          float(rng.choice([-1, 1]) * rng.uniform(0.5, 3)), "random inputs", exact=exact)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_adjoints_x2_division", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")


def check(x0, x1, x2, what, exact=None):
    got = float(adjoints(x0, x1, x2)["x2"])
    slope = central_difference(lambda t: math.sin(x0) + x1 * math.cos(x0) + x1 / t, x2)
    want = float(exact(x0, x1, x2)) if exact else slope
    near = 1e-6 * (1 + abs(want))
    tol = 1e-11 * (1 + abs(want)) if exact else near
    hint = None
    if abs(got + want) <= near and abs(want) > near:
        hint = misconception("division-derivative-sign",
                             "d(a/b)/db = -a/b^2: the quotient falls as its denominator grows")
    elif abs(got - (-x1 / x2)) <= near:
        hint = misconception("division-derivative-no-square", "d(a/b)/db = -a/b^2: the denominator is squared")
    elif what == "random inputs" and abs(got - (-0.125)) <= 1e-9:
        hint = HARD_CODED
    elif abs(got - want) <= near:
        hint = SLOPE
    assert abs(got - want) <= tol, report(
        f"adjoints(...)['x2'] = dy/dx2, {what} (expected: {'exact' if exact else 'numerical slope'})",
        inputs={"x0": x0, "x1": x1, "x2": x2}, expected=want, got=got, tol=tol, hint=hint)


for example in [(1.0, 2.0, 4.0)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS


def exact(x0, x1, x2):
    return -x1 / x2 ** 2


rng = np.random.default_rng(2036)
for _ in range(5):
    check(float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)),
          float(rng.choice([-1, 1]) * rng.uniform(0.5, 3)), "random inputs", exact=exact)
### END HIDDEN TESTS

# %% [markdown]
# One backward pass gave all three partial derivatives. The numerical check needs two evaluations
# of $y$ per input (six here); for a network with a million weights that difference is the whole
# story of this course.

# %%
bar = adjoints(1.0, 2.0, 4.0)
numeric = gradient(lambda x0, x1, x2: math.sin(x0) + x1 * math.cos(x0) + x1 / x2, [1.0, 2.0, 4.0])
for name, slope in zip(["x0", "x1", "x2"], numeric):
    print(f"dy/d{name}: adjoint {bar[name]:+.10f}   numerical slope {slope:+.10f}")
draw(Y_STEPS, values={"x0": 1.0, "x1": 2.0, "x2": 4.0, **forward_pass(1.0, 2.0, 4.0)}, grads=bar)

# %% [markdown]
# A variable used twice receives two contributions. Step through $y = a \cdot a + a$ at $a = 3$:
# three edges lead into $a$, and $\partial y/\partial a$ grows by one `+=` per edge,
# $0 \to 1 \to 4 \to 7$ (that is $1 + 3 + 3$).

# %%
va = Value(3.0, label="a")
GraphStepper(va * va + va, title="y = a*a + a: three edges into a, three contributions")


# %% [markdown]
# ## 4. Back to f: three uses of one input
#
# Now the whole gradient of $f(x_0, x_1) = \frac{x_0^2}{x_1}\cos(x_0) + e^{x_0/x_1}$ from
# section 1, with the same recipe: forward pass (your `evaluation_trace`), then adjoints in
# reverse order $\bar v_6 = 1, \bar v_5, \dots, \bar v_0$, then $\bar x_1$ and $\bar x_0$ using the local
# derivatives of the table in section 1.
#
# Watch for:
# * $x_0$ is used **three** times ($v_0$, $v_2$, $v_4$): three contributions;
# * $v_5 = e^{v_4}$ with $v_4 = x_0/x_1$: on the way from $v_5$ to $x_0$ you pass through
#   $v_4$, whose local derivative $1/x_1$ must not be forgotten;
# * $\partial(a/b)/\partial b = -a/b^2$, and $\partial \cos(a)/\partial a = -\sin(a)$.
#
# ### Exercise 5: the gradient of f
#
# Write `f_gradient(x0, x1)`, returning the pair `(df/dx0, df/dx1)`.

# %% nbgrader={"grade": false, "grade_id": "f_gradient", "locked": false, "schema_version": 3, "solution": true}
def f_gradient(x0, x1):
    '''(df/dx0, df/dx1) of f = (x0^2 / x1) cos(x0) + exp(x0 / x1), by adjoints.'''
    v = evaluation_trace(x0, x1)
    ### BEGIN SOLUTION
    v6b = 1.0
    v3b = v6b * 1.0                  # v6 = v3 + v5
    v5b = v6b * 1.0
    v4b = v5b * v["v5"]              # v5 = exp(v4)
    v1b = v3b * v["v2"]              # v3 = v1 * v2: swap
    v2b = v3b * v["v1"]
    v0b = v1b * (1 / x1)             # v1 = v0 / x1
    x0b = v0b * 2 * x0 + v2b * (-math.sin(x0)) + v4b * (1 / x1)   # three uses of x0
    x1b = v1b * (-v["v0"] / x1 ** 2) + v4b * (-x0 / x1 ** 2)      # two uses of x1
    return x0b, x1b
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_f_gradient_x0", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from itertools import combinations

from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")


def check(x0, x1, what, exact=None):
    g = np.asarray(f_gradient(x0, x1), dtype=float)
    assert g.shape == (2,), report("f_gradient(x0, x1) returns two numbers (df/dx0, df/dx1)", got=g)
    got = float(g[0])
    slope = central_difference(lambda t: t ** 2 / x1 * math.cos(t) + math.exp(t / x1), x0)
    want = float(exact(x0, x1)) if exact else slope
    near = 1e-6 * (1 + abs(want))
    tol = 1e-11 * (1 + abs(want)) if exact else near
    # the three contributions, through v0 = x0^2, v2 = cos(x0) and v4 = x0 / x1
    via_sq = math.cos(x0) / x1 * 2 * x0
    via_cos = x0 ** 2 / x1 * -math.sin(x0)
    via_exp = math.exp(x0 / x1) / x1
    hint = None
    if abs(got - (via_sq + via_cos + via_exp * x1)) <= near:
        hint = misconception("exp-inner-derivative",
                             "exp(x0/x1) is exp of v4 = x0/x1: the chain continues through v4, "
                             "times dv4/dx0 = 1/x1")
    elif abs(got - (via_sq - via_cos + via_exp)) <= near:
        hint = misconception("cos-derivative-sign", "d cos(a)/da = -sin(a): check the sign of the cos contribution")
    elif any(abs(got - sum(part)) <= near for r in (1, 2) for part in combinations([via_sq, via_cos, via_exp], r)):
        hint = misconception("reused-variable-not-summed",
                             "x0 is used three times (in v0, v2 and v4): its adjoint is the sum of three contributions")
    elif what == "random inputs" and abs(got - 36.1067696167) <= 1e-6:
        hint = HARD_CODED
    elif abs(got - want) <= near:
        hint = SLOPE
    assert abs(got - want) <= tol, report(
        f"df/dx0 from f_gradient, {what} (expected: {'exact' if exact else 'numerical slope'})",
        inputs={"x0": x0, "x1": x1}, expected=want, got=got, tol=tol, hint=hint)


for example in [(1.5, 0.5)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS


def exact(x0, x1):
    return 2 * x0 / x1 * math.cos(x0) - x0 ** 2 / x1 * math.sin(x0) + math.exp(x0 / x1) / x1


rng = np.random.default_rng(2037)
for _ in range(5):
    check(float(rng.uniform(-2, 2)), float(rng.choice([-1, 1]) * rng.uniform(0.5, 2)), "random inputs", exact)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_f_gradient_x1", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks import report, misconception

HARD_CODED = misconception("hard-coded-answer",
                           "this is the example's number whatever the inputs: compute it from the function's arguments")
SLOPE = misconception("numerical-slope",
                      "this matches a numerical slope to about six digits but not the exact derivative: "
                      "use the chain rule, not central differences")


def check(x0, x1, what, exact=None):
    g = np.asarray(f_gradient(x0, x1), dtype=float)
    assert g.shape == (2,), report("f_gradient(x0, x1) returns two numbers (df/dx0, df/dx1)", got=g)
    got = float(g[1])
    slope = central_difference(lambda t: x0 ** 2 / t * math.cos(x0) + math.exp(x0 / t), x1)
    want = float(exact(x0, x1)) if exact else slope
    near = 1e-6 * (1 + abs(want))
    tol = 1e-11 * (1 + abs(want)) if exact else near
    via_v1 = math.cos(x0) * -(x0 ** 2) / x1 ** 2
    via_v4 = math.exp(x0 / x1) * -x0 / x1 ** 2
    hint = None
    if any(abs(got - w) <= near for w in (-via_v1 + via_v4, via_v1 - via_v4, -via_v1 - via_v4)):
        hint = misconception("division-derivative-sign",
                             "d(a/b)/db = -a/b^2: both quotients v1 = v0/x1 and v4 = x0/x1 fall as x1 grows")
    elif abs(got - (via_v1 + math.exp(x0 / x1))) <= near:
        hint = misconception("exp-inner-derivative",
                             "exp(x0/x1) is exp of v4 = x0/x1: multiply by dv4/dx1 = -x0/x1^2")
    elif abs(got - via_v1) <= near or abs(got - via_v4) <= near:
        hint = misconception("reused-variable-not-summed",
                             "x1 is used twice (in v1 and v4): its adjoint is the sum of both contributions")
    elif what == "random inputs" and abs(got - (-121.1498563541)) <= 1e-6:
        hint = HARD_CODED
    elif abs(got - want) <= near:
        hint = SLOPE
    assert abs(got - want) <= tol, report(
        f"df/dx1 from f_gradient, {what} (expected: {'exact' if exact else 'numerical slope'})",
        inputs={"x0": x0, "x1": x1}, expected=want, got=got, tol=tol, hint=hint)


for example in [(1.5, 0.5)]:  # the example in the text
    check(*example, "the example")
### BEGIN HIDDEN TESTS


def exact(x0, x1):
    return -(x0 ** 2) / x1 ** 2 * math.cos(x0) - x0 / x1 ** 2 * math.exp(x0 / x1)


rng = np.random.default_rng(2038)
for _ in range(5):
    check(float(rng.uniform(-2, 2)), float(rng.choice([-1, 1]) * rng.uniform(0.5, 2)), "random inputs", exact)
### END HIDDEN TESTS

# %%
hand = f_gradient(1.5, 0.5)
numeric = gradient(lambda x0, x1: x0 ** 2 / x1 * math.cos(x0) + math.exp(x0 / x1), [1.5, 0.5])
for name, mine, slope in zip(["x0", "x1"], hand, numeric):
    print(f"df/d{name}: by adjoints {mine:+.10f}   numerical slope {slope:+.10f}")

# %% [markdown]
# ## Summary
#
# * Any expression is a sequence of elementary operations: intermediate variables, a
#   computational graph.
# * Each operation knows its local derivatives (`course.rules`): a times node swaps its inputs,
#   a plus node passes the gradient on unchanged, $\tanh' = 1 - o^2$, $\cos' = -\sin$,
#   $\partial(a/b)/\partial b = -a/b^2$.
# * The chain rule, applied from the output backward, gives every adjoint
#   $\bar v_i = \partial y/\partial v_i$ in one sweep; a variable used several times **adds** the
#   contributions of all its uses.
# * Numerical slopes agree with all of it, to eight digits or more: the accuracy of notebook 01's
#   central differences.
#
# In notebook 03 you will build a small engine that does this bookkeeping for any expression,
# and the first bug it will show you is the last bullet: forgetting to add.
