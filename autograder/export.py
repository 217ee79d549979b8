"""``export``: grades as the course's own sheet, or as a file Canvas or Moodle imports.

Every format starts from the same :class:`Grade` per student and assignment: the status,
the raw score (the gradebook's, manual grades included), the lateness under the assignment's
policy (:mod:`autograder.late`) and the score after the penalty.

* ``csv`` (the course's sheet): ``student, assignment, status, raw_score, late, hours_late,
  score, max_score``, one column per test (``<assignment>:<grade id>``), ``review``
  (``yes`` when a flag asks for a look) and ``flags``. ``score`` is after the penalty.
* ``canvas``: Canvas's gradebook import CSV: ``Student, ID, SIS User ID, SIS Login ID,
  Section`` and one column per assignment, named as in Canvas (course.toml's ``lms_name``,
  e.g. ``"Value engine (1234)"``; default: the assignment's folder name, which makes Canvas
  create a new column).
* ``moodle``: Moodle's assignment grading worksheet (``Upload grading worksheet``):
  ``Identifier, Full name, Email address, Status, Grade, Maximum Grade, Grade can be
  changed, Last modified (submission), Last modified (grade), Feedback comments``, one
  assignment per file.

Students are matched to the LMS's identifiers, never guessed: by the id the LMS put in the
names of the files it exported (``collect`` records it: Canvas's user ID, Moodle's
participant number), or with ``--roster`` (the gradebook CSV Canvas exports, or the grading
worksheet Moodle exports) by that id or by an exact login (Canvas ``SIS Login ID`` / ``SIS User
ID``, Moodle ``Email address``). A student who cannot be matched, a roster row with no grade,
and a grade left blank (score withheld for review, no submission, unreadable) are reported, and
the LMS keeps what it has for them.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from . import collect, config, late
from .batch import Course
from .report import gradebook_scores, records

FORMATS = ("csv", "canvas", "moodle")
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
#: statuses whose score is a grade; any other (withheld, missing, malformed, unreadable) is left blank in an LMS file
SCORED = ("graded", "timed out", "crashed", "tampered")


@dataclass
class Grade:
    """One student's grade on one assignment, before and after the late penalty."""

    student: str
    assignment: str
    status: str
    raw: float
    max_score: float
    lateness: late.Lateness
    tests: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    lms: str = ""
    lms_id: str = ""

    @property
    def score(self) -> float:
        return self.lateness.apply(self.raw)

    @property
    def withheld(self) -> bool:
        return any(f.startswith("hostile") for f in self.flags)

    @property
    def review(self) -> bool:
        return self.withheld or self.lateness.status == late.NO_TIME or any(f.startswith("review") for f in self.flags)

    @property
    def for_lms(self) -> bool:
        """Whether this grade goes into an LMS file (else the cell is left blank and reported)."""
        return self.status in SCORED and not self.withheld


def grades(root: Path | str, assignment: str) -> list[Grade]:
    """Every student's :class:`Grade` for ``assignment``."""
    course = Course(root)
    cfg = config.load(course.root)
    acfg = cfg.assignment(assignment)
    scores = gradebook_scores(course, assignment)
    collected = collect.read_record(course.root, assignment)
    out = []
    for rec in records(root, assignment):
        s = rec["student"]
        when = late.submission_time(course.root, assignment, s, cfg.timezone)
        lateness = late.assess(acfg, s, when) if rec["status"] != "missing" else late.Lateness(
            late.NO_DUE if acfg.due is None else "no submission", 0.0, 1.0, acfg.due)
        info = collected.get(s, {})
        out.append(Grade(s, assignment, rec["status"], scores.get(s, rec["score"]), rec["max_score"], lateness,
                         {t["grade_id"]: t["score"] for t in rec.get("tests", [])}, rec.get("flags", []),
                         info.get("lms", ""), str(info.get("lms_id", ""))))
    return out


@dataclass
class Exported:
    """What an export wrote, and what it could not match or left blank (each with why)."""

    path: Path
    rows: int = 0
    problems: list[str] = field(default_factory=list)


def _num(x: float) -> str:
    return f"{x:g}"


def write_csv(root: Path | str, assignments: list[str], out: Path) -> Exported:
    """The course's own sheet (see the module doc)."""
    rows, test_ids = [], []
    for a in assignments:
        for g in grades(root, a):
            row = {"student": g.student, "assignment": a, "status": g.status, "raw_score": _num(g.raw),
                   "late": g.lateness.status, "hours_late": f"{g.lateness.hours_late:.2f}",
                   "score": _num(g.score), "max_score": _num(g.max_score), "review": "yes" if g.review else "",
                   "flags": " | ".join(g.flags + ([f"late: {g.lateness.note}"] if g.lateness.note else []))}
            for gid, v in g.tests.items():
                row[f"{a}:{gid}"] = _num(v)
                test_ids += [f"{a}:{gid}"] if f"{a}:{gid}" not in test_ids else []
            rows.append(row)
    cols = ["student", "assignment", "status", "raw_score", "late", "hours_late", "score", "max_score",
            *test_ids, "review", "flags"]
    with out.open("w", newline="") as f:
        w = csv.DictWriter(f, cols)
        w.writeheader()
        w.writerows(rows)
    return Exported(out, len(rows))


def read_roster(path: Path | str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of an LMS's CSV (a byte-order mark, as Excel writes, is fine)."""
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        r = csv.DictReader(f)
        return list(r.fieldnames or []), [dict(row) for row in r]


def _match(g: Grade, rows: list[dict[str, str]], by_id: tuple[str, str], logins: tuple[str, ...]) -> list[int]:
    """Indices of the roster rows that are ``g``'s student: by the LMS's id, else by an exact login."""
    lms, column = by_id
    if g.lms == lms and g.lms_id:
        want = g.lms_id if lms == "canvas" else f"Participant {g.lms_id}"
        hits = [i for i, r in enumerate(rows) if (r.get(column) or "").strip() == want]
        if hits:
            return hits
    return [i for i, r in enumerate(rows) for c in logins if (r.get(c) or "").strip().lower() == g.student]


def _lms_rows(gs: list[Grade], roster: list[dict[str, str]] | None, lms: str, problems: list[str],
              by_id: tuple[str, str], logins: tuple[str, ...], fresh) -> list[tuple[dict[str, str], Grade]]:
    """(roster row, grade) pairs; without a roster, rows made from the collected LMS ids."""
    out: list[tuple[dict[str, str], Grade]] = []
    taken: dict[int, str] = {}
    for g in gs:
        if not g.for_lms:
            problems.append(f"{g.student}: left blank ({g.status}{', score withheld for review' if g.withheld else ''})")
            continue
        if roster is None:
            if g.lms == lms and g.lms_id:
                out.append((fresh(g), g))
            else:
                problems.append(f"{g.student}: no {lms} id known (collected from names without one; give --roster)")
            continue
        hits = _match(g, roster, by_id, logins)
        if len(hits) != 1:
            problems.append(f"{g.student}: {'no roster row' if not hits else f'{len(hits)} roster rows'} matches "
                            f"(by {by_id[1]} from collect, or by {' / '.join(logins)}): not exported")
            continue
        if hits[0] in taken:
            problems.append(f"{g.student} and {taken[hits[0]]}: the same roster row: neither exported")
            out = [(r, x) for r, x in out if x.student != taken[hits[0]]]
            continue
        taken[hits[0]] = g.student
        out.append((roster[hits[0]], g))
    if roster is not None:
        done = {id(r) for r, _ in out}
        for r in roster:
            if id(r) not in done and any((r.get(c) or "").strip() for c in (by_id[1],)):
                problems.append(f"roster row {r.get(by_id[1])!r} ({r.get(CANVAS_COLUMNS[0]) or r.get('Full name', '')}):"
                                " no grade here (the LMS keeps its own)")
    return out


def write_canvas(root: Path | str, assignments: list[str], out: Path, roster: Path | None = None) -> Exported:
    """Canvas's gradebook import CSV (see the module doc)."""
    cfg = config.load(Course(root).root)
    header, rows = read_roster(roster) if roster else (CANVAS_COLUMNS, None)
    if rows is not None:
        rows = [r for r in rows if (r.get("ID") or "").strip()]  # Canvas's "Points Possible" row has no ID
    res = Exported(out)
    merged: dict[str, dict[str, str]] = {}
    titles = []
    for a in assignments:
        title = cfg.assignment(a).lms_name or a
        titles.append(title)
        pairs = _lms_rows(grades(root, a), rows, "canvas", res.problems, ("canvas", "ID"),
                          ("SIS Login ID", "SIS User ID"),
                          lambda g: {"Student": g.student, "ID": g.lms_id, "SIS User ID": "", "SIS Login ID": "",
                                     "Section": ""})
        for r, g in pairs:
            key = str(id(r)) if rows is not None else f"id:{g.lms_id}"
            row = merged.setdefault(key, {c: r.get(c, "") for c in CANVAS_COLUMNS})
            row[title] = _num(g.score)
    with out.open("w", newline="") as f:
        w = csv.DictWriter(f, CANVAS_COLUMNS + titles, restval="")
        w.writeheader()
        w.writerows(merged.values())
    res.rows = len(merged)
    return res


def write_moodle(root: Path | str, assignment: str, out: Path, roster: Path | None = None) -> Exported:
    """Moodle's grading worksheet for one assignment (see the module doc)."""
    header, rows = read_roster(roster) if roster else (MOODLE_COLUMNS, None)
    if rows is not None and header[:1] != ["Identifier"]:
        raise ValueError(f"{roster}: not a Moodle grading worksheet (its first column is not 'Identifier')")
    res = Exported(out)
    pairs = _lms_rows(grades(root, assignment), rows, "moodle", res.problems, ("moodle", "Identifier"),
                      ("Email address",),
                      lambda g: {"Identifier": f"Participant {g.lms_id}", "Full name": "", "Email address": "",
                                 "Status": "", "Grade can be changed": "Yes", "Last modified (submission)": "",
                                 "Last modified (grade)": "", "Feedback comments": ""})
    with out.open("w", newline="") as f:
        w = csv.DictWriter(f, header, restval="", extrasaction="ignore")
        w.writeheader()
        for r, g in pairs:
            w.writerow(dict(r, **{"Grade": _num(g.score), "Maximum Grade": _num(g.max_score)}))
    res.rows = len(pairs)
    return res


def export(root: Path | str, assignments: list[str], out: Path | str, fmt: str = "csv",
           roster: Path | str | None = None) -> Exported:
    """Write ``fmt`` (one of :data:`FORMATS`) to ``out``; see the module doc."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    roster = Path(roster) if roster else None
    if fmt == "csv":
        return write_csv(root, assignments, out)
    if fmt == "canvas":
        return write_canvas(root, assignments, out, roster)
    if fmt == "moodle":
        if len(assignments) != 1:
            raise ValueError("a Moodle grading worksheet holds one assignment: name one")
        return write_moodle(root, assignments[0], out, roster)
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")

