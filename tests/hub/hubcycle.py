"""One hub for the hub tests, and one class cycle on it (session fixtures: starting a hub and
three JupyterLab servers is the slow part, so every test of tests/hub/ shares them).

``cycle`` is the class the issue describes, done for real and timed: the instructor releases
notebook 01 through the formgrader's API; two students fetch it with the assignment list's
API, write their answers with the contents API (``adt-alice`` the instructor's solutions,
``adt-bob`` the same but a forward difference where the central one belongs), validate and
submit; the instructor (root, the grading commands) collects from the exchange, autogrades
in the sandbox and releases the feedback; each student fetches it. The tests then check what
each party ends up with.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from hubclient import ROOT, Hub, hubsetup  # noqa: E402

ASSIGNMENT = "01_numerical_slopes"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
INSTRUCTOR = "adt-teacher"
CORRECT, WRONG = "adt-alice", "adt-bob"
STUDENTS = (CORRECT, WRONG)
WRONG_CELL = "central_difference"
WRONG_ANSWER = ('def central_difference(f, x, h):\n    """Forward, not central: the classic slip."""\n'
                "    return (f(x + h) - f(x)) / h\n")
ARTIFACTS = ROOT / "artifacts"
TIMINGS = ARTIFACTS / "hub-timings.json"


@pytest.fixture(scope="session")
def hub():
    """``./run hub`` on loopback with test accounts made here; everything removed afterwards."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the hub tests need root (one system account per user); CI runs as root")
        pytest.skip("the hub tests need root: they create system accounts and start servers as them")
    users = (INSTRUCTOR, *STUDENTS)
    hubsetup.remove_accounts(users)  # left over from an interrupted run
    hubsetup.ensure_accounts(users)
    state = Path(tempfile.mkdtemp(prefix="autodiff-hub-", dir="/tmp"))
    modes = {p: (ROOT / p).stat().st_mode for p in hubsetup.PRIVATE}
    h = None
    try:
        h = Hub.start(state, INSTRUCTOR, STUDENTS)
        yield h
    finally:
        if h is not None:
            h.stop()
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(h.log, ARTIFACTS / "hub.log")
        for p, mode in modes.items():
            (ROOT / p).chmod(mode)
        hubsetup.remove_accounts(users)
        shutil.rmtree(state, ignore_errors=True)
        Path(f"{state}.log").unlink(missing_ok=True)


@dataclass
class Cycle:
    """What one pass of the class cycle produced, for the tests to check."""

    hub: Hub
    released: dict
    fetched: dict[str, list[str]] = field(default_factory=dict)  #: student -> files in their home
    validated: dict[str, dict] = field(default_factory=dict)
    collect_out: str = ""
    feedback: dict[str, str] = field(default_factory=dict)  #: student -> the HTML they fetched
    seconds: dict[str, float] = field(default_factory=dict)


def _answers(hub_nb: dict, wrong: bool) -> dict:
    """The fetched notebook with the instructor's solutions written in (one wrong if asked)."""
    src = nbformat.read(ROOT / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    sol = {c.metadata["nbgrader"]["grade_id"]: c.source for c in src.cells
           if c.metadata.get("nbgrader", {}).get("solution")}
    assert WRONG_CELL in sol, f"notebook {ASSIGNMENT} has no solution cell {WRONG_CELL!r}"
    if wrong:
        sol[WRONG_CELL] = WRONG_ANSWER
    for c in hub_nb["cells"]:
        gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in sol:
            c["source"] = sol[gid]
    return hub_nb


def _ok(r) -> dict:
    assert r.status_code == 200, f"{r.request.method} {r.url}: {r.status_code} {r.text[:2000]}"
    out = r.json()
    assert not (isinstance(out, dict) and out.get("success") is False), out
    return out


def _grade(args: list[str]) -> str:
    """An instructor's grading command (``./run grade ...``), run here as root; its output."""
    import contextlib
    import io
    from autograder.__main__ import main
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(args) == 0
    return buf.getvalue()


@pytest.fixture(scope="session")
def cycle(hub: Hub) -> Cycle:
    t = {"hub start": hub.started_in}
    t0 = time.monotonic()
    t["servers start (3, in parallel)"] = hub.spawn((INSTRUCTOR, *STUDENTS))
    t1 = time.monotonic()
    released = _ok(hub.server("POST", INSTRUCTOR, f"formgrader/api/assignment/{ASSIGNMENT}/release"))
    c = Cycle(hub, released)
    course = {"course_id": hub.settings.course_id, "assignment_id": ASSIGNMENT}
    for student in STUDENTS:
        _ok(hub.server("POST", student, "assignments/fetch", data=course))
        c.fetched[student] = [x["name"] for x in _ok(hub.server("GET", student, f"api/contents/{ASSIGNMENT}"))["content"]]
        nb = _ok(hub.server("GET", student, f"api/contents/{ASSIGNMENT}/{NOTEBOOK}"))["content"]
        body = {"type": "notebook", "format": "json", "content": _answers(nb, wrong=student == WRONG)}
        r = hub.server("PUT", student, f"api/contents/{ASSIGNMENT}/{NOTEBOOK}", json=body)
        assert r.status_code == 200, r.text
    tv = time.monotonic()
    c.validated[WRONG] = _ok(hub.server("POST", WRONG, "assignments/validate",
                                        data={"path": f"{ASSIGNMENT}/{NOTEBOOK}"}))
    t["validate (one student)"] = time.monotonic() - tv
    for student in STUDENTS:
        _ok(hub.server("POST", student, "assignments/submit", data=course))
    t["release, fetch, answer, submit"] = time.monotonic() - t1 - t["validate (one student)"]
    tg = time.monotonic()
    root, ex = str(hub.settings.course), str(hub.settings.exchange)
    c.collect_out = _grade(["collect", ASSIGNMENT, "--exchange", ex, "--root", root])
    _grade(["autograde", ASSIGNMENT, "--root", root, "-q", "-j", "2"])
    _grade(["feedback", ASSIGNMENT, "--root", root, "--exchange", ex])
    t["collect, autograde, feedback (instructor)"] = time.monotonic() - tg
    kept = ARTIFACTS / "hub-grading"  # the grader's status records, to read when a test fails
    shutil.rmtree(kept, ignore_errors=True)
    shutil.copytree(hub.settings.course / "grading" / ASSIGNMENT, kept)
    tf = time.monotonic()
    for student in STUDENTS:
        listing = _ok(hub.server("POST", student, "assignments/fetch_feedback", data=course))
        fb_dir = f"{ASSIGNMENT}/feedback"
        stamps = [x["name"] for x in _ok(hub.server("GET", student, f"api/contents/{fb_dir}"))["content"]]
        assert len(stamps) == 1, (student, stamps, listing)
        r = _ok(hub.server("GET", student, f"api/contents/{fb_dir}/{stamps[0]}/{ASSIGNMENT}.html"))
        c.feedback[student] = r["content"]
    t["fetch feedback (2 students)"] = time.monotonic() - tf
    t["end-to-end cycle for two students (servers up to feedback read)"] = time.monotonic() - t0
    c.seconds = {k: round(v, 1) for k, v in t.items()}
    ARTIFACTS.mkdir(exist_ok=True)
    TIMINGS.write_text(json.dumps(c.seconds, indent=1))
    print("\nhub timings (s):", json.dumps(c.seconds, indent=1))
    return c


SCORE = re.compile(r"\(Score: ([0-9.]+) / ([0-9.]+)\)")


def notebook_score(html: str) -> tuple[float, float]:
    """The notebook's score and maximum from nbgrader's feedback page (its first Score line)."""
    m = SCORE.search(html)
    assert m, "no score in the feedback page"
    return float(m.group(1)), float(m.group(2))


def cell_scores(html: str) -> dict[str, float]:
    """grade_id -> score, from the feedback page's table of test cells."""
    return {gid: float(s) for gid, s, _ in
            re.findall(r'href="#([^"]+)">Test cell</a> \(Score: ([0-9.]+) / ([0-9.]+)\)', html)}

