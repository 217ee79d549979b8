"""What travels between the instructor's process and a grading worker: a :class:`Job` out, a
:class:`Result` back.

Both are dataclasses of plain data (str, bytes, numbers, lists, dicts), so they pickle for a
local process pool and for Dask unchanged, and :meth:`Result.to_dict` is the status record
written in ``grading/<assignment>/<student>.json``. A job carries everything its grading
needs (the submission's bytes, the master and released notebooks, the limits), so any machine
with the course's environment can grade it; no path on the instructor's machine is read.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields

from .isolate import Limits

GRADED, TIMED_OUT, CRASHED, MALFORMED, TAMPERED, MISSING = (
    "graded", "timed out", "crashed", "malformed", "tampered", "missing")
STATUSES = (GRADED, TIMED_OUT, CRASHED, MALFORMED, TAMPERED, MISSING)


@dataclass
class Job:
    """One notebook of one student to grade."""

    student: str
    assignment: str
    notebook: str  #: file name, e.g. ``ps1.ipynb``
    submission: bytes  #: the submitted file, exactly as submitted
    master: str  #: the master notebook (JSON): release + full tests
    release: str  #: the released notebook (JSON): what the student was given
    limits: Limits = field(default_factory=Limits)
    run_slow: bool = False  #: also run the instructor's cells tagged ``slow``
    withheld: tuple[str, ...] = ()  #: ``course`` modules not importable while this is graded
    require_isolation: bool = False  #: a worker without full isolation must refuse this job
    timestamp: str | None = None  #: the submission's timestamp (written by the instructor's side)
    attempt: int = 0  #: how many workers died holding this job before
    warm_start: bool = True  #: start its kernel from the slot's fork server (where warm start works)

    @property
    def key(self) -> str:
        """Unique within a batch: one student's one notebook."""
        return f"{self.student}/{self.notebook}"

    @property
    def digest(self) -> str:
        """sha256 of the submitted bytes (a resumed batch regrades a file that changed)."""
        return hashlib.sha256(self.submission).hexdigest()


@dataclass
class TestOutcome:
    """One test cell's result."""

    grade_id: str
    points: float
    score: float
    ran: bool
    error: str = ""
    message: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass
class Result:
    """One graded notebook: what the single writer stores."""

    student: str
    assignment: str
    notebook: str
    status: str
    score: float = 0.0
    max_score: float = 0.0
    tests: list[TestOutcome] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  #: "kind: text"
    no_response: list[str] = field(default_factory=list)  #: solution cells left as released
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  #: seconds per grading step and slowest cells
    worker: str = ""  #: which worker graded it (host, pid)
    started: str = ""  #: how its kernel started: "warm" (fork server), "cold", "cold (why not warm)"
    digest: str = ""  #: sha256 of the graded submission
    run: str = ""  #: the batch run that wrote it (``--resume`` continues a run)
    autograded: str | None = None  #: the executed notebook (JSON), guards removed

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Result":
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        kw["tests"] = [TestOutcome(**t) for t in d.get("tests", [])]
        return cls(**kw)

    def record(self) -> dict:
        """The status record: everything but the notebook."""
        d = self.to_dict()
        d.pop("autograded")
        return d


Outcome = Result  #: the name used before jobs and results were split out
