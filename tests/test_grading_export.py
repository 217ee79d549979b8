"""``export`` (issue 14): the course's sheet with lateness, Canvas's gradebook import and Moodle's
grading worksheet, each checked to the exact header and rows; students matched from how they
were collected or from a roster, never guessed; one unreadable record stops no row (issue 15).

The class is graded without kernels (tests/grading/graded_class.py); submission times come
from a real ``collect`` of an LMS zip, so lateness is decided by the zip's entry times.
"""
from __future__ import annotations

import csv
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import fixture_course as fc  # noqa: E402
from graded_class import Student, graded_class  # noqa: E402
import report_class  # noqa: E402

from autograder import collect, export  # noqa: E402
from autograder.__main__ import main  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

TOML = report_class.TOML + 'grace_minutes = 10\nextensions = { dinhdan = 24 }\nlms_name = "Problem set 1 (777)"\n'
WRONG_SQUARE = {"test_square_value": 0, "test_square_hidden": 0}
HOOK = "hostile: square: installs IPython hooks"


def _lms_zip(path: Path, entries: dict[str, tuple]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, when in entries.items():
            zf.writestr(zipfile.ZipInfo(name, when), '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    return path


@pytest.fixture(scope="module")
def canvas_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    plan = {"adaann": Student(), "brownbob": Student(scores=WRONG_SQUARE),
            "chocarl": Student(status="tampered", flags=[HOOK], scores={k: 0 for k in fc.POINTS}),
            "dinhdan": Student(), "eveeve": Student(flags=["review: square: uses ctypes"])}
    root = graded_class(fc.cached_course(base), base / "c", plan)
    (root / "course.toml").write_text(TOML)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.update_or_create_student("absent")
    z = _lms_zip(base / "canvas.zip", {"adaann_101_9001_ps1.ipynb": (2026, 11, 20, 11, 0, 0),
                                      "brownbob_102_9002_ps1.ipynb": (2026, 11, 22, 0, 0, 0),
                                      "chocarl_103_9003_ps1.ipynb": (2026, 11, 20, 9, 0, 0),
                                      "dinhdan_104_9004_ps1.ipynb": (2026, 11, 21, 8, 0, 0),
                                      "eveeve/ps1.ipynb": (2026, 11, 20, 12, 5, 0)})
    collect.collect(z, root, "ps1", ["ps1.ipynb"])
    return root


def _read(path: Path) -> list[list[str]]:
    return list(csv.reader(path.open(newline="")))


def test_course_sheet_shows_raw_score_lateness_and_score_after_penalty(canvas_class, tmp_path):
    res = export.export(canvas_class, ["ps1"], tmp_path / "g.csv")
    tests = [f"ps1:{g}" for g in fc.POINTS]
    assert _read(res.path) == [
        ["student", "assignment", "status", "raw_score", "late", "hours_late", "score", "max_score", *tests,
         "review", "flags"],
        ["absent", "ps1", "missing", "0", "no submission", "0.00", "0", "6", "", "", "", "", "",
         "note: no submission"],
        ["adaann", "ps1", "graded", "6", "on time", "0.00", "6", "6", "1", "2", "2", "1", "", ""],
        ["brownbob", "ps1", "graded", "3", "late", "36.00", "2.4", "6", "0", "0", "2", "1", "",
         "late: 2 day(s) x 0.1"],
        ["chocarl", "ps1", "tampered", "0", "on time", "0.00", "0", "6", "0", "0", "0", "0", "yes", HOOK],
        ["dinhdan", "ps1", "graded", "6", "on time", "0.00", "6", "6", "1", "2", "2", "1", "", "late: extension"],
        ["eveeve", "ps1", "graded", "6", "on time (grace)", "0.08", "6", "6", "1", "2", "2", "1", "yes",
         "review: square: uses ctypes"]]


def test_canvas_from_the_ids_collect_recorded(canvas_class, tmp_path):
    res = export.export(canvas_class, ["ps1"], tmp_path / "canvas.csv", "canvas")
    assert _read(res.path) == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Problem set 1 (777)"],
                               ["adaann", "101", "", "", "", "6"], ["brownbob", "102", "", "", "", "2.4"],
                               ["dinhdan", "104", "", "", "", "6"]]
    assert res.problems == ["absent: left blank (missing)", "chocarl: left blank (tampered, score withheld for review)",
                            "eveeve: no canvas id known (collected from names without one; give --roster)"]


CANVAS_ROSTER = '''\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Problem set 1 (777),Final Score
    Points Possible,,,,,6.00,(read only)
"Ann, Ada",101,S101,aada,Sec A,,
"Brown, Bob",102,S102,bbrown,Sec A,,
"Cho, Carl",103,S103,ccho,Sec B,,
"Dinh, Dan",104,S104,ddinh,Sec B,,
"Eve, Eve",105,S105,eveeve,Sec B,,
"Zoe, Zed",106,S106,zzoe,Sec B,,
'''


def test_canvas_with_a_roster_matches_by_id_or_exact_login_and_reports_the_rest(canvas_class, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER, encoding="utf-8")
    res = export.export(canvas_class, ["ps1"], tmp_path / "canvas.csv", "canvas", roster=roster)
    assert _read(res.path) == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Problem set 1 (777)"],
                               ["Ann, Ada", "101", "S101", "aada", "Sec A", "6"],
                               ["Brown, Bob", "102", "S102", "bbrown", "Sec A", "2.4"],
                               ["Dinh, Dan", "104", "S104", "ddinh", "Sec B", "6"],
                               ["Eve, Eve", "105", "S105", "eveeve", "Sec B", "6"]]
    assert res.problems == ["absent: left blank (missing)", "chocarl: left blank (tampered, score withheld for review)",
                            "roster row '103' (Cho, Carl): no grade here (the LMS keeps its own)",
                            "roster row '106' (Zoe, Zed): no grade here (the LMS keeps its own)"]


def test_a_student_no_roster_row_names_is_reported_never_guessed(canvas_class, tmp_path):
    roster = tmp_path / "roster.csv"  # Eve's login differs by one letter: no match, no guess
    roster.write_text(CANVAS_ROSTER.replace(",eveeve,", ",eveve,"), encoding="utf-8")
    res = export.export(canvas_class, ["ps1"], tmp_path / "canvas.csv", "canvas", roster=roster)
    assert "Eve, Eve" not in res.path.read_text()
    assert any(p.startswith("eveeve: no roster row matches") for p in res.problems)


MOODLE_HEADER = ",".join(export.MOODLE_COLUMNS)
MOODLE_ROSTER = f'''{MOODLE_HEADER}
Participant 201,Alice Smith,alice@uni.example,Submitted for grading,,6.00,Yes,"Friday, 20 November 2026, 11:00 AM",-,
Participant 202,Bob Jones,bob@uni.example,Submitted for grading,,6.00,Yes,"Friday, 20 November 2026, 11:30 AM",-,
Participant 203,Cy Young,cy@uni.example,No submission,,6.00,Yes,-,-,
'''


@pytest.fixture(scope="module")
def moodle_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("moodle")
    plan = {"alice_smith_201": Student(), "bob_jones_202": Student(scores=WRONG_SQUARE)}
    root = graded_class(fc.cached_course(base), base / "c", plan)
    z = _lms_zip(base / "moodle.zip", {"PS1/Alice Smith_201_assignsubmission_file_/ps1.ipynb": (2026, 11, 20, 11, 0, 0),
                                      "PS1/Bob Jones_202_assignsubmission_file_/ps1.ipynb": (2026, 11, 20, 11, 30, 0)})
    collect.collect(z, root, "ps1", ["ps1.ipynb"])
    return root


def test_moodle_worksheet_keeps_the_roster_rows_and_fills_the_grade(moodle_class, tmp_path):
    roster = tmp_path / "worksheet.csv"
    roster.write_text(MOODLE_ROSTER)
    res = export.export(moodle_class, ["ps1"], tmp_path / "moodle.csv", "moodle", roster=roster)
    assert _read(res.path) == [
        export.MOODLE_COLUMNS,
        ["Participant 201", "Alice Smith", "alice@uni.example", "Submitted for grading", "6", "6", "Yes",
         "Friday, 20 November 2026, 11:00 AM", "-", ""],
        ["Participant 202", "Bob Jones", "bob@uni.example", "Submitted for grading", "3", "6", "Yes",
         "Friday, 20 November 2026, 11:30 AM", "-", ""]]
    assert res.problems == ["roster row 'Participant 203' (Cy Young): no grade here (the LMS keeps its own)"]


def test_moodle_without_a_roster_uses_the_participant_numbers_collect_recorded(moodle_class, tmp_path):
    res = export.export(moodle_class, ["ps1"], tmp_path / "moodle.csv", "moodle")
    assert _read(res.path) == [export.MOODLE_COLUMNS,
                               ["Participant 201", "", "", "", "6", "6", "Yes", "", "", ""],
                               ["Participant 202", "", "", "", "3", "6", "Yes", "", "", ""]]
    assert res.problems == []


def test_export_from_the_command_line_lists_what_it_could_not_export(canvas_class, tmp_path, capsys):
    out = tmp_path / "c.csv"
    assert main(["export", "ps1", "--root", str(canvas_class), "--format", "canvas", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "not exported: eveeve: no canvas id known" in text and f"wrote {out} (3 row(s), format canvas)" in text


def test_one_unreadable_record_never_stops_the_other_rows(canvas_class, tmp_path):
    root = fc.copy_course(canvas_class, tmp_path / "copy")
    (root / "grading" / "ps1" / "brownbob.json").write_text('{"student": "brownbob", "score": ')
    rows = list(csv.DictReader(export.export(root, ["ps1"], tmp_path / "g.csv").path.open()))
    assert [(r["student"], r["status"]) for r in rows] == [
        ("absent", "missing"), ("adaann", "graded"), ("brownbob", "unreadable"), ("chocarl", "tampered"),
        ("dinhdan", "graded"), ("eveeve", "graded")]
    assert "autograde it again" in rows[2]["flags"]


def test_a_review_flag_keeps_the_score_and_asks_the_formgrader_for_a_look(canvas_class):
    with Gradebook(f"sqlite:///{canvas_class / 'gradebook.db'}") as gb:
        eve, ada = gb.find_submission("ps1", "eveeve"), gb.find_submission("ps1", "adaann")
        assert (eve.score, eve.needs_manual_grade) == (6.0, True)
        assert (ada.score, ada.needs_manual_grade) == (6.0, False)
