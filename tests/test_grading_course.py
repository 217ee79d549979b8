"""Every course notebook through the grading pipeline: the solution earns every point,
the untouched release earns none, both with status graded and no flags.

This is the promise the course makes to a class: the instructor's own
solution, submitted as a student would (solution cells filled in, everything
else as released), is graded in the sandbox exactly as the source's tests
grade it, and a student who wrote nothing gets 0.
"""
from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import ROOT, assignments  # noqa: E402
from test_grading_e2e import _filled  # noqa: E402

from autograder import release  # noqa: E402
from autograder.__main__ import main  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", assignments())
def test_solution_earns_every_point_and_the_release_none(name, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(ROOT / "source" / name, root / "source" / name)
    release.generate(dest=root / "release", names=[name], source=root / "source")
    nb_name = next((root / "release" / name).glob("*.ipynb")).name
    inbox = tmp_path / "inbox"
    for student, nb in {"solver": _filled(root, name, nb_name),
                        "blank": nbformat.read(root / "release" / name / nb_name, as_version=4)}.items():
        (inbox / student).mkdir(parents=True)
        nbformat.write(nb, inbox / student / nb_name)
    r = str(root)
    assert main(["collect", name, str(inbox), "--root", r]) == 0
    assert main(["autograde", name, "--root", r, "-j", "2", "-q"]) == 0
    out = tmp_path / "grades.csv"
    assert main(["export", name, "--root", r, "-o", str(out)]) == 0
    rows = {row["student"]: row for row in csv.DictReader(out.open())}
    solver, blank = rows["solver"], rows["blank"]
    assert float(solver["max_score"]) > 0
    assert (solver["status"], float(solver["score"])) == ("graded", float(solver["max_score"])), solver
    assert (blank["status"], float(blank["score"])) == ("graded", 0.0), blank
