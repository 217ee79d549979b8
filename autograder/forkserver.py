"""The fork server of warm kernel starts: what runs in it, and in each kernel it forks.

:mod:`autograder.warmstart` (the grader's side) starts one per grading slot and
assignment. :func:`serve` imports the modules it is given once (a finder refuses the
withheld ones and the hidden checks), reports on stdout, then forks a *monitor* per
request: the monitor spawns the sandbox by the same code as a cold kernel
(:func:`autograder.isolate.spawn`: new namespaces, the allow-list root, the limits, the
slot's uid), answers ``{"pid": kernel}`` and later ``{"status": exit status}``, and kills
the sandbox if the grader's end of the connection closes first. In the sandbox, where a cold
kernel would ``exec`` a new Python, :func:`start` makes this interpreter what a new one
would be (environment, ``sys.path`` and import caches, random seeds, ``tempfile``, no
descriptor but 0 to 2) and runs the kernel in it.

Protocol, on a Unix socket in a folder only the grader can open: one JSON line
``{"spec": ..., "cmd": ...}`` (as :func:`autograder.isolate.kernel_argv` builds them) with
three descriptors, the kernel's stdin, stdout and stderr.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

from . import isolate

HIDDEN = "course_hidden"  #: the hidden checks: never imported by a server
NEVER = (HIDDEN, "autograder")  #: never preloaded, whatever a notebook imports
#: the code a server and its grader must share (a checkout edited under a running grader
#: gets cold starts, not a server that speaks another protocol)
VERSION = hashlib.sha256(b"".join(Path(__file__).with_name(n).read_bytes()
                                  for n in ("forkserver.py", "isolate.py", "newroot.py"))).hexdigest()[:16]


def send_line(conn: socket.socket, message: dict, fds: list[int] | None = None) -> None:
    """Send one JSON line (with ``fds``: and these descriptors)."""
    data = json.dumps(message).encode() + b"\n"
    if fds:
        socket.send_fds(conn, [data], fds)
    else:
        conn.sendall(data)


class Lines:
    """The JSON lines that arrive on a socket (``buf``: bytes already received)."""

    def __init__(self, conn: socket.socket, buf: bytes = b"") -> None:
        self.conn, self.buf, self.closed = conn, buf, False

    def next(self, timeout: float | None = None) -> dict | None:
        """The next message; None if none came within ``timeout`` (seconds between chunks) or
        the other end closed (then ``closed``)."""
        while b"\n" not in self.buf:
            if self.closed or not select.select([self.conn], [], [], timeout)[0]:
                return None
            chunk = self.conn.recv(1 << 16)
            if not chunk:
                self.closed = True
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def is_under(name: str, prefixes) -> bool:
    """Whether module ``name`` is one of ``prefixes`` or inside one of those packages."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


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
    import linecache
    import random
    os.environ.clear()
    os.environ.update(env)
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Refuse)]
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [cwd, *extra, *BASE_PATH]
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
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
    for name in [m for m in sys.modules if is_under(m, ("autograder",))]:
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
        if is_under(name, self.names):
            raise ImportError(f"{name} is withheld: not preloaded", name=name)
        return None


def _preload(names, withheld) -> dict:
    t = time.monotonic()
    sys.meta_path.insert(0, _Refuse(_refused(withheld)))
    loaded, failed = [], {}
    for name in names:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except BaseException as e:  # noqa: BLE001  (a module that fails here is imported by the kernel)
            failed[name] = f"{type(e).__name__}: {e}"[:200]
    return {"loaded": loaded, "failed": failed, "seconds": round(time.monotonic() - t, 3),
            "threads": len(os.listdir("/proc/self/task"))}


def _refused(withheld) -> tuple[str, ...]:
    """What a server must never import: the withheld modules and the hidden checks."""
    return (*withheld, HIDDEN)


def _leaked(withheld) -> list[str]:
    """The refused modules that are loaded all the same (none, or the server must not fork)."""
    return [m for m in sys.modules if is_under(m, _refused(withheld))]


def _monitor(conn: socket.socket, spec: dict, cmd: list[str]) -> None:
    """The forked helper of one kernel: spawn it, report its pid and exit status, and kill it
    when the grader's end of ``conn`` closes first.

    The kernel itself is killed, not only its parent: it is pid 1 of its namespace, so all it
    started dies with it, even if it had not yet asked to die with its parent (a grader that
    leaves at once would otherwise race that)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    waited, kernel = isolate.spawn(spec, cmd, start)
    try:
        send_line(conn, {"pid": kernel})
        gone = False
    except OSError:
        gone = True
    try:
        pidfd = os.pidfd_open(waited)
    except (AttributeError, OSError):
        pidfd = None
    while not gone:
        ready = select.select([conn] + ([pidfd] if pidfd is not None else []), [], [], 0.2 if pidfd is None else None)[0]
        done, status = os.waitpid(waited, os.WNOHANG)
        if done:
            break
        gone = conn in ready and not conn.recv(1)  # the grader is gone: so is the kernel
    if gone:
        status = _kill(kernel, waited)
    try:
        send_line(conn, {"status": status})
    except OSError:
        pass
    os._exit(0)


def _kill(kernel: int, waited: int) -> int:
    """Kill the kernel, let its parent (``waited``, which reaps it) exit, and return its status;
    the parent is killed too if it lingers."""
    try:
        os.kill(kernel, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for _ in range(100):
        done, status = os.waitpid(waited, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(waited, signal.SIGKILL)
    return os.waitpid(waited, 0)[1]


def _request(conn: socket.socket) -> tuple[dict, list[int]]:
    """One request: ``{"spec", "cmd"}`` and the kernel's stdin, stdout and stderr (raises
    ValueError for a bad one; the descriptors received are returned either way)."""
    msg, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
    req = Lines(conn, msg).next(timeout=10)
    if req is None or len(fds) != 3:
        raise ValueError(f"a bad request ({len(fds)} descriptors)" if req is not None else "a truncated request")
    return req, fds


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
    report["version"] = VERSION
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
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)
            os._exit(0)
        if listener not in ready:
            continue
        conn, _ = listener.accept()
        fds: list[int] = []
        try:
            req, fds = _request(conn)
            if _leaked(withheld):
                raise ValueError("a withheld module was imported")
        except (OSError, ValueError) as e:
            for fd in fds:
                os.close(fd)
            try:
                send_line(conn, {"error": str(e)})
            except OSError:
                pass
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
