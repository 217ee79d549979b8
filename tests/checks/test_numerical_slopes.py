"""The checks of notebook 01, called directly (no notebook): the solution passes, the stub
fails saying what to do, and each known mistake fails with the hint that names it."""
from __future__ import annotations

import numpy as np
import pytest

from course.checks import numerical_slopes as visible
from course.checks.answers import CheckFailed
from course_hidden import numerical_slopes as hidden


# the notebook's solutions
def forward_difference(f, x, h):
    return (f(x + h) - f(x)) / h


def central_difference(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, inputs, h=1e-5):
    grad = []
    for i in range(len(inputs)):
        up, down = list(inputs), list(inputs)
        up[i] += h
        down[i] -= h
        grad.append((f(*up) - f(*down)) / (2 * h))
    return grad


def difference_errors(f, df, x, hs):
    exact = df(x)
    return (np.array([abs(forward_difference(f, x, h) - exact) for h in hs]),
            np.array([abs(central_difference(f, x, h) - exact) for h in hs]))


def best_step(hs, errors):
    return float(hs[np.argmin(errors)])


def stub(*args, **kwargs):
    raise NotImplementedError("Not written yet: replace this line with your code, then run this cell "
                              "and the test cells below it.")


def errors_using(slope_f, slope_c):
    def difference_errors(f, df, x, hs):
        return (np.array([abs(slope_f(f, x, h) - df(x)) for h in hs]),
                np.array([abs(slope_c(f, x, h) - df(x)) for h in hs]))
    return difference_errors


def gradient_mutating(f, inputs, h=1e-5):
    grad = []
    for i in range(len(inputs)):
        inputs[i] += h
        up = f(*inputs)
        inputs[i] -= 2 * h
        down = f(*inputs)
        inputs[i] += h
        grad.append((up - down) / (2 * h))
    return grad


SOLUTIONS = {"forward_difference": forward_difference, "central_difference": central_difference,
             "numerical_gradient": numerical_gradient, "difference_errors": difference_errors,
             "best_step": best_step}

#: every check of the notebook, with the names of the solutions it takes
CHECKS = [
    (visible.check_forward_difference, ["forward_difference"]),
    (visible.check_central_difference, ["central_difference"]),
    (visible.check_central_difference_order, ["central_difference"]),
    (visible.check_numerical_gradient_shape, ["numerical_gradient"]),
    (visible.check_numerical_gradient_value, ["numerical_gradient"]),
    (visible.check_numerical_gradient_leaves_inputs_alone, ["numerical_gradient"]),
    (visible.check_difference_errors_forward, ["difference_errors"]),
    (visible.check_difference_errors_central, ["difference_errors"]),
    (visible.check_best_step, ["best_step"]),
    (visible.check_best_h_forward, ["difference_errors", "best_step"]),
    (visible.check_best_h_central, ["difference_errors", "best_step"]),
    (hidden.check_forward_difference_random, ["forward_difference"]),
    (hidden.check_central_difference_random, ["central_difference"]),
    (hidden.check_numerical_gradient_random, ["numerical_gradient"]),
    (hidden.check_difference_errors_forward_random, ["difference_errors"]),
    (hidden.check_difference_errors_central_random, ["difference_errors"]),
    (hidden.check_best_step_random, ["best_step"]),
]
ids = [c.__name__ for c, _ in CHECKS]


@pytest.mark.parametrize("chk, names", CHECKS, ids=ids)
def test_the_solution_passes(chk, names):
    assert chk(*[SOLUTIONS[n] for n in names]) is None


@pytest.mark.parametrize("chk, names", CHECKS, ids=ids)
def test_the_stub_fails_saying_the_exercise_is_not_written(chk, names):
    with pytest.raises(CheckFailed, match="not written yet"):
        chk(*[stub for _ in names])


fwd = forward_difference
MISTAKES = [
    # (check, the student's functions, the tag its hint must name)
    (visible.check_forward_difference, [lambda f, x, h: (f(x) - f(x + h)) / h], "wrong-sign"),
    (visible.check_forward_difference, [lambda f, x, h: (f(x + h) - f(x)) / (2 * h)], "divide-by-2h"),
    (visible.check_forward_difference, [lambda f, x, h: (f(x + 1e-8) - f(x)) / 1e-8], "ignores-h"),
    (visible.check_forward_difference, [lambda f, x, h: None], "missing-return"),
    (visible.check_central_difference, [fwd], "forward-difference"),
    (visible.check_central_difference, [lambda f, x, h: (f(x) - f(x - h)) / h], "backward-difference"),
    (visible.check_central_difference, [lambda f, x, h: (f(x + h) - f(x - h)) / h], "divide-by-h"),
    (visible.check_central_difference, [lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h)], "wrong-sign"),
    (visible.check_central_difference_order, [fwd], "forward-difference"),
    (visible.check_central_difference_order, [lambda f, x, h: 3.0 + 1e-4], "error-does-not-shrink"),
    (visible.check_numerical_gradient_shape, [lambda f, inputs, h=1e-5: None], "missing-return"),
    (visible.check_numerical_gradient_value,
     [lambda f, p, h=1e-5: [(f(*[v + h for v in p]) - f(*[v - h for v in p])) / (2 * h)] * len(p)],
     "nudge-all-at-once"),
    (visible.check_numerical_gradient_value, [lambda f, p, h=1e-5: [-g for g in numerical_gradient(f, p, h)]],
     "wrong-sign"),
    (visible.check_numerical_gradient_value, [lambda f, p, h=1e-5: [2 * g for g in numerical_gradient(f, p, h)]],
     "divide-by-h"),
    (visible.check_numerical_gradient_leaves_inputs_alone, [gradient_mutating], "mutates-input"),
    (visible.check_difference_errors_forward,
     [lambda f, df, x, hs: (np.array([fwd(f, x, h) - df(x) for h in hs]), np.zeros(len(hs)))], "signed-error"),
    (visible.check_difference_errors_central, [errors_using(fwd, fwd)], "forward-difference"),
    (visible.check_difference_errors_forward, [lambda f, df, x, hs: None], "missing-return"),
    (visible.check_best_step, [lambda hs, e: float(np.min(hs))], "smallest-h-is-best"),
    (visible.check_best_step, [lambda hs, e: float(hs[np.argmax(e)])], "largest-error"),
    (visible.check_best_step, [lambda hs, e: float(np.min(e))], "returned-error"),
    (visible.check_best_step, [lambda hs, e: int(np.argmin(e))], "returned-index"),
    (visible.check_best_h_forward, [difference_errors, lambda hs, e: float(np.min(hs))], "h-too-small"),
    (visible.check_best_h_central, [difference_errors, lambda hs, e: 1e-8], "h-too-small"),
    (visible.check_best_h_central, [difference_errors, lambda hs, e: 0.1], "h-too-large"),
    (hidden.check_forward_difference_random, [lambda f, x, h: 14.003], "hard-coded"),
    (hidden.check_central_difference_random, [lambda f, x, h: 3.0001], "hard-coded"),
    (hidden.check_central_difference_random, [fwd], "forward-difference"),
    (hidden.check_numerical_gradient_random, [lambda f, p, h=1e-5: [-3.0, 2.0, 1.0]], "hard-coded"),
    (hidden.check_difference_errors_central_random,
     [lambda f, df, x, hs: (np.zeros(len(hs)), np.array([central_difference(f, x, h) - df(x) for h in hs]))],
     "signed-error"),
    (hidden.check_best_step_random, [lambda hs, e: 1e-3], "hard-coded"),
    (hidden.check_best_step_random, [lambda hs, e: float(np.min(hs))], "smallest-h-is-best"),
]


@pytest.mark.parametrize("chk, funcs, tag", MISTAKES, ids=[f"{c.__name__}-{t}" for c, _, t in MISTAKES])
def test_each_known_mistake_fails_with_the_hint_that_names_it(chk, funcs, tag):
    with pytest.raises(CheckFailed) as e:
        chk(*funcs)
    assert f"Misconception [{tag}]" in str(e.value), str(e.value)


def test_every_check_of_the_notebook_is_covered_here():
    import inspect
    found = {name for mod in (visible, hidden) for name, fn in inspect.getmembers(mod)
             if getattr(fn, "__is_check__", False) and fn.__module__ == mod.__name__}
    assert found == set(ids)
