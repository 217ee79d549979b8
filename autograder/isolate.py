"""Run one student's kernel in a sandbox: its own scratch folder, limits, no network.

The worker starts each kernel through this module (``python -m
autograder.isolate SPEC -- python -m ipykernel_launcher -f CONN``):

1. *Host stage* (still the instructor's process): fork a child into new
   user, mount, network and pid namespaces and write its uid map. Inside,
   uid 0 is the instructor (to set up mounts) and uid 1000 is a host uid of
   the kernel's own (one per worker, from 100000 up, never shared between
   concurrent batches: :func:`claim_uid`; when grading runs as root), so
   that ``RLIMIT_NPROC`` counts only this kernel's processes (Linux never
   enforces it for root) and file permissions protect the rest of the
   machine. Without root, only the instructor's own uid can be mapped. The
   new network namespace has no interface up: no network at all. In the pid
   namespace the student's processes die with the kernel, and ``/proc``
   shows no other process.
2. *Namespace stage* (pid 1 of the new pid namespace): a tmpfs over every
   folder that may hold something the student must not see (the course root
   with ``source/``, ``submitted/`` and the gradebook; the batch's scratch
   root with the other submissions; ``/tmp``, ``$HOME``, ...); bind back,
   read-only, the Python environment and the ``course`` package, and
   read-write only this submission's scratch folder; limits (``RLIMIT_DATA``
   1 GiB of memory, ``RLIMIT_AS`` as a backstop, ``RLIMIT_NPROC``,
   ``RLIMIT_FSIZE``, no core dumps); then drop to uid 1000, which clears
   every capability: student code cannot unmount the tmpfs to look
   underneath (a user namespace of its own gets copies of these mounts,
   locked). Then exec the kernel with a clean environment.

Where namespaces are unavailable (user namespaces disabled), the kernel still
runs with the resource limits in its scratch folder, and :func:`probe` says
which mechanisms are active: autograde prints that and the class report
records it; it never pretends.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 32, 4096, 16384


@dataclass
class Limits:
    """Per-kernel limits (the trusted external graders use 1 GiB and ~1000 processes)."""

    memory: int = 1 << 30  #: bytes of memory the kernel may allocate (RLIMIT_DATA: heap and private maps)
    #: address space on top of ``memory`` (RLIMIT_AS, a backstop): shared libraries and thread stacks
    #: are mapped, not used; torch, numpy and the kernel's threads map ~2 GiB, so 1 GiB of RLIMIT_AS
    #: alone would stop ``import torch``
    address_space_extra: int = 3 << 30
    nproc: int = 256  #: processes and threads (RLIMIT_NPROC)
    fsize: int = 64 << 20  #: largest file the student may write (RLIMIT_FSIZE)
    disk: int = 128 << 20  #: bytes the student may write in all (a tmpfs of this size is the working folder)
    cell_timeout: int = 60  #: seconds per cell (then interrupt)
    timeout: int = 300  #: seconds per submission, kernel start included (then kill)
    output_bytes: int = 2 << 20  #: output kept per cell; the rest is dropped and flagged
    notebook_output_bytes: int = 8 << 20  #: output kept per notebook; the rest is dropped and flagged


@dataclass
class Sandbox:
    """How kernels are isolated on this machine (filled in by :func:`probe`)."""

    namespaces: bool = False  #: unshare works: fs hiding, no network, pid namespace
    uid: int | None = None  #: host uid kernels run as (root only), else None
    mechanisms: dict[str, str] = field(default_factory=dict)  #: name -> "active" or why not
    #: kernels start from a fork server (:mod:`autograder.warmstart`): "active", "off" or why not;
    #: a speed-up, not a mechanism: each mechanism above holds for warm and cold kernels alike
    warm_start: str = "off"

    def summary(self) -> str:
        warm = f"; warm start: {self.warm_start}" if self.warm_start != "off" else ""
        return "; ".join(f"{k}: {v}" for k, v in self.mechanisms.items()) + warm


CHECKS = ROOT / "autograder" / "hidden"  #: the hidden checks (``course_hidden``), which test cells import
CHECKS_MOUNT = "/checks"  #: where the sandbox shows them (read-only), on the kernel's PYTHONPATH


def readonly_paths() -> list[str]:
    """What the course provides to every kernel, read-only, at the same path: the Python
    environment and the ``course`` package (the hidden checks go to CHECKS_MOUNT)."""
    import course
    paths = [sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(course.__file__))]
    out: list[str] = []
    for p in map(os.path.realpath, paths):
        if p not in out and os.path.exists(p):
            out.append(p)
    return out


def module_file(name: str) -> str | None:
    """The file (a module) or folder (a package) of an importable module, without running it."""
    import importlib.util
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    if spec.submodule_search_locations:
        return os.path.dirname(os.path.realpath(spec.origin))
    return os.path.realpath(spec.origin)


def withheld_stubs(modules, folder: Path, assignment: str) -> dict[str, str]:
    """Stubs (in ``folder``) to bind over each withheld module: importing one raises an
    ImportError that says why. Returns module path -> stub path; a package is replaced by a
    folder holding only the stub ``__init__.py``, and compiled copies by empty files."""
    out: dict[str, str] = {}
    folder.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(modules):
        path = module_file(name)
        if path is None:
            continue
        msg = (f"{name} is the reference answer of this assignment ({assignment}) and is withheld "
               f"while it is graded: the exercise must be solved with your own code")
        text = f"raise ImportError({msg!r}, name={name!r})\n"
        if os.path.isdir(path):
            stub = folder / f"pkg{k}"
            stub.mkdir(exist_ok=True)
            (stub / "__init__.py").write_text(text)
        else:
            stub = folder / f"mod{k}.py"
            stub.write_text(text)
            cache = Path(path).parent / "__pycache__"
            empty = folder / "empty"
            empty.write_bytes(b"")
            for pyc in (cache.glob(Path(path).stem + ".*.pyc") if cache.is_dir() else []):
                out[str(pyc)] = str(empty)
        out[path] = str(stub)
    return out


def kernel_argv(scratch: Path, kernel_cmd: list[str], limits: Limits, sandbox: Sandbox,
                env: dict[str, str] | None = None, withheld=(), assignment: str = "") -> list[str]:
    """The command line that starts ``kernel_cmd`` inside the sandbox of ``scratch`` (``env``:
    variables added to the kernel's clean environment; ``withheld``: modules made unimportable).
    The new root and the stubs are built beside ``scratch``."""
    stubs = withheld_stubs(withheld, scratch.parent / f"{scratch.name}.withheld", assignment) if withheld else {}
    spec = {"scratch": str(scratch), "newroot": str(scratch.parent / f"{scratch.name}.root"),
            "ro": readonly_paths(), "checks": str(sourceless_checks()) if CHECKS.is_dir() else None,
            "stubs": stubs, "limits": asdict(limits),
            "uid": sandbox.uid, "namespaces": sandbox.namespaces, "root": str(ROOT), "env": env or {}}
    return [sys.executable, "-m", "autograder.isolate", json.dumps(spec), "--", *kernel_cmd]


def split_argv(argv: list[str]) -> tuple[dict, list[str]]:
    """The spec and the kernel's command of a :func:`kernel_argv` command line."""
    sep = argv.index("--")
    return json.loads(argv[sep - 1]), argv[sep + 1:]


def sourceless_checks() -> Path:
    """The hidden checks compiled to bytecode only, in a folder to bind at CHECKS_MOUNT.

    The kernel must import ``course_hidden`` (its checks ask the student's code their
    questions), so whatever is bound can be read by the student's code; binding compiled
    modules with no source makes ``inspect.getsource`` and tracebacks show nothing of the
    hidden checks' text (feedback also cuts their lines, should any reach an output). Built
    once per content (the folder's name is a digest of the sources), world-readable."""
    import hashlib
    import py_compile
    sources = sorted((CHECKS / "course_hidden").glob("*.py"))
    digest = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in sources)
                            + sys.version.encode()).hexdigest()[:16]
    final = Path(tempfile.gettempdir()) / f"autograder-checks-{digest}"
    if (final / "course_hidden" / "__init__.pyc").is_file():
        return final
    tmp = Path(tempfile.mkdtemp(prefix="autograder-checks-"))
    (tmp / "course_hidden").mkdir()
    for src in sources:
        py_compile.compile(str(src), cfile=str(tmp / "course_hidden" / f"{src.stem}.pyc"),
                           dfile=f"<hidden check {src.stem}>", doraise=True)
    for path in [tmp, tmp / "course_hidden", *(tmp / "course_hidden").iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    try:
        os.replace(tmp, final)
    except OSError:  # another process built it first
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def prepare_scratch(scratch: Path, sandbox: Sandbox) -> None:
    """Hand the scratch folder to the sandbox's uid (the only place it may write)."""
    if sandbox.uid is None:
        return
    for dirpath, dirnames, filenames in os.walk(scratch):
        os.chown(dirpath, sandbox.uid, sandbox.uid)
        for f in filenames:
            os.chown(os.path.join(dirpath, f), sandbox.uid, sandbox.uid)


def _process_count(uid: int) -> int:
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = os.stat(f"/proc/{d}/task")
                if st.st_uid == uid:
                    n += len(os.listdir(f"/proc/{d}/task"))
            except OSError:
                pass
    return n


def _set_limits(limits: dict, counted_uid: int | None) -> None:
    """Apply the limits; ``counted_uid``: a uid of the kernel's own (else RLIMIT_NPROC leaves room
    for the instructor's processes, which it counts too)."""
    mem, nproc = limits["memory"], limits["nproc"]
    if counted_uid is None:
        nproc += _process_count(os.getuid())
    for res, val in ((resource.RLIMIT_DATA, mem), (resource.RLIMIT_AS, mem + limits["address_space_extra"]),
                     (resource.RLIMIT_NPROC, nproc),
                     (resource.RLIMIT_FSIZE, limits["fsize"]), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(res, (val, val))


CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x10000000, 0x20000000, 0x40000000
MS_PRIVATE, MS_NOEXEC = 1 << 18, 8
PR_SET_PDEATHSIG = 1
INNER_UID = 1000  #: the kernel's uid inside its user namespace (``spec["uid"]`` outside)


def _die_with_parent(libc) -> None:
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _exit_like(status: int) -> None:
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)


def _exec(cmd: list[str], env: dict[str, str]) -> None:
    """How a cold kernel starts: a new interpreter (the warm one: :func:`autograder.forkserver.start`)."""
    os.execvpe(cmd[0], cmd, env)


Start = Callable[[list[str], dict[str, str]], None]  #: runs ``cmd`` with ``env`` in this process; never returns


def _host_stage(spec: dict, cmd: list[str]) -> None:
    """The cold start (this module run as a program): limits only (no namespaces), or
    :func:`spawn` the sandbox and wait for it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts are for the kernel, not the wrapper
    if not spec["namespaces"]:
        _limited_start(spec, cmd, _exec)
    waited, _kernel = spawn(spec, cmd, _exec)
    _exit_like(os.waitpid(waited, 0)[1])


def _limited_start(spec: dict, cmd: list[str], start: Start) -> None:
    """Without namespaces: the limits, the working folder, a clean environment, then ``start``."""
    _set_limits(spec["limits"], None)
    os.chdir(os.path.join(spec["scratch"], "work"))
    start(cmd, _kernel_env(spec))


def spawn(spec: dict, cmd: list[str], start: Start = _exec) -> tuple[int, int]:
    """Fork the sandboxed kernel: ``(pid to wait for, the kernel's pid)``, both children of
    this process's pid namespace. ``start`` runs the kernel at the end (exec, or the warm start).

    With namespaces: a child unshares into new namespaces, this process writes its uid map,
    and the child forks the kernel as pid 1 of the new pid namespace (:func:`_ns_stage`);
    without: one child, limited (:func:`_limited_start`)."""
    if not spec["namespaces"]:
        pid = os.fork()
        if pid == 0:
            try:
                _limited_start(spec, cmd, start)
            except BaseException as e:  # noqa: BLE001  (report; never fall back into the parent's code)
                print(f"autograder.isolate: {e}", file=sys.stderr, flush=True)
            os._exit(127)
        return pid, pid
    libc = ctypes.CDLL(None, use_errno=True)
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    kid_r, kid_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 127
        try:
            for fd in (ready_r, go_w, kid_r):
                os.close(fd)
            _die_with_parent(libc)
            if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID) != 0:
                raise OSError(ctypes.get_errno(), "unshare: " + os.strerror(ctypes.get_errno()))
            os.write(ready_w, b"1")
            if os.read(go_r, 1) != b"1":
                raise RuntimeError("the uid map could not be written")
            os.setgid(0)
            os.setuid(0)
            _die_with_parent(libc)  # a change of credentials clears the parent-death signal
            init = os.fork()  # pid 1 of the new pid namespace
            if init == 0:
                os.close(kid_w)
                _die_with_parent(libc)
                _ns_stage(spec, cmd, libc, start)
            os.write(kid_w, str(init).encode())
            os.close(kid_w)
            _exit_like(os.waitpid(init, 0)[1])
        except BaseException as e:  # noqa: BLE001  (report; never fall back into the parent's code)
            print(f"autograder.isolate: {e}", file=sys.stderr, flush=True)
        os._exit(code)
    for fd in (ready_w, kid_w):
        os.close(fd)
    ok = os.read(ready_r, 1) == b"1"
    if ok:
        if os.geteuid() == 0 and spec["uid"] is not None:
            # in-namespace root is the instructor (to set up mounts); the kernel runs as INNER_UID
            uid_map = f"0 0 1\n{INNER_UID} {spec['uid']} 1\n"
            gid_map = f"0 0 1\n{INNER_UID} {spec['uid']} 1\n"
        else:  # unprivileged: only our own ids can be mapped
            uid_map, gid_map = f"0 {os.geteuid()} 1\n", f"0 {os.getegid()} 1\n"
            with open(f"/proc/{pid}/setgroups", "w") as f:
                f.write("deny")
        with open(f"/proc/{pid}/uid_map", "w") as f:
            f.write(uid_map)
        with open(f"/proc/{pid}/gid_map", "w") as f:
            f.write(gid_map)
    os.write(go_w, b"1" if ok else b"0")  # (the child holds go_r until it reads: no broken pipe)
    for fd in (ready_r, go_r, go_w):
        os.close(fd)
    with os.fdopen(kid_r, "rb") as f:
        kernel = f.read().decode()
    return pid, int(kernel) if kernel.isdigit() else pid


def _mount(libc, src: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    enc = (lambda s: s.encode() if s is not None else None)
    if libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {src} on {target}: {os.strerror(err)}")


def _ns_stage(spec: dict, cmd: list[str], libc, start: Start = _exec) -> None:
    """Inside the namespaces, as pid 1: build the allow-list root and pivot into it
    (:mod:`autograder.newroot`), limit, drop to INNER_UID, ``start``."""
    from . import newroot
    scratch = spec["scratch"]
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE, None)
    with open("/proc/self/uid_map") as f:
        mapped = any(line.split()[0] == str(INNER_UID) for line in f if line.strip())
    newroot.enter(libc, spec, spec.get("stubs") or {}, INNER_UID, mapped)
    os.chdir(os.path.join(scratch, "work"))
    _set_limits(spec["limits"], spec["uid"] if mapped else None)
    if mapped:
        os.setgroups([])
        os.setgid(INNER_UID)
        os.setuid(INNER_UID)  # drops every capability: the mounts above cannot be undone
        _die_with_parent(libc)  # cleared by setuid: set it again
    start(cmd, _kernel_env(spec))


def _kernel_env(spec: dict) -> dict:
    """A clean environment: nothing of the instructor's, single-threaded BLAS."""
    work = os.path.join(spec["scratch"], "work")
    env = {"PATH": os.pathsep.join([os.path.join(sys.prefix, "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
           "HOME": work, "IPYTHONDIR": os.path.join(spec["scratch"], "ipython"),
           "MPLCONFIGDIR": os.path.join(spec["scratch"], "mpl"), "MPLBACKEND": "Agg",
           "JUPYTER_RUNTIME_DIR": os.path.join(spec["scratch"], "conn"), "LANG": "C.UTF-8",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
           "TMPDIR": work, "PYTHONPATH": CHECKS_MOUNT if spec["namespaces"] else str(CHECKS)}
    env.update(spec.get("env") or {})
    return env


UID_BASE, UID_COUNT = 100_000, 4096


def _uids_mapped(first: int, count: int) -> bool:
    """Whether this process's user namespace maps the host uids ``first .. first+count-1`` (not so
    for root inside a user namespace of its own: it cannot hand files to such a uid)."""
    try:
        with open("/proc/self/uid_map") as f:
            for line in f:
                inner, _outer, n = map(int, line.split())
                if inner <= first and first + count <= inner + n:
                    return True
    except (OSError, ValueError):
        return False
    return False


def claim_uid():
    """A sandbox uid no other grading process on this machine uses: ``(uid, lock)``; keep ``lock``
    open while the uid is in use. ``(None, None)`` when not root (kernels run as the instructor).

    Two batches at once (two courses, or tests in parallel) must not share a uid: it would share
    RLIMIT_NPROC, and :func:`reap` of one would kill the other's kernels."""
    import fcntl
    if os.geteuid() != 0 or not _uids_mapped(UID_BASE, UID_COUNT):
        return None, None
    folder = Path(tempfile.gettempdir()) / "autograder-uids"
    folder.mkdir(exist_ok=True)
    for uid in range(UID_BASE, UID_BASE + UID_COUNT):
        lock = open(folder / f"{uid}.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        reap(uid)  # leftovers of a batch that was killed
        return uid, lock
    raise RuntimeError("no free sandbox uid")


def reap(uid: int | None) -> int:
    """Kill every process of a sandbox uid (one worker slot's own); returns how many.

    The kernel's process group, its parent-death signal and its pid namespace
    normally take everything down with it; this catches a kernel that left its
    process group and cleared its parent-death signal."""
    if uid is None or os.geteuid() != 0:
        return 0
    killed = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as f:
                real = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
            if real == uid:
                os.kill(int(d), signal.SIGKILL)
                killed += 1
        except (OSError, StopIteration, ValueError):
            pass
    return killed


PROBE = r"""
import json, os, socket, sys
out = {}
root = sys.argv[1]
out["hidden"] = not os.path.exists(os.path.join(root, "autograder"))
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=2); s.close(); out["network"] = False
except OSError:
    out["network"] = True
try:
    import course
    _p = os.path.join(os.path.dirname(course.__file__), ".probe")
    open(_p, "w").close(); os.remove(_p); out["readonly"] = False
except OSError:
    out["readonly"] = True
import resource
out["memory"] = resource.getrlimit(resource.RLIMIT_DATA)[0]
out["as"] = resource.getrlimit(resource.RLIMIT_AS)[0]
out["nproc"] = resource.getrlimit(resource.RLIMIT_NPROC)[0]
out["pid"] = os.getpid()
out["uid"] = os.getuid()
out["top"] = sorted(os.listdir("/"))
st = os.statvfs(".")
out["disk"] = st.f_blocks * st.f_frsize
fds = {}
for fd in os.listdir("/proc/self/fd"):
    try:
        fds[fd] = os.readlink("/proc/self/fd/" + fd)
    except OSError:  # the listing's own descriptor, closed by now
        pass
out["fds"] = sorted(t for fd, t in fds.items() if int(fd) > 2)
print(json.dumps(out))
"""


def allowed_top(scratch: Path) -> set[str]:
    """The entries of ``/`` that the allow-list root may hold."""
    keep = readonly_paths() + [str(scratch)] + ["/usr", "/lib", "/lib64", "/lib32"]
    return {Path(p).parts[1] for p in keep if len(Path(p).parts) > 1} | {"dev", "proc", "etc", "tmp",
                                                                         CHECKS_MOUNT.strip("/")}


def warm_start_wanted() -> bool:
    """Whether kernels start warm (:mod:`autograder.warmstart`): yes, unless
    ``AUTOGRADER_WARM_START=0`` (or a job says ``warm_start=False``)."""
    return os.environ.get("AUTOGRADER_WARM_START", "1") != "0"


def _verdicts(res: dict, limits: Limits, sb: Sandbox, uid: int | None, scratch: Path) -> dict[str, str]:
    """What one probe's report says of each mechanism."""
    yes = lambda ok, why: "active" if ok else f"UNAVAILABLE ({why})"  # noqa: E731
    extra = sorted(set(res["top"]) - allowed_top(scratch))
    return {
        "memory limit": yes(res["memory"] == limits.memory and res["as"] == limits.memory + limits.address_space_extra,
                            "RLIMIT_DATA / RLIMIT_AS not set"),
        "process limit": yes(res["nproc"] != resource.RLIM_INFINITY and (uid is not None or os.geteuid() != 0),
                             "RLIMIT_NPROC is not enforced for root"),
        "unprivileged uid": yes(res["uid"] != 0 or uid is not None, "kernel runs as root"),
        "course and other students hidden": yes(res["hidden"], "no private mount namespace"),
        "no network": yes(res["network"], "no network namespace"),
        "course package read-only": yes(res["readonly"], "no read-only bind mount"),
        "private pid namespace": yes(res["pid"] == 1, "no pid namespace"),
        "allow-list root": yes(sb.namespaces and not extra, f"/ shows {extra[:5]}" if extra else "no mount namespace"),
        "disk quota": yes(sb.namespaces and 0 < res["disk"] <= limits.disk, "no tmpfs for the working folder"),
        "no inherited descriptors": yes(not res["fds"], f"the kernel holds {res['fds'][:3]}"),
    }


def probe(course_root: Path, limits: Limits | None = None, warm: bool | None = None) -> Sandbox:
    """Start a sandboxed Python as a kernel would be, and record what actually holds; then
    (``warm``, by default :func:`warm_start_wanted`) again from a fork server: warm starts are
    used only if they hold every mechanism a cold start holds (:func:`warm_verdict`)."""
    limits = limits or Limits()
    warm = warm_start_wanted() if warm is None else warm
    uid, lock = claim_uid()
    sb = Sandbox(namespaces=True, uid=uid)
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    tmp = Path(tempfile.mkdtemp(prefix="autograde-probe-"))
    try:
        (tmp / "s" / "work").mkdir(parents=True)
        prepare_scratch(tmp, sb)
        cmd = [sys.executable, "-c", PROBE, str(course_root), str(port)]
        res = None
        for ns in (True, False):
            sb.namespaces = ns
            argv = kernel_argv(tmp / "s", cmd, limits, sb)
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                                  env=dict(os.environ, PYTHONPATH=str(ROOT)))
            if proc.returncode == 0:
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                break
            why = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            sb.mechanisms["namespaces"] = f"UNAVAILABLE ({why[:120]})"
        if res is None:
            raise RuntimeError("cannot start a sandboxed Python at all")
        m = _verdicts(res, limits, sb, uid, tmp / "s")
        sb.mechanisms.update(m)
        if sb.namespaces:
            sb.mechanisms["namespaces"] = "active"
        if warm:
            sb.warm_start = _probe_warm(sb, split_argv(argv)[0], cmd, limits, uid, tmp / "s")
        return sb
    finally:
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)
        if lock is not None:
            lock.close()


def _probe_warm(sb: Sandbox, spec: dict, cmd: list[str], limits: Limits, uid: int | None, scratch: Path) -> str:
    """The probe again, from a fork server: "active", or why warm start is not used
    (:func:`warm_verdict`)."""
    from . import warmstart
    try:
        z = warmstart.Zygote()
    except warmstart.Unavailable as e:
        return f"UNAVAILABLE ({e})"
    try:
        code, out, err = z.run(spec, cmd)
    except warmstart.Unavailable as e:
        return f"UNAVAILABLE ({e})"
    finally:
        z.close()
    if code != 0:
        return f"UNAVAILABLE (the probe failed: {(err.strip().splitlines() or ['no output'])[-1][:120]})"
    return warm_verdict(sb.mechanisms, _verdicts(json.loads(out.strip().splitlines()[-1]), limits, sb, uid, scratch))


def warm_verdict(cold: dict[str, str], warm: dict[str, str]) -> str:
    """Whether kernels may start warm: "active" if warm kernels hold every mechanism that cold
    ones hold, else why not (kernels then start cold, with everything the probe found)."""
    lost = [k for k, v in warm.items() if v != "active" and cold.get(k) == "active"]
    return "active" if not lost else f"UNAVAILABLE (warm kernels lack: {', '.join(lost)})"


def main(argv: list[str]) -> None:
    _host_stage(*split_argv(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
