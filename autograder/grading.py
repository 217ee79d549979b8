"""Grade one submission in its sandbox: the worker's side of ``autograde``.

:func:`grade_submission` takes a job (plain data: paths, the master notebook,
limits) and returns a :class:`Outcome` (plain data too); it never touches the
gradebook, which only the batch's single writer does (:mod:`autograder.batch`).

Steps: read the submitted file (never written: the kernel gets a copy in its
scratch folder), rebuild it on the master (:func:`autograder.sanitize.sanitize`),
scan the student's code, add the guard cells (:mod:`autograder.guard`), run
it in a sandboxed kernel (:mod:`autograder.isolate`) with a per-cell and a
per-submission time limit and a cap on output, then score each test cell the
way nbgrader does, except that a value printed by a test cell never earns
partial credit.

Status, in order of precedence: ``malformed`` (not a notebook), ``tampered``
(hostile code: score withheld; or structure changed: graded on restored
tests), ``crashed`` (kernel died, memory or process limit), ``timed out``,
``graded``. ``missing`` is the batch's (no file at all).
"""
from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils as nbu

from . import guard, isolate
from .notebooks import is_test_cell, nbgrader_meta
from .sanitize import HOSTILE, NOTE, STRUCTURE, Flag, names_loaded, sanitize, scan

try:
    from course.checks import MISCONCEPTION_TAG
except ImportError:  # pragma: no cover
    MISCONCEPTION_TAG = re.compile(r"Misconception \[([a-z0-9][a-z0-9-]*)\]")

GRADED, TIMED_OUT, CRASHED, MALFORMED, TAMPERED, MISSING = (
    "graded", "timed out", "crashed", "malformed", "tampered", "missing")
STATUSES = (GRADED, TIMED_OUT, CRASHED, MALFORMED, TAMPERED, MISSING)
GUARD_META = "autograder_guard"


@dataclass
class TestOutcome:
    grade_id: str
    points: float
    score: float
    ran: bool
    error: str = ""
    message: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass
class Outcome:
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
    phases: dict = field(default_factory=dict)  #: seconds of the slowest steps (kernel start, cells)
    autograded: str | None = None  #: the executed notebook (JSON), guards removed

    def to_dict(self) -> dict:
        return asdict(self)


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel through :mod:`autograder.isolate`, over Unix sockets in the scratch folder."""

    def format_kernel_cmd(self, extra_arguments=None):
        # ipykernel 7's threads that copy fd-level output (C libraries, subprocesses) into the
        # notebook now and then leave a cell without a reply until its time limit (seen here as
        # one-minute stalls, and in plain nbgrader as two-minute ones): the grader does not need
        # that output, which goes to the kernel's log instead
        cmd = super().format_kernel_cmd(extra_arguments) + ["--IPKernelApp.capture_fd_output=False"]
        return self.wrap_fn(cmd)


class GradingClient(NotebookClient):
    """nbclient with an output cap and a record of cells that hit the per-cell timeout."""

    def __init__(self, *a, output_bytes: int, **kw):
        super().__init__(*a, **kw)
        self.output_bytes = output_bytes
        self.used: dict[int, int] = {}
        self.flooded: set[int] = set()
        self.timed_out: set[int] = set()
        self.current = -1
        self.phases: dict[str, float] = {}

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        self.current = cell_index
        t = time.monotonic()
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            self.phases[f"cell {cell_index}"] = time.monotonic() - t

    async def async_start_new_kernel(self, **kwargs):
        t = time.monotonic()
        await super().async_start_new_kernel(**kwargs)
        self.phases["kernel start"] = time.monotonic() - t

    async def async_start_new_kernel_client(self):
        t = time.monotonic()
        kc = await super().async_start_new_kernel_client()
        self.phases["kernel ready"] = time.monotonic() - t
        return kc

    def output(self, outs, msg, display_id, cell_index):
        size = len(json.dumps(msg.get("content", {}), default=str))
        self.used[cell_index] = self.used.get(cell_index, 0) + size
        if self.used[cell_index] > self.output_bytes:
            if cell_index not in self.flooded:
                self.flooded.add(cell_index)
                outs.append(nbformat.v4.new_output("stream", name="stdout",
                                                   text="\n[autograder: output cut here: too much output]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out.add(self.current)
        return await super()._async_handle_timeout(timeout, cell)


def _defined_names(source: str) -> set[str]:
    """Names a cell binds: assignments, loop targets, defs, classes, imports."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in n.names)
    return names


def _skippable(nb: NotebookNode, slow: set[str]) -> set[int]:
    """Indices of the instructor's unchanged ``slow`` cells that no later cell needs.

    A test cell never is; a slow cell is needed when a name it binds appears as a word in
    a later cell that runs (read directly or as ``globals()["name"]``), so a test of the
    training accuracy still gets its training run."""
    skip: set[int] = set()
    later = ""
    for i in range(len(nb.cells) - 1, -1, -1):
        cell = nb.cells[i]
        if cell.cell_type != "code":
            continue
        if cell.source in slow and not is_test_cell(cell) and not any(
                re.search(rf"\b{re.escape(name)}\b", later) for name in _defined_names(cell.source)):
            skip.add(i)
            continue
        later += "\n" + cell.source
    return skip


def _run_plan(nb: NotebookNode, given: NotebookNode | None = None,
              run_slow: bool = True) -> tuple[NotebookNode, dict[int, str]]:
    """The notebook to execute: setup cell first, a guard before each test cell. Unless
    ``run_slow``, the instructor's cells tagged ``slow`` (widgets, training, plots) are left out
    when the student left them as released and no later cell needs what they define."""
    run = nbformat.v4.new_notebook(metadata=nb.metadata)
    nonces: dict[int, str] = {}
    run.cells.append(nbformat.v4.new_code_cell(guard.setup_source(), metadata={GUARD_META: "setup"}))
    slow = {c.source for c in (given.cells if given is not None else [])
            if c.cell_type == "code" and "slow" in c.get("metadata", {}).get("tags", [])}
    skip = set() if run_slow else _skippable(nb, slow)
    for i, cell in enumerate(nb.cells):
        if i in skip:
            continue
        if is_test_cell(cell):
            src, nonce = guard.guard_source(names_loaded(cell.source))
            run.cells.append(nbformat.v4.new_code_cell(src, metadata={GUARD_META: nonce}))
            nonces[len(run.cells) - 1] = nonce
        run.cells.append(cell)
    return run, nonces


def _execute(nb: NotebookNode, scratch: Path, job: dict) -> tuple[GradingClient, str | None]:
    """Run ``nb`` in a sandboxed kernel; returns the client and what stopped it early, if anything."""
    limits = isolate.Limits(**job["limits"])
    sandbox = isolate.Sandbox(**job["sandbox"])
    km = SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(scratch / "conn" / "k"))
    km.connection_file = str(scratch / "conn" / "kernel.json")
    km.wrap_fn = lambda cmd: isolate.kernel_argv(scratch, cmd, limits, sandbox, job["hide"])
    km.write_connection_file()
    isolate.prepare_scratch(scratch, sandbox)
    client = GradingClient(nb, km=km, timeout=limits.cell_timeout, startup_timeout=60, allow_errors=True,
                           interrupt_on_timeout=True, kernel_name="python3", record_timing=False,
                           output_bytes=limits.output_bytes,
                           error_on_timeout={"ename": "CellTimeoutError",
                                             "evalue": f"cell ran past the {limits.cell_timeout} s limit",
                                             "traceback": []})
    stop: str | None = None

    log = open(job["log"], "wb")

    async def go():
        await client.async_execute(env=dict(os.environ, PYTHONPATH=str(isolate.ROOT)),
                                   stdout=subprocess.DEVNULL, stderr=log)

    loop = asyncio.new_event_loop()
    task = loop.create_task(go())
    expired = []

    def expire() -> None:  # nbclient reads a cancellation as a dead kernel: remember why
        expired.append(True)
        task.cancel()

    loop.call_later(limits.timeout, expire)
    try:
        loop.run_until_complete(task)
    except (asyncio.CancelledError, DeadKernelError):
        stop = "timeout" if expired else "dead"
    except Exception as e:  # noqa: BLE001  (a kernel that would not start, a broken channel)
        stop = "timeout" if expired else f"error: {type(e).__name__}: {e}"[:300]
    finally:
        try:
            if km.has_kernel:
                loop.run_until_complete(km.shutdown_kernel(now=True))
        except Exception:  # noqa: BLE001
            pass
        try:
            if km.provisioner and km.provisioner.process:
                km.provisioner.process.kill()  # the wrapper: its death takes the namespace down
        except Exception:  # noqa: BLE001
            pass
        loop.close()
        log.close()
        isolate.reap(sandbox.uid)
    if stop and stop.startswith("error"):
        tail = Path(job["log"]).read_text(errors="replace").strip().splitlines()[-3:]
        stop += " | " + " / ".join(tail)
    return client, stop


_IGNORE: re.Pattern | None = None


def ignore_pattern() -> re.Pattern | None:
    """The course's IgnorePattern (stderr lines that must not zero a correct test)."""
    global _IGNORE
    if _IGNORE is None:
        from traitlets.config.loader import PyFileConfigLoader
        try:
            cfg = PyFileConfigLoader("nbgrader_config.py", path=str(isolate.ROOT / "autograder")).load_config()
            _IGNORE = re.compile(cfg.IgnorePattern.pattern) if cfg.IgnorePattern.get("enabled", False) else None
        except Exception:  # noqa: BLE001
            _IGNORE = re.compile(r"Warning")
    return _IGNORE


def score_cell(cell: NotebookNode) -> tuple[float, str, str]:
    """(score, error name, message) of an executed test cell: all or nothing, like nbgrader minus
    partial credit from a printed value; stderr output that the IgnorePattern matches is dropped."""
    pat = ignore_pattern()
    kept = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream" and o.name == "stderr" and pat is not None and pat.search(o.text):
            continue  # as nbgrader's IgnorePattern: the whole stderr output goes
        kept.append(o)
    cell.outputs = kept
    points = float(nbgrader_meta(cell).get("points", 0))
    for o in kept:
        if o.output_type == "error":
            return 0.0, o.get("ename", "Error"), o.get("evalue", "")
        if o.output_type == "stream" and o.name == "stderr":
            return 0.0, "stderr", o.text[-500:]
    return points, "", ""


def grade_submission(job: dict) -> dict:
    """Grade one submission (see the module doc); returns ``Outcome.to_dict()``."""
    t0 = time.monotonic()
    out = Outcome(job["student"], job["assignment"], job["notebook"], GRADED)
    master = nbformat.reads(job["master"], as_version=4)
    given = nbformat.reads(job["release"], as_version=4)
    tests = [c for c in master.cells if is_test_cell(c)]
    out.max_score = sum(float(nbgrader_meta(c).get("points", 0)) for c in tests)
    out.tests = [TestOutcome(nbgrader_meta(c)["grade_id"], float(nbgrader_meta(c).get("points", 0)), 0.0, False)
                 for c in tests]
    raw = Path(job["path"]).read_bytes()
    try:
        student = nbformat.reads(raw.decode("utf-8"), as_version=4)
        if not isinstance(student.get("cells"), list):
            raise ValueError("no cells")
    except Exception as e:  # noqa: BLE001
        out.status = MALFORMED
        out.flags.append(f"{STRUCTURE}: not a readable notebook ({type(e).__name__}: {str(e)[:150]})")
        out.seconds = time.monotonic() - t0
        return out.to_dict()
    nb, flags = sanitize(student, master, given)
    flags += scan(nb, given)
    run, nonces = _run_plan(nb, given, run_slow=job.get("run_slow", False))
    scratch = Path(job["scratch"])
    shutil.rmtree(scratch, ignore_errors=True)
    for d in ("work", "conn", "ipython", "mpl"):
        (scratch / d).mkdir(parents=True)
    (scratch / "work" / job["notebook"]).write_bytes(raw)  # only this submission, as submitted
    t1 = time.monotonic()
    client, stop = _execute(run, scratch, job)
    out.phases = dict(sorted(client.phases.items(), key=lambda kv: -kv[1])[:4])
    out.phases["total in kernel"] = time.monotonic() - t1
    shutil.rmtree(scratch, ignore_errors=True)

    # what the guards saw
    for i, nonce in nonces.items():
        cell = run.cells[i]
        if cell.get("execution_count") is None and not cell.get("outputs"):
            continue  # never reached (the kernel died or the time ran out)
        found = guard.read_guard(cell.get("outputs", []), nonce)
        if found is None:
            flags.append(Flag(HOSTILE, "a guard cell did not run as written (a hook rewrote or skipped it)"))
        for r in found or []:
            flags.append(Flag(HOSTILE, f"runtime: {r}"))
    # scores
    by_id = {t.grade_id: t for t in out.tests}
    errors_outside = []
    for i, cell in enumerate(run.cells):
        if cell.cell_type != "code" or GUARD_META in cell.metadata:
            continue
        ran = cell.get("execution_count") is not None or bool(cell.get("outputs"))
        errs = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if is_test_cell(cell):
            t = by_id[nbgrader_meta(cell)["grade_id"]]
            t.ran = ran
            if ran:
                t.score, t.error, t.message = score_cell(cell)
                t.tags = sorted(set(MISCONCEPTION_TAG.findall(t.message)))
                if any(o.output_type == "execute_result" for o in cell.outputs):
                    flags.append(Flag(NOTE, f"{t.grade_id} ends in an expression: its value was not read as partial credit"))
            else:
                t.error, t.message = "not run", "the kernel stopped before this test"
        elif errs:
            errors_outside.append(errs[0].get("ename", ""))
        if nbu.is_solution(cell) and nbgrader_meta(cell).get("checksum") == nbu.compute_checksum(cell):
            out.no_response.append(nbgrader_meta(cell)["grade_id"])
    for i in sorted(client.flooded):
        flags.append(Flag(NOTE, f"output flood: output of cell {i} cut at {job['limits']['output_bytes']} bytes"))
    all_errors = errors_outside + [t.error for t in out.tests]
    crashed = stop == "dead" or (stop or "").startswith("error") or any(
        e in ("MemoryError", "BlockingIOError") for e in all_errors)
    if stop == "dead":
        flags.append(Flag(NOTE, "the kernel died (os._exit, a crash, or a limit); tests after that scored 0"))
    elif stop and stop.startswith("error"):
        flags.append(Flag(NOTE, f"the kernel failed: {stop}"))
    if "MemoryError" in all_errors:
        flags.append(Flag(NOTE, "hit the memory limit"))
    if "BlockingIOError" in all_errors:
        flags.append(Flag(NOTE, "hit the process limit"))
    if stop == "timeout":
        flags.append(Flag(NOTE, f"ran past the {job['limits']['timeout']} s limit per submission"))
    if client.timed_out:
        flags.append(Flag(NOTE, f"{len(client.timed_out)} cell(s) ran past the {job['limits']['cell_timeout']} s limit per cell"))

    hostile = any(f.kind == HOSTILE for f in flags)
    if hostile:
        out.status = TAMPERED
        for t in out.tests:
            t.score = 0.0
    elif crashed:
        out.status = CRASHED
    elif stop == "timeout" or client.timed_out:
        out.status = TIMED_OUT
    elif any(f.kind == STRUCTURE for f in flags):
        out.status = TAMPERED
    out.score = sum(t.score for t in out.tests)
    out.flags = [f"{f.kind}: {f.text}" for f in dict.fromkeys(flags)]
    run.cells = [c for c in run.cells if GUARD_META not in c.metadata]
    out.autograded = nbformat.writes(run)
    out.seconds = time.monotonic() - t0
    return out.to_dict()
