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
# 4. check every hand-made gradient against the numerical slopes of notebook 01;
# 5. push **tangents** forward instead (forward mode), one input at a time.
#
# Every exercise is a function. Its visible tests use the numbers in the text; hidden tests call
# it again on random inputs, so write the general formula, not the numbers.

# %%
import math

import numpy as np

import course
from course.diagrams import Step, definition, draw, local_table
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
# each storing its result in an intermediate variable. The quotient $x_0/x_1$ appears twice in
# the formula ($x_0^2/x_1 = x_0 \cdot x_0/x_1$), but a program computes it **once** and uses the
# result twice. Written out, one operation per line:
#
# | variable | operation |
# |---|---|
# | $v_0 = x_0 / x_1$ | divide |
# | $v_1 = x_0 \cdot v_0$ | multiply: $x_0^2/x_1$ |
# | $v_2 = \cos(x_0)$ | cosine |
# | $v_3 = v_1 \cdot v_2$ | multiply |
# | $v_4 = e^{v_0}$ | exponential |
# | $v_5 = v_3 + v_4$ | add: $f = v_5$ |
#
# Six elementary operations, so six intermediate variables $v_0 \dots v_5$. Notice that
# $x_0$ is used **three** times ($v_0$, $v_1$, $v_2$) and the shared subexpression $v_0$ twice
# ($v_1$ and $v_4$): remember that for later.
#
# The same list as data: each `Step` names its variable, its operation (a key of the course's
# rule table, `course.rules.RULES`) and its inputs.

# %%
F_STEPS = [
    Step("v0", "div", ("x0", "x1"), local=("1/x1", "-x0/x1**2")),
    Step("v1", "mul", ("x0", "v0"), local=("v0", "x0")),
    Step("v2", "cos", ("x0",), local=("-sin(x0)",)),
    Step("v3", "mul", ("v1", "v2"), local=("v2", "v1")),
    Step("v4", "exp", ("v0",), local=("exp(v0)",)),
    Step("v5", "add", ("v3", "v4"), local=("1", "1")),
]
draw(F_STEPS, title="f(x0, x1) = (x0^2 / x1) cos(x0) + exp(x0 / x1)")

# %% [markdown]
# Read the picture from left to right: the blue boxes are the inputs, each circle is one
# operation, each white box the variable it produces. An input used three times has three
# arrows leaving it, and the shared quotient $v_0$ has two: one node, used twice.
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
# Write `evaluation_trace(x0, x1)`: compute $v_0, \dots, v_5$ in order, **one operation per
# line**, each from the variables before it, and return them in a dict
# `{"v0": ..., ..., "v5": ...}`. Use `math.cos` and `math.exp`.
#
# At $x_0 = 1.5$, $x_1 = 0.5$ you should find $v_0 = 3$, $v_1 = 4.5$ and $f = v_5 \approx 20.4039$.

# %% nbgrader={"grade": false, "grade_id": "evaluation_trace", "locked": false, "schema_version": 3, "solution": true}
def evaluation_trace(x0, x1):
    '''The intermediate variables v0 ... v5 of f(x0, x1), as a dict of floats.'''
    ### BEGIN SOLUTION
    v0 = x0 / x1
    v1 = x0 * v0
    v2 = math.cos(x0)
    v3 = v1 * v2
    v4 = math.exp(v0)
    v5 = v3 + v4
    return {"v0": v0, "v1": v1, "v2": v2, "v3": v3, "v4": v4, "v5": v5}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_evaluation_trace_steps", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_evaluation_trace_steps
check_evaluation_trace_steps(evaluation_trace)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_evaluation_trace_steps_random
check_evaluation_trace_steps_random(evaluation_trace)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_evaluation_trace_output_is_f", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_evaluation_trace_output_is_f
check_evaluation_trace_output_is_f(evaluation_trace)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_evaluation_trace_output_random
check_evaluation_trace_output_random(evaluation_trace)
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
from course.checks.chain_rule import check_backprop_L_returns_every_gradient
check_backprop_L_returns_every_gradient(backprop_L)

# %% nbgrader={"grade": true, "grade_id": "test_backprop_L_times_node", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_backprop_L_times_node
check_backprop_L_times_node(backprop_L)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_backprop_L_times_node_random
check_backprop_L_times_node_random(backprop_L)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_backprop_L_plus_node", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_backprop_L_plus_node
check_backprop_L_plus_node(backprop_L)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_backprop_L_plus_node_random
check_backprop_L_plus_node_random(backprop_L)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_backprop_L_leaves", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_backprop_L_leaves
check_backprop_L_leaves(backprop_L)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_backprop_L_leaves_random
check_backprop_L_leaves_random(backprop_L)
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
from course.checks.chain_rule import check_neuron_grads_returns_every_gradient
check_neuron_grads_returns_every_gradient(neuron_grads)

# %% nbgrader={"grade": true, "grade_id": "test_neuron_grads_tanh", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_neuron_grads_tanh
check_neuron_grads_tanh(neuron_grads)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_neuron_grads_tanh_random
check_neuron_grads_tanh_random(neuron_grads)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_neuron_grads_plus_nodes", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_neuron_grads_plus_nodes
check_neuron_grads_plus_nodes(neuron_grads)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_neuron_grads_plus_nodes_random
check_neuron_grads_plus_nodes_random(neuron_grads)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_neuron_grads_times_nodes", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_neuron_grads_times_nodes
check_neuron_grads_times_nodes(neuron_grads)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_neuron_grads_times_nodes_random
check_neuron_grads_times_nodes_random(neuron_grads)
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
from course.checks.chain_rule import check_forward_pass_values
check_forward_pass_values(forward_pass)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_forward_pass_values_random
check_forward_pass_values_random(forward_pass)
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
from course.checks.chain_rule import check_adjoints_returns_every_adjoint
check_adjoints_returns_every_adjoint(adjoints)

# %% nbgrader={"grade": true, "grade_id": "test_adjoints_intermediate", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_adjoints_intermediate
check_adjoints_intermediate(adjoints)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_adjoints_intermediate_random
check_adjoints_intermediate_random(adjoints)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_adjoints_x0_sums_two_uses", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_adjoints_x0_sums_two_uses
check_adjoints_x0_sums_two_uses(adjoints)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_adjoints_x0_random
check_adjoints_x0_random(adjoints)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_adjoints_x1_sums_two_uses", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_adjoints_x1_sums_two_uses
check_adjoints_x1_sums_two_uses(adjoints)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_adjoints_x1_random
check_adjoints_x1_random(adjoints)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_adjoints_x2_division", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_adjoints_x2_division
check_adjoints_x2_division(adjoints)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_adjoints_x2_random
check_adjoints_x2_random(adjoints)
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
# ## 4. Back to f: a shared node, and three uses of one input
#
# Now the whole gradient of $f(x_0, x_1) = \frac{x_0^2}{x_1}\cos(x_0) + e^{x_0/x_1}$ from
# section 1, with the same recipe: forward pass (your `evaluation_trace`), then adjoints in
# reverse order $\bar v_5 = 1, \bar v_4, \dots, \bar v_0$, then $\bar x_1$ and $\bar x_0$ using the local
# derivatives of the table in section 1.
#
# Watch for:
# * the shared quotient $v_0 = x_0/x_1$ is used **twice**, by $v_1 = x_0 \cdot v_0$ and by
#   $v_4 = e^{v_0}$: its adjoint is the sum of two contributions,
#   $\bar v_0 = \bar v_1 \cdot x_0 + \bar v_4 \cdot e^{v_0}$, and it must be complete before you
#   go further back to $x_0$ and $x_1$;
# * $x_0$ is used **three** times ($v_0$, $v_1$, $v_2$): three contributions;
# * on the way from $v_4 = e^{v_0}$ to $x_0$ you pass through $v_0$, whose local derivative
#   $1/x_1$ must not be forgotten;
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
    v5b = 1.0
    v3b = v5b * 1.0                      # v5 = v3 + v4
    v4b = v5b * 1.0
    v1b = v3b * v["v2"]                  # v3 = v1 * v2: swap
    v2b = v3b * v["v1"]
    v0b = v4b * v["v4"] + v1b * x0       # v0 is used twice: v4 = exp(v0), v1 = x0 * v0
    x0b = v0b * (1 / x1) + v1b * v["v0"] + v2b * (-math.sin(x0))   # three uses of x0
    x1b = v0b * (-x0 / x1 ** 2)                                     # x1 only through v0
    return x0b, x1b
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_f_gradient_x0", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_f_gradient_x0
check_f_gradient_x0(f_gradient)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_f_gradient_x0_random
check_f_gradient_x0_random(f_gradient)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_f_gradient_x1", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_f_gradient_x1
check_f_gradient_x1(f_gradient)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_f_gradient_x1_random
check_f_gradient_x1_random(f_gradient)
### END HIDDEN TESTS

# %%
hand = f_gradient(1.5, 0.5)
numeric = gradient(lambda x0, x1: x0 ** 2 / x1 * math.cos(x0) + math.exp(x0 / x1), [1.5, 0.5])
for name, mine, slope in zip(["x0", "x1"], hand, numeric):
    print(f"df/d{name}: by adjoints {mine:+.10f}   numerical slope {slope:+.10f}")

# %% [markdown]
# The shared node, stepped through by the engine. $v_0 = x_0/x_1$ is **one** node with two
# arrows leaving it. Press **next** until the backward pass reaches it: it receives two
# contributions, $\bar v_1 \cdot x_0$ through the product and $\bar v_4 \cdot e^{v_0}$ through the
# exponential, each added with `+=`; only then does it pass its gradient on to $x_0$ and $x_1$.

# %%
fx0, fx1 = Value(1.5, label="x0"), Value(0.5, label="x1")
fv0 = fx0 / fx1
fv0.label = "v0"
GraphStepper(fx0 * fv0 * fx0.cos() + fv0.exp(),
             title="f = x0 * v0 * cos(x0) + exp(v0) with v0 = x0 / x1: one node, two contributions")

# %% [markdown]
# ## 5. The other direction: forward mode by hand
#
# Reverse mode sends one number backward from the output and collects every input's partial in
# one sweep. **Forward mode** goes the other way, alongside the evaluation itself: choose a
# direction in which to move the inputs, $\dot x_0$ and $\dot x_1$ (the **seeds**), and carry with
# every intermediate variable its **tangent** $\dot v_i$, how fast it moves when the inputs move
# that way. Each tangent comes from the tangents of the step's inputs, with the very same local
# derivatives as before:
#
# $$\dot v_i = \sum_{j \,:\, v_j \text{ is an input of } v_i} \frac{\partial v_i}{\partial v_j}\, \dot v_j .$$
#
# For the first step of $f$, $v_0 = x_0/x_1$, that is
# $\dot v_0 = \dot x_0 / x_1 - x_0 \dot x_1 / x_1^2$; a product $v_1 = x_0 \cdot v_0$ has two terms,
# $\dot v_1 = \dot x_0 \, v_0 + x_0 \, \dot v_0$ (the product rule); $v_4 = e^{v_0}$ gives
# $\dot v_4 = e^{v_0}\, \dot v_0$ (the local derivative **times the input's tangent**). With the seeds
# $\dot x_0 = 1, \dot x_1 = 0$ the last tangent $\dot v_5$ is $\partial f/\partial x_0$; with
# $\dot x_0 = 0, \dot x_1 = 1$ it is $\partial f/\partial x_1$: **one forward sweep per input**,
# where reverse mode needed one sweep for all of them.
#
# ### Exercise 6: the tangent trace
#
# Write `tangent_trace(x0, x1, dx0, dx1)`, returning the tangents
# `{"v0": ..., ..., "v5": ...}` of the six variables of section 1 when the inputs move with
# tangents `dx0` and `dx1`, computed in order, each from the tangents before it. At
# $(1.5, 0.5)$ with seeds $(1, 0)$ you should find $\dot v_0 = 2$, $\dot v_1 = 6$ and
# $\dot v_5 = \partial f/\partial x_0 \approx 36.1068$, the number your `f_gradient` gave.

# %% nbgrader={"grade": false, "grade_id": "tangent_trace", "locked": false, "schema_version": 3, "solution": true}
def tangent_trace(x0, x1, dx0, dx1):
    '''The tangents of v0 ... v5 of f when x0 and x1 move with tangents dx0 and dx1, as a dict.'''
    v = evaluation_trace(x0, x1)
    ### BEGIN SOLUTION
    t = {"v0": dx0 / x1 - x0 * dx1 / x1 ** 2}          # v0 = x0 / x1: quotient rule
    t["v1"] = dx0 * v["v0"] + x0 * t["v0"]              # v1 = x0 * v0: product rule, two terms
    t["v2"] = -math.sin(x0) * dx0                       # v2 = cos(x0)
    t["v3"] = t["v1"] * v["v2"] + v["v1"] * t["v2"]     # v3 = v1 * v2
    t["v4"] = v["v4"] * t["v0"]                         # v4 = exp(v0): times the tangent of v0
    t["v5"] = t["v3"] + t["v4"]                         # v5 = v3 + v4
    return t
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_tangent_trace_seed_x0", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_tangent_trace_seed_x0
check_tangent_trace_seed_x0(tangent_trace)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_tangent_trace_seed_x0_random
check_tangent_trace_seed_x0_random(tangent_trace)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_tangent_trace_seed_x1", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.chain_rule import check_tangent_trace_seed_x1
check_tangent_trace_seed_x1(tangent_trace)
### BEGIN HIDDEN TESTS
from course_hidden.chain_rule import check_tangent_trace_any_direction_random
check_tangent_trace_any_direction_random(tangent_trace)
### END HIDDEN TESTS

# %% [markdown]
# The whole forward-mode trace as a table: every variable's value and its tangent for each seed.
# The last row is the gradient, one column per sweep, and it agrees with your adjoints.

# %%
values_f = evaluation_trace(1.5, 0.5)
along_x0, along_x1 = tangent_trace(1.5, 0.5, 1.0, 0.0), tangent_trace(1.5, 0.5, 0.0, 1.0)
rows = ["| variable | value | tangent, seeds $(1, 0)$ | tangent, seeds $(0, 1)$ |", "|---|---|---|---|"]
rows += [f"| `{definition(s)}` | {values_f[s.name]:.6f} | {along_x0[s.name]:+.6f} | {along_x1[s.name]:+.6f} |"
         for s in F_STEPS]
display(Markdown("\n".join(rows)))
print(f"df/dx0: forward mode {along_x0['v5']:+.10f}   adjoints {f_gradient(1.5, 0.5)[0]:+.10f}")
print(f"df/dx1: forward mode {along_x1['v5']:+.10f}   adjoints {f_gradient(1.5, 0.5)[1]:+.10f}")

# %% [markdown]
# Notebook 04 makes a number type that carries its tangent along (a **dual number**), so that
# any program computes this table by itself.

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
# * Forward mode carries a tangent $\dot v_i$ with every variable, from seeds on the inputs, with
#   the same local derivatives: one sweep per input, where reverse mode needs one for all.
# * Numerical slopes agree with all of it, to eight digits or more: the accuracy of notebook 01's
#   central differences.
#
# In notebook 03 you will build a small engine that does this bookkeeping for any expression,
# and the first bug it will show you is the one the third bullet warns about: forgetting to add.
