"""The checks of notebook 04, on the check functions directly (no notebook): for every check, the
solution passes, the released stub fails saying it is not written yet, each known mistake fails with
the hint that names it, and a replay on the recorded answers gives the live verdict."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

import course_hidden.forward_reverse as hidden
from course.checks import answers
from course.checks import forward_reverse as fr
from course.checks.answers import CheckFailed
from course.tape import Tape

NOT_WRITTEN = "Not written yet: replace this line with your code, then run this cell and the test cells below it."


def not_written(*_: Any, **__: Any) -> Any:
    raise NotImplementedError(NOT_WRITTEN)


# ---------------------------------------------------------------------------
# The notebook's solutions (a class factory, so that a mistake planted in one method is used by
# every result, as it is in the student's own class)


def make_dual(**methods: Callable) -> type:
    """The solution's Dual, with ``methods`` replacing some of its own."""

    class Dual:
        def __init__(self, value, tangent=0.0):
            self.value = float(value)
            self.tangent = float(tangent)

        @classmethod
        def lift(cls, x):
            return x if isinstance(x, cls) else cls(x, 0.0)

        def __add__(self, other):
            other = self.lift(other)
            return type(self)(self.value + other.value, self.tangent + other.tangent)

        def __radd__(self, other):
            return self.lift(other) + self

        def __sub__(self, other):
            other = self.lift(other)
            return type(self)(self.value - other.value, self.tangent - other.tangent)

        def __rsub__(self, other):
            return self.lift(other) - self

        def __mul__(self, other):
            other = self.lift(other)
            return type(self)(self.value * other.value, self.tangent * other.value + self.value * other.tangent)

        def __rmul__(self, other):
            return self.lift(other) * self

        def __truediv__(self, other):
            other = self.lift(other)
            return type(self)(self.value / other.value,
                              (self.tangent * other.value - self.value * other.tangent) / other.value ** 2)

        def __rtruediv__(self, other):
            return self.lift(other) / self

        def __neg__(self):
            return type(self)(-self.value, -self.tangent)

        def __pow__(self, k):
            return type(self)(self.value ** k, k * self.value ** (k - 1) * self.tangent)

        def sin(self):
            return type(self)(math.sin(self.value), math.cos(self.value) * self.tangent)

        def cos(self):
            return type(self)(math.cos(self.value), -math.sin(self.value) * self.tangent)

        def exp(self):
            return type(self)(math.exp(self.value), math.exp(self.value) * self.tangent)

        def log(self):
            return type(self)(math.log(self.value), self.tangent / self.value)

        def tanh(self):
            y = math.tanh(self.value)
            return type(self)(y, (1.0 - y * y) * self.tangent)

    for name, fn in methods.items():
        setattr(Dual, name, classmethod(fn) if name == "lift" else fn)
    return Dual


Dual = make_dual()
StubDual = make_dual(**{name: not_written for name in (
    "lift", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
    "__neg__", "__pow__", "sin", "cos", "exp", "log", "tanh")})


def D(self: Any, value: float, tangent: float) -> Any:
    return type(self)(value, tangent)


def make_jvp(seed: Callable[[int, float, float], float] = lambda i, x, t: t, lift: bool = True) -> Callable:
    """The solution's jvp; ``seed(i, x, v_i)`` is the tangent input i gets."""

    def jvp(f, xs, v):
        ys = f(*[Dual(x, seed(i, x, t)) for i, (x, t) in enumerate(zip(xs, v))])
        if isinstance(ys, (list, tuple)):
            ys = [Dual.lift(y) if lift else y for y in ys]
            return np.array([y.value for y in ys]), np.array([y.tangent for y in ys])
        ys = Dual.lift(ys)
        return ys.value, ys.tangent

    return jvp


jvp = make_jvp()


def make_backward(order: Callable = reversed, update: Callable = lambda old, d, a: old + d * a,
                  seed: float = 1.0) -> Callable:
    """The solution's backward sweep; ``update(adj[i], d, adj[e.out])`` is the new adj[i]."""

    def backward(tape, output):
        adj = [0.0] * len(tape.values)
        adj[output.index] = seed
        for e in order(tape.entries):
            for i, d in zip(e.inputs, e.local):
                adj[i] = update(adj[i], d, adj[e.out])
        return adj

    return backward


backward = make_backward()


def make_vjp(weighted: bool = True) -> Callable:
    """The solution's vjp (on the course's Tape, with the solution's backward)."""

    def vjp(f, xs, u):
        tape = Tape()
        ins = [tape.variable(x) for x in xs]
        ys = f(*ins)
        if isinstance(ys, (list, tuple)):
            s = 0.0
            for uk, yk in zip(u, ys):
                s = (uk if weighted else 1.0) * yk + s
            value = np.array([getattr(y, "value", y) for y in ys], dtype=float)
        else:
            s = (u if weighted else 1.0) * ys
            value = float(getattr(ys, "value", ys))
        adj = backward(tape, s)
        return value, np.array([adj[v.index] for v in ins])

    return vjp


vjp = make_vjp()


def make_matvec(backward: Callable = lambda self, g: (np.outer(g, self.x), self.W.T @ g)) -> type:
    class MatVec:
        def forward(self, W, x):
            self.W, self.x = W, x
            return W @ x

    MatVec.backward = backward
    return MatVec


def make_tanh(backward: Callable = lambda self, g: (g * (1.0 - self.y ** 2),)) -> type:
    class Tanh:
        def forward(self, z):
            self.y = np.tanh(z)
            return self.y

    Tanh.backward = backward
    return Tanh


MatVec, Tanh = make_matvec(), make_tanh()


# ---------------------------------------------------------------------------
# Every check: (check, the solution's arguments, the stub's arguments)

CHECKS = {
    "check_dual_constants": (fr.check_dual_constants, (Dual,), (StubDual,)),
    "check_dual_product_rule": (fr.check_dual_product_rule, (Dual,), (StubDual,)),
    "check_dual_quotient_and_reflected": (fr.check_dual_quotient_and_reflected, (Dual,), (StubDual,)),
    "check_dual_power": (fr.check_dual_power, (Dual,), (StubDual,)),
    "check_dual_chain_rule": (fr.check_dual_chain_rule, (Dual,), (StubDual,)),
    "check_dual_matches_rule_table": (fr.check_dual_matches_rule_table, (Dual,), (StubDual,)),
    "check_jvp_partial_x0": (fr.check_jvp_partial_x0, (jvp,), (not_written,)),
    "check_jvp_vector_output": (fr.check_jvp_vector_output, (jvp,), (not_written,)),
    "check_jvp_direction": (fr.check_jvp_direction, (jvp,), (not_written,)),
    "check_backward_sweeps_in_reverse": (fr.check_backward_sweeps_in_reverse, (backward,), (not_written,)),
    "check_backward_accumulates": (fr.check_backward_accumulates, (backward,), (not_written,)),
    "check_backward_chain_rule": (fr.check_backward_chain_rule, (backward,), (not_written,)),
    "check_vjp_gradient": (fr.check_vjp_gradient, (vjp,), (not_written,)),
    "check_vjp_direction": (fr.check_vjp_direction, (vjp,), (not_written,)),
    "check_matvec_backward_square": (fr.check_matvec_backward_square, (MatVec,), (make_matvec(not_written),)),
    "check_matvec_backward_rectangular": (fr.check_matvec_backward_rectangular, (MatVec,),
                                          (make_matvec(not_written),)),
    "check_tanh_backward": (fr.check_tanh_backward, (Tanh,), (make_tanh(not_written),)),
    "check_layer_gradients": (fr.check_layer_gradients, (MatVec, Tanh), (make_matvec(not_written), Tanh)),
    "check_two_layers_against_torch": (fr.check_two_layers_against_torch, (MatVec, Tanh),
                                       (MatVec, make_tanh(not_written))),
    # hidden
    "check_dual_constants_random": (hidden.check_dual_constants_random, (Dual,), (StubDual,)),
    "check_dual_product_rule_random": (hidden.check_dual_product_rule_random, (Dual,), (StubDual,)),
    "check_dual_quotient_and_reflected_random": (hidden.check_dual_quotient_and_reflected_random, (Dual,),
                                                 (StubDual,)),
    "check_dual_power_random": (hidden.check_dual_power_random, (Dual,), (StubDual,)),
    "check_dual_chain_rule_random": (hidden.check_dual_chain_rule_random, (Dual,), (StubDual,)),
    "check_dual_matches_rule_table_random": (hidden.check_dual_matches_rule_table_random, (Dual,), (StubDual,)),
    "check_jvp_random": (hidden.check_jvp_random, (jvp,), (not_written,)),
    "check_backward_random": (hidden.check_backward_random, (backward,), (not_written,)),
    "check_vjp_random": (hidden.check_vjp_random, (vjp,), (not_written,)),
    "check_matvec_backward_random": (hidden.check_matvec_backward_random, (MatVec,), (make_matvec(not_written),)),
    "check_tanh_backward_random": (hidden.check_tanh_backward_random, (Tanh,), (make_tanh(not_written),)),
    "check_two_layers_random": (hidden.check_two_layers_random, (MatVec, Tanh), (make_matvec(not_written), Tanh)),
}


def test_every_check_of_both_modules_is_in_the_table():
    names = {n for n in dir(fr) if n.startswith("check_")} | {n for n in dir(hidden) if n.startswith("check_")}
    assert names == set(CHECKS)


@pytest.mark.parametrize("name", list(CHECKS))
def test_the_solution_passes(name):
    check, solution, _ = CHECKS[name]
    check(*solution)


@pytest.mark.parametrize("name", list(CHECKS))
def test_the_stub_fails_saying_it_is_not_written_yet(name):
    check, _, stub = CHECKS[name]
    with pytest.raises(CheckFailed, match="not written yet"):
        check(*stub)


# ---------------------------------------------------------------------------
# Every known mistake: (check, the student's arguments with the mistake, the tag its hint names)


def lift_seeded(cls, x):
    return x if isinstance(x, cls) else cls(x, 1.0)


def lift_nothing(cls, x):
    return x


W = make_matvec
MISTAKES = {
    "a constant seeded with tangent 1": (fr.check_dual_constants, (make_dual(lift=lift_seeded),),
                                         "constant-seeded-one"),
    "a constant seeded with tangent 1 (random)": (hidden.check_dual_constants_random, (make_dual(lift=lift_seeded),),
                                                  "constant-seeded-one"),
    "a plain number never lifted": (fr.check_dual_constants, (make_dual(lift=lift_nothing),), "constant-not-lifted"),
    "the product rule's second term forgotten": (
        fr.check_dual_product_rule, (make_dual(__mul__=lambda s, o: D(s, s.value * s.lift(o).value,
                                                                      s.tangent * s.lift(o).value)),),
        "product-rule-missing-term"),
    "the product rule's first term forgotten (random)": (
        hidden.check_dual_product_rule_random, (make_dual(__mul__=lambda s, o: D(s, s.value * s.lift(o).value,
                                                                                 s.value * s.lift(o).tangent)),),
        "product-rule-missing-term"),
    "the tangents multiplied": (
        fr.check_dual_product_rule, (make_dual(__mul__=lambda s, o: D(s, s.value * s.lift(o).value,
                                                                      s.tangent * s.lift(o).tangent)),),
        "tangents-multiplied"),
    "2 - x computed as x - 2": (fr.check_dual_quotient_and_reflected,
                                (make_dual(__rsub__=lambda s, o: s - s.lift(o)),), "reflected-operands-swapped"),
    "c / x computed as x / c (random)": (hidden.check_dual_quotient_and_reflected_random,
                                         (make_dual(__rtruediv__=lambda s, o: s / s.lift(o)),),
                                         "reflected-operands-swapped"),
    "2 / x computed as x / 2": (fr.check_dual_quotient_and_reflected,
                                (make_dual(__rtruediv__=lambda s, o: s / s.lift(o)),), "reflected-operands-swapped"),
    "c - x computed as x - c (random)": (hidden.check_dual_quotient_and_reflected_random,
                                         (make_dual(__rsub__=lambda s, o: s - s.lift(o)),),
                                         "reflected-operands-swapped"),
    "the quotient rule's subtraction reversed": (
        fr.check_dual_quotient_and_reflected,
        (make_dual(__truediv__=lambda s, o: D(s, s.value / s.lift(o).value,
                                              (s.value * s.lift(o).tangent - s.tangent * s.lift(o).value)
                                              / s.lift(o).value ** 2)),), "quotient-rule-sign"),
    "the quotient rule divided by b, not b squared": (
        fr.check_dual_quotient_and_reflected,
        (make_dual(__truediv__=lambda s, o: D(s, s.value / s.lift(o).value,
                                              (s.tangent * s.lift(o).value - s.value * s.lift(o).tangent)
                                              / s.lift(o).value)),), "quotient-rule-square-missing"),
    "-x keeping the tangent": (fr.check_dual_quotient_and_reflected,
                               (make_dual(__neg__=lambda s: D(s, -s.value, s.tangent)),), "negation-tangent-kept"),
    "the power rule without the inner tangent": (
        fr.check_dual_power, (make_dual(__pow__=lambda s, k: D(s, s.value ** k, k * s.value ** (k - 1))),),
        "chain-rule-missing-inner"),
    "the power rule keeping the exponent": (
        fr.check_dual_power, (make_dual(__pow__=lambda s, k: D(s, s.value ** k, k * s.value ** k * s.tangent)),),
        "power-rule-exponent-kept"),
    "the power rule without the factor k (random)": (
        hidden.check_dual_power_random,
        (make_dual(__pow__=lambda s, k: D(s, s.value ** k, s.value ** (k - 1) * s.tangent)),),
        "power-rule-factor-missing"),
    "sin without the inner derivative": (fr.check_dual_chain_rule,
                                         (make_dual(sin=lambda s: D(s, math.sin(s.value), math.cos(s.value))),),
                                         "chain-rule-missing-inner"),
    "exp without the inner derivative (random)": (hidden.check_dual_chain_rule_random,
                                                  (make_dual(exp=lambda s: D(s, math.exp(s.value),
                                                                             math.exp(s.value))),),
                                                  "chain-rule-missing-inner"),
    "log without the inner derivative": (fr.check_dual_chain_rule,
                                         (make_dual(log=lambda s: D(s, math.log(s.value), 1 / s.value)),),
                                         "chain-rule-missing-inner"),
    "cos' = +sin": (fr.check_dual_chain_rule,
                    (make_dual(cos=lambda s: D(s, math.cos(s.value), math.sin(s.value) * s.tangent)),),
                    "cos-derivative-sign"),
    "cos' = +sin, against the rule table": (
        fr.check_dual_matches_rule_table,
        (make_dual(cos=lambda s: D(s, math.cos(s.value), math.sin(s.value) * s.tangent)),), "cos-derivative-sign"),
    "tanh' = 1 - a² (of the input)": (
        fr.check_dual_chain_rule,
        (make_dual(tanh=lambda s: D(s, math.tanh(s.value), (1 - s.value ** 2) * s.tangent)),),
        "tanh-derivative-of-input"),
    "tanh' = 1 - a² against the rule table (random)": (
        hidden.check_dual_matches_rule_table_random,
        (make_dual(tanh=lambda s: D(s, math.tanh(s.value), (1 - s.value ** 2) * s.tangent)),),
        "tanh-derivative-of-input"),
    "jvp seeding every input with 1": (fr.check_jvp_partial_x0, (make_jvp(lambda i, x, t: 1.0),),
                                       "every-input-seeded"),
    "jvp seeding no input": (fr.check_jvp_partial_x0, (make_jvp(lambda i, x, t: 0.0),), "no-input-seeded"),
    "jvp seeding every input with 1 (vector output)": (fr.check_jvp_vector_output,
                                                       (make_jvp(lambda i, x, t: 1.0),), "every-input-seeded"),
    "jvp leaving a constant output unlifted": (fr.check_jvp_vector_output, (make_jvp(lift=False),),
                                               "constant-output-not-lifted"),
    "jvp seeding the first unit vector": (fr.check_jvp_direction, (make_jvp(lambda i, x, t: float(i == 0)),),
                                          "direction-ignored"),
    "jvp seeding every input with 1 (random)": (hidden.check_jvp_random, (make_jvp(lambda i, x, t: 1.0),),
                                                "every-input-seeded"),
    "the tape swept forwards": (fr.check_backward_sweeps_in_reverse, (make_backward(order=list),),
                                "tape-swept-forwards"),
    "the tape swept forwards (random)": (hidden.check_backward_random, (make_backward(order=list),),
                                         "tape-swept-forwards"),
    "the output's adjoint never seeded": (fr.check_backward_sweeps_in_reverse, (make_backward(seed=0.0),),
                                          "output-not-seeded"),
    "the course's sweep called": (fr.check_backward_sweeps_in_reverse,
                                  (lambda tape, output: tape.backward(output),), "course-sweep-called"),
    "adjoints assigned instead of accumulated": (fr.check_backward_accumulates,
                                                 (make_backward(update=lambda old, d, a: d * a),),
                                                 "adjoint-assigned"),
    "adjoints not multiplied by the output's adjoint": (fr.check_backward_chain_rule,
                                                        (make_backward(update=lambda old, d, a: old + d),),
                                                        "adjoint-not-multiplied"),
    "vjp ignoring the direction u": (fr.check_vjp_direction, (make_vjp(weighted=False),), "vjp-direction-ignored"),
    "vjp ignoring a scalar u (random)": (hidden.check_vjp_random, (make_vjp(weighted=False),),
                                         "vjp-direction-ignored"),
    "vjp computing J u": (fr.check_vjp_direction, (lambda f, xs, u: (vjp(f, xs, u)[0], jvp(f, xs, u)[1]),),
                          "vjp-transposed"),
    "dL/dx = W g (square)": (fr.check_matvec_backward_square,
                             (W(lambda s, g: (np.outer(g, s.x), s.W @ g)),), "jacobian-transposed"),
    "dL/dW = x g^T (square)": (fr.check_matvec_backward_square,
                               (W(lambda s, g: (np.outer(s.x, g), s.W.T @ g)),), "jacobian-transposed"),
    "dL/dx = W g (rectangular)": (fr.check_matvec_backward_rectangular,
                                  (W(lambda s, g: (np.outer(g, s.x), s.W @ g)),), "jacobian-transposed"),
    "dL/dW = x g^T (rectangular)": (fr.check_matvec_backward_rectangular,
                                    (W(lambda s, g: (np.outer(s.x, g), s.W.T @ g)),), "jacobian-transposed"),
    "dL/dx = W g (random)": (hidden.check_matvec_backward_random,
                             (W(lambda s, g: (np.outer(g, s.x), s.W @ g)),), "jacobian-transposed"),
    "(dL/dx, dL/dW) in the wrong order": (fr.check_matvec_backward_square,
                                          (W(lambda s, g: (s.W.T @ g, np.outer(g, s.x))),), "gradients-swapped"),
    "tanh's VJP without g": (fr.check_tanh_backward, (make_tanh(lambda s, g: (1.0 - s.y ** 2,)),),
                             "incoming-gradient-dropped"),
    "tanh' of the input": (fr.check_tanh_backward, (make_tanh(lambda s, g: (g * (1.0 - np.arctanh(s.y) ** 2),)),),
                           "tanh-derivative-of-input"),
    "tanh' without the square": (fr.check_tanh_backward, (make_tanh(lambda s, g: (g * (1.0 - s.y),)),),
                                 "tanh-derivative-square-missing"),
    "tanh's VJP not in a tuple": (fr.check_tanh_backward, (make_tanh(lambda s, g: g * (1.0 - s.y ** 2)),),
                                  "backward-not-a-tuple"),
    "tanh's VJP without g (random)": (hidden.check_tanh_backward_random,
                                      (make_tanh(lambda s, g: (1.0 - s.y ** 2,)),), "incoming-gradient-dropped"),
    # hard-coded answers of the visible tests, caught by the hidden ones
    "jvp returning the visible directional derivative": (
        hidden.check_jvp_random, (lambda f, xs, v: (0.0, float(fr.grad_f(0.8, 1.7) @ [0.3, -0.7]))
                                  if len(xs) == 2 else jvp(f, xs, v),), "hard-coded"),
    "backward returning the visible gradient of f": (
        hidden.check_backward_random,
        (lambda tape, out: [*fr.grad_f(1.5, 2.0), *[0.0] * (len(tape.values) - 2)],), "hard-coded"),
    "vjp returning the visible u^T J": (
        hidden.check_vjp_random, (lambda f, xs, u: (fr.value_h3(*xs), np.array([1.0, -2.0, 0.5]) @ fr.jacobian_h3(
            0.3, 1.2, 0.8)) if len(xs) == 3 else vjp(f, xs, u),), "hard-coded"),
    "Tanh.backward returning the visible answer": (
        hidden.check_tanh_backward_random,
        (make_tanh(lambda s, g: (fr.TANH_CASE[1] * (1 - np.tanh(fr.TANH_CASE[0]) ** 2),)),), "hard-coded"),
}


@pytest.mark.parametrize("what", list(MISTAKES))
def test_a_known_mistake_fails_with_the_hint_that_names_it(what):
    check, args, tag = MISTAKES[what]
    with pytest.raises(CheckFailed) as exc:
        check(*args)
    assert f"Misconception [{tag}]" in str(exc.value), str(exc.value)


def test_a_student_error_keeps_the_students_own_frames():
    def jvp_that_breaks(f, xs, v):
        return 1 / 0

    with pytest.raises(CheckFailed) as exc:
        fr.check_jvp_partial_x0(jvp_that_breaks)
    assert "ZeroDivisionError" in exc.value.message and "jvp_that_breaks" in exc.value.trace


def test_a_wrong_layer_fails_against_torch_without_blaming_the_layer_code():
    bad = W(lambda s, g: (np.outer(g, s.x), s.W.T @ g * 2.0))
    with pytest.raises(CheckFailed, match="against torch float64"):
        fr.check_two_layers_against_torch(bad, Tanh)


# ---------------------------------------------------------------------------
# Replayed on the recorded answers, every check gives the live verdict


def run_recorded(check: Callable, args: tuple, path) -> tuple[str, list[dict]]:
    """The live verdict ("" when it passed) and the answers recorded while the check ran."""
    old = answers.os.environ.get(answers.ENV)
    answers.os.environ[answers.ENV] = str(path)
    try:
        check(*args)
        verdict = ""
    except CheckFailed as e:
        verdict = e.message
    finally:
        answers.os.environ.pop(answers.ENV)
        if old is not None:
            answers.os.environ[answers.ENV] = old
    return verdict, list(answers.read_records(path.read_text(encoding="utf-8")))


REPLAYED = [(name, args) for name, (_, args, _) in CHECKS.items()] + \
           [(what, args) for what, (_, args, _) in list(MISTAKES.items())[::4]]


@pytest.mark.parametrize("name,args", REPLAYED, ids=[r[0] for r in REPLAYED])
def test_the_replayed_verdict_is_the_live_one(name, args, tmp_path):
    check = CHECKS[name][0] if name in CHECKS else MISTAKES[name][0]
    verdict, records = run_recorded(check, args, tmp_path / "answers.jsonl")
    module = "course_hidden.forward_reverse" if check.__module__.startswith("course_hidden") \
        else "course.checks.forward_reverse"
    names = ", ".join(f"arg{i}" for i in range(len(args)))
    result = answers.replay_cell(f"from {module} import {check.__name__}\n{check.__name__}({names})", records)
    assert result.problems == []
    assert result.passed == (verdict == "") and result.message == verdict


def test_the_checks_import_no_reference_answer_of_notebook_04():
    """Neither module imports what course.toml withholds while 04 is graded, nor course.tape (whose
    backward and vjp answer exercises 3 and 4): their expected values come from elsewhere."""
    import ast
    from pathlib import Path

    from autograder.config import load
    from conftest import ROOT

    banned = set(load(ROOT).assignment("04_forward_reverse").withheld) | {"course.tape"}
    for module in (fr, hidden):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom):  # relative imports resolved against the module's package
                base = ".".join(module.__name__.split(".")[:-n.level]) if n.level else ""
                where = ".".join(p for p in (base, n.module or "") if p)
                names |= {where} | {f"{where}.{a.name}" for a in n.names}
        assert not {m for m in names if any(m == b or m.startswith(b + ".") for b in banned)}, module.__name__
