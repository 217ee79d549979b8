"""``autograde``: a class's submissions, in parallel, with one writer.

Worker processes (default: one per core) each grade one submission at a time
in a scratch folder of its own (:func:`autograder.grading.grade_submission`);
they return plain results and never open the gradebook. This process is the
single writer: it stores the master cells once (nbgrader's ``SaveCells``),
then for each finished submission writes the autograded notebook, the grades
(nbgrader's gradebook API) and a status record in ``grading/<assignment>/``,
and moves the progress bar. A submission that breaks anything is recorded
with its status and the batch goes on. Re-running is idempotent: the same
files and rows are rewritten, the submitted files are only ever read.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import SaveCells

from . import isolate
from .grading import CRASHED, MISSING, TAMPERED, Outcome, TestOutcome, grade_submission
from .notebooks import is_test_cell, nbgrader_meta
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


def sync_master(course: Course, assignment: str) -> dict[str, str]:
    """Store each notebook's master cells in the gradebook; return name -> master JSON."""
    masters = {}
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_assignment(assignment)
    for nb_path in course.release_notebooks(assignment):
        master = course.master(assignment, nb_path.name)
        res = {"nbgrader": {"notebook": nb_path.stem, "assignment": assignment, "db_url": course.db_url}}
        SaveCells().preprocess(master, res)
        masters[nb_path.name] = (nbformat.writes(master), nb_path.read_text(encoding="utf-8"))
    return masters


_SLOT: dict = {}


def _init_worker(slots) -> None:
    _SLOT["n"] = slots.get()
    _SLOT["uid"], _SLOT["lock"] = isolate.claim_uid()  # held for the worker's life


def _work(job: dict) -> dict:
    n = _SLOT.get("n", 0)
    job = dict(job, scratch=str(Path(job["scratch"]) / f"w{n}"),
               log=str(Path(job["scratch"]) / f"kernel-w{n}.log"))
    if job["sandbox"]["uid"] is not None:
        job["sandbox"] = dict(job["sandbox"], uid=_SLOT["uid"])
    return grade_submission(job)


def _missing(student: str, assignment: str, notebook: str, master: str, why: str) -> dict:
    nb = nbformat.reads(master, as_version=4)
    tests = [TestOutcome(nbgrader_meta(c)["grade_id"], float(nbgrader_meta(c).get("points", 0)), 0.0, False,
                         "missing", why) for c in nb.cells if is_test_cell(c)]
    return asdict(Outcome(student, assignment, notebook, MISSING, 0.0, sum(t.points for t in tests), tests,
                          [f"note: {why}"]))


def write_result(course: Course, gb: Gradebook, res: dict, timestamp: str | None) -> None:
    """The single writer: autograded notebook, gradebook rows, status record."""
    with warnings.catch_warnings():  # nbgrader 0.9 + SQLAlchemy 2 warn about its own autoflush
        warnings.simplefilter("ignore")
        _write_result(course, gb, res, timestamp)


def _write_result(course: Course, gb: Gradebook, res: dict, timestamp: str | None) -> None:
    student, assignment, notebook = res["student"], res["assignment"], res["notebook"]
    stem = Path(notebook).stem
    gb.update_or_create_student(student)
    kw = {"timestamp": timestamp} if timestamp else {}
    gb.update_or_create_submission(assignment, student, **kw)
    hostile = res["status"] == TAMPERED and any(f.startswith("hostile") for f in res["flags"])
    review = any(f.startswith("review") for f in res["flags"])  # a suspicion: the score stands, a look is asked
    for t in res["tests"]:
        try:
            g = gb.find_grade(t["grade_id"], stem, assignment, student)
        except MissingEntry:
            continue
        g.auto_score = t["score"]
        g.needs_manual_grade = hostile or review or g.manual_score is not None
    nb = sanitize_outputs(nbformat.reads(res["autograded"], as_version=4)) if res.get("autograded") else None
    for cell in (nb.cells if nb else []):
        m = nbgrader_meta(cell)
        if m.get("solution"):
            try:
                c = gb.find_comment(m["grade_id"], stem, assignment, student)
                c.auto_comment = "No response." if m["grade_id"] in res["no_response"] else None
            except MissingEntry:
                pass
    gb.db.commit()
    dest = course.root / "autograded" / student / assignment
    if nb is not None:
        dest.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest / notebook)
        if timestamp:
            (dest / "timestamp.txt").write_text(timestamp)
    elif (dest / notebook).exists():
        (dest / notebook).unlink()  # a stale result of an earlier run must not be fed back
    rec = {k: v for k, v in res.items() if k != "autograded"}
    path = course.status_path(assignment, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rec, indent=1))


def autograde(root: Path | str, assignment: str, *, workers: int | None = None,
              limits: isolate.Limits | None = None, students: list[str] | None = None,
              progress: bool = True, require_isolation: bool = False,
              run_slow: bool = False) -> tuple[list[dict], isolate.Sandbox]:
    """Grade every submission of ``assignment``; return the results and the sandbox in force.
    ``run_slow``: also run the instructor's cells tagged ``slow`` (skipped by default: by the
    course's authoring rule no test needs them)."""
    from tqdm import tqdm

    course = Course(root)
    limits = limits or isolate.Limits()
    workers = workers or os.cpu_count() or 1
    masters = sync_master(course, assignment)
    sandbox = isolate.probe(course.root, limits)
    say = (lambda s: tqdm.write(s, file=sys.stderr)) if progress else (lambda s: None)
    say(f"isolation: {sandbox.summary()}")
    if require_isolation and "UNAVAILABLE" in sandbox.summary():
        raise RuntimeError("an isolation mechanism is unavailable (see above); not grading")
    info = course.root / "grading" / assignment / "_batch.json"
    info.parent.mkdir(parents=True, exist_ok=True)
    info.write_text(json.dumps({"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "isolation": sandbox.mechanisms,
                                "limits": asdict(limits), "workers": workers}, indent=1))
    scratch_root = Path(tempfile.mkdtemp(prefix="autograde-"))
    hide = isolate.hidden_paths(course.root, scratch_root)
    jobs, results = [], []
    for student in students or course.students(assignment):
        folder = course.root / "submitted" / student / assignment
        ts_file = folder / "timestamp.txt"
        ts = ts_file.read_text().strip() if ts_file.is_file() else None
        for name, (master, given) in masters.items():
            path = folder / name
            if not path.is_file():
                why = "no submission" if not folder.is_dir() else f"no {name} in the submission"
                results.append((_missing(student, assignment, name, master, why), ts))
                continue
            jobs.append(({"student": student, "assignment": assignment, "notebook": name, "path": str(path),
                          "master": master, "release": given, "scratch": str(scratch_root), "limits": asdict(limits),
                          "sandbox": {"namespaces": sandbox.namespaces, "uid": sandbox.uid},
                          "hide": hide, "run_slow": run_slow}, ts))
    bar = tqdm(total=len(jobs) + len(results), desc=f"autograde {assignment}", unit="nb",
               disable=not progress, file=sys.stderr)
    done: list[dict] = []

    def record(gb: Gradebook, res: dict, ts: str | None) -> None:
        write_result(course, gb, res, ts)
        done.append(res)
        bar.update(1)
        flags = f"  [{'; '.join(res['flags'])[:150]}]" if res["flags"] else ""
        say(f"  {res['student']:<20} {res['status']:<10} {res['score']:g}/{res['max_score']:g}{flags}")

    def failed(job: dict, why: str) -> dict:
        res = _missing(job["student"], assignment, job["notebook"], job["master"], why)
        res["status"] = CRASHED
        return res

    try:
        with Gradebook(course.db_url) as gb:
            for res, ts in results:
                record(gb, res, ts)
        pending = list(jobs)
        while pending:  # a worker killed from outside breaks the pool: restart it, retry once
            # fork: workers start at once with everything imported; they are forked before the
            # gradebook is opened, and never touch it
            ctx = mp.get_context("fork")
            slots = ctx.Queue()
            for n in range(workers):
                slots.put(n)
            retry = []
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                     initargs=(slots,)) as pool:
                futs = {pool.submit(_work, job): (job, ts) for job, ts in pending}
                with Gradebook(course.db_url) as gb:
                    for fut in as_completed(futs):
                        job, ts = futs[fut]
                        try:
                            res = fut.result()
                        except BrokenProcessPool:
                            if not job.get("_retried"):
                                retry.append((dict(job, _retried=True), ts))
                                continue
                            res = failed(job, "the grading worker died twice on this submission")
                        except Exception as e:  # noqa: BLE001  (a grader bug must not stop the class)
                            res = failed(job, f"grader error: {type(e).__name__}: {e}")
                        record(gb, res, ts)
            pending = retry
    finally:
        bar.close()
        shutil.rmtree(scratch_root, ignore_errors=True)
    return done, sandbox
