"""After autograding: feedback for students, a grade sheet and a class report for the instructor.

* :func:`feedback` (from :mod:`autograder.feedback`): a page per student, no hidden test
  text, nothing that runs.
* :func:`export`: the course's grade sheet (:mod:`autograder.export`, which also writes
  Canvas and Moodle files): status, raw score from the gradebook (manual grades included),
  lateness and the score after the penalty, the points of each test and the flags, so a 0
  from a crash never passes for a genuine 0.
* :func:`class_report` counts statuses, the pass rate of each test and the
  misconception tags (``Misconception [tag]`` in a failing check's message)
  that fired most often, and says which isolation mechanisms were in force.
"""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .batch import Course
from .feedback import StripHiddenTests, feedback  # noqa: F401  (the instructor's API in one place)
from .grading import MISSING, STATUSES

UNREADABLE = "unreadable"  #: a status record that cannot be read: grade that student again


def _record(path: Path, assignment: str) -> dict:
    """One status record, or a stand-in that says it cannot be read (never raises)."""
    try:
        rec = json.loads(path.read_text())
        if not isinstance(rec, dict):
            raise ValueError("not a JSON object")
        rec["score"], rec["max_score"] = float(rec["score"]), float(rec["max_score"])
        rec["status"] = str(rec["status"])
        rec["flags"] = [str(f) for f in rec.get("flags", [])]
        rec["tests"] = [dict(t, score=float(t["score"]), points=float(t["points"]), grade_id=str(t["grade_id"]))
                        for t in rec.get("tests", [])]
        rec["student"] = path.stem
        return rec
    except (OSError, ValueError, KeyError, TypeError) as e:
        return {"student": path.stem, "assignment": assignment, "status": UNREADABLE, "score": 0.0,
                "max_score": 0.0, "tests": [],
                "flags": [f"note: its grading record cannot be read ({type(e).__name__}): autograde it again"]}


def records(root: Path | str, assignment: str) -> list[dict]:
    """One status record per student (``missing`` for students in the gradebook with none)."""
    course = Course(root)
    folder = course.root / "grading" / assignment
    recs = {p.stem: _record(p, assignment) for p in sorted(folder.glob("*.json")) if not p.stem.startswith("_")}
    top = max([r["max_score"] for r in recs.values()] + [0.0])
    for student in course.students(assignment):
        recs.setdefault(student, {"student": student, "assignment": assignment, "status": MISSING,
                                  "score": 0.0, "max_score": top, "tests": [], "flags": ["note: no submission"]})
    return [recs[k] for k in sorted(recs)]


def gradebook_scores(course: Course, assignment: str) -> dict[str, float]:
    """Each student's score in the gradebook (manual grades included); a student whose rows cannot
    be read is left out (the record's score stands in), never the whole class."""
    out: dict[str, float] = {}
    with Gradebook(course.db_url) as gb:
        for student in course.students(assignment):
            try:
                out[student] = float(gb.find_submission(assignment, student).score)
            except MissingEntry:
                pass
            except Exception:  # noqa: BLE001  (one broken row never stops the export)
                gb.db.rollback()
    return out


def export(root: Path | str, assignments: list[str], out: Path | str) -> Path:
    """The course's grade sheet (:func:`autograder.export.write_csv`)."""
    from .export import export as _export
    return _export(root, assignments, out, "csv").path


def class_report(root: Path | str, assignment: str, top: int = 10) -> str:
    """Statuses, pass rate per test, the most frequent misconceptions, the isolation in force."""
    recs = records(root, assignment)
    lines = [f"Class report: {assignment} ({len(recs)} students)", ""]
    counts = Counter(r["status"] for r in recs)
    order = list(STATUSES) + sorted(set(counts) - set(STATUSES))
    lines.append("Status:   " + ", ".join(f"{s} {counts[s]}" for s in order if counts[s]))
    ran = [r for r in recs if r["status"] != MISSING]
    if ran:
        mean = sum(r["score"] for r in ran) / len(ran)
        lines.append(f"Mean score of submissions: {mean:.2f} / {max(r['max_score'] for r in ran):g}")
    lines += ["", "Pass rate per test (submissions graded on their merits: graded, timed out, crashed):"]
    merit = [r for r in recs if r["status"] in ("graded", "timed out", "crashed")]
    ids = [t["grade_id"] for t in (merit[0]["tests"] if merit else [])]
    for gid in ids:
        passed = sum(1 for r in merit for t in r["tests"] if t["grade_id"] == gid and t["score"] >= t["points"] > 0)
        lines.append(f"  {gid:<40} {passed:>4}/{len(merit):<4} {100 * passed / len(merit):5.1f} %")
    tags: Counter = Counter()
    where: dict[str, Counter] = {}
    for r in merit:
        for t in r.get("tests", []):
            for tag in t.get("tags", []):
                tags[tag] += 1
                where.setdefault(tag, Counter())[t["grade_id"]] += 1
    lines += ["", "Misconceptions that fired most often (students; tests):"]
    for tag, n in tags.most_common(top):
        lines.append(f"  {tag:<30} {n:>4}   {', '.join(g for g, _ in where[tag].most_common(3))}")
    if not tags:
        lines.append("  none")
    flagged = [r for r in recs if r["status"] in ("tampered", "malformed", "crashed", "timed out", UNREADABLE)
               or any(f.startswith("review") for f in r.get("flags", []))]
    if flagged:
        lines += ["", "Submissions to look at:"]
        for r in flagged:
            lines.append(f"  {r['student']:<20} {r['status']:<10} {' | '.join(r.get('flags', []))[:200]}")
    batch = Course(root).root / "grading" / assignment / "_batch.json"
    if batch.exists():
        info = json.loads(batch.read_text())
        lines += ["", f"Isolation in force when graded ({info.get('when', '?')}):"]
        lines += [f"  {k}: {v}" for k, v in info.get("isolation", {}).items()]
        lines.append(f"  limits: {info.get('limits')}")
    return "\n".join(lines)
