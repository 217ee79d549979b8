"""Warm start for sandboxed kernels: a fork server per grading slot.

A cold kernel costs a new interpreter, ipykernel's imports and then the notebook's own
(numpy, matplotlib, torch, the course): most of a short submission's time. A *fork server*
is a Python process that a grading slot starts once per assignment; it imports those modules
once, then forks one child per kernel. Each child enters the same sandbox as a cold kernel,
fresh, by the same code (:func:`autograder.isolate.spawn`: new user, mount, network and pid
namespaces, the allow-list root, the limits, the slot's uid, a clean environment), and then,
instead of ``exec``, :func:`start` runs ipykernel in the child.

What the server imports is what the master notebook's code cells import (:func:`preload_for`),
never the hidden checks and never a withheld module: a blocking finder refuses those during the
preload, and the server checks ``sys.modules`` again before every fork. The server never runs a
student's code, so every child starts from the same untouched state. :func:`start` makes the
rest of the interpreter what a fresh one would be: the environment, ``sys.path`` and the import
caches, the random generators' seeds, ``tempfile``'s folder, and no open descriptor but the
standard streams (the server's socket, pipes and the grader's connection are closed). What a
child shares with the others is read-only code, and the hash seed.

Protocol (a Unix socket in a folder only the grader can open): the grader sends one JSON line
``{"spec": ..., "cmd": ...}`` with its stdin, stdout and stderr descriptors; the server forks a
*monitor* for it, which spawns the sandbox, answers ``{"pid": kernel}`` and later
``{"status": exit status}``, and kills the sandbox if the grader's end closes first.
:class:`WarmKernel` is that connection, shaped like the ``Popen`` that jupyter_client expects.
"""
from __future__ import annotations

import ast
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import isolate

#: always preloaded: the kernel itself (what ``python -m ipykernel_launcher`` imports first)
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.comm", "ipykernel.debugger",
                  "IPython.core.completer")
NEVER = ("course_hidden", "autograder")  #: never preloaded, whatever a notebook imports


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


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def preload_for(master_json: str, withheld=()) -> tuple[str, ...]:
    """What a fork server for this master notebook imports: the kernel's modules, then every
    module its code cells import, but for the hidden checks and the withheld modules."""
    import nbformat
    nb = nbformat.reads(master_json, as_version=4)
    lines = [ln for c in nb.cells if c.cell_type == "code" for ln in [c.source]]
    names = list(KERNEL_MODULES) + imported_modules(lines)
    return tuple(dict.fromkeys(n for n in names if not _under(n, NEVER) and not _under(n, withheld)))


# ------------------------------------------------------------------ the child: a warm kernel
def _close_inherited() -> None:
    """Close every descriptor but 0, 1, 2: none of the server's (its socket, the monitor's
    pipes, the grader's connection) may reach student code."""
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass


def _fresh_interpreter(env: dict[str, str], cwd: str) -> None:
    """What a new interpreter would have fresh: environment, path, import caches, seeds."""
    import importlib.machinery
    import linecache
    import random
    os.environ.clear()
    os.environ.update(env)
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Refuse)]
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [cwd, *extra, *BASE_PATH]
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    importlib.machinery.PathFinder.invalidate_caches()
    linecache.clearcache()
    sys.dont_write_bytecode = True
    tempfile.tempdir = None
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "torch" in sys.modules:
        sys.modules["torch"].seed()
    mpl = sys.modules.get("matplotlib")
    for name in ("get_configdir", "get_cachedir"):  # cached at import, from the server's MPLCONFIGDIR
        getattr(getattr(mpl, name, None), "cache_clear", lambda: None)()
    for name in [m for m in sys.modules if _under(m, ("autograder",))]:
        del sys.modules[name]


def start(cmd: list[str], env: dict[str, str]) -> None:
    """:data:`autograder.isolate.Start` for a warm child: run ``python -m MOD ARGS`` or
    ``python -c CODE ARGS`` in this interpreter (anything else is exec'd), then exit."""
    _close_inherited()
    if cmd[0] != sys.executable or len(cmd) < 3 or cmd[1] not in ("-m", "-c"):
        os.execvpe(cmd[0], cmd, env)
    _fresh_interpreter(env, os.getcwd())
    code = 0
    try:
        import runpy
        if cmd[1] == "-m":
            sys.argv = [cmd[2], *cmd[3:]]
            runpy.run_module(cmd[2], run_name="__main__", alter_sys=True)
        else:
            sys.argv = ["-c", *cmd[3:]]
            exec(compile(cmd[2], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


# ------------------------------------------------------------------ the server
BASE_PATH: list[str] = []  #: the interpreter's own path (no script folder, no PYTHONPATH)


class _Refuse:
    """A finder that refuses the withheld modules while the server preloads."""

    def __init__(self, names) -> None:
        self.names = tuple(names)

    def find_spec(self, name, path=None, target=None):  # noqa: ANN001
        if _under(name, self.names):
            raise ImportError(f"{name} is withheld: not preloaded", name=name)
        return None


def _preload(names, withheld) -> dict:
    t = time.monotonic()
    sys.meta_path.insert(0, _Refuse(tuple(withheld) + NEVER[:1]))
    loaded, failed = [], {}
    for name in names:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except BaseException as e:  # noqa: BLE001  (a module that fails here is imported by the kernel)
            failed[name] = f"{type(e).__name__}: {e}"[:200]
    return {"loaded": loaded, "failed": failed, "seconds": round(time.monotonic() - t, 3),
            "threads": len(os.listdir("/proc/self/task"))}


def _leaked(withheld) -> list[str]:
    return [m for m in sys.modules if _under(m, tuple(withheld) + NEVER[:1])]


def _monitor(conn: socket.socket, spec: dict, cmd: list[str]) -> None:
    """The forked helper of one kernel: spawn it, report its pid and exit status, and kill it
    when the grader's end of ``conn`` closes first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    waited, kernel = isolate.spawn(spec, cmd, start)
    conn.sendall(json.dumps({"pid": kernel}).encode() + b"\n")
    try:
        pidfd = os.pidfd_open(waited)
    except (AttributeError, OSError):
        pidfd = None
    while True:
        ready = select.select([conn] + ([pidfd] if pidfd is not None else []), [], [], 0.2 if pidfd is None else None)[0]
        done, status = os.waitpid(waited, os.WNOHANG)
        if done:
            break
        if conn in ready and not conn.recv(1):  # the grader is gone: so is the kernel
            os.kill(waited, signal.SIGKILL)
            done, status = os.waitpid(waited, 0)
            break
    try:
        conn.sendall(json.dumps({"status": status}).encode() + b"\n")
    except OSError:
        pass
    os._exit(0)


def serve(path: str, names: list[str], withheld: list[str], lifeline: int, base_path: list[str]) -> None:
    """Preload, say so on stdout (one JSON line), then fork a monitor per request until the
    grader's lifeline closes (``base_path``: the interpreter's own ``sys.path``)."""
    from . import newroot  # noqa: F401  (what every child runs before its root changes)
    BASE_PATH[:] = base_path
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    report = _preload(names, withheld)
    leaked = _leaked(withheld)
    report["leaked"] = leaked
    print(json.dumps(report), flush=True)
    if leaked:
        os._exit(3)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    while True:
        ready = select.select([listener, lifeline], [], [], 1.0)[0]
        while True:  # reap finished monitors
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        if lifeline in ready:  # the grading slot is gone
            import shutil
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)
            os._exit(0)
        if listener not in ready:
            continue
        conn, _ = listener.accept()
        try:
            msg, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
            req = json.loads(msg.decode())
            if len(fds) != 3 or _leaked(withheld):
                raise ValueError("bad request" if len(fds) != 3 else "a withheld module was imported")
        except (OSError, ValueError) as e:
            conn.sendall(json.dumps({"error": str(e)}).encode() + b"\n")
            conn.close()
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                listener.close()
                os.close(lifeline)
                for i, fd in enumerate(fds):
                    os.dup2(fd, i)
                    os.close(fd)
                _monitor(conn, req["spec"], req["cmd"])
            except BaseException as e:  # noqa: BLE001
                print(f"autograder.forkserver: {e}", file=sys.stderr, flush=True)
            os._exit(127)
        for fd in fds:
            os.close(fd)
        conn.close()


# ------------------------------------------------------------------ the grader's side
class WarmKernel:
    """A kernel started by a fork server, shaped like ``subprocess.Popen`` for jupyter_client."""

    stdin = stdout = stderr = None

    def __init__(self, conn: socket.socket, pid: int) -> None:
        self.conn, self.pid, self.returncode = conn, pid, None
        self._buf = b""

    def _read(self, timeout: float | None) -> None:
        while self.returncode is None and b"\n" not in self._buf:
            if not select.select([self.conn], [], [], timeout)[0]:
                return
            chunk = self.conn.recv(4096)
            if not chunk:
                self.returncode = -signal.SIGKILL  # the monitor died: so did its kernel
                break
            self._buf += chunk
        if self.returncode is None and b"\n" in self._buf:
            status = json.loads(self._buf.split(b"\n", 1)[0])["status"]
            self.returncode = os.waitstatus_to_exitcode(status)
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

    def __init__(self, log: Path | None = None) -> None:
        self.log, self.zygote, self.why = log, None, ""
        self.failed: set = set()

    def get(self, job) -> "Zygote | None":  # noqa: ANN001  (a jobs.Job)
        """The fork server for ``job``, started if need be; None where none can start (why: ``self.why``)."""
        key = (preload_for(job.master, job.withheld), tuple(job.withheld))
        if self.zygote is not None and (self.zygote.key != key or not self.zygote.alive()):
            self.close()
        if self.zygote is None and key not in self.failed:
            try:
                self.zygote = Zygote(*key, log=self.log)
            except Unavailable as e:
                self.failed.add(key)
                self.why = str(e)
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
            socket.send_fds(conn, [json.dumps({"spec": spec, "cmd": cmd}).encode()], fds)
            buf = b""
            while b"\n" not in buf:
                chunk = conn.recv(4096)
                if not chunk:
                    raise Unavailable("the fork server closed the connection")
                buf += chunk
            answer = json.loads(buf.split(b"\n", 1)[0])
            if "pid" not in answer:
                raise Unavailable(answer.get("error", "no pid"))
            conn.settimeout(None)
            kernel = WarmKernel(conn, int(answer["pid"]))
            kernel._buf = buf.split(b"\n", 1)[1]
            return kernel
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
        import shutil
        shutil.rmtree(self.folder, ignore_errors=True)
