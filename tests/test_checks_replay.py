"""The grader's trusted verdict: every test cell, replayed on the answers its checks recorded,
says what it said live, with the same message, and never touches a student object.

This is what lets autograde decide a score outside the student's process
(autograder/grading.py): the kernel only supplies answers.
"""
from __future__ import annotations

import pytest

from autograder import notebooks
from conftest import ROOT, source_notebooks

NOTEBOOKS = source_notebooks()
ids = [p.parent.name for p in NOTEBOOKS]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_source_test_cell_passes_live_and_replayed(path):
    master = notebooks.read(path)
    res = notebooks.run_in_process(master, record=True, cwd=path.parent)
    verdicts = notebooks.replay(master, res)
    assert res.tests and not res.failed(), {g: res.tests[g].message[:300] for g in res.failed()}
    for gid, v in verdicts.items():
        assert v.passed, f"{gid} passes live but not replayed: {v.message[:500]} {v.problems}"
        assert not v.problems, f"{gid}: {v.problems}"
        assert v.checks >= 1, f"{gid} recorded no check: it must call checks from course.checks"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_released_test_cell_fails_live_and_replayed_with_the_same_message(path):
    """The release with the master's test cells put back, as autograde grades it."""
    master = notebooks.read(path)
    release = ROOT / "release" / path.parent.name / path.name
    tests = {notebooks.cell_id(c): c.source for c in notebooks.test_cells(master)}
    res = notebooks.run_in_process(release, replace=tests, record=True, skip_tags={"slow"})
    verdicts = notebooks.replay(master, res)
    for gid, r in res.tests.items():
        v = verdicts[gid]
        assert not r.ok and not v.passed, f"{gid}: live {r.ok}, replayed {v.passed}"
        assert v.message == r.message, f"{gid}: replayed message differs:\n{v.message}\n---\n{r.message}"
        assert not v.problems, f"{gid}: {v.problems}"
