"""A graded class without running a kernel: for tests of what comes after autograde.

``graded_class(root, plan)`` copies the fixture course, stores the master cells and writes,
through the batch's own single writer (:func:`autograder.batch.write_result`), one result per
student as a worker would return it: the student's notebook rebuilt on the master, with the
outputs and test scores the plan gives. Feedback, export, report and regrade then read real
gradebook rows, status records and autograded notebooks, in a fraction of a second.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.api import Gradebook

import fixture_course as fc
from autograder import batch
from autograder.jobs import Result
from autograder.sanitize import sanitize


@dataclass
class Student:
    """One student of the plan: answers, scores per test (default: full marks), outputs to put on
    cells (grade_id -> outputs), status and flags of the record, submission time."""

    answers: dict[str, str] = field(default_factory=lambda: {"square": fc.SQUARE, "slope": fc.SLOPE})
    scores: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, list] = field(default_factory=dict)
    status: str = "graded"
    flags: list[str] = field(default_factory=list)
    tags: dict[str, list[str]] = field(default_factory=dict)
    timestamp: str | None = "2026-11-20 10:00:00.000000 UTC"


def result(root: Path, student: str, s: Student) -> dict:
    """The worker's result dict for ``s`` (as :func:`autograder.grading.grade_submission` returns)."""
    course = batch.Course(root)
    master = course.master(fc.ASSIGNMENT, fc.NOTEBOOK)
    release = nbformat.read(root / "release" / fc.ASSIGNMENT / fc.NOTEBOOK, as_version=4)
    nb, _ = sanitize(fc.student_notebook(root / "release", s.answers), master, release)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code":
            cell.outputs = copy.deepcopy(s.outputs.get(gid, []))
            cell.execution_count = 1
    tests = [{"grade_id": gid, "points": float(p), "score": float(s.scores.get(gid, p)), "ran": True,
              "error": "" if s.scores.get(gid, p) == p else "AssertionError", "message": "",
              "tags": s.tags.get(gid, [])} for gid, p in fc.POINTS.items()]
    return {"student": student, "assignment": fc.ASSIGNMENT, "notebook": fc.NOTEBOOK, "status": s.status,
            "score": sum(t["score"] for t in tests), "max_score": float(fc.MAX_SCORE), "tests": tests,
            "flags": list(s.flags), "no_response": [], "seconds": 1.0, "phases": {},
            "autograded": nbformat.writes(nb)}


def graded_class(template: Path, dest: Path, plan: dict[str, Student]) -> Path:
    """A copy of the fixture course at ``dest`` with ``plan`` graded into it."""
    root = fc.copy_course(template, dest)
    course = batch.Course(root)
    batch.sync_master(course, fc.ASSIGNMENT)
    with Gradebook(course.db_url) as gb:
        for student, s in plan.items():
            fc.submit(root, student, fc.student_notebook(root / "release", s.answers))
            if s.timestamp is None:
                (root / "submitted" / student / fc.ASSIGNMENT / "timestamp.txt").unlink()
            else:
                (root / "submitted" / student / fc.ASSIGNMENT / "timestamp.txt").write_text(s.timestamp)
            batch.write_result(course, gb, Result.from_dict(result(root, student, s)), s.timestamp)
    return root


def stream(text: str, name: str = "stdout") -> dict:
    return new_output("stream", name=name, text=text)


def html_output(markup: str) -> dict:
    return new_output("display_data", data={"text/html": markup, "text/plain": "<html>"})
