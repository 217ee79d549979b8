"""Reading and running course notebooks cell by cell.

Two ways to run a notebook and learn, for every nbgrader test cell, whether it
passed and with what message:

* :func:`run_in_kernel` executes in a real Jupyter kernel (as nbgrader does)
  through :func:`execute`, the project's one kernel runner (the autograder's
  sandboxed runs use it too), and :func:`cell_failure` is the one idea of a
  failed cell: an error output, or stderr output that the course's
  ``IgnorePattern`` does not match (nbgrader's rule);
* :func:`run_in_process` executes in an IPython shell inside this process:
  the same semantics for the course's notebooks, without a kernel start, so
  the project's tests can plant a mistake into a solution cell
  (``replace={"forward_difference": buggy_code}``) and check the hint that the
  right test cell prints, many times over, quickly.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import IO, Iterable, Iterator

import nbformat
import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode

CONFIG = Path(__file__).resolve().parent / "nbgrader_config.py"


@dataclass
class CellResult:
    """What happened in one graded test cell."""

    grade_id: str
    points: float
    ok: bool
    ran: bool = True
    error: str = ""  #: exception class name, e.g. "AssertionError"
    message: str = ""  #: the exception's message (the check's report)
    records: list = field(default_factory=list)  #: answers the cell's checks recorded (``record=True``)

    def __str__(self) -> str:
        state = "passed" if self.ok else ("not run" if not self.ran else f"failed: {self.error}")
        return f"{self.grade_id} ({self.points:g} pts) {state}\n{self.message}".rstrip()


@dataclass
class RunResult:
    tests: dict[str, CellResult] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  #: (cell, error, message) outside tests

    def failed(self) -> list[str]:
        return [g for g, r in self.tests.items() if not r.ok]

    def passed(self) -> list[str]:
        return [g for g, r in self.tests.items() if r.ok]


def read(path: str | os.PathLike) -> NotebookNode:
    return nbformat.read(os.fspath(path), as_version=4)


def nbgrader_meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test_cell(cell: NotebookNode) -> bool:
    """A graded code cell that is not a solution: an autograder test cell."""
    m = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(m.get("grade")) and not m.get("solution")


def is_solution_cell(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and bool(nbgrader_meta(cell).get("solution"))


def cell_id(cell: NotebookNode) -> str:
    return nbgrader_meta(cell).get("grade_id") or cell.get("id", "")


def test_cells(nb: NotebookNode) -> Iterator[NotebookNode]:
    return (c for c in nb.cells if is_test_cell(c))


def find(nb: NotebookNode, grade_id: str) -> NotebookNode:
    for c in nb.cells:
        if nbgrader_meta(c).get("grade_id") == grade_id:
            return c
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def _plan(nb: NotebookNode, replace: dict[str, str] | None, stop_after: str | None,
          skip_tags: Iterable[str]) -> list[tuple[NotebookNode, str]]:
    replace = dict(replace or {})
    skip = set(skip_tags)
    known = {nbgrader_meta(c).get("grade_id") for c in nb.cells}
    missing = set(replace) - known
    if missing:
        raise KeyError(f"no cells with grade_id {sorted(missing)}")
    plan = []
    for c in nb.cells:
        if c.cell_type != "code" or skip & set(c.get("metadata", {}).get("tags", [])):
            continue
        gid = nbgrader_meta(c).get("grade_id")
        plan.append((c, replace.get(gid, c.source)))
        if stop_after is not None and gid == stop_after:
            break
    return plan


def run_in_process(
    nb: NotebookNode | str | os.PathLike,
    *,
    replace: dict[str, str] | None = None,
    stop_after: str | None = None,
    skip_tags: Iterable[str] = (),
    cwd: str | os.PathLike | None = None,
    record: bool = False,
) -> RunResult:
    """Run the code cells in a fresh IPython namespace in this process.

    ``replace`` maps grade ids to new source (plant a mistake, or the released
    stub); ``stop_after`` ends the run after that cell; cells tagged with any of
    ``skip_tags`` are left out (for example ``"slow"`` training cells).
    Output is swallowed; each test cell's outcome is returned. ``record``: the checks
    record the student's answers (as in the grading kernel), kept per test cell in
    ``CellResult.records`` for :func:`replay`.
    """
    import tempfile

    from IPython.core.interactiveshell import InteractiveShell

    from course.checks import answers

    if not isinstance(nb, NotebookNode):
        cwd = cwd or Path(nb).parent
        nb = read(nb)
    shell = InteractiveShell.instance()
    shell.reset(new_session=True)
    shell.user_ns["__name__"] = "__main__"
    result = RunResult()
    old = os.getcwd()
    old_env = os.environ.pop(answers.ENV, None)
    log = tempfile.NamedTemporaryFile("r+", suffix=".jsonl", encoding="utf-8") if record else None
    try:
        if cwd is not None:
            os.chdir(cwd)
        if log is not None:
            os.environ[answers.ENV] = log.name
        for cell, source in _plan(nb, replace, stop_after, skip_tags):
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                r = shell.run_cell(source, store_history=False, silent=False)
            err = r.error_in_exec or r.error_before_exec
            _record(result, cell, err)
            if log is not None:
                records = list(answers.read_records(log.read()))
                if is_test_cell(cell):
                    result.tests[nbgrader_meta(cell)["grade_id"]].records = records
    finally:
        os.chdir(old)
        os.environ.pop(answers.ENV, None)
        if old_env is not None:
            os.environ[answers.ENV] = old_env
        if log is not None:
            log.close()
        _close_figures()
    return result


def replay(nb: NotebookNode, result: RunResult) -> dict:
    """The grader's trusted verdict on every test cell of a recorded run: grade id -> ReplayResult.

    Each test cell's source in ``nb`` (the master) runs again on the answers its checks
    recorded, with no student code (:func:`course.checks.answers.replay_cell`)."""
    from course.checks.answers import replay_cell
    return {gid: replay_cell(find(nb, gid).source, r.records) for gid, r in result.tests.items() if r.ran}


def _record(result: RunResult, cell: NotebookNode, err: BaseException | None,
            name: str = "", message: str = "") -> None:
    if err is not None:
        name, message = type(err).__name__, str(err)
    failed = bool(name)
    if is_test_cell(cell):
        m = nbgrader_meta(cell)
        result.tests[m["grade_id"]] = CellResult(
            m["grade_id"], float(m.get("points", 0)), ok=not failed, error=name, message=message)
    elif failed:
        result.errors.append((cell_id(cell), name, message))


def _close_figures() -> None:
    import sys
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


def run_in_kernel(
    nb: NotebookNode | str | os.PathLike,
    *,
    replace: dict[str, str] | None = None,
    stop_after: str | None = None,
    skip_tags: Iterable[str] = (),
    cwd: str | os.PathLike | None = None,
    timeout: int = 300,
) -> tuple[RunResult, NotebookNode]:
    """Run the notebook in a fresh Jupyter kernel; return the results and the executed notebook.
    ``timeout`` is per cell; a cell that runs past it is interrupted and counts as failed."""
    if not isinstance(nb, NotebookNode):
        cwd = cwd or Path(nb).parent
        nb = read(nb)
    nb = nbformat.from_dict(nb)  # a copy
    plan = _plan(nb, replace, stop_after, skip_tags)
    kept = {id(c) for c, _ in plan}
    for c, source in plan:
        c.source = source
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or id(c) in kept]
    ran = execute(nb, cwd=cwd or os.getcwd(), cell_timeout=timeout)
    if ran.stop and ran.stop != "dead":
        raise RuntimeError(f"the kernel failed: {ran.stop}")
    result = RunResult()
    for c in ran.notebook.cells:
        if c.cell_type == "code":
            name, message = cell_failure(c)
            _record(result, c, None, name, message)
    return result, ran.notebook


# ------------------------------------------------------------------ the one kernel runner
_IGNORE: dict[str, re.Pattern | None] = {}


def ignore_pattern() -> re.Pattern | None:
    """The course's ``IgnorePattern``: stderr output it matches does not fail a cell."""
    if "p" not in _IGNORE:
        from traitlets.config.loader import PyFileConfigLoader
        try:
            cfg = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()
            _IGNORE["p"] = re.compile(cfg.IgnorePattern.pattern) if cfg.IgnorePattern.get("enabled", False) else None
        except Exception:  # noqa: BLE001
            _IGNORE["p"] = re.compile(r"Warning")
    return _IGNORE["p"]


def drop_ignored_stderr(cell: NotebookNode) -> None:
    """Remove the stderr outputs the ``IgnorePattern`` matches (as nbgrader does, whole outputs)."""
    pat = ignore_pattern()
    cell.outputs = [o for o in cell.get("outputs", []) if not (
        o.output_type == "stream" and o.name == "stderr" and pat is not None and pat.search(o.text))]


def cell_failure(cell: NotebookNode) -> tuple[str, str]:
    """``(error name, message)`` of an executed code cell, ``("", "")`` if it did not fail: the
    first error output, else stderr output that the ``IgnorePattern`` does not match."""
    pat = ignore_pattern()
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            return o.get("ename", "Error"), o.get("evalue", "")
        if o.get("output_type") == "stream" and o.get("name") == "stderr" and not (
                pat is not None and pat.search(o.get("text", ""))):
            return "stderr", o.get("text", "")[-500:]
    return "", ""


def cell_ran(cell: NotebookNode) -> bool:
    """Whether the kernel reached this cell (it has a count or an output)."""
    return cell.get("execution_count") is not None or bool(cell.get("outputs"))


@dataclass
class Executed:
    """A notebook after a kernel ran it."""

    notebook: NotebookNode  #: the executed notebook (outputs in place)
    stop: str | None = None  #: what ended the run early: "timeout", "dead", "error: ..." or None
    timed_out: set[int] = field(default_factory=set)  #: cells interrupted at the per-cell limit
    flooded: set[int] = field(default_factory=set)  #: cells whose output was cut
    cut: int = 0  #: bytes of output dropped in all
    phases: dict[str, float] = field(default_factory=dict)  #: kernel start, ready, each cell (seconds)
    started: str = ""  #: how the kernel started (warm from a fork server, or cold)


class ReadyClient(AsyncKernelClient):
    """A kernel client that knows the kernel is ready as soon as it is.

    jupyter_client waits for a kernel_info reply, then for any IOPub message (else it asks
    again), then for 0.2 s of silence on IOPub: 0.2 s at least per kernel. Here the sign is
    the IOPub ``idle`` status of this very request, the last message it causes: IOPub is then
    connected and nothing of the start is left in flight (nbclient also ignores any message
    whose parent is not the cell it runs). Its sockets retry a connection every 10 ms, not
    every 100: they are opened before the kernel's exist."""

    def start_channels(self, *args, **kwargs) -> None:
        self.context.setsockopt(zmq.RECONNECT_IVL, 10)
        super().start_channels(*args, **kwargs)

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            msg_id = self.kernel_info()
            reply = await self._reply_to(msg_id, self.shell_channel, 1.0)
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                if await self._reply_to(msg_id, self.iopub_channel, 0.2, idle=True) is not None:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    wait_for_ready = _async_wait_for_ready  # (AsyncKernelClient binds the name to its own function)

    @staticmethod
    async def _reply_to(msg_id: str, channel, seconds: float, idle: bool = False):  # noqa: ANN001
        """The first message on ``channel`` within ``seconds`` whose parent is ``msg_id`` (with
        ``idle``: its idle status), else None."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                msg = await channel.get_msg(timeout=left)
            except Empty:
                return None
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if not idle or (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"):
                return msg
        return None


class _Client(NotebookClient):
    """nbclient with an output cap per cell and per notebook, and a record of cells that hit the
    per-cell time limit, and of how long each phase took."""

    def __init__(self, *a, output_bytes: int | None, notebook_output_bytes: int | None,
                 own_budget: set[int] = frozenset(), **kw):
        super().__init__(*a, **kw)
        self.cell_cap, self.total_cap, self.own_budget = output_bytes, notebook_output_bytes, set(own_budget)
        self.stderr_kept: set[int] = set()
        self.used: dict[int, int] = {}
        self.total = 0
        self.run = Executed(self.nb)
        self.current = -1

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        self.current = cell_index
        t = time.monotonic()
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            self.run.phases[f"cell {cell_index}"] = time.monotonic() - t

    async def async_start_new_kernel(self, **kwargs):
        t = time.monotonic()
        await super().async_start_new_kernel(**kwargs)
        self.run.phases["kernel start"] = time.monotonic() - t

    async def async_start_new_kernel_client(self):
        t = time.monotonic()
        self.km.client_factory = ReadyClient
        kc = await super().async_start_new_kernel_client()
        self.run.phases["kernel ready"] = time.monotonic() - t
        return kc

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(json.dumps(content, default=str))
        own = cell_index in self.own_budget
        used = self.used.get(cell_index, 0)
        cell_room = self.cell_cap - used if self.cell_cap is not None else size
        nb_room = self.total_cap - self.total if self.total_cap is not None and not own else size
        room = min(cell_room, nb_room)
        if size <= room:
            self.used[cell_index] = used + size
            self.total += 0 if own else size
            return super().output(outs, msg, display_id, cell_index)
        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        kept = None
        if kind == "stream" and room > 0:  # the first part of the text that fits
            kept = super().output(outs, dict(msg, content=dict(content, text=str(content.get("text", ""))[:room])),
                                  display_id, cell_index)
            self.used[cell_index] = used + room
            self.total += 0 if own else room
        self.run.cut += size - max(room, 0) if kept is not None else size
        if cell_index not in self.run.flooded:
            self.run.flooded.add(cell_index)
            why = "too much output in this cell" if cell_room <= nb_room else "too much output in this notebook"
            outs.append(nbformat.v4.new_output("stream", name="stdout",
                                               text=f"\n[autograder: output cut here: {why}]\n"))
        # past the cap, what decides whether a cell failed is still kept, shortened: its error,
        # and its first stderr output (flooding output must never hide a failure)
        if kind == "error":
            msg = dict(msg, content=dict(content, evalue=str(content.get("evalue", ""))[:10_000], traceback=[]))
            return super().output(outs, msg, display_id, cell_index)
        if kind == "stream" and content.get("name") == "stderr" and kept is None and cell_index not in self.stderr_kept:
            self.stderr_kept.add(cell_index)
            msg = dict(msg, content=dict(content, text=str(content.get("text", ""))[:2_000]))
            return super().output(outs, msg, display_id, cell_index)
        return kept

    async def _async_handle_timeout(self, timeout, cell=None):
        self.run.timed_out.add(self.current)
        return await super()._async_handle_timeout(timeout, cell)


def execute(nb: NotebookNode, *, cell_timeout: int, km=None, cwd: str | os.PathLike | None = None,
            env: dict | None = None, timeout: float | None = None, output_bytes: int | None = None,
            notebook_output_bytes: int | None = None, own_budget: set[int] = frozenset(),
            stderr: IO | None = None, startup_timeout: int = 60) -> Executed:
    """Run every code cell of ``nb`` (in place) in a fresh kernel (``km``: a kernel manager, else
    python3 in ``cwd``), errors allowed. ``cell_timeout`` interrupts a cell, ``timeout`` (seconds in
    all) kills the kernel; output past ``output_bytes`` in a cell or ``notebook_output_bytes`` in
    the notebook is dropped (but for a cell's error and first stderr output, shortened); the cells
    ``own_budget`` (the grader's own) count only against the cap per cell. Never raises for what
    the notebook does: see
    :attr:`Executed.stop`."""
    import subprocess
    kw = {"km": km} if km is not None else {"resources": {"metadata": {"path": os.fspath(cwd or os.getcwd())}}}
    client = _Client(nb, timeout=cell_timeout, startup_timeout=startup_timeout, allow_errors=True,
                     interrupt_on_timeout=True, kernel_name="python3", record_timing=False,
                     output_bytes=output_bytes, notebook_output_bytes=notebook_output_bytes,
                     own_budget=own_budget, error_on_timeout={"ename": "CellTimeoutError",
                                       "evalue": f"cell ran past the {cell_timeout} s limit", "traceback": []},
                     **kw)
    launch = {"env": env} if env is not None else {}
    if stderr is not None:
        launch.update(stdout=subprocess.DEVNULL, stderr=stderr)
    loop = asyncio.new_event_loop()
    task = loop.create_task(client.async_execute(**launch))
    expired: list[bool] = []

    def expire() -> None:  # nbclient reads a cancellation as a dead kernel: remember why
        expired.append(True)
        task.cancel()

    if timeout is not None:
        loop.call_later(max(timeout, 0.01), expire)
    try:
        loop.run_until_complete(task)
    except (asyncio.CancelledError, DeadKernelError):
        client.run.stop = "timeout" if expired else "dead"
    except Exception as e:  # noqa: BLE001  (a kernel that would not start, a broken channel)
        client.run.stop = "timeout" if expired else f"error: {type(e).__name__}: {e}"[:300]
    finally:
        kmgr = client.km
        try:
            if kmgr is not None and kmgr.has_kernel:
                loop.run_until_complete(kmgr.shutdown_kernel(now=True))
        except Exception:  # noqa: BLE001
            pass
        try:
            if kmgr is not None and kmgr.provisioner and kmgr.provisioner.process:
                kmgr.provisioner.process.kill()  # a wrapper process: its death takes the sandbox down
        except Exception:  # noqa: BLE001
            pass
        loop.close()
    return client.run
