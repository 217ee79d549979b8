"""course.dual: forward mode by dual numbers, checked against central differences and torch float64."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course import dual, rules
from course.dual import Dual, cos, exp, gradient, jvp, log, partial, relu, sigmoid, sin, tanh
from course.numeric import central_difference, gradient as central_gradient
from course.rules import RULES, Rule

RNG_SEED = 2026

# (name, course function, torch function, sampling interval away from kinks and poles)
UNARY = [
    ("sin", sin, torch.sin, (-3.0, 3.0)),
    ("cos", cos, torch.cos, (-3.0, 3.0)),
    ("exp", exp, torch.exp, (-3.0, 3.0)),
    ("log", log, torch.log, (0.1, 4.0)),
    ("tanh", tanh, torch.tanh, (-3.0, 3.0)),
    ("sigmoid", sigmoid, torch.sigmoid, (-5.0, 5.0)),
    ("relu", relu, torch.relu, (0.1, 3.0)),
]


def torch_derivative(fn, *xs: float) -> np.ndarray:
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    grads = torch.autograd.grad(fn(*ts), ts, allow_unused=True)
    return np.array([0.0 if g is None else float(g) for g in grads])


def course_f(x0, x1):
    """The notebook's function: (x0^2 / x1) cos(x0) + exp(x0 / x1)."""
    return (x0 ** 2 / x1) * cos(x0) + exp(x0 / x1)


def torch_f(x0, x1):
    return (x0 ** 2 / x1) * torch.cos(x0) + torch.exp(x0 / x1)


@pytest.mark.parametrize("name,fn,tfn,interval", UNARY, ids=[u[0] for u in UNARY])
def test_unary_tangent_matches_central_difference_and_torch(name, fn, tfn, interval):
    rng = np.random.default_rng(RNG_SEED)
    for a in rng.uniform(*interval, size=8):
        t = float(rng.normal())
        d = fn(Dual(a, t))
        assert d.value == pytest.approx(RULES[name].value(a), rel=1e-15, abs=0)
        want_torch = torch_derivative(tfn, a)[0] * t
        want_cd = central_difference(lambda z: fn(z), a) * t
        assert d.tangent == pytest.approx(want_torch, rel=1e-12, abs=1e-14)
        assert d.tangent == pytest.approx(want_cd, rel=1e-7, abs=1e-9)


BINARY = [
    ("a + b", lambda a, b: a + b),
    ("a - b", lambda a, b: a - b),
    ("a * b", lambda a, b: a * b),
    ("a / b", lambda a, b: a / b),
    ("a ** 3", lambda a, b: a ** 3),
    ("a ** b", lambda a, b: a ** b),
    ("-a * b", lambda a, b: -a * b),
]


@pytest.mark.parametrize("name,fn", BINARY, ids=[b[0] for b in BINARY])
def test_arithmetic_tangents_in_random_directions_match_torch(name, fn):
    rng = np.random.default_rng(RNG_SEED)
    for _ in range(8):
        a, b = rng.uniform(0.3, 2.5, size=2)
        v = rng.normal(size=2)
        d = fn(Dual(a, v[0]), Dual(b, v[1]))
        want = torch_derivative(fn, a, b) @ v
        assert d.value == pytest.approx(fn(a, b), rel=1e-14)
        assert d.tangent == pytest.approx(want, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("expr,value,tangent", [
    ("2 + x", 5.0, 1.0), ("x + 2", 5.0, 1.0), ("2 - x", -1.0, -1.0), ("x - 2", 1.0, 1.0),
    ("2 * x", 6.0, 2.0), ("x * 2", 6.0, 2.0), ("2 / x", 2 / 3, -2 / 9), ("x / 2", 1.5, 0.5),
    ("2 ** x", 8.0, 8.0 * math.log(2.0)), ("x ** 2", 9.0, 6.0), ("sum([x, x, x])", 9.0, 3.0),
])
def test_reflected_operations_and_constants(expr, value, tangent):
    """Constants carry tangent 0 on either side of the operator; sum() starts from int 0."""
    d = eval(expr, {"x": Dual(3.0, 1.0)})
    assert isinstance(d, Dual)
    assert d.value == pytest.approx(value, rel=1e-15)
    assert d.tangent == pytest.approx(tangent, rel=1e-15)


def test_a_lifted_constant_has_tangent_zero_and_an_unseeded_input_contributes_nothing():
    assert Dual.lift(4).tangent == 0.0
    assert Dual.lift(np.float64(4.0)).tangent == 0.0
    x, y = Dual(3.0, 1.0), Dual(5.0)
    assert (x * y).tangent == 5.0
    assert (y * y).tangent == 0.0
    with pytest.raises(TypeError):
        Dual.lift("4")


def test_dual_reads_the_rule_table(monkeypatch):
    """Forward mode has no derivative of its own: change the table and its tangents change."""
    fake = Rule("sin", 1, math.sin, lambda xs, y: (42.0,), "sin", "d sin/da = 42 (fake)")
    monkeypatch.setitem(RULES, "sin", fake)
    assert sin(Dual(0.3, 2.0)).tangent == 84.0


def test_numerical_policy_follows_the_rule_table():
    with pytest.raises(ValueError):
        Dual(-2.0, 1.0) ** 0.5
    with pytest.raises(ZeroDivisionError):
        Dual(1.0, 1.0) / Dual(0.0)
    with pytest.raises(ValueError):
        log(Dual(0.0, 1.0))
    big = tanh(Dual(400.0, 1.0))
    assert big.value == 1.0 and big.tangent == 0.0
    assert sigmoid(Dual(-1000.0, 1.0)).value == 0.0


def test_functions_dispatch_on_floats_numpy_scalars_and_duals():
    assert sin(0.5) == math.sin(0.5)
    assert sin(np.float64(0.5)) == math.sin(0.5)
    assert isinstance(sin(Dual(0.5, 1.0)), Dual)


def test_partial_derivatives_of_the_course_function_match_torch_and_central_differences():
    rng = np.random.default_rng(RNG_SEED)
    for x0, x1 in rng.uniform(0.5, 2.5, size=(10, 2)):
        want = torch_derivative(torch_f, x0, x1)
        assert partial(course_f, [x0, x1], 0) == pytest.approx(want[0], rel=1e-12, abs=1e-14)
        assert partial(course_f, [x0, x1], 1) == pytest.approx(want[1], rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(gradient(course_f, [x0, x1]), central_gradient(course_f, [x0, x1]),
                                   rtol=1e-7, atol=1e-9)


def test_the_gradient_of_n_inputs_takes_n_forward_passes():
    calls = []

    def f(*xs):
        calls.append(1)
        return sum(x * x for x in xs)

    xs = [0.5, 1.0, -2.0, 3.0, 0.25]
    np.testing.assert_allclose(gradient(f, xs), 2 * np.array(xs))
    assert len(calls) == len(xs)


def test_jvp_in_random_directions_matches_torch_for_a_vector_function():
    def g(a, b, c, lib=dual):
        return [a * b * c, lib.exp(a) / b, lib.tanh(c - a), 7.0]

    def g_torch(x):
        a, b, c = x
        return torch.stack([a * b * c, torch.exp(a) / b, torch.tanh(c - a), torch.tensor(7.0, dtype=torch.float64)])

    rng = np.random.default_rng(RNG_SEED)
    for _ in range(6):
        x, v = rng.uniform(0.5, 2.0, size=3), rng.normal(size=3)
        value, tangent = jvp(g, list(x), list(v))
        _, want = torch.autograd.functional.jvp(g_torch, torch.tensor(x), torch.tensor(v))
        np.testing.assert_allclose(value, g_torch(torch.tensor(x)).numpy(), rtol=1e-14)
        np.testing.assert_allclose(tangent, want.numpy(), rtol=1e-12, atol=1e-14)
        assert tangent[3] == 0.0  # a constant output has tangent 0


def test_jvp_rejects_a_direction_of_the_wrong_length():
    with pytest.raises(ValueError, match="2 inputs"):
        jvp(course_f, [1.0, 2.0], [1.0])


def test_an_unseeded_input_contributes_nothing_even_where_its_local_derivative_is_nan():
    """d/db a**b is nan for a < 0; with b unseeded the tangent is da * a' alone, as torch's
    reverse mode gives d/da (-2)**3 = 12 next to its nan d/db."""
    d = Dual(-2.0, 1.0) ** Dual(3.0)
    assert d.value == -8.0 and d.tangent == 12.0
    assert math.isnan((Dual(-2.0) ** Dual(3.0, 1.0)).tangent)
    np.testing.assert_array_equal(gradient(lambda a, b: a ** b, [-2.0, 3.0]), [12.0, math.nan])


def test_module_functions_are_one_per_function_in_the_rule_table():
    for name, rule_name in rules.functions().items():
        fn = getattr(dual, name)
        assert name in dual.__all__ and fn.__name__ == name
        assert fn(0.5) == RULES[rule_name].value(0.5)
        assert fn(Dual(0.5, 1.0)).tangent == RULES[rule_name].local((0.5,), fn(0.5))[0]
