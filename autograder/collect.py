"""``collect``: submissions from a folder tree or an LMS zip into nbgrader's layout.

Input, either a folder or a ``.zip``:

* one folder per student, notebooks anywhere below it
  (``alice/ps1.ipynb``, ``alice/work/ps1.ipynb``; Moodle's
  ``Alice Smith_1234_assignsubmission_file_/ps1.ipynb`` becomes ``alice_smith_1234``);
* or flat files named by the LMS, the student first (Canvas:
  ``smithalice_1234_5678_ps1.ipynb`` becomes ``smithalice``); ``--pattern``
  takes a regular expression with a ``student`` group for other schemes.
* a zip inside the zip or in a student's folder (``smithalice_1234_5678_ps1.zip``)
  is expanded in place and belongs to the same student.

Output: ``submitted/<student>/<assignment>/<notebook>.ipynb``, a
``timestamp.txt`` (UTC) and ``collected/<assignment>.json`` with, per student,
the entry kept, the time and where it came from (an exchange ``timestamp.txt``
beside the notebook; else a zip entry's time, which a zip stores as local time
with no zone, read in ``timezone``; else the file's modification time), and
the LMS's own id of the student when the names carry one. No valid time: no
``timestamp.txt``, and the record says so (late work never assumes on time).

Only notebooks are copied, under the release's notebook name: a ``numpy.py``
or ``course.py`` beside a notebook never reaches the grading kernel. Nothing
one entry does stops the others: unsafe entries (absolute paths, ``..``,
links), oversized files, damaged entries (bad CRC, corrupt data), entries cut
off by a truncated zip, zips nested too deep and zip bombs are left out and
listed with the reason (see :mod:`autograder.lms_zip`); a damaged newest copy
falls back to an older one that reads. The input is only read.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from . import lms_zip
from .lms_zip import Unreadable

MAX_NOTEBOOK_BYTES = 20 << 20
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"
STUDENT_OK = re.compile(r"[a-z0-9][a-z0-9_.@-]*")


@dataclass
class Collected:
    students: dict[str, str] = field(default_factory=dict)  #: student -> source of the notebook kept
    skipped: list[str] = field(default_factory=list)  #: "path: why"
    records: dict[str, dict] = field(default_factory=dict)  #: student -> source, time, LMS id

    def summary(self) -> str:
        return f"{len(self.students)} student(s) collected, {len(self.skipped)} file(s) left out"


@dataclass
class _Entry:
    parts: tuple[str, ...]
    size: int
    when: dt.datetime | None  #: naive, as the source stores it
    read: Callable[[int], bytes]  # (limit) -> bytes, or raises Unreadable


def student_id(raw: str) -> str:
    """An id nbgrader and file systems accept: lower case, words joined by '_'."""
    raw = raw.split("_assignsubmission")[0]
    sid = re.sub(r"[^a-z0-9_.@-]+", "_", raw.strip().lower()).strip("_.")
    return sid


def _folder_entries(src: Path, skipped: list[str]) -> list[_Entry]:
    out: list[_Entry] = []
    for f in sorted(src.rglob("*")):
        if f.is_symlink():
            skipped.append(f"{f.relative_to(src)}: a link")
            continue
        if not f.is_file():
            continue
        st = f.stat()
        when = dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).replace(tzinfo=None)
        read = (lambda limit, f=f, n=st.st_size: lms_zip.read_capped(f.open, limit, n))
        e = _Entry(f.relative_to(src).parts, st.st_size, when, read)
        if f.suffix.lower() == ".zip":  # a student's upload that is a zip: expand it
            members, bad = lms_zip.members(f)
            prefix = e.parts
            out += [_Entry(prefix + m.parts, m.size, m.when, m.read) for m in members]
            skipped += [f"{'/'.join(prefix)}/{p}: {why}" if not p.startswith("(") else f"{'/'.join(prefix)}: {why}"
                        for p, why in bad]
            continue
        out.append(e)
    return out


def _entries(src: Path) -> tuple[list[_Entry], list[str], str]:
    """Every file of ``src``, what was left out already, and where the times come from
    (``"zip"``: naive local times of the zip's maker; ``"folder"``: file modification times, UTC)."""
    skipped: list[str] = []
    if src.is_dir():
        out, kind = _folder_entries(src, skipped), "folder"
    elif lms_zip.looks_like_zip(src):
        members, bad = lms_zip.members(src)
        out = [_Entry(m.parts, m.size, m.when, m.read) for m in members]
        skipped += [f"{p}: {why}" for p, why in bad]
        kind = "zip"
    else:
        raise FileNotFoundError(f"{src}: not a folder or a zip file")
    # an export wrapped in one top folder that holds the student folders
    tops = {e.parts[0] for e in out}
    if len(tops) == 1 and all(len(e.parts) >= 3 for e in out):
        out = [_Entry(e.parts[1:], e.size, e.when, e.read) for e in out]
    return out, skipped, kind


def _owner(e: _Entry, rx: re.Pattern, pattern: str | None) -> str:
    """Whose entry this is: the top folder, or the LMS's file name (of the notebook, or of the
    zip that held it), or ``--pattern`` on the whole path."""
    shown = "/".join(e.parts)
    if pattern:
        m = rx.match(shown)
    elif len(e.parts) > 1 and not e.parts[0].lower().endswith(".zip"):
        return student_id(e.parts[0])
    else:
        m = rx.match(e.parts[0])
    return student_id(m.group("student")) if m else ""


def _parse_exchange_time(text: str) -> dt.datetime | None:
    """nbgrader's exchange ``timestamp.txt`` (``2026-11-20 10:00:00.000000 UTC``, or ISO 8601), as UTC."""
    import dateutil.parser
    try:
        t = dateutil.parser.parse(text.strip())
    except (ValueError, OverflowError):
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def _stamp(e: _Entry, kind: str, tz: ZoneInfo, exchange: dict[str, dt.datetime]) -> tuple[dt.datetime | None, str]:
    """The submission time of ``e`` in UTC and where it comes from (``None``: unknown)."""
    folder = "/".join(e.parts[:-1])
    if folder in exchange:
        return exchange[folder], "the exchange's timestamp.txt"
    if e.when is None:
        return None, "none: the entry has no valid time"
    if kind == "zip":
        return e.when.replace(tzinfo=tz).astimezone(dt.timezone.utc), f"the zip entry's time, read as {tz.key}"
    return e.when.replace(tzinfo=dt.timezone.utc), "the file's modification time"


def _lms_id(e: _Entry) -> tuple[str, str]:
    """(LMS, the LMS's identifier of the student) as the export's names tell it, or ("", "")."""
    m = re.match(r".+?_(\d+)_assignsubmission", e.parts[0])
    if m:
        return "moodle", m.group(1)
    m = re.match(r"[^_]+_(?:LATE_)?(\d+)_\d+_", e.parts[-1] if len(e.parts) == 1 else e.parts[0])
    if m:
        return "canvas", m.group(1)
    return "", ""


def _pick_readable(pick: list[_Entry], sid: str, res: Collected) -> tuple[_Entry, bytes] | None:
    """The newest of ``pick`` that reads (each damaged one is left out with why)."""
    for e in sorted(pick, key=lambda e: e.when or dt.datetime.min, reverse=True):
        try:
            return e, e.read(MAX_NOTEBOOK_BYTES)
        except Unreadable as why:
            res.skipped.append(f"{'/'.join(e.parts)}: {why}")
    return None


def collect(src: Path | str, root: Path | str, assignment: str, notebooks: list[str],
            pattern: str | None = None, timezone: str = "UTC") -> Collected:
    """Copy each student's notebook for ``assignment`` into ``root/submitted`` (see the module doc).
    ``timezone``: how to read a zip's entry times (a zip stores local times without a zone)."""
    src, root = Path(src), Path(root)
    tz = ZoneInfo(timezone)
    entries, skipped, kind = _entries(src)
    rx = re.compile(pattern) if pattern else re.compile(r"(?P<student>[^_]+)_")
    res = Collected(skipped=skipped)
    by_student: dict[str, list[_Entry]] = {}
    exchange: dict[str, dt.datetime] = {}
    for e in entries:
        shown = "/".join(e.parts)
        name = e.parts[-1]
        if any(p.startswith(".") or p == "__MACOSX" for p in e.parts):
            res.skipped.append(f"{shown}: hidden or system file")
            continue
        if name == "timestamp.txt" and len(e.parts) > 1:
            try:
                t = _parse_exchange_time(e.read(4096).decode("utf-8", "replace"))
            except Unreadable as why:
                t, res.skipped = None, res.skipped + [f"{shown}: {why}"]
            if t is not None:
                exchange["/".join(e.parts[:-1])] = t
            else:
                res.skipped.append(f"{shown}: not a readable time")
            continue
        if not name.endswith(".ipynb"):
            res.skipped.append(f"{shown}: not a notebook (only notebooks are collected)")
            continue
        if e.size > MAX_NOTEBOOK_BYTES:
            res.skipped.append(f"{shown}: larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
            continue
        sid = _owner(e, rx, pattern)
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
            got = _pick_readable(pick, sid, res)
            if got is None:
                continue
            chosen, data = got
            for other in pick:
                if other is not chosen and not any(s.startswith("/".join(other.parts) + ":") for s in res.skipped):
                    res.skipped.append(f"{'/'.join(other.parts)}: an older notebook of {sid} (kept the newest)")
            dest = root / "submitted" / sid / assignment
            dest.mkdir(parents=True, exist_ok=True)
            (dest / target).write_bytes(data)
            when, how = _stamp(chosen, kind, tz, exchange)
            stamp = dest / "timestamp.txt"
            if when is not None:
                stamp.write_text(when.strftime(TIME_FORMAT))
            elif stamp.exists():
                stamp.unlink()  # an older collection's time must not stand in for this one
            lms, lms_id = _lms_id(chosen)
            res.students[sid] = "/".join(chosen.parts)
            res.records[sid] = {"source": "/".join(chosen.parts), "timestamp": when.isoformat() if when else None,
                                "timestamp_source": how, "lms": lms, "lms_id": lms_id}
        for e in mine:
            if "/".join(e.parts) not in res.students.values() and not any(
                    s.startswith("/".join(e.parts) + ":") for s in res.skipped):
                res.skipped.append(f"{'/'.join(e.parts)}: not a notebook of this assignment")
    _write_record(root, assignment, res)
    return res


def record_path(root: Path | str, assignment: str) -> Path:
    """Where :func:`collect` records, per student, the source, the time and the LMS's id."""
    return Path(root) / "collected" / f"{assignment}.json"


def _write_record(root: Path, assignment: str, res: Collected) -> None:
    path = record_path(root, assignment)
    old = json.loads(path.read_text()) if path.is_file() else {}
    old.update(res.records)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(sorted(old.items())), indent=1))


def read_record(root: Path | str, assignment: str) -> dict[str, dict]:
    """What :func:`collect` recorded for ``assignment`` (empty if it never ran)."""
    path = record_path(root, assignment)
    return json.loads(path.read_text()) if path.is_file() else {}
