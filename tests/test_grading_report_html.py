"""``report A --html`` (issue 14): one self-contained page, and what it says about a small class.
The real-browser check of the same page is tests/browser/test_class_report_html.py."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import report_class  # noqa: E402

from autograder import html_report  # noqa: E402
from autograder.__main__ import main  # noqa: E402


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = report_class.make(tmp_path_factory.mktemp("report"))
    assert main(["report", "ps1", "--root", str(root), "--html"]) == 0
    path = root / "reports" / "ps1.html"
    return root, path.read_text()


def _section(text: str, sid: str) -> str:
    return re.search(rf'<section id="{sid}">(.*?)</section>', text, re.S).group(1)


def test_page_is_self_contained_with_no_script_and_no_network(page):
    _, text = page
    assert "<script" not in text.replace("&lt;script", "")
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', text)
    assert html_report.CSP in text
    assert len(re.findall(r'<img class="figure" id="fig-[a-z-]+" alt="[^"]+" src="data:image/png;base64,', text)) == 3


def test_statuses_and_pass_rates_are_counted_right(page):
    _, text = page
    statuses = _section(text, "statuses")
    assert "<td>graded</td><td class=\"num\">6</td>" in statuses and "<td>tampered</td><td class=\"num\">1</td>" in statuses
    rates = _section(text, "pass-rates")  # 6 graded on merit: bob fails two square tests, dan one slope test
    assert '<td>test_square_value</td><td class="num">5/6</td><td class="num">83.3 %</td>' in rates
    assert '<td>test_slope_value</td><td class="num">5/6</td>' in rates
    assert '<td>test_slope_array</td><td class="num">6/6</td>' in rates


def test_submissions_to_look_at_have_their_flags_escaped_and_their_lateness(page):
    _, text = page
    look = _section(text, "look")
    rows = re.findall(r"<tr><td>([a-z]+)</td>", look)
    assert rows == ["cat", "dan", "fay", "gus"]  # withheld, late, review flag, no timestamp
    assert "installs IPython hooks &lt;script&gt;alert(1)&lt;/script&gt;" in look
    assert "4 / 6 (raw 4)" not in look and "3.2 / 6 (raw 4)" in look  # dan: 27 h late, 2 days x 0.1
    assert "no timestamp" in look and "no feedback page" in look


def test_similar_pair_and_isolation_are_shown(page):
    _, text = page
    assert re.search(r"<td>eve</td><td>fay</td><td class=\"num\">1\.00</td>", _section(text, "similar"))
    assert "<td>no network</td><td>active</td>" in _section(text, "isolation")
