"""Answers out of the student's package: notebook 03 answered with the course's own engine
(`from course.engine import Value` in every exercise) earns nothing, because course.engine is
withheld while notebook 03 is graded, and the student reads why in the autograded notebook."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import ROOT  # noqa: E402
from test_grading_e2e import grade_class  # noqa: E402

from autograder import release  # noqa: E402

pytestmark = pytest.mark.slow
NAME = "03_value_engine"


def test_notebook_03_answered_with_the_reference_engine_earns_no_point(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(ROOT / "source" / NAME, root / "source" / NAME)
    shutil.copy(ROOT / "course.toml", root / "course.toml")
    release.generate(dest=root / "release", names=[NAME], source=root / "source")
    nb_name = f"{NAME}.ipynb"
    nb = nbformat.read(root / "release" / NAME / nb_name, as_version=4)
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("solution"):
            c.source = "from course.engine import Value\nfrom course.engine import topological_order\n"
    row = grade_class(root, NAME, {"borrower": nb}, tmp_path, workers=1)["borrower"]
    assert float(row["score"]) == 0.0, row
    executed = nbformat.read(root / "autograded" / "borrower" / NAME / nb_name, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert any("withheld" in o.get("evalue", "") and "course.engine" in o.get("evalue", "") for o in errors), \
        [o.get("evalue", "")[:120] for o in errors[:5]]
    record = json.loads((root / "grading" / NAME / "borrower.json").read_text())
    assert all(t["score"] == 0 for t in record["tests"])
