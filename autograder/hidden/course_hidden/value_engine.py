"""Notebook 03's hidden checks: each visible idea again on seeded random inputs.

The inputs come from :func:`course.checks.expect.seeded` (the check's name and the
instructor's grading salt), the expected values from the same independent sources as
the visible checks (closed forms, :mod:`course.rules`, torch float64), and an answer
equal to the visible test's answer on these other inputs is named ``hard-coded``.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from course.checks import value_engine as ve
from course.checks import value_engine_graph as vg
from course.checks import value_engine_probes as probes
from course.checks.answers import ask, check
from course.checks.expect import expect_close, seeded
from course.checks.value_engine_expect import expect_backprop, expect_local, expect_raises, hard_coded, needs, numbers


def _pairs(name: str, n: int, low: float, high: float) -> np.ndarray:
    return seeded(name).uniform(low, high, size=(n, 2))


@check
def check_add_value_random(Value: type) -> None:
    """a + b at random (a, b): value a + b."""
    for x, y in _pairs("add", 4, -10, 10):
        what = f"(Value({x:.6g}) + Value({y:.6g})).data"
        got = numbers(what, ask(what, probes.data, Value, ve.ADD, [x, y]), ["data"])[0]
        expect_close(what, got, x + y, tol=1e-12 * (1 + abs(x + y)), known=hard_coded(-1.5))


@check
def check_add_local_backward_random(Value: type) -> None:
    """c = a + b; c.grad = g at random (a, b, g): both grads are g."""
    rng = seeded("add local backward")
    for x, y, g in rng.uniform(-3, 3, size=(4, 3)):
        expect_local(Value, ve.ADD, "c = a + b", [x, y], x + y, (1.0, 1.0), out_grad=g, wrong=ve.ADD_WRONG,
                     visible=[-1.5, 1.5, 1.5])


@check
def check_mul_random(Value: type) -> None:
    """c = a * b; c.grad = g at random (a, b, g): value a b, grads (b g, a g)."""
    rng = seeded("mul local backward")
    for x, y, g in rng.uniform(-3, 3, size=(4, 3)):
        expect_local(Value, ve.MUL, "c = a * b", [x, y], x * y, (y, x), out_grad=g, wrong=ve.mul_wrong(x, y),
                     visible=[-7.0, -5.25, 3.0])


@check
def check_reuse_add_random(Value: type) -> None:
    """b = a + a with a random out.grad g and a.grad preset: a.grad gains 2 g."""
    for x, g in _pairs("reuse add", 3, -3, 3):
        expect_local(Value, lambda a: a + a, "b = a + a", [x], 2 * x, [2.0], out_grad=g,
                     wrong=[("grad-overwritten", [1.0], ve.OVERWRITTEN)], visible=[6.0, 2.0])


@check
def check_reuse_mul_random(Value: type) -> None:
    """a * a * a, backpropagated, at random a: 3 a^2 (three uses of a, all added)."""
    for x in seeded("reuse mul").uniform(-3, 3, 3):
        expect_backprop(Value, lambda a: a * a * a, "out = a * a * a", [x], (x ** 3, 3 * x * x), known=[
            ("grad-overwritten", (x ** 3, x * x), ve.OVERWRITTEN)], visible=(27.0, 6.0))


@check
def check_pow_random(Value: type) -> None:
    """a ** k at random a > 0 and k, random out.grad and a preset grad."""
    rng = seeded("pow")
    for x, k, g, p in zip(rng.uniform(0.5, 3, 5), rng.choice([-2, -1, 0.5, 1.5, 2, 3], 5), rng.uniform(-2, 2, 5),
                          rng.uniform(-1, 1, 5)):
        ve.expect_pow(Value, float(x), float(k), out_grad=float(g), preset=[float(p)], visible=[9.0, 6.0])


@check
def check_pow_negative_base_random(Value: type) -> None:
    """A random negative base to a random non-integer power raises ValueError."""
    rng = seeded("pow negative base")
    for x, k in zip(-rng.uniform(0.1, 5, 3), rng.choice([0.5, 1.5, -0.5, 2.5], 3)):
        expect_raises(Value, lambda a, k=float(k): a ** k, f"Value({x:.6g}) ** {k}", [float(x)], "ValueError",
                      ve.COMPLEX)


@check
def check_neg_and_sub_random(Value: type) -> None:
    """a - b at random (a, b): value a - b, gradients (1, -1)."""
    needs(Value, "__add__", "__mul__")
    for x, y in _pairs("sub", 3, -5, 5):
        expect_backprop(Value, lambda a, b: a - b, "out = a - b", [x, y], (x - y, 1.0, -1.0), known=ve.sub_known(x, y),
                        visible=(5.5, 1.0, -1.0))


@check
def check_div_random(Value: type) -> None:
    """a / b at random (a, b), |b| >= 0.5: value a/b, gradients (1/b, -a/b^2)."""
    needs(Value, "__mul__", "__pow__")
    rng = seeded("div")
    for x, y in rng.uniform(0.5, 4, size=(3, 2)) * rng.choice([-1, 1], size=(3, 2)):
        expect_backprop(Value, lambda a, b: a / b, "out = a / b", [x, y], (x / y, 1 / y, -x / y ** 2),
                        known=ve.div_known(x, y), visible=(-1.5, -0.5, -0.75))


@check
def check_div_by_zero_random(Value: type) -> None:
    """A random number divided by 0 raises ZeroDivisionError."""
    needs(Value, "__mul__", "__pow__")
    x = float(seeded("div by zero").uniform(-5, 5))
    expect_raises(Value, lambda a: a / 0, f"Value({x:.6g}) / 0", [x], "ZeroDivisionError", ve.DIV_ZERO)


@check
def check_reflected_random(Value: type) -> None:
    """c * v + c, c - v and c / v at random (v, c): values and d/dv = c, -1, -c/v^2."""
    needs(Value, "__add__", "__mul__", "__pow__", "__neg__")
    for x, c in seeded("reflected").uniform(0.5, 4, size=(3, 2)):
        expect_backprop(Value, lambda v, c=c: c * v + c, f"out = {c:.6g} * v + {c:.6g}", [x], (c * x + c, c),
                        names=["v"])
        expect_backprop(Value, lambda v, c=c: c - v, f"out = {c:.6g} - v", [x], (c - x, -1.0), names=["v"],
                        known=[("reflected-order", (x - c, 1.0), ve.ORDER)])
        expect_backprop(Value, lambda v, c=c: c / v, f"out = {c:.6g} / v", [x], (c / x, -c / x ** 2), names=["v"],
                        known=[("reflected-order", (x / c, 1 / c), ve.ORDER)])


@check
def check_sum_random(Value: type) -> None:
    """sum of 7 random Values: their sum, every gradient 1."""
    needs(Value, "__add__")
    xs = [float(x) for x in seeded("sum").uniform(-3, 3, 7)]
    expect_backprop(Value, lambda *vs: sum(vs), "out = sum([a, b, c, d, e, f, g])", xs,
                    (math.fsum(xs), *[1.0] * 7), names=list("abcdefg"))


@check
def check_tanh_random(Value: type) -> None:
    """a.tanh() at random a, out.grad and preset grad: 1 - t^2 times out.grad, added."""
    for x, g, p in seeded("tanh").uniform(-3, 3, size=(4, 3)):
        ve.expect_unary(Value, "tanh", x, out_grad=g, preset=[p])


@check
def check_tanh_large_random(Value: type) -> None:
    """tanh at random |x| in [360, 1000] is exactly ±1, and its gradient there is 0."""
    needs(Value, "tanh")
    rng = seeded("tanh large")
    for x in rng.uniform(360, 1000, 3) * rng.choice([-1, 1], 3):
        ve.expect_tanh_large(Value, float(x))
        expect_local(Value, lambda a: a.tanh(), "out = a.tanh()", [float(x)], math.copysign(1.0, x), [0.0])


@check
def check_exp_random(Value: type) -> None:
    """a.exp() at random a, out.grad and preset grad: e^a times out.grad, added."""
    for x, g, p in seeded("exp").uniform(-3, 3, size=(4, 3)):
        ve.expect_unary(Value, "exp", x, out_grad=g, preset=[p])


@check
def check_relu_random(Value: type) -> None:
    """a.relu() at random a (both signs), out.grad and preset grad."""
    for x, g, p in seeded("relu").uniform(-3, 3, size=(6, 3)):
        ve.expect_unary(Value, "relu", x, out_grad=g, preset=[p])


def random_steps(name: str, n_leaves: int, n_ops: int) -> list[tuple[int, int, int]]:
    """A random graph's steps ``(op, i, j)``: each node combines two earlier ones, so nodes are shared."""
    rng = seeded(name)
    return [(int(rng.integers(0, 2)), int(rng.integers(0, n_leaves + s)), int(rng.integers(0, n_leaves + s)))
            for s in range(n_ops)]


@check
def check_topological_order_random(Value: type, topological_order: Callable) -> None:
    """A random 30-operation graph with shared nodes: a valid order."""
    needs(Value, "__add__", "__mul__")
    xs = [float(x) for x in seeded("topo leaves").uniform(-2, 2, 4)]
    vg.expect_valid_order(Value, topological_order, "a random 30-operation graph with shared nodes)", 4,
                          random_steps("topo", 4, 30), xs)


@check
def check_deep_chain_random(Value: type, topological_order: Callable) -> None:
    """A chain of a random 3,000-6,000 multiplications sorts iteratively."""
    needs(Value, "__mul__")
    vg.expect_deep_chain(Value, topological_order, int(seeded("deep").integers(3000, 6000)), "*")


@check
def check_unhashable_random(Value: type, topological_order: Callable) -> None:
    """Four leaves of equal random data whose class defines __eq__: a * b + c * d has 7 nodes, a valid order."""
    needs(Value, "__add__", "__mul__")
    x = float(seeded("unhashable").uniform(-2, 2))
    vg.expect_valid_order(Value, topological_order, "a * b + c * d) with four equal-data leaves that define __eq__",
                          4, [(1, 0, 1), (1, 2, 3), (0, 4, 5)], [x] * 4, eq_class=True)


@check
def check_backward_seed_random(Value: type) -> None:
    """a * k + 1 at random (a, k): out.grad 1 and a.grad k."""
    needs(Value, "__add__", "__mul__", "backward")
    for x, k in _pairs("backward seed", 3, -3, 3):
        vg.expect_backward(Value, lambda a, k=k: a * k + 1.0, f"out = a * {k:.6g} + 1", [x], (x * k + 1, 1.0, k),
                           known=[(vg.SEED[0], (x * k + 1, 0.0, 0.0), vg.SEED[1])], visible=(7.0, 1.0, 2.0))


@check
def check_backward_topological_random(Value: type) -> None:
    """b = a * k; c = b * b + b at random (a, k): dc/da = (2b + 1) k, which needs b complete before it pushes."""
    needs(Value, "__add__", "__mul__", "backward")
    x, k = seeded("backward topological").uniform(0.5, 2, 2)
    b = x * k
    vg.expect_backward(Value, lambda a: (lambda b: b * b + b)(a * k), f"b = a * {k:.6g}; out = b * b + b", [x],
                       (b * b + b, 1.0, (2 * b + 1) * k), visible=(4.0, 1.0, 4.0))


@check
def check_backward_twice_random(Value: type) -> None:
    """c = a * w + 1 at random (a, w), backward() twice: leaves hold twice their gradient."""
    needs(Value, "__add__", "__mul__", "backward")
    x, w = seeded("backward twice").uniform(-2, 2, 2)
    vg.expect_backward_twice(Value, float(x), float(w))


OPS: list[Callable[[Any, Any, float], Any]] = [
    lambda u, v, k: u + v, lambda u, v, k: u * v, lambda u, v, k: u - v, lambda u, v, k: u / (v * v + 1.0),
    lambda u, v, k: (u * u + k) ** 0.5, lambda u, v, k: (u * k).tanh(), lambda u, v, k: u.tanh().exp(),
    lambda u, v, k: (u + 0.1).relu(), lambda u, v, k: k - u, lambda u, v, k: k * u,
    lambda u, v, k: k / (u * u + 1.0), lambda u, v, k: -u + u ** 3,
]


def random_expression(rng: np.random.Generator, n_inputs: int = 3, n_ops: int = 14) -> tuple[Callable, list]:
    """A random expression (the same on Values and tensors) with shared subexpressions, and its steps."""
    steps = [(int(o), int(i), int(j), float(k)) for o, i, j, k in
             zip(rng.integers(0, len(OPS), n_ops), rng.integers(0, 10**6, n_ops), rng.integers(0, 10**6, n_ops),
                 rng.uniform(0.5, 2.0, n_ops))]

    def f(*xs: Any) -> Any:
        pool = list(xs)
        for op, i, j, k in steps:
            pool.append(OPS[op](pool[i % len(pool)], pool[j % len(pool)], k))
        return sum(pool[n_inputs:])

    return f, [s[0] for s in steps]


@check
def check_engine_matches_torch_random(Value: type) -> None:
    """Six random 14-operation expressions with shared nodes at random inputs: as torch float64."""
    needs(Value, *vg.ALL_OPS)
    rng = seeded("torch random")
    for trial in range(6):
        f, ops = random_expression(rng)
        xs = [float(x) for x in rng.uniform(-1.5, 1.5, 3)]
        vg.expect_matches_torch(Value, f, f"random expression #{trial} (ops {ops})", xs, rtol=1e-9)


@check
def check_neuron_output_random(Value: type, Neuron: type) -> None:
    """Random neurons (1-5 inputs, both kinds) at random inputs."""
    needs(Value, "__add__", "__mul__", "__radd__", "relu")
    rng = seeded("neuron")
    for trial in range(4):
        nin = int(rng.integers(1, 6))
        w, x = [float(v) for v in rng.uniform(-1, 1, nin)], [float(v) for v in rng.uniform(-2, 2, nin)]
        vg.expect_neuron(Value, Neuron, w, float(rng.uniform(-1, 1)), bool(trial % 2), x, visible=4.25)


@check
def check_neuron_gradients_random(Value: type, Neuron: type) -> None:
    """An active ReLU neuron with 4 random inputs: weight gradients equal the inputs, the bias's is 1."""
    needs(Value, "__add__", "__mul__", "__radd__", "relu", "backward")
    rng = seeded("neuron grads")
    w, x = [float(v) for v in rng.uniform(-1, 1, 4)], [float(v) for v in rng.uniform(-2, 2, 4)]
    vg.expect_neuron_grads(Value, Neuron, w, 10.0, True, x)


@check
def check_train_step_random(Value: type, MLP: type, train_step: Callable) -> None:
    """One train_step of a random MLP(2, [5, 1]) on 10 random moons points with a random learning rate."""
    rng = seeded("train step")
    seed, lr = int(rng.integers(0, 1000)), float(rng.uniform(0.05, 0.5))
    vg.expect_train_step(Value, MLP, train_step, seed, [5, 1], [int(i) for i in rng.choice(100, 10, replace=False)], lr)


@check
def check_zero_grad_random(Value: type, MLP: type, train_step: Callable) -> None:
    """Three train_steps of a random MLP(2, [3, 1]): the gradients left are the last step's alone."""
    rng = seeded("zero grad")
    seed = int(rng.integers(0, 1000))
    vg.expect_zero_grad(Value, MLP, train_step, seed, [3, 1], [int(i) for i in rng.choice(100, 8, replace=False)],
                        0.05, 3)
