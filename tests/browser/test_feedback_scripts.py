"""No student output runs in a real browser that opens a feedback page (issue 15, "leaks").

A feedback page is made (nbgrader, through ``./run grade feedback``) for a student whose
outputs and markdown hold scripts, event handlers, ``javascript:`` links, SVG with scripts,
iframes, a JavaScript output and a widget view that tries to close its script tag (see
tests/grading/xss_outputs.py): each payload sets ``window.PWNED`` if it runs. The page is
opened in Debian's Chromium, every element is hovered and every link clicked, and
``window.PWNED`` must stay undefined. The control: the same payloads written raw into a page
do set it, in the same browser, so the check can fail.
"""
from __future__ import annotations

import html
import sys
from pathlib import Path

import pytest

from chromium import FLAGS, chromium_or_skip

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "grading"))
import fixture_course as fc  # noqa: E402
from graded_class import Student, graded_class  # noqa: E402
from xss_outputs import OWN, XSS, with_markdown, xss_student  # noqa: E402

from autograder.__main__ import main  # noqa: E402

pytestmark = pytest.mark.browser
POKE = """() => {
  for (const el of document.querySelectorAll('body *')) {
    for (const type of ['mouseover', 'mouseenter', 'focus']) el.dispatchEvent(new Event(type, {bubbles: true}));
  }
  for (const a of document.querySelectorAll('a[href]')) if (!a.href.startsWith('file:')) a.click();
}"""


def _pwned(page, url: str):
    page.goto(url, wait_until="load")
    page.wait_for_timeout(300)
    page.evaluate(POKE)
    page.wait_for_timeout(300)
    return page.evaluate("() => window.PWNED")


def test_no_student_output_runs_in_the_feedback_page(tmp_path):
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_skip()
    root = graded_class(fc.cached_course(tmp_path), tmp_path / "c", {"mal": xss_student(), "ok": Student()})
    with_markdown(root, "mal")
    assert main(["feedback", "ps1", "--root", str(root)]) == 0
    feedback_page = root / "feedback" / "mal" / "ps1" / "ps1.html"
    raw = tmp_path / "raw.html"  # the control: the same payloads, not sanitised
    raw.write_text("<html><body>" + "".join(XSS.values()) + f"<p>{html.escape(OWN)}</p></body></html>")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            dialogs = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            assert _pwned(page, raw.as_uri()) is not None  # the payloads do run when nothing stops them
            assert _pwned(page, feedback_page.as_uri()) is None
            assert OWN in page.inner_text("body") and dialogs == []
        finally:
            browser.close()
