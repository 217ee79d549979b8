"""``autograde``: a class's submissions, in parallel, with one writer.

This process reads each submitted file into a :class:`~autograder.jobs.Job` (the bytes, the
master notebook, the limits) and hands the jobs to an engine of :mod:`autograder.cluster`: a
local process pool (default: one worker per core) or a Dask cluster (``--scheduler``). Workers
grade each job in a scratch folder of their own and return a plain
:class:`~autograder.jobs.Result`; they never open the gradebook. This process is the single
writer: it stores the master cells once (nbgrader's ``SaveCells``), then for each finished
submission writes the grades (nbgrader's gradebook API), the autograded notebook and, last, a
status record in ``grading/<assignment>/``, and moves the progress bar. A submission that
breaks anything is recorded with its status and the batch goes on; each is written once per run.

A run is journalled in ``grading/<assignment>/_run.json`` (its id and its jobs); every status
record names the run and the sha256 of the file it graded. ``resume=True`` continues the last
run: only the jobs without a record of that run (for the same file) are graded, so a batch
interrupted from this side (Ctrl-C, the process killed) ends as an uninterrupted one would.
Re-running is idempotent: the same files and rows are rewritten, the submitted files are only
ever read.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import SaveCells

from . import cluster, config, isolate
from .grading import empty_result
from .jobs import MISSING, TAMPERED, Job, Result
from .notebooks import nbgrader_meta
from .safe_html import sanitize_outputs
from .sanitize import master_notebook

class Course:
    """Where things are in an nbgrader course folder."""

    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        self.db_url = f"sqlite:///{self.root / 'gradebook.db'}"

    def release_notebooks(self, assignment: str) -> list[Path]:
        nbs = sorted((self.root / "release" / assignment).glob("*.ipynb"))
        if not nbs:
            raise FileNotFoundError(f"no release/{assignment}/*.ipynb: run ./run grade release {assignment}")
        return nbs

    def master(self, assignment: str, name: str) -> nbformat.NotebookNode:
        release = nbformat.read(self.root / "release" / assignment / name, as_version=4)
        source = nbformat.read(self.root / "source" / assignment / name, as_version=4)
        return master_notebook(release, source)

    def students(self, assignment: str) -> list[str]:
        sub = self.root / "submitted"
        found = {p.parent.name for p in sub.glob(f"*/{assignment}")} if sub.is_dir() else set()
        with Gradebook(self.db_url) as gb:
            found |= {s.id for s in gb.students}
        return sorted(found)

    def status_path(self, assignment: str, student: str) -> Path:
        return self.root / "grading" / assignment / f"{student}.json"


def sync_master(course: Course, assignment: str) -> dict[str, tuple[str, str]]:
    """Store each notebook's master cells in the gradebook; return name -> (master, release) JSON."""
    masters = {}
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_assignment(assignment)
    for nb_path in course.release_notebooks(assignment):
        master = course.master(assignment, nb_path.name)
        res = {"nbgrader": {"notebook": nb_path.stem, "assignment": assignment, "db_url": course.db_url}}
        SaveCells().preprocess(master, res)
        masters[nb_path.name] = (nbformat.writes(master), nb_path.read_text(encoding="utf-8"))
    return masters


def job_template(job: Job) -> Result:
    """A result of ``job`` with every test at 0 (for a job that could not be graded)."""
    return empty_result(job, nbformat.reads(job.master, as_version=4))


def missing_result(student: str, assignment: str, notebook: str, master: str, why: str) -> Result:
    """No file to grade: every test 0, status missing."""
    job = Job(student, assignment, notebook, b"", master, master)
    res = job_template(job)
    res.status, res.flags, res.digest = MISSING, [f"note: {why}"], ""
    for t in res.tests:
        t.error, t.message = "missing", why
    return res


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_result(course: Course, gb: Gradebook, res: Result, timestamp: str | None) -> None:
    """The single writer: gradebook rows, autograded notebook, and last the status record."""
    with warnings.catch_warnings():  # nbgrader 0.9 + SQLAlchemy 2 warn about its own autoflush
        warnings.simplefilter("ignore")
        _write_grades(gb, res, timestamp)
    dest = course.root / "autograded" / res.student / res.assignment
    if res.autograded:
        dest.mkdir(parents=True, exist_ok=True)
        # the formgrader shows this notebook inside the instructor's Jupyter: nothing in it may run
        safe = sanitize_outputs(nbformat.reads(res.autograded, as_version=4))
        _atomic_write(dest / res.notebook, nbformat.writes(safe))
        if timestamp:
            (dest / "timestamp.txt").write_text(timestamp)
    elif (dest / res.notebook).exists():
        (dest / res.notebook).unlink()  # a stale result of an earlier run must not be fed back
    path = course.status_path(res.assignment, res.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, json.dumps(res.record(), indent=1))


def _write_grades(gb: Gradebook, res: Result, timestamp: str | None) -> None:
    stem = Path(res.notebook).stem
    gb.update_or_create_student(res.student)
    kw = {"timestamp": timestamp} if timestamp else {}
    gb.update_or_create_submission(res.assignment, res.student, **kw)
    hostile = res.status == TAMPERED and any(f.startswith("hostile") for f in res.flags)
    review = any(f.startswith("review") for f in res.flags)  # a suspicion: the score stands, a look is asked
    for t in res.tests:
        try:
            g = gb.find_grade(t.grade_id, stem, res.assignment, res.student)
        except MissingEntry:
            continue
        g.auto_score = t.score
        g.needs_manual_grade = hostile or review or g.manual_score is not None
    nb = nbformat.reads(res.autograded, as_version=4) if res.autograded else None
    for cell in (nb.cells if nb else []):
        m = nbgrader_meta(cell)
        if m.get("solution"):
            try:
                c = gb.find_comment(m["grade_id"], stem, res.assignment, res.student)
                c.auto_comment = "No response." if m["grade_id"] in res.no_response else None
            except MissingEntry:
                pass
    gb.db.commit()


# ------------------------------------------------------------------ the run journal
@dataclass
class Journal:
    """One run of a batch: its id and its jobs (``grading/<assignment>/_run.json``)."""

    run: str
    jobs: list[str] = field(default_factory=list)  #: job keys
    finished: bool = False

    @staticmethod
    def path(course: Course, assignment: str) -> Path:
        return course.root / "grading" / assignment / "_run.json"

    @classmethod
    def load(cls, course: Course, assignment: str) -> "Journal | None":
        p = cls.path(course, assignment)
        return cls(**json.loads(p.read_text())) if p.is_file() else None

    def save(self, course: Course, assignment: str) -> None:
        p = self.path(course, assignment)
        p.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(p, json.dumps(asdict(self), indent=1))


def already_done(course: Course, job: Job, run: str) -> bool:
    """Whether this run already wrote ``job``'s record, for the same submitted file."""
    p = course.status_path(job.assignment, job.student)
    try:
        rec = json.loads(p.read_text())
    except (OSError, ValueError):
        return False
    return rec.get("run") == run and rec.get("digest") == job.digest and rec.get("notebook") == job.notebook


# ------------------------------------------------------------------ the batch
@dataclass
class Batch:
    """What a batch grades: jobs for the files found, results for the files missing."""

    jobs: list[Job] = field(default_factory=list)
    missing: list[tuple[Result, str | None]] = field(default_factory=list)


def plan_batch(course: Course, assignment: str, masters: dict[str, tuple[str, str]], students: list[str],
               limits: isolate.Limits, *, run_slow: bool, require_isolation: bool, warm_start: bool = True) -> Batch:
    """A job per submitted notebook (its bytes read now), a ``missing`` result per absent one."""
    withheld = config.load(course.root).assignment(assignment).withheld
    out = Batch()
    for student in students:
        folder = course.root / "submitted" / student / assignment
        ts_file = folder / "timestamp.txt"
        ts = ts_file.read_text().strip() if ts_file.is_file() else None
        for name, (master, given) in masters.items():
            path = folder / name
            if not path.is_file():
                why = "no submission" if not folder.is_dir() else f"no {name} in the submission"
                out.missing.append((missing_result(student, assignment, name, master, why), ts))
                continue
            out.jobs.append(Job(student, assignment, name, path.read_bytes(), master, given, limits,
                                run_slow=run_slow, withheld=withheld, require_isolation=require_isolation,
                                timestamp=ts, warm_start=warm_start))
    return out


@dataclass
class Engine:
    """How a batch reaches its workers: ``run(jobs)`` yields results; ``isolation`` per worker."""

    run: Callable[[list[Job]], Iterator[Result]]
    isolation: dict[str, dict[str, str]]  #: worker -> mechanism -> verdict
    describe: str
    close: Callable[[], None] | None = None


def weakest(verdicts: dict[str, dict[str, str]]) -> isolate.Sandbox:
    """One sandbox summary for a batch: per mechanism, the first worker's that is not active."""
    mech: dict[str, str] = {}
    for v in verdicts.values():
        for k, x in v.items():
            if k not in mech or (mech[k] == "active" and x != "active"):
                mech[k] = x
    return isolate.Sandbox(mechanisms=mech)


def local_engine(course: Course, limits: isolate.Limits, workers: int, require_isolation: bool) -> Engine:
    """The embedded process pool; the sandbox is probed here once (the workers are forks)."""
    sandbox = cluster.probe_here(limits)
    if require_isolation and not cluster.isolation_verdict(sandbox):
        raise RuntimeError(f"an isolation mechanism is unavailable ({sandbox.summary()}); not grading")
    return Engine(lambda jobs: cluster.run_local(jobs, workers, job_template),
                  {"local": dict(sandbox.mechanisms)}, f"{workers} local worker process(es)")


def dask_engine(scheduler: str | None, workers: int, require_isolation: bool, run_id: str) -> Engine:
    """A Dask cluster at ``scheduler``, else a LocalCluster of ``workers`` processes here."""
    from distributed import Client
    local = None
    if scheduler is None:
        local = cluster.local_cluster(workers)
        client = Client(local)
    else:
        client = Client(scheduler, timeout="30s")
    try:
        found = cluster.probe_workers(client, require_isolation)
    except BaseException:
        client.close()
        if local is not None:
            local.close()
        raise
    isolation = {v["name"]: v["mechanisms"] for a, v in found.verdicts.items()}
    refused = sorted(set(found.verdicts) - set(found.allowed))

    def close() -> None:
        client.close()
        if local is not None:
            local.close()

    where = scheduler or "a local Dask cluster"
    text = f"{len(found.allowed)} Dask worker(s) at {where}" + (f"; refused (no isolation): {refused}" if refused else "")
    return Engine(lambda jobs: cluster.run_dask(client, jobs, found.allowed, job_template, run_id),
                  isolation, text, close)


def autograde(root: Path | str, assignment: str, *, workers: int | None = None,
              limits: isolate.Limits | None = None, students: list[str] | None = None,
              progress: bool = True, require_isolation: bool = False, run_slow: bool = False,
              scheduler: str | None = None, engine: str = "pool",
              resume: bool = False, warm_start: bool = True) -> tuple[list[Result], isolate.Sandbox]:
    """Grade every submission of ``assignment``; return the results written and the sandbox in
    force (per mechanism, the weakest worker's verdict).

    ``scheduler``: a Dask scheduler's address (``tcp://HOST:PORT``); else ``engine`` ``"pool"``
    (a local process pool) or ``"dask"`` (a local Dask cluster). ``resume``: continue the last
    run, grading only what it has not written. ``run_slow``: also run the instructor's cells
    tagged ``slow`` (skipped by default: by the course's authoring rule no test needs them).
    ``warm_start``: start kernels from each slot's fork server where it works (else every
    kernel starts cold, a new interpreter: :mod:`autograder.forkserver`)."""
    from tqdm import tqdm

    course = Course(root)
    limits = limits or isolate.Limits()
    workers = workers or os.cpu_count() or 1
    masters = sync_master(course, assignment)
    batch = plan_batch(course, assignment, masters, students or course.students(assignment), limits,
                       run_slow=run_slow, require_isolation=require_isolation, warm_start=warm_start)
    journal = Journal.load(course, assignment) if resume else None
    keys = [j.key for j in batch.jobs]
    if journal is None or journal.jobs != keys:
        journal = Journal(time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3), keys)
    todo = [j for j in batch.jobs if not (resume and already_done(course, j, journal.run))]
    journal.finished = False
    journal.save(course, assignment)
    say = (lambda s: tqdm.write(s, file=sys.stderr)) if progress else (lambda s: None)
    eng = (dask_engine(scheduler, workers, require_isolation, journal.run)
           if scheduler or engine == "dask" else local_engine(course, limits, workers, require_isolation))
    sandbox = weakest(eng.isolation)
    say(f"grading on {eng.describe}; isolation: {sandbox.summary()}")
    if resume:
        say(f"resuming run {journal.run}: {len(todo)} of {len(batch.jobs)} notebook(s) left")
    info = course.root / "grading" / assignment / "_batch.json"
    _atomic_write(info, json.dumps({"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "run": journal.run,
                                    "isolation": sandbox.mechanisms, "workers": eng.isolation,
                                    "engine": eng.describe, "limits": asdict(limits)}, indent=1))
    stamps = {j.key: j.timestamp for j in batch.jobs}
    bar = tqdm(total=len(todo) + len(batch.missing), desc=f"autograde {assignment}", unit="nb",
               disable=not progress, file=sys.stderr)
    done: list[Result] = []
    written: set[str] = set()

    def record(gb: Gradebook, res: Result, ts: str | None) -> None:
        key = f"{res.student}/{res.notebook}"
        if key in written:  # each submission once per run, whatever the engine delivers
            return
        written.add(key)
        res.run = journal.run
        write_result(course, gb, res, ts)
        done.append(res)
        bar.update(1)
        flags = f"  [{'; '.join(res.flags)[:150]}]" if res.flags else ""
        say(f"  {res.student:<20} {res.status:<10} {res.score:g}/{res.max_score:g}{flags}")

    try:
        with Gradebook(course.db_url) as gb:
            for res, ts in batch.missing:
                record(gb, res, ts)
            results: Iterator[Result] = eng.run(todo)
            for res in results:
                record(gb, res, stamps.get(f"{res.student}/{res.notebook}"))
        journal.finished = True
        journal.save(course, assignment)
    finally:
        bar.close()
        if eng.close:
            eng.close()
    return done, sandbox
