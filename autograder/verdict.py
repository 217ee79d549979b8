"""The trusted verdict: each test cell replayed outside the sandbox on the student's answers.

In the grading kernel every check records the student's answers (the environment
variable ``COURSE_ANSWERS`` names the file: :mod:`course.checks.answers`), one JSON
line per question, tagged with the grade id of the test cell that asked: the grader
runs a marker cell before each test cell (:func:`with_markers`). A student's code can
call the marker too, but that only moves answers to a cell whose questions they do
not answer, or adds answers no check asked for: either way nothing passes that
would not have. After
the kernel is gone, :func:`judge` runs each test cell's *master* source again in
this (the grader's) process, with every student name bound to a placeholder and
every question answered from the record: no student code runs, and nothing the
student's process did can change how the answers are judged. The student's
process can only supply answers; a wrong answer fails whoever supplied it, and a
right one takes a working solution to compute (the hidden checks' inputs are
seeded, and salted with the instructor's secret when one is set).

The kernel's own outcome of each cell (an error in its output or not) is kept
only to compare: a cell that passed in the kernel but fails on replay is evidence
that the kernel's verdict was forged (a hook, a rewritten traceback, a patched
check), and is flagged hostile; a cell that failed in the kernel but passes on
replay (stderr from a warning, say) keeps its replayed score and is marked for a
look. A test cell that calls no check (an instructor's plain ``assert`` cell) cannot
be replayed: its verdict is the kernel's, as in nbgrader, and the flag says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from nbformat import NotebookNode

from course.checks.answers import ReplayResult, read_records, replay_cell

from .notebooks import is_test_cell, nbgrader_meta

#: a test cell whose source imports checks can be replayed
REPLAYABLE = re.compile(r"^\s*from\s+(course\.checks\.\w+|course_hidden\.\w+)\s+import\b", re.M)


@dataclass
class CellVerdict:
    """One test cell: what the kernel said, what the replay says, and what decides."""

    grade_id: str
    ran: bool  #: the kernel executed the cell
    kernel_passed: bool
    replayed: ReplayResult | None  #: None when the cell calls no check (verdict from the kernel)

    @property
    def passed(self) -> bool:
        if not self.ran:
            return False
        return self.replayed.passed if self.replayed is not None else self.kernel_passed

    @property
    def forged(self) -> bool:
        """The kernel reported a pass its own recorded answers do not support."""
        return self.ran and self.replayed is not None and self.kernel_passed and not self.replayed.passed


@dataclass
class Judgement:
    cells: dict[str, CellVerdict] = field(default_factory=dict)
    hostile: list[str] = field(default_factory=list)  #: evidence of forgery (score withheld)
    notes: list[str] = field(default_factory=list)  #: worth a look, score kept
    kernel_only: list[str] = field(default_factory=list)  #: test cells that call no check: the kernel's verdict


def _kernel_passed(cell: NotebookNode) -> bool:
    return not any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def judge(executed: NotebookNode, master: NotebookNode, answers_text: str) -> Judgement:
    """Verdicts for every test cell of ``executed`` (the notebook the kernel ran, its test
    cells restored from ``master``), replaying the master's test cells on ``answers_text``."""
    by_cell: dict[str, list[dict]] = {}
    for rec in read_records(answers_text or ""):
        cid = rec.get("cell_id")
        if isinstance(cid, str):
            by_cell.setdefault(cid, []).append(rec)
    sources = {nbgrader_meta(c).get("grade_id"): c.source for c in master.cells if is_test_cell(c)}
    out = Judgement()
    kernel_only = []
    for cell in executed.cells:
        if not is_test_cell(cell):
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if gid not in sources:
            continue
        ran = cell.get("execution_count") is not None or bool(cell.get("outputs"))
        source = sources[gid]
        replayed = None
        if REPLAYABLE.search(source):
            replayed = replay_cell(source, by_cell.get(gid, [])) if ran else None
        elif ran:
            kernel_only.append(gid)
        v = CellVerdict(gid, ran, ran and _kernel_passed(cell), replayed)
        out.cells[gid] = v
        if v.forged:
            out.hostile.append(f"{gid}: passed in the kernel, but its recorded answers fail it "
                               f"({(replayed.message.splitlines() or [''])[0][:120]})")
        elif v.ran and replayed is not None and replayed.passed and not v.kernel_passed:
            out.notes.append(f"{gid}: failed in the kernel (an error or stderr in its output) but its answers "
                             "pass: scored as passed, worth a look")
        if replayed is not None and replayed.problems and replayed.passed:
            out.notes.append(f"{gid}: {'; '.join(replayed.problems)[:200]}")
    out.kernel_only = kernel_only
    return out


MARKER_META = "autograder_marker"


def marker_cell(grade_id: str) -> NotebookNode:
    """The cell the grader runs right before test cell ``grade_id``: answers from then on are its."""
    import nbformat
    src = ("import course.checks.answers as __autograder_answers\n"
           f"__autograder_answers.begin_cell({grade_id!r})\ndel __autograder_answers")
    return nbformat.v4.new_code_cell(src, metadata={MARKER_META: grade_id})


def with_markers(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` with a marker cell before every test cell."""
    import nbformat
    out = nbformat.from_dict(nb)
    cells = []
    for cell in out.cells:
        if is_test_cell(cell):
            cells.append(marker_cell(nbgrader_meta(cell)["grade_id"]))
        cells.append(cell)
    out.cells = cells
    return out


def trusted_outputs(cell: NotebookNode, verdict: CellVerdict) -> None:
    """Make a test cell's outputs show the trusted verdict: the kernel's error outputs are
    replaced by the replay's message (or removed, when the replay passed)."""
    if verdict.replayed is None or not verdict.ran:
        return
    kept = [o for o in cell.get("outputs", []) if o.get("output_type") != "error"]
    if not verdict.replayed.passed:
        r = verdict.replayed
        kept.append(NotebookNode(output_type="error", ename=r.error or "CheckFailed",
                                 evalue=r.message, traceback=r.lines))
    cell["outputs"] = kept
