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
# # 05 · PyTorch autograd, and a network's backward pass by hand
#
# In notebook 03 you wrote `Value`, a scalar engine that records every operation and runs
# the chain rule backwards. PyTorch does the same thing for whole **tensors** at once. This
# notebook
#
# 1. runs PyTorch's autograd on expressions you know, and checks every number against the
#    course's scalar engine;
# 2. writes the backward pass of a small network (linear → ReLU → linear) **by hand**, in
#    tensor form, for handwritten digits, and checks it against autograd;
# 3. refactors that code step by step until it *is* `torch.nn.Module`, re-running the same
#    checks after each step;
# 4. trains it with `torch.optim`, then fits a smooth function of three variables.
#
# Exercises say **Your turn**. Run the test cell below each one: it tells you what is wrong.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course.engine import Value

torch.set_num_threads(1)  # small tensors: one thread is as fast, and every run repeats exactly
torch.manual_seed(0)
DT = torch.float64        # every check in this notebook compares in double precision


# %% [markdown]
# ## 1. Autograd on expressions you already know
#
# A tensor created with `requires_grad=True` is a **leaf**: PyTorch records every operation
# that uses it, exactly as your `Value` did, and `backward()` walks that record in reverse.
# The gradient lands in the leaf's `.grad`.
#
# Tensors and `Value`s have the same operators and the same `tanh`, `exp` and `relu` methods,
# so one Python function builds the same graph from either:

# %%
def f(a, b, c):
    return ((a * b + c).tanh() + (a / c).exp() * b ** 2).relu()


# %%
a = torch.tensor(2.0, dtype=DT, requires_grad=True)
b = torch.tensor(-3.0, dtype=DT, requires_grad=True)
c = torch.tensor(10.0, dtype=DT, requires_grad=True)
out = f(a, b, c)
out.backward()
print(f"f = {out.item():.10f}")
print(f"df/da = {a.grad.item():.10f}   df/db = {b.grad.item():.10f}   df/dc = {c.grad.item():.10f}")

# %% [markdown]
# The course's reference engine (the same interface as the one you wrote) on the same numbers:

# %%
va, vb, vc = Value(2.0), Value(-3.0), Value(10.0)
vout = f(va, vb, vc)
vout.backward()
for name, t, v in [("a", a, va), ("b", b, vb), ("c", c, vc)]:
    assert abs(t.grad.item() - v.grad) <= 1e-12 * max(1.0, abs(v.grad)), (name, t.grad.item(), v.grad)
assert abs(out.item() - vout.data) <= 1e-12 * abs(vout.data)
print("torch and the Value engine agree on f and on all three gradients")

# %% [markdown]
# ### Gradients accumulate
#
# `backward()` **adds** into `.grad`; it never overwrites. That is what makes a reused node
# correct (its gradients from every use add up), but it also means that a second backward
# pass over a *new* graph on the same leaves adds on top of the first:

# %%
f(a, b, c).backward()  # a second graph on the same leaves
print(f"after two backward passes: a.grad = {a.grad.item():.10f} = 2 x {va.grad:.10f}")
assert abs(a.grad.item() - 2 * va.grad) <= 1e-12 * abs(va.grad)

# %% [markdown]
# So clear the gradients before each new backward pass: set `.grad = None` (or call
# `.grad.zero_()`). In training, `optimizer.zero_grad()` does this for every parameter.

# %%
for t in (a, b, c):
    t.grad = None
f(a, b, c).backward()
assert abs(a.grad.item() - va.grad) <= 1e-12 * abs(va.grad)
print(f"cleared, then one backward pass: a.grad = {a.grad.item():.10f}")

# %% [markdown]
# ### `torch.no_grad()`: compute without recording
#
# Inside `with torch.no_grad():` nothing is recorded. Use it for evaluation and for
# *updating* parameters: a gradient-descent step must not become part of the next graph.
# PyTorch even refuses to change a leaf in place while recording:

# %%
p = torch.tensor(1.0, dtype=DT, requires_grad=True)
(p * p).backward()
try:
    p -= 0.1 * p.grad
except RuntimeError as e:
    print("outside no_grad:", str(e)[:80], "...")
with torch.no_grad():
    p -= 0.1 * p.grad  # what an optimizer's step() does
    recorded = (p * 2).requires_grad
print(f"inside no_grad: p = {p.item():.2f}, and p * 2 records a graph: {recorded}")
assert abs(p.item() - 0.8) <= 1e-15 and not recorded

# %% [markdown]
# ### `detach()`: the same value, without its history
#
# `x.detach()` is a tensor that shares `x`'s numbers but is cut from the graph: for the
# chain rule it is a **constant**. In the engine that is a fresh `Value` holding the number.

# %%
x = torch.tensor(3.0, dtype=DT, requires_grad=True)
(x * x.detach()).backward()  # d/dx of x * (a constant 3) is 3, not 2x = 6
vx = Value(3.0)
(vx * Value(vx.data)).backward()
print(f"d(x * x.detach())/dx = {x.grad.item()}   engine: {vx.grad}")
assert x.grad.item() == vx.grad == 3.0

# %% [markdown]
# ### Non-scalar outputs: `backward(gradient=v)`
#
# `backward()` with no argument needs a **scalar** output (it seeds `dL/dL = 1`). For a tensor
# output `y`, pass the seed yourself: `y.backward(gradient=v)` computes
# $v^\top J$, the vector–Jacobian product, which is the gradient of the scalar
# $\sum_i v_i\, y_i$. When $y_i$ depends only on $x_i$, that is simply $v_i\, dy_i/dx_i$:

# %%
xs = torch.tensor([0.5, -1.0, 2.0], dtype=DT, requires_grad=True)
v = torch.tensor([1.0, 10.0, 100.0], dtype=DT)
ys = (xs * xs).tanh() * xs  # three outputs
ys.backward(gradient=v)
print("xs.grad =", xs.grad.tolist())
for i in range(3):
    vi = Value(xs[i].item())
    ((vi * vi).tanh() * vi).backward()
    assert abs(xs.grad[i].item() - v[i].item() * vi.grad) <= 1e-12 * abs(v[i].item() * vi.grad)
print("xs.grad[i] = v[i] * dy_i/dx_i, each checked against the engine")

# %% [markdown]
# ## 2. Handwritten digits
#
# scikit-learn ships 1,797 handwritten digits of 8×8 pixels (grey levels 0 to 16): nothing is
# downloaded. We scale the pixels to [0, 1], flatten each image to 64 numbers, and keep a
# fixed random fifth of the images aside as a test set.

# %%
from sklearn.datasets import load_digits

digits = load_digits()
X_all = torch.tensor(digits.data / 16.0, dtype=DT)
y_all = torch.tensor(digits.target, dtype=torch.long)
order = torch.randperm(len(y_all), generator=torch.Generator().manual_seed(0))
X_train, y_train = X_all[order[:1437]], y_all[order[:1437]]
X_test, y_test = X_all[order[1437:]], y_all[order[1437:]]
print("train:", tuple(X_train.shape), " test:", tuple(X_test.shape))

# %% tags=["slow"]
fig, axes = plt.subplots(2, 10, figsize=(9, 2.2))
for ax, image, label in zip(axes.flat, X_train[:20], y_train[:20]):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(int(label))
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. The network, forward and backward by hand
#
# | step | computes | shape (batch of $N$) |
# |---|---|---|
# | input | $x$ | $(N, 64)$ |
# | linear | $h_{pre} = x\,W_1 + b_1$ | $(N, 32)$; $W_1$: $(64, 32)$, $b_1$: $(32,)$ |
# | ReLU | $h = \max(h_{pre}, 0)$ | $(N, 32)$ |
# | linear | $z = h\,W_2 + b_2$ | $(N, 10)$; $W_2$: $(32, 10)$, $b_2$: $(10,)$ |
# | loss | $L$ | a number |
#
# The **backward pass** runs the table from the bottom up. Each step receives
# $g = \partial L/\partial(\text{its output})$, which has the shape of its output, and returns
# the gradient with respect to its input, which has the shape of its input.

# %% tags=["slow"]
import graphviz
from IPython.display import display

diagram = graphviz.Digraph(graph_attr={"rankdir": "LR", "nodesep": "0.3"},
                           node_attr={"fontname": "Helvetica", "fontsize": "11", "shape": "box", "style": "rounded"},
                           edge_attr={"fontname": "Helvetica", "fontsize": "10"})
for name, label in [("x", "x (N, 64)"), ("h_pre", "h_pre (N, 32)"), ("h", "h (N, 32)"), ("z", "z (N, 10)"), ("L", "L")]:
    diagram.node(name, label)
diagram.node("p1", "W1 (64, 32)\\nb1 (32,)", style="rounded,dashed")
diagram.node("p2", "W2 (32, 10)\\nb2 (10,)", style="rounded,dashed")
for a, b, label in [("x", "h_pre", "x @ W1 + b1"), ("p1", "h_pre", ""), ("h_pre", "h", "relu"),
                    ("h", "z", "h @ W2 + b2"), ("p2", "z", ""), ("z", "L", "loss")]:
    diagram.edge(a, b, label)
backward = {"color": "firebrick", "fontcolor": "firebrick", "style": "dashed", "constraint": "false"}
for a, b, label in [("L", "z", "g_z = dL/dz"), ("z", "h", "g_h = g_z @ W2.T"), ("z", "p2", "h.T @ g_z,  g_z.sum(0)"),
                    ("h", "h_pre", "g_h_pre = g_h * (h_pre > 0)"), ("h_pre", "p1", "x.T @ g_h_pre,  g_h_pre.sum(0)")]:
    diagram.edge(a, b, label, **backward)
display(diagram)  # black: forward pass; red: backward pass


# %%
def linear(x, w, b):
    return x @ w + b


def relu(x):
    return x.clamp_min(0.0)


def forward(x, p):
    # Returns every intermediate result: the backward pass needs them.
    h_pre = linear(x, p["w1"], p["b1"])
    h = relu(h_pre)
    z = linear(h, p["w2"], p["b2"])
    return h_pre, h, z


def init_params(n_in=64, n_hidden=32, n_out=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"w1": torch.randn(n_in, n_hidden, generator=g, dtype=DT) * (2 / n_in) ** 0.5,
            "b1": torch.randn(n_hidden, generator=g, dtype=DT) * 0.1,
            "w2": torch.randn(n_hidden, n_out, generator=g, dtype=DT) * (1 / n_hidden) ** 0.5,
            "b2": torch.randn(n_out, generator=g, dtype=DT) * 0.1}


params = init_params()
batch_x, batch_y = X_train[:64], y_train[:64]  # one batch of 64 images
batch_onehot = F.one_hot(batch_y, 10).to(DT)  # the targets for the squared error
z = forward(batch_x, params)[2]
print("scores of the first image:", np.round(z[0].numpy(), 3))


# %% [markdown]
# ### The linear layer
#
# $y = x\,W + b$ means $y_{ij} = \sum_k x_{ik} W_{kj} + b_j$. With $g = \partial L/\partial y$:
#
# * $\dfrac{\partial L}{\partial x_{ik}} = \sum_j g_{ij} W_{kj}$, that is $g\,W^\top$, shape $(N, n_{in})$;
# * $\dfrac{\partial L}{\partial W_{kj}} = \sum_i x_{ik}\, g_{ij}$, that is $x^\top g$, shape $(n_{in}, n_{out})$;
# * $\dfrac{\partial L}{\partial b_j} = \sum_i g_{ij}$: $b$ is added to **every row** of the batch,
#   so its gradient collects one contribution per row.
#
# A quick way to remember the transposes: each gradient has the shape of what it is the
# gradient of, and there is only one way to multiply $g$ with $W$ or $x$ that gives that shape.
#
# **Your turn.** Return the three gradients.

# %% nbgrader={"grade": false, "grade_id": "linear_backward", "locked": false, "schema_version": 3, "solution": true}
def linear_backward(x, w, grad_out):
    # Gradients of L through y = x @ w + b, given grad_out = dL/dy of shape (N, n_out).
    # Returns (dL/dx, dL/dw, dL/db), with the shapes of x, w and b.
    ### BEGIN SOLUTION
    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(0)
    ### END SOLUTION


# %% [markdown]
# The tests compare with autograd. `(y * g).sum()` is a scalar whose gradient with respect to
# `y` is exactly `g`, so its backward pass gives the gradients for an upstream gradient `g`.
# The visible cases use a square layer ($N = n_{in} = n_{out} = 3$), so that a forgotten
# transpose gives wrong numbers instead of a shape error.

# %% nbgrader={"grade": true, "grade_id": "test_linear_backward_input", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_linear_backward_input
check_linear_backward_input(linear_backward)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_linear_backward_input_random
check_linear_backward_input_random(linear_backward)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_linear_backward_weights", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_linear_backward_weights
check_linear_backward_weights(linear_backward)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_linear_backward_weights_random
check_linear_backward_weights_random(linear_backward)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_linear_backward_bias", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_linear_backward_bias
check_linear_backward_bias(linear_backward)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_linear_backward_bias_random
check_linear_backward_bias_random(linear_backward)
### END HIDDEN TESTS

# %% [markdown]
# ### ReLU
#
# $\mathrm{relu}(x) = \max(x, 0)$ acts on each entry alone, so its Jacobian is diagonal and the
# backward pass is an elementwise product with the **mask** $[x > 0]$: the gradient passes
# where the layer's *input* was positive and is blocked elsewhere. At exactly $x = 0$,
# PyTorch (and this course) takes the derivative to be 0.
#
# **Your turn.** `x` is the ReLU's input, `grad_out` the gradient of the loss with respect to
# its output.

# %% nbgrader={"grade": false, "grade_id": "relu_backward", "locked": false, "schema_version": 3, "solution": true}
def relu_backward(x, grad_out):
    # dL/dx for y = relu(x), given grad_out = dL/dy (same shape as x)
    ### BEGIN SOLUTION
    return grad_out * (x > 0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_relu_backward_value", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_relu_backward_value
check_relu_backward_value(relu_backward)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_relu_backward_random
check_relu_backward_random(relu_backward)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_relu_backward_at_zero", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_relu_backward_at_zero
check_relu_backward_at_zero(relu_backward)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_relu_backward_at_zero_random
check_relu_backward_at_zero_random(relu_backward)
### END HIDDEN TESTS

# %% [markdown]
# ### Mean squared error
#
# First we score the network as a regression onto one-hot targets $t$ (a 1 in the column of
# the right digit). `torch.nn.functional.mse_loss` takes the mean over **all** $N \cdot C$ entries:
#
# $$L = \frac{1}{N C}\sum_{i,j} (z_{ij} - t_{ij})^2, \qquad
# \frac{\partial L}{\partial z_{ij}} = \frac{2\,(z_{ij} - t_{ij})}{N C}.$$
#
# The division matters: without it the gradient, and so the size of each training step,
# would grow with the batch size.
#
# **Your turn.**

# %%
def mse(pred, target):
    return ((pred - target) ** 2).mean()


assert abs(mse(z, batch_onehot).item() - F.mse_loss(z, batch_onehot).item()) <= 1e-15
print(f"MSE of the untrained network on the batch: {mse(z, batch_onehot).item():.6f} (the same as F.mse_loss)")


# %% nbgrader={"grade": false, "grade_id": "mse_backward", "locked": false, "schema_version": 3, "solution": true}
def mse_backward(pred, target):
    # dL/dpred for L = mse(pred, target)
    ### BEGIN SOLUTION
    return 2 * (pred - target) / pred.numel()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_mse_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_mse_backward
check_mse_backward(mse_backward)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_mse_backward_random
check_mse_backward_random(mse_backward)
### END HIDDEN TESTS

# %% [markdown]
# ### Cross-entropy
#
# For classification the usual loss turns the scores $z_i$ of example $i$ into probabilities with
# the softmax, and charges $-\log$ of the probability of the right label $y_i$:
#
# $$L = \frac1N \sum_i \Big(\log \sum_j e^{z_{ij}} \;-\; z_{i y_i}\Big).$$
#
# $e^{z}$ overflows for $z > 709$ in float64 (and 88 in float32). Since
# $\log\sum_j e^{z_j} = m + \log\sum_j e^{z_j - m}$ for any $m$, subtract each row's maximum
# first: then the largest term is $e^0 = 1$ and nothing overflows (the *log-sum-exp trick*).
#
# **Your turn.** `logits` has shape $(N, C)$, `labels` holds $N$ integers in $0..C-1$. Return
# the loss as a 0-dimensional tensor, like `F.cross_entropy`.

# %% nbgrader={"grade": false, "grade_id": "cross_entropy", "locked": false, "schema_version": 3, "solution": true}
def cross_entropy(logits, labels):
    # the mean over the batch of logsumexp(logits[i]) - logits[i, labels[i]], without overflow
    ### BEGIN SOLUTION
    m = logits.max(dim=1, keepdim=True).values
    logsumexp = m[:, 0] + (logits - m).exp().sum(dim=1).log()
    return (logsumexp - logits[torch.arange(len(labels)), labels]).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cross_entropy_value", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_cross_entropy_value
check_cross_entropy_value(cross_entropy)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_cross_entropy_random
check_cross_entropy_random(cross_entropy)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_cross_entropy_large_logits", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_cross_entropy_large_logits
check_cross_entropy_large_logits(cross_entropy)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_cross_entropy_large_logits_random
check_cross_entropy_large_logits_random(cross_entropy)
### END HIDDEN TESTS

# %% [markdown]
# Its gradient is short. With $s_i = \mathrm{softmax}(z_i)$ and the one-hot row $t_i$ of the label,
#
# $$\frac{\partial L}{\partial z_{ij}} = \frac{s_{ij} - t_{ij}}{N}:$$
#
# push the right score up, every score down in proportion to its probability, and divide by
# $N$ because the loss is a mean over the batch. (Compute the softmax from the log-softmax,
# or with the maximum subtracted, for the same reason as above.)
#
# **Your turn.**

# %% nbgrader={"grade": false, "grade_id": "cross_entropy_backward", "locked": false, "schema_version": 3, "solution": true}
def cross_entropy_backward(logits, labels):
    # dL/dlogits for L = cross_entropy(logits, labels)
    ### BEGIN SOLUTION
    shifted = logits - logits.max(dim=1, keepdim=True).values
    probs = shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)
    onehot = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    return (probs - onehot) / logits.shape[0]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cross_entropy_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_cross_entropy_backward
check_cross_entropy_backward(cross_entropy_backward)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_cross_entropy_backward_random
check_cross_entropy_backward_random(cross_entropy_backward)
### END HIDDEN TESTS

# %% [markdown]
# ### The whole network
#
# Now chain the pieces, from the loss back to the first layer, reusing what `forward` kept:
#
# 1. `g_z = loss_backward(z, target)`;
# 2. through the second linear layer (its input is `h`): `g_h`, and the gradients of `w2`, `b2`;
# 3. through the ReLU (its input is `h_pre`): `g_h_pre`;
# 4. through the first linear layer (its input is `x`): the gradients of `w1`, `b1`.
#
# **Your turn.** Return a dict with the same keys as `p`. `loss_backward` is `mse_backward` or
# `cross_entropy_backward`.

# %% nbgrader={"grade": false, "grade_id": "network_backward", "locked": false, "schema_version": 3, "solution": true}
def network_backward(x, target, p, loss_backward):
    # {"w1": dL/dw1, "b1": dL/db1, "w2": dL/dw2, "b2": dL/db2} for L = loss(forward(x, p)[2], target)
    ### BEGIN SOLUTION
    h_pre, h, z = forward(x, p)
    g_z = loss_backward(z, target)
    g_h, g_w2, g_b2 = linear_backward(h, p["w2"], g_z)
    g_h_pre = relu_backward(h_pre, g_h)
    _, g_w1, g_b1 = linear_backward(x, p["w1"], g_h_pre)
    return {"w1": g_w1, "b1": g_b1, "w2": g_w2, "b2": g_b2}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_network_backward_mse", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_network_backward_mse
check_network_backward_mse(network_backward, mse_backward)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_network_backward_mse_random
check_network_backward_mse_random(network_backward, mse_backward)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_network_backward_cross_entropy", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_network_backward_cross_entropy
check_network_backward_cross_entropy(network_backward, cross_entropy_backward)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_network_backward_cross_entropy_random
check_network_backward_cross_entropy_random(network_backward, cross_entropy_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. From functions to `torch.nn.Module`, one step at a time
#
# We now reshape the same code four times. After each step one check compares all four
# gradients with autograd on the same weights, for both losses: nothing may break.

# %%
def autograd_grads(x, target, p, loss_fn):
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in p.items()}
    loss_fn(forward(x, leaves)[2], target).backward()
    return {k: v.grad for k, v in leaves.items()}


def check(grads, loss_fn, target):
    expected = autograd_grads(batch_x, target, params, loss_fn)
    for k in ("w1", "b1", "w2", "b2"):
        assert torch.allclose(grads[k], expected[k], rtol=1e-10, atol=1e-13), f"the gradient of {k} differs"
    print(f"{loss_fn.__name__}: w1, b1, w2, b2 all equal autograd's")


# %% [markdown]
# **Step 1: functions.** What you wrote above.

# %%
check(network_backward(batch_x, batch_onehot, params, mse_backward), F.mse_loss, batch_onehot)
check(network_backward(batch_x, batch_y, params, cross_entropy_backward), F.cross_entropy, batch_y)


# %% [markdown]
# **Step 2: layer classes.** Each layer is an object that *keeps what its backward pass
# needs* (its input) when it is called, and whose `backward` takes the upstream gradient and
# stores its parameters' gradients on itself. The model is now a list of layers, and the
# backward pass is a loop over that list in reverse.

# %%
class Linear:
    def __init__(self, w, b):
        self.w, self.b = w, b

    def __call__(self, x):
        self.x = x  # kept for backward
        return linear(x, self.w, self.b)

    def backward(self, grad_out):
        grad_x, self.grad_w, self.grad_b = linear_backward(self.x, self.w, grad_out)
        return grad_x


class ReLU:
    def __call__(self, x):
        self.x = x
        return relu(x)

    def backward(self, grad_out):
        return relu_backward(self.x, grad_out)


class Loss:
    def __init__(self, loss, loss_backward):
        self.loss, self.loss_backward = loss, loss_backward

    def __call__(self, pred, target):
        self.pred, self.target = pred, target
        return self.loss(pred, target)

    def backward(self):
        return self.loss_backward(self.pred, self.target)


class Model:
    def __init__(self, p, loss):
        self.layers = [Linear(p["w1"], p["b1"]), ReLU(), Linear(p["w2"], p["b2"])]
        self.loss = loss

    def __call__(self, x, target):
        for layer in self.layers:
            x = layer(x)
        return self.loss(x, target)

    def backward(self):
        g = self.loss.backward()
        for layer in reversed(self.layers):
            g = layer.backward(g)

    def grads(self):
        first, _, second = self.layers
        return {"w1": first.grad_w, "b1": first.grad_b, "w2": second.grad_w, "b2": second.grad_b}


# %%
for loss, loss_backward, torch_loss, target in [(mse, mse_backward, F.mse_loss, batch_onehot),
                                                (cross_entropy, cross_entropy_backward, F.cross_entropy, batch_y)]:
    model = Model(params, Loss(loss, loss_backward))
    model(batch_x, target)
    model.backward()
    check(model.grads(), torch_loss, target)


# %% [markdown]
# **Step 3: a common base class.** Every layer did the same bookkeeping: remember the
# arguments of the call, compute, and later hand them to the backward computation. A base
# class does that once; a layer only says `forward` and `bwd`. The loss becomes a layer like
# the others, whose upstream gradient is $\partial L/\partial L = 1$; and a `Sequential` of
# modules is itself a module.

# %%
class Module:
    def __call__(self, *args):
        self.args = args  # everything backward may need
        self.out = self.forward(*args)
        return self.out

    def backward(self, grad_out=1.0):
        return self.bwd(grad_out, *self.args)


class Linear(Module):
    def __init__(self, w, b):
        self.w, self.b = w, b

    def forward(self, x):
        return linear(x, self.w, self.b)

    def bwd(self, grad_out, x):
        grad_x, self.grad_w, self.grad_b = linear_backward(x, self.w, grad_out)
        return grad_x


class ReLU(Module):
    def forward(self, x):
        return relu(x)

    def bwd(self, grad_out, x):
        return relu_backward(x, grad_out)


class MSE(Module):
    def forward(self, pred, target):
        return mse(pred, target)

    def bwd(self, grad_out, pred, target):
        return grad_out * mse_backward(pred, target)


class CrossEntropy(Module):
    def forward(self, logits, labels):
        return cross_entropy(logits, labels)

    def bwd(self, grad_out, logits, labels):
        return grad_out * cross_entropy_backward(logits, labels)


class Sequential(Module):
    def __init__(self, *layers):
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def bwd(self, grad_out, x):
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out


# %%
for loss, torch_loss, target in [(MSE(), F.mse_loss, batch_onehot), (CrossEntropy(), F.cross_entropy, batch_y)]:
    net = Sequential(Linear(params["w1"], params["b1"]), ReLU(), Linear(params["w2"], params["b2"]))
    loss(net(batch_x), target)
    net.backward(loss.backward())
    first, second = net.layers[0], net.layers[2]
    check({"w1": first.grad_w, "b1": first.grad_b, "w2": second.grad_w, "b2": second.grad_b}, torch_loss, target)


# %% [markdown]
# **Step 4: `torch.nn.Module`.** This is PyTorch's version of our base class, with one
# difference that removes half the code: there is no `bwd` to write. Autograd records the
# forward pass, so `forward` is all a layer says. `nn.Linear` keeps its weight as
# $(n_{out}, n_{in})$ and computes $x\,W^\top + b$, so we copy our weights in transposed.

# %%
class Net(nn.Module):
    def __init__(self, n_in=64, n_hidden=32, n_out=10):
        super().__init__()
        self.hidden = nn.Linear(n_in, n_hidden)
        self.out = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.out(self.hidden(x).relu())


net = Net().to(DT)
with torch.no_grad():  # the same weights as params
    net.hidden.weight.copy_(params["w1"].T)
    net.hidden.bias.copy_(params["b1"])
    net.out.weight.copy_(params["w2"].T)
    net.out.bias.copy_(params["b2"])

for torch_loss, target in [(F.mse_loss, batch_onehot), (F.cross_entropy, batch_y)]:
    net.zero_grad()
    torch_loss(net(batch_x), target).backward()
    check({"w1": net.hidden.weight.grad.T, "b1": net.hidden.bias.grad,
           "w2": net.out.weight.grad.T, "b2": net.out.bias.grad}, torch_loss, target)


# %% [markdown]
# ## 5. Training with `torch.optim`
#
# An optimizer holds the parameters and updates them from their `.grad` (under `no_grad`).
# One training step is always the same four lines: clear the old gradients, compute the
# loss, backward, update.
#
# **Your turn.** Write that step. Return the loss as a Python float.

# %% nbgrader={"grade": false, "grade_id": "train_step", "locked": false, "schema_version": 3, "solution": true}
def train_step(model, optimizer, loss_fn, x, target):
    # clear the gradients, compute loss_fn(model(x), target), backward, update; return the loss as a float
    ### BEGIN SOLUTION
    optimizer.zero_grad()
    loss = loss_fn(model(x), target)
    loss.backward()
    optimizer.step()
    return loss.item()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_step_updates", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_train_step_updates
check_train_step_updates(train_step)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_train_step_updates_random
check_train_step_updates_random(train_step)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_train_step_returns_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course.checks.pytorch import check_train_step_returns_loss
check_train_step_returns_loss(train_step)
### BEGIN HIDDEN TESTS
from course_hidden.pytorch import check_train_step_returns_loss_random
check_train_step_returns_loss_random(train_step)
### END HIDDEN TESTS

# %% [markdown]
# Now train `Net` on the digits, with cross-entropy, mini-batches of 64 and the Adam
# optimizer. We train in float32, PyTorch's usual precision for training.

# %% tags=["slow"]
torch.manual_seed(0)
digit_net = Net()
optimizer = torch.optim.Adam(digit_net.parameters(), lr=3e-3)
Xtr, Xte = X_train.float(), X_test.float()
losses = []
start = time.perf_counter()
for epoch in range(30):
    batches = torch.randperm(len(Xtr)).split(64)
    for idx in batches:
        losses.append(train_step(digit_net, optimizer, F.cross_entropy, Xtr[idx], y_train[idx]))
train_seconds = time.perf_counter() - start
print(f"{len(losses)} steps in {train_seconds:.2f} s")

# %% tags=["slow"]
with torch.no_grad():
    test_accuracy = (digit_net(Xte).argmax(dim=1) == y_test).double().mean().item()
    train_accuracy = (digit_net(Xtr).argmax(dim=1) == y_train).double().mean().item()
print(f"accuracy: train {train_accuracy:.1%}, test {test_accuracy:.1%} ({len(y_test)} test images)")

# %% tags=["slow"]
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(losses, lw=0.8)
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("cross-entropy (batch)")
ax.set_title("Training loss")
plt.tight_layout()
plt.show()

# %% tags=["slow"]
with torch.no_grad():
    predicted = digit_net(Xte).argmax(dim=1)
wrong = torch.nonzero(predicted != y_test).flatten()[:10]
fig, axes = plt.subplots(1, max(len(wrong), 1), figsize=(9, 1.4), squeeze=False)
for ax, i in zip(axes.flat, wrong):
    ax.imshow(X_test[i].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{int(y_test[i])} as {int(predicted[i])}", fontsize=9)
for ax in axes.flat:
    ax.axis("off")
plt.suptitle("Test images the network gets wrong (label as prediction)", fontsize=10)
plt.tight_layout()
plt.show()


# %% [markdown]
# ## 6. Fitting a smooth function
#
# Networks also fit smooth functions. Here is one of three variables,
#
# $$f(x) = \sqrt{x_0 / x_1}\;\sin(x_0 x_1)\;e^{x_2}, \qquad x_0, x_1 \in [0.5, 2],\; x_2 \in [-1, 1],$$
#
# sampled at random points (positive $x_0, x_1$, so the square root is real). A small MLP with
# `tanh` units (smooth, like $f$) learns it from 2,000 samples, trained with full-batch Adam.

# %%
def toy(x):
    return torch.sqrt(x[:, 0] / x[:, 1]) * torch.sin(x[:, 0] * x[:, 1]) * torch.exp(x[:, 2])


def sample(n, gen):
    low, high = torch.tensor([0.5, 0.5, -1.0]), torch.tensor([2.0, 2.0, 1.0])
    x = low + (high - low) * torch.rand(n, 3, generator=gen)
    return x, toy(x)[:, None]


gen = torch.Generator().manual_seed(0)
x_fit, y_fit = sample(2000, gen)
x_val, y_val = sample(1000, gen)
torch.manual_seed(0)
mlp = nn.Sequential(nn.Linear(3, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))
print(f"f ranges over [{y_fit.min():.2f}, {y_fit.max():.2f}] on the samples")

# %% tags=["slow"]
optimizer = torch.optim.Adam(mlp.parameters(), lr=3e-3)
fit_losses = []
start = time.perf_counter()
for step in range(1500):
    fit_losses.append(train_step(mlp, optimizer, F.mse_loss, x_fit, y_fit))
fit_seconds = time.perf_counter() - start
with torch.no_grad():
    rms = F.mse_loss(mlp(x_val), y_val).sqrt().item()
print(f"1500 steps in {fit_seconds:.2f} s; on 1000 new points the RMS error is {rms:.4f}"
      f" (f itself has RMS {y_val.pow(2).mean().sqrt().item():.2f})")

# %% tags=["slow"]
with torch.no_grad():
    pred_val = mlp(x_val)
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
left.plot(fit_losses, lw=0.8)
left.set_yscale("log")
left.set_xlabel("step")
left.set_ylabel("mean squared error")
left.set_title("Training loss")
right.scatter(y_val, pred_val, s=4, alpha=0.5)
right.plot([y_val.min(), y_val.max()], [y_val.min(), y_val.max()], "k--", lw=0.8)
right.set_xlabel("f(x)")
right.set_ylabel("network")
right.set_title("1000 new points")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What we measured
#
# Measured on the machine this course was written on (2 CPU cores, one torch thread, the
# seeds above); the cells print your own figures, which may differ a little:
#
# | what | figure |
# |---|---|
# | digits, `Net` with cross-entropy and Adam, 30 epochs (690 steps of 64 images) | **96.9 %** test accuracy (349 of 360 images), 98.6 % on the training images |
# | training time for those 690 steps | about **0.2 s** |
# | MLP fit of $f$, 1,500 full-batch Adam steps | RMS error about 0.017 on 1,000 new points ($f$ itself has RMS 1.2), in about 3 s |
# | one training step, hand-written backward ÷ autograd (benchmark, batch 64) | about **0.5** (0.4 to 0.6 between runs): the hand-written step records no graph |
# | the same at the full 1,437-image batch | about 0.9: the matrix products dominate, and both do the same arithmetic |
# | the whole notebook, top to bottom | 15 to 30 s, depending on the load of the machine |
#
# The backward pass you wrote by hand is what autograd runs for you: the benchmark
# `benchmarks/handwritten_vs_autograd.py` times one training step of the same network on
# the same batch both ways (`./run bench`).
