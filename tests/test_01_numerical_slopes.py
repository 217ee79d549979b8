"""Notebook 01, numerical slopes: its derivatives, each exercise's misconceptions, its widget.

Planted mistakes run in-process (autograder.notebooks.run_in_process, slow cells
skipped): each replaces one solution cell and proves that the right test cell
fails with a hint naming the mistake (``Misconception [tag]``).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from autograder.notebooks import run_in_process, run_in_kernel
from conftest import ROOT
from course.checks import diagnose
from course.checks import numerical_slopes as checks
from course.checks.expect import seeded
from course_hidden import numerical_slopes as hidden
from course.numeric import central_difference, gradient

NB = ROOT / "source" / "01_numerical_slopes" / "01_numerical_slopes.ipynb"
EPS = float(np.finfo(float).eps)


def run(replace: dict[str, str] | None = None, stop_after: str | None = None):
    return run_in_process(NB, replace=replace, stop_after=stop_after, skip_tags={"slow"})


def namespace_after(stop_after: str | None = None) -> dict:
    """The notebook's variables after an in-process run of the solution (test cells included)."""
    from IPython.core.interactiveshell import InteractiveShell

    res = run(stop_after=stop_after)
    assert not res.failed() and not res.errors, (res.failed(), res.errors)
    return dict(InteractiveShell.instance().user_ns)


def assert_fails_naming(res, grade_id: str, tag: str, *, also: str = "") -> None:
    cell = res.tests[grade_id]
    assert not cell.ok, f"{grade_id} passed with the planted mistake"
    assert cell.error == "CheckFailed", f"{grade_id} failed by {cell.error}: {cell.message}"
    assert f"Misconception [{tag}]" in cell.message, cell.message
    assert also in cell.message, cell.message


def torch_grad(fn, *xs: float) -> list[float]:
    """Gradient of fn at xs by torch autograd in float64."""
    ts = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]
    out = fn(*ts)
    out.backward()
    return [float(t.grad) for t in ts]


def parabola(x):
    return 3 * x**2 - 4 * x + 5


# ---------------------------------------------------------------------------------------------
# Every derivative the notebook shows or its tests expect: analytic = torch float64 = central diff.

@pytest.mark.parametrize("x, slope", [(3.0, 14.0), (2 / 3, 0.0), (-3.0, -22.0)])
def test_parabola_slopes_shown_match_torch_and_central_differences(x, slope):
    assert 6 * x - 4 == pytest.approx(slope, abs=1e-15)
    assert torch_grad(parabola, x)[0] == pytest.approx(slope, abs=1e-12)
    assert central_difference(parabola, x) == pytest.approx(slope, abs=1e-8)


def test_forward_difference_shown_at_3_is_14_plus_3h():
    # the notebook prints ~14.003 and says the gap is 3h (= h f''/2 with f'' = 6)
    for h in [0.1, 0.01, 0.001, 0.0001]:
        assert (parabola(3 + h) - parabola(3)) / h - 14 == pytest.approx(3 * h, rel=1e-6)


def test_partial_slopes_of_d_are_b_a_1_by_torch_and_central_differences():
    d = lambda a, b, c: a * b + c  # noqa: E731
    expected = [-3.0, 2.0, 1.0]
    assert torch_grad(d, 2.0, -3.0, 10.0) == pytest.approx(expected, abs=1e-12)
    assert list(gradient(d, [2.0, -3.0, 10.0])) == pytest.approx(expected, abs=1e-8)


def test_cube_slope_used_by_the_order_test_is_3_and_central_error_is_h_squared():
    assert torch_grad(lambda t: t**3, 1.0)[0] == pytest.approx(3.0, abs=1e-15)
    for h in [1e-1, 1e-2, 1e-3]:  # ((1+h)^3 - (1-h)^3) / 2h = 3 + h^2 exactly
        assert abs((1 + h) ** 3 - (1 - h) ** 3) / (2 * h) - 3 == pytest.approx(h * h, rel=1e-6)


def test_sin_slope_of_exercise_4_is_cos_1_by_torch_and_central_differences():
    assert torch_grad(torch.sin, 1.0)[0] == pytest.approx(math.cos(1.0), abs=1e-15)
    assert central_difference(math.sin, 1.0) == pytest.approx(math.cos(1.0), abs=1e-10)


def test_hidden_gradient_cases_expect_what_torch_autograd_computes():
    cases = hidden._random_functions(seeded("numerical_gradient"))
    assert len(cases) == 12
    for _, fn, grad_fn, point in cases:
        expected = np.asarray(grad_fn(*point), dtype=float)
        np.testing.assert_allclose(torch_grad(fn, *point), expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gradient(fn, point), expected, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("name", ["forward", "central"])
def test_hidden_error_cases_expect_slopes_that_torch_autograd_computes(name):
    rng = seeded(f"difference_errors_{name}")
    for _ in range(3):
        fn, slope = hidden.polynomial(rng.uniform(-2, 2, size=5))
        x0 = float(rng.uniform(-1.5, 1.5))
        assert torch_grad(fn, x0)[0] == pytest.approx(slope(x0), rel=1e-12, abs=1e-12)
        assert central_difference(fn, x0) == pytest.approx(slope(x0), rel=1e-8, abs=1e-8)


def test_hidden_cubics_are_the_polynomials_they_say():
    f, df = hidden.polynomial([2.0, -1.0, 0.5, 3.0])
    assert f(1.5) == pytest.approx(2 * 1.5**3 - 1.5**2 + 0.5 * 1.5 + 3)
    assert df(1.5) == pytest.approx(6 * 1.5**2 - 2 * 1.5 + 0.5)


def test_best_h_theory_in_the_tests_minimizes_the_error_model():
    """The windows of test_best_h_* are centred on the minimum of truncation + round-off."""
    s, c = math.sin(1.0), math.cos(1.0)
    h = np.logspace(-12, -2, 200001)
    forward_model = h * s / 2 + EPS * s / h
    central_model = h**2 * c / 6 + EPS * s / h
    assert checks.BEST_H["forward"] == pytest.approx(h[np.argmin(forward_model)], rel=1e-3)
    assert checks.BEST_H["central"] == pytest.approx(h[np.argmin(central_model)], rel=1e-3)
    assert checks.BEST_H["central"] == pytest.approx(1.0e-5, rel=0.02)  # what the notebook's table says


def test_best_steps_of_the_solution_sit_where_theory_says():
    ns = namespace_after()
    assert 1e-9 < ns["best_h_forward"] < 1e-7
    assert 1e-6 < ns["best_h_central"] < 1e-4
    assert ns["best_h_central"] > 100 * ns["best_h_forward"]


# ---------------------------------------------------------------------------------------------
# Exercise 1: forward difference

FWD_TEST = "test_forward_difference_value"


def plant_forward(body: str):
    return run({"forward_difference": f"def forward_difference(f, x, h):\n    {body}\n"}, stop_after=FWD_TEST)


def test_forward_with_flipped_sign_is_named_wrong_sign():
    assert_fails_naming(plant_forward("return (f(x) - f(x + h)) / h"), FWD_TEST, "wrong-sign")


def test_forward_divided_by_2h_is_named():
    assert_fails_naming(plant_forward("return (f(x + h) - f(x)) / (2 * h)"), FWD_TEST, "divide-by-2h")


def test_forward_with_a_step_of_its_own_is_named_ignores_h():
    assert_fails_naming(plant_forward("return (f(x + 1e-7) - f(x)) / 1e-7"), FWD_TEST, "ignores-h")


def test_forward_that_forgets_return_is_named_missing_return():
    assert_fails_naming(plant_forward("slope = (f(x + h) - f(x)) / h"), FWD_TEST, "missing-return")


def test_forward_hard_coded_passes_the_visible_check_but_not_the_hidden_one():
    res = plant_forward("return 14.003")
    assert_fails_naming(res, FWD_TEST, "hard-coded", also="random cubic")


# ---------------------------------------------------------------------------------------------
# Exercise 2: central difference

CEN_VALUE, CEN_ORDER = "test_central_difference_value", "test_central_difference_order"


def plant_central(body: str):
    return run({"central_difference": f"def central_difference(f, x, h):\n    {body}\n"}, stop_after=CEN_ORDER)


def test_central_that_is_really_forward_is_named_by_value_and_by_order():
    res = plant_central("return (f(x + h) - f(x)) / h")
    assert_fails_naming(res, CEN_VALUE, "forward-difference")
    assert_fails_naming(res, CEN_ORDER, "forward-difference", also="shrinks like h, not h^2")


def test_central_that_is_backward_is_named():
    assert_fails_naming(plant_central("return (f(x) - f(x - h)) / h"), CEN_VALUE, "backward-difference")


def test_central_divided_by_h_instead_of_2h_is_named():
    res = plant_central("return (f(x + h) - f(x - h)) / h")
    assert_fails_naming(res, CEN_VALUE, "divide-by-h")
    assert_fails_naming(res, CEN_ORDER, "error-does-not-shrink")


def test_central_with_the_wrong_order_of_terms_is_named_wrong_sign():
    assert_fails_naming(plant_central("return (f(x - h) - f(x + h)) / (2 * h)"), CEN_VALUE, "wrong-sign")


def test_central_that_forgets_return_is_named_missing_return():
    assert_fails_naming(plant_central("slope = (f(x + h) - f(x - h)) / (2 * h)"), CEN_VALUE, "missing-return")


def test_central_hard_coded_fails_hidden_value_and_order():
    res = plant_central("return 3.0001")
    assert_fails_naming(res, CEN_VALUE, "hard-coded", also="random cubic")
    assert_fails_naming(res, CEN_ORDER, "error-does-not-shrink")


# ---------------------------------------------------------------------------------------------
# Exercise 3: numerical gradient

GRAD_SHAPE, GRAD_VALUE, GRAD_ALONE = ("test_numerical_gradient_shape", "test_numerical_gradient_value",
                                      "test_numerical_gradient_leaves_inputs_alone")


def plant_gradient(body: str):
    src = "def numerical_gradient(f, inputs, h=1e-5):\n" + "\n".join("    " + line for line in body.splitlines())
    return run({"numerical_gradient": src}, stop_after=GRAD_ALONE)


def test_gradient_that_nudges_all_inputs_at_once_is_named():
    res = plant_gradient(
        "up = [v + h for v in inputs]\n"
        "down = [v - h for v in inputs]\n"
        "return [(f(*up) - f(*down)) / (2 * h) for _ in inputs]")
    assert res.tests[GRAD_SHAPE].ok
    assert_fails_naming(res, GRAD_VALUE, "nudge-all-at-once")


def test_gradient_that_mutates_the_callers_list_is_named():
    res = plant_gradient(
        "grad = []\n"
        "for i in range(len(inputs)):\n"
        "    inputs[i] += h\n"
        "    up = f(*inputs)\n"
        "    inputs[i] -= 2 * h\n"
        "    down = f(*inputs)\n"
        "    grad.append((up - down) / (2 * h))\n"
        "return grad")
    assert_fails_naming(res, GRAD_ALONE, "mutates-input")


def test_gradient_that_nudges_the_callers_list_in_place_and_restores_it_is_named():
    """Even when x + h - 2h + h gives x back, f saw the caller's list changed during the call."""
    res = plant_gradient(
        "grad = []\n"
        "for i in range(len(inputs)):\n"
        "    inputs[i] += h\n"
        "    up = f(*inputs)\n"
        "    inputs[i] -= 2 * h\n"
        "    down = f(*inputs)\n"
        "    inputs[i] += h\n"
        "    grad.append((up - down) / (2 * h))\n"
        "return grad")
    assert_fails_naming(res, GRAD_ALONE, "mutates-input")


def test_gradient_hard_coded_fails_the_hidden_random_functions():
    res = plant_gradient("return [-3.0, 2.0, 1.0]")
    assert res.tests[GRAD_SHAPE].ok
    assert_fails_naming(res, GRAD_VALUE, "hard-coded", also="random function")


def test_gradient_that_forgets_return_is_named_missing_return():
    res = plant_gradient("grad = [0.0 for _ in inputs]")
    assert_fails_naming(res, GRAD_SHAPE, "missing-return")


def test_gradient_divided_by_h_is_named():
    res = plant_gradient(
        "grad = []\n"
        "for i in range(len(inputs)):\n"
        "    up, down = list(inputs), list(inputs)\n"
        "    up[i] += h\n"
        "    down[i] -= h\n"
        "    grad.append((f(*up) - f(*down)) / h)\n"
        "return grad")
    assert_fails_naming(res, GRAD_VALUE, "divide-by-h")


def test_correct_gradient_with_forward_differences_is_not_accepted_at_default_h():
    """The exercise asks for central differences; a forward one is off by h f''/2 ~ 1e-5."""
    res = plant_gradient(
        "base = f(*inputs)\n"
        "grad = []\n"
        "for i in range(len(inputs)):\n"
        "    up = list(inputs)\n"
        "    up[i] += h\n"
        "    grad.append((f(*up) - base) / h)\n"
        "return grad")
    assert res.tests[GRAD_ALONE].ok
    assert not res.tests[GRAD_VALUE].ok  # visible d is linear in each input: only hidden cases catch it
    assert "random function" in res.tests[GRAD_VALUE].message


# ---------------------------------------------------------------------------------------------
# Exercise 4: errors as h shrinks, and the best step

ERR_F, ERR_C = "test_difference_errors_forward", "test_difference_errors_central"
BEST_VALUE, BEST_F, BEST_C = "test_best_step_value", "test_best_h_forward", "test_best_h_central"


def plant_errors(body: str):
    src = "def difference_errors(f, df, x, hs):\n" + "\n".join("    " + line for line in body.splitlines())
    return run({"difference_errors": src}, stop_after=ERR_C)


def test_signed_errors_are_named_in_both_error_checks():
    res = plant_errors(
        "exact = df(x)\n"
        "fe = np.array([forward_difference(f, x, h) - exact for h in hs])\n"
        "ce = np.array([central_difference(f, x, h) - exact for h in hs])\n"
        "return fe, ce")
    assert_fails_naming(res, ERR_F, "signed-error")
    assert_fails_naming(res, ERR_C, "signed-error")


def test_central_errors_computed_with_the_forward_difference_are_named():
    res = plant_errors(
        "exact = df(x)\n"
        "fe = np.array([abs(forward_difference(f, x, h) - exact) for h in hs])\n"
        "return fe, fe.copy()")
    assert res.tests[ERR_F].ok
    assert_fails_naming(res, ERR_C, "forward-difference")


def test_errors_that_forget_return_are_named_missing_return():
    res = plant_errors("fe = [abs(forward_difference(f, x, h) - df(x)) for h in hs]")
    assert_fails_naming(res, ERR_F, "missing-return")


def test_errors_computed_with_numpy_vectorisation_are_accepted():
    """An equivalent formula that rounds differently (vectorised, np.sin) still passes."""
    res = plant_errors(
        "hs = np.asarray(hs, dtype=float)\n"
        "vf = np.vectorize(f)\n"
        "fe = np.abs((vf(x + hs) - vf(x)) / hs - df(x))\n"
        "ce = np.abs((vf(x + hs) - vf(x - hs)) * (0.5 / hs) - df(x))\n"
        "return fe, ce")
    assert res.tests[ERR_F].ok, res.tests[ERR_F].message
    assert res.tests[ERR_C].ok, res.tests[ERR_C].message


def plant_best(body: str):
    src = "def best_step(hs, errors):\n    " + body + "\n"
    return run({"best_step": src})


def test_smallest_step_is_best_is_named_and_fails_both_theory_checks_as_h_too_small():
    res = plant_best("return float(min(hs))")
    assert_fails_naming(res, BEST_VALUE, "smallest-h-is-best")
    assert_fails_naming(res, BEST_F, "h-too-small", also="sqrt(2 eps |f| / |f''|)")
    assert_fails_naming(res, BEST_C, "h-too-small", also="(3 eps |f| / |f'''|)^(1/3)")


def test_argmax_instead_of_argmin_is_named():
    res = plant_best("return float(hs[np.argmax(errors)])")
    assert_fails_naming(res, BEST_VALUE, "largest-error")
    # on the sin curve the largest error is round-off at the tiniest steps
    assert_fails_naming(res, BEST_C, "h-too-small")


def test_a_step_in_the_truncation_region_is_named_h_too_large():
    res = plant_best("return 1e-2")
    assert_fails_naming(res, BEST_F, "h-too-large")
    assert_fails_naming(res, BEST_C, "h-too-large")


def test_returning_the_index_or_the_error_is_named():
    assert_fails_naming(plant_best("return int(np.argmin(errors))"), BEST_VALUE, "returned-index")
    assert_fails_naming(plant_best("return float(np.min(errors))"), BEST_VALUE, "returned-error")


def test_best_step_hard_coded_fails_the_hidden_curves():
    assert_fails_naming(plant_best("return 1e-3"), BEST_VALUE, "hard-coded", also="random V-shaped")


def test_forward_best_step_used_for_central_is_named_h_too_small():
    """A student who uses the forward difference's best h (~1e-8) for the central difference."""
    res = plant_best("return 1e-8")
    assert res.tests[BEST_F].ok
    assert_fails_naming(res, BEST_C, "h-too-small", also="(3 eps |f| / |f'''|)^(1/3)")


# ---------------------------------------------------------------------------------------------
# The whole notebook

def test_solution_passes_every_test_in_process_and_raises_nowhere():
    res = run()
    assert len(res.tests) == 11
    assert not res.failed(), {g: res.tests[g].message for g in res.failed()}
    assert not res.errors, res.errors


@pytest.mark.slow
def test_source_runs_top_to_bottom_in_a_kernel_with_plots_and_widget(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as in JupyterLab
    res, nb = run_in_kernel(NB, timeout=120)
    assert not res.failed() and not res.errors, (res.failed(), res.errors)
    kinds = [o.get("output_type") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert "error" not in kinds
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                 for o in c.get("outputs", []))
    assert images >= 2, "the parabola and the error plot are drawn"
    widget_cell = next(c for c in nb.cells if "SlopeExplorer(" in c.source)
    views = [o for o in widget_cell.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views, "the slope explorer is displayed as a widget"


# ---------------------------------------------------------------------------------------------
# course.slopes_widget: the slope explorer, tested without a browser

def test_secant_data_at_3_with_h_1_has_slope_17_and_gap_3h():
    from course.slopes_widget import secant_data

    s = secant_data(parabola, 3.0, 1.0, df=lambda x: 6 * x - 4)
    assert (s.fx, s.fxh, s.secant_slope, s.tangent_slope) == (20.0, 37.0, 17.0, 14.0)
    assert s.error == pytest.approx(3.0)  # h f''(x) / 2 with f'' = 6


def test_secant_gap_halves_when_h_halves_and_the_secant_approaches_the_tangent():
    from course.slopes_widget import secant_data

    gaps = [secant_data(parabola, 2 / 3, h).error for h in [0.4, 0.2, 0.1, 0.05]]
    np.testing.assert_allclose(np.array(gaps[:-1]) / np.array(gaps[1:]), 2.0, rtol=1e-6)
    tiny = secant_data(parabola, 2 / 3, 1e-6)
    assert np.max(np.abs(tiny.secant - tiny.tangent)) < 1e-4


def test_secant_line_passes_through_both_points_and_tangent_touches_the_curve():
    from course.slopes_widget import secant_data

    s = secant_data(parabola, 1.0, 0.5, x_range=(-1.0, 3.0), n=9)  # grid step 0.5: holds x and x + h
    i, j = int(np.argmin(np.abs(s.grid - 1.0))), int(np.argmin(np.abs(s.grid - 1.5)))
    assert s.secant[i] == pytest.approx(s.curve[i]) and s.secant[j] == pytest.approx(s.curve[j])
    assert s.tangent[i] == pytest.approx(s.curve[i])
    assert s.tangent_slope == pytest.approx(2.0, abs=1e-8)  # no df given: central difference


def test_secant_with_zero_step_is_a_clear_error():
    from course.slopes_widget import secant_data

    with pytest.raises(ValueError, match="two distinct points"):
        secant_data(parabola, 1.0, 0.0)


def test_explorer_sliders_update_state_panel_and_picture():
    from course.slopes_widget import SlopeExplorer

    e = SlopeExplorer(parabola, df=lambda x: 6 * x - 4, x=3.0, h=1.0)
    assert e.state.secant_slope == pytest.approx(17.0) and e.draws == 1
    assert e.png.startswith(b"\x89PNG") and "17" in e.panel.value
    first = e.png
    e.h_slider.value = 0.01
    assert e.state.h == pytest.approx(0.01) and e.state.error == pytest.approx(0.03)
    assert e.draws == 2 and e.png != first
    e.x_slider.value = 2 / 3
    assert e.state.tangent_slope == pytest.approx(0.0, abs=1e-12)
    assert e.state.secant_slope == pytest.approx(0.03)
    assert "0.03" in e.panel.value


def test_explorer_can_reach_the_flat_point_and_small_steps():
    from course.slopes_widget import SlopeExplorer

    e = SlopeExplorer(parabola, x=3.0, h=1.0, draw=False)
    assert e.x_slider.min <= 2 / 3 <= e.x_slider.max
    assert e.h_slider.min <= -3 and e.draws == 0
    e.h_slider.value = 1e-3
    assert e.state.error == pytest.approx(3e-3, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# course.checks.diagnose, which the notebook's test cells use for their hints

def test_diagnose_names_the_mistakes_whose_prediction_matches():
    hints = diagnose(-14.0, [("wrong-sign", -14.0, "flip it"), ("divide-by-2h", 7.0, "halve")])
    assert hints == ["Misconception [wrong-sign]: flip it"]
    arr = diagnose([0.0, 0.0], [("nudge-all-at-once", np.zeros(2), "one at a time")])
    assert arr == ["Misconception [nudge-all-at-once]: one at a time"]


def test_diagnose_ignores_what_cannot_be_compared():
    assert diagnose(None, [("x", 1.0, "t")]) == []
    assert diagnose([1.0, 2.0], [("x", [1.0, 2.0, 3.0], "t")]) == []
    assert diagnose(float("nan"), [("x", 1.0, "t")]) == []
    assert diagnose(1.0 + 1e-3, [("x", 1.0, "t")]) == []
