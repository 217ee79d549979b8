"""The class cycle on a real hub (see conftest.py): release, fetch, answer, submit, collect,
autograde in the sandbox, release feedback, fetch feedback; each test checks one party's view."""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from conftest import (ASSIGNMENT, CORRECT, NOTEBOOK, STUDENTS, WRONG, WRONG_CELL, cell_scores,  # noqa: E402
                      notebook_score)
from test_grading_e2e import _hidden_lines  # noqa: E402


def _gradebook(cycle):
    course = cycle.hub.settings.course
    return Gradebook(f"sqlite:///{course / 'gradebook.db'}")


def test_the_release_reaches_the_exchange_and_every_student_fetches_it(cycle):
    outbound = cycle.hub.settings.exchange / cycle.hub.settings.course_id / "outbound" / ASSIGNMENT / NOTEBOOK
    released = cycle.hub.settings.course / "release" / ASSIGNMENT / NOTEBOOK
    assert outbound.read_bytes() == released.read_bytes()
    for student in STUDENTS:
        assert NOTEBOOK in cycle.fetched[student]


def test_validate_in_the_students_lab_reports_the_wrong_answer(cycle):
    out = cycle.validated[WRONG]
    assert out["success"] is True, out
    assert "failed" in out["value"], "validate did not report the failing test of the forward difference"


def test_collect_takes_each_students_submission_from_the_exchange(cycle):
    course = cycle.hub.settings.course
    for student in STUDENTS:
        assert f"{student:<24} <- {student}+{ASSIGNMENT}+" in cycle.collect_out
        sub = course / "submitted" / student / ASSIGNMENT
        assert sorted(p.name for p in sub.iterdir()) == sorted([NOTEBOOK, "timestamp.txt", "submission_secret.txt"])
    alice = nbformat.read(course / "submitted" / CORRECT / ASSIGNMENT / NOTEBOOK, as_version=4)
    bob = nbformat.read(course / "submitted" / WRONG / ASSIGNMENT / NOTEBOOK, as_version=4)
    cell = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in alice.cells}
    assert "x - h" in cell[WRONG_CELL]
    assert "Forward, not central" in {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
                                      for c in bob.cells}[WRONG_CELL]


def test_the_correct_student_fetches_full_marks(cycle):
    with _gradebook(cycle) as gb:
        sub = gb.find_submission(ASSIGNMENT, CORRECT)
        score, max_score = sub.score, sub.max_score
    assert max_score > 0
    assert score == max_score
    assert notebook_score(cycle.feedback[CORRECT]) == (round(score, 2), round(max_score, 2))


def test_the_wrong_student_fetches_their_own_lower_score(cycle):
    with _gradebook(cycle) as gb:
        sub = gb.find_submission(ASSIGNMENT, WRONG)
        score, max_score = sub.score, sub.max_score
        central = gb.find_grade("test_central_difference_value", Path(NOTEBOOK).stem, ASSIGNMENT, WRONG)
        central_score = central.score
    assert score < max_score and central_score == 0
    assert notebook_score(cycle.feedback[WRONG]) == (round(score, 2), round(max_score, 2))
    assert cell_scores(cycle.feedback[WRONG])["test_central_difference_value"] == 0.0
    assert cell_scores(cycle.feedback[CORRECT])["test_central_difference_value"] > 0


def test_fetched_feedback_shows_no_hidden_test(cycle):
    hidden, _ = _hidden_lines(cycle.hub.settings.course, ASSIGNMENT, NOTEBOOK)
    assert hidden, "notebook 01 has no hidden test lines to look for"
    for student in STUDENTS:
        text = _text_of(cycle.feedback[student])
        shown = [h for h in hidden if h in text]
        assert not shown, f"{student}'s feedback shows hidden test lines: {shown[:3]}"


def _text_of(html: str) -> str:
    import html as h
    import re
    return h.unescape(re.sub(r"<[^>]+>", "", html))
