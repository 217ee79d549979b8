"""The reference engine course.engine.Value: right to the last digit, micrograd-compatible.

Every derivative is checked against central differences (course.numeric) and
torch autograd in float64, on every rule and on seeded random expressions;
then each row of shared/notes/engine-pitfalls.md that applies to an engine;
then compatibility with the published micrograd package.
"""
from __future__ import annotations

import math
import random
import sys
import weakref

import micrograd.engine as mg
import numpy as np
import pytest
import torch

from course import numeric
from course.engine import Value, topological_order
from course.rules import RULES, Rule

# ---------------------------------------------------------------- helpers --

#: each rule applied by the engine, by torch, and the inputs it is checked at
ENGINE_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "neg": lambda a: -a, "exp": lambda a: a.exp(),
    "log": lambda a: a.log(), "tanh": lambda a: a.tanh(), "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(), "sin": lambda a: a.sin(), "cos": lambda a: a.cos(),
    "powv": lambda a, b: a ** b,
}
TORCH_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "neg": lambda a: -a, "exp": torch.exp, "log": torch.log,
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "sin": torch.sin,
    "cos": torch.cos, "powv": lambda a, b: a ** b,
}
POW_EXPONENTS = [2.0, 3.0, -1.0, 0.5, -2.5, 0.0, 1.0, np.int64(2), np.float64(1.5)]


def in_domain(name: str, xs: tuple[float, ...]) -> bool:
    """Inside the rule's domain, away from kinks and poles, by a margin."""
    if name == "div":
        return abs(xs[1]) > 0.2
    if name == "log":
        return xs[0] > 0.1
    if name in ("pow", "powv"):
        return xs[0] > 0.1
    if name == "relu":
        return abs(xs[0]) > 1e-3
    return True


def sample(name: str, arity: int, rng: np.random.Generator, n: int = 12) -> list[tuple[float, ...]]:
    out = []
    while len(out) < n:
        xs = tuple(float(v) for v in rng.uniform(-3, 3, size=arity))
        if in_domain(name, xs):
            out.append(xs)
    return out


def torch_value_and_grads(f, xs):
    ts = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]
    y = f(*ts)
    grads = torch.autograd.grad(y, ts, allow_unused=True)
    return float(y.detach()), [0.0 if g is None else float(g) for g in grads]


def engine_value_and_grads(f, xs):
    vs = [Value(x) for x in xs]
    y = f(*vs)
    y.backward()
    return y.data, [v.grad for v in vs]


# -------------------------------------------------------- every rule, once --

def test_engine_has_an_operation_for_every_rule_in_the_table():
    assert set(ENGINE_OPS) | {"pow"} == set(RULES)


def rule_cases():
    for name in sorted(RULES):
        if name == "pow":
            for k in POW_EXPONENTS:
                yield pytest.param(name, k, id=f"pow-{type(k).__name__}-{float(k):g}")
        else:
            yield pytest.param(name, None, id=name)


@pytest.mark.parametrize("name,k", list(rule_cases()))
def test_every_operation_matches_torch_float64_and_central_differences(name, k):
    if name == "pow":
        f, tf, arity = (lambda a: a ** k), (lambda a: a ** float(k)), 1
    else:
        f, tf, arity = ENGINE_OPS[name], TORCH_OPS[name], RULES[name].arity
    for xs in sample(name, arity, np.random.default_rng(2026)):
        y, grads = engine_value_and_grads(f, xs)
        ty, tgrads = torch_value_and_grads(tf, xs)
        assert type(y) is float and all(type(g) is float for g in grads), (name, xs)
        assert y == pytest.approx(ty, rel=1e-14, abs=1e-15), (name, xs)
        assert grads == pytest.approx(tgrads, rel=1e-13, abs=1e-14), (name, xs)
        slopes = numeric.gradient(lambda *v: f(*map(Value, v)).data, xs)
        assert np.allclose(grads, slopes, rtol=1e-7, atol=1e-8), (name, xs, grads, slopes)


@pytest.mark.parametrize("name", sorted(RULES))
def test_value_and_local_derivatives_come_from_the_rule_table(name, monkeypatch):
    real = RULES[name]
    fake = Rule(name, real.arity, lambda *xs, **params: 42.0,
                lambda xs, y, **params: tuple(7.0 + i for i in range(len(xs))),
                real.label, real.derivative)
    monkeypatch.setitem(RULES, name, fake)
    a, b = Value(0.5), Value(1.5)
    out = (a ** 2 if name == "pow" else
           ENGINE_OPS[name](a, b) if real.arity == 2 else ENGINE_OPS[name](a))
    out.backward()
    assert out.data == 42.0, "the forward value must be the rule's"
    assert (a.grad, b.grad) == ((7.0, 8.0) if real.arity == 2 else (7.0, 0.0)), \
        "the local derivatives must be the rule's"


def test_each_node_is_labelled_with_its_rules_label_and_maps_back_to_the_rule():
    a, b = Value(1.5), Value(0.5)
    for name, f in ENGINE_OPS.items():
        out = f(a, b) if RULES[name].arity == 2 else f(a)
        assert out.op == out._op == RULES[name].node_label()
        assert out.rule[0] is RULES[name]
    cube = a ** 3
    assert cube.op == "**3" and cube.rule == (RULES["pow"], {"k": 3.0})
    assert a.op == "" and a.rule is None


# ------------------------------------------- random expressions over all ops --

def random_program(rng: random.Random, n_inputs: int = 3, n_ops: int = 14):
    """A seeded random expression over every operation, reflected forms and number
    operands included, kept inside every domain and away from kinks.

    Returns (inputs, steps); ``run(steps, inputs, backend)`` evaluates it. Choices
    are checked on the engine's forward values as they are drawn, so every step
    is at least 0.05 away from a kink and 0.2 away from a pole.
    """
    xs = [rng.uniform(-2, 2) for _ in range(n_inputs)]
    vals = list(xs)
    steps = []
    while len(steps) < n_ops:
        kind = rng.choice(["bin", "bin", "bin", "un", "un", "pow", "lnum", "rnum"])
        i, j = rng.randrange(len(vals)), rng.randrange(len(vals))
        a, b = vals[i], vals[j]
        c = rng.choice([2.0, -1.5, 0.5, 3, np.int64(2), np.float64(1.25)])
        if kind == "bin":
            name = rng.choice(["add", "sub", "mul", "div", "powv"])
            step = ("bin", name, i, j)
            ok = in_domain(name, (a, b)) and (name != "powv" or (a < 4 and abs(b) < 3))
        elif kind == "un":
            name = rng.choice(["neg", "exp", "log", "tanh", "sigmoid", "relu", "sin", "cos"])
            step = ("un", name, i)
            ok = (in_domain(name, (a,)) and (name != "relu" or abs(a) > 0.05)
                  and (name != "exp" or a < 3))
        elif kind == "pow":
            k = rng.choice([2, 3, -1, 0.5, -1.5, np.int64(2)])
            step = ("pow", k, i)
            ok = abs(a) > 0.3 if float(k).is_integer() else a > 0.1
        elif kind == "lnum":  # number op value: 2 - v, 2 / v, 2 ** v, ...
            name = rng.choice(["add", "sub", "mul", "div", "powv"])
            c = abs(float(c)) if name == "powv" else c
            step = ("lnum", name, c, i)
            ok = in_domain(name, (c, a)) and (name != "powv" or abs(a) < 3)
        else:  # value op number
            name = rng.choice(["add", "sub", "mul", "div"])
            step = ("rnum", name, i, c)
            ok = in_domain(name, (a, c))
        if not ok:
            continue
        try:
            v = run_step(step, vals, "float")
        except (ValueError, ZeroDivisionError):
            continue
        if not abs(v) < 50:
            continue
        steps.append(step)
        vals.append(v)
    return xs, steps


def run_step(step, vals, backend):
    kind = step[0]
    if backend == "float":  # the engine's forward value
        vs = [x if isinstance(x, Value) else Value(x) for x in vals]
        return run_step(step, vs, "engine").data
    if kind == "bin":
        f = (ENGINE_OPS if backend == "engine" else TORCH_OPS)[step[1]]
        return f(vals[step[2]], vals[step[3]])
    if kind == "un":
        f = (ENGINE_OPS if backend == "engine" else TORCH_OPS)[step[1]]
        return f(vals[step[2]])
    if kind == "pow":
        return vals[step[2]] ** (step[1] if backend == "engine" else float(step[1]))
    op = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "powv": lambda a, b: a ** b}[step[1]]
    if kind == "lnum":
        c = step[2] if backend == "engine" else float(step[2])
        return op(c, vals[step[3]])
    c = step[3] if backend == "engine" else float(step[3])
    return op(vals[step[2]], c)


def run(steps, inputs, backend):
    vals = list(inputs)
    for step in steps:
        vals.append(run_step(step, vals, backend))
    return vals[-1]


@pytest.mark.parametrize("seed", range(40))
def test_random_expression_gradients_match_torch_float64(seed):
    xs, steps = random_program(random.Random(seed))
    y, grads = engine_value_and_grads(lambda *v: run(steps, v, "engine"), xs)
    ty, tgrads = torch_value_and_grads(lambda *t: run(steps, t, "torch"), xs)
    assert y == pytest.approx(ty, rel=1e-12, abs=1e-13), steps
    assert grads == pytest.approx(tgrads, rel=1e-10, abs=1e-12), steps


@pytest.mark.parametrize("seed", range(40))
def test_random_expression_gradients_match_central_differences(seed):
    xs, steps = random_program(random.Random(seed))
    _, grads = engine_value_and_grads(lambda *v: run(steps, v, "engine"), xs)
    slopes = numeric.gradient(lambda *v: run(steps, [Value(x) for x in v], "engine").data, xs)
    assert np.allclose(grads, slopes, rtol=1e-6, atol=1e-7), (steps, grads, slopes)


def test_random_expressions_use_every_operation_and_operand_form():
    seen = set()
    for seed in range(40):
        for step in random_program(random.Random(seed))[1]:
            kind, what = step[0], step[1]
            seen.add((kind, what) if kind != "pow" else ("pow", float(what).is_integer()))
    ops = {s[1] for s in seen if s[0] in ("bin", "un")}
    assert ops == set(ENGINE_OPS), set(ENGINE_OPS) - ops
    assert {("pow", True), ("pow", False)} <= seen
    assert {("lnum", n) for n in ("add", "sub", "mul", "div", "powv")} <= seen
    assert {("rnum", n) for n in ("add", "sub", "mul", "div")} <= seen


# ------------------------------------------------ pitfalls: reuse (row 1, 2) --

def test_reused_node_sums_gradients_a_plus_a():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_reused_node_sums_gradients_a_times_a():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0


def test_reused_node_sums_gradients_a_times_a_plus_a():
    a = Value(3.0)
    (a * a + a).backward()
    assert a.grad == 7.0


def test_gradient_is_complete_before_it_is_pushed_on_b_plus_b():
    a = Value(1.0)
    b = a + a
    c = b + b
    c.backward()
    assert (a.grad, b.grad, c.grad) == (4.0, 2.0, 1.0)


def test_diamond_graph_matches_torch():
    def f(a):
        b, c = a * 2.0, a.exp() if isinstance(a, Value) else torch.exp(a)
        return b * c + b / c
    _, grads = engine_value_and_grads(f, [0.7])
    _, tgrads = torch_value_and_grads(f, [0.7])
    assert grads == pytest.approx(tgrads, rel=1e-14)


def test_topological_order_is_valid_and_complete():
    for seed in range(10):
        xs, steps = random_program(random.Random(seed))
        leaves = [Value(x) for x in xs]
        y = run(steps, leaves, "engine")
        order = topological_order(y)
        position = {id(v): i for i, v in enumerate(order)}
        assert len(position) == len(order), "a node appears twice"
        reachable, todo = {id(y)}, [y]
        while todo:
            for child in todo.pop()._prev:
                if id(child) not in reachable:
                    reachable.add(id(child))
                    todo.append(child)
        assert order[-1] is y and set(position) == reachable
        for v in order:
            for child in v.children:
                assert position[id(child)] < position[id(v)], "a node before one of its inputs"


# -------------------------------------------------- pitfall: deep graphs (3) --

def test_chain_100000_deep_backpropagates_without_recursion():
    x = Value(0.5)
    y = x
    for i in range(100_000):
        y = y * 1.00001 if i % 2 else y + 0.25
    limit = sys.getrecursionlimit()
    depth = len(__import__("inspect").stack(0))
    sys.setrecursionlimit(depth + 40)  # any recursion through the graph would hit this
    try:
        y.backward()
        order = topological_order(y)
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad == pytest.approx(1.00001 ** 50_000, rel=1e-9)
    assert len(order) == 100_000 + 1 + 100_000  # every op, x and each constant
    ref = weakref.ref(x)
    del x, y, order  # freeing a deep chain must not overflow the C stack either
    assert ref() is None


def test_micrograd_recursion_fails_where_course_engine_succeeds():
    # why the iterative sort matters: the published package's recursive sort
    x, y = mg.Value(1.0), None
    y = x
    for _ in range(5_000):
        y = y + 1.0
    with pytest.raises(RecursionError):
        y.backward()
    x = Value(1.0)
    y = x
    for _ in range(5_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0


# ------------------------------------------------ pitfall: backward twice (4) --

def test_backward_twice_accumulates_on_leaves_like_torch():
    a = Value(3.0)
    b = a * a
    b.backward()
    b.backward()
    t = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    tb = t * t
    tb.backward(retain_graph=True)
    tb.backward()
    assert a.grad == float(t.grad) == 12.0
    assert b.grad == 1.0, "the seed is set to 1, not accumulated"


def test_backward_twice_resets_intermediate_gradients():
    a = Value(3.0)
    c = a * a
    d = c * 4.0
    d.backward()
    d.backward()
    assert c.grad == 4.0, "an intermediate's grad is this pass's derivative"
    assert a.grad == 2 * 24.0


def test_backward_on_two_outputs_sums_their_gradients_on_shared_leaves():
    a = Value(2.0)
    shared = a * a
    (shared * 3.0).backward()
    (shared + 1.0).backward()
    assert a.grad == 3.0 * 4.0 + 4.0
    assert shared.grad == 1.0


def test_backward_of_a_leaf_sets_its_grad_to_one_even_twice():
    a = Value(2.0)
    a.backward()
    a.backward()
    assert a.grad == 1.0, "the output's own grad is the seed d out/d out = 1, set, not added"


# ------------------------------------ pitfall: graph kept (5), children order --

def test_every_result_keeps_its_inputs_in_order_with_duplicates():
    a, b = Value(2.0), Value(0.5)
    for name, f in ENGINE_OPS.items():
        out = f(a, b) if RULES[name].arity == 2 else f(a)
        want = (a, b) if RULES[name].arity == 2 else (a,)
        assert out.children == out._prev and all(x is y for x, y in zip(out._prev, want)), name
        assert len(out._prev) == len(want), name
    square = a * a
    assert len(square._prev) == 2 and square._prev[0] is a and square._prev[1] is a
    assert (a ** 2)._prev[0] is a and len((a ** 2)._prev) == 1


def test_hand_built_node_without_a_rule_raises_a_clear_error():
    a = Value(2.0)
    cut = Value(a.data * 3.0, (a,), "*")
    with pytest.raises(RuntimeError, match="built by hand"):
        cut.backward()


# ------------------------------------------------- pitfall: reflected ops (6) --

@pytest.mark.parametrize("expr,value,grad", [
    (lambda v: 2 + v, 5.0, 1.0),
    (lambda v: 2 - v, -1.0, -1.0),
    (lambda v: 2 * v, 6.0, 2.0),
    (lambda v: 2 / v, 2 / 3, -2 / 9),
    (lambda v: 2 ** v, 8.0, 8.0 * math.log(2.0)),
    (lambda v: v - 2, 1.0, 1.0),
    (lambda v: v / 2, 1.5, 0.5),
    (lambda v: sum([v, v, 1.0]), 7.0, 2.0),
    (lambda v: np.float64(2.0) * v, 6.0, 2.0),
    (lambda v: np.int64(2) - v, -1.0, -1.0),
])
def test_reflected_operators_with_a_number_on_the_left(expr, value, grad):
    v = Value(3.0)
    out = expr(v)
    assert isinstance(out, Value)
    out.backward()
    assert out.data == pytest.approx(value, rel=1e-15) and v.grad == pytest.approx(grad, rel=1e-15)


def test_number_on_the_left_is_the_first_child():
    v = Value(3.0)
    for out in (2 - v, 2 / v, 2 ** v, 2 + v, 2 * v):
        assert out._prev[1] is v and out._prev[0].data == 2.0 and not out._prev[0]._prev


def test_number_operands_need_no_wrapping_and_are_constant_leaves():
    v = Value(3.0)
    out = v * 2
    out.backward()
    const = out._prev[1]
    assert v.grad == 2.0 and const.data == 2.0 and const.children == () and const.op == ""


# ------------------------------------------------------- pitfall: powers (7) --

def test_numpy_integer_and_float_exponents_give_python_floats():
    for k in (np.int64(3), np.int32(3), np.float64(3.0)):
        v = Value(2.0)
        out = v ** k
        out.backward()
        assert out.data == 8.0 and v.grad == 12.0 and type(v.grad) is float and out.op == "**3"


def test_numpy_scalars_as_data_become_python_floats():
    v = Value(np.float64(2.0)) * Value(np.int64(3))
    assert v.data == 6.0 and type(v.data) is float


def test_negative_base_to_fractional_power_is_a_value_error_never_complex():
    with pytest.raises(ValueError, match="negative base"):
        Value(-2.0) ** 0.5
    with pytest.raises(ValueError, match="negative base"):
        Value(-2.0) ** Value(0.5)
    with pytest.raises(ValueError, match="negative base"):
        (-8) ** Value(1 / 3)


def test_negative_base_to_integer_power_is_real():
    v = Value(-2.0)
    out = v ** 3
    out.backward()
    assert out.data == -8.0 and v.grad == 12.0


def test_value_to_value_power_matches_torch_including_the_log_term():
    for base, k in [(2.0, 3.0), (0.7, -1.3), (3.5, 0.5)]:
        y, grads = engine_value_and_grads(lambda a, b: a ** b, [base, k])
        ty, tgrads = torch_value_and_grads(lambda a, b: a ** b, [base, k])
        assert y == pytest.approx(ty, rel=1e-15) and grads == pytest.approx(tgrads, rel=1e-14)
    assert (Value(2.0) ** Value(3.0)).data == 8.0, "exact, not exp(3 log 2) = 7.999999999999998"
    assert (2 ** Value(10)).data == 1024.0


def test_value_power_with_negative_base_gives_nan_exponent_gradient_like_torch():
    y, grads = engine_value_and_grads(lambda a, b: a ** b, [-2.0, 2.0])
    ty, tgrads = torch_value_and_grads(lambda a, b: a ** b, [-2.0, 2.0])
    assert y == ty == 4.0 and grads[0] == tgrads[0] == -4.0
    assert math.isnan(grads[1]) and math.isnan(tgrads[1])


def test_unsupported_operand_is_a_clear_type_error():
    with pytest.raises(TypeError, match="real number"):
        Value(1.0) + "2"
    with pytest.raises(TypeError, match="not a Value"):
        Value(Value(1.0))
    with pytest.raises(TypeError, match="real number"):
        Value(1.0) ** 1j


# ------------------------------------------ pitfall: division by zero (8) --

def test_division_by_zero_raises_zero_division_error_in_every_form():
    for make in (lambda: Value(1.0) / Value(0.0), lambda: Value(1.0) / 0, lambda: 1 / Value(0.0),
                 lambda: Value(0.0) ** -1, lambda: Value(0.0) ** Value(-2.0)):
        with pytest.raises(ZeroDivisionError):
            make()


def test_log_of_non_positive_is_a_value_error():
    with pytest.raises(ValueError, match="x > 0"):
        Value(0.0).log()


def test_tiny_divisor_gradient_does_not_underflow_to_a_zero_division():
    a, b = Value(1e-200), Value(1e-170)
    (a / b).backward()
    assert b.grad == pytest.approx(-1e-200 / 1e-170 / 1e-170, rel=1e-14)


# ---------------------------------------------------- pitfall: overflow (9) --

def test_tanh_and_sigmoid_are_stable_at_large_inputs():
    for x, want in [(400.0, 1.0), (-400.0, -1.0)]:
        v = Value(x)
        t = v.tanh()
        t.backward()
        assert t.data == want and v.grad == 0.0
    for x, want in [(-1000.0, 0.0), (1000.0, 1.0)]:
        v = Value(x)
        s = v.sigmoid()
        s.backward()
        assert s.data == want and v.grad == 0.0


def test_overflowing_exp_and_power_give_inf_not_an_exception():
    assert Value(1000.0).exp().data == math.inf
    assert (Value(10.0) ** 400).data == math.inf
    assert (Value(-10.0) ** 401).data == -math.inf


# ------------------------------------------------------- pitfall: kinks (10) --

def test_relu_gradient_at_zero_is_zero_like_torch():
    _, grads = engine_value_and_grads(lambda a: a.relu(), [0.0])
    _, tgrads = torch_value_and_grads(torch.relu, [0.0])
    assert grads == tgrads == [0.0]


# ------------------------------------------------- pitfall: hashability (11) --

def test_values_are_hashable_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert len({a, b, a}) == 2 and {a: 1}[a] == 1
    assert a != b and a == a


# ---------------------------------------------- micrograd compatibility --

def micrograd_readme_example(V):
    """The expression in micrograd's README, unchanged."""
    a = V(-4.0)
    b = V(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return a, b, g


def test_micrograd_readme_example_runs_unchanged_and_matches_micrograd_and_torch():
    a, b, g = micrograd_readme_example(Value)
    ma, mb, mg_ = micrograd_readme_example(mg.Value)
    assert (round(g.data, 4), round(a.grad, 4), round(b.grad, 4)) == (24.7041, 138.8338, 645.5773)
    # micrograd divides as a * b**-1: the same to within a few ulps, not bit for bit
    assert g.data == pytest.approx(mg_.data, rel=1e-14)
    assert (a.grad, b.grad) == pytest.approx((ma.grad, mb.grad), rel=1e-13)
    ta, tb = (torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in (-4.0, 2.0))
    c = ta + tb
    d = ta * tb + tb ** 3
    c = c + c + 1
    c = c + 1 + c + (-ta)
    d = d + d * 2 + (tb + ta).relu()
    d = d + 3 * d + (tb - ta).relu()
    f = (c - d) ** 2
    tg = f / 2.0 + 10.0 / f
    tg.backward()
    assert (g.data, a.grad, b.grad) == pytest.approx(
        (float(tg.detach()), float(ta.grad), float(tb.grad)), rel=1e-14)


def random_micrograd_program(rng: random.Random, n_ops: int = 12):
    """Random expressions over the operations micrograd 0.1.0 has, no division."""
    ops = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
           lambda a, b: (a * b).relu(), lambda a, b: -a + 2.5,
           lambda a, b: 3 - a, lambda a, b: 2 * b, lambda a, b: a ** 2, lambda a, b: b ** 3,
           lambda a, b: sum([a, b, a])]
    picks = [(rng.randrange(len(ops)), rng.random(), rng.random()) for _ in range(n_ops)]

    def build(V, xs):
        vals = [V(x) for x in xs]
        for k, u, w in picks:
            vals.append(ops[k](vals[int(u * len(vals))], vals[int(w * len(vals))]))
        return vals[: len(xs)], vals[-1]
    return build


@pytest.mark.parametrize("seed", range(20))
def test_same_expression_gives_identical_data_and_grads_in_micrograd_and_course(seed):
    rng = random.Random(seed)
    xs = [float(rng.randint(-4, 4)) / 2 for _ in range(3)]  # exact binary fractions
    build = random_micrograd_program(rng)
    leaves, out = build(Value, xs)
    mleaves, mout = build(mg.Value, xs)
    out.backward()
    mout.backward()
    assert out.data == mout.data
    assert [v.grad for v in leaves] == [v.grad for v in mleaves]


def test_repr_data_and_initial_grad_match_micrograd():
    v, m = Value(2.5), mg.Value(2.5)
    assert repr(v) == "Value(data=2.5, grad=0.0)" and repr(m) == "Value(data=2.5, grad=0)"
    assert v.data == m.data and v.grad == m.grad == 0
