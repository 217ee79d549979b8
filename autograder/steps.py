"""The steps of grading one submission, in order; each a function with typed inputs and outputs.

:func:`autograder.grading.grade_submission` runs them one after the other:

1. :func:`parse` the submitted bytes (never written back: the kernel gets a copy);
2. :func:`rebuild` it on the master (:func:`autograder.sanitize.sanitize`): locked and test
   cells restored, structure changes flagged;
3. :func:`scan_code` the student's own code for known attacks;
4. :func:`plan` what the kernel runs: the guard cells (:mod:`autograder.guard`) around the
   tests, the instructor's unchanged slow cells left out;
5. :func:`execute` the plan in a sandboxed kernel (:mod:`autograder.isolate`, through
   :func:`autograder.notebooks.execute`), with the checks' answers recorded to a file;
6. :func:`read_outputs`: what each test cell and guard showed;
7. :func:`score` the tests: the trusted verdict, each test cell replayed on the recorded answers
   outside the sandbox (:mod:`autograder.verdict`);
8. :func:`set_status` from the flags and how the run ended.
"""
from __future__ import annotations

import ast
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbformat import NotebookNode
from nbgrader import utils as nbu

from . import guard, isolate, notebooks, verdict, warmstart
from .jobs import CRASHED, GRADED, MALFORMED, TAMPERED, TIMED_OUT, Job, Result, TestOutcome
from .notebooks import Executed, cell_failure, cell_ran, is_test_cell, nbgrader_meta
from .sanitize import HOSTILE, NOTE, REVIEW, STRUCTURE, Flag, names_loaded, sanitize, scan

try:
    from course.checks import MISCONCEPTION_TAG
except ImportError:  # pragma: no cover
    MISCONCEPTION_TAG = re.compile(r"Misconception \[([a-z0-9][a-z0-9-]*)\]")

GUARD_META = "autograder_guard"
ANSWERS_FILE = "answers.jsonl"  #: in each scratch folder; ``COURSE_ANSWERS`` names it in the kernel
ANSWERS_CAP = 16 << 20  #: bytes of recorded answers read back


# ------------------------------------------------------------------ 1. parse
@dataclass
class Parsed:
    """The submission as a notebook, or why it is not one."""

    notebook: NotebookNode | None
    error: str = ""


def parse(raw: bytes) -> Parsed:
    """Read the submitted bytes as a notebook (any nbformat 4 the student's Jupyter wrote)."""
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("no cells")
        return Parsed(nb)
    except Exception as e:  # noqa: BLE001
        return Parsed(None, f"not a readable notebook ({type(e).__name__}: {str(e)[:150]})")


# ------------------------------------------------------------------ 2, 3. rebuild and scan
@dataclass
class Rebuilt:
    """The student's notebook on the master's structure, with what had to be changed."""

    notebook: NotebookNode
    flags: list[Flag] = field(default_factory=list)


def rebuild(student: NotebookNode, master: NotebookNode, release: NotebookNode) -> Rebuilt:
    """Restore locked and test cells and their metadata from the master (flags say what changed)."""
    nb, flags = sanitize(student, master, release)
    return Rebuilt(nb, flags)


def scan_code(rebuilt: Rebuilt, release: NotebookNode) -> list[Flag]:
    """Flags for known attacks in the student's own code (locked and as-released cells excluded)."""
    return scan(rebuilt.notebook, release)


# ------------------------------------------------------------------ 4. plan
@dataclass
class Plan:
    """The notebook the kernel runs: a setup cell, a guard before each test cell."""

    notebook: NotebookNode
    nonces: dict[int, str] = field(default_factory=dict)  #: guard cell index -> its nonce


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


def skippable(nb: NotebookNode, slow: set[str]) -> set[int]:
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


def plan(nb: NotebookNode, release: NotebookNode | None = None, run_slow: bool = True) -> Plan:
    """The notebook to execute: before each test cell a marker cell (its answers are that cell's:
    :func:`autograder.verdict.marker_cell`) and, for a test cell that calls no check and so is
    judged in the kernel, a guard cell (with a setup cell first). Unless ``run_slow``, the
    instructor's cells tagged ``slow`` (widgets, training, plots) are left out when the student
    left them as released and no later cell needs what they define."""
    run = nbformat.v4.new_notebook(metadata=nb.metadata)
    nonces: dict[int, str] = {}
    in_kernel = [c for c in nb.cells if is_test_cell(c) and not verdict.REPLAYABLE.search(c.source)]
    if in_kernel:
        run.cells.append(nbformat.v4.new_code_cell(guard.setup_source(), metadata={GUARD_META: "setup"}))
    slow = {c.source for c in (release.cells if release is not None else [])
            if c.cell_type == "code" and "slow" in c.get("metadata", {}).get("tags", [])}
    skip = set() if run_slow else skippable(nb, slow)
    for i, cell in enumerate(nb.cells):
        if i in skip:
            continue
        if is_test_cell(cell):
            marker = verdict.marker_cell(nbgrader_meta(cell)["grade_id"])
            marker.metadata[GUARD_META] = "marker"
            run.cells.append(marker)
            if any(cell is c for c in in_kernel):
                src, nonce = guard.guard_source(names_loaded(cell.source))
                run.cells.append(nbformat.v4.new_code_cell(src, metadata={GUARD_META: nonce}))
                nonces[len(run.cells) - 1] = nonce
        run.cells.append(cell)
    return Plan(run, nonces)


# ------------------------------------------------------------------ 5. execute
@dataclass
class Workspace:
    """Where and as whom one submission runs (one per worker slot, reused per submission)."""

    folder: Path  #: this submission's scratch folder (emptied before and after)
    log: Path  #: the kernel's stderr goes here
    sandbox: isolate.Sandbox  #: the mechanisms in force, with this slot's uid
    warm: "warmstart.WarmStart | None" = None  #: this slot's fork servers, where kernels start warm


@dataclass
class Execution:
    """What running the plan produced."""

    run: Executed  #: the executed notebook, how the run ended, cut outputs, per-phase times
    answers: bytes = b""  #: the checks' recorded answers (JSON lines), at most ANSWERS_CAP bytes
    answers_cut: bool = False  #: the file was longer than ANSWERS_CAP


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel through :mod:`autograder.isolate`, over Unix sockets in the scratch folder."""

    def format_kernel_cmd(self, extra_arguments=None):
        # ipykernel 7's threads that copy fd-level output (C libraries, subprocesses) into the
        # notebook now and then leave a cell without a reply until its time limit (seen here as
        # one-minute stalls, and in plain nbgrader as two-minute ones): the grader does not need
        # that output, which goes to the kernel's log instead
        cmd = super().format_kernel_cmd(extra_arguments) + ["--IPKernelApp.capture_fd_output=False"]
        return self.wrap_fn(cmd)

    zygote: "warmstart.Zygote | None" = None  #: start the kernel from this fork server, else cold
    started: str = "cold"  #: how the kernel started: "warm", "cold", or "cold (why the warm start failed)"

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if self.zygote is None:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        spec, cmd = isolate.split_argv(kernel_cmd)
        try:
            proc = self.zygote.launch(spec, cmd, stdout=kw.get("stdout"), stderr=kw.get("stderr"))
        except warmstart.Unavailable as e:
            self.started = f"cold ({e})"
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        self.started = "warm"
        self.provisioner.process, self.provisioner.pid, self.provisioner.pgid = proc, proc.pid, None
        self._reconcile_connection_info(self.provisioner.connection_info)


def prepare(ws: Workspace, job: Job) -> None:
    """An empty scratch folder holding only this submission, as submitted, and its answers file."""
    shutil.rmtree(ws.folder, ignore_errors=True)
    for d in ("work", "conn", "ipython", "mpl"):
        (ws.folder / d).mkdir(parents=True)
    (ws.folder / "work" / job.notebook).write_bytes(job.submission)
    (ws.folder / ANSWERS_FILE).write_bytes(b"")


def read_answers(path: Path) -> tuple[bytes, bool]:
    """The recorded answers (at most ANSWERS_CAP bytes) and whether there were more."""
    try:
        with open(path, "rb") as f:
            data = f.read(ANSWERS_CAP + 1)
    except OSError:
        return b"", False
    return data[:ANSWERS_CAP], len(data) > ANSWERS_CAP


def execute(p: Plan, ws: Workspace, job: Job, timeout: float | None = None) -> Execution:
    """Run the plan in a sandboxed kernel in ``ws`` (``timeout``: seconds left for the kernel,
    else the job's per-submission limit); the scratch folder is emptied afterwards."""
    limits = job.limits
    prepare(ws, job)
    scratch = ws.folder
    km = SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(scratch / "conn" / "k"))
    km.connection_file = str(scratch / "conn" / "kernel.json")
    extra_env = {"COURSE_ANSWERS": str(scratch / ANSWERS_FILE)}
    km.wrap_fn = lambda cmd: isolate.kernel_argv(scratch, cmd, limits, ws.sandbox, extra_env, job.withheld,
                                                 job.assignment)
    if ws.warm is not None and job.warm_start:
        km.zygote = ws.warm.get(job)
        if km.zygote is None:
            km.started = f"cold ({ws.warm.why})"
    km.write_connection_file()
    isolate.prepare_scratch(scratch, ws.sandbox)  # everything in it, the connection file too, is the kernel's
    try:
        with open(ws.log, "wb") as log:
            ran = notebooks.execute(p.notebook, km=km, cell_timeout=limits.cell_timeout,
                                    timeout=limits.timeout if timeout is None else timeout,
                                    output_bytes=limits.output_bytes,
                                    notebook_output_bytes=limits.notebook_output_bytes,
                                    own_budget={i for i, c in enumerate(p.notebook.cells) if GUARD_META in c.metadata},
                                    env=dict(os.environ, PYTHONPATH=str(isolate.ROOT)), stderr=log)
        answers, cut = read_answers(scratch / ANSWERS_FILE)
        ran.started = km.started
    finally:
        isolate.reap(ws.sandbox.uid)
        shutil.rmtree(scratch, ignore_errors=True)
    if ran.stop and ran.stop.startswith("error"):
        tail = ws.log.read_text(errors="replace").strip().splitlines()[-3:]
        ran.stop += " | " + " / ".join(tail)
    return Execution(ran, answers, cut)


# ------------------------------------------------------------------ 6. read outputs
@dataclass
class TestCellRun:
    """One test cell as the kernel left it."""

    grade_id: str
    points: float
    ran: bool
    error: str = ""
    message: str = ""
    expression: bool = False  #: it ended in a bare expression (never read as partial credit)


@dataclass
class Observed:
    """What the outputs of a run say."""

    tests: list[TestCellRun] = field(default_factory=list)  #: in the master's order
    flags: list[Flag] = field(default_factory=list)  #: from the guards
    errors_outside: list[str] = field(default_factory=list)  #: error names of non-test cells
    no_response: list[str] = field(default_factory=list)  #: solution cells left as released


def master_tests(master: NotebookNode) -> list[TestCellRun]:
    """Every test cell of the master, not run yet."""
    return [TestCellRun(nbgrader_meta(c)["grade_id"], float(nbgrader_meta(c).get("points", 0)), False)
            for c in master.cells if is_test_cell(c)]


def observe_test_cell(cell: NotebookNode) -> TestCellRun:
    """One executed test cell's outcome; stderr the IgnorePattern matches is dropped from it."""
    m = nbgrader_meta(cell)
    t = TestCellRun(m["grade_id"], float(m.get("points", 0)), cell_ran(cell))
    if not t.ran:
        t.error, t.message = "not run", "the kernel stopped before this test"
        return t
    notebooks.drop_ignored_stderr(cell)
    t.error, t.message = cell_failure(cell)
    t.expression = any(o.output_type == "execute_result" for o in cell.outputs)
    return t


def read_guards(p: Plan, nb: NotebookNode) -> list[Flag]:
    """Hostile flags from the guard cells: a guard that did not run as written, or repaired anything."""
    flags: list[Flag] = []
    for i, nonce in p.nonces.items():
        cell = nb.cells[i]
        if not cell_ran(cell):
            continue  # never reached (the kernel died or the time ran out)
        found = guard.read_guard(cell.get("outputs", []), nonce)
        if found is None:
            flags.append(Flag(HOSTILE, "a guard cell did not run as written (a hook rewrote or skipped it)"))
        for r in found or []:
            flags.append(Flag(HOSTILE, f"runtime: {r}"))
    return flags


def read_outputs(p: Plan, ex: Execution, master: NotebookNode) -> Observed:
    """Each test cell's outcome (stderr the IgnorePattern matches is dropped, as nbgrader does),
    errors elsewhere, unanswered solution cells, and the guards' findings."""
    obs = Observed(master_tests(master), read_guards(p, ex.run.notebook))
    by_id = {t.grade_id: t for t in obs.tests}
    for cell in ex.run.notebook.cells:
        if cell.cell_type != "code" or GUARD_META in cell.metadata:
            continue
        if is_test_cell(cell):
            seen = observe_test_cell(cell)
            if seen.grade_id in by_id:
                obs.tests[obs.tests.index(by_id[seen.grade_id])] = by_id[seen.grade_id] = seen
        else:
            errs = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            if errs:
                obs.errors_outside.append(errs[0].get("ename", ""))
        if nbu.is_solution(cell) and nbgrader_meta(cell).get("checksum") == nbu.compute_checksum(cell):
            obs.no_response.append(nbgrader_meta(cell)["grade_id"])
    for t in obs.tests:
        if t.expression:
            obs.flags.append(Flag(NOTE, f"{t.grade_id} ends in an expression: its value was not read as partial credit"))
    return obs


# ------------------------------------------------------------------ 7. score
def score(obs: Observed, ex: Execution | None = None, master: NotebookNode | None = None
          ) -> tuple[list[TestOutcome], list[Flag]]:
    """Points per test, all or nothing, and what the verdict found.

    A test cell that calls checks is judged outside the sandbox (:mod:`autograder.verdict`): its
    master source is replayed on the answers the kernel recorded, and that decides. A pass in
    the kernel that the answers do not support is evidence of forgery (hostile); a failure in
    the kernel that the answers pass (stderr from a warning, say) keeps the points and asks for a
    look. A test cell that calls no check is judged by its outcome in the kernel, as nbgrader
    does."""
    judgement = (verdict.judge(ex.run.notebook, master, ex.answers.decode("utf-8", "replace"))
                 if ex is not None and master is not None else verdict.Judgement())
    out = []
    for t in obs.tests:
        v = judgement.cells.get(t.grade_id)
        if v is not None and v.replayed is not None:
            r = v.replayed
            error, message = ("", "") if v.passed else (r.error or "CheckFailed", r.message)
            earned = t.points if v.passed else 0.0
        else:
            error, message = t.error, t.message
            earned = t.points if t.ran and not t.error else 0.0
        out.append(TestOutcome(t.grade_id, t.points, earned, t.ran, error, message,
                               sorted(set(MISCONCEPTION_TAG.findall(message)))))
    flags = [Flag(HOSTILE, f"verdict: {h}") for h in judgement.hostile]
    flags += [Flag(REVIEW, f"verdict: {n}") for n in judgement.notes]
    if ex is not None and master is not None:
        for cell in ex.run.notebook.cells:
            gid = nbgrader_meta(cell).get("grade_id") if is_test_cell(cell) else None
            if gid in judgement.cells:
                verdict.trusted_outputs(cell, judgement.cells[gid])
    return out, flags


# ------------------------------------------------------------------ 8. status
def run_flags(ex: Execution | None, obs: Observed, limits: isolate.Limits) -> tuple[list[Flag], bool]:
    """Notes on how the run ended, and whether the submission crashed its kernel."""
    flags: list[Flag] = []
    if ex is None:
        return flags, False
    run = ex.run
    for i in sorted(run.flooded):
        flags.append(Flag(NOTE, f"output flood: output of cell {i} cut at {limits.output_bytes} bytes per cell, "
                                f"{limits.notebook_output_bytes} per notebook"))
    if run.cut:
        flags.append(Flag(NOTE, f"output cut: {run.cut} bytes of output dropped in all"))
    stop = run.stop or ""
    all_errors = obs.errors_outside + [t.error for t in obs.tests]
    crashed = stop == "dead" or stop.startswith("error") or any(
        e in ("MemoryError", "BlockingIOError") for e in all_errors)
    if stop == "dead":
        flags.append(Flag(NOTE, "the kernel died (os._exit, a crash, or a limit); tests after that scored 0"))
    elif stop.startswith("error"):
        flags.append(Flag(NOTE, f"the kernel failed: {stop}"))
    if "MemoryError" in all_errors:
        flags.append(Flag(NOTE, "hit the memory limit"))
    if "BlockingIOError" in all_errors:
        flags.append(Flag(NOTE, "hit the process limit"))
    if stop == "timeout":
        flags.append(Flag(NOTE, f"ran past the {limits.timeout} s limit per submission"))
    if run.timed_out:
        flags.append(Flag(NOTE, f"{len(run.timed_out)} cell(s) ran past the {limits.cell_timeout} s limit per cell"))
    if ex.answers_cut:
        flags.append(Flag(NOTE, f"recorded answers cut at {ANSWERS_CAP} bytes"))
    if any(DISK_FULL.search(_text(o)) for c in run.notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])):
        flags.append(Flag(NOTE, f"disk limit: the working folder is full ({limits.disk} bytes in all)"))
    return flags, crashed


DISK_FULL = re.compile(r"No space left on device|\[Errno 28\]|Disk quota exceeded")


def _text(output) -> str:
    return str(output.get("text", "")) + str(output.get("evalue", ""))


def set_status(result: Result, flags: list[Flag], crashed: bool, timed_out: bool) -> Result:
    """Status by precedence: hostile -> tampered (score withheld), crashed, timed out, structure
    changed -> tampered (graded on the restored tests), else graded; the score is the sum."""
    if any(f.kind == HOSTILE for f in flags):
        result.status = TAMPERED
        for t in result.tests:
            t.score = 0.0
    elif crashed:
        result.status = CRASHED
    elif timed_out:
        result.status = TIMED_OUT
    elif any(f.kind == STRUCTURE for f in flags):
        result.status = TAMPERED
    else:
        result.status = GRADED
    result.score = sum(t.score for t in result.tests)
    result.flags = [f"{f.kind}: {f.text}" for f in dict.fromkeys(flags)]
    return result


def malformed(result: Result, why: str) -> Result:
    """A submission that is not a notebook: nothing ran, nothing scored."""
    result.status = MALFORMED
    result.flags = [f"{STRUCTURE}: {why}"]
    return result


def autograded_notebook(p: Plan, ex: Execution) -> str:
    """The executed notebook without the guard cells (JSON): what the formgrader shows."""
    nb = ex.run.notebook
    nb.cells = [c for c in nb.cells if GUARD_META not in c.metadata]
    return nbformat.writes(nb)

