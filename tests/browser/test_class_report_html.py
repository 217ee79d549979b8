"""The HTML class report in a real Chromium (Debian's, through Playwright).

Builds a small graded class (tests/grading/report_class.py), writes feedback for two
students, writes the report with ``./run grade report ps1 --html``, opens it from disk and
checks: no request leaves the page (only the file and data: URLs), the three figures decode
(their natural size is not zero), the status, pass-rate, look-at, similar-pairs and isolation
tables hold what the class holds, a flag's ``<script>`` is shown as text and ran nothing, and
a feedback link opens that student's page. Saves artifacts/class_report.png.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from chromium import FLAGS, chromium_or_skip

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "grading"))
import report_class  # noqa: E402

from autograder import feedback  # noqa: E402
from autograder.__main__ import main  # noqa: E402

ARTIFACTS = ROOT / "artifacts"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    return chromium_or_skip()


def test_class_report_opens_in_chromium_with_its_figures_tables_and_links(chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    root = report_class.make(tmp_path)
    assert not feedback.feedback(root, "ps1", students=["cat", "dan"]).failed
    assert main(["report", "ps1", "--root", str(root), "--html"]) == 0
    page_path = root / "reports" / "ps1.html"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            requests, dialogs = [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_path.as_uri(), wait_until="load")
            assert page.title() == "Class report: ps1"
            figures = page.eval_on_selector_all(
                "img.figure", "els => els.map(e => [e.id, e.complete, e.naturalWidth, e.naturalHeight])")
            assert [f[0] for f in figures] == ["fig-scores", "fig-pass-rates", "fig-heat-map"]
            assert all(ok and w > 300 and h > 100 for _, ok, w, h in figures), figures
            cells = "els => els.map(r => [...r.querySelectorAll('td')].map(td => td.innerText.trim()))"
            assert page.eval_on_selector_all("#status-table tbody tr", cells) == [["graded", "6"], ["tampered", "1"]]
            rates = page.eval_on_selector_all("#pass-table tbody tr", cells)
            assert ["test_square_value", "5/6", "83.3 %"] in rates and len(rates) == 4
            look = page.eval_on_selector_all("#look-table tbody tr", cells)
            assert [r[0] for r in look] == ["cat", "dan", "fay", "gus"]
            assert "installs IPython hooks <script>alert(1)</script>" in look[0][4]  # shown as text ...
            assert dialogs == []  # ... and it ran nothing
            assert page.eval_on_selector_all("#similar-table tbody tr", cells) == [["eve", "fay", "1.00"]]
            assert ["no network", "active"] in page.eval_on_selector_all("#isolation-table tbody tr", cells)
            assert all(u.startswith(("file://", "data:")) for u in requests), requests
            page.screenshot(path=str(ARTIFACTS / "class_report.png"), full_page=True)
            page.click("#look-table a[href*='feedback/cat/']")
            page.wait_for_load_state("load")
            assert page.url.endswith("/feedback/cat/ps1/ps1.html")
            assert "Problem set 1" in page.inner_text("body")
        finally:
            browser.close()
