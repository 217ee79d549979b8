"""``regrade A [--dry-run]``: after an instructor fixes a test in ``source/``, regrade what it affects.

1. :func:`changed_tests`: the test cells whose source (hidden tests included) or points in
   ``source/`` now differ from the master stored in the gradebook when the class was graded.
   None: nothing to do.
2. Every submission is graded again with :func:`autograder.batch.autograde`, in a scratch copy
   of the course (its ``source/``, ``release/``, ``submitted/``, gradebook and ``course.toml``
   for this assignment), so nothing of the real course is written yet.
3. Only the changed tests' new scores are taken; every other test keeps the score it had, so
   a regrade never moves a score for any reason but the fix (a submission whose new run is
   withheld as hostile takes the whole new result, and says so). Manual grades given in the
   formgrader are kept: nbgrader counts a manual score before an automatic one.
4. The table of whose total changed (before, after, why) is printed and, unless ``--dry-run``,
   applied: gradebook rows, status records and autograded notebooks, the new master stored,
   and the table recorded in ``grading/<A>/_regrades/<time>.json``.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from . import batch, isolate
from .notebooks import is_test_cell, nbgrader_meta


@dataclass
class Change:
    """One student's total before and after, and why it moved (or why it did not)."""

    student: str
    before: float
    after: float
    why: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return abs(self.after - self.before) > 1e-12


@dataclass
class Regrade:
    assignment: str
    tests: list[str]  #: "notebook:grade_id" of the changed tests
    changes: list[Change] = field(default_factory=list)
    applied: bool = False
    record: Path | None = None

    def table(self) -> str:
        """The before/after table: students whose total changed, then those with a note only."""
        lines = [f"Regrade {self.assignment}: changed tests: {', '.join(self.tests) or 'none'}"]
        moved = [c for c in self.changes if c.changed]
        noted = [c for c in self.changes if not c.changed and c.why]
        lines.append(f"{'student':<22} {'before':>8} {'after':>8}  why")
        for c in moved + noted:
            lines.append(f"{c.student:<22} {c.before:>8g} {c.after:>8g}  {'; '.join(c.why)}")
        lines.append(f"{len(self.changes)} submission(s) regraded, {len(moved)} total(s) changed"
                     + ("" if self.applied else " (dry run: nothing written)"))
        return "\n".join(lines)


def changed_tests(course: batch.Course, assignment: str) -> dict[str, set[str]]:
    """notebook stem -> grade ids of test cells whose source or points differ from the stored master."""
    out: dict[str, set[str]] = {}
    with Gradebook(course.db_url) as gb:
        for nb_path in course.release_notebooks(assignment):
            stem = nb_path.stem
            for cell in course.master(assignment, nb_path.name).cells:
                if not is_test_cell(cell):
                    continue
                gid = nbgrader_meta(cell)["grade_id"]
                try:
                    stored = gb.find_source_cell(gid, stem, assignment).source
                    points = gb.find_grade_cell(gid, stem, assignment).max_score
                except MissingEntry:
                    stored, points = None, None
                if stored != cell.source or points != float(nbgrader_meta(cell).get("points", 0)):
                    out.setdefault(stem, set()).add(gid)
    return out


def _scratch_copy(course: batch.Course, assignment: str, dest: Path) -> batch.Course:
    """The parts of the course that grading ``assignment`` reads, copied under ``dest``."""
    for sub in ("source", "release"):
        shutil.copytree(course.root / sub / assignment, dest / sub / assignment)
    for folder in sorted((course.root / "submitted").glob(f"*/{assignment}")):
        shutil.copytree(folder, dest / "submitted" / folder.parent.name / assignment)
    for name in ("gradebook.db", "course.toml", "nbgrader_config.py"):
        if (course.root / name).is_file():
            shutil.copy2(course.root / name, dest / name)
    return batch.Course(dest)


def _total(gb: Gradebook, assignment: str, student: str) -> float:
    try:
        return float(gb.find_submission(assignment, student).score)
    except MissingEntry:
        return 0.0


def _merge(old: dict | None, new: dict, changed: set[str]) -> tuple[dict, list[str]]:
    """The record to keep: changed tests from ``new``, the others from ``old``; and why."""
    hostile = [f for f in new["flags"] if f.startswith("hostile")]
    if old is None or hostile:
        return new, ([f"new run withheld: {hostile[0]}"] if hostile else ["not graded before"])
    old_scores = {t["grade_id"]: t for t in old.get("tests", [])}
    why, tests = [], []
    for t in new["tests"]:
        gid = t["grade_id"]
        if gid in changed or gid not in old_scores:
            prev = old_scores.get(gid, {}).get("score", 0.0)
            if abs(prev - t["score"]) > 1e-12:
                why.append(f"{gid} {prev:g} -> {t['score']:g} (test changed)")
            tests.append(t)
        else:
            tests.append(old_scores[gid])
    rec = dict(new, tests=tests, score=sum(t["score"] for t in tests))
    return rec, why


def regrade(root: Path | str, assignment: str, *, dry_run: bool = False, workers: int | None = None,
            limits: isolate.Limits | None = None, progress: bool = False) -> Regrade:
    """Regrade ``assignment`` after a test changed (see the module doc)."""
    course = batch.Course(root)
    changed = changed_tests(course, assignment)
    res = Regrade(assignment, sorted(f"{nb}:{g}" for nb, gs in changed.items() for g in gs))
    if not changed:
        return res
    with tempfile.TemporaryDirectory(prefix="regrade-") as tmp:
        scratch = _scratch_copy(course, assignment, Path(tmp))
        new_results, _ = batch.autograde(scratch.root, assignment, workers=workers, limits=limits, progress=progress)
        with Gradebook(course.db_url) as gb:
            for new in sorted((r.to_dict() for r in new_results), key=lambda r: r["student"]):
                student, stem = new["student"], Path(new["notebook"]).stem
                path = course.status_path(assignment, student)
                old = json.loads(path.read_text()) if path.is_file() else None
                rec, why = _merge(old, new, changed.get(stem, set()))
                before = _total(gb, assignment, student)
                after, kept = before, []
                for t in rec["tests"]:
                    try:
                        g = gb.find_grade(t["grade_id"], stem, assignment, student)
                    except MissingEntry:
                        continue
                    if g.manual_score is not None and t["grade_id"] in changed.get(stem, set()):
                        kept.append(f"{t['grade_id']}: manual grade {g.manual_score:g} kept")
                    after += (g.manual_score if g.manual_score is not None else t["score"]) - g.score
                    if not dry_run:
                        g.auto_score = t["score"]
                if not dry_run:
                    gb.db.commit()
                    _write_files(course, scratch, assignment, student, new["notebook"], rec)
                res.changes.append(Change(student, round(before, 6), round(after, 6), why + kept))
        if not dry_run:
            batch.sync_master(course, assignment)  # the fixed tests are now the stored master
            res.applied = True
            res.record = _record(course, res)
    return res


def _write_files(course: batch.Course, scratch: batch.Course, assignment: str, student: str,
                 notebook: str, rec: dict) -> None:
    """The merged status record and the newly autograded notebook, into the real course."""
    path = course.status_path(assignment, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rec, indent=1))
    src = scratch.root / "autograded" / student / assignment / notebook
    if src.is_file():
        dest = course.root / "autograded" / student / assignment
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / notebook)


def _record(course: batch.Course, res: Regrade) -> Path:
    folder = course.root / "grading" / res.assignment / "_regrades"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"assignment": res.assignment, "tests": res.tests, "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                                "changes": [asdict(c) for c in res.changes], "table": res.table()}, indent=1))
    return path
