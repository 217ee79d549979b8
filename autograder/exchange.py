"""The nbgrader exchange on a hub: submissions in, feedback out.

``collect`` reads ``<exchange>/<course_id>/inbound/``, where nbgrader's
``submit`` leaves one folder per submission, named
``<student>+<assignment>+<timestamp>+<random>`` and holding the notebooks, a
``timestamp.txt`` and a ``submission_secret.txt``. For each student it keeps
the newest submission of the assignment and hands its notebooks, and only
those, to :func:`autograder.collect.collect` (the LMS path: same checks, same
``submitted/<student>/<assignment>/`` layout), then writes the submission's
exact ``timestamp.txt`` and ``submission_secret.txt`` beside them.

``inbound/`` is writable by every student (nbgrader's mode ``2733``), so a
student can create a folder under another student's name. On a hub every
student is a system account of the same name, and nbgrader creates the folder
as the submitting user, so a folder (or any file in it) whose owner is not
the student it names is left out and listed, never graded under that name; so is one
whose notebook, timestamp or secret is a link or another user's file.

``release_feedback`` gives each student's feedback HTML to nbgrader's own
``release_feedback``, which files it in ``<exchange>/<course_id>/feedback/``
under a hash of the submission's secret: only the student who holds that
secret (in their own nbgrader cache) finds it with ``fetch_feedback``.
"""
from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import collect as lms

EXCHANGE_ENV = "NBGRADER_EXCHANGE"
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
COURSE_ID = "autodiff"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's submit writes this


@dataclass(frozen=True)
class Submission:
    """One folder of ``inbound/``."""

    student: str
    assignment: str
    timestamp: str
    when: dt.datetime
    path: Path


@dataclass
class FromExchange:
    """What :func:`collect` did: the LMS collector's result plus what the exchange left out."""

    collected: lms.Collected
    submissions: dict[str, Submission] = field(default_factory=dict)  #: student -> the one kept
    left_out: list[str] = field(default_factory=list)  #: "folder: why"

    def summary(self) -> str:
        return f"{self.collected.summary()}; {len(self.left_out)} exchange folder(s) left out"


def default_exchange() -> Path:
    """``$NBGRADER_EXCHANGE``, else nbgrader's default ``/srv/nbgrader/exchange``."""
    return Path(os.environ.get(EXCHANGE_ENV) or DEFAULT_EXCHANGE)


def _owner(path: Path) -> str | None:
    try:
        return pwd.getpwuid(path.lstat().st_uid).pw_name
    except KeyError:
        return None


USED = ("timestamp.txt", "submission_secret.txt")


def _foreign_files(folder: Path, student: str) -> list[str]:
    """The files collect would use (notebooks, timestamp, secret) that ``student`` does not own
    (links count as foreign). Other files are never collected, so they change nothing."""
    bad = []
    for p in sorted([*folder.glob("*.ipynb"), *(folder / n for n in USED if (folder / n).exists())]):
        if p.is_symlink() or _owner(p) != student:
            bad.append(p.name)
    return bad


def parse(folder: Path) -> Submission | str:
    """A :class:`Submission` from an ``inbound/`` folder, or why it is not one."""
    parts = folder.name.split("+")
    if len(parts) not in (3, 4):
        return "not named <student>+<assignment>+<timestamp>[+<random>]"
    student, assignment, timestamp = parts[:3]
    try:
        when = dt.datetime.strptime(timestamp.replace(" UTC", ""), "%Y-%m-%d %H:%M:%S.%f")
    except ValueError:
        return f"timestamp {timestamp!r} is not nbgrader's"
    return Submission(student, assignment, timestamp, when, folder)


def _check(sub: Submission, check_owner: bool) -> str | None:
    """Why ``sub`` must not be graded, or None."""
    if lms.student_id(sub.student) != sub.student or not lms.STUDENT_OK.fullmatch(sub.student):
        return f"student name {sub.student!r} is not a plain account name"
    if sub.path.is_symlink() or not sub.path.is_dir():
        return "not a folder"
    if check_owner:
        owner = _owner(sub.path)
        if owner != sub.student:
            return f"made by {owner or 'an unknown user'}, not by {sub.student}: not graded under that name"
        foreign = _foreign_files(sub.path, sub.student)
        if foreign:
            return f"{', '.join(foreign[:5])}: not {sub.student}'s own file (a link, or another user's)"
    return None


def latest_submissions(inbound: Path, assignment: str, check_owner: bool = True
                       ) -> tuple[dict[str, Submission], list[str]]:
    """The newest acceptable submission of ``assignment`` per student, and what was left out."""
    kept: dict[str, Submission] = {}
    left_out: list[str] = []
    for folder in sorted(inbound.iterdir()):
        sub = parse(folder)
        if isinstance(sub, str):
            left_out.append(f"{folder.name}: {sub}")
            continue
        if sub.assignment != assignment:
            continue
        why = _check(sub, check_owner)
        if why:
            left_out.append(f"{folder.name}: {why}")
            continue
        old = kept.get(sub.student)
        if old is None or sub.when > old.when:
            if old is not None:
                left_out.append(f"{old.path.name}: an older submission of {sub.student} (kept the newest)")
            kept[sub.student] = sub
        else:
            left_out.append(f"{folder.name}: an older submission of {sub.student} (kept the newest)")
    return kept, left_out


def collect(root: Path | str, assignment: str, notebooks: list[str], exchange: Path | str | None = None,
            course_id: str = COURSE_ID, check_owner: bool = True) -> FromExchange:
    """Submissions of ``assignment`` from the exchange into ``root/submitted`` (see the module doc).

    ``check_owner=False`` drops the owner check, for an exchange copied from elsewhere (the
    owners are then meaningless); on a hub leave it on."""
    root = Path(root)
    inbound = Path(exchange or default_exchange()) / course_id / "inbound"
    if not inbound.is_dir():
        raise FileNotFoundError(f"{inbound}: no inbound folder (is the exchange root right? see docs/deploy.md)")
    kept, left_out = latest_submissions(inbound, assignment, check_owner)
    with tempfile.TemporaryDirectory(prefix="exchange-collect-") as tmp:
        for student, sub in kept.items():
            dest = Path(tmp) / student
            dest.mkdir()
            for nb in sorted(sub.path.glob("*.ipynb")):
                if nb.is_file() and not nb.is_symlink():
                    shutil.copyfile(nb, dest / nb.name)
        got = lms.collect(tmp, root, assignment, notebooks)
    for student in got.students:
        sub = kept[student]
        dest = root / "submitted" / student / assignment
        (dest / "timestamp.txt").write_text(sub.timestamp)
        secret = sub.path / "submission_secret.txt"
        if secret.is_file() and not secret.is_symlink():
            shutil.copyfile(secret, dest / "submission_secret.txt")
    got.students = {s: f"{kept[s].path.name}/{Path(src).name}" for s, src in got.students.items()}
    return FromExchange(got, {s: kept[s] for s in got.students}, left_out)


def _nbgrader_config(root: Path, exchange: Path, course_id: str):
    from traitlets.config import Config
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = course_id
    c.Exchange.root = str(exchange)
    return c


def release_feedback(root: Path | str, assignment: str, exchange: Path | str | None = None,
                     course_id: str = COURSE_ID) -> list[str]:
    """Put every student's feedback for ``assignment`` in the exchange; return the students.

    The feedback folder gets the submission's ``timestamp.txt`` and ``submission_secret.txt``
    (nbgrader's release_feedback files each page under a hash of that secret); a student
    whose submission came without a secret (an LMS zip) cannot be reached this way and is
    skipped."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    root, exchange = Path(root), Path(exchange or default_exchange())
    students = []
    for folder in sorted((root / "feedback").glob(f"*/{assignment}")):
        student = folder.parent.name
        sub = root / "submitted" / student / assignment
        if not list(folder.glob("*.html")) or not (sub / "submission_secret.txt").is_file():
            continue
        for name in ("timestamp.txt", "submission_secret.txt"):
            shutil.copyfile(sub / name, folder / name)
        students.append(student)
    if not students:
        return []
    def release() -> None:
        c = _nbgrader_config(root, exchange, course_id)
        api = NbGraderAPI(CourseDirectory(config=c), config=c)
        for student in students:
            res = api.release_feedback(assignment, student)
            if not res.get("success"):
                raise RuntimeError(f"releasing feedback of {student} failed:\n{res.get('error') or res.get('log')}")

    give_back(root)
    as_owner(root, release)
    return students


def as_owner(root: Path, fn) -> None:
    """Run ``fn()`` as the owner of ``root`` when root runs this for someone else's course folder
    (nbgrader's exchange insists that its folders belong to whoever writes them); else here."""
    st = root.stat()
    if os.geteuid() != 0 or st.st_uid == 0:
        fn()
        return
    import traceback
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become the instructor, run, report, exit
        os.close(r)
        code = 0
        try:
            pw = pwd.getpwuid(st.st_uid)
            os.setgroups(os.getgrouplist(pw.pw_name, pw.pw_gid))
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            os.environ.update(HOME=pw.pw_dir, USER=pw.pw_name, LOGNAME=pw.pw_name)
            fn()
        except BaseException:  # noqa: BLE001  (everything goes back to the parent)
            os.write(w, traceback.format_exc().encode())
            code = 1
        finally:
            os.close(w)
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        err = f.read().decode()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"as {pwd.getpwuid(st.st_uid).pw_name}: {err or f'exit status {status}'}")


def give_back(root: Path | str) -> int:
    """Run as root on an instructor's course folder: give every file under ``root`` to the
    folder's owner (so the instructor's own formgrader can still write its gradebook after
    root graded in the sandbox); return how many were changed. A no-op for other users."""
    root = Path(root)
    if os.geteuid() != 0 or not root.is_dir():
        return 0
    st = root.stat()
    if st.st_uid == 0:
        return 0
    n = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            s = os.lstat(p)
            if (s.st_uid, s.st_gid) != (st.st_uid, st.st_gid) and not stat.S_ISLNK(s.st_mode):
                os.chown(p, st.st_uid, st.st_gid)
                n += 1
    return n
