"""Set up the course's hub on one machine, then start JupyterHub (``./run hub``).

Every setting comes from an environment variable, so the same steps serve
``./run hub`` and the tests (``tests/hub/``):

========================= ===================================== =======================
variable                  what                                  default
========================= ===================================== =======================
AUTODIFF_HUB_STATE        hub database, exchange              ``/srv/autodiff-hub``
AUTODIFF_HUB_PORT         public port (the hub API: port + 1,   ``8000``
                          the proxy API: port + 2), on loopback
AUTODIFF_HUB_IP           address the proxy listens on          ``127.0.0.1``
AUTODIFF_HUB_INSTRUCTORS  instructor accounts (comma separated) ``instructor``
AUTODIFF_HUB_STUDENTS     student accounts (comma separated)    ``student1,student2``
AUTODIFF_HUB_AUTH         ``test`` (one shared password, demo   ``test``
                          accounts created) or ``pam``
AUTODIFF_HUB_PASSWORD     the test password                     random, in STATE
AUTODIFF_HUB_SUBDOMAINS   ``1``: every user on their own origin ``1``
                          (``<user>.localhost``), which is what
                          lets the formgrader load in its iframe
AUTODIFF_HUB_API_TOKEN    a token for an admin service (tests)  none
========================= ===================================== =======================

The steps, in order: accounts (hub users are system users, homes ``0700``),
the nbgrader exchange with the permissions nbgrader documents, the
instructor's course folder (``~instructor/autodiff``, in a ``0700`` home), the checkout's
``source/`` closed to other users, then ``exec jupyterhub``.
"""
from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]
VENV = CHECKOUT / ".venv"
COURSE_ID = "autodiff"
# nbgrader's exchange layout and modes (nbgrader/exchange/default/release_assignment.py and
# the "managing assignment files" docs): everyone may create in the root; students may write
# into inbound/ but not list it; feedback/ files are found by a hash only their owner knows.
EXCHANGE_ROOT_MODE = 0o777
EXCHANGE_MODES = {"": 0o755, "outbound": 0o755, "inbound": 0o2733, "feedback": 0o711}
COURSE_FILES = ("source", "release", "course.toml")


def _names(raw: str) -> list[str]:
    return [n.strip() for n in raw.split(",") if n.strip()]


@dataclass(frozen=True)
class Settings:
    """Where the hub keeps its state and who may log in (see the module doc)."""

    state: Path
    port: int
    ip: str
    instructors: tuple[str, ...]
    students: tuple[str, ...]
    auth: str
    subdomains: bool
    api_token: str | None
    course_id: str = COURSE_ID

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        """Read the ``AUTODIFF_HUB_*`` variables, with the defaults of the module doc."""
        env = dict(os.environ if env is None else env)
        auth = env.get("AUTODIFF_HUB_AUTH", "test")
        if auth not in ("test", "pam"):
            raise SystemExit(f"AUTODIFF_HUB_AUTH={auth!r}: use 'test' or 'pam' (docs/deploy.md shows OAuth/LTI)")
        s = cls(state=Path(env.get("AUTODIFF_HUB_STATE", "/srv/autodiff-hub")).resolve(),
                port=int(env.get("AUTODIFF_HUB_PORT", "8000")),
                ip=env.get("AUTODIFF_HUB_IP", "127.0.0.1"),
                instructors=tuple(_names(env.get("AUTODIFF_HUB_INSTRUCTORS", "instructor"))),
                students=tuple(_names(env.get("AUTODIFF_HUB_STUDENTS", "student1,student2"))),
                auth=auth, subdomains=env.get("AUTODIFF_HUB_SUBDOMAINS", "1") == "1",
                api_token=env.get("AUTODIFF_HUB_API_TOKEN") or None)
        if len(s.instructors) != 1:
            raise SystemExit("one instructor account owns the course folder (nbgrader's 'one class, one "
                             "grader'); docs/deploy.md shows several graders")
        if set(s.instructors) & set(s.students):
            raise SystemExit("an account cannot be both instructor and student")
        return s

    @property
    def instructor(self) -> str:
        return self.instructors[0]

    @property
    def exchange(self) -> Path:
        return self.state / "exchange"

    @property
    def course(self) -> Path:
        """The nbgrader course folder, in the instructor's home (the formgrader serves only
        folders below its server's root): ``~instructor/<course_id>``."""
        return Path(pwd.getpwnam(self.instructor).pw_dir) / self.course_id

    @property
    def public_url(self) -> str:
        return f"http://localhost:{self.port}"

    def user_host(self, user: str) -> str:
        """The Host a browser sends for ``user``'s server (subdomains: ``user.localhost:port``)."""
        return f"{user}.localhost:{self.port}" if self.subdomains else f"localhost:{self.port}"


def password(settings: Settings) -> str:
    """The test authenticator's password: ``AUTODIFF_HUB_PASSWORD``, else one kept in the state folder."""
    if os.environ.get("AUTODIFF_HUB_PASSWORD"):
        return os.environ["AUTODIFF_HUB_PASSWORD"]
    f = settings.state / "test-password"
    if not f.exists():
        f.write_text(secrets.token_urlsafe(12))
        f.chmod(0o600)
    return f.read_text().strip()


def ensure_accounts(names: list[str] | tuple[str, ...], create: bool = True) -> list[str]:
    """Make every name a system account with a private home (``0700``); return those created.

    With ``create=False`` (PAM: the university's accounts) a missing account is an error."""
    made = []
    for name in names:
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            if not create:
                raise SystemExit(f"no system account {name!r}: with PAM every hub user must exist")
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group",
                            "--key", "HOME_MODE=0700", name], check=True, capture_output=True)
            pw = pwd.getpwnam(name)
            made.append(name)
        os.chmod(pw.pw_dir, 0o700)
    return made


def remove_accounts(names: list[str] | tuple[str, ...]) -> None:
    """Delete accounts made by :func:`ensure_accounts`, with their homes (tests clean up with this)."""
    for name in names:
        subprocess.run(["userdel", "--remove", name], capture_output=True)


def _own(path: Path, user: str) -> None:
    pw = pwd.getpwnam(user)
    os.chown(path, pw.pw_uid, pw.pw_gid)


def make_exchange(root: Path, course_id: str, instructor: str) -> Path:
    """The exchange root (``0777``, as nbgrader documents) and the course's folders in it,
    owned by the instructor with nbgrader's modes; returns the course's exchange folder."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(EXCHANGE_ROOT_MODE)
    course = root / course_id
    for sub, mode in EXCHANGE_MODES.items():
        d = course / sub if sub else course
        d.mkdir(exist_ok=True)
        _own(d, instructor)
        d.chmod(mode)
    return course


def _chown_tree(root: Path, user: str) -> None:
    pw = pwd.getpwnam(user)
    for dirpath, dirnames, filenames in os.walk(root):
        for n in [dirpath, *(os.path.join(dirpath, f) for f in dirnames + filenames)]:
            os.chown(n, pw.pw_uid, pw.pw_gid, follow_symlinks=False)


def make_course(course: Path, checkout: Path, instructor: str, exchange: Path, course_id: str) -> Path:
    """The instructor's nbgrader course folder: ``source/``, ``release/`` and ``course.toml``
    copied from the checkout the first time, an ``nbgrader_config.py`` that loads the course's
    settings, all owned by the instructor and closed to everyone else (``0700``)."""
    course.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        src, dst = checkout / name, course / name
        if dst.exists() or not src.exists():
            continue
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(src, dst)
    (course / "nbgrader_config.py").write_text(
        "# Written by deploy/jupyterhub/hubsetup.py: the course's nbgrader settings, this folder, the exchange.\n"
        f"load_subconfig({str(checkout / 'autograder' / 'nbgrader_config.py')!r})  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(course)!r}  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {course_id!r}  # noqa: F821\n"
        f"c.Exchange.root = {str(exchange)!r}  # noqa: F821\n")
    _chown_tree(course, instructor)
    course.chmod(0o700)
    return course


# The solutions. (autograder/hidden/ stays readable: the grading sandbox's throw-away uids
# import it, and its code is public by design; what is secret is COURSE_CHECK_SALT in the
# grader's environment, which no user's server receives.)
PRIVATE = ("source",)


def lock_checkout(checkout: Path) -> list[Path]:
    """Close the checkout's solutions (``source/``) to other users; the environment (``.venv``)
    and the ``course`` package stay readable, as every student's kernel needs them."""
    closed = []
    for name in PRIVATE:
        p = checkout / name
        if p.is_dir():
            p.chmod(p.stat().st_mode & ~0o007)
            closed.append(p)
    return closed


def make_traversable(path: Path) -> list[Path]:
    """Let every user pass through (``o+x``, not list) each folder above ``path``; return those changed.

    Every user's server runs the course's ``.venv``, whose interpreter may live under a private
    folder (pyenv in ``/root``, mode ``0700``): without this, no user's server can start."""
    changed = []
    for d in reversed(Path(os.path.realpath(path)).parents):
        mode = d.stat().st_mode
        if not mode & 0o001:
            d.chmod(mode | 0o001)
            changed.append(d)
    return changed


def prepare(settings: Settings) -> None:
    """Every step before JupyterHub starts (see the module doc), in order."""
    if os.geteuid() != 0:
        raise SystemExit("./run hub starts one server per user as that user: run it as root (sudo ./run hub)")
    settings.state.mkdir(parents=True, exist_ok=True)
    settings.state.chmod(0o755)  # users reach the exchange through it
    made = ensure_accounts(settings.instructors + settings.students, create=settings.auth == "test")
    if made:
        print(f"[hub] created system accounts: {', '.join(made)}", file=sys.stderr)
    for target in (Path(sys.base_prefix) / "bin", VENV / "bin", CHECKOUT / "course"):
        for d in make_traversable(target):
            print(f"[hub] {d}: others may now pass through it (o+x), to run {target}", file=sys.stderr)
    make_exchange(settings.exchange, settings.course_id, settings.instructor)
    make_course(settings.course, CHECKOUT, settings.instructor, settings.exchange, settings.course_id)
    lock_checkout(CHECKOUT)


def main() -> None:
    """``./run hub``: prepare, say where to log in, replace this process with JupyterHub."""
    settings = Settings.from_env()
    prepare(settings)
    if settings.auth == "test":
        os.environ["AUTODIFF_HUB_PASSWORD"] = password(settings)
        print(f"[hub] test login: {', '.join(settings.instructors + settings.students)} with password "
              f"{os.environ['AUTODIFF_HUB_PASSWORD']} (in {settings.state / 'test-password'})", file=sys.stderr)
    print(f"[hub] open {settings.public_url}/  (course folder {settings.course}, exchange {settings.exchange})",
          file=sys.stderr, flush=True)
    hub = VENV / "bin" / "jupyterhub"
    os.chdir(settings.state)
    os.execv(str(hub), [str(hub), "-f", str(HERE / "jupyterhub_config.py"), *sys.argv[1:]])


if __name__ == "__main__":
    main()
