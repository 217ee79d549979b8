"""Text sources: source/NN/NN.py -> source/NN/NN.ipynb -> release/NN, in sync, with stable ids."""
from __future__ import annotations

import difflib
import shutil

import nbformat
import pytest

from autograder import release, textsource
from conftest import ROOT

TEXTS = textsource.text_sources(ROOT / "source")
NB01 = ROOT / "source" / "01_numerical_slopes" / "01_numerical_slopes.py"


def test_every_assignment_has_a_text_source():
    assert {t.parent.name for t in TEXTS} == set(release.assignments())


@pytest.mark.parametrize("text", TEXTS, ids=lambda p: p.parent.name)
def test_committed_source_notebook_is_what_its_text_builds(text):
    diffs = textsource.differences(text)
    assert not diffs, f"{diffs}: run ./run grade release {text.parent.name} and commit"


def test_sync_check_notices_an_edited_text(tmp_path):
    folder = tmp_path / NB01.parent.name
    shutil.copytree(NB01.parent, folder)
    text = folder / NB01.name
    text.write_text(text.read_text().replace("# # 01 · Numerical slopes", "# # 01 · Numerical slopes!", 1))
    assert textsource.differences(text)


def changed_lines(a: str, b: str) -> list[str]:
    return [ln for ln in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


@pytest.mark.slow
def test_a_one_line_edit_is_a_one_line_diff_in_every_generated_notebook(tmp_path):
    src = tmp_path / "source" / NB01.parent.name
    shutil.copytree(NB01.parent, src)
    text = src / NB01.name
    before_nb = textsource.build(text).read_text()
    release.generate(dest=tmp_path / "before", names=[src.name], source=tmp_path / "source")
    old = "print(forward_difference(f, 3.0, 0.001))   # about 14.003"
    assert old in text.read_text()
    text.write_text(text.read_text().replace(old, "print(forward_difference(f, 3.0, 0.0001))   # about 14.0003"))
    after_nb = textsource.build(text).read_text()
    release.generate(dest=tmp_path / "after", names=[src.name], source=tmp_path / "source")
    edited = ['-    "print(forward_difference(f, 3.0, 0.001))   # about 14.003"',
              '+    "print(forward_difference(f, 3.0, 0.0001))   # about 14.0003"']
    assert changed_lines(before_nb, after_nb) == edited  # one line out, one line in
    rel = f"{src.name}/{NB01.stem}.ipynb"
    diff = changed_lines((tmp_path / "before" / rel).read_text(), (tmp_path / "after" / rel).read_text())
    # in the release nbgrader also keeps a checksum of every locked cell: the cell's one other line
    assert [d for d in diff if '"checksum"' not in d] == edited and len(diff) == 4


def test_cell_ids_come_from_grade_ids_and_places_not_from_content():
    nb = textsource.read_text(NB01)
    ids = [c.id for c in nb.cells]
    graded = [c for c in nb.cells if (c.metadata.get("nbgrader") or {}).get("grade_id")]
    assert all(c.id == c.metadata["nbgrader"]["grade_id"] for c in graded)
    nb.cells[1].source += "\n# an edit"
    assert [c.id for c in textsource.stable_ids(nb).cells] == ids


def test_editing_the_notebook_and_writing_it_back_to_text_keeps_the_edit(tmp_path):
    folder = tmp_path / NB01.parent.name
    shutil.copytree(NB01.parent, folder)
    nb_path = folder / f"{NB01.stem}.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[0].source += "\n\nAn edit made in JupyterLab."
    nbformat.write(nb, nb_path)
    textsource.to_text(nb_path)
    assert "# An edit made in JupyterLab." in (folder / NB01.name).read_text()
    rebuilt = textsource.read_text(folder / NB01.name)
    assert rebuilt.cells[0].source.endswith("An edit made in JupyterLab.")
    assert [c.id for c in rebuilt.cells] == [c.id for c in textsource.read_text(NB01).cells]
