"""Notebook 03's checks of whole graphs: the topological order, ``backward()``, torch, the network.

* ``topological_order`` lists every node of a graph the check built once, after its
  inputs, the root last (validity, never one exact order), iteratively (a 5,000-deep
  chain) and keyed on ``id`` (leaves that define ``__eq__`` are unhashable);
* ``backward()`` sets the seed, walks in reverse topological order, resets
  intermediates and accumulates on leaves over calls (PyTorch's rule);
* whole expressions agree with the same expressions on torch float64 tensors;
* ``Neuron``, ``train_step`` and the trained model: the check reads the model's
  parameters (plain numbers) from the student's objects and computes the expected
  loss, gradients, update and accuracy itself, with torch / numpy.
"""
from __future__ import annotations

import random
from typing import Any, Callable, Sequence

import numpy as np

from . import value_engine_probes as probes
from .answers import ask, check, fail
from .expect import expect_close, is_number
from .messages import misconception
from .value_engine_expect import Known, Op, ask_or_error, error_text, hard_coded, needs, numbers

Steps = Sequence[tuple[int, int, int]]
ALL_OPS = ("__add__", "__mul__", "__pow__", "__neg__", "__sub__", "__truediv__", "__radd__", "__rmul__",
           "tanh", "exp", "relu", "backward")
NETWORK_OPS = ("__add__", "__mul__", "__radd__", "__rmul__", "relu", "backward")
ALPHA = 1e-4  #: the L2 weight of the notebook's loss_fn


# ---------------------------------------------------------------------------
# The topological order


def order_problem(order: Any, n_leaves: int, steps: Steps) -> tuple[str, str] | None:
    """``(tag, what is wrong)`` when ``order`` (node indices) is not a topological order of the graph with
    ``n_leaves`` leaves and one node per step ``(op, i, j)``; None when it is valid."""
    n = n_leaves + len(steps)
    if not isinstance(order, list) or not all(isinstance(k, int) and not isinstance(k, bool) for k in order):
        return "topo-not-a-list", f"topological_order returned {order!r}, not a list of the graph's nodes"
    if len(set(order)) != len(order):
        return "topo-duplicates", "a node appears more than once"
    if -1 in order:
        return "topo-extra", "the order holds objects that are not nodes of the graph"
    inputs = {n_leaves + s: (i, j) for s, (_, i, j) in enumerate(steps)}
    needed, todo = set(), [n - 1]
    while todo:  # the nodes the root depends on
        k = todo.pop()
        if k not in needed:
            needed.add(k)
            todo.extend(inputs.get(k, ()))
    if set(order) != needed:
        return "topo-missing", f"{len(needed - set(order))} node(s) of the graph are missing"
    position = {k: p for p, k in enumerate(order)}
    for k, (i, j) in inputs.items():
        for u in (i, j) if k in needed else ():
            if position[u] > position[k]:
                return "topo-order", f"node #{k} comes before its input #{u}"
    if order[-1] != n - 1:
        return "topo-root-last", "the root is not last"
    return None


TOPO_HINTS = {
    "topo-duplicates": "mark a node visited the first time you reach it; a node listed twice would push its "
                       "gradient twice",
    "topo-missing": "every node reachable through _prev must be listed once: push all of a node's inputs",
    "topo-order": "append a node only after all of its inputs: push (node, True) before its inputs, and append it "
                  "when (node, True) comes off the stack",
    "topo-root-last": "the root depends on everything: it comes last",
}


def expect_valid_order(Value: type, topological_order: Callable, text: str, n_leaves: int, steps: Steps,
                       xs: Sequence[float], *, eq_class: bool = False) -> None:
    """``topological_order`` of the graph the check builds is valid; with ``eq_class`` the leaves define ``__eq__``."""
    what = f"topological_order({text})"
    got, err = ask_or_error(what, probes.order_indices, Value, topological_order, n_leaves, list(steps), list(xs),
                            eq_class)
    hashing = misconception("visited-by-hash", "a set or dict of nodes needs hashing and equality: key visited "
                            "nodes on id(node) instead, which works for every object and never merges two nodes")
    if err is not None:
        fail(what, expected="each node once, after its inputs", got=error_text(err),
             hint=hashing if eq_class and err.is_a("TypeError") else None)
    problem = order_problem(got, n_leaves, steps)
    if problem is not None:
        tag, text_ = problem
        hint = hashing if eq_class else (misconception(tag, TOPO_HINTS[tag]) if tag in TOPO_HINTS else None)
        fail(what, expected="each node of the graph once, after its inputs, the root last",
             got=text_, hint=hint)


@check
def check_topological_order_is_valid(Value: type, topological_order: Callable) -> None:
    """For a = 2, b = -3, c = a*b, d = c + a, e = d*c: every node once, each after its inputs, e last."""
    needs(Value, "__add__", "__mul__")
    expect_valid_order(Value, topological_order, "e) for a = 2, b = -3, c = a*b, d = c + a, e = d*c", 2,
                       [(1, 0, 1), (0, 2, 0), (1, 3, 2)], [2.0, -3.0])


def expect_deep_chain(Value: type, topological_order: Callable, depth: int, op: str) -> None:
    """A chain of ``depth`` operations ``op`` ('+': ``x + 1.0``, '*': ``x * 1.0001``) sorts without recursion."""
    what = f"topological_order of a chain of {depth:,} {'additions' if op == '+' else 'multiplications'} x {op} " \
           "(a number): (number of nodes, root last)"
    got, err = ask_or_error(what, probes.chain_order, Value, topological_order, depth, op)
    expected = (2 * depth + 1, True)
    if err is not None:
        fail(what, expected=expected, got=error_text(err), hint=misconception(
            "recursive-topo-sort", "the sort recurses once per level and hits Python's recursion limit: make the "
                                   "sort iterative, with an explicit stack") if err.is_a("RecursionError") else None)
    if got != expected:
        fail(what, expected=expected, got=got)


@check
def check_topological_order_deep_chain(Value: type, topological_order: Callable) -> None:
    """A chain of 5,000 additions (10,001 nodes with the constants) sorts, iteratively, root last."""
    needs(Value, "__add__")
    expect_deep_chain(Value, topological_order, 5000, "+")


@check
def check_topological_order_unhashable_values(Value: type, topological_order: Callable) -> None:
    """p * q + p with p, q distinct leaves of equal data whose class defines __eq__: 4 nodes, a valid order."""
    needs(Value, "__add__", "__mul__")
    expect_valid_order(Value, topological_order, "p * q + p) where p and q are distinct Values with equal data "
                       "and __eq__ defined", 2, [(1, 0, 1), (0, 2, 0)], [1.0, 1.0], eq_class=True)


# ---------------------------------------------------------------------------
# backward()


def expect_backward(Value: type, op: Op, text: str, xs: Sequence[float], expected: Sequence[float], *,
                    known: Known = (), names: Sequence[str] = ("a",), times: int = 1, visible: Any = None) -> None:
    """``out = op(*xs)``; the student's ``out.backward()`` ``times`` times: ``(out.data, out.grad, grads...)``."""
    names = list(names[:len(xs)])
    calls = "out.backward()" + (f" {times} times" if times > 1 else "")
    what = (f"{text} at {', '.join(f'{n} = {x:.6g}' for n, x in zip(names, xs))}; {calls} gives "
            f"(out.data, out.grad, {', '.join(n + '.grad' for n in names)})")
    got = numbers(what, ask(what, probes.backward, Value, op, list(xs), times),
                  ["out.data", "out.grad"] + [n + ".grad" for n in names])
    e = np.asarray(expected, dtype=float)
    expect_close(what, got, e, tol=1e-12 * (1 + np.abs(e)), tol_text="1e-12 relative",
                 known=list(known) + hard_coded(visible), hint=[step_through(text, names, xs)])


def step_through(text: str, names: Sequence[str], xs: Sequence[float]) -> str:
    """The line that sends the student to the replay of their own backward on this expression."""
    leaves = "; ".join(f"{n} = Value({x:.6g})" for n, x in zip(names, xs))
    return (f"step through your backward, call by call: {leaves}; {text}; then "
            "from course.replay_stepper import ReplayStepper; ReplayStepper(out)")


SEED = ("seed-not-set", "the output's own gradient d out/d out is 1: set self.grad = 1.0 before walking the graph, "
                        "or every gradient stays 0")


@check
def check_backward_seed(Value: type) -> None:
    """a = 3; b = a * 2 + 1; b.backward(): b.grad = 1 (the seed) and a.grad = 2."""
    needs(Value, "__add__", "__mul__", "backward")
    expect_backward(Value, lambda a: a * 2.0 + 1.0, "out = a * 2 + 1", [3.0], (7.0, 1.0, 2.0),
                    known=[(SEED[0], (7.0, 0.0, 0.0), SEED[1])])


NO_TOPO = ("no-topological-order", "b pushed its gradient to a before b's own gradient was complete (b gets 1 from "
                                   "each use in c, so it must wait for both): call _backward in reverse topological "
                                   "order, each node exactly once")


@check
def check_backward_topological(Value: type) -> None:
    """a = 1; b = a + a; c = b + b; c.backward(): c = 4a, so a.grad = 4 (b must be complete before it pushes)."""
    needs(Value, "__add__", "backward")
    expect_backward(Value, lambda a: (lambda b: b + b)(a + a), "b = a + a; out = c = b + b", [1.0], (4.0, 1.0, 4.0),
                    known=[(NO_TOPO[0], (4.0, 1.0, 8.0), NO_TOPO[1]),
                           ("grad-overwritten", (4.0, 1.0, 1.0), "gradients from every use must be added (+=), "
                                                                 "not assigned (=)")])


def backward_twice_hint(got: np.ndarray, once: Sequence[float]) -> list[str]:
    """The hint for (a.grad, w.grad, b.grad, c.grad) after two backward() calls, ``once`` the grads of one call."""
    if got[3] != 1.0:
        return [misconception("seed-accumulates", "the seed is set, not added: self.grad = 1.0 (with =)")]
    if got[2] != 1.0:
        return [misconception("stale-intermediate-grad", "b kept its gradient from the first call and the second "
                              "call added to it: reset every non-leaf's grad to 0 at the start of backward()")]
    if np.allclose(got[:2], once[:2], rtol=1e-12, atol=0):
        return [misconception("backward-zeroes-leaves", "leaves should accumulate over backward() calls, as in "
                              "PyTorch: reset only nodes that have inputs; zero_grad() is what clears the leaves")]
    return []


def expect_backward_twice(Value: type, x: float, w: float) -> None:
    """``c = a * w + 1``, ``c.backward()`` twice: leaves hold twice their gradient, b and c one pass's."""
    what = (f"a = Value({x:.6g}), w = Value({w:.6g}); b = a * w; c = b + 1; c.backward() twice: "
            "(a.grad, w.grad, b.grad, c.grad)")
    got = numbers(what, ask(what, probes.backward_twice, Value, x, w), ["a.grad", "w.grad", "b.grad", "c.grad"])
    once = (w, x, 1.0, 1.0)
    expected = np.array([2 * w, 2 * x, 1.0, 1.0])
    expect_close(what, got, expected, tol=1e-12 * (1 + np.abs(expected)), tol_text="1e-12 relative",
                 hint=backward_twice_hint(got, once))


@check
def check_backward_twice_accumulates_on_leaves(Value: type) -> None:
    """c = a * w + 1 at a = 3, w = -2, backward() twice: a.grad = 2w, w.grad = 2a (leaves add), b.grad = c.grad = 1."""
    needs(Value, "__add__", "__mul__", "backward")
    expect_backward_twice(Value, 3.0, -2.0)


# ---------------------------------------------------------------------------
# Against torch


def torch_value_and_grads(f: Op, xs: Sequence[float]) -> np.ndarray:
    """``(f(*xs), 1, df/dx...)`` on float64 tensors (an unused input has gradient 0)."""
    import torch

    ts = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]
    out = f(*ts)
    grads = torch.autograd.grad(out, ts, allow_unused=True)
    return np.array([float(out.detach()), 1.0] + [0.0 if g is None else float(g) for g in grads])


def expect_matches_torch(Value: type, f: Op, text: str, xs: Sequence[float], *, rtol: float = 1e-10) -> None:
    """``f`` on the student's Values, with ``backward()``, equals ``f`` on torch float64 tensors."""
    names = ["a", "b", "c", "d", "e"][:len(xs)]
    what = f"value and gradients of {text} at ({', '.join(names)}) = {[round(x, 6) for x in xs]}, against torch float64"
    answer, err = ask_or_error(what, probes.backward, Value, f, list(xs))
    expected = torch_value_and_grads(f, xs)
    if err is not None:
        fail(what, expected=expected, got=error_text(err))
    got = numbers(what, answer, ["out.data", "out.grad"] + [n + ".grad" for n in names])
    expect_close(what, got, expected, tol=rtol * (1 + np.abs(expected)), tol_text=f"{rtol:g} relative",
                 hint=["run op_checklist(Value): a row marked x is an operation to fix"])


EXPRESSIONS: dict[str, Op] = {
    "(a*b + c)**2 / (1 + b*b) - 3*a": lambda a, b, c: (a * b + c) ** 2 / (1 + b * b) - 3 * a,
    "tanh(a*b) + exp(c - a) * 0.5 + relu(b / c)": lambda a, b, c: (a * b).tanh() + (c - a).exp() * 0.5 + (b / c).relu(),
    "sum([a, b, c, a*a]) ** 0.5 - 2 / c": lambda a, b, c: sum([a, b, c, a * a]) ** 0.5 - 2 / c,
    "-(a - b) * (1 - c).relu() + a * a * a": lambda a, b, c: -(a - b) * (1 - c).relu() + a * a * a,
}


@check
def check_engine_matches_torch(Value: type) -> None:
    """Four expressions using every operation, at (0.7, -1.3, 2.1): value and gradients as torch float64."""
    needs(Value, *ALL_OPS)
    for text, f in EXPRESSIONS.items():
        expect_matches_torch(Value, f, text, [0.7, -1.3, 2.1])


def _ladder(a: Any, b: Any) -> Any:
    """Twenty steps of x -> tanh(x * b + a) - x / 4 from x = a: a deep graph that uses a and b at every step."""
    x = a
    for _ in range(20):
        x = (x * b + a).tanh() - x / 4
    return x


SHARED: dict[str, Op] = {
    "notebook 02's neuron tanh(x1*w1 + x2*w2 + b)": lambda x1, x2, w1, w2, b: (x1 * w1 + x2 * w2 + b).tanh(),
    "x -> tanh(x*b + a) - x/4, twenty times from x = a": _ladder,
}
SHARED_AT = {"notebook 02's neuron tanh(x1*w1 + x2*w2 + b)": [2.0, 0.0, -3.0, 1.0, 6.8813735870195432],
             "x -> tanh(x*b + a) - x/4, twenty times from x = a": [0.3, 0.9]}


@check
def check_engine_matches_torch_shared(Value: type) -> None:
    """Notebook 02's neuron and a 20-step ladder that reuses its inputs at every step: as torch float64."""
    needs(Value, *ALL_OPS)
    for text, f in SHARED.items():
        expect_matches_torch(Value, f, text, SHARED_AT[text])


# ---------------------------------------------------------------------------
# The neuron


def expect_neuron(Value: type, Neuron: type, w: Sequence[float], b: float, nonlin: bool, x: Sequence[float],
                  visible: Any = None) -> None:
    """``Neuron`` with weights ``w``, bias ``b`` at ``x``: ``relu(w.x + b)`` (or ``w.x + b`` when not nonlin)."""
    what = f"Neuron with w = {list(w)}, b = {b:.6g}, nonlin = {nonlin}, at x = {list(x)}: its output's data"
    got = numbers(what, ask(what, probes.neuron_output, Neuron, list(w), b, nonlin, list(x)), ["data"])[0]
    act = float(np.dot(w, x)) + b
    expected = max(act, 0.0) if nonlin else act
    known = [("neuron-no-relu", act, "apply relu() when self.nonlin is true"),
             ("neuron-relu-always", max(act, 0.0), "apply relu() only when self.nonlin is true"),
             ("neuron-bias-missing", max(act - b, 0.0) if nonlin else act - b, "add the bias self.b")]
    expect_close(what, got, expected, tol=1e-12, known=[k for k in known if k[1] != expected] + hard_coded(visible))


@check
def check_neuron_output(Value: type, Neuron: type) -> None:
    """w = [0.5, -1, 2], b = 0.25: relu(w.x + b) at two inputs (0 and 4.25), and w.x + b = -0.25 when linear."""
    needs(Value, "__add__", "__mul__", "__radd__", "relu")
    for nonlin, x in [(True, [1.0, 2.0, 0.5]), (True, [2.0, -1.0, 1.0]), (False, [1.0, 2.0, 0.5])]:
        expect_neuron(Value, Neuron, [0.5, -1.0, 2.0], 0.25, nonlin, x)


def expect_neuron_grads(Value: type, Neuron: type, w: Sequence[float], b: float, nonlin: bool,
                        x: Sequence[float]) -> None:
    """``out = neuron(x)``; ``out.backward()``: each weight's gradient is its input, the bias's 1 (active unit)."""
    what = f"Neuron with w = {list(w)}, b = {b:.6g}, nonlin = {nonlin}, at x = {list(x)}: out.backward() gives " \
           "[w0.grad, ..., b.grad]"
    got = numbers(what, ask(what, probes.neuron_grads, Neuron, list(w), b, nonlin, list(x)),
                  [f"w{i}.grad" for i in range(len(w))] + ["b.grad"])
    active = (not nonlin) or float(np.dot(w, x)) + b > 0
    expected = np.array(list(x) + [1.0]) * (1.0 if active else 0.0)
    expect_close(what, got, expected, tol=1e-12, known=[
        ("neuron-detached", np.zeros(len(w) + 1), "the output is not connected to the weights: compute it with "
                                                  "Value operations on self.w and self.b, not from their .data")])


@check
def check_neuron_gradients_reach_weights(Value: type, Neuron: type) -> None:
    """A linear Neuron(2) at x = [1.5, -2]: out.backward() gives w.grad = x and b.grad = 1."""
    needs(Value, *NETWORK_OPS)
    expect_neuron_grads(Value, Neuron, [0.3, -0.8], 0.1, False, [1.5, -2.0])


# ---------------------------------------------------------------------------
# The network, trained by the student's train_step; the reference here is torch / numpy


def unpack(what: str, layout: Any) -> tuple[np.ndarray, list[list[tuple[int, bool]]]]:
    """An MLP's layout (per layer, per neuron ``(weights, bias, nonlin)``) as flat parameters in
    ``model.parameters()`` order and the shape ``[[(fan_in, nonlin), ...], ...]``; malformed: a failure."""
    flat: list[float] = []
    shape: list[list[tuple[int, bool]]] = []
    ok = isinstance(layout, list) and len(layout) > 0
    for layer in layout if ok else []:
        ok = ok and isinstance(layer, list) and len(layer) > 0
        shape.append([])
        for neuron in layer if ok else []:
            ok = ok and isinstance(neuron, tuple) and len(neuron) == 3 and isinstance(neuron[0], list) \
                and all(is_number(v) for v in neuron[0]) and is_number(neuron[1]) and isinstance(neuron[2], bool)
            if ok:
                flat += [float(v) for v in neuron[0]] + [float(neuron[1])]
                shape[-1].append((len(neuron[0]), neuron[2]))
    if ok:
        fan_ins = [2] + [len(layer) for layer in shape[:-1]]
        ok = all(n == fan_in for layer, fan_in in zip(shape, fan_ins) for n, _ in layer) and len(shape[-1]) == 1
    if not ok:
        fail(what, expected="an MLP(2, [...]) of Neurons with a list of weights w, a bias b and nonlin (its "
                            "weights' and biases' .data: numbers)", got=str(layout)[:300])
    return np.asarray(flat), shape


def _forward(lib: Any, params: Any, shape: list[list[tuple[int, bool]]], X: Any) -> Any:
    """Scores of the MLP ``(params, shape)`` at the rows of ``X``, with ``lib`` = numpy or torch."""
    h, k = X, 0
    for layer in shape:
        fan_in, outs = layer[0][0], []
        for _, nonlin in layer:
            z = h @ params[k:k + fan_in] + params[k + fan_in]
            k += fan_in + 1
            outs.append(lib.maximum(z, 0 * z) if nonlin else z)
        h = lib.stack(outs, 1)
    return h[:, 0]


def torch_loss(params: np.ndarray, shape: list[list[tuple[int, bool]]], X: Sequence, y: Sequence) -> tuple[float, np.ndarray]:
    """The notebook's loss, mean(relu(1 - y s)) + alpha * sum(p^2), and its gradient, on float64 tensors."""
    import torch

    p = torch.tensor(params, dtype=torch.float64, requires_grad=True)
    s = _forward(torch, p, shape, torch.tensor(X, dtype=torch.float64))
    loss = torch.relu(1 - torch.tensor(y, dtype=torch.float64) * s).mean() + ALPHA * (p * p).sum()
    loss.backward()
    return float(loss.detach()), p.grad.numpy().copy()


def moons_subset(idx: Sequence[int]) -> tuple[list, list]:
    """The notebook's moons data (course.moons.make_data, seed 1337), rows ``idx``."""
    from ..moons import make_data

    X, y = make_data(n_samples=100, noise=0.1, random_state=1337)
    return [X[i] for i in idx], [y[i] for i in idx]


def ask_training(Value: type, MLP: type, train_step: Callable, seed: int, sizes: Sequence[int], idx: Sequence[int],
                 lr: float, steps: int) -> tuple[list[np.ndarray], list, list[float], np.ndarray]:
    """Run ``steps`` train_steps on a fresh seeded MLP: (parameters before each step and after, shape, the losses
    train_step returned, the gradients after the last step)."""
    needs(Value, *NETWORK_OPS, Neuron=lambda: MLP(2, [1], rng=random.Random(0))([1.0, 2.0]))
    X, y = moons_subset(idx)
    what = (f"model = MLP(2, {list(sizes)}, rng=random.Random({seed})); {steps} x train_step(model, X, y, lr={lr:.4g}) "
            f"on {len(idx)} points: the parameters before and after, the losses returned, the last gradients")
    answer = ask(what, probes.train_steps, MLP, train_step, random.Random(seed), list(sizes), X, y, lr, steps)
    if not (isinstance(answer, tuple) and len(answer) == 3 and isinstance(answer[0], list)):
        fail(what, expected="the model's parameters", got=str(answer)[:200])
    layouts, losses, grads = answer
    unpacked = [unpack(what, lay) for lay in layouts]
    shape = unpacked[0][1]
    if any(s != shape for _, s in unpacked):
        fail(what, expected="the same network after each step", got="its layers changed")
    losses = list(numbers(what + " (the losses)", losses, [f"loss {k}" for k in range(steps)]))
    grads = numbers(what + " (the gradients)", grads, [f"parameter {k}'s grad" for k in range(len(unpacked[0][0]))])
    return [p for p, _ in unpacked], shape, losses, grads


def expect_train_step(Value: type, MLP: type, train_step: Callable, seed: int, sizes: Sequence[int],
                      idx: Sequence[int], lr: float, visible: Any = None) -> None:
    """One train_step: the parameters become p - lr * grad (torch's gradient of the loss at p), and the loss it
    returns is the loss at p (before the step)."""
    params, shape, losses, _ = ask_training(Value, MLP, train_step, seed, sizes, idx, lr, 1)
    X, y = moons_subset(idx)
    loss0, g0 = torch_loss(params[0], shape, X, y)
    what = f"parameters after one train_step(model, X, y, lr={lr:.4g}) on {len(idx)} points, against p - lr * grad"
    expect_close(what, params[1], params[0] - lr * g0, tol=1e-10, known=[
        ("ascent-not-descent", params[0] + lr * g0, "step against the gradient: p.data -= lr * p.grad"),
        ("lr-missing", params[0] - g0, "scale the step by the learning rate: p.data -= lr * p.grad"),
        ("no-step", params[0], "the parameters did not move: update every p in model.parameters(), "
                               "p.data -= lr * p.grad")] + hard_coded(visible))
    after, _ = torch_loss(params[1], shape, X, y)
    expect_close("the loss train_step returns (computed before the step)", losses[0], loss0, tol=1e-10,
                 known=[("loss-after-step", after, "return the loss computed before the update")])


@check
def check_train_step_moves_against_the_gradient(Value: type, MLP: type, train_step: Callable) -> None:
    """MLP(2, [4, 1], rng=Random(3)), one train_step on the first 8 moons, lr 0.1: p -> p - 0.1 * dL/dp (torch)."""
    expect_train_step(Value, MLP, train_step, 3, [4, 1], range(8), 0.1)


def expect_zero_grad(Value: type, MLP: type, train_step: Callable, seed: int, sizes: Sequence[int],
                     idx: Sequence[int], lr: float, steps: int) -> None:
    """After ``steps`` train_steps the gradients are the loss's gradient at the last step's parameters only."""
    params, shape, _, grads = ask_training(Value, MLP, train_step, seed, sizes, idx, lr, steps)
    X, y = moons_subset(idx)
    each = [torch_loss(p, shape, X, y)[1] for p in params[:-1]]
    what = f"parameter gradients after {steps} train_steps: the gradient at the last step's parameters only"
    expect_close(what, grads, each[-1], tol=1e-9, known=[
        ("forgot-zero-grad", sum(each), "the gradients of every step were added up: call model.zero_grad() "
                                        "before loss.backward() in every step")])


@check
def check_train_step_zeroes_gradients(Value: type, MLP: type, train_step: Callable) -> None:
    """Two train_steps: the gradients left are those of the second step alone (zero_grad before backward)."""
    expect_zero_grad(Value, MLP, train_step, 4, [4, 1], range(8), 0.1, 2)


@check
def check_training_accuracy(model: Any) -> None:
    """The trained model's parameters classify all 100 moons points (accuracy computed here, with numpy)."""
    what = "the trained model's parameters (its layers' weights and biases)"
    params, shape = unpack(what, ask(what, probes.layout, model))
    X, y = moons_subset(range(100))
    s = _forward(np, params, shape, np.asarray(X))
    few = numbers("the model's own scores model(x).data at the first 5 points", ask(
        "the model's own scores model(x).data at the first 5 points", probes.scores, model, X[:5]), ["score"] * 5)
    expect_close("the model's scores at the first 5 points, against its parameters", few, s[:5], tol=1e-9,
                 hint=["the parameters read from model.layers are not the ones model(x) uses"])
    accuracy = float(np.mean((np.asarray(y) > 0) == (s > 0)))
    if accuracy != 1.0:
        fail(f"training accuracy of the trained {len(params)}-parameter model on the 100 moons points", expected=1.0,
             got=accuracy, hint=misconception("not-trained", "run the training cell after the exercises above pass; if "
                                              "the loss does not go down, re-run their tests (a gradient sign or a "
                                              "missing zero_grad() is the usual cause)"))
