"""The rule table: every primitive's value and local derivatives are right.

Checked against central differences (course.numeric) and torch autograd in
float64 at seeded random points inside each rule's domain.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course import numeric, rules
from course.rules import RULES, rule_for

TORCH = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "neg": lambda a: -a, "exp": torch.exp, "log": torch.log,
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "sin": torch.sin,
    "cos": torch.cos, "powv": lambda a, b: a ** b,
}
POW_EXPONENTS = [2.0, 3.0, -1.0, 0.5, -2.5, 0.0, 1.0]


def points(name: str, rng: np.random.Generator, n: int = 20) -> list[tuple[float, ...]]:
    arity = RULES[name].arity
    out = []
    while len(out) < n:
        xs = tuple(float(v) for v in rng.uniform(-3, 3, size=arity))
        if name == "div" and abs(xs[1]) < 0.2:
            continue
        if name == "log" or name == "pow" or name == "powv":
            xs = tuple(abs(v) + 0.1 for v in xs)
        if name == "relu" and abs(xs[0]) < 1e-3:  # away from the kink
            continue
        out.append(xs)
    return out


def cases():
    for name in RULES:
        if name == "pow":
            for k in POW_EXPONENTS:
                yield pytest.param(name, {"k": k}, id=f"pow-k{k:g}")
        else:
            yield pytest.param(name, {}, id=name)


def torch_value_and_grads(name, xs, params):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    y = ts[0] ** params["k"] if name == "pow" else TORCH[name](*ts)
    y.backward()
    return float(y.detach()), tuple(float(t.grad) for t in ts)


@pytest.mark.parametrize("name,params", list(cases()))
def test_rule_value_and_local_derivatives_match_torch_float64(name, params):
    rule = RULES[name]
    for xs in points(name, np.random.default_rng(7)):
        y = rule.value(*xs, **params)
        ty, tgrads = torch_value_and_grads(name, xs, params)
        assert y == pytest.approx(ty, rel=1e-14, abs=1e-14), (name, xs)
        local = rule.local(xs, y, **params)
        assert len(local) == rule.arity
        assert local == pytest.approx(tgrads, rel=1e-12, abs=1e-12), (name, xs)


@pytest.mark.parametrize("name,params", list(cases()))
def test_rule_local_derivatives_match_central_differences(name, params):
    rule = RULES[name]
    for xs in points(name, np.random.default_rng(11)):
        local = rule.local(xs, rule.value(*xs, **params), **params)
        slopes = numeric.gradient(lambda *v: rule.value(*v, **params), xs)
        assert np.allclose(local, slopes, rtol=1e-6, atol=1e-7), (name, xs, local, slopes)


def test_stable_forms_do_not_overflow():
    assert RULES["tanh"].value(400.0) == 1.0 and RULES["tanh"].value(-400.0) == -1.0
    assert RULES["sigmoid"].value(-1000.0) == 0.0 and RULES["sigmoid"].value(1000.0) == 1.0
    assert RULES["tanh"].local((400.0,), 1.0) == (0.0,)
    assert RULES["exp"].value(1000.0) == math.inf


def test_negative_base_to_fractional_power_is_an_error_not_a_complex_number():
    with pytest.raises(ValueError, match="negative base"):
        rules.power(-2.0, 0.5)
    assert rules.power(-2.0, 3) == -8.0
    assert rules.power(-2.0, np.int64(2)) == 4.0


def test_division_and_log_domain_errors_are_clear():
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        RULES["div"].value(1.0, 0.0)
    with pytest.raises(ZeroDivisionError):
        rules.power(0.0, -1.0)
    with pytest.raises(ValueError, match="x > 0"):
        RULES["log"].value(0.0)


def test_relu_derivative_at_zero_is_zero_as_in_torch():
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    torch.relu(t).backward()
    assert RULES["relu"].local((0.0,), 0.0) == (float(t.grad),) == (0.0,)


@pytest.mark.parametrize("label,name,params", [
    ("*", "mul", {}), ("+", "add", {}), ("mul", "mul", {}), ("ReLU", "relu", {}),
    ("relu", "relu", {}), ("**2", "pow", {"k": 2.0}), ("**-1", "pow", {"k": -1.0}),
    ("**0.5", "pow", {"k": 0.5}), ("tanh", "tanh", {}), ("/", "div", {}), ("-", "sub", {}),
    ("**", "powv", {}),
])
def test_rule_for_reads_the_labels_engines_write(label, name, params):
    rule, got = rule_for(label)
    assert rule.name == name and got == params


def test_rule_for_rejects_unknown_labels():
    with pytest.raises(KeyError, match="no derivative rule"):
        rule_for("frobnicate")


def test_node_labels_show_the_exponent():
    assert RULES["pow"].node_label(k=2.0) == "**2"
    assert RULES["pow"].node_label(k=0.5) == "**0.5"
    assert RULES["mul"].node_label() == "*"


# ---------------------------------------------------- reading the table --

def test_local_derivatives_reads_a_rules_local_derivatives_from_the_table():
    assert rules.local_derivatives("mul", (2.0, 3.0)) == (3.0, 2.0)
    assert rules.local_derivatives("pow", (2,), k=3) == (12.0,)
    assert rules.local_derivatives("tanh", (0.5,)) == (1 - math.tanh(0.5) ** 2,)
    assert rules.evaluate("div", (1.0, 4.0)) == (0.25, (0.25, -1 / 16))


def test_local_derivatives_follow_a_change_to_the_table(monkeypatch):
    monkeypatch.setitem(RULES, "mul", rules.Rule("mul", 2, lambda a, b: a * b,
                                                 lambda xs, y: (7.0, 8.0), "*", "fake"))
    assert rules.local_derivatives("mul", (2.0, 3.0)) == (7.0, 8.0)


def test_every_rule_is_reached_by_a_python_operator_or_method():
    for r in RULES.values():
        assert r.methods or r.reflected or r.constant_of, r.name
    assert RULES["pow"].constant_of == ("powv", "k")
    assert "__pow__" in RULES["powv"].methods and "__rpow__" in RULES["powv"].reflected


def test_no_python_name_applies_two_rules():
    names = [m for r in RULES.values() for m in (*r.methods, *r.reflected)]
    assert len(names) == len(set(names))


def test_functions_are_the_methods_that_read_as_functions():
    assert rules.functions() == {n: n for n in ("exp", "log", "tanh", "sigmoid", "relu", "sin", "cos")}
