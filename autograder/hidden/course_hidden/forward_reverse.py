"""Hidden checks of notebook 04: the visible checks' ideas on seeded random inputs.

Each one draws its inputs from :func:`course.checks.expect.seeded` (the same in every
run, unknown in advance when the instructor grades with a secret salt) and names a
``hard-coded`` answer: the visible test's answer returned whatever the inputs.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from course.checks import forward_reverse as fr
from course.checks.answers import check
from course.checks.expect import expect_close, seeded

ROUNDS = 4  #: random cases per check


@check
def check_dual_constants_random(Dual: type) -> None:
    """x ± c, c + x, x * c, c * x for random x = Dual(a, t) and constants c: tangents t, t, c t."""
    rng = seeded("check_dual_constants_random")
    for _ in range(ROUNDS):
        a, c, t = (float(v) for v in rng.uniform(-3, 3, size=3))
        at = f"x = Dual({a:.6g}, {t:.6g}), c = {c:.6g}"
        for name, make, value, tangent in [
                ("x + c", lambda: Dual(a, t) + c, a + c, t), ("c + x", lambda: c + Dual(a, t), a + c, t),
                ("x - c", lambda: Dual(a, t) - c, a - c, t), ("x * c", lambda: Dual(a, t) * c, a * c, c * t),
                ("c * x", lambda: c * Dual(a, t), a * c, c * t)]:
            got = fr.ask_dual(f"{name} with {at}", make)
            seeded_one = {"x + c": t + 1, "c + x": t + 1, "x - c": t - 1, "x * c": c * t + a, "c * x": c * t + a}
            fr.expect_dual(f"{name} with {at}", got, value, tangent,
                           known=[("constant-seeded-one", seeded_one[name], fr.CONSTANT_SEEDED),
                                  fr.hard_coded({"x * c": 5.0, "c * x": 5.0}.get(name, 1.0), "the tangent")])


@check
def check_dual_product_rule_random(Dual: type) -> None:
    """Dual(a, da) * Dual(b, db) has tangent da·b + a·db, for random a, b, da, db."""
    rng = seeded("check_dual_product_rule_random")
    for _ in range(ROUNDS):
        a, b, ta, tb = (float(v) for v in rng.uniform(-3, 3, size=4))
        what = f"Dual({a:.6g}, {ta:.6g}) * Dual({b:.6g}, {tb:.6g})"
        got = fr.ask_dual(what, lambda: Dual(a, ta) * Dual(b, tb))
        fr.expect_dual(what, got, a * b, ta * b + a * tb, known=fr.product_known(a, ta, b, tb))


@check
def check_dual_quotient_and_reflected_random(Dual: type) -> None:
    """a / b, c - a and c / a for random duals a, b and constants c: the quotient rule and the reflected order."""
    rng = seeded("check_dual_quotient_and_reflected_random")
    for _ in range(ROUNDS):
        a, b, ta, tb = (float(v) for v in rng.uniform(0.5, 3, size=4))
        c = float(rng.uniform(-3, 3))
        what = f"Dual({a:.6g}, {ta:.6g}) / Dual({b:.6g}, {tb:.6g})"
        got = fr.ask_dual(what, lambda: Dual(a, ta) / Dual(b, tb))
        fr.expect_dual(what, got, a / b, (ta * b - a * tb) / b ** 2, known=fr.quotient_known(a, ta, b, tb))
        what = f"{c:.6g} - Dual({a:.6g}, {ta:.6g})"
        got = fr.ask_dual(what, lambda: c - Dual(a, ta))
        swap = [("reflected-operands-swapped", a - c, fr.swapped("c - x"))]
        fr.expect_dual(what, got, c - a, -ta, known=[("reflected-operands-swapped", ta, fr.swapped("c - x"))],
                       value_known=swap)
        what = f"{c:.6g} / Dual({a:.6g}, {ta:.6g})"
        got = fr.ask_dual(what, lambda: c / Dual(a, ta))
        fr.expect_dual(what, got, c / a, -c * ta / a ** 2,
                       known=[("reflected-operands-swapped", ta / c, fr.swapped("c / x"))],
                       value_known=[("reflected-operands-swapped", a / c, fr.swapped("c / x"))])


@check
def check_dual_power_random(Dual: type) -> None:
    """Dual(a, da) ** k has tangent k a^(k-1) da, for random a > 0, da and real k."""
    rng = seeded("check_dual_power_random")
    for _ in range(ROUNDS):
        a, t, k = float(rng.uniform(0.5, 3)), float(rng.uniform(-2, 2)), float(rng.uniform(-3, 3))
        what = f"Dual({a:.6g}, {t:.6g}) ** {k:.6g}"
        got = fr.ask_dual(what, lambda: Dual(a, t) ** k)
        fr.expect_dual(what, got, a ** k, k * a ** (k - 1) * t, known=fr.power_known(a, t, k), tol=1e-10)


@check
def check_dual_chain_rule_random(Dual: type) -> None:
    """sin, cos, exp, log, tanh of u = c x at random x = Dual(a, 1), c: tangents g'(c a) · c."""
    rng = seeded("check_dual_chain_rule_random")
    for _ in range(ROUNDS):
        a, c = (float(v) for v in rng.uniform(0.2, 1.5, size=2))
        fr.expect_functions(Dual, lambda: c * Dual(a, 1.0), f"{c:.6g} x) with x = Dual({a:.6g}, 1", c * a, c,
                            tol=1e-10)


@check
def check_dual_matches_rule_table_random(Dual: type) -> None:
    """Every function of Dual(a, t) at random a, t against the rule table."""
    rng = seeded("check_dual_matches_rule_table_random")
    for _ in range(ROUNDS):
        fr.expect_rule_table(Dual, float(rng.uniform(0.1, 3.0)), float(rng.normal()))


@check
def check_jvp_random(jvp: Callable) -> None:
    """jvp in random directions: grad f · v for f, and J v for h(a, b, c) = [abc, exp(a)/b, tanh(c - a)]."""
    rng = seeded("check_jvp_random")
    visible = fr.grad_f(0.8, 1.7) @ np.array([0.3, -0.7])
    for _ in range(ROUNDS):
        x, v = rng.uniform(0.5, 2.5, size=2), rng.normal(size=2)
        fr.expect_jvp_direction(jvp, f"jvp(f, {fr.vec(x)}, {fr.vec(v)})", list(x), list(v),
                                known=[fr.hard_coded(visible, "the directional derivative")])
        y, w = rng.uniform(0.5, 2.0, size=3), rng.normal(size=3)
        what = f"jvp(h, {fr.vec(y)}, {fr.vec(w)}) with h(a, b, c) = [abc, exp(a)/b, tanh(c - a)]"
        value, tangent = fr.ask_jvp(what, jvp, fr.h3, list(y), list(w), outputs=3)
        J = fr.jacobian_h3(*y)
        expect_close(f"the values returned by {what}", value, fr.value_h3(*y), tol=1e-12)
        expect_close(f"J v returned by {what}", tangent, J @ w, tol=1e-10,
                     known=[("every-input-seeded", J @ np.ones(3), fr.EVERY_INPUT_SEEDED)])


@check
def check_backward_random(backward: Callable) -> None:
    """The tape of f at random points: (adj[x0], adj[x1]) is grad f."""
    rng = seeded("check_backward_random")
    for _ in range(ROUNDS):
        p, q = (float(v) for v in rng.uniform(0.5, 2.5, size=2))
        tape, (a, b), y = fr.tape_of_f(p, q)
        adj = fr.ask_adjoints(f"backward(tape, y) for y = f(x0, x1), x0 = {p:.6g}, x1 = {q:.6g}", backward, tape, y)
        expect_close(f"gradient (adj[x0.index], adj[x1.index]) of f at ({p:.6g}, {q:.6g})", adj[[a.index, b.index]],
                     fr.grad_f(p, q), tol=1e-10,
                     known=[("tape-swept-forwards", [0.0, 0.0], fr.SWEPT_FORWARDS),
                            fr.hard_coded(fr.grad_f(1.5, 2.0), "the gradient of f at (1.5, 2)")])


@check
def check_vjp_random(vjp: Callable) -> None:
    """u^T J for h at random points and directions, and u · grad f for a scalar u."""
    rng = seeded("check_vjp_random")
    visible = np.array([1.0, -2.0, 0.5]) @ fr.jacobian_h3(0.3, 1.2, 0.8)
    for _ in range(ROUNDS):
        x, u = rng.uniform(0.5, 2.0, size=3), rng.normal(size=3)
        fr.expect_vjp_h3(vjp, list(x), list(u), known=[fr.hard_coded(visible, "u^T J")])
        p, q, s = float(rng.uniform(0.5, 2.5)), float(rng.uniform(0.5, 2.5)), float(rng.uniform(1.5, 3.0))
        what = f"vjp(f, [{p:.6g}, {q:.6g}], {s:.6g})"
        _, g = fr.ask_vjp(what, vjp, fr.course_f, [p, q], s)
        expect_close(f"{what}: u · grad f for the scalar u = {s:.6g}", g, s * fr.grad_f(p, q), tol=1e-10,
                     known=[("vjp-direction-ignored", fr.grad_f(p, q),
                             "this is grad f alone: for one output the sweep starts from s = u * y")])


@check
def check_matvec_backward_random(MatVec: type) -> None:
    """MatVec.backward against torch's VJP of W @ x, for random W of several shapes and random g."""
    rng = seeded("check_matvec_backward_random")
    for m, n in [(4, 3), (2, 5), (3, 3), (1, 1)]:
        W, x, g = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
        fr.expect_matvec(MatVec, W, x, g)


@check
def check_tanh_backward_random(Tanh: type) -> None:
    """Tanh.backward against torch's VJP of tanh, for random z and g."""
    rng = seeded("check_tanh_backward_random")
    visible = fr.TANH_CASE[1] * (1 - np.tanh(fr.TANH_CASE[0]) ** 2)
    for _ in range(ROUNDS):
        z, g = rng.normal(size=4), rng.normal(size=4)
        fr.expect_tanh(Tanh, z, g, known=[fr.hard_coded(visible, "dL/dz")])


@check
def check_two_layers_random(MatVec: type, Tanh: type) -> None:
    """Two layers of random sizes and values: every gradient against torch float64."""
    rng = seeded("check_two_layers_random")
    for n, h, m in [(3, 4, 2), (5, 2, 3)]:
        Ws = [rng.normal(size=(h, n)), rng.normal(size=(m, h))]
        bs = [rng.normal(size=h), rng.normal(size=m)]
        fr.expect_layers(MatVec, Tanh, Ws, bs, rng.normal(size=n), rng.normal(size=m),
                         what=f"two layers of sizes {n} -> {h} -> {m}")


__all__ = [name for name in dir() if name.startswith("check_")]
