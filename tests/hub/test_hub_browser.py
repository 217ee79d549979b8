"""The hub in a real browser (Debian's chromium through Playwright), after the class cycle:
a student logs in at the hub, opens the notebook she fetched and runs her own code; the
instructor logs in and sees both submissions in the formgrader, inside JupyterLab's iframe
(the panel that JupyterHub 4.1+ leaves blank by default). Screenshots go to artifacts/."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "browser"))
from chromium import FLAGS, find_or_install  # noqa: E402
from conftest import ARTIFACTS, ASSIGNMENT, CORRECT, INSTRUCTOR, NOTEBOOK, STUDENTS  # noqa: E402

pytestmark = pytest.mark.browser
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
        pytest.fail(why) if __import__("os").environ.get("CI") == "true" else pytest.skip(why)
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
