"""Reading and running course notebooks cell by cell.

Two ways to run a notebook and learn, for every nbgrader test cell, whether it
passed and with what message:

* :func:`run_in_kernel` executes in a real Jupyter kernel (as nbgrader does);
* :func:`run_in_process` executes in an IPython shell inside this process:
  the same semantics for the course's notebooks, without a kernel start, so
  the project's tests can plant a mistake into a solution cell
  (``replace={"forward_difference": buggy_code}``) and check the hint that the
  right test cell prints, many times over, quickly.
"""
from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import nbformat
from nbformat import NotebookNode


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
    """Run the notebook in a fresh Jupyter kernel; return the results and the executed notebook."""
    from nbclient import NotebookClient

    if not isinstance(nb, NotebookNode):
        cwd = cwd or Path(nb).parent
        nb = read(nb)
    nb = nbformat.from_dict(nb)  # a copy
    plan = _plan(nb, replace, stop_after, skip_tags)
    kept = {id(c) for c, _ in plan}
    for c, source in plan:
        c.source = source
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or id(c) in kept]
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": os.fspath(cwd or os.getcwd())}})
    client.execute()
    result = RunResult()
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        errs = [o for o in c.get("outputs", []) if o.get("output_type") == "error"]
        name = errs[0].get("ename", "Error") if errs else ""
        message = errs[0].get("evalue", "") if errs else ""
        _record(result, c, None, name, message)
    return result, nb
