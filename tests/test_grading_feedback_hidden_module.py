"""Feedback never shows the hidden checks' own code: a student who prints the source of
course_hidden (readable in the sandbox, since the kernel runs those checks) gets none of it back."""
from __future__ import annotations

import inspect

import course_hidden.numerical_slopes as hidden_module
from autograder import notebooks
from autograder.feedback import CUT, HiddenText, hidden_lines
from conftest import ROOT

NAME = "01_numerical_slopes"
MASTER = notebooks.read(ROOT / "source" / NAME / f"{NAME}.ipynb")
RELEASE = notebooks.read(ROOT / "release" / NAME / f"{NAME}.ipynb")


def test_the_hidden_checks_source_counts_as_hidden_test_text():
    lines = hidden_lines(MASTER, RELEASE)
    assert any("def check_forward_difference_random" in ln for ln in lines)
    assert any("hard-coded" in ln for ln in lines)


def test_printing_the_hidden_checks_source_leaves_nothing_of_it_in_the_output():
    printed = inspect.getsource(hidden_module)
    hidden = HiddenText(hidden_lines(MASTER, RELEASE), "\n".join(c.source for c in RELEASE.cells))
    scrubbed = hidden.scrub(printed)
    meaningful = [ln for ln in printed.splitlines() if len(ln.strip()) >= 24 and ln.strip() not in scrubbed]
    assert scrubbed.count(CUT) > 50
    kept = [ln for ln in scrubbed.splitlines() if ln.strip() and ln.strip() != CUT]
    assert not [ln for ln in kept if len(ln.strip()) >= 24], kept[:5]
    assert meaningful  # the module had lines worth hiding
