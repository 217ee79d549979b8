"""The shapes notebook 03's checks share: ask the engine, validate its answer, compare, name the mistake.

Expected values are passed in by the checks (closed forms, :mod:`course.rules`, torch);
``known`` lists ``(tag, predicted answer, text)`` of known mistakes, and a failure whose
answer matches one names it (:func:`course.checks.messages.diagnose`).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import value_engine_probes as probes
from .answers import StudentError, ask, fail
from .expect import expect_close, is_number
from .messages import misconception

Op = Callable[..., Any]
Known = list[tuple[str, Any, str]]

NO_UPSTREAM = "multiply the local derivative by out.grad (the chain rule), do not pass the local derivative alone"




def needs(Value: type, *names: str, **more: Callable[[], Any]) -> None:
    """Stop with "finish X first" when an exercise this check builds on still raises NotImplementedError.

    ``names`` are operations of ``Value`` (``"__add__"``, ``"tanh"``, ``"backward"``...); ``more`` maps other
    names to a call that uses them (``Neuron=lambda: MLP(2, [1])([1.0, 2.0])``)."""
    probe: dict[str, Callable[[], Any]] = {
        "__add__": lambda: Value(1.0) + Value(2.0), "__mul__": lambda: Value(1.0) * Value(2.0),
        "__pow__": lambda: Value(2.0) ** 2, "__neg__": lambda: -Value(1.0),
        "__sub__": lambda: Value(1.0) - Value(2.0), "__truediv__": lambda: Value(1.0) / Value(2.0),
        "__radd__": lambda: 1.0 + Value(2.0), "__rmul__": lambda: 2.0 * Value(2.0),
        "tanh": lambda: Value(0.5).tanh(), "exp": lambda: Value(0.5).exp(), "relu": lambda: Value(0.5).relu(),
        "backward": lambda: (Value(1.0) * Value(2.0)).backward(), **more,
    }
    for name in list(names) + list(more):
        try:
            ask(f"{name} (this check builds on it)", _call, probe[name])
        except StudentError as e:
            if e.not_written:
                fail(f"finish {name} first: calling it raised NotImplementedError (its cell above, or an "
                     "exercise it builds on, is not written yet), and this check builds on it")


def _call(f: Callable[[], Any]) -> None:
    f()


def numbers(what: str, got: Any, names: Sequence[str]) -> np.ndarray:
    """A tuple answer as floats; a failure naming the first item that is not a number."""
    items = list(got) if isinstance(got, (tuple, list)) else [got]
    for name, v in zip(names, items):
        if not is_number(v):
            hint = None
            if "grad" in name and "Value" in str(v):
                hint = misconception("grad-not-number", f"{name} holds a Value: add numbers to grad "
                                     "(out.grad, other.data, ...), never Values")
            elif "complex" in str(v):
                hint = misconception("complex-power", "a complex number came back: a negative base to a "
                                     "non-integer power must raise ValueError")
            fail(what, expected=f"{name} a number", got=f"{name} = {v}", hint=hint)
    if len(items) != len(names):
        fail(what, expected=f"{len(names)} numbers", got=f"{len(items)}")
    return np.asarray(items, dtype=float)


def ask_or_error(what: str, fn: Callable[..., Any], *args: Any) -> tuple[Any, StudentError | None]:
    """``(answer, None)`` or ``(None, the student's error)``; an exercise not written yet stops the check."""
    try:
        return ask(what, fn, *args), None
    except StudentError as e:
        if e.not_written:
            raise
        return None, e


def error_text(err: StudentError) -> str:
    return f"{err.name}: {err.message}"


def hard_coded(visible: Any) -> Known:
    """The hint for an answer equal to the visible test's answer on other inputs."""
    if visible is None:
        return []
    return [("hard-coded", visible, "this is the visible test's answer, on other inputs: compute the result "
                                    "from the inputs, do not return a fixed number")]


def _tol(expected: np.ndarray, rel: float = 1e-12) -> np.ndarray:
    return rel * (1.0 + np.abs(expected))


def expect_local(Value: type, op: Op, text: str, xs: Sequence[float], value: float, local: Sequence[float], *,
                 out_grad: float = 1.0, preset: Sequence[float] | None = None, wrong: Known = (),
                 names: Sequence[str] = ("a", "b"), visible: Any = None) -> None:
    """``out = op(*xs)``, inputs' grads ``preset``, ``out.grad = out_grad``, one ``out._backward()``: expect
    ``out.data == value`` and grads ``preset + out_grad * local``. ``wrong`` lists ``(tag, local, text)`` of
    known wrong local derivatives; a forgotten ``out.grad`` and ``=`` for ``+=`` are added when the inputs tell."""
    names = list(names[:len(xs)])
    pre = np.zeros(len(xs)) if preset is None else np.asarray(preset, dtype=float)
    setup = "; ".join(f"{n}.grad = {fmt_num(p)}" for n, p in zip(names, pre) if p)
    what = (f"{text} with {', '.join(f'{n} = Value({fmt_num(x)})' for n, x in zip(names, xs))}; "
            + (setup + "; " if setup else "") + f"out.grad = {fmt_num(out_grad)}; out._backward() gives "
            f"(out.data, {', '.join(n + '.grad' for n in names)})")
    got = numbers(what, ask(what, probes.local_backward, Value, op, list(xs), out_grad,
                            None if preset is None else list(pre)), ["out.data"] + [n + ".grad" for n in names])
    loc = np.asarray(local, dtype=float)
    expected = np.array([value, *(pre + out_grad * loc)])

    def predicted(wrong_local: Sequence[float], upstream: float = out_grad, base: np.ndarray = pre) -> list:
        return [value, *(base + upstream * np.asarray(wrong_local, dtype=float))]

    known = [(tag, predicted(w), hint) for tag, w, hint in wrong]
    if out_grad != 1.0:
        known.append(("chain-rule-missing", predicted(loc, 1.0), NO_UPSTREAM))
    if np.any(pre):
        known.append(("grad-overwritten", predicted(loc, out_grad, np.zeros(len(xs))),
                      f"{names[0]}.grad already held {fmt_num(pre[0])} (from another use) and your _backward "
                      "replaced it: add to it, self.grad += ..., never self.grad = ..."))
    expect_close(what, got, expected, tol=_tol(expected), tol_text="1e-12 relative", known=known + hard_coded(visible))


def expect_backprop(Value: type, op: Op, text: str, xs: Sequence[float], expected: Sequence[float], *,
                    known: Known = (), names: Sequence[str] = ("a", "b"), visible: Any = None) -> None:
    """``out = op(*xs)`` backpropagated by the checks' own walk: expect ``(out.data, grads...)``."""
    names = list(names[:len(xs)])
    what = (f"{text} at {', '.join(f'{n} = {fmt_num(x)}' for n, x in zip(names, xs))}, backpropagated: "
            f"(out.data, {', '.join(n + '.grad' for n in names)})")
    answer, err = ask_or_error(what, probes.backprop, Value, op, list(xs))
    if err is not None:
        fail(what, expected=tuple(expected), got=error_text(err), hint=_reflected_hint(text, err))
    got = numbers(what, answer, ["out.data"] + [n + ".grad" for n in names])
    e = np.asarray(expected, dtype=float)
    expect_close(what, got, e, tol=_tol(e), tol_text="1e-12 relative", known=list(known) + hard_coded(visible))


def _reflected_hint(text: str, err: StudentError) -> str | None:
    if err.is_a("RecursionError"):
        return misconception("reflected-recursion", f"{text}: a reflected method (__radd__, __rsub__, ...) computes "
                             "other + self (other - self, ...) with other a number, which asks the same method "
                             "again, forever: write self + other, self * other, (-self) + other, self ** -1 * other")
    if err.is_a("TypeError") and ("unsupported operand" in err.message or "bad operand" in err.message):
        return misconception("reflected-missing", f"{text}: Python asks the number first, then the Value's "
                             "reflected method (__radd__, __rmul__, __rsub__, __rtruediv__): define it")
    return None


def expect_raises(Value: type, op: Op, text: str, xs: Sequence[float], error: str, hint: str) -> None:
    """``op(*xs)`` must raise ``error`` (a result, or another error, fails with ``hint``)."""
    what = f"{text} must raise {error}"
    got = ask(what, probes.outcome, Value, op, list(xs))
    if got != f"raised {error}":
        fail(what, expected=f"raised {error}", got=got if isinstance(got, str) else f"a result with data {got}",
             hint=hint)


def fmt_num(x: float) -> str:
    return f"{float(x):.6g}"
