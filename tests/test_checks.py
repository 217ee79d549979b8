"""Failure messages say what was checked, the inputs, expected, got, tolerance and hint."""
from __future__ import annotations

import numpy as np
import pytest

from course.checks import MISCONCEPTION_TAG, fmt, misconception, report, worst


def test_report_names_everything_a_student_needs():
    msg = report("central_difference(f, x=3.0, h=1e-4)", inputs={"x": 3.0, "h": 1e-4},
                 expected=14.0, got=14.0003, tol=1e-6,
                 hint=misconception("forward-difference", "step to both sides"))
    for part in ["central_difference(f, x=3.0, h=1e-4)", "x = 3", "h = 0.0001", "expected:  14",
                 "got:       14.0003", "error:     0.0003", "tolerance: 1e-06",
                 "Misconception [forward-difference]: step to both sides"]:
        assert part in msg, (part, msg)


def test_misconception_tags_are_machine_readable():
    msg = report("x", hint=[misconception("reuse-overwrites", "use +="), "second line"])
    assert MISCONCEPTION_TAG.findall(msg) == ["reuse-overwrites"]
    with pytest.raises(ValueError):
        misconception("Bad Tag", "text")


def test_fmt_keeps_twelve_digits_and_shows_array_shapes():
    assert fmt(0.1 + 0.2) == "0.3"
    assert fmt(1 / 3) == "0.333333333333"
    assert fmt(np.float64(2.5)) == "2.5"
    assert fmt(True) == "True"
    assert fmt(np.zeros((2, 3))).startswith("array of shape (2, 3)")
    assert len(fmt("x" * 1000)) == 200


def test_worst_points_at_the_largest_difference():
    assert "index (1,)" in worst(np.array([1.0, 5.0]), np.array([1.0, 2.0]))
    assert "shape (2,)" in worst(np.array([1.0, 5.0]), np.array([1.0, 2.0, 3.0]))
