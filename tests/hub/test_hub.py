"""The course's hub, for real: one ``./run hub`` on loopback and one class cycle on it (the
session fixtures of hubcycle.py), seen by each party in turn. All in one file so that
pytest-xdist's ``--dist loadfile`` keeps them on one worker and the hub starts once.

1. the cycle: release, fetch, answer, validate, submit, collect, autograde in the sandbox,
   release feedback, fetch feedback: each test checks one party's view of it;
2. isolation: what a student's own server can reach, tried from inside her kernel (her system
   account, as the spawner starts it), once the course folder, adt-bob's home and his
   submission all exist;
3. a real browser (Debian's chromium through Playwright): a student logs in and runs her
   code in the notebook she fetched; the instructor sees both submissions in the formgrader
   inside JupyterLab's iframe (the panel JupyterHub 4.1+ leaves blank by default).
   Screenshots go to artifacts/.
"""
from __future__ import annotations

import html
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parents[1] / "browser"))
from chromium import FLAGS, find_or_install  # noqa: E402
from hubcycle import (ARTIFACTS, ASSIGNMENT, CORRECT, INSTRUCTOR, NOTEBOOK, STUDENTS, WRONG,  # noqa: E402
                      WRONG_CELL, cell_scores, cycle, hub, notebook_score)
from hubclient import ROOT  # noqa: E402
from test_grading_e2e import _hidden_lines  # noqa: E402

pytestmark = pytest.mark.hub


# --- 1. the cycle

def _gradebook(cycle):
    course = cycle.hub.settings.course
    return Gradebook(f"sqlite:///{course / 'gradebook.db'}")


def test_the_release_reaches_the_exchange_and_every_student_fetches_it(cycle):
    outbound = cycle.hub.settings.exchange / cycle.hub.settings.course_id / "outbound" / ASSIGNMENT / NOTEBOOK
    released = cycle.hub.settings.course / "release" / ASSIGNMENT / NOTEBOOK
    assert outbound.read_bytes() == released.read_bytes()
    for student in STUDENTS:
        assert NOTEBOOK in cycle.fetched[student]


def test_the_exchange_has_the_modes_nbgrader_documents(cycle):
    import pwd
    s = cycle.hub.settings
    root = s.exchange
    assert root.stat().st_mode & 0o7777 == 0o777
    want = {"": 0o755, "outbound": 0o755, "inbound": 0o2733, "feedback": 0o711}
    for sub, mode in want.items():
        d = root / s.course_id / sub if sub else root / s.course_id
        assert (d.stat().st_mode & 0o7777, pwd.getpwuid(d.stat().st_uid).pw_name) == (mode, INSTRUCTOR), d


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
    assert notebook_score(cycle.feedback[CORRECT]) == (round(score, 2), round(max_score, 2))
    assert max_score > 0
    assert score == max_score


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


def _text_of(page: str) -> str:
    """What a student reads: the HTML without tags (syntax highlighting splits code into spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


# --- 2. isolation

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


def test_a_students_server_gets_neither_the_grading_salt_nor_the_hidden_checks_on_its_path(cycle):
    # the hub runs with both (./run puts autograder/hidden on PYTHONPATH; the test sets a salt)
    out = cycle.hub.run_code(CORRECT, "import importlib.util, os\n"
                             "print(os.environ.get('COURSE_CHECK_SALT'), importlib.util.find_spec('course_hidden'))")
    assert out.strip() == "None None"


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


# --- 3. a real browser

# every user's origin is <user>.localhost: send all of them to loopback
RESOLVE = "--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1"
APP_READY = "() => !!(window.jupyterapp && window.jupyterapp.shell)"
KERNEL_READY = """() => {
  const s = window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext;
  const k = s && s.isReady && s.session && s.session.kernel;
  return !!(k && k.connectionStatus === 'connected' && k.status === 'idle');
}"""
RUN_OWN_CODE = """(code) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const i = nb.widgets.findIndex(c => c.model.sharedModel.getSource().includes('def central_difference'));
  if (i < 0) return 'no central_difference cell';
  nb.activeCellIndex = i;
  window.jupyterapp.commands.execute('notebook:run-cell').then(() => {
    window.jupyterapp.commands.execute('notebook:insert-cell-below').then(() => {
      nb.activeCell.model.sharedModel.setSource(code);
      window.jupyterapp.commands.execute('notebook:run-cell');
    });
  });
  return 'started';
}"""


@pytest.fixture(scope="module")
def browser():
    path, why = find_or_install()
    if path is None:
        pytest.fail(why) if os.environ.get("CI") == "true" else pytest.skip(why)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(path), headless=True, args=[*FLAGS, RESOLVE])
        try:
            yield b
        finally:
            b.close()


def _login(browser, hub, user: str):
    """A fresh browser session logged in as ``user`` through the hub's login form."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"http://localhost:{hub.settings.port}/hub/login", wait_until="domcontentloaded")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")
    page.wait_for_url(f"http://{hub.settings.user_host(user)}/user/{user}/lab**", timeout=120_000)
    page.wait_for_function(APP_READY)
    page.evaluate("async () => { await window.jupyterapp.restored; }")
    return ctx, page


@pytest.mark.browser
def test_a_student_logs_in_opens_her_fetched_notebook_and_runs_her_code(cycle, browser):
    hub = cycle.hub
    ctx, page = _login(browser, hub, CORRECT)
    try:
        base = f"http://{hub.settings.user_host(CORRECT)}/user/{CORRECT}"
        page.goto(f"{base}/lab/tree/{ASSIGNMENT}/{NOTEBOOK}", wait_until="domcontentloaded")
        page.wait_for_function(APP_READY)
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        deadline = time.monotonic() + 120
        while not page.evaluate(KERNEL_READY):
            accept = page.locator(".jp-Dialog .jp-mod-accept")
            if accept.count():  # "Select Kernel": keep python3
                accept.first.click()
            assert time.monotonic() < deadline, "the kernel never became ready"
            time.sleep(0.3)
        assert page.evaluate(RUN_OWN_CODE, "print(central_difference(lambda t: t**3, 1.0, 1e-2))") == "started"
        out = page.locator(".jp-Cell.jp-mod-active .jp-OutputArea-output")
        out.wait_for()
        page.wait_for_function("() => document.querySelector('.jp-Cell.jp-mod-active .jp-OutputArea-output')"
                               ".textContent.trim().length > 0")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "hub_student_notebook.png"))
        # (1.01**3 - 0.99**3) / 0.02 = 3 + h**2: the central difference she wrote, run in her lab
        assert float(out.inner_text().strip()) == pytest.approx(3.0001, abs=1e-12)
    finally:
        ctx.close()


@pytest.mark.browser
def test_the_instructor_sees_both_submissions_in_the_formgrader_inside_jupyterlab(cycle, browser):
    hub = cycle.hub
    ctx, page = _login(browser, hub, INSTRUCTOR)
    try:
        page.evaluate("async () => { await window.jupyterapp.restored;"
                      " await window.jupyterapp.commands.execute('nbgrader:open-formgrader'); }")
        frame = page.frame_locator("iframe")
        row = frame.locator("tr", has_text=ASSIGNMENT).first
        try:  # the formgrader's first listing takes a while (about 15 s here, for five assignments)
            row.wait_for(timeout=180_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "hub_formgrader_failed.png"))
            raise
        # the two submissions are counted in the assignment's row
        assert row.locator("td").nth(8).inner_text().strip() == str(len(STUDENTS))
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "hub_formgrader_assignments.png"))
        frame.locator(f"a[href$='manage_submissions/{ASSIGNMENT}']").first.click()
        for student in STUDENTS:
            frame.locator("td", has_text=student).first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "hub_formgrader_submissions.png"))
        shown = frame.locator("tbody tr").all_inner_texts()
        assert sorted(s for s in STUDENTS if any(s in r for r in shown)) == sorted(STUDENTS), shown
    finally:
        ctx.close()
