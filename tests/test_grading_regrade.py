"""``regrade`` (issue 14): change one test's tolerance in source/, regrade, and exactly the students
that change affects get a new score; a manual grade stays; ``--dry-run`` writes nothing.

A class of four is graded once for real (sandboxed kernels); test_slope_value's tolerance is
then loosened from 1e-6 to 1e-3, which a forward difference (error 6e-4 there) now meets.
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import fixture_course as fc  # noqa: E402

from autograder import batch, isolate, regrade  # noqa: E402
from autograder.__main__ import main  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

pytestmark = pytest.mark.slow
LIMITS = isolate.Limits(cell_timeout=20, timeout=90, nproc=128)
PLAN = {"central": {"square": fc.SQUARE, "slope": fc.SLOPE},  # 6 before and after
        "forward": {"square": fc.SQUARE, "slope": fc.SLOPE_FORWARD},  # 3 -> 5
        "forward_manual": {"square": fc.SQUARE, "slope": fc.SLOPE_FORWARD},  # manual 1 on the changed test: 4
        "wrong": {"square": fc.SQUARE_WRONG, "slope": "def slope(f, x, h):\n    return 0.0\n"}}  # 0


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "_regrades" not in p.parts}


def _scores(root: Path) -> dict[str, float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {s: float(gb.find_submission("ps1", s).score) for s in PLAN}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("regrade")
    root = fc.copy_course(fc.cached_course(base), base / "course")
    for student, answers in PLAN.items():
        fc.submit(root, student, fc.student_notebook(root / "release", answers))
    batch.autograde(root, "ps1", workers=2, limits=LIMITS, progress=False)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:  # as the formgrader does
        g = gb.find_grade("test_slope_value", "ps1", "ps1", "forward_manual")
        g.manual_score = 1.0
        gb.db.commit()
    before = _scores(root)
    path = root / "source" / "ps1" / "ps1.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_slope_value")
    assert "<= 1e-6" in cell.source
    cell.source = cell.source.replace("<= 1e-6", "<= 1e-3")
    nbformat.write(nb, path)
    return root, before


def test_only_the_changed_test_is_found(graded):
    root, _ = graded
    assert regrade.changed_tests(batch.Course(root), "ps1") == {"ps1": {"test_slope_value"}}


def test_dry_run_prints_the_table_and_writes_nothing(graded, capsys):
    root, before = graded
    files = _hashes(root)
    assert main(["regrade", "ps1", "--root", str(root), "--dry-run", "-q", "-j", "2",
                 "--cell-timeout", "20", "--timeout", "90"]) == 0
    out = capsys.readouterr().out
    assert "forward" in out and "(dry run: nothing written)" in out
    assert _hashes(root) == files and _scores(root) == before


def test_regrade_changes_exactly_the_affected_scores_and_keeps_the_manual_grade(graded, capsys):
    root, before = graded
    assert before == {"central": 6.0, "forward": 3.0, "forward_manual": 4.0, "wrong": 0.0}
    res = regrade.regrade(root, "ps1", workers=2, limits=LIMITS)
    print(res.table())
    after = _scores(root)
    assert after == {"central": 6.0, "forward": 5.0, "forward_manual": 4.0, "wrong": 0.0}
    moved = {c.student: (c.before, c.after, c.why) for c in res.changes if c.changed}
    assert moved == {"forward": (3.0, 5.0, ["test_slope_value 0 -> 2 (test changed)"])}
    manual = next(c for c in res.changes if c.student == "forward_manual")
    assert "test_slope_value: manual grade 1 kept" in manual.why
    assert res.record is not None and res.record.is_file() and "forward" in res.record.read_text()
    assert regrade.changed_tests(batch.Course(root), "ps1") == {}  # the fix is now the stored master
    rec = (root / "grading" / "ps1" / "forward.json").read_text()
    assert '"score": 5.0' in rec
