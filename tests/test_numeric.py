"""course.numeric: the numerical slopes every derivative in the course is checked against."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course.numeric import (CENTRAL_H, EPS, array_gradient, central_difference, error_order,
                            forward_difference, gradient)


def torch_derivative(fn, x: float) -> float:
    t = torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
    fn(t).backward()
    return float(t.grad)


def test_constants_are_machine_epsilon_and_its_cube_root():
    assert EPS == 2.0**-52
    assert CENTRAL_H == pytest.approx(6.055454e-6, rel=1e-6)


def test_forward_difference_is_the_secant_slope_with_error_h_f2_over_2():
    f = lambda x: 3 * x**2 - 4 * x + 5  # noqa: E731
    for h in [1e-1, 1e-2, 1e-3]:
        assert forward_difference(f, 3.0, h) == (f(3.0 + h) - f(3.0)) / h
        assert forward_difference(f, 3.0, h) - 14.0 == pytest.approx(3 * h, rel=1e-6)  # f'' = 6


def test_central_difference_is_exact_for_parabolas_and_second_order_otherwise():
    f = lambda x: 3 * x**2 - 4 * x + 5  # noqa: E731
    assert central_difference(f, 3.0, 1e-2) == pytest.approx(14.0, abs=1e-11)
    assert central_difference(f, 2 / 3, 1e-2) == pytest.approx(0.0, abs=1e-11)
    for h in [1e-1, 1e-2]:  # error h^2 f'''/6 for sin at 1: -h^2 cos(1)/6
        err = central_difference(math.sin, 1.0, h) - math.cos(1.0)
        assert err == pytest.approx(-h * h * math.cos(1.0) / 6, rel=1e-2)


@pytest.mark.parametrize("fn, tfn, x", [
    (math.sin, torch.sin, 1.0), (math.exp, torch.exp, -0.5), (math.tanh, torch.tanh, 0.3),
    (lambda x: x**3 - 2 * x, lambda t: t**3 - 2 * t, 1.7),
], ids=["sin", "exp", "tanh", "cubic"])
def test_default_central_difference_agrees_with_torch_float64_to_ten_digits(fn, tfn, x):
    assert central_difference(fn, x) == pytest.approx(torch_derivative(tfn, x), rel=1e-9, abs=1e-10)


def test_default_step_is_near_the_best_one_for_central_differences():
    hs = np.logspace(-2, -12, 41)
    errs = np.array([abs(central_difference(math.sin, 1.0, h) - math.cos(1.0)) for h in hs])
    best = hs[np.argmin(errs)]
    assert best / 30 < CENTRAL_H < best * 30
    assert abs(central_difference(math.sin, 1.0) - math.cos(1.0)) < 1e-10


def test_error_order_reads_one_for_forward_and_two_for_central():
    hs = np.logspace(-1, -4, 13)
    fwd = [abs(forward_difference(math.exp, 0.5, h) - math.exp(0.5)) for h in hs]
    cen = [abs(central_difference(math.exp, 0.5, h) - math.exp(0.5)) for h in hs]
    assert error_order(hs, fwd) == pytest.approx(1.0, abs=0.05)
    assert error_order(hs, cen) == pytest.approx(2.0, abs=0.05)


def test_error_order_is_nan_with_fewer_than_two_positive_errors():
    assert math.isnan(error_order([1e-1, 1e-2], [0.0, 0.0]))
    assert math.isnan(error_order([1e-1], [1e-3]))


def test_gradient_of_d_is_b_a_1_as_torch_computes():
    d = lambda a, b, c: a * b + c  # noqa: E731
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (2.0, -3.0, 10.0)]
    d(*ts).backward()
    np.testing.assert_allclose(gradient(d, [2.0, -3.0, 10.0]), [float(t.grad) for t in ts], atol=1e-9)


def test_gradient_nudges_one_input_at_a_time_on_a_nonlinear_function():
    f = lambda x, y, z: x * y * z + x**2 - y / z  # noqa: E731
    point = (1.5, -0.7, 2.0)
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
    f(*ts).backward()
    np.testing.assert_allclose(gradient(f, point), [float(t.grad) for t in ts], rtol=1e-8, atol=1e-9)


def test_gradient_leaves_the_callers_list_alone_and_accepts_tuples():
    point = [2.0, -3.0, 10.0]
    seen = []

    def d(a, b, c):
        seen.append(list(point))
        return a * b + c

    gradient(d, point)
    assert point == [2.0, -3.0, 10.0] and all(s == [2.0, -3.0, 10.0] for s in seen)
    assert gradient(lambda a, b: a * b, (2.0, 5.0)) == pytest.approx([5.0, 2.0])


def test_array_gradient_matches_torch_keeps_the_shape_and_leaves_x_alone():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 3))
    w = rng.normal(size=(3, 2))
    f_np = lambda a: float(np.sum(np.tanh(a @ w) ** 2))  # noqa: E731
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (torch.tanh(t @ torch.tensor(w, dtype=torch.float64)) ** 2).sum().backward()
    before = x.copy()
    g = array_gradient(f_np, x)
    assert g.shape == x.shape
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-7, atol=1e-9)
