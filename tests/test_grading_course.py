"""Every course notebook through the grading pipeline: the solution earns every point,
the untouched release earns none, both with status graded and no flags.

This is the promise the course makes to a class: the instructor's own
solution, submitted as a student would (solution cells filled in, everything
else as released), is graded in the sandbox exactly as the source's tests
grade it, and a student who wrote nothing gets 0.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import ROOT, assignments  # noqa: E402
from test_grading_e2e import _filled, grade_class  # noqa: E402

from autograder import release  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", assignments())
def test_solution_earns_every_point_and_the_release_none(name, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(ROOT / "source" / name, root / "source" / name)
    release.generate(dest=root / "release", names=[name], source=root / "source")
    nb_name = f"{name}.ipynb"
    rows = grade_class(root, name, {"solver": _filled(root, name, nb_name),
                                    "blank": nbformat.read(root / "release" / name / nb_name, as_version=4)}, tmp_path)
    solver, blank = rows["solver"], rows["blank"]
    assert float(solver["max_score"]) > 0
    assert (solver["status"], float(solver["score"])) == ("graded", float(solver["max_score"])), solver
    assert (blank["status"], float(blank["score"])) == ("graded", 0.0), blank
