"""A tiny nbgrader course for the grading pipeline's tests: one assignment, two exercises.

``make_course(root)`` writes ``source/ps1/ps1.ipynb`` (solutions, visible and
hidden tests in the course's style: plain ``assert`` on ``float(...)`` with a
``course.checks.report`` message and a tagged misconception), generates
``release/ps1`` with nbgrader, and returns the paths. ``student_notebook``
fills the released stubs with any code, to make honest, wrong, broken and
hostile submissions.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import release

ASSIGNMENT, NOTEBOOK = "ps1", "ps1.ipynb"
POINTS = {"test_square_value": 1, "test_square_hidden": 2, "test_slope_value": 2, "test_slope_array": 1}
MAX_SCORE = sum(POINTS.values())
HIDDEN_TOKEN = "HIDDEN_SECRET_7f3a"  # appears only inside the hidden tests

SQUARE = "def square(x):\n    return x * x\n"
SLOPE = "def slope(f, x, h):\n    return (f(x + h) - f(x - h)) / (2 * h)\n"
SQUARE_WRONG = "def square(x):\n    return 2 * x\n"  # fires Misconception [doubling]
SLOPE_FORWARD = "def slope(f, x, h):\n    return (f(x + h) - f(x)) / h\n"  # fires [forward-difference]


def _meta(gid, *, grade=False, solution=False, locked=False, points=0):
    m = {"grade": grade, "solution": solution, "locked": locked, "grade_id": gid, "schema_version": 3}
    if grade:
        m["points"] = points
    return {"nbgrader": m}


def source_notebook() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# Problem set 1\nSquares and slopes.", metadata=_meta("intro", locked=True)),
        new_code_cell("import numpy as np\nfrom course.checks import report, misconception",
                      metadata=_meta("imports", locked=True)),
        new_code_cell("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
                      metadata=_meta("square", solution=True)),
        new_code_cell(
            "got = float(square(3.0))\n"
            "assert abs(got - 9.0) <= 1e-12, report('square(3.0)', expected=9.0, got=got, tol=1e-12,\n"
            "    hint=misconception('doubling', 'x * x, not 2 * x') if abs(got - 6.0) < 1e-9 else None)",
            metadata=_meta("test_square_value", grade=True, locked=True, points=1)),
        new_code_cell(
            "got = float(square(-2.0))\n"
            "assert abs(got - 4.0) <= 1e-12, report('square(-2.0)', expected=4.0, got=got, tol=1e-12)\n"
            "### BEGIN HIDDEN TESTS\n"
            f"rng = np.random.default_rng(2026)  # {HIDDEN_TOKEN}\n"
            "for x in rng.uniform(-5, 5, size=3):\n"
            "    got = float(square(float(x)))\n"
            "    assert abs(got - x * x) <= 1e-9, report(f'square({x})', expected=x * x, got=got, tol=1e-9)\n"
            "### END HIDDEN TESTS",
            metadata=_meta("test_square_hidden", grade=True, locked=True, points=2)),
        new_code_cell("def slope(f, x, h):\n    ### BEGIN SOLUTION\n    return (f(x + h) - f(x - h)) / (2 * h)\n"
                      "    ### END SOLUTION", metadata=_meta("slope", solution=True)),
        new_code_cell(
            "fwd = ((2.0 + 1e-4) ** 3 - 8.0) / 1e-4\n"
            "got = float(slope(lambda t: t ** 3, 2.0, 1e-4))\n"
            "assert abs(got - 12.0) <= 1e-6, report('slope(t**3, x=2, h=1e-4)', expected=12.0, got=got, tol=1e-6,\n"
            "    hint=misconception('forward-difference', 'step to both sides') if abs(got - fwd) < 1e-6 else None)",
            metadata=_meta("test_slope_value", grade=True, locked=True, points=2)),
        new_code_cell(
            "xs = np.linspace(-1.0, 1.0, 5)\n"
            "got = np.asarray([float(slope(np.sin, float(x), 1e-5)) for x in xs], dtype=float)\n"
            "assert got.shape == (5,) and np.max(np.abs(got - np.cos(xs))) <= 1e-8, report(\n"
            "    'slope(sin) on a grid', expected=np.cos(xs), got=got, tol=1e-8)",
            metadata=_meta("test_slope_array", grade=True, locked=True, points=1)),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def make_course(root: Path) -> Path:
    """A course folder with source/ps1 and release/ps1 (made by nbgrader)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "source" / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(), root / "source" / ASSIGNMENT / NOTEBOOK)
    release.generate(dest=root / "release", names=[ASSIGNMENT], source=root / "source")
    return root


_CACHE: dict[str, Path] = {}


def cached_course(tmp_root: Path) -> Path:
    """make_course once per test session (nbgrader takes seconds), copied for each use."""
    if "c" not in _CACHE:
        _CACHE["c"] = make_course(tmp_root / "_template_course")
    return _CACHE["c"]


def student_notebook(release_dir: Path, answers: dict[str, str] | None = None,
                     edit=None) -> nbformat.NotebookNode:
    """The released notebook with ``answers`` (grade_id -> code) in solution cells; ``edit(nb)`` may change more."""
    nb = nbformat.read(release_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers and gid in answers:
            cell.source = answers[gid]
    if edit is not None:
        nb = edit(nb) or nb
    return nb


def submit(root: Path, student: str, nb_or_text, extra_files: dict[str, str] | None = None) -> Path:
    """Put a submission into submitted/<student>/ps1/ (a notebook node, or raw text for broken files)."""
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NOTEBOOK
    if isinstance(nb_or_text, (str, bytes)):
        path.write_bytes(nb_or_text.encode() if isinstance(nb_or_text, str) else nb_or_text)
    else:
        nbformat.write(nb_or_text, path)
    for name, text in (extra_files or {}).items():
        (folder / name).write_text(text)
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    return path


def copy_course(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest


def dumps(nb) -> str:
    return json.dumps(nb)
