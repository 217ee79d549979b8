"""A small graded class for the class report's tests (no kernels: see graded_class.py)."""
from __future__ import annotations

from pathlib import Path

import fixture_course as fc
from graded_class import Student, graded_class

TOML = """[course]
timezone = "UTC"
[assignments.ps1]
due = 2026-11-20T12:00:00Z
late_policy = "per_day"
penalty = 0.1
floor = 0.5
"""
#: a longer answer, and a copy of it with every name changed (the report must pair them)
LONG = ("def square(x):\n    total = 0.0\n    for k in range(2):\n        partial = x if k == 0 else x\n"
        "        total = total + partial * (x if k == 1 else 0.0)\n    count = int(total)\n"
        "    return total if count >= 0 else total\n")
COPY = LONG.replace("total", "acc").replace("partial", "piece").replace("count", "n").replace("k ", "j ").replace(
    "k in", "j in").replace("(k", "(j")
FLAG = "hostile: square: installs IPython hooks <script>alert(1)</script>"


def make(base: Path) -> Path:
    plan = {"ann": Student(), "bob": Student(scores={"test_square_value": 0, "test_square_hidden": 0},
                                           tags={"test_square_value": ["doubling"], "test_square_hidden": ["doubling"]}),
            "cat": Student(status="tampered", flags=[FLAG], scores={k: 0 for k in fc.POINTS}),
            "dan": Student(scores={"test_slope_value": 0}, tags={"test_slope_value": ["forward-difference"]},
                           timestamp="2026-11-21 15:00:00.000000 UTC"),
            "eve": Student(answers={"square": LONG, "slope": fc.SLOPE}),
            "fay": Student(answers={"square": COPY, "slope": fc.SLOPE}, flags=["review: square: uses ctypes"]),
            "gus": Student(timestamp=None)}
    root = graded_class(fc.cached_course(base), base / "c", plan)
    (root / "course.toml").write_text(TOML)
    (root / "grading" / "ps1" / "_batch.json").write_text(
        '{"when": "2026-11-21 10:00:00 UTC", "isolation": {"no network": "active", "memory limit": "active"},'
        ' "limits": {"memory": 1073741824}, "workers": 2}')
    return root
