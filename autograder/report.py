"""After autograding: feedback for students, a grade sheet and a class report for the instructor.

* :func:`feedback` (from :mod:`autograder.feedback`): a page per student, no hidden test
  text, nothing that runs.
* :func:`export` writes a CSV with one row per student and assignment: the
  status (``graded``, ``timed out``, ``crashed``, ``malformed``, ``tampered``,
  ``missing``), the score from the gradebook (manual grades included), the
  points of each test and the flags, so a 0 from a crash never passes for a
  genuine 0.
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

def records(root: Path | str, assignment: str) -> list[dict]:
    """One status record per student (``missing`` for students in the gradebook with none)."""
    course = Course(root)
    folder = course.root / "grading" / assignment
    recs = {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json")) if not p.stem.startswith("_")}
    for student in course.students(assignment):
        recs.setdefault(student, {"student": student, "assignment": assignment, "status": MISSING,
                                  "score": 0.0, "max_score": 0.0, "tests": [], "flags": ["note: no submission"]})
    return [recs[k] for k in sorted(recs)]


def export(root: Path | str, assignments: list[str], out: Path | str) -> Path:
    """The grade sheet (see the module doc)."""
    course = Course(root)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows, test_ids = [], []
    with Gradebook(course.db_url) as gb:
        for a in assignments:
            for rec in records(root, a):
                score = rec["score"]
                try:
                    score = gb.find_submission(a, rec["student"]).score  # manual grades count
                except MissingEntry:
                    pass
                row = {"student": rec["student"], "assignment": a, "status": rec["status"],
                       "score": f"{score:g}", "max_score": f"{rec['max_score']:g}",
                       "flags": " | ".join(rec.get("flags", []))}
                for t in rec.get("tests", []):
                    key = f"{a}:{t['grade_id']}"
                    row[key] = f"{t['score']:g}"
                    if key not in test_ids:
                        test_ids.append(key)
                rows.append(row)
    with out.open("w", newline="") as f:
        w = csv.DictWriter(f, ["student", "assignment", "status", "score", "max_score", *test_ids, "flags"])
        w.writeheader()
        w.writerows(rows)
    return out


def class_report(root: Path | str, assignment: str, top: int = 10) -> str:
    """Statuses, pass rate per test, the most frequent misconceptions, the isolation in force."""
    recs = records(root, assignment)
    lines = [f"Class report: {assignment} ({len(recs)} students)", ""]
    counts = Counter(r["status"] for r in recs)
    lines.append("Status:   " + ", ".join(f"{s} {counts[s]}" for s in STATUSES if counts[s]))
    ran = [r for r in recs if r["status"] != MISSING]
    if ran:
        mean = sum(r["score"] for r in ran) / len(ran)
        lines.append(f"Mean score of submissions: {mean:.2f} / {ran[0]['max_score']:g}")
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
    flagged = [r for r in recs if r["status"] in ("tampered", "malformed", "crashed", "timed out")]
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
