"""Warm start for sandboxed kernels: the grader's side of the fork servers.

A cold kernel costs a new interpreter, ipykernel's imports and then the notebook's own
(numpy, matplotlib, torch, the course): most of a short submission's time. So each grading
slot starts a fork server (:mod:`autograder.forkserver`) once per assignment, which imports
those modules once and forks one child per kernel; each child enters the same sandbox as a
cold kernel, fresh, and is then made a fresh interpreter (see that module).

:class:`WarmStart` is a slot's server for the assignment at hand (:func:`preload_for` says
what it imports: what the master notebook imports, never the hidden checks or a withheld
module); :class:`Zygote` is the handle on one server; :class:`WarmKernel` is one kernel's
connection, shaped like the ``Popen`` that jupyter_client expects. Whatever goes wrong
raises :class:`Unavailable`, and the caller starts that kernel cold.
"""
from __future__ import annotations

import ast
import functools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from . import isolate
from .forkserver import NEVER, VERSION, Lines, is_under, send_line

#: always preloaded: the kernel itself (what ``python -m ipykernel_launcher`` imports first)
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.comm", "ipykernel.debugger",
                  "IPython.core.completer")


class Unavailable(RuntimeError):
    """The fork server could not start or answer: the caller starts the kernel cold."""


def imported_modules(sources: list[str]) -> list[str]:
    """The absolute module names that ``import`` statements in ``sources`` name, in order."""
    out: list[str] = []
    for src in sources:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                     else [])
            out.extend(n for n in names if n not in out)
    return out


@functools.lru_cache(maxsize=8)  # asked once per submission; parsing a master takes tens of ms
def preload_for(master_json: str, withheld: tuple[str, ...] = (), run_slow: bool = False) -> tuple[str, ...]:
    """What a fork server for this master notebook imports: the kernel's modules, then every
    module its code cells import (but for cells tagged ``slow``, which grading skips unless
    ``run_slow``: a module only they import would take memory from every kernel), never the
    hidden checks or a withheld module."""
    import nbformat
    nb = nbformat.reads(master_json, as_version=4)
    lines = [c.source for c in nb.cells if c.cell_type == "code"
             and (run_slow or "slow" not in c.get("metadata", {}).get("tags", []))]
    names = list(KERNEL_MODULES) + imported_modules(lines)
    return tuple(dict.fromkeys(n for n in names if not is_under(n, NEVER) and not is_under(n, withheld)))


class WarmKernel:
    """A kernel started by a fork server, shaped like ``subprocess.Popen`` for jupyter_client."""

    stdin = stdout = stderr = None

    def __init__(self, lines: Lines, pid: int) -> None:
        self.lines, self.pid, self.returncode = lines, pid, None

    @property
    def conn(self) -> socket.socket:
        """The connection to the kernel's monitor: closing it kills the kernel."""
        return self.lines.conn

    def _read(self, timeout: float | None) -> None:
        if self.returncode is None:
            msg = self.lines.next(timeout)
            if msg is not None:
                self.returncode = os.waitstatus_to_exitcode(msg["status"])
            elif self.lines.closed:
                self.returncode = -signal.SIGKILL  # the monitor died: so did its kernel
        if self.returncode is not None:
            self.conn.close()

    def poll(self) -> int | None:
        self._read(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._read(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired("warm kernel", timeout)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class WarmStart:
    """A grading slot's fork server: one at a time, for the assignment being graded (its
    preload and withheld modules); a job of another assignment replaces it."""

    MAX_STARTS = 3  #: servers started per assignment before that slot's kernels all start cold

    def __init__(self, log: Path | None = None) -> None:
        self.log, self.zygote, self.why = log, None, ""
        self.starts: dict[tuple, int] = {}

    def get(self, job) -> "Zygote | None":  # noqa: ANN001  (a jobs.Job)
        """The fork server for ``job``, started if need be; None where none can start (why:
        ``self.why``). A server that cannot start is not tried again for that assignment, nor
        one that has died ``MAX_STARTS`` times."""
        key = (preload_for(job.master, tuple(job.withheld), job.run_slow), tuple(job.withheld))
        if self.zygote is not None and (self.zygote.key != key or not self.zygote.alive()):
            self.close()
        if self.zygote is None:
            if self.starts.get(key, 0) >= self.MAX_STARTS:
                self.why = self.why or f"its fork server exited {self.MAX_STARTS} times"
                return None
            self.starts[key] = self.starts.get(key, 0) + 1
            try:
                self.zygote = Zygote(*key, log=self.log)
            except (Unavailable, OSError) as e:
                self.starts[key] = self.MAX_STARTS
                self.why = f"no fork server: {e}"
        return self.zygote

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None


def _server_env(folder: Path) -> dict[str, str]:
    """The server's environment: a kernel's, but for the folders of one submission."""
    env = isolate._kernel_env({"scratch": str(folder), "namespaces": True, "env": {}})
    env.pop("PYTHONPATH")
    env.update(HOME=str(folder), TMPDIR=str(folder))
    return env


class Zygote:
    """The grader's handle on one fork server (see the module doc)."""

    def __init__(self, preload=(), withheld=(), log: Path | None = None, timeout: float = 180) -> None:
        self.key = (tuple(preload), tuple(withheld))
        self.folder = Path(tempfile.mkdtemp(prefix="autograder-zygote-"))  # mode 0700: the grader's only
        for d in ("mpl", "ipython", "conn", "work"):
            (self.folder / d).mkdir()
        self.path = str(self.folder / "sock")
        life_r, self._life = os.pipe()
        # the interpreter's own path is read before the grader's folder is put on it
        code = (f"import sys, json; base = sys.path[1:]; sys.path.insert(0, {str(isolate.ROOT)!r}); "
                "from autograder import forkserver as f; "
                "f.serve(sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]), base)")
        with open(log or os.devnull, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code, self.path, json.dumps(list(preload)), json.dumps(list(withheld)),
                 str(life_r)], env=_server_env(self.folder), cwd=self.folder / "work", pass_fds=[life_r],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        os.close(life_r)
        line = b""
        if select.select([self.proc.stdout], [], [], timeout)[0]:
            line = self.proc.stdout.readline()
        try:
            self.report = json.loads(line)
        except ValueError:
            self.close()
            raise Unavailable(f"the fork server did not start (exit {self.proc.poll()})") from None
        if self.report.get("version") != VERSION:
            self.close()
            raise Unavailable("the fork server runs another version of the grader (the checkout changed)")
        if self.report.get("leaked"):
            self.close()
            raise Unavailable(f"preloading imported withheld modules: {self.report['leaked']}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def launch(self, spec: dict, cmd: list[str], stdin=None, stdout=None, stderr=None) -> WarmKernel:  # noqa: ANN001
        """Start ``cmd`` in the sandbox of ``spec`` (as :func:`autograder.isolate.kernel_argv`
        builds it); the streams are descriptors, file objects or None (/dev/null)."""
        if not self.alive():
            raise Unavailable("the fork server has exited")
        opened, fds = [], []
        for s in (stdin, stdout, stderr):
            if s is None or s == subprocess.DEVNULL:
                f = open(os.devnull, "r+b")
                opened.append(f)
                s = f
            fds.append(s if isinstance(s, int) else s.fileno())
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.settimeout(30)
            conn.connect(self.path)
            send_line(conn, {"spec": spec, "cmd": cmd}, fds)
            conn.settimeout(None)
            lines = Lines(conn)
            answer = lines.next(timeout=30)
            if answer is None:
                raise Unavailable("the fork server closed the connection" if lines.closed else "no answer in 30 s")
            if "pid" not in answer:
                raise Unavailable(answer.get("error", "no pid"))
            return WarmKernel(lines, int(answer["pid"]))
        except Unavailable:
            conn.close()
            raise
        except (OSError, ValueError) as e:
            conn.close()
            raise Unavailable(f"the fork server did not answer: {e}") from None
        finally:
            for f in opened:
                f.close()

    def run(self, spec: dict, cmd: list[str], timeout: float = 60) -> tuple[int, str, str]:
        """Run ``cmd`` to its end: ``(exit code, stdout, stderr)`` (for the probe)."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            k = self.launch(spec, cmd, stdout=out, stderr=err)
            try:
                code = k.wait(timeout)
            except subprocess.TimeoutExpired:
                k.kill()
                code = k.wait(10)
            out.seek(0)
            err.seek(0)
            return code, out.read().decode(errors="replace"), err.read().decode(errors="replace")

    def close(self) -> None:
        try:
            os.close(self._life)
        except OSError:
            pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)
