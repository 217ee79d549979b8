"""Late work (issue 14): each policy on crafted timestamps, time zones, extensions, grace, and a
missing timestamp that is never silently on time. Pure functions on course.toml text."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from autograder import config, late

UTC = dt.timezone.utc


def _cfg(tmp_path: Path, body: str, tz: str = "UTC") -> config.AssignmentConfig:
    (tmp_path / "course.toml").write_text(f'[course]\ntimezone = "{tz}"\n[assignments.ps1]\n{body}\n')
    return config.load(tmp_path).assignment("ps1")


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


PER_DAY = 'due = 2026-12-08T23:59:00Z\nlate_policy = "per_day"\npenalty = 0.1\nfloor = 0.5'


def test_no_due_date_means_nothing_changes(tmp_path):
    v = late.assess(_cfg(tmp_path, ""), "ann", _at("2030-01-01T00:00:00+00:00"))
    assert (v.status, v.factor, v.apply(6.0)) == (late.NO_DUE, 1.0, 6.0)


def test_a_missing_timestamp_is_never_silently_on_time(tmp_path):
    v = late.assess(_cfg(tmp_path, PER_DAY), "ann", None)
    assert v.status == late.NO_TIME and v.status != late.ON_TIME and "check by hand" in v.note
    assert v.apply(6.0) == 6.0


def test_per_day_counts_every_started_day_down_to_the_floor(tmp_path):
    cfg = _cfg(tmp_path, PER_DAY)
    cases = {"2026-12-08T23:59:00+00:00": (late.ON_TIME, 6.0), "2026-12-08T23:59:01+00:00": (late.LATE, 5.4),
             "2026-12-09T23:59:00+00:00": (late.LATE, 5.4), "2026-12-09T23:59:01+00:00": (late.LATE, 4.8),
             "2026-12-11T12:00:00+00:00": (late.LATE, 4.2), "2026-12-30T00:00:00+00:00": (late.LATE, 3.0)}
    got = {t: (late.assess(cfg, "ann", _at(t)).status, late.assess(cfg, "ann", _at(t)).apply(6.0)) for t in cases}
    assert got == cases


def test_per_hour_penalty_and_hours_late(tmp_path):
    cfg = _cfg(tmp_path, 'due = 2026-12-08T12:00:00Z\nlate_policy = "per_hour"\npenalty = 0.05\nfloor = 0.0')
    v = late.assess(cfg, "ann", _at("2026-12-08T14:30:00+00:00"))
    assert (v.status, v.hours_late, v.factor, v.apply(10.0)) == (late.LATE, 2.5, 0.85, 8.5)


def test_policy_none_reports_lateness_and_keeps_the_score(tmp_path):
    v = late.assess(_cfg(tmp_path, "due = 2026-12-08T12:00:00Z"), "ann", _at("2026-12-09T12:00:00+00:00"))
    assert (v.status, v.hours_late, v.apply(6.0), v.note) == (late.LATE, 24.0, 6.0, "no penalty")


def test_grace_period_counts_as_on_time_and_after_it_lateness_runs_from_the_due_date(tmp_path):
    cfg = _cfg(tmp_path, PER_DAY + "\ngrace_minutes = 15")
    inside = late.assess(cfg, "ann", _at("2026-12-09T00:14:00+00:00"))
    after = late.assess(cfg, "ann", _at("2026-12-09T00:15:00+00:00"))
    assert (inside.status, inside.apply(6.0)) == (late.GRACE, 6.0)
    assert (after.status, round(after.hours_late * 60), after.apply(6.0)) == (late.LATE, 16, 5.4)


def test_extensions_as_a_new_date_or_extra_hours(tmp_path):
    cfg = _cfg(tmp_path, PER_DAY + "\nextensions = { bob = 2026-12-10T23:59:00Z, cat = 48 }")
    t = _at("2026-12-10T20:00:00+00:00")
    assert late.assess(cfg, "ann", t).status == late.LATE
    assert late.assess(cfg, "bob", t).status == late.ON_TIME and late.assess(cfg, "bob", t).note == "extension"
    assert late.assess(cfg, "cat", t).status == late.ON_TIME
    assert late.assess(cfg, "cat", _at("2026-12-11T00:00:00+00:00")).apply(6.0) == 5.4


def test_a_due_date_without_offset_is_read_in_the_course_time_zone(tmp_path):
    cfg = _cfg(tmp_path, 'due = 2026-12-08T23:59:00\nlate_policy = "per_day"\npenalty = 0.1', tz="Europe/Berlin")
    assert cfg.due == _at("2026-12-08T22:59:00+00:00")  # Berlin is UTC+1 in December
    assert late.assess(cfg, "ann", _at("2026-12-08T23:30:00+00:00")).status == late.LATE  # 00:30 in Berlin
    assert late.assess(cfg, "ann", _at("2026-12-08T23:30:00+01:00")).status == late.ON_TIME


def test_a_submission_time_with_an_offset_is_compared_as_the_same_instant(tmp_path):
    cfg = _cfg(tmp_path, PER_DAY)
    assert late.assess(cfg, "ann", _at("2026-12-09T08:58:00+09:00")).status == late.ON_TIME  # 23:58 UTC
    assert late.assess(cfg, "ann", _at("2026-12-08T19:00:00-05:00")).status == late.LATE  # 00:00 UTC


def test_submission_time_reads_the_exchange_format_and_says_none_when_absent_or_unreadable(tmp_path):
    folder = tmp_path / "submitted" / "ann" / "ps1"
    folder.mkdir(parents=True)
    assert late.submission_time(tmp_path, "ps1", "ann") is None
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    assert late.submission_time(tmp_path, "ps1", "ann") == _at("2026-11-20T10:00:00+00:00")
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00")
    assert late.submission_time(tmp_path, "ps1", "ann", "Europe/Berlin") == _at("2026-11-20T09:00:00+00:00")
    (folder / "timestamp.txt").write_text("yesterday-ish")
    assert late.submission_time(tmp_path, "ps1", "ann") is None


@pytest.mark.parametrize("body, says", [
    ('due = 2026-12-08', "a date without a time"),
    ('late_policy = "weekly"', "late_policy"),
    ('penalty = 2.0', "fractions"),
    ('extensions = { ann = 24 }', "extra hours need a due date"),
    ('due_date = 2026-12-08T10:00:00', "unknown keys"),
])
def test_a_bad_late_setting_is_a_clear_error(tmp_path, body, says):
    with pytest.raises(ValueError, match=says):
        _cfg(tmp_path, body)
