"""The kernel's filesystem: an allow-list root, built inside its mount namespace.

:func:`enter` (called by :mod:`autograder.isolate` as pid 1 of the sandbox, still root of
its user namespace) mounts an empty tmpfs, puts into it only what the kernel needs, and
makes it ``/`` with ``pivot_root``; the machine's own root is then detached, so nothing
the list does not name exists for the kernel, whatever the machine holds (``/srv``,
``/opt``, other users' homes, the instructor's course):

* read-only: the Python environment (``sys.prefix``, ``sys.base_prefix``), the system
  library folders the interpreter and its extension modules load from, the ``course``
  package (``spec["ro"]``), the hidden checks at ``/checks``, and stubs over the withheld
  modules;
* read-write: this submission's scratch folder, on a tmpfs of ``limits.disk`` bytes (the
  total the student's code may write: ``work/`` is the kernel's working folder, ``$HOME``
  and ``$TMPDIR``), but for the kernel's sockets folder ``conn/`` and the answers file,
  bound from the host's scratch folder where the grader reads them;
* ``/tmp``: a link to the working folder (read-only when the scratch folder is under ``/tmp``);
* minimal ``/dev`` (null, zero, full, random, urandom, a small ``/dev/shm``), a fresh
  ``/proc`` of the kernel's own pid namespace, and an ``/etc`` holding only a passwd and
  group file that name the kernel's uid, and the dynamic loader's cache.
"""
from __future__ import annotations

import ctypes
import os
import platform

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41}
#: system folders the interpreter and compiled extensions load from (those that exist)
SYSTEM_DIRS = ["/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/lib32", "/usr/local/lib"]
DEVICES = ["null", "zero", "full", "random", "urandom"]
ETC_FILES = ["ld.so.cache", "ld.so.conf", "nsswitch.conf", "localtime"]


def _mount(libc, src: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    enc = (lambda s: s.encode() if s is not None else None)
    if libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {src} on {target}: {os.strerror(err)}")


def _inside(new: str, path: str) -> str:
    return os.path.join(new, path.lstrip("/"))


def _bind(libc, src: str, new: str, readonly: bool, target: str | None = None) -> None:
    """Bind ``src`` at the same path (or ``target``) in the new root; symlinks are copied as links."""
    dst = _inside(new, target or src)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.islink(src) and target is None:
        if not os.path.lexists(dst):
            os.symlink(os.readlink(src), dst)
        return
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    elif not os.path.exists(dst):
        open(dst, "w").close()
    _mount(libc, src, dst, None, MS_BIND | MS_REC, None)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | (MS_RDONLY if readonly else 0)
    if not src.startswith("/dev/"):
        flags |= MS_NODEV
    _mount(libc, None, dst, None, flags, None)


def _pivot(libc, new: str) -> None:
    """Make ``new`` the root and detach the old one (``pivot_root(".", ".")``)."""
    nr = SYS_PIVOT_ROOT.get(platform.machine())
    if nr is None:
        raise OSError(0, f"pivot_root: unknown syscall number on {platform.machine()}")
    os.chdir(new)
    if libc.syscall(nr, b".", b".") != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"pivot_root: {os.strerror(err)}")
    if libc.umount2(b".", MNT_DETACH) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"detach the old root: {os.strerror(err)}")
    os.chdir("/")


def _etc(new: str, uid: int) -> None:
    os.makedirs(_inside(new, "/etc"), exist_ok=True)
    with open(_inside(new, "/etc/passwd"), "w") as f:
        f.write(f"root:x:0:0:root:/:/bin/sh\nstudent:x:{uid}:{uid}:student:/:/bin/sh\n")
    with open(_inside(new, "/etc/group"), "w") as f:
        f.write(f"root:x:0:\nstudent:x:{uid}:\n")


#: what of the scratch folder the grader reads from outside: bound from the host's copy
SHARED = ("conn", "answers.jsonl")


def _scratch(libc, new: str, scratch: str, disk: int, uid: int | None) -> None:
    """The scratch folder on a tmpfs of ``disk`` bytes, holding a copy of the submission (``work/``)
    and empty ``ipython/``, ``mpl/``; only the kernel's sockets folder (``conn/``) and the answers
    file are bound from the host's scratch folder, where the grader reads them."""
    held = {}
    for top, _dirs, files in os.walk(scratch):
        rel = os.path.relpath(top, scratch)
        if rel.split(os.sep)[0] in SHARED:
            continue
        held[rel] = {f: open(os.path.join(top, f), "rb").read() for f in files if f not in SHARED}
    fds = {name: os.open(os.path.join(scratch, name), os.O_PATH) for name in SHARED
           if os.path.exists(os.path.join(scratch, name))}
    dst = _inside(new, scratch)
    os.makedirs(dst, exist_ok=True)
    owner = f",uid={uid},gid={uid}" if uid is not None else ""
    _mount(libc, "tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, f"size={disk},mode=0755{owner}")
    for rel, files in held.items():
        d = os.path.normpath(os.path.join(dst, rel))
        os.makedirs(d, exist_ok=True)
        for f, data in files.items():
            with open(os.path.join(d, f), "wb") as out:
                out.write(data)
        for p in [d, *(os.path.join(d, f) for f in files)]:
            if uid is not None:
                os.chown(p, uid, uid)
    for name, fd in fds.items():
        target = os.path.join(dst, name)
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(target, exist_ok=True)
        else:
            open(target, "w").close()
        _mount(libc, f"/proc/self/fd/{fd}", target, None, MS_BIND, None)
        os.close(fd)


def enter(libc, spec: dict, stubs: dict[str, str], inner_uid: int, mapped: bool) -> None:
    """Build the allow-list root in ``spec["newroot"]`` and pivot into it (see the module doc).
    ``stubs``: module file -> stub file bound over it."""
    new, scratch, limits = spec["newroot"], spec["scratch"], spec["limits"]
    os.makedirs(new, exist_ok=True)
    _mount(libc, "tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    for p in dict.fromkeys(list(spec["ro"]) + SYSTEM_DIRS):
        if os.path.lexists(p):
            _bind(libc, p, new, readonly=True)
    if spec.get("checks"):
        _bind(libc, spec["checks"], new, readonly=True, target="/checks")
    for module, stub in stubs.items():
        if os.path.exists(module):
            _bind(libc, stub, new, readonly=True, target=module)
    _etc(new, inner_uid)
    for name in ETC_FILES:
        p = os.path.join("/etc", name)
        if os.path.isfile(p) and not os.path.islink(p):
            _bind(libc, p, new, readonly=True)
    os.makedirs(_inside(new, "/dev"), exist_ok=True)
    for d in DEVICES:
        if os.path.exists(f"/dev/{d}"):
            _bind(libc, f"/dev/{d}", new, readonly=False)
    os.symlink("/proc/self/fd", _inside(new, "/dev/fd"))
    os.makedirs(_inside(new, "/dev/shm"))
    _mount(libc, "tmpfs", _inside(new, "/dev/shm"), "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    os.makedirs(_inside(new, "/proc"))
    _mount(libc, "proc", _inside(new, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    _scratch(libc, new, scratch, limits["disk"], inner_uid if mapped else None)
    if not os.path.lexists(_inside(new, "/tmp")):  # (a scratch folder under /tmp made it a plain folder)
        os.symlink(os.path.join(scratch, "work"), _inside(new, "/tmp"))
    _mount(libc, None, new, None, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_RDONLY, "size=16m,mode=0755")
    _pivot(libc, new)
