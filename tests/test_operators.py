"""One operator set for every number type: the rule table's.

``Value`` (reverse mode, course.engine), ``Dual`` (forward mode, course.dual)
and the tape's ``Var`` (course.tape) each write one ``_apply`` hook;
:func:`course.rules.install_operators` gives them every operator and method
the table names. Checked here: each type answers exactly that set, a rule
added to the table appears on all three at once, and reflected operators and
variable exponents give the same values and derivatives on all three, against
torch float64 and central differences.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course import dual, numeric, rules, tape
from course.dual import Dual
from course.engine import Value
from course.rules import RULES, Rule
from course.tape import Var

NUMBER_TYPES = [Value, Dual, Var]

#: every name of Python's numeric protocol (binary, reflected, in-place, unary, conversions)
_BINARY = "add sub mul matmul truediv floordiv mod divmod pow lshift rshift and xor or".split()
NUMERIC_PROTOCOL = (
    {f"__{n}__" for n in _BINARY} | {f"__r{n}__" for n in _BINARY} | {f"__i{n}__" for n in _BINARY}
    | {f"__{n}__" for n in "neg pos abs invert complex int float index round trunc floor ceil".split()}
)
#: names a hand-written math method could have: math's functions and the table's own
MATH_NAMES = {n for n in dir(math) if not n.startswith("_") and callable(getattr(math, n))}


def names_answered(cls: type) -> set[str]:
    """The numeric-protocol and math-like names ``cls`` or a base class defines
    (not ``hasattr``: a class inherits ``__or__`` from ``type``, for ``int | None``)."""
    universe = NUMERIC_PROTOCOL | MATH_NAMES | rules.operator_names()
    return {n for n in universe if any(n in vars(k) for k in cls.__mro__)}


# ------------------------------------------------------- the operator set --

def test_the_three_number_types_are_equipped_by_the_table():
    assert set(NUMBER_TYPES) <= set(rules.NUMBER_TYPES)


@pytest.mark.parametrize("cls", NUMBER_TYPES, ids=lambda c: c.__name__)
def test_every_number_type_answers_exactly_the_tables_operator_set(cls):
    assert names_answered(cls) == set(rules.operator_names())


@pytest.mark.parametrize("cls", NUMBER_TYPES, ids=lambda c: c.__name__)
def test_no_number_type_writes_an_operator_by_hand(cls):
    hand_written = {n for n in rules.operator_names() if getattr(cls, n).__module__ != "course.rules"}
    assert hand_written == set()


def test_the_operator_set_is_every_rules_methods_and_reflected_forms():
    expected = {"__pos__"}
    for r in RULES.values():
        expected |= set(r.methods) | set(r.reflected)
    assert rules.operator_names() == expected
    assert {"__add__", "__radd__", "__rsub__", "__rtruediv__", "__pow__", "__rpow__", "tanh"} <= expected


# ---------------------------------------- a new rule appears everywhere --

@pytest.fixture
def registered():
    """``rules.register``, with the table and the number types restored afterwards."""
    rules_before = dict(RULES)
    attrs_before = {cls: set(vars(cls)) for cls in rules.NUMBER_TYPES}
    yield rules.register
    for name in set(RULES) - set(rules_before):
        del RULES[name]
    for cls, attrs in attrs_before.items():
        for attr in set(vars(cls)) - attrs:
            delattr(cls, attr)


def _softplus(a: float) -> float:
    return max(a, 0.0) + math.log1p(math.exp(-abs(a)))


SOFTPLUS = Rule("softplus", 1, _softplus, lambda xs, y: (rules.sigmoid(xs[0]),),
                "softplus", "d softplus(a)/da = sigmoid(a)", methods=("softplus",))
MOD = Rule("mod", 2, lambda a, b: a % b, lambda xs, y: (1.0, -math.floor(xs[0] / xs[1])),
           "%", "d(a%b)/da = 1, d(a%b)/db = -floor(a/b)", methods=("__mod__",), reflected=("__rmod__",))


def test_a_registered_rule_appears_on_every_number_type_at_once(registered):
    for cls in NUMBER_TYPES:
        assert not hasattr(cls, "softplus") and not hasattr(cls, "__mod__")
    registered(SOFTPLUS)
    registered(MOD)
    assert {"softplus", "__mod__", "__rmod__"} <= rules.operator_names()
    for cls in NUMBER_TYPES:
        assert names_answered(cls) == set(rules.operator_names()), cls.__name__


@pytest.mark.parametrize("expr", ["v.softplus() * w", "v % w", "7.5 % w", "v % 0.75"])
def test_a_registered_rule_gives_torchs_values_and_derivatives_on_every_type(registered, expr):
    registered(SOFTPLUS)
    registered(MOD)
    torch_expr = (expr.replace("v.softplus()", "torch.nn.functional.softplus(v)")
                  .replace("7.5 %", "torch.tensor(7.5, dtype=torch.float64) %"))  # torch: no scalar % grad
    f = lambda v, w: eval(expr, {"v": v, "w": w})  # noqa: E731
    tf = lambda v, w: eval(torch_expr, {"v": v, "w": w, "torch": torch})  # noqa: E731
    xs = (2.3, 0.7)
    want_value, want_grads = torch_value_and_grads(tf, xs)
    for kind, (value, grads) in on_every_type(f, xs).items():
        assert value == pytest.approx(want_value, rel=1e-15), kind
        np.testing.assert_allclose(grads, want_grads, rtol=1e-14, atol=1e-15, err_msg=kind)


# ------------------------ reflected operators and variable exponents agree --

def on_every_type(f, xs) -> dict[str, tuple[float, np.ndarray]]:
    """``(f(xs), gradient)`` by the engine's backward, by forward mode and by the tape."""
    vs = [Value(x) for x in xs]
    out = f(*vs)
    out.backward()
    tape_value, tape_grads = tape.vjp(f, list(xs))
    return {
        "Value": (out.data, np.array([v.grad for v in vs])),
        "Dual": (f(*(Dual(x) for x in xs)).value, dual.gradient(f, list(xs))),
        "Var": (float(tape_value), tape_grads),
    }


def torch_value_and_grads(f, xs) -> tuple[float, np.ndarray]:
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    grads = torch.autograd.grad(f(*ts), ts, allow_unused=True)
    return float(f(*ts).detach()), np.array([0.0 if g is None else float(g) for g in grads])


#: each expression works unchanged on floats, Value, Dual, Var and torch tensors
EXPRESSIONS = {
    "2 - v": lambda v, w: 2 - v,
    "2 / v": lambda v, w: 2 / v,
    "2 ** v": lambda v, w: 2 ** v,
    "sum([v, w])": lambda v, w: sum([v, w]),
    "v ** w": lambda v, w: v ** w,
    "v ** 3": lambda v, w: v ** 3,
    "v ** -0.5": lambda v, w: v ** -0.5,
    "2.5 * v - w / 4 + 1": lambda v, w: 2.5 * v - w / 4 + 1,
    "(v ** w) ** 2 / 2 ** w": lambda v, w: (v ** w) ** 2 / 2 ** w,
    "-v + +w": lambda v, w: -v + +w,
    "tanh(v) ** w - 3 ** tanh(w)": lambda v, w: dual.tanh(v) ** w - 3 ** dual.tanh(w),
    "0.5 ** (v * w)": lambda v, w: 0.5 ** (v * w),
}
POINTS = [(1.7, 0.6), (0.4, -1.3), (2.5, 2.0)]


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_reflected_operators_and_variable_exponents_agree_with_torch_on_every_type(name):
    f = EXPRESSIONS[name]
    for xs in POINTS:
        want_value, want_grads = torch_value_and_grads(f, xs)
        slopes = numeric.gradient(f, xs)
        results = on_every_type(f, xs)
        assert len({value for value, _ in results.values()}) == 1, ("the same value on all three", results)
        for kind, (value, grads) in results.items():
            assert value == pytest.approx(want_value, rel=1e-14, abs=1e-15), (kind, xs)
            np.testing.assert_allclose(grads, want_grads, rtol=1e-13, atol=1e-15, err_msg=f"{kind} {xs}")
            np.testing.assert_allclose(grads, slopes, rtol=1e-6, atol=1e-8, err_msg=f"{kind} {xs}")


@pytest.mark.parametrize("xs,want_grads", [
    ((-2.0, 3.0), (12.0, math.nan)),  # a negative base: d/db a^b = a^b log a is not real
    ((0.0, 2.0), (0.0, 0.0)),  # zero base, positive exponent: both 0, as torch says
])
def test_a_variable_exponent_at_a_non_positive_base_is_powv_on_every_type(xs, want_grads):
    f = EXPRESSIONS["v ** w"]
    want_value, torch_grads = torch_value_and_grads(f, xs)
    np.testing.assert_array_equal(torch_grads, want_grads)
    for kind, (value, grads) in on_every_type(f, xs).items():
        assert value == want_value, kind
        np.testing.assert_array_equal(grads, want_grads, err_msg=kind)


def test_a_variable_exponent_is_one_powv_node_on_every_type():
    v, w = Value(2.0), Value(3.0)
    assert (v ** w).op == "**" and (2 ** w).op == "**" and (v ** 3).op == "**3"
    t = tape.Tape()
    a, b = t.variable(2.0), t.variable(3.0)
    a ** b, 2 ** b, a ** 3
    assert [e.op for e in t.entries] == ["powv", "powv", "pow"]
    assert (Dual(2.0) ** Dual(3.0)).value == 8.0, "exact, not exp(3 log 2) = 7.999999999999998"
    assert t.values[t.entries[0].out] == 8.0


@pytest.mark.parametrize("name,xs,error", [
    ("v ** w", (-2.0, 0.5), ValueError),  # negative base to a non-integer power
    ("v ** w", (0.0, -1.0), ZeroDivisionError),
    ("2 / v", (0.0, 1.0), ZeroDivisionError),
    ("reflected (-8) ** v", (1 / 3, 1.0), ValueError),
])
def test_numerical_policy_is_the_same_on_every_type(name, xs, error):
    f = EXPRESSIONS.get(name, lambda v, w: (-8) ** v)
    with pytest.raises(error):
        f(*(Value(x) for x in xs))
    with pytest.raises(error):
        f(*(Dual(x, 1.0) for x in xs))
    with pytest.raises(error):
        tape.gradient(f, list(xs))


def test_unary_plus_is_the_number_itself_on_every_type():
    t = tape.Tape()
    for x in (Value(2.0), Dual(2.0, 1.0), t.variable(2.0)):
        assert +x is x
    assert t.entries == []


# ------------------------------------------ one hook, every operator --

def test_a_number_type_that_writes_a_tables_operator_by_hand_is_refused():
    class Hand:
        def _apply(self, name, *operands, **params):
            return name

        def __add__(self, other):
            return "by hand"

    with pytest.raises(TypeError, match="Hand.__add__ is written by hand"):
        rules.install_operators(Hand)
    assert Hand not in rules.NUMBER_TYPES and not hasattr(Hand, "__mul__"), "nothing installed"


def test_a_new_type_with_one_hook_gets_every_operator():
    @rules.install_operators
    class Traced:
        def _apply(self, name, *operands, **params):
            return (name, operands, params)

    t = Traced()
    rules.NUMBER_TYPES.remove(Traced)  # keep register() from reaching this test's class
    assert t * 2 == ("mul", (t, 2), {}) and 2 - t == ("sub", (2, t), {})
    assert t ** t == ("powv", (t, t), {}) and t ** 3 == ("pow", (t,), {"k": 3})
    assert 2 ** t == ("powv", (2, t), {}) and t.tanh() == ("tanh", (t,), {}) and +t is t
