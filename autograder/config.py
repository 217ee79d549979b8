"""The course's configuration (``course.toml`` at the course root): per-assignment settings.

``[course]`` holds course-wide settings (``timezone``: how due dates written without an
offset and a zip's entry times are read). Each assignment has a table
``[assignments.NN_name]``; an assignment with no table gets the defaults. Unknown keys are
an error, so a typo never silently means "no setting".

Late work (see :mod:`autograder.late`): ``due`` (a TOML date-time, with or without an offset),
``late_policy`` (``none``, ``per_day`` or ``per_hour``), ``penalty`` (fraction of the raw score
lost per started day or hour late), ``floor`` (the fraction of the raw score a late submission
keeps at least), ``grace_minutes``, and ``extensions`` (student -> a new due date-time, or a
number of extra hours). ``lms_name``: the assignment's column in the LMS export.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

FILE = "course.toml"
POLICIES = ("none", "per_day", "per_hour")


@dataclass(frozen=True)
class AssignmentConfig:
    """What the grading tool needs to know about one assignment."""

    name: str
    #: dotted names of ``course`` modules that answer this assignment's exercises: not importable
    #: in the sandbox while it is graded
    withheld: tuple[str, ...] = ()
    due: dt.datetime | None = None  #: aware (UTC); None: no due date
    late_policy: str = "none"
    penalty: float = 0.0
    floor: float = 0.0
    grace_minutes: float = 0.0
    #: student -> that student's own due date (aware)
    extensions: dict[str, dt.datetime] = field(default_factory=dict)
    #: the assignment's column in the LMS (Canvas: "Name (id)"); default: the folder name
    lms_name: str = ""


@dataclass(frozen=True)
class CourseConfig:
    assignments: dict[str, AssignmentConfig] = field(default_factory=dict)
    timezone: str = "UTC"

    def assignment(self, name: str) -> AssignmentConfig:
        return self.assignments.get(name) or AssignmentConfig(name)


def _when(value, tz: ZoneInfo, where: str) -> dt.datetime:
    """A TOML date-time (or its ISO text) as an aware UTC datetime; no offset: read in ``tz``."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not a date-time (write 2026-12-08T23:59:00)") from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        raise ValueError(f"{where}: {value} is a date without a time: write {value}T23:59:00")
    if not isinstance(value, dt.datetime):
        raise ValueError(f"{where}: {value!r} is not a date-time")
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(dt.timezone.utc)


def _assignment(path: Path, name: str, table: dict, tz: ZoneInfo) -> AssignmentConfig:
    where = f"{path}: [assignments.{name}]"
    known = {f.name for f in fields(AssignmentConfig)} - {"name"}
    unknown = set(table) - known
    if unknown:
        raise ValueError(f"{where} has unknown keys {sorted(unknown)}; known: {sorted(known)}")
    withheld = tuple(str(m) for m in table.get("withheld", ()))
    for m in withheld:
        if not (m == "course" or m.startswith("course.")):
            raise ValueError(f"{where} withheld {m!r} is not a module of the course package")
    due = _when(table["due"], tz, f"{where} due") if "due" in table else None
    policy = table.get("late_policy", "none")
    if policy not in POLICIES:
        raise ValueError(f"{where} late_policy {policy!r}: one of {', '.join(POLICIES)}")
    penalty, floor = float(table.get("penalty", 0.0)), float(table.get("floor", 0.0))
    grace = float(table.get("grace_minutes", 0.0))
    if not (0 <= penalty <= 1 and 0 <= floor <= 1 and grace >= 0):
        raise ValueError(f"{where}: penalty and floor are fractions in [0, 1], grace_minutes >= 0")
    ext: dict[str, dt.datetime] = {}
    for student, v in (table.get("extensions") or {}).items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if due is None:
                raise ValueError(f"{where} extensions.{student}: extra hours need a due date")
            ext[student] = due + dt.timedelta(hours=float(v))
        else:
            ext[student] = _when(v, tz, f"{where} extensions.{student}")
    return AssignmentConfig(name, withheld=withheld, due=due, late_policy=policy, penalty=penalty,
                            floor=floor, grace_minutes=grace, extensions=ext, lms_name=str(table.get("lms_name", "")))


def load(root: Path | str) -> CourseConfig:
    """Read ``course.toml`` under ``root`` (no file: every assignment gets the defaults)."""
    path = Path(root) / FILE
    if not path.is_file():
        return CourseConfig()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    course = data.get("course") or {}
    unknown = set(course) - {"timezone"}
    if unknown:
        raise ValueError(f"{path}: [course] has unknown keys {sorted(unknown)}; known: ['timezone']")
    tzname = str(course.get("timezone", "UTC"))
    try:
        tz = ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{path}: [course] timezone {tzname!r} is not a time zone (e.g. Europe/Berlin)") from None
    out = {name: _assignment(path, name, table, tz) for name, table in (data.get("assignments") or {}).items()}
    return CourseConfig(out, timezone=tzname)
