"""Notebook 02's graphs as data, and the answers that known mistakes predict on them.

:class:`Graph` evaluates a hand-written expression one step at a time with the rule table's
forward values (:mod:`course.rules`) and measures, by central differences, the slope of its
output in any variable (``slope``), the contribution of one use of a variable (``use_slope``)
and the tangent of any variable along a direction of the inputs (``tangent``). From those,
:func:`mistakes`, :func:`shared_upstream`, :func:`wrong_inputs` and :func:`tangent_mistakes`
predict what each known mistake would return, with no closed-form derivative: the checks of
:mod:`course.checks.chain_rule` name a mistake when the student's answer matches one.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Mapping

from course.diagrams import Step, definition
from course.numeric import central_difference

# ---------------------------------------------------------------------------
# The notebook's graphs, as data


@dataclass(frozen=True)
class Graph:
    """A hand-written expression: its inputs in argument order, its steps, the output's name in the text."""

    inputs: tuple[str, ...]
    steps: tuple[Step, ...]
    out: str  #: what the text calls the output ("f", "L", "o", "y")

    def evaluate(self, args: tuple[float, ...], fixed: Mapping[str, float] | None = None,
                 use: tuple[str, str, float] | None = None) -> dict[str, float]:
        """Every variable's value, one step at a time with the rule table's forward values.

        ``fixed`` holds variables at given values (their own step is not recomputed);
        ``use = (step, name, t)`` makes only ``step`` see ``t`` in place of ``name``.
        """
        vals = dict(zip(self.inputs, map(float, args)))
        vals.update(fixed or {})
        for s in self.steps:
            if s.name in (fixed or {}):
                continue
            xs = [use[2] if use is not None and (s.name, x) == use[:2] else vals[x] for x in s.inputs]
            vals[s.name] = s.rule.value(*xs, **s.params)
        return vals

    def output(self, vals: Mapping[str, float]) -> float:
        return vals[self.steps[-1].name]

    def slope(self, args: tuple[float, ...], name: str) -> float:
        """d(out)/d(name) by a central difference: ``name`` nudged, what depends on it recomputed."""
        at = self.evaluate(args)[name]
        return central_difference(lambda t: self.output(self.evaluate(args, fixed={name: t})), at)

    def use_slope(self, args: tuple[float, ...], step: str, name: str) -> float:
        """The contribution of one use of ``name`` (as an input of ``step``): only that use nudged."""
        at = self.evaluate(args)[name]
        return central_difference(lambda t: self.output(self.evaluate(args, use=(step, name, t))), at)

    def tangent(self, args: tuple[float, ...], direction: tuple[float, ...], name: str) -> float:
        """d(name)/dt at t = 0 when the inputs move as ``args + t * direction`` (a central difference)."""
        return central_difference(
            lambda t: self.evaluate(tuple(a + t * d for a, d in zip(args, direction)))[name], 0.0)

    def uses(self, name: str) -> list[tuple[Step, int]]:
        """The steps that read ``name``, with the position of ``name`` among their inputs."""
        return [(s, i) for s in self.steps for i, x in enumerate(s.inputs) if x == name]


F = Graph(("x0", "x1"), (
    Step("v0", "div", ("x0", "x1")),  # the shared quotient, used twice
    Step("v1", "mul", ("x0", "v0")),
    Step("v2", "cos", ("x0",)),
    Step("v3", "mul", ("v1", "v2")),
    Step("v4", "exp", ("v0",)),
    Step("v5", "add", ("v3", "v4")),
), "f")
L = Graph(("a", "b", "c", "f"), (
    Step("e", "mul", ("a", "b")),
    Step("d", "add", ("e", "c")),
    Step("L", "mul", ("d", "f")),
), "L")
NEURON = Graph(("x1", "x2", "w1", "w2", "b"), (
    Step("x1w1", "mul", ("x1", "w1")),
    Step("x2w2", "mul", ("x2", "w2")),
    Step("s", "add", ("x1w1", "x2w2")),
    Step("n", "add", ("s", "b")),
    Step("o", "tanh", ("n",)),
), "o")
Y = Graph(("x0", "x1", "x2"), (
    Step("v0", "sin", ("x0",)),
    Step("v1", "cos", ("x0",)),
    Step("v2", "mul", ("x1", "v1")),
    Step("v3", "div", ("x1", "x2")),
    Step("v4", "add", ("v0", "v2")),
    Step("v5", "add", ("v4", "v3")),
), "y")


# ---------------------------------------------------------------------------
# Known mistakes, predicted from the graph


def mistakes(graph: Graph, args: tuple[float, ...], name: str) -> list[tuple[str, float, str]]:
    """The gradient d(out)/d(name) that each known mistake would give, as ``(tag, value, hint)``.

    With ``c_j`` the contribution of the j-th use of ``name`` and ``g`` the gradient arriving
    at that use's node: one use dropped (or overwritten by ``=``) gives a partial sum of the
    ``c_j``; a plus node that splits gives ``g/2``; a times node that does not swap gives
    ``g * name``; a local derivative alone gives 1 or the other factor; a flipped sign of
    ``cos`` or of ``d(a/b)/db`` gives ``-c_j``; ``-a/b`` for ``-a/b^2`` gives ``c_j * b``;
    tanh's rule on the input or without the square gives ``g (1 - n^2)`` or ``g (1 - o)``;
    the chain stopped before a node that feeds ``exp`` gives ``g`` for ``c_j``.
    """
    vals = graph.evaluate(args)
    uses = graph.uses(name)
    parts = [graph.use_slope(args, s.name, name) for s, _ in uses]
    total = sum(parts)
    d = f"d{graph.out}/d"
    found: list[tuple[str, float, str]] = []
    if len(uses) > 1:
        nodes = ", ".join(s.name for s, _ in uses)
        text = (f"{name} is used {len(uses)} times (in {nodes}): its gradient is the SUM of one contribution "
                "per use (+= where = would overwrite one)")
        for r in range(1, len(uses)):
            found += [("reused-variable-not-summed", sum(parts[j] for j in part), text)
                      for part in combinations(range(len(uses)), r)]
    found += shared_upstream(graph, args, name)
    for (s, i), part in zip(uses, parts):
        up, rest = graph.slope(args, s.name), total - part
        if s.op == "add":
            found += [("plus-node-splits-gradient", rest + up / k,
                       "a plus node does not split the gradient: each input receives ALL of it") for k in (2, 4)]
            found.append(("chain-rule-no-upstream", rest + 1.0,
                          f"1 is only the plus node's LOCAL derivative: multiply it by the gradient arriving "
                          f"from above, {d}{s.name}"))
        elif s.op == "mul":
            other = s.inputs[1 - i]
            found.append(("times-node-no-swap", rest + up * vals[name],
                          f"a times node swaps its inputs: d{s.name}/d{name} is the OTHER factor, {other}, "
                          f"not {name} itself"))
            found.append(("chain-rule-no-upstream", rest + vals[other],
                          f"{other} is only the local derivative d{s.name}/d{name}: multiply it by the "
                          f"gradient arriving from above, {d}{s.name}"))
        elif s.op == "cos":
            found.append(("cos-derivative-sign", rest - part,
                          "d cos(a)/da = -sin(a): check the sign of the cos contribution"))
        elif s.op == "div" and i == 1:
            found.append(("division-derivative-sign", rest - part,
                          "d(a/b)/db = -a/b^2: the quotient falls as its denominator grows"))
            found.append(("division-derivative-no-square", rest + part * vals[name],
                          "d(a/b)/db = -a/b^2: the denominator is squared"))
        elif s.op == "tanh":
            found.append(("tanh-derivative-of-input", rest + up * (1 - vals[name] ** 2),
                          f"1 - {name}^2 squares the INPUT of tanh: the rule is 1 - tanh({name})^2 = 1 - {s.name}^2"))
            found.append(("tanh-derivative-not-squared", rest + up * (1 - vals[s.name]),
                          f"1 - {s.name} forgets the square: d{s.name}/d{name} = 1 - {s.name}^2"))
        if any(t.op == "exp" and s.name in t.inputs for t in graph.steps):
            found.append(("exp-inner-derivative", rest + up,
                          f"the exp is exp of {definition(s)}: the chain continues "
                          f"through {s.name}, times d{s.name}/d{name}"))
    return found


def shared_upstream(graph: Graph, args: tuple[float, ...], name: str) -> list[tuple[str, float, str]]:
    """For each variable ``u`` that depends on ``name`` and is used more than once: the gradient of
    ``name`` when one use of ``u`` is dropped from u's adjoint (``(all) - c_j(u) du/d(name)``)."""
    vals = graph.evaluate(args)
    total = graph.slope(args, name)
    found: list[tuple[str, float, str]] = []
    for u in (s.name for s in graph.steps):
        uses = graph.uses(u)
        if u == name or len(uses) < 2:
            continue
        du = central_difference(lambda t: graph.evaluate(args, fixed={name: t})[u], vals[name])
        if du == 0:
            continue
        nodes = ", ".join(s.name for s, _ in uses)
        text = (f"{u} is used {len(uses)} times (in {nodes}): its gradient is the SUM of one contribution per "
                f"use, complete before it passes on to {name}")
        found += [("reused-variable-not-summed", total - graph.use_slope(args, s.name, u) * du, text)
                  for s, _ in uses]
    return found


def wrong_inputs(graph: Graph, vals: Mapping[str, float], name: str) -> list[tuple[str, float, str]]:
    """The value of step ``name`` with one of its inputs replaced by another variable defined before it."""
    step = next(s for s in graph.steps if s.name == name)
    before = list(graph.inputs) + [s.name for s in graph.steps[:graph.steps.index(step)]]
    found = []
    for i, x in enumerate(step.inputs):
        for other in before:
            if other != x:
                xs = [vals[other] if j == i else vals[y] for j, y in enumerate(step.inputs)]
                found.append(("wrong-input-variable", step.rule.value(*xs, **step.params),
                              f"{definition(step)}: this is what it gives with {other} "
                              f"in place of {x}"))
    return found


def tangent_mistakes(graph: Graph, args: tuple[float, ...], direction: tuple[float, ...],
                     name: str) -> list[tuple[str, float, str]]:
    """The tangent of step ``name`` that each known forward-mode mistake would give, as ``(tag, value, hint)``.

    The tangent is a sum of one term per input, ``c_i = (d name/d input_i) * tangent_i``,
    each measured with only that input moved along its own tangent. A product that keeps
    one term, a quotient whose second term has the wrong sign, a unary function's local
    derivative without the input's tangent, a cos with the wrong sign, and seeds that ignore
    the given direction (always 1 for x0 and 0 for the rest) are predicted from those terms.
    """
    step = next(s for s in graph.steps if s.name == name)
    vals = graph.evaluate(args)
    tan = {x: graph.tangent(args, direction, x) for x in step.inputs}
    terms = []
    for i, x in enumerate(step.inputs):
        def moved(t: float, i: int = i) -> float:
            xs = [vals[y] + (t * tan[y] if j == i else 0.0) for j, y in enumerate(step.inputs)]
            return step.rule.value(*xs, **step.params)
        terms.append(central_difference(moved, 0.0))
    total = sum(terms)
    found: list[tuple[str, float, str]] = []
    if step.op == "mul":
        found += [("product-rule-one-term", t, f"{definition(step)}: the product rule has two terms, "
                   f"d{step.inputs[0]} * {step.inputs[1]} + {step.inputs[0]} * d{step.inputs[1]}") for t in terms]
    if len(terms) == 2 and step.op != "mul":
        found += [("tangent-term-dropped", t, f"{definition(step)}: both inputs move, so its tangent has one term "
                   "per input") for t in terms]
    if step.op == "div":
        found.append(("division-derivative-sign", terms[0] - terms[1],
                      "d(a/b)/db = -a/b^2: the denominator's term comes with a minus sign"))
    if len(step.inputs) == 1:
        x = step.inputs[0]
        if tan[x] != 0:
            found.append(("chain-rule-no-inner-tangent", total / tan[x],
                          f"{definition(step)}: multiply its local derivative by the tangent of {x}"))
        if step.op == "cos":
            found.append(("cos-derivative-sign", -total, "d cos(a)/da = -sin(a): check the sign"))
    seed = tuple(1.0 if j == 0 else 0.0 for j in range(len(direction)))
    if tuple(direction) != seed:
        found.append(("tangent-seed-ignored", graph.tangent(args, seed, name),
                      f"this is the tangent for the seed {seed}: start from the tangents you were given, "
                      + ", ".join(f"d{x} = {d:g}" for x, d in zip(graph.inputs, direction))))
    return found
