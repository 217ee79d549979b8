"""The questions notebook 03's checks ask a student's ``Value`` engine, and the op checklist.

Every probe here is called by a check only through :func:`course.checks.answers.ask`:
it builds a small graph with the student's class, runs the student's code on it, and
returns *plain data* (floats, tuples, strings), so the check's verdict depends only on
those answers. None of them computes an expected value: that is the checks' job, from
closed forms, :mod:`course.rules`, central differences or torch float64.

:func:`walk_back` is the checks' own backpropagation (an iterative topological order
and each node's ``_backward``), so that the checks of one operation work before the
student's ``backward()`` does. :func:`op_checklist` prints, for every operation, its
value and its gradients next to central differences (the notebook calls it after each
step).
"""
from __future__ import annotations

import math
import random
from typing import Any, Callable, Sequence

__all__ = ["walk_back", "op_checklist", "NotAValue"]

Op = Callable[..., Any]


class NotAValue(Exception):
    """An operation of the student's engine returned something other than a Value."""


class WrongReturn(Exception):
    """An exercise returned something of the wrong shape (the message says what)."""


def node(Value: type, out: Any, what: str = "the operation") -> Any:
    """``out`` if it is a ``Value``; else :class:`NotAValue` saying what came back."""
    if not isinstance(out, Value):
        raise NotAValue(f"{what} returned a {type(out).__name__}, not a Value: an operation must return "
                        "the Value it built (return out)")
    return out


def walk_back(out: Any, seed: float = 1.0) -> None:
    """Backpropagate from ``out`` in the checks' own reverse topological order (not the student's backward())."""
    order, seen, stack = [], set(), [(out, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
        elif id(v) not in seen:
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((u, False) for u in reversed(tuple(v._prev)))
    out.grad = seed
    for v in reversed(order):
        v._backward()


# ---------------------------------------------------------------------------
# Probes: each returns plain data


def data(Value: type, op: Op, xs: Sequence[float]) -> Any:
    """``op(Value(x0), ...).data``."""
    return node(Value, op(*[Value(x) for x in xs])).data


def records(Value: type, op: Op, xs: Sequence[float]) -> tuple:
    """What ``c = op(a, b)`` remembers: (number of inputs, _prev[0] is a, _prev[1] is b, c._op)."""
    a, b = Value(xs[0]), Value(xs[1])
    c = node(Value, op(a, b))
    kids = tuple(c._prev)
    return (len(kids), len(kids) > 0 and kids[0] is a, len(kids) > 1 and kids[1] is b, str(c._op))


def local_backward(Value: type, op: Op, xs: Sequence[float], out_grad: float,
                   preset: Sequence[float] | None = None) -> tuple:
    """``out = op(*Values)``; the inputs' grads preset; ``out.grad = out_grad``; one ``out._backward()``:
    ``(out.data, input grads...)``."""
    vs = [Value(x) for x in xs]
    for v, g in zip(vs, preset or ()):
        v.grad = g
    out = node(Value, op(*vs))
    out.grad = out_grad
    out._backward()
    return (out.data, *[v.grad for v in vs])


def backprop(Value: type, op: Op, xs: Sequence[float]) -> tuple:
    """``out = op(*Values)`` backpropagated by :func:`walk_back`: ``(out.data, input grads...)``."""
    vs = [Value(x) for x in xs]
    out = node(Value, op(*vs))
    walk_back(out)
    return (out.data, *[v.grad for v in vs])


def backward(Value: type, op: Op, xs: Sequence[float], times: int = 1) -> tuple:
    """``out = op(*Values)``; the student's ``out.backward()`` ``times`` times:
    ``(out.data, out.grad, input grads...)``."""
    vs = [Value(x) for x in xs]
    out = node(Value, op(*vs))
    for _ in range(times):
        out.backward()
    return (out.data, out.grad, *[v.grad for v in vs])


def backward_twice(Value: type, x: float, w: float) -> tuple:
    """``b = a * w; c = b + 1``, ``c.backward()`` twice: ``(a.grad, w.grad, b.grad, c.grad)``."""
    a, wv = Value(x), Value(w)
    b = node(Value, a * wv)
    c = node(Value, b + 1.0)
    c.backward()
    c.backward()
    return (a.grad, wv.grad, b.grad, c.grad)


def outcome(Value: type, op: Op, xs: Sequence[float]) -> Any:
    """``op(*Values).data`` or, when the student's code raises, the name of the exception."""
    try:
        return data(Value, op, xs)
    except (NotAValue, NotImplementedError):
        raise
    except Exception as e:  # noqa: BLE001  (the exception is the answer)
        return f"raised {type(e).__name__}"


# ---------------------------------------------------------------------------
# Graphs for the topological order


def order_indices(Value: type, topological_order: Callable, n_leaves: int, steps: Sequence[tuple[int, int, int]],
                  xs: Sequence[float], eq_class: bool = False) -> list[int]:
    """``topological_order(root)`` of the graph of :func:`graph` as the indices of its nodes (-1: a node the
    check did not build). With ``eq_class``, the leaves are of a Value subclass that defines ``__eq__`` by data
    (and so, in Python, is not hashable)."""
    cls = Value
    if eq_class:
        cls = type("EqValue", (Value,), {"__eq__": lambda s, o: isinstance(o, Value) and s.data == o.data})
    pool = [cls(x) for x in xs[:n_leaves]]
    for op, i, j in steps:
        pool.append(node(Value, pool[i] + pool[j] if op == 0 else pool[i] * pool[j]))
    where = {id(v): k for k, v in enumerate(pool)}
    return [where.get(id(v), -1) for v in list(topological_order(pool[-1]))]


def chain_order(Value: type, topological_order: Callable, depth: int, op: str) -> tuple[int, bool]:
    """``x = Value(0.0)`` then ``x = x + 1.0`` (or ``x * 1.0001``) ``depth`` times: (len(order), order[-1] is x)."""
    x = Value(0.0 if op == "+" else 1.0)
    for _ in range(depth):
        x = x + 1.0 if op == "+" else x * 1.0001
    order = list(topological_order(x))
    return (len(order), bool(order) and order[-1] is x)


# ---------------------------------------------------------------------------
# Neurons, MLPs, training


def neuron_output(Neuron: type, w: Sequence[float], b: float, nonlin: bool, x: Sequence[float]) -> Any:
    """A ``Neuron(len(w), nonlin)`` with weights ``w`` and bias ``b``, at ``x``: its output's data."""
    n = Neuron(len(w), nonlin=nonlin, rng=random.Random(0))
    for wi, v in zip(n.w, w):
        wi.data = v
    n.b.data = b
    return n(list(x)).data


def neuron_grads(Neuron: type, w: Sequence[float], b: float, nonlin: bool, x: Sequence[float]) -> list:
    """The same neuron, ``out.backward()``: ``[w0.grad, ..., b.grad]``."""
    n = Neuron(len(w), nonlin=nonlin, rng=random.Random(0))
    for wi, v in zip(n.w, w):
        wi.data = v
    n.b.data = b
    n(list(x)).backward()
    return [wi.grad for wi in n.w] + [n.b.grad]


def layout(model: Any) -> list:
    """An MLP's layers as plain data: per layer, per neuron ``(weights, bias, nonlin)``."""
    return [[([wi.data for wi in n.w], n.b.data, bool(n.nonlin)) for n in layer.neurons] for layer in model.layers]


def grads(model: Any) -> list:
    """Every parameter's gradient, in ``model.parameters()`` order."""
    return [p.grad for p in model.parameters()]


def train_steps(MLP: type, train_step: Callable, rng: Any, sizes: Sequence[int], X: list, y: list, lr: float,
                steps: int) -> tuple:
    """``model = MLP(2, sizes, rng=rng)``; ``steps`` calls of ``train_step(model, X, y, lr)``:
    (layouts before each step and after the last, the returned losses' data, the gradients after the last)."""
    model = MLP(2, list(sizes), rng=rng)
    layouts, losses = [layout(model)], []
    for _ in range(steps):
        result = train_step(model, X, y, lr)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise WrongReturn(f"train_step returned {type(result).__name__} {str(result)[:80]}, not (loss, accuracy)")
        losses.append(getattr(result[0], "data", result[0]))
        layouts.append(layout(model))
    return (layouts, losses, grads(model))


def scores(model: Any, X: Sequence[Sequence[float]]) -> list:
    """The model's own scores ``model(x).data`` at each point."""
    return [model(list(x)).data for x in X]


# ---------------------------------------------------------------------------
# The checklist the notebook prints

CHECKLIST: list[tuple[str, Op, Callable[[float, float], float]]] = [
    ("a + b", lambda a, b: a + b, lambda a, b: a + b),
    ("a * b", lambda a, b: a * b, lambda a, b: a * b),
    ("a + a", lambda a, b: a + a, lambda a, b: a + a),
    ("a * a", lambda a, b: a * a, lambda a, b: a * a),
    ("a ** 3", lambda a, b: a ** 3, lambda a, b: a ** 3),
    ("a ** -1.5", lambda a, b: a ** -1.5, lambda a, b: a ** -1.5),
    ("-a", lambda a, b: -a, lambda a, b: -a),
    ("a - b", lambda a, b: a - b, lambda a, b: a - b),
    ("a / b", lambda a, b: a / b, lambda a, b: a / b),
    ("2 + a", lambda a, b: 2 + a, lambda a, b: 2 + a),
    ("2 * a", lambda a, b: 2 * a, lambda a, b: 2 * a),
    ("2 - a", lambda a, b: 2 - a, lambda a, b: 2 - a),
    ("2 / a", lambda a, b: 2 / a, lambda a, b: 2 / a),
    ("sum([a, b, a])", lambda a, b: sum([a, b, a]), lambda a, b: a + b + a),
    ("a.tanh()", lambda a, b: a.tanh(), lambda a, b: math.tanh(a)),
    ("a.exp()", lambda a, b: a.exp(), lambda a, b: math.exp(a)),
    ("a.relu()", lambda a, b: a.relu(), lambda a, b: max(a, 0.0)),
]


def _not_written(e: Exception) -> bool:
    text = str(e)
    return isinstance(e, NotImplementedError) or (
        isinstance(e, (TypeError, AttributeError))
        and ("unsupported operand" in text or "bad operand" in text or "no attribute" in text))


def op_checklist(Value: type, a: float = 1.3, b: float = -0.7) -> None:
    """Print each operation's value at (a, b) and the gradients its _backward gives, next to central differences."""
    print(f"at a = {a}, b = {b}   (d/da, d/db: your gradients; slopes: central differences)")
    for name, on_values, on_floats in CHECKLIST:
        try:
            A, B = Value(a), Value(b)
            out = on_values(A, B)
            walk_back(out)
            got = (float(out.data), float(A.grad), float(B.grad))
        except Exception as e:  # noqa: BLE001  (the checklist reports every error and goes on)
            print(f"  .  {name:15s} not written yet" if _not_written(e) else f"  x  {name:15s} {type(e).__name__}: {e}")
            continue
        value, h = on_floats(a, b), 1e-6
        slopes = ((on_floats(a + h, b) - on_floats(a - h, b)) / (2 * h),
                  (on_floats(a, b + h) - on_floats(a, b - h)) / (2 * h))
        ok = (abs(got[0] - value) <= 1e-9 * (1 + abs(value))
              and all(abs(g - s) <= 1e-5 * (1 + abs(s)) for g, s in zip(got[1:], slopes)))
        print(f"  {'ok' if ok else 'x '} {name:15s} value {got[0]:9.5f} (expected {value:9.5f})   "
              f"d/da {got[1]:9.5f} d/db {got[2]:9.5f}   slopes {slopes[0]:9.5f} {slopes[1]:9.5f}")
