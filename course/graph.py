"""Trace a Value-like expression into plain records, and the steps of its sweeps.

A computational graph is a set of values ``v_k = op_k(v_i, v_j, ...)``. Backprop
(reverse mode) computes ``grad(v) = d out / d v`` by seeding ``grad(out) = 1``
and visiting the nodes in *reverse* topological order; every edge
``v_i -> v_k`` (the ``p``-th input of ``v_k``) adds one contribution::

    grad(v_i) += grad(v_k) * d v_k / d v_i          (upstream x local)

so a value used twice (``a*a``, ``a+a``) receives two contributions. Forward
mode seeds one input's *tangent* with 1 (every other leaf with 0) and visits
the nodes in topological order::

    tangent(v_k) = sum_p  d v_k / d v_(p) * tangent(v_(p))

:func:`trace` reads any object that has ``data``, ``grad``, its inputs
(``_prev``, ``_children``, ``children`` or ``prev``; a tuple, a list or a set)
and an operation label (``_op`` or ``op``): the course's engine, micrograd and
a student's own class. It never writes to those objects: every number lives in
the returned :class:`Graph`. Local derivatives come from
:func:`course.rules.rule_for`, the one rule table; an operation without a rule
is drawn and stepped through with its derivative marked unknown.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, Union

from course import rules

CHILD_ATTRS = ("_prev", "_children", "children", "prev")
OP_ATTRS = ("_op", "op")


@dataclass(frozen=True)
class Node:
    """One value of the graph, as read (never changed) from the student's object."""

    index: int  #: position in :attr:`Graph.nodes` (a topological order: leaves first)
    name: str  #: the object's ``label`` if it has one, else ``v<index>``
    data: float
    op: str  #: the operation label as the engine wrote it ('' for a leaf)
    inputs: tuple[int, ...]  #: indices of the inputs, in order, duplicates kept
    rule: str | None  #: key in :data:`course.rules.RULES`, None if unknown
    params: dict[str, float]  #: rule parameters, e.g. ``{"k": 2.0}`` for ``**2``
    local: tuple[float, ...] | None  #: d data / d input for each input; None if unknown
    note: str = ""  #: why a derivative is missing or a value looks wrong
    engine_grad: float | None = None  #: the object's own ``.grad`` when traced

    @property
    def is_leaf(self) -> bool:
        return not self.inputs

    def formula(self, names: Sequence[str]) -> str:
        """``'a * b'``, ``'tanh(n)'``, ``'a**2'``: the node's operation on its inputs."""
        ins = [names[i] for i in self.inputs]
        if not ins:
            return names[self.index]
        if self.rule in ("add", "sub", "mul", "div") and len(ins) == 2:
            return f"{ins[0]} {rules.RULES[self.rule].label} {ins[1]}"
        if self.rule == "pow":
            return f"{ins[0]}{rules.RULES['pow'].node_label(**self.params)}"
        if self.rule == "neg":
            return f"-{ins[0]}"
        return f"{self.op or '?'}({', '.join(ins)})"


@dataclass(frozen=True)
class BackwardStep:
    """One edge of the backward pass: ``grad(input) += upstream * local``."""

    output: int  #: the node whose gradient is passed back
    input: int  #: the node that receives the contribution
    position: int  #: which input of ``output`` (0-based)
    upstream: float | None  #: grad(output), complete at this point
    local: float | None  #: d output / d input
    contribution: float | None  #: upstream * local
    grad_before: float | None
    grad_after: float | None
    count: int  #: this is contribution number ``count`` to ``input`` ...
    of: int  #: ... out of ``of``


@dataclass(frozen=True)
class TangentStep:
    """One node of a forward-mode sweep: ``tangent = sum local_p * tangent_p``."""

    node: int
    terms: tuple[tuple[int, float | None, float | None], ...]  #: (input, local, its tangent)
    tangent: float | None


@dataclass
class Graph:
    """The traced graph: nodes in topological order, edges and backward steps."""

    nodes: list[Node]
    output: int
    backward: list[BackwardStep] = field(default_factory=list)
    grads: list[float | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ids: dict[int, int] = field(default_factory=dict, repr=False)  #: id(object) -> index

    @property
    def names(self) -> list[str]:
        return [n.name for n in self.nodes]

    @property
    def leaves(self) -> list[int]:
        return [n.index for n in self.nodes if n.is_leaf]

    def consumers(self) -> list[int]:
        """How many contributions each node receives (edges out of it)."""
        count = [0] * len(self.nodes)
        for n in self.nodes:
            for i in n.inputs:
                count[i] += 1
        return count


class _Const:
    """A plain number that a student's operation stored among its inputs."""

    def __init__(self, x: float) -> None:
        self.data, self.grad, self._prev, self._op, self.label = x, None, (), "", f"{x:g}"


def _children(obj: Any) -> tuple[list[Any], bool]:
    """The inputs of ``obj`` and whether their order is meaningful (not a set)."""
    for attr in CHILD_ATTRS:
        if hasattr(obj, attr):
            kids = getattr(obj, attr)
            if callable(kids):
                kids = kids()
            if kids is None:
                return [], True
            ordered = not isinstance(kids, (set, frozenset, dict))
            return [_Const(float(c)) if isinstance(c, (int, float)) else c for c in kids], ordered
    raise TypeError(
        f"cannot draw a graph of {type(obj).__name__}: it needs its inputs in one of "
        f"the attributes {', '.join(CHILD_ATTRS[:-1])} or {CHILD_ATTRS[-1]} (a tuple, list or set)")


def _op_label(obj: Any) -> str:
    for attr in OP_ATTRS:
        if hasattr(obj, attr):
            op = getattr(obj, attr)
            return "" if op is None else str(op)
    return ""


def _float(x: Any) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _close(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (
        math.isnan(a) and math.isnan(b))


def _collect(out: Any) -> tuple[dict[int, Any], dict[int, tuple[list[Any], bool]], list[int]]:
    """Every object reachable from ``out`` (keyed by id), their inputs, a post-order."""
    objs: dict[int, Any] = {id(out): out}
    kids: dict[int, tuple[list[Any], bool]] = {}
    post: list[int] = []
    stack: list[tuple[Any, bool]] = [(out, False)]
    done: set[int] = set()
    while stack:  # iterative: deep chains must not hit the recursion limit
        obj, expanded = stack.pop()
        key = id(obj)
        if expanded:
            if key not in done:
                done.add(key)
                post.append(key)
            continue
        if key in kids:
            continue
        kids[key] = _children(obj)
        stack.append((obj, True))
        for c in kids[key][0]:
            if id(c) not in kids:
                objs[id(c)] = c
                stack.append((c, False))
    return objs, kids, post


def _signatures(objs, kids, post) -> dict[int, str]:
    """A digest of each sub-expression (op, value, inputs): a run-independent sort key."""
    sig: dict[int, str] = {}
    for key in post:
        children, ordered = kids[key]
        parts = [sig[id(c)] for c in children]
        if not ordered:
            parts.sort()
        text = f"{_op_label(objs[key])}|{_float(getattr(objs[key], 'data', None))!r}|{','.join(parts)}"
        sig[key] = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    return sig


def _resolve(op: str, data: float | None, inputs: list[Any], ordered: bool):
    """(rule name, params, ordered inputs, local derivatives, note) for one node."""
    try:
        rule, params = rules.rule_for(op)
    except KeyError:
        return None, {}, inputs, None, (
            f"no derivative rule for the operation {op!r}: its local derivatives are unknown")
    if rule.arity == 2 and len(inputs) == 1 and rule.name == "sub":
        rule, params = rules.RULES["neg"], {}
    if rule.arity == 2 and len(inputs) == 1 and not ordered:
        inputs = inputs * 2  # a set keeps one copy of a*a: the value was used twice
    if len(inputs) != rule.arity:
        return None, {}, inputs, None, (
            f"operation {op!r} has {len(inputs)} input(s) but its rule takes {rule.arity}: "
            "local derivatives unknown")
    xs = [_float(getattr(c, "data", None)) for c in inputs]
    if any(x is None for x in xs):
        return rule.name, params, inputs, None, "an input's data is not a number"

    def value(v):
        try:
            return rule.value(*v, **params)
        except (ValueError, ZeroDivisionError, OverflowError):
            return None

    note = ""
    if not ordered and rule.arity == 2 and data is not None:
        # a set forgets the order: keep the order whose value matches the node's data
        got = value(xs)
        if got is None or not _close(got, data):
            swapped = value(xs[::-1])
            if swapped is not None and _close(swapped, data):
                inputs, xs = inputs[::-1], xs[::-1]
    got = value(xs)
    if data is not None and got is not None and not _close(got, data):
        note = (f"its data {data!r} is not {rule.name}{tuple(xs)} = {got!r}: "
                f"check the forward computation of {op!r}")
    try:
        y = data if data is not None else got
        local = tuple(float(d) for d in rule.local(tuple(xs), y, **params))
    except (ValueError, ZeroDivisionError, OverflowError) as err:
        return rule.name, params, inputs, None, f"local derivative undefined here: {err}"
    return rule.name, params, inputs, local, note


Names = Union[Mapping[Any, Any], Sequence[str], None]


def choose_names(objs: Sequence[Any], leaf: Sequence[bool], names: Names = None,
                 numbering: str = "inner") -> list[str]:
    """The name of each node (``objs`` in topological order), most specific first.

    1. ``names``, when given: a mapping ``{"x1w1": obj}`` (name to object),
       ``{obj: "x1w1"}``, ``{5: "x1w1"}`` (topological index) or
       ``{"v0": "x1w1"}`` (automatic name to name); or a sequence of names for
       the computed (non-leaf) nodes in topological order, the order in which
       an expression written left to right is evaluated
       (``["x1w1", "x2w2", "s", "n", "o"]`` for ``tanh(x1*w1 + x2*w2 + b)``).
    2. The object's ``label`` attribute, when it is a non-empty string.
    3. Automatic: ``numbering="inner"`` (default) numbers the computed nodes
       ``v0, v1, ...`` in topological order, as notebook 02 writes its
       intermediate variables, and unlabelled leaves by their value (``2``,
       ``0.1``; ``0.1#2`` for a second leaf of the same value): most often
       they are numbers the engine wrapped, as in ``2 * a``;
       ``numbering="all"`` numbers every node ``v<index>``. Automatic names
       skip names already taken, so names are unique unless given twice.
    """
    if numbering not in ("inner", "all"):
        raise ValueError(f"numbering is 'inner' or 'all', not {numbering!r}")
    n = len(objs)
    given: list[str | None] = [None] * n
    for i, obj in enumerate(objs):
        label = getattr(obj, "label", None)
        if isinstance(label, str) and label.strip():
            given[i] = label
    explicit = _explicit_names(objs, leaf, names)
    for i, name in explicit.items():
        given[i] = name
    taken = {g for g in given if g}
    out: list[str] = []
    counter = 0
    for i in range(n):
        if given[i]:
            out.append(given[i])
        elif numbering == "all":
            out.append(f"v{i}")
        elif leaf[i]:  # most often a number the engine wrapped (the 2 of 2 * a): show it
            out.append(_unique(_number_name(objs[i]), taken))
        else:
            while f"v{counter}" in taken:
                counter += 1
            out.append(f"v{counter}")
            counter += 1
        taken.add(out[-1])
    renames = ({k: v for k, v in names.items() if isinstance(k, str) and isinstance(v, str)}
               if isinstance(names, Mapping) else {})
    if renames:  # {"v0": "x1w1"}: the keys are the names the nodes get without ``names``
        default = choose_names(objs, leaf, None, numbering)
        unknown = sorted(set(renames) - set(default))
        if unknown:
            raise KeyError(f"names: no node is called {', '.join(unknown)}; "
                           f"the names are {', '.join(default)}")
        out = [out[i] if i in explicit else renames.get(default[i], out[i]) for i in range(n)]
    return out


def _number_name(obj: Any) -> str:
    x = _float(getattr(obj, "data", None))
    return "?" if x is None else f"{x:g}"


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name#2``, ``name#3``, ... when it is taken."""
    if name not in taken:
        return name
    k = 2
    while f"{name}#{k}" in taken:
        k += 1
    return f"{name}#{k}"


def _explicit_names(objs: Sequence[Any], leaf: Sequence[bool], names: Names) -> dict[int, str]:
    """{topological index: name} from the ``names`` argument of :func:`choose_names`
    (renames of automatic names, ``{"v0": "x1w1"}``, are left to it)."""
    if names is None:
        return {}
    where = {id(o): i for i, o in enumerate(objs)}
    if isinstance(names, Mapping):
        found: dict[int, str] = {}
        for key, value in names.items():
            if isinstance(key, str) and isinstance(value, str):
                continue
            name, obj = (key, value) if isinstance(key, str) else (value, key)
            if not isinstance(name, str):
                raise TypeError(f"names maps a name (str) to a node or a node to a name, "
                                f"not {key!r}: {value!r}")
            if isinstance(obj, int) and not hasattr(obj, "data"):
                if not 0 <= obj < len(objs):
                    raise IndexError(f"names: node index {obj} is outside 0..{len(objs) - 1}")
                found[obj] = name
            elif id(obj) in where:
                found[where[id(obj)]] = name
            else:
                raise KeyError(f"names: the object given for {name!r} is not a node of this graph")
        return found
    seq = list(names)
    inner = [i for i in range(len(objs)) if not leaf[i]]
    if len(seq) != len(inner):
        raise ValueError(f"names: {len(seq)} names given for {len(inner)} computed nodes "
                         "(give one per computed node, in the order they are evaluated)")
    if not all(isinstance(x, str) and x for x in seq):
        raise TypeError("names: every name is a non-empty string")
    return dict(zip(inner, seq))


def trace(out: Any, *, seed: float = 1.0, names: Names = None, numbering: str = "inner") -> Graph:
    """Read the graph that ends at ``out`` into records and run backprop on them.

    Nodes are numbered in a deterministic topological order: the leaves first
    (in the order a depth-first search from ``out`` meets them), then every
    other node after all of its inputs. ``names`` and ``numbering`` choose the
    names shown (:func:`choose_names`). The student's objects are only read.
    """
    objs, kids, post = _collect(out)
    sig = _signatures(objs, kids, post)
    resolved: dict[int, tuple] = {}
    order_kids: dict[int, list[Any]] = {}
    for key in post:
        obj = objs[key]
        children, ordered = kids[key]
        if not ordered:
            children = sorted(children, key=lambda c: sig[id(c)])
        if children:
            resolved[key] = _resolve(_op_label(obj), _float(getattr(obj, "data", None)),
                                     children, ordered)
            order_kids[key] = list(resolved[key][2])
        else:
            order_kids[key] = []
    # depth-first post-order over the now-ordered inputs gives a valid order
    seen: set[int] = set()
    topo: list[int] = []
    stack: list[tuple[Any, int]] = [(out, 0)]
    seen.add(id(out))
    while stack:
        obj, i = stack[-1]
        ch = order_kids[id(obj)]
        if i < len(ch):
            stack[-1] = (obj, i + 1)
            if id(ch[i]) not in seen:
                seen.add(id(ch[i]))
                stack.append((ch[i], 0))
        else:
            stack.pop()
            topo.append(id(obj))
    topo = [k for k in topo if not order_kids[k]] + [k for k in topo if order_kids[k]]
    index = {k: i for i, k in enumerate(topo)}
    node_names = choose_names([objs[k] for k in topo], [not order_kids[k] for k in topo],
                              names, numbering)
    nodes: list[Node] = []
    notes: list[str] = []
    for i, key in enumerate(topo):
        obj = objs[key]
        name = node_names[i]
        data = _float(getattr(obj, "data", None))
        if data is None:
            raise TypeError(f"node {name}: its data {getattr(obj, 'data', None)!r} is not a number")
        if key in resolved:
            rule, params, ins, local, note = resolved[key]
        else:
            rule, params, ins, local, note = None, {}, [], None, ""
        node = Node(i, name, data, _op_label(obj), tuple(index[id(c)] for c in ins),
                    rule, dict(params), local, note, _float(getattr(obj, "grad", None)))
        nodes.append(node)
        if note:
            notes.append(f"{name} = {node.formula([n.name for n in nodes])}: {note}")
    graph = Graph(nodes, index[id(out)], notes=notes, ids=index)
    _backprop(graph, seed)
    return graph


def _backprop(graph: Graph, seed: float) -> None:
    """Fill ``graph.backward`` and ``graph.grads``: one step per edge, reverse order."""
    n = len(graph.nodes)
    grads: list[float | None] = [0.0] * n
    grads[graph.output] = seed
    total = graph.consumers()
    received = [0] * n
    steps: list[BackwardStep] = []
    for node in reversed(graph.nodes):
        up = grads[node.index]
        for p, i in enumerate(node.inputs):
            local = node.local[p] if node.local is not None else None
            contrib = up * local if (up is not None and local is not None) else None
            before = grads[i]
            after = before + contrib if (before is not None and contrib is not None) else None
            grads[i] = after
            received[i] += 1
            steps.append(BackwardStep(node.index, i, p, up, local, contrib, before, after,
                                      received[i], total[i]))
    graph.backward = steps
    graph.grads = grads


def forward_mode(graph: Graph, wrt: int, seed: float = 1.0) -> list[TangentStep]:
    """Tangents of every node along input ``wrt`` (seeded ``seed``, other leaves 0).

    ``tangent(out)`` equals ``grad(wrt)`` of the reverse sweep: one forward
    sweep gives one input's derivative, one reverse sweep gives all of them.
    """
    if not graph.nodes[wrt].is_leaf:
        raise ValueError(f"{graph.nodes[wrt].name} is not an input (leaf) of the graph")
    tangent: list[float | None] = [0.0] * len(graph.nodes)
    tangent[wrt] = seed
    steps: list[TangentStep] = []
    for node in graph.nodes:
        if node.is_leaf:
            continue
        terms = []
        total: float | None = 0.0
        for p, i in enumerate(node.inputs):
            local = node.local[p] if node.local is not None else None
            terms.append((i, local, tangent[i]))
            if total is None or local is None or tangent[i] is None:
                total = None
            else:
                total += local * tangent[i]
        tangent[node.index] = total
        steps.append(TangentStep(node.index, tuple(terms), total))
    return steps


def node_index(graph: Graph, which: Any) -> int:
    """The index of a node given as the object itself, its name (``'x1'``) or its index."""
    if isinstance(which, int) and not hasattr(which, "data"):
        if not 0 <= which < len(graph.nodes):
            raise IndexError(f"node index {which} is outside 0..{len(graph.nodes) - 1}")
        return which
    if isinstance(which, str):
        names = graph.names
        if which in names:
            return names.index(which)
        raise KeyError(f"no node named {which!r}; the names are {', '.join(names)}")
    if id(which) in graph.ids:
        return graph.ids[id(which)]
    raise KeyError(f"{which!r} is not a node of this graph")
