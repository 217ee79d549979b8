"""Late work: a due date and a policy per assignment (``course.toml``), one submission time per student.

:func:`assess` decides, for one submission, whether it is on time and what fraction of the raw
score it keeps:

* no due date: ``no due date``, nothing changes;
* no submission time (no ``timestamp.txt``, an unreadable one): ``no timestamp``; the raw score
  is kept and the submission is listed for review: never silently on time;
* the student's extension, if any, replaces the due date;
* up to ``grace_minutes`` after it: ``on time (grace)``, the minutes are shown;
* later: ``late``, with the hours late counted from the due date (not from the end of the
  grace period). ``per_day``: every started day costs ``penalty`` (24 h 0 min 1 s late is 2
  days); ``per_hour``: every started hour. The score kept is ``raw * max(floor, 1 - penalty *
  units)``, rounded to 6 decimals; ``none`` reports lateness and keeps the raw score.

Times are compared as aware datetimes, so time zones never shift a deadline: a due date
written without an offset is read in ``[course] timezone``, a submission time is UTC.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from .config import AssignmentConfig

ON_TIME, GRACE, LATE, NO_DUE, NO_TIME = "on time", "on time (grace)", "late", "no due date", "no timestamp"


@dataclass(frozen=True)
class Lateness:
    """The verdict on one submission's time."""

    status: str  #: ON_TIME, GRACE, LATE, NO_DUE or NO_TIME
    hours_late: float  #: after the (extended) due date; 0 when on time
    factor: float  #: fraction of the raw score kept
    due: dt.datetime | None  #: the due date that applied (the extension, if any)
    note: str = ""

    def apply(self, raw: float) -> float:
        """The score after the penalty."""
        return round(raw * self.factor, 6)


def assess(cfg: AssignmentConfig, student: str, submitted: dt.datetime | None) -> Lateness:
    """The lateness of ``student``'s submission at ``submitted`` (aware) under ``cfg`` (see the module doc)."""
    due = cfg.extensions.get(student, cfg.due)
    extended = student in cfg.extensions
    if due is None:
        return Lateness(NO_DUE, 0.0, 1.0, None)
    if submitted is None:
        return Lateness(NO_TIME, 0.0, 1.0, due, "no submission time: raw score kept, check by hand")
    if submitted.tzinfo is None:
        raise ValueError("submission times must be aware datetimes (UTC)")
    late_by = (submitted - due).total_seconds()
    note = "extension" if extended else ""
    if late_by <= 0:
        return Lateness(ON_TIME, 0.0, 1.0, due, note)
    hours = late_by / 3600
    if late_by <= cfg.grace_minutes * 60:
        return Lateness(GRACE, hours, 1.0, due, note)
    if cfg.late_policy == "per_day":
        units = math.ceil(late_by / 86400)
    elif cfg.late_policy == "per_hour":
        units = math.ceil(late_by / 3600)
    else:
        units = 0
    factor = max(cfg.floor, 1.0 - cfg.penalty * units) if units else 1.0
    unit = {"per_day": "day", "per_hour": "hour"}.get(cfg.late_policy)
    detail = f"{units} {unit}(s) x {cfg.penalty:g}" + (f", floor {cfg.floor:g}" if factor == cfg.floor else "") \
        if unit else "no penalty"
    return Lateness(LATE, hours, round(factor, 12), due, ", ".join(x for x in (note, detail) if x))


def submission_time(root: Path | str, assignment: str, student: str, timezone: str = "UTC") -> dt.datetime | None:
    """The time in ``submitted/<student>/<assignment>/timestamp.txt`` as aware UTC (a time without a
    zone is read in ``timezone``), or None when there is none or it cannot be read."""
    import dateutil.parser
    path = Path(root) / "submitted" / student / assignment / "timestamp.txt"
    try:
        t = dateutil.parser.parse(path.read_text().strip())
    except (OSError, ValueError, OverflowError):
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo(timezone))
    return t.astimezone(dt.timezone.utc)
