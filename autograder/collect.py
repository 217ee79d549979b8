"""``collect``: submissions from a folder tree or an LMS zip into nbgrader's layout.

Input, either a folder or a ``.zip``:

* one folder per student, notebooks anywhere below it
  (``alice/ps1.ipynb``, ``alice/work/ps1.ipynb``; Moodle's
  ``Alice Smith_1234_assignsubmission_file_/ps1.ipynb`` becomes ``alice_smith_1234``);
* or flat files named by the LMS, the student first (Canvas:
  ``smithalice_1234_5678_ps1.ipynb`` becomes ``smithalice``); ``--pattern``
  takes a regular expression with a ``student`` group for other schemes.

Output: ``submitted/<student>/<assignment>/<notebook>.ipynb`` and a
``timestamp.txt``. Only notebooks are copied, under the release's notebook
name: a ``numpy.py`` or ``course.py`` beside a notebook never reaches the
grading kernel. Unsafe zip entries (absolute paths, ``..``, links) and
oversized files are skipped and listed. The input is only read.
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_NOTEBOOK_BYTES = 20 << 20
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"
STUDENT_OK = re.compile(r"[a-z0-9][a-z0-9_.@-]*")


@dataclass
class Collected:
    students: dict[str, str] = field(default_factory=dict)  #: student -> source of the notebook kept
    skipped: list[str] = field(default_factory=list)  #: "path: why"

    def summary(self) -> str:
        return f"{len(self.students)} student(s) collected, {len(self.skipped)} file(s) left out"


@dataclass
class _Entry:
    parts: tuple[str, ...]
    size: int
    when: dt.datetime
    read: object  # () -> bytes


def student_id(raw: str) -> str:
    """An id nbgrader and file systems accept: lower case, words joined by '_'."""
    raw = raw.split("_assignsubmission")[0]
    sid = re.sub(r"[^a-z0-9_.@-]+", "_", raw.strip().lower()).strip("_.")
    return sid


def _entries(src: Path) -> tuple[list[_Entry], list[str]]:
    skipped: list[str] = []
    out: list[_Entry] = []
    if src.is_file() and zipfile.is_zipfile(src):
        zf = zipfile.ZipFile(src)
        for info in zf.infolist():
            if info.is_dir():
                continue
            p = PurePosixPath(info.filename.replace("\\", "/"))
            mode = (info.external_attr >> 16) & 0o170000
            if p.is_absolute() or ".." in p.parts or mode == 0o120000:
                skipped.append(f"{info.filename}: unsafe path or link in the zip")
                continue
            out.append(_Entry(p.parts, info.file_size, dt.datetime(*info.date_time),
                              (lambda i=info: zf.read(i))))
    elif src.is_dir():
        for f in sorted(src.rglob("*")):
            if f.is_symlink():
                skipped.append(f"{f.relative_to(src)}: a link")
                continue
            if f.is_file():
                st = f.stat()
                out.append(_Entry(f.relative_to(src).parts, st.st_size,
                                  dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).replace(tzinfo=None),
                                  (lambda f=f: f.read_bytes())))
    else:
        raise FileNotFoundError(f"{src}: not a folder or a zip file")
    # an export wrapped in one top folder that holds the student folders
    tops = {e.parts[0] for e in out}
    if len(tops) == 1 and all(len(e.parts) >= 3 for e in out):
        out = [_Entry(e.parts[1:], e.size, e.when, e.read) for e in out]
    return out, skipped


def collect(src: Path | str, root: Path | str, assignment: str, notebooks: list[str],
            pattern: str | None = None) -> Collected:
    """Copy each student's notebook for ``assignment`` into ``root/submitted`` (see the module doc)."""
    src, root = Path(src), Path(root)
    entries, skipped = _entries(src)
    rx = re.compile(pattern) if pattern else re.compile(r"(?P<student>[^_]+)_")
    res = Collected(skipped=skipped)
    by_student: dict[str, list[_Entry]] = {}
    for e in entries:
        shown = "/".join(e.parts)
        name = e.parts[-1]
        if any(p.startswith(".") or p == "__MACOSX" for p in e.parts):
            res.skipped.append(f"{shown}: hidden or system file")
            continue
        if not name.endswith(".ipynb"):
            res.skipped.append(f"{shown}: not a notebook (only notebooks are collected)")
            continue
        if e.size > MAX_NOTEBOOK_BYTES:
            res.skipped.append(f"{shown}: larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
            continue
        if len(e.parts) > 1 and not pattern:
            sid = student_id(e.parts[0])
        else:
            m = rx.match(name if not pattern else shown)
            sid = student_id(m.group("student")) if m else ""
        if not sid or not STUDENT_OK.fullmatch(sid):
            res.skipped.append(f"{shown}: cannot tell whose notebook this is")
            continue
        by_student.setdefault(sid, []).append(e)
    for sid, mine in sorted(by_student.items()):
        for target in notebooks:
            exact = [e for e in mine if e.parts[-1] == target or e.parts[-1].endswith("_" + target)]
            pick = exact or (mine if len(notebooks) == 1 else [])
            if not pick:
                continue
            pick.sort(key=lambda e: e.when)
            chosen = pick[-1]
            for other in pick[:-1]:
                res.skipped.append(f"{'/'.join(other.parts)}: an older notebook of {sid} (kept the newest)")
            dest = root / "submitted" / sid / assignment
            dest.mkdir(parents=True, exist_ok=True)
            (dest / target).write_bytes(chosen.read())
            (dest / "timestamp.txt").write_text(chosen.when.strftime(TIME_FORMAT))
            res.students[sid] = "/".join(chosen.parts)
        for e in mine:
            if "/".join(e.parts) not in res.students.values() and not any(
                    s.startswith("/".join(e.parts) + ":") for s in res.skipped):
                res.skipped.append(f"{'/'.join(e.parts)}: not a notebook of this assignment")
    return res
