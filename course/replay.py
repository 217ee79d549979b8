"""Replay the student's own backward pass, one ``_backward`` call at a time, on a copy.

    from course.replay import replay
    print(replay(loss).report())     # text: the first step that differs from the rule table
    from course.replay_stepper import ReplayStepper
    ReplayStepper(loss)              # the same replay, stepped through on the picture

What happens:

1. :func:`course.replay_copy.copy_graph` copies every node reachable from ``out`` and rebuilds
   each ``_backward`` closure so that it refers to the copies (its cells, its
   defaults, a bound method's ``self``): the student's objects are only read.
   Every copy starts with ``grad = 0``.
2. Each copy's ``_backward`` is wrapped in a recorder, and the student's own
   ``backward()`` runs on the copied output: the calls come in the student's
   order. If ``backward()`` is missing or not written yet
   (``NotImplementedError``), the replay seeds ``grad(out) = 1`` itself and
   calls ``_backward`` in a valid topological order (:func:`course.graph.trace`'s),
   and says so.
3. For every call, what it *actually* added to each input's ``grad`` is put
   beside what the rule table (:mod:`course.rules`) says it should add given
   the node's ``grad`` at that moment: ``upstream x local`` summed over the
   uses of that input. The first call that differs, or that runs out of order
   (before every node using it has passed its gradient on, or a second time),
   is the :class:`Problem`, with the misconception's hint when it is a known one.
4. The student's objects are compared with a snapshot taken before: if a
   closure reached an original anyway (through a global, say), its ``data``
   and ``grad`` are put back and the replay says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from course import rules
from course.checks.messages import misconception
from course.graph import Graph, Names, trace
from course.replay_copy import Placeholder, Recorder, Stop, copy_graph, reachable

MAX_NODES = 5000  #: a replay records every grad change: keep it to teaching-sized graphs
REL, ABS = 1e-9, 1e-12

HINTS = {
    "grad-overwritten": "gradient of a reused node is too small: gradients from every use must be "
                        "added (self.grad += ...), not assigned (self.grad = ...)",
    "mul-no-swap": "d(a*b)/da is b, not a: a times node swaps its inputs "
                   "(self.grad += other.data * out.grad)",
    "chain-rule-missing": "multiply the local derivative by the node's own gradient "
                          "(... * out.grad): that is the chain rule",
    "no-topological-order": "call _backward in reverse topological order, each node exactly once: "
                            "a node may pass its gradient on only after every node that uses it has",
}


def step_through(expr: str = "loss") -> str:
    """The one line a check message prints to send the student to the replay of ``expr``."""
    return (f"step through your backward: from course.replay_stepper import ReplayStepper; "
            f"ReplayStepper({expr})")


def hint(tag: str) -> str:
    """The misconception line of a known mistake (tagged as every check's hints are)."""
    return misconception(tag, HINTS[tag])


@dataclass(frozen=True)
class Call:
    """One call of a node's ``_backward`` during the replay."""

    step: int  #: 1-based position among the calls shown
    node: int  #: graph index of the node whose ``_backward`` ran
    upstream: float | None  #: that node's grad when it ran
    before: dict[int, float | None]  #: grads of its inputs (and of any node it changed) before
    after: dict[int, float | None]  #: ... and after the call
    expected: dict[int, float | None]  #: what the rule table adds to each input (None: unknown)
    error: str = ""  #: the exception the call raised, if any

    def added(self, i: int) -> float | None:
        """What this call added to node ``i``'s grad."""
        b, a = self.before.get(i), self.after.get(i)
        return None if a is None or b is None else a - b


@dataclass(frozen=True)
class Problem:
    """The first place where the student's backward differs from the rule table."""

    step: int | None  #: the call (1-based), or None when it is about the whole pass
    node: int | None
    input: int | None  #: the input whose contribution differs, if it is about one
    tag: str  #: a misconception tag of :data:`HINTS`, or a plain kind ('wrong-local', ...)
    message: str
    expected: float | None = None
    actual: float | None = None

    @property
    def hint(self) -> str:
        return hint(self.tag) if self.tag in HINTS else ""


@dataclass
class Replay:
    """The student's backward pass, call by call, and where it first differs."""

    graph: Graph
    calls: list[Call]
    order: str  #: where the order came from: "your backward()" or a note on the fallback
    seed: dict[int, float | None]  #: grads when the first call ran (after backward()'s seeding)
    final: list[float | None]  #: the student's grads at the end, per node
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped_leaf_calls: int = 0  #: calls on leaves that changed nothing (not shown)

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def report(self) -> str:
        """A few lines of text for a check's message or a notebook's print()."""
        g = self.graph
        lines = [f"Replayed your backward on a copy of the graph ({len(g.nodes)} nodes, "
                 f"{len(self.calls)} calls of _backward, order from {self.order}); "
                 "your objects were not changed."]
        lines += self.notes
        p = self.first
        if p is None:
            lines.append("Every step adds what the rule table says: no difference.")
            return "\n".join(lines)
        lines.append(describe(g, p, self))
        if p.hint:
            lines.append(p.hint)
        return "\n".join(lines)


def describe(g: Graph, p: Problem, r: Replay | None = None) -> str:
    """One or two lines: where, which operation, expected and actual contribution."""
    where = ""
    if p.node is not None:
        node = g.nodes[p.node]
        op = f" (operation {node.op!r})" if node.op else ""
        where = f"node {node.name} = {node.formula(g.names)}{op}"
    head = f"First difference at step {p.step} of {len(r.calls)}: " if (r and p.step) else \
        "First difference: "
    text = head + (where + ": " if where else "") + p.message
    if p.input is not None and (p.expected is not None or p.actual is not None):
        x = g.names[p.input]
        text += (f"\n  expected (rule table): grad({x}) += {_num(p.expected)};"
                 f"  your _backward added: {_num(p.actual)}")
    return text


def _num(x: float | None) -> str:
    return "?" if x is None else f"{x:.6g}"


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


# --- run the student's backward on a copy and compare every call with the rule table ---------------------------------------
def replay(out: Any, *, names: Names = None, numbering: str = "inner") -> Replay:
    """Run the student's backward on a copy of ``out``'s graph and compare every step."""
    graph = trace(out, names=names, numbering=numbering)
    if len(graph.nodes) > MAX_NODES:
        raise ValueError(f"the graph has {len(graph.nodes)} nodes: replay a smaller expression "
                         f"(at most {MAX_NODES}), e.g. one data point instead of the whole loss")
    snapshot = [(o, _state(o)) for o in reachable(out)]
    notes: list[str] = []
    raised: list[str] = []
    order, log = _run(out, graph, notes, raised)
    for obj, state in snapshot:
        if _state(obj) != state:
            obj.data, obj.grad = state
            notes.append("A _backward reached one of your own objects (not the copy), through a "
                         "global name perhaps: its data and grad were put back.")
    result = _compare(graph, order, log, notes)
    first = result.first
    if raised and (first is None or first.step is None):  # a step that went wrong before stays first
        result.problems = [Problem(None, None, None, "backward-error",
                                   f"your backward() raised {raised[0]} (outside any _backward)")]
    return result


def _state(obj: Any) -> tuple[Any, Any]:
    return getattr(obj, "data", None), getattr(obj, "grad", None)


def _run(out: Any, graph: Graph, notes: list[str], raised: list[str]) -> tuple[str, list]:
    """The calls of the student's ``backward()``, or of a valid order when it is not written."""
    for attempt in ("yours", "valid"):
        copies_by_id = copy_graph(out)
        copies: list[Any] = [None] * len(graph.nodes)
        for orig, i in graph.ids.items():  # a number among the inputs has no original to copy
            copies[i] = copies_by_id[orig] if orig in copies_by_id else Placeholder()
        index = {id(c): i for i, c in enumerate(copies)}
        rec = Recorder(copies, index)
        rec.install()
        root = copies[graph.output]
        try:
            if attempt == "yours":
                if not callable(getattr(root, "backward", None)):
                    notes.append("Your values have no backward() method: replaying your _backward "
                                 "closures in a valid topological order.")
                    continue
                root.backward()
                return "your backward()", rec.log
            root.grad = 1.0
            for node in reversed(graph.nodes):
                if not node.is_leaf:
                    copies[node.index]._backward()
            return "a valid topological order (the replay seeded grad(out) = 1)", rec.log
        except NotImplementedError:
            if attempt == "valid":
                notes.append("A _backward is not written yet (NotImplementedError): the replay "
                             "stops there.")
                return "a valid topological order", rec.log
            notes.append("Your backward() is not written yet (NotImplementedError): replaying your "
                         "_backward closures in a valid topological order.")
        except Stop:
            if rec.too_many:
                notes.append(f"The replay stopped after {rec.limit} calls of _backward for "
                             f"{len(graph.nodes)} nodes: your backward() calls them again and again.")
            return ("your backward()" if attempt == "yours" else "a valid topological order"), rec.log
        except Exception as err:  # noqa: BLE001 (backward() itself raised, outside any _backward)
            raised.append(f"{type(err).__name__}: {err}")
            return "your backward()", rec.log
    return "a valid topological order", []


def _compare(graph: Graph, order: str, log: list, notes: list[str]) -> Replay:
    g = graph
    n = len(g.nodes)
    users: list[set[int]] = [set() for _ in range(n)]
    for node in g.nodes:
        for i in node.inputs:
            users[i].add(node.index)
    calls: list[Call] = []
    problems: list[Problem] = []
    ran: set[int] = set()
    skipped = 0
    seed: dict[int, float | None] = {}
    final = list(log[-1][2]) if log else [None] * n
    for k, (v, before, after, error) in enumerate(log):
        if not seed:
            seed = {i: x for i, x in enumerate(before) if x not in (0.0, None)} or {g.output: before[g.output]}
        node = g.nodes[v]
        changed = {i for i in range(n) if not close(before[i], after[i])}
        if node.is_leaf and not changed and not error:
            skipped += 1
            continue
        step = len(calls) + 1
        up = before[v]
        expected: dict[int, float | None] = {}
        for p, i in enumerate(node.inputs):
            term = None if (node.local is None or up is None) else up * node.local[p]
            expected[i] = None if (term is None or (i in expected and expected[i] is None)) else \
                expected.get(i, 0.0) + term
        shown = list(dict.fromkeys([*node.inputs, *sorted(changed)]))
        call = Call(step, v, up, {i: before[i] for i in shown}, {i: after[i] for i in shown},
                    expected, error)
        calls.append(call)
        if not problems:
            problems.extend(_problems(g, call, users, ran, seed if step == 1 else None))
        ran.add(v)
    if not problems:
        missing = [i for i in range(n) if not g.nodes[i].is_leaf and i not in ran]
        if missing and log:
            m = missing[-1]
            problems.append(Problem(None, m, None, "no-topological-order",
                                    f"its _backward never ran, so its inputs got nothing from it"))
        elif not log:
            problems.append(Problem(None, None, None, "no-calls",
                                    "no _backward ran at all: backward() must call each node's "
                                    "_backward, from the output back to the inputs"))
    return Replay(g, calls, order, seed, final, problems, notes, skipped)


def _problems(g: Graph, call: Call, users: list[set[int]], ran: set[int],
              seed: dict[int, float | None] | None) -> list[Problem]:
    """What is wrong with one call, most telling first (empty: it matches the rule table)."""
    v = call.node
    node = g.nodes[v]
    if seed is not None and v == g.output and not close(call.upstream, 1.0):
        return [Problem(call.step, v, None, "seed",
                        f"grad({node.name}) was {_num(call.upstream)} when the first _backward ran: "
                        f"backward() must set the output's grad to 1 first")]
    if call.error:
        return [Problem(call.step, v, None, "backward-error", f"its _backward raised {call.error}")]
    if v in ran:
        return [Problem(call.step, v, None, "no-topological-order",
                        f"its _backward runs a second time, so its gradient reaches its inputs twice")]
    waiting = sorted(u for u in users[v] if u not in ran)
    if waiting:
        who = ", ".join(g.names[u] for u in waiting)
        return [Problem(call.step, v, None, "no-topological-order",
                        f"its _backward runs before {who} (which uses {node.name}) has passed its "
                        f"gradient back, so grad({node.name}) = {_num(call.upstream)} is not complete yet",
                        g.grads[v], call.upstream)]
    for i in call.after:
        if i not in call.expected and not close(call.before[i], call.after[i]):
            return [Problem(call.step, v, i, "not-an-input",
                            f"its _backward changed grad({g.names[i]}), which is not one of its inputs",
                            0.0, call.added(i))]
    for i, want in call.expected.items():
        got = call.added(i)
        if want is None or close(got, want):
            continue
        return [_classify(g, call, i, want, got)]
    return []


def _classify(g: Graph, call: Call, i: int, want: float, got: float | None) -> Problem:
    """Name the mistake behind a wrong contribution, when it is a known one."""
    node, v, up = g.nodes[call.node], call.node, call.upstream
    x = g.names[i]
    positions = [p for p, j in enumerate(node.inputs) if j == i]
    terms = [up * node.local[p] for p in positions]
    after, before = call.after[i], call.before[i]
    common = (call.step, v, i)
    if after is not None and (any(close(after, t) for t in terms) or close(after, want)) \
            and (len(positions) > 1 or not close(before, 0.0)):
        return Problem(*common, "grad-overwritten",
                       f"grad({x}) went {_num(before)} \u2192 {_num(after)}: it was set to one "
                       f"contribution instead of adding {_num(want)} to it", want, got)
    if node.rule == "mul" and len(set(node.inputs)) == 2 and got is not None \
            and close(got, up * g.nodes[i].data) and not close(want, got):
        other = g.names[node.inputs[1 - positions[0]]]
        return Problem(*common, "mul-no-swap",
                       f"{x} received grad({node.name}) \u00d7 {x} instead of grad({node.name}) "
                       f"\u00d7 {other}", want, got)
    local_sum = sum(node.local[p] for p in positions)
    if got is not None and not close(up, 1.0) and close(got, local_sum):
        return Problem(*common, "chain-rule-missing",
                       f"{x} received the local derivative {_num(local_sum)} without the factor "
                       f"grad({node.name}) = {_num(up)}", want, got)
    rule = rules.RULES[node.rule].derivative if node.rule else "no rule"
    return Problem(*common, "wrong-local",
                   f"{x} received {_num(got)}, the rule table gives {_num(want)} "
                   f"(= grad({node.name}) {_num(up)} \u00d7 local {_num(want / up if up else None)}; "
                   f"{rule})", want, got)
