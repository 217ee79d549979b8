"""Notebook 03's checks: the student's scalar autodiff engine, one operation at a time.

What they prove, in the notebook's order:

* every operation (``+ * ** - /``, the reflected forms, ``tanh exp relu``) computes
  its value, records its inputs, and its local ``_backward`` adds the local
  derivative times ``out.grad`` to each input (``+=``, so an input used twice or a
  gradient already present is kept). Expected values come from closed forms and the
  rule table :mod:`course.rules`; each known mistake (``=`` for ``+=``, a forgotten
  ``out.grad``, a times node that does not swap, the power rule, ``tanh' = 1 - t**2``,
  ``exp' = exp``, relu's kink, a sign...) has a predicted answer and a hint that
  names it;
* ``topological_order`` lists every node once, after its inputs, iteratively (a
  5,000-deep chain) and by ``id`` (values that define ``__eq__``);
* ``backward()`` seeds, walks in reverse topological order, and accumulates on leaves
  only, as PyTorch does; whole expressions agree with torch float64;
* ``Neuron``, ``train_step`` and the trained model: expected parameters, gradients,
  losses and the training accuracy are computed here with torch / numpy from the
  model's own parameters, which the check reads from the student's objects.

The checks talk to the student's code only through :mod:`course.checks.value_engine_probes`
(inside :func:`ask`). ``course.engine`` and ``course.nn`` are never used: they are
withheld while this notebook is graded.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from . import value_engine_probes as probes
from .answers import ask, check, fail
from .expect import expect_close
from .messages import misconception
from .value_engine_expect import (Known, Op, ask_or_error, error_text, expect_backprop, expect_local, expect_raises,
                                  fmt_num, needs, numbers)
from .value_engine_graph import (check_backward_seed, check_backward_topological,  # noqa: F401 (the notebook's)
                                 check_backward_twice_accumulates_on_leaves, check_engine_matches_torch,
                                 check_engine_matches_torch_shared, check_neuron_gradients_reach_weights,
                                 check_neuron_output, check_topological_order_deep_chain,
                                 check_topological_order_is_valid, check_topological_order_unhashable_values,
                                 check_train_step_moves_against_the_gradient, check_train_step_zeroes_gradients,
                                 check_training_accuracy)
from .value_engine_probes import op_checklist
from ..rules import RULES

__all__ = ["op_checklist"]  # and every check_* here and in value_engine_graph (imported above)

ADD: Op = lambda a, b: a + b  # noqa: E731
MUL: Op = lambda a, b: a * b  # noqa: E731
OVERWRITTEN = ("gradient of a reused node is too small: gradients from every use must be added "
               "(self.grad += ...), not assigned (=)")


# ---------------------------------------------------------------------------
# + and *


def _records(Value: type, op: Op, symbol: str) -> None:
    what = f"c = a {symbol} b must record its inputs and its operation: (len(c._prev), c._prev[0] is a, " \
           "c._prev[1] is b, c._op)"
    got = ask(what, probes.records, Value, op, [2.0, -3.5])
    expected = (2, True, True, symbol)
    if got == expected:
        return
    hint = None
    if isinstance(got, tuple) and got[0] == 0:
        hint = misconception("no-parents", f"c has no parents: the graph was cut at op {symbol}, so no gradient can "
                             f"reach a or b. Build the result as Value(..., (self, other), '{symbol}')")
    elif isinstance(got, tuple) and got[:3] != (2, True, True):
        hint = misconception("inputs-not-kept", "_prev must hold the input Values themselves, in order, "
                             "(self, other): not copies, not their data, not a set")
    elif isinstance(got, tuple):
        hint = misconception("op-label", f"label the node with its operation: Value(..., (self, other), '{symbol}')")
    fail(what, expected=expected, got=got, hint=hint)


def _with_number(Value: type, op: Op, text: str, expected: float) -> None:
    what = f"{text} (a plain number on the right)"
    got, err = ask_or_error(what, probes.data, Value, op, [2.0])
    if err is not None and not err.is_a("NotAValue"):
        fail(what, expected=expected, got=error_text(err), hint=misconception(
            "number-not-wrapped", "3 has no .data: wrap a plain number first, "
            "other = other if isinstance(other, Value) else Value(other)"))
    if err is not None:
        fail(what, expected=expected, got=error_text(err))
    expect_close(what, numbers(what, got, ["data"])[0], expected, tol=0)


@check
def check_add_value(Value: type) -> None:
    """(Value(2.0) + Value(-3.5)).data is -1.5."""
    what = "(Value(2.0) + Value(-3.5)).data"
    got = numbers(what, ask(what, probes.data, Value, ADD, [2.0, -3.5]), ["data"])[0]
    expect_close(what, got, -1.5, tol=0, known=[("add-subtracts", 5.5, "that is a - b: add the data")])


@check
def check_add_records_inputs(Value: type) -> None:
    """c = a + b has c._prev == (a, b), the same objects in order, and c._op == '+'."""
    _records(Value, ADD, "+")


@check
def check_add_number(Value: type) -> None:
    """Value(2.0) + 3 is 5.0: a plain number on the right is wrapped first."""
    _with_number(Value, lambda a: a + 3, "Value(2.0) + 3", 5.0)


ADD_WRONG = [("add-one-input", (1.0, 0.0), "both inputs get out.grad: other.grad += out.grad too"),
             ("add-one-input", (0.0, 1.0), "both inputs get out.grad: self.grad += out.grad too")]


@check
def check_add_local_backward(Value: type) -> None:
    """c = a + b; c.grad = 1.5; c._backward(): a.grad = b.grad = 1 * 1.5 (the local derivatives of + are 1)."""
    expect_local(Value, ADD, "c = a + b", [2.0, -3.5], -1.5, RULES["add"].local((2.0, -3.5), -1.5),
                 out_grad=1.5, wrong=ADD_WRONG)


@check
def check_mul_value_and_inputs(Value: type) -> None:
    """(Value(2.0) * Value(-3.5)).data is -7.0, c records (a, b) and '*', and Value(2.0) * 3 is 6.0."""
    what = "(Value(2.0) * Value(-3.5)).data"
    got = numbers(what, ask(what, probes.data, Value, MUL, [2.0, -3.5]), ["data"])[0]
    expect_close(what, got, -7.0, tol=0, known=[("mul-adds", -1.5, "that is a + b: multiply the data")])
    _records(Value, MUL, "*")
    _with_number(Value, lambda a: a * 3, "Value(2.0) * 3", 6.0)


def mul_wrong(x: float, y: float) -> Known:
    """The known wrong local derivatives of a * b at (x, y)."""
    return [("mul-no-swap", (x, y), "d(a*b)/da is b, not a: a times node swaps its inputs "
                                    "(self.grad += other.data * out.grad)"),
            ("mul-sign", (-y, -x), "d(a*b)/da is +b: no minus sign")]


@check
def check_mul_local_backward(Value: type) -> None:
    """c = a * b; c.grad = 1.5; c._backward(): a.grad = b * 1.5, b.grad = a * 1.5 (a times node swaps)."""
    x, y = 2.0, -3.5
    expect_local(Value, MUL, "c = a * b", [x, y], x * y, RULES["mul"].local((x, y), x * y), out_grad=1.5,
                 wrong=mul_wrong(x, y))


@check
def check_reuse_add(Value: type) -> None:
    """a = Value(3.0); b = a + a; b.grad = 1; b._backward(): a.grad is 2 (both uses add their share)."""
    needs(Value, "__add__")
    expect_local(Value, lambda a: a + a, "b = a + a", [3.0], 6.0, [2.0],
                 wrong=[("grad-overwritten", [1.0], OVERWRITTEN)])


@check
def check_reuse_mul(Value: type) -> None:
    """a = Value(3.0); b = a * a; b.grad = 1; b._backward(): a.grad is 2a = 6."""
    needs(Value, "__mul__")
    expect_local(Value, lambda a: a * a, "b = a * a", [3.0], 9.0, [6.0],
                 wrong=[("grad-overwritten", [3.0], OVERWRITTEN)])


# ---------------------------------------------------------------------------
# **, -, /


def pow_wrong(x: float, k: float) -> Known:
    """The known wrong local derivatives of a ** k at x (only where they are real numbers)."""
    if x < 0 and not float(k).is_integer():
        return []
    text = "d(a^k)/da = k * a^(k-1), times out.grad"
    return [("power-rule", [x ** (k - 1)], text + ": the factor k is missing"),
            ("power-rule", [k * x ** k], text + ": the exponent is k - 1, not k")]


def expect_pow(Value: type, x: float, k: float, *, out_grad: float = 1.0, preset: Sequence[float] | None = None,
               visible: Any = None) -> None:
    """``a ** k`` at ``x``: value ``x ** k`` and local derivative ``k x^(k-1)`` (course.rules)."""
    y = RULES["pow"].value(x, k)
    expect_local(Value, lambda a: a ** k, f"out = a ** {fmt_num(k)}", [x], y, RULES["pow"].local((x,), y, k=k),
                 out_grad=out_grad, preset=preset, wrong=pow_wrong(x, k), visible=visible)


@check
def check_pow_value_and_grad(Value: type) -> None:
    """a ** k for k = 2, -1, 0.5, 3: value a^k, local derivative k a^(k-1), times out.grad, added with +=."""
    for x, k in [(3.0, 2), (2.0, -1), (4.0, 0.5), (-1.5, 3)]:
        expect_pow(Value, x, k)
    expect_pow(Value, 2.5, 3, out_grad=1.5, preset=[0.25])


@check
def check_pow_numpy_exponent(Value: type) -> None:
    """Value(3.0) ** np.int64(2) is 9.0: a numpy number is a number too."""
    what = "Value(3.0) ** np.int64(2)"
    got, err = ask_or_error(what, probes.data, Value, lambda a: a ** np.int64(2), [3.0])
    if err is not None:
        fail(what, expected=9.0, got=error_text(err), hint=misconception(
            "numpy-exponent", "a numpy integer is a number too: convert the exponent with float(k) "
            "instead of checking isinstance(k, (int, float))"))
    expect_close(what, numbers(what, got, ["data"])[0], 9.0, tol=1e-12)


COMPLEX = misconception("complex-power", "(-2.0) ** 0.5 is a complex number in Python; check the base and raise "
                        "ValueError for a negative base to a non-integer power, never return a complex number")


@check
def check_pow_negative_base(Value: type) -> None:
    """Value(-2.0) ** 0.5 raises ValueError (not a real number); Value(-2.0) ** 3 is -8."""
    expect_raises(Value, lambda a: a ** 0.5, "Value(-2.0) ** 0.5", [-2.0], "ValueError", COMPLEX)
    what = "Value(-2.0) ** 3 (a whole exponent is fine)"
    got, err = ask_or_error(what, probes.data, Value, lambda a: a ** 3, [-2.0])
    if err is not None:
        fail(what, expected=-8.0, got=error_text(err), hint=misconception(
            "complex-power", "only a non-integer exponent of a negative base is an error: (-2) ** 3 = -8"))
    expect_close(what, numbers(what, got, ["data"])[0], -8.0, tol=1e-12)


def sub_known(x: float, y: float) -> Known:
    """Known wrong (out.data, a.grad, b.grad) of a - b."""
    return [("sub-sign", (x + y, 1.0, 1.0), "a - b adds b: negate it first, self + (-other)"),
            ("sub-sign", (x - y, 1.0, 1.0), "b.grad must be -1: the minus sign of -b flows back to b"),
            ("no-parents", (x - y, 0.0, 0.0), "a - b has no parents: build it from your operations, "
                                              "self + (-other), not from .data")]


def div_known(x: float, y: float) -> Known:
    """Known wrong (out.data, a.grad, b.grad) of a / b."""
    return [("div-sign", (x / y, 1 / y, x / y ** 2), "d(a/b)/db = -a/b^2: the minus sign comes from the power "
                                                     "rule of b ** -1"),
            ("no-parents", (x / y, 0.0, 0.0), "a / b has no parents: build it from your operations, "
                                              "self * other ** -1, not from .data")]


@check
def check_neg_and_sub(Value: type) -> None:
    """-a at 2 is -2 with d/da = -1; a - b at (2, -3.5) is 5.5 with gradients (1, -1)."""
    needs(Value, "__add__", "__mul__")
    expect_backprop(Value, lambda a: -a, "out = -a", [2.0], (-2.0, -1.0),
                    known=[("neg-sign", (2.0, 1.0), "-a is a * (-1): multiply by -1")])
    expect_backprop(Value, lambda a, b: a - b, "out = a - b", [2.0, -3.5], (5.5, 1.0, -1.0), known=sub_known(2.0, -3.5))


@check
def check_div(Value: type) -> None:
    """a / b at (3, -2) is -1.5 with gradients (1/b, -a/b^2) = (-0.5, -0.75); Value(3.0) / 2 is 1.5."""
    needs(Value, "__mul__", "__pow__")
    x, y = 3.0, -2.0
    expect_backprop(Value, lambda a, b: a / b, "out = a / b", [x, y], (x / y, *RULES["div"].local((x, y), x / y)),
                    known=div_known(x, y))
    expect_backprop(Value, lambda a: a / 2, "out = a / 2", [x], (1.5, 0.5))


DIV_ZERO = misconception("division-by-zero-policy", "the course's policy: x / 0 raises ZeroDivisionError "
                         "(0.0 ** -1 already does in Python): build / from ** -1 and let it raise")


@check
def check_div_by_zero(Value: type) -> None:
    """Value(1.0) / Value(0.0) raises ZeroDivisionError (the course's policy)."""
    needs(Value, "__mul__", "__pow__")
    expect_raises(Value, lambda a, b: a / b, "Value(1.0) / Value(0.0)", [1.0, 0.0], "ZeroDivisionError", DIV_ZERO)


# ---------------------------------------------------------------------------
# Reflected forms


@check
def check_radd_rmul(Value: type) -> None:
    """2 + v at 3.5 is 5.5 with d/dv = 1; 2 * v is 7.0 with d/dv = 2."""
    needs(Value, "__add__", "__mul__")
    expect_backprop(Value, lambda v: 2 + v, "out = 2 + v", [3.5], (5.5, 1.0), names=["v"])
    expect_backprop(Value, lambda v: 2 * v, "out = 2 * v", [3.5], (7.0, 2.0), names=["v"])


ORDER = "subtraction and division do not commute: other - self is (-self) + other, other / self is self ** -1 * other"


@check
def check_rsub_rtruediv(Value: type) -> None:
    """2 - v at 4 is -2 with d/dv = -1; 2 / v is 0.5 with d/dv = -2/v^2 = -0.125."""
    needs(Value, "__add__", "__mul__", "__pow__", "__neg__")
    expect_backprop(Value, lambda v: 2 - v, "out = 2 - v", [4.0], (-2.0, -1.0), names=["v"],
                    known=[("reflected-order", (2.0, 1.0), "2 - v computed v - 2: " + ORDER)])
    expect_backprop(Value, lambda v: 2 / v, "out = 2 / v", [4.0], (0.5, -0.125), names=["v"],
                    known=[("reflected-order", (2.0, 0.5), "2 / v computed v / 2: " + ORDER)])


@check
def check_sum_of_values(Value: type) -> None:
    """sum([Value(1.5), Value(-4.0)]) is -2.5 with gradients (1, 1): sum starts from the integer 0."""
    needs(Value, "__add__")
    expect_backprop(Value, lambda a, b: sum([a, b]), "out = sum([a, b]) (it starts from 0: 0 + a needs __radd__)",
                    [1.5, -4.0], (-2.5, 1.0, 1.0))


# ---------------------------------------------------------------------------
# tanh, exp, relu


def tanh_wrong(x: float) -> Known:
    """The known wrong local derivatives of tanh at x."""
    t = math.tanh(x)
    return [("tanh-derivative", [1 - x * x], "d tanh(x)/dx = 1 - tanh(x)^2 = 1 - t^2 (t = out.data), not 1 - x^2"),
            ("tanh-derivative", [1 - t], "d tanh(x)/dx = 1 - t^2: square t"),
            ("tanh-derivative", [t * t - 1], "d tanh(x)/dx = 1 - t^2, not t^2 - 1: a sign"),
            ("tanh-derivative", [t], "d tanh(x)/dx = 1 - t^2, not t")]


@check
def check_tanh_value_and_grad(Value: type) -> None:
    """a.tanh() at 0, 0.5, -1.2, 2: value tanh(a), local derivative 1 - tanh(a)^2, times out.grad, with +=."""
    for x in [0.0, 0.5, -1.2, 2.0]:
        expect_unary(Value, "tanh", x)
    expect_unary(Value, "tanh", 0.8, out_grad=1.5, preset=[0.25])


UNSTABLE = misconception("unstable-tanh", "(exp(2x) - 1) / (exp(2x) + 1) overflows for large x; use math.tanh "
                         "(or a form with exp(-2|x|)), and compute the gradient as 1 - t**2")


def expect_tanh_large(Value: type, x: float) -> None:
    """``Value(x).tanh()`` for a large ``|x|`` is exactly ``±1`` (no OverflowError, no nan)."""
    what = f"Value({fmt_num(x)}).tanh().data"
    got, err = ask_or_error(what, probes.data, Value, lambda a: a.tanh(), [x])
    if err is not None:
        fail(what, expected=math.copysign(1.0, x), got=error_text(err),
             hint=UNSTABLE if err.is_a("OverflowError") else None)
    value = numbers(what, got, ["data"])[0]
    if value != math.copysign(1.0, x):
        fail(what, expected=math.copysign(1.0, x), got=value, hint=UNSTABLE if math.isnan(value) else None)


@check
def check_tanh_no_overflow(Value: type) -> None:
    """Value(400.0).tanh() is 1.0 and Value(-400.0).tanh() is -1.0 (the textbook formula overflows)."""
    needs(Value, "tanh")
    for x in [400.0, -400.0]:
        expect_tanh_large(Value, x)


def exp_wrong(x: float) -> Known:
    """The known wrong local derivatives of exp at x."""
    return [("exp-derivative", [x], "d e^x/dx = e^x (out.data), not x"),
            ("exp-derivative", [1.0], "d e^x/dx = e^x (out.data), not 1"),
            ("exp-derivative", [x * math.exp(x - 1)], "d e^x/dx = e^x: the power rule does not apply to e^x")]


@check
def check_exp_value_and_grad(Value: type) -> None:
    """a.exp() at 0, 1, -2.5: value e^a, local derivative e^a, times out.grad, with +=."""
    for x in [0.0, 1.0, -2.5]:
        expect_unary(Value, "exp", x)
    expect_unary(Value, "exp", 0.7, out_grad=1.5, preset=[0.25])


def relu_wrong(x: float) -> Known:
    """The known wrong local derivatives of relu at x."""
    if x == 0:
        return [("relu-kink", [1.0], "relu'(0) is 0 in this course, as in PyTorch: use x > 0, not x >= 0")]
    if x < 0:
        return [("relu-negative", [1.0], "relu passes no gradient where x < 0: the local derivative is 0 there")]
    return [("relu-derivative", [x], "relu's local derivative is 1 where x > 0 (not out.data)")]


@check
def check_relu_value_and_grad(Value: type) -> None:
    """a.relu() at 2.5, -1, 0: value max(a, 0), local derivative 1 if a > 0 else 0 (0 at the kink), with +=."""
    for x in [2.5, -1.0, 0.0]:
        expect_unary(Value, "relu", x)
    expect_unary(Value, "relu", 1.7, out_grad=1.5, preset=[0.25])


UNARY_WRONG = {"tanh": tanh_wrong, "exp": exp_wrong, "relu": relu_wrong}


def expect_unary(Value: type, method: str, x: float, *, out_grad: float = 1.0,
                 preset: Sequence[float] | None = None, visible: Any = None) -> None:
    """``a.tanh()``, ``a.exp()`` or ``a.relu()`` at ``x``: the value and local derivative of course.rules
    (``1 - t**2``, ``e^x``, ``1 if x > 0 else 0``), with that function's known wrong derivatives."""
    rule = RULES[method]
    y = rule.value(x)
    expect_local(Value, lambda a: getattr(a, method)(), f"out = a.{method}()", [x], y, rule.local((x,), y),
                 out_grad=out_grad, preset=preset, wrong=UNARY_WRONG[method](x), visible=visible)
