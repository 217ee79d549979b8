"""The nbgrader pipeline: release/ matches source/, sources pass, releases fail helpfully."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from autograder import notebooks, release
from conftest import ROOT, assignments, source_notebooks

STUB = "Not written yet: replace this line with your code"


def test_every_assignment_has_a_committed_release():
    missing = [n for n in assignments() if not list((ROOT / "release" / n).glob("*.ipynb"))]
    assert not missing, f"no release for {missing}: run ./run grade release"


def test_committed_release_matches_a_fresh_generation(tmp_path):
    release.generate(dest=tmp_path, names=assignments())
    diffs = release.differences(ROOT / "release", tmp_path)
    assert not diffs, "release/ is stale; run ./run grade release and commit:\n" + "\n".join(diffs)


def test_release_differences_notice_a_changed_cell(tmp_path):
    """The sync check can fail: an edited released cell is reported."""
    names = assignments()[:1]
    if not names:
        pytest.skip("no assignments yet")
    release.generate(dest=tmp_path, names=names)
    nb_path = next((tmp_path / names[0]).glob("*.ipynb"))
    nb = notebooks.read(nb_path)
    nb.cells[0].source += "\nedited"
    import nbformat
    nbformat.write(nb, str(nb_path))
    assert release.differences(ROOT / "release" / names[0], tmp_path / names[0])


@pytest.mark.slow
@pytest.mark.parametrize("nb", source_notebooks(), ids=lambda p: p.parent.name)
def test_source_notebook_passes_nbgrader_validate(nb):
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(nb)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    # nbgrader validate exits 0 even on failure: read what it says.
    assert "Success! Your notebook passes all the tests." in out, out[-4000:]
    assert "VALIDATION FAILED" not in out, out[-4000:]


@pytest.mark.slow
@pytest.mark.parametrize("name", assignments())
def test_released_notebook_fails_every_test_with_a_helpful_message(name):
    for nb in sorted((ROOT / "release" / name).glob("*.ipynb")):
        res, _ = notebooks.run_in_kernel(nb, timeout=600)
        assert res.tests, f"{nb.name} has no test cells"
        passed = res.passed()
        assert not passed, f"{nb.name}: these tests pass with no solution written: {passed}"
        unhelpful = {g: f"{r.error}: {r.message[:200]}" for g, r in res.tests.items()
                     if not (r.error == "CheckFailed" and (STUB in r.message or len(r.message.strip()) > 20))}
        assert not unhelpful, (
            f"{nb.name}: released tests must fail with a check's message that says what to do "
            f"(the stub's NotImplementedError becomes 'not written yet'), not: {unhelpful}")
        broken = [(c, e, m[:200]) for c, e, m in res.errors
                  if not (e == "NotImplementedError" and STUB in m)]
        assert not broken, f"{nb.name}: cells outside the exercises fail in the release: {broken}"


def test_stub_text_is_what_the_release_shows():
    text = "\n".join(c.source for nb in (ROOT / "release").glob("*/*.ipynb")
                     for c in notebooks.read(nb).cells if c.cell_type == "code")
    if not text:
        pytest.skip("no releases yet")
    assert STUB in text
    assert not re.search(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", text), "solutions or hidden tests leaked"


def test_no_released_file_holds_a_solution_a_hidden_test_or_a_text_source():
    """nbgrader copies every file of a source folder: the text source (solutions and hidden
    tests in plain text) must never be among them."""
    leaks = []
    for f in (ROOT / "release").rglob("*"):
        if f.is_file() and "__pycache__" not in f.parts:
            text = f.read_text(errors="replace")
            if re.search(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)|course_hidden", text) or f.suffix == ".py":
                leaks.append(str(f.relative_to(ROOT)))
    assert not leaks, f"released files that give away answers: {leaks}"
