"""Where submissions are graded: worker slots, and the two engines that run jobs on them.

A *slot* is one grading thread of one worker process (a local pool process, or a thread of a
``dask worker``): on first use it probes its own sandbox (:func:`autograder.isolate.probe`),
claims a sandbox uid of its own for its life (:func:`autograder.isolate.claim_uid`) and makes a
scratch folder of its own; then :func:`grade` runs one :class:`~autograder.jobs.Job` in it and
returns the :class:`~autograder.jobs.Result`, tagged with the slot's name and isolation.

Engines (each yields results as they finish; the caller is the single writer):

* :func:`run_local` - a process pool forked from this process (workers start at once with
  everything imported). A worker killed from outside breaks the pool: it is restarted and the
  jobs it lost are retried once; a job lost twice is recorded ``crashed``.
* :func:`run_dask` - a Dask cluster (``tcp://HOST:PORT``, or a ``LocalCluster`` here). The
  scheduler reschedules the jobs of a worker that died on another worker; a job whose workers
  die ``allowed-failures + 1`` times comes back as ``KilledWorker`` and is recorded ``crashed``
  (the guide runs the scheduler with ``allowed-failures`` 1: twice).
"""
from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import shutil
import socket
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import isolate
from .jobs import CRASHED, Job, Result

#: the Dask resource each grading slot provides (one job at a time per slot)
ALLOWED_FAILURES = 1  #: Dask: a job may lose this many workers and still be retried


class IsolationRefused(RuntimeError):
    """This worker's sandbox lacks a mechanism and the batch requires full isolation."""


@dataclass
class Slot:
    """One grading slot: its sandbox (uid included), scratch root and name."""

    name: str
    sandbox: isolate.Sandbox
    scratch_root: Path
    lock: object = None  #: keeps the uid claimed while the slot lives
    graded: int = 0
    warm: object = None  #: this slot's fork server (:class:`autograder.warmstart.WarmStart`), where warm start works

    def workspace(self) -> "steps.Workspace":  # noqa: F821
        """This slot's scratch folder, log, sandbox and fork server."""
        from .steps import Workspace
        return Workspace(self.scratch_root / "s", self.scratch_root / "kernel.log", self.sandbox, self.warm)


_LOCAL = threading.local()
_PROBE: dict[str, isolate.Sandbox] = {}
_PROBE_LOCK = threading.Lock()


def isolation_verdict(sandbox: isolate.Sandbox) -> bool:
    """Whether every mechanism is active."""
    return all(v == "active" for v in sandbox.mechanisms.values())


def probe_here(limits: isolate.Limits | None = None) -> isolate.Sandbox:
    """This process's sandbox verdicts (probed once per process)."""
    with _PROBE_LOCK:
        if "p" not in _PROBE:
            _PROBE["p"] = isolate.probe(isolate.ROOT, limits)
        return _PROBE["p"]


def worker_name(dask_worker=None) -> str:  # noqa: ANN001
    """host:pid, after the Dask worker's address when in one."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    try:
        if dask_worker is None:
            from distributed import get_worker
            dask_worker = get_worker()
        name = f"{dask_worker.address} ({name})"
    except (ImportError, ValueError):
        pass
    return name


def slot() -> Slot:
    """This thread's slot, made on first use."""
    s = getattr(_LOCAL, "slot", None)
    if s is None:
        sb = probe_here()
        uid, lock = isolate.claim_uid()
        sandbox = isolate.Sandbox(sb.namespaces, uid if sb.uid is not None else None, dict(sb.mechanisms),
                                  sb.warm_start)
        root = Path(tempfile.mkdtemp(prefix="autograde-slot-"))
        atexit.register(shutil.rmtree, root, True)
        warm = None
        if sb.warm_start == "active":
            from .warmstart import WarmStart
            warm = WarmStart(root / "forkserver.log")
            atexit.register(warm.close)
        s = _LOCAL.slot = Slot(worker_name(), sandbox, root, lock, warm=warm)
    return s


def grade(job: Job) -> Result:
    """Grade ``job`` in this thread's slot (raises :class:`IsolationRefused` where it must)."""
    from .grading import grade_submission
    s = slot()
    if job.require_isolation and not isolation_verdict(s.sandbox):
        raise IsolationRefused(f"{s.name}: {s.sandbox.summary()}")
    res = grade_submission(job, s.workspace())
    res.worker = s.name
    s.graded += 1
    return res


def probe_worker(dask_worker=None) -> dict:  # noqa: ANN001  (client.run passes the worker)
    """Run on each Dask worker by the instructor: its name and sandbox verdicts."""
    return {"name": worker_name(dask_worker), "mechanisms": probe_here().mechanisms}


def crashed(job: Job, why: str, template: Callable[[Job], Result]) -> Result:
    """A job that could not be graded: every test 0, status crashed, the reason as a note."""
    res = template(job)
    res.status, res.flags = CRASHED, [f"note: {why}"]
    for t in res.tests:
        t.error, t.message = "crashed", why
    return res


# ------------------------------------------------------------------ local process pool
def _init_local() -> None:
    slot()


def run_local(jobs: Iterable[Job], workers: int, template: Callable[[Job], Result]) -> Iterator[Result]:
    """Grade ``jobs`` on a pool of ``workers`` forked processes; yield each result once."""
    pending = list(jobs)
    while pending:
        retry: list[Job] = []
        ctx = mp.get_context("fork")
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_local)
        try:
            futs = {pool.submit(grade, job): job for job in pending}
            for fut in as_completed(futs):
                job = futs[fut]
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    if job.attempt == 0:
                        job.attempt += 1
                        retry.append(job)
                        continue
                    yield crashed(job, "the grading worker died twice on this submission", template)
                except Exception as e:  # noqa: BLE001  (a grader bug must not stop the class)
                    yield crashed(job, f"grader error: {type(e).__name__}: {e}", template)
        finally:  # on an interrupt: drop what is queued, stop the workers now
            procs = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                p.kill()
        pending = retry


# ------------------------------------------------------------------ Dask
@dataclass
class DaskWorkers:
    """The workers a batch may use, and every worker's verdicts."""

    allowed: list[str] = field(default_factory=list)
    verdicts: dict[str, dict] = field(default_factory=dict)  #: address -> {"name", "mechanisms"}


def probe_workers(client, require_isolation: bool) -> DaskWorkers:
    """Probe the sandbox on every worker; under ``require_isolation`` only fully isolated ones
    are allowed (none allowed: an error)."""
    got = client.run(probe_worker)
    out = DaskWorkers(verdicts=got)
    for addr, v in sorted(got.items()):
        if not require_isolation or all(x == "active" for x in v["mechanisms"].values()):
            out.allowed.append(addr)
    if not out.allowed:
        raise RuntimeError("no worker has every isolation mechanism (--require-isolation): "
                           + "; ".join(f"{a}: {v['mechanisms']}" for a, v in got.items()))
    return out


def local_cluster(workers: int):
    """A Dask LocalCluster of ``workers`` single-threaded processes on this machine."""
    import dask
    from distributed import LocalCluster
    dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES})
    path = os.pathsep.join(filter(None, [str(isolate.ROOT), str(isolate.CHECKS), os.environ.get("PYTHONPATH")]))
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                        host="127.0.0.1", env={"PYTHONPATH": path})


def run_dask(client, jobs: Iterable[Job], allowed: list[str], template: Callable[[Job], Result],
             run_id: str) -> Iterator[Result]:
    """Grade ``jobs`` as tasks on the ``allowed`` workers of ``client``'s cluster; yield each result
    once, as they finish."""
    from distributed import as_completed as dask_completed
    from distributed.core import CommClosedError
    from distributed.scheduler import KilledWorker

    futs = {}
    for job in jobs:
        key = f"grade-{run_id}-{job.key}"
        futs[client.submit(grade, job, key=key, pure=False, workers=allowed, allow_other_workers=False)] = job
    try:
        for fut in dask_completed(list(futs)):
            job = futs[fut]
            try:
                yield fut.result()
            except KilledWorker:
                yield crashed(job, "the grading worker died twice on this submission", template)
            except IsolationRefused as e:
                yield crashed(job, f"refused by a worker without isolation: {e}", template)
            except (CommClosedError, OSError) as e:
                yield crashed(job, f"lost contact with the cluster: {e}", template)
            except Exception as e:  # noqa: BLE001
                yield crashed(job, f"grader error: {type(e).__name__}: {e}", template)
    finally:
        client.cancel(list(futs))


def dask_setup(worker) -> None:  # noqa: ANN001  (Dask's preload hook: ``--preload autograder.cluster``)
    """On a grading worker's start: import the grading code and probe the sandbox, so the first
    job does not pay for it and the worker's log shows its verdicts."""
    from . import grading  # noqa: F401
    sb = probe_here()
    print(f"autograder worker {worker_name(worker)}: isolation: {sb.summary()}", flush=True)
