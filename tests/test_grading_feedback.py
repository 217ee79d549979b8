"""Feedback (issue 15): one bad notebook never stops another student's page, no hidden test
text reaches a student however it got into an output, and nothing a student's code output
runs in the browser of whoever opens the page or the autograded notebook.

The class is graded without kernels (tests/grading/graded_class.py writes the worker's
results through the batch's own writer); feedback runs nbgrader for real.
"""
from __future__ import annotations

import html
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_output

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import fixture_course as fc  # noqa: E402
from graded_class import Student, graded_class, html_output, stream  # noqa: E402
from xss_outputs import OWN, XSS, with_markdown, xss_student  # noqa: E402

from autograder import feedback as fb  # noqa: E402
from autograder.__main__ import main  # noqa: E402
from autograder.safe_html import sanitize_outputs  # noqa: E402

HIDDEN_SRC = fc.source_notebook().cells[4].source  # the cell with the hidden block
HIDDEN_BLOCK = HIDDEN_SRC[HIDDEN_SRC.index("### BEGIN"):]
HIDDEN_LINE = "for x in rng.uniform(-5, 5, size=3):"

def _page(root: Path, student: str) -> str:
    return (root / "feedback" / student / fc.ASSIGNMENT / "ps1.html").read_text()


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


class _Scan(HTMLParser):
    """Everything in a page that can run: script elements, event attributes, script URLs, frames."""

    def __init__(self):
        super().__init__()
        self.runnable: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("script", "iframe", "object", "embed", "svg"):
            self.runnable.append(f"<{tag} {sorted(attrs)}>")
        for k, v in attrs:
            if k.startswith("on") or (v or "").strip().lower().startswith(("javascript:", "data:text")):
                self.runnable.append(f"{tag}[{k}={v}]")

    def handle_data(self, data):
        if self.tags and self.tags[-1] == "script" and data.strip():
            self.runnable.append("script body: " + " ".join(data.split())[:80])

    def handle_endtag(self, tag):
        if self.tags:
            self.tags.pop()


def _runnable(page: str) -> list[str]:
    s = _Scan()
    s.feed(page)
    return s.runnable


LEAKS = [stream(HIDDEN_BLOCK + "\n"),  # the block as read from the kernel's history
         stream(repr(HIDDEN_SRC) + "\n"),  # one long escaped line
         stream(json.dumps({"src": HIDDEN_SRC}) + "\n"),
         stream(HIDDEN_LINE[:26] + "\n"),  # a piece of a line
         stream("  ".join(HIDDEN_LINE.split()) + "\n", name="stderr"),  # spacing changed
         html_output(f"<pre>{html.escape(HIDDEN_SRC)}</pre>"),
         new_output("error", ename="ValueError", evalue=HIDDEN_LINE, traceback=[HIDDEN_LINE]),
         stream(OWN + "\n")]
VISIBLE = "got = float(square(-2.0))"  # the visible part of the hidden test's cell


@pytest.fixture(scope="module")
def fed(tmp_path_factory):
    """One class, feedback run once through the command line: a broken autograded notebook (ben),
    leaks of hidden text (eve), a visible line printed (fay), scripts in outputs (mal)."""
    base = tmp_path_factory.mktemp("feedback")
    plan = {"amy": Student(), "ben": Student(), "cat": Student(), "eve": Student(outputs={"square": LEAKS}),
            "fay": Student(outputs={"square": [stream(VISIBLE + "\n")]}), "honest": Student(),
            "mal": xss_student()}
    root = graded_class(fc.cached_course(base), base / "c", plan)
    (root / "autograded" / "ben" / "ps1" / "ps1.ipynb").write_text("{ not a notebook")
    formgrader_nb = (root / "autograded" / "mal" / "ps1" / "ps1.ipynb").read_text()
    with_markdown(root, "mal")
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["feedback", "ps1", "--root", str(root)])
    return {"root": root, "code": code, "out": out.getvalue(), "formgrader_nb": formgrader_nb}


# ------------------------------------------------------------------ faults that cost the batch
def test_one_broken_autograded_notebook_never_stops_the_others_feedback(fed):
    pages = sorted(p.parts[-3] for p in (fed["root"] / "feedback").glob("*/ps1/ps1.html"))
    assert pages == ["amy", "cat", "eve", "fay", "honest", "mal"]
    assert fed["code"] == 1  # every other page written, and it says who has none
    assert "feedback for 6 notebook(s)" in fed["out"] and "NO FEEDBACK for ben: " in fed["out"]


# ------------------------------------------------------------------ leaks: hidden test text
def test_hidden_test_text_printed_by_student_code_never_reaches_feedback(fed):
    text = _text(_page(fed["root"], "eve"))
    assert fc.HIDDEN_TOKEN not in text and "BEGIN HIDDEN" not in text
    hidden = fb.hidden_lines(fc.source_notebook())
    assert len(hidden) == 6  # four lines and the two markers
    for line in hidden:
        assert line[:fb.WINDOW] not in " ".join(text.split()), line
    assert OWN in text and fb.CUT in text


def test_text_the_release_shows_is_never_cut(fed):
    text = _text(_page(fed["root"], "fay"))
    assert VISIBLE in text and fb.CUT not in text


# ------------------------------------------------------------------ leaks: scripts in pages
def test_feedback_page_runs_nothing_a_student_output(fed):
    page, control = _page(fed["root"], "mal"), _page(fed["root"], "honest")
    assert "PWNED" not in page  # not even as text in a script-capable place ...
    assert _runnable(page) == _runnable(control)  # ... and nothing runnable beyond the template's own
    assert OWN in _text(page) and "My notes" in _text(page) and "bold" in _text(page)
    assert "data:image/svg+xml;base64," in page  # the SVG is still shown, as an image


def test_autograded_notebook_the_formgrader_shows_holds_nothing_runnable(fed):
    nb = nbformat.reads(fed["formgrader_nb"], as_version=4)
    dumped = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "PWNED" not in dumped and "<script" not in dumped and "javascript:" not in dumped
    assert OWN in dumped


@pytest.mark.parametrize("name", sorted(XSS))
def test_sanitize_outputs_removes_each_kind_of_script(name):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[html_output(XSS[name])]),
                                         new_markdown_cell(XSS[name])])
    sanitize_outputs(nb)
    for cell in nb.cells:
        text = cell.source if cell.cell_type == "markdown" else cell.outputs[0]["data"]["text/html"]
        assert "PWNED" not in text and not _runnable(text), (name, text)
