"""The instructor's whole cycle through the command line: release, collect from an LMS zip,
autograde a small class in parallel, feedback, export, report.

Uses the first real course notebook (source/ and release/ of this checkout)
when there is one, else the grading tests' fixture notebook.
"""
from __future__ import annotations

import csv
import html
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import fixture_course as fc  # noqa: E402

from autograder import release  # noqa: E402
from autograder.__main__ import main  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def _assignment(root: Path) -> str:
    names = [p.name for p in sorted((ROOT / "source").glob("*")) if list(p.glob("*.ipynb"))]
    if names:
        shutil.copytree(ROOT / "source" / names[0], root / "source" / names[0])
        return names[0]
    (root / "source" / fc.ASSIGNMENT).mkdir(parents=True)
    nbformat.write(fc.source_notebook(), root / "source" / fc.ASSIGNMENT / fc.NOTEBOOK)
    return fc.ASSIGNMENT


def _filled(root: Path, name: str, nb_name: str) -> nbformat.NotebookNode:
    src = nbformat.read(root / "source" / name / nb_name, as_version=4)
    sol = {c.metadata["nbgrader"]["grade_id"]: c.source for c in src.cells
           if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(root / "release" / name / nb_name, as_version=4)
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sol:
            c.source = sol[gid]
    return nb


def grade_class(root: Path, name: str, submissions: dict[str, nbformat.NotebookNode], work: Path,
                workers: int = 2) -> dict[str, dict]:
    """Each student's notebook handed in, then collect, autograde and export as an instructor runs
    them: the export's rows, by student."""
    nb_name = f"{name}.ipynb"
    for student, nb in submissions.items():
        (work / "inbox" / student).mkdir(parents=True)
        nbformat.write(nb, work / "inbox" / student / nb_name)
    r = str(root)
    assert main(["collect", name, str(work / "inbox"), "--root", r]) == 0
    assert main(["autograde", name, "--root", r, "-j", str(workers), "-q"]) == 0
    assert main(["export", name, "--root", r, "-o", str(work / "grades.csv")]) == 0
    return {row["student"]: row for row in csv.DictReader((work / "grades.csv").open())}


def _text(html_file: Path) -> str:
    """What a student reads: the HTML without tags (syntax highlighting splits code into spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_file.read_text()))


def _hidden_lines(root: Path, name: str, nb_name: str) -> tuple[list[str], list[str]]:
    src = nbformat.read(root / "source" / name / nb_name, as_version=4)
    hidden, visible = [], []
    for c in src.cells:
        m = c.metadata.get("nbgrader", {})
        if not (m.get("grade") and not m.get("solution")):
            continue
        inside = False
        for line in c.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif len(line.strip()) > 20:
                (hidden if inside else visible).append(line.strip())
    given = (root / "release" / name / nb_name).read_text()  # lines a student has seen anyway
    return [h for h in hidden if h not in visible and json.dumps(h)[1:-1] not in given], visible


def test_release_collect_autograde_feedback_export_report(tmp_path, capsys):
    root = tmp_path / "course"
    name = _assignment(root)
    release.generate(dest=root / "release", names=[name], source=root / "source")
    nb_name = next((root / "release" / name).glob("*.ipynb")).name

    z = tmp_path / "lms-export.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(f"adaann_101_1_{nb_name}", nbformat.writes(_filled(root, name, nb_name)))
        zf.writestr(f"brownbob_102_2_{nb_name}", (root / "release" / name / nb_name).read_text())
        zf.writestr(f"chocarl_103_3_{nb_name}", "{ this is not json")
        zf.writestr(f"dinhdee_104_4_{nb_name}", nbformat.writes(_filled(root, name, nb_name)))
        zf.writestr("dinhdee_104_5_numpy.py", "raise SystemExit('shadowed numpy')")
    r = str(root)
    assert main(["collect", name, str(z), "--root", r]) == 0
    assert not list((root / "submitted").rglob("*.py"))
    assert main(["autograde", name, "--root", r, "-j", "2", "-q", "--cell-timeout", "60", "--timeout", "180"]) == 0
    assert main(["feedback", name, "--root", r]) == 0
    out_csv = tmp_path / "grades.csv"
    assert main(["export", name, "--root", r, "-o", str(out_csv)]) == 0
    capsys.readouterr()
    assert main(["report", name, "--root", r]) == 0
    class_report = capsys.readouterr().out

    rows = {row["student"]: row for row in csv.DictReader(out_csv.open())}
    max_score = rows["adaann"]["max_score"]
    assert float(max_score) > 0
    got = {s: (row["status"], row["score"]) for s, row in rows.items()}
    assert got == {"adaann": ("graded", max_score), "brownbob": ("graded", "0"),
                   "chocarl": ("malformed", "0"), "dinhdee": ("graded", max_score)}

    hidden, visible = _hidden_lines(root, name, nb_name)
    pages = sorted((root / "feedback").glob(f"*/{name}/*.html"))
    assert [p.parts[-3] for p in pages] == ["adaann", "brownbob", "dinhdee"]
    assert hidden, "the notebook has hidden tests that appear nowhere else"
    for page in pages:
        text = _text(page)
        assert visible and any(v in text for v in visible)  # the check can see test code at all
        assert not [h for h in hidden if h in text], page
    assert "Status:   graded 3, malformed 1" in class_report
    assert "Pass rate per test" in class_report and "Isolation in force" in class_report
