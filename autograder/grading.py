"""Grade one submission in its sandbox: the worker's side of ``autograde``.

:func:`grade_submission` takes a :class:`~autograder.jobs.Job` (plain data: the submission's
bytes, the master notebook, the limits) and a :class:`~autograder.steps.Workspace` (this worker
slot's scratch folder and uid), runs the steps of :mod:`autograder.steps` in order, timing each,
and returns a :class:`~autograder.jobs.Result` (plain data too); it never touches the gradebook,
which only the batch's single writer does (:mod:`autograder.batch`).

Status, in order of precedence: ``malformed`` (not a notebook), ``tampered``
(hostile code: score withheld; or structure changed: graded on restored
tests), ``crashed`` (kernel died, memory or process limit), ``timed out``,
``graded``. ``missing`` is the batch's (no file at all).
"""
from __future__ import annotations

import os
import pickle
import select
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import nbformat

from . import steps
from .jobs import Job, Result, TestOutcome

# re-exported for the callers that knew them here
from .jobs import CRASHED, GRADED, MALFORMED, MISSING, STATUSES, TAMPERED, TIMED_OUT  # noqa: F401
from .steps import Workspace


class _Clock:
    """Seconds spent per step of one submission."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.phases: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        t = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = round(time.monotonic() - t, 4)

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def empty_result(job: Job, master: nbformat.NotebookNode) -> Result:
    """A result with every test of the master at 0, not run."""
    tests = [TestOutcome(t.grade_id, t.points, 0.0, False) for t in steps.master_tests(master)]
    return Result(job.student, job.assignment, job.notebook, steps.GRADED,
                  max_score=sum(t.points for t in tests), tests=tests, digest=job.digest)


@dataclass
class Prepared:
    """What the steps before the kernel produce: a plan and the flags so far, or why not."""

    plan: steps.Plan | None
    flags: list
    malformed: str = ""
    phases: dict | None = None


def prepare(job: Job, master: nbformat.NotebookNode, given: nbformat.NotebookNode) -> Prepared:
    """Parse, rebuild, scan and plan (the steps before the kernel), each timed."""
    clock = _Clock()
    with clock.step("parse"):
        parsed = steps.parse(job.submission)
    if parsed.notebook is None:
        return Prepared(None, [], parsed.error, clock.phases)
    with clock.step("rebuild"):
        rebuilt = steps.rebuild(parsed.notebook, master, given)
    with clock.step("scan"):
        flags = rebuilt.flags + steps.scan_code(rebuilt, given)
    with clock.step("plan"):
        p = steps.plan(rebuilt.notebook, given, run_slow=job.run_slow)
    return Prepared(p, flags, "", clock.phases)


def within(seconds: float, fn: Callable, *args):
    """``fn(*args)`` in a forked child that is killed after ``seconds``: ``(True, value)``, or
    ``(False, why)`` when it ran out of time or died. Student-sized input (a notebook of
    thousands of cells) can make pure-Python work slow; the limit per submission covers it."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running any cleanup of the parent's
        os.close(r)
        try:
            data = pickle.dumps((True, fn(*args)))
        except BaseException as e:  # noqa: BLE001
            data = pickle.dumps((False, f"{type(e).__name__}: {e}"[:300]))
        with os.fdopen(w, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(w)
    chunks, deadline = [], time.monotonic() + max(seconds, 0.01)
    with os.fdopen(r, "rb") as f:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([f], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return False, "timeout"
            chunk = os.read(f.fileno(), 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    os.waitpid(pid, 0)
    try:
        return pickle.loads(b"".join(chunks))
    except Exception:  # noqa: BLE001  (the child died before it finished writing)
        return False, "the grading step died"


def grade_submission(job: Job, ws: Workspace) -> Result:
    """Grade one submission (see the module doc)."""
    clock = _Clock()
    master = nbformat.reads(job.master, as_version=4)
    given = nbformat.reads(job.release, as_version=4)
    result = empty_result(job, master)
    with clock.step("prepare"):
        ok, prep = within(job.limits.timeout, prepare, job, master, given)
    if not ok:
        result.status = steps.TIMED_OUT if prep == "timeout" else steps.CRASHED
        why = (f"the grading steps before the kernel (parse, rebuild, scan) ran past the {job.limits.timeout} s "
               "limit per submission" if prep == "timeout" else f"the grading steps before the kernel failed: {prep}")
        result.flags = [f"note: {why}"]
    elif prep.plan is None:
        clock.phases.update(prep.phases)
        steps.malformed(result, prep.malformed)
    else:
        clock.phases.update(prep.phases)
        p, flags = prep.plan, prep.flags
        with clock.step("execute"):
            ex = steps.execute(p, ws, job, timeout=job.limits.timeout - clock.elapsed())
        with clock.step("read outputs"):
            obs = steps.read_outputs(p, ex, master)
        with clock.step("score"):
            result.tests, judged = steps.score(obs, ex, master)
        with clock.step("set status"):
            more, crashed = steps.run_flags(ex, obs, job.limits)
            timed_out = ex.run.stop == "timeout" or bool(ex.run.timed_out)
            steps.set_status(result, flags + obs.flags + judged + more, crashed, timed_out)
            result.no_response = obs.no_response
            result.autograded = steps.autograded_notebook(p, ex)
            result.started = ex.run.started
        slowest = sorted(((k, v) for k, v in ex.run.phases.items() if k.startswith("cell")), key=lambda kv: -kv[1])
        clock.phases.update({k: round(v, 4) for k, v in ex.run.phases.items() if k.startswith("kernel")})
        clock.phases.update({k: round(v, 4) for k, v in slowest[:3]})
    result.phases = clock.phases
    result.seconds = clock.elapsed()
    return result
