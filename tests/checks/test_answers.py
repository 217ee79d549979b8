"""course.checks.answers: plain answers, failures shown message first, record and replay."""
from __future__ import annotations

import json

import numpy as np
import pytest

from course.checks import answers
from course.checks.answers import (CheckFailed, Foreign, Placeholder, StudentError, ask, check, decode, encode,
                                   fail, plain, read_records, replay_cell)


class Liar(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def test_plain_keeps_numbers_arrays_and_containers_and_names_anything_else():
    got = plain([1, 2.5, (np.float64(3.0), np.int64(4)), {"a": None, "b": True}, np.arange(3), "s", object()])
    assert got[:2] == [1, 2.5] and got[2] == (3.0, 4) and type(got[2][1]) is int
    assert got[3] == {"a": None, "b": True}
    assert isinstance(got[4], np.ndarray) and got[4].tolist() == [0, 1, 2]
    assert got[5] == "s" and isinstance(got[6], Foreign) and got[6].type_name == "object"


def test_plain_turns_an_object_that_equals_everything_into_a_plain_float():
    got = plain(Liar(1.0))
    assert type(got) is float and got != 2.0


def test_encode_decode_round_trip_through_json_is_exact():
    x = plain([0.1, -0.0, float("inf"), (1, "x"), {"k": np.array([[1.5, 2.5]])}, Foreign("Value", "Value(1)")])
    back = decode(json.loads(json.dumps(encode(x))))
    assert back[:2] == [0.1, -0.0] and back[2] == float("inf") and back[3] == (1, "x")
    assert back[4]["k"].shape == (1, 2) and back[5] == Foreign("Value", "Value(1)")


def test_decode_refuses_what_encode_never_makes():
    for bad in ({"pickle": "x"}, {"ndarray": ["|O", [1], [1]]}, {"a": 1, "b": 2}, object()):
        with pytest.raises(ValueError):
            decode(bad)


@check
def check_double(fn) -> None:
    got = ask("fn(2.0)", fn, 2.0)
    if got != 4.0:
        fail("fn(2.0) doubles", expected=4.0, got=got)


def test_a_failed_check_shows_its_message_first_and_no_check_code():
    with pytest.raises(CheckFailed) as e:
        check_double(lambda x: x + 1)
    lines = e.value._render_traceback_()
    assert lines[0] == "Check failed: fn(2.0) doubles" and "got:       3" in "\n".join(lines)
    assert not any("course/checks" in ln for ln in lines)


def test_an_error_in_the_students_code_is_reported_with_the_students_frame():
    def student(x):
        return [][1]

    with pytest.raises(CheckFailed) as e:
        check_double(student)
    text = "\n".join(e.value._render_traceback_())
    assert "fn(2.0) raised IndexError" in text
    assert "in student" in text and "return [][1]" in text
    assert "course/checks" not in text


def test_the_stub_says_the_exercise_is_not_written_yet():
    def stub(x):
        raise NotImplementedError("Not written yet: replace this line with your code")

    with pytest.raises(CheckFailed, match="not written yet"):
        check_double(stub)


def record(tmp_path, monkeypatch, fn) -> list[dict]:
    path = tmp_path / "answers.jsonl"
    monkeypatch.setenv(answers.ENV, str(path))
    try:
        check_double(fn)
    except CheckFailed:
        pass
    monkeypatch.delenv(answers.ENV)
    return list(read_records(path.read_text()))


CELL = f"from {check_double.__module__} import check_double\ncheck_double(fn)"


def test_replay_gives_the_live_verdict_without_calling_anything(tmp_path, monkeypatch):
    good = replay_cell(CELL, record(tmp_path, monkeypatch, lambda x: 2 * x))
    assert good.passed and good.checks == 1 and not good.problems
    (tmp_path / "b").mkdir()
    bad = replay_cell(CELL, record(tmp_path / "b", monkeypatch, lambda x: x + 1))
    assert not bad.passed and bad.message.startswith("Check failed: fn(2.0) doubles")


def test_replay_without_answers_fails_and_says_so():
    v = replay_cell(CELL, [])
    assert not v.passed and v.error == "NoAnswer" and v.problems


def test_replay_of_answers_for_another_question_fails():
    recs = [{"kind": "check", "key": f"{check_double.__module__}.check_double"},
            {"kind": "answer", "key": "1: fn(3.0)", "answer": 4.0}]
    v = replay_cell(CELL, recs)
    assert not v.passed and "do not follow" in v.message


def test_replay_notices_answers_no_check_asked_for():
    recs = [{"kind": "check", "key": f"{check_double.__module__}.check_double"},
            {"kind": "answer", "key": "1: fn(2.0)", "answer": 4.0},
            {"kind": "answer", "key": "2: fn(2.0)", "answer": 4.0}]
    v = replay_cell(CELL, recs)
    assert v.passed and v.problems == ["1 recorded answer(s) that no check asked for"]


def test_a_recorded_student_error_replays_as_the_same_failure(tmp_path, monkeypatch):
    def student(x):
        raise ValueError("nope")

    with pytest.raises(CheckFailed) as live:
        check_double(student)
    v = replay_cell(CELL, record(tmp_path, monkeypatch, student))
    assert not v.passed and v.message == live.value.message


def test_a_placeholder_refuses_every_use():
    p = Placeholder("Value")
    for use in (lambda: p(1), lambda: p.data, lambda: p + 1, lambda: float(p), lambda: bool(p), lambda: p == p):
        with pytest.raises(answers.ReplayViolation):
            use()


def test_replay_refuses_a_check_that_touches_a_student_object_outside_ask():
    cell = "fn.data"
    v = replay_cell(cell, [])
    assert not v.passed and v.error == "ReplayViolation"


def test_student_error_keeps_the_exception_family():
    e = StudentError("f()", "ZeroDivisionError", ("ZeroDivisionError", "ArithmeticError", "Exception"), "x")
    assert e.is_a("ArithmeticError") and not e.is_a("ValueError") and not e.not_written


def test_a_hidden_block_run_without_the_hidden_checks_says_why_not_a_bare_import_error(tmp_path):
    """A student's copy of the course has no course_hidden: running a hidden block there must
    explain itself."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = ("import sys\nsys.path = [p for p in sys.path if 'autograder/hidden' not in p]\n"
            "import course.checks\n"
            "try:\n    from course_hidden.numerical_slopes import check_central_difference_random\n"
            "except ImportError as e:\n    print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=60).stdout
    assert "ModuleNotFoundError" in out and "hidden tests are not part of the student's copy" in out, out
    assert "./run grade autograde" in out


def test_records_nested_past_the_parsers_depth_are_skipped_not_a_crash_of_the_grader():
    deep = "[" * 100_000 + "]" * 100_000
    good = '{"kind": "check", "key": "k"}'
    assert list(read_records(deep + "\n" + good)) == [{"kind": "check", "key": "k"}]


def test_a_recorded_error_replays_no_longer_than_a_live_one():
    recs = [{"kind": "check", "key": f"{check_double.__module__}.check_double"},
            {"kind": "answer", "key": "1: fn(2.0)",
             "error": {"name": "E" * 10_000, "names": ["E"] * 10_000, "message": "m" * 10**6, "trace": "t" * 10**6}}]
    v = replay_cell(CELL, recs)
    assert not v.passed and len(v.message) < 3 * answers.MAX_TEXT and len(v.trace) <= answers.MAX_TEXT
