"""What a student's own server can reach on the hub, tried from inside it: code run in
adt-alice's kernel (her system account, as the spawner starts it) after the class cycle, when
the course folder, adt-bob's home and his submission all exist."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from conftest import ASSIGNMENT, CORRECT, INSTRUCTOR, NOTEBOOK, WRONG  # noqa: E402
from hubclient import ROOT  # noqa: E402

PROBE = """
import json, os
out = {}
for kind, path in %s:
    try:
        if kind == "list":
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        out[path] = "READ"
    except PermissionError:
        out[path] = "denied"
    except FileNotFoundError:
        out[path] = "missing"
print(json.dumps(out))
"""


def _try(hub, user: str, targets: list[tuple[str, Path]]) -> dict[str, str]:
    """What ``user``'s kernel gets for each (list|read, path); each path is checked to exist first."""
    for _, p in targets:
        assert p.exists(), f"{p} does not exist: the test would prove nothing"
    code = PROBE % repr([(k, str(p)) for k, p in targets])
    return json.loads(hub.run_code(user, code).strip().splitlines()[-1])


def test_a_students_server_cannot_read_the_course_folder_or_the_solutions(cycle):
    course = cycle.hub.settings.course
    got = _try(cycle.hub, CORRECT, [
        ("list", course.parent), ("list", course), ("read", course / "gradebook.db"),
        ("read", course / "source" / ASSIGNMENT / NOTEBOOK),
        ("read", course / "submitted" / WRONG / ASSIGNMENT / NOTEBOOK),
        ("read", ROOT / "source" / ASSIGNMENT / NOTEBOOK), ("list", ROOT / "source")])
    assert set(got.values()) == {"denied"}, got


def test_a_students_server_cannot_read_another_students_home(cycle):
    bob = Path("/home") / WRONG
    got = _try(cycle.hub, CORRECT, [("list", bob), ("read", bob / ASSIGNMENT / NOTEBOOK)])
    assert set(got.values()) == {"denied"}, got


def test_a_students_server_cannot_list_others_submissions_or_feedback(cycle):
    ex = cycle.hub.settings.exchange / cycle.hub.settings.course_id
    got = _try(cycle.hub, CORRECT, [("list", ex / "inbound"), ("list", ex / "feedback")])
    assert set(got.values()) == {"denied"}, got


def test_a_student_cannot_guess_the_folder_of_anothers_submission(cycle):
    # nbgrader names a submission <student>+<assignment>+<timestamp>+<72 random bits>: knowing
    # everything but the random part (here even the exact timestamp) does not reach it.
    course, ex = cycle.hub.settings.course, cycle.hub.settings.exchange / cycle.hub.settings.course_id
    stamp = (course / "submitted" / WRONG / ASSIGNMENT / "timestamp.txt").read_text()
    guess = ex / "inbound" / f"{WRONG}+{ASSIGNMENT}+{stamp}"
    out = cycle.hub.run_code(CORRECT, f"import os; print(os.path.exists({str(guess)!r}))")
    assert out.strip() == "False"


def test_a_student_cannot_reach_the_formgrader(cycle):
    hub = cycle.hub
    theirs = hub.server("GET", INSTRUCTOR, "formgrader", as_user=CORRECT)
    assert theirs.status_code == 403, (theirs.status_code, theirs.text[:300])
    api = hub.server("GET", INSTRUCTOR, "formgrader/api/assignments", as_user=CORRECT)
    assert api.status_code == 403
    own = hub.server("GET", CORRECT, "formgrader")
    assert own.status_code == 404  # not even a formgrader of her own
    assert hub.server("GET", INSTRUCTOR, "formgrader/manage_assignments").status_code == 200


def test_only_the_instructors_server_lets_itself_be_framed(cycle):
    hub = cycle.hub
    fg = hub.server("GET", INSTRUCTOR, "formgrader/manage_assignments")
    assert fg.status_code == 200
    assert fg.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    lab = hub.server("GET", CORRECT, "lab")
    assert "frame-ancestors 'none'" in lab.headers["Content-Security-Policy"]
    # 'self' is safe only because every user has an origin of their own
    assert hub.settings.user_host(INSTRUCTOR) != hub.settings.user_host(CORRECT)
