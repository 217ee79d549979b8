"""The student's working copy (course.workspace, used by ./run lab).

What is proved: the first sync fetches every release file; a release change
to a file the student never edited updates it; a release change to a file the
student edited keeps their edits byte for byte, writes the new version beside
it and reports the change (again on the next sync, until the student deletes
the new file); an unreadable record never leads to an overwrite; work/ is
ignored by git; the real ./run lab fetches the working copy (COURSE_WORK)
and starts JupyterLab after it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from course.workspace import main, sync

ROOT = Path(__file__).resolve().parent.parent


def release_tree(tmp_path: Path) -> Path:
    rel = tmp_path / "release"
    (rel / "01_a").mkdir(parents=True)
    (rel / "02_b").mkdir()
    (rel / "01_a" / "01_a.ipynb").write_text('{"v": 1}')
    (rel / "02_b" / "02_b.ipynb").write_text('{"v": 1}')
    (rel / "02_b" / ".ipynb_checkpoints").mkdir()
    (rel / "02_b" / ".ipynb_checkpoints" / "x.ipynb").write_text("{}")
    return rel


def test_the_first_sync_fetches_every_release_file_and_nothing_hidden(tmp_path):
    rel, work = release_tree(tmp_path), tmp_path / "work"
    changes = sync(rel, work)
    assert [(str(c.path), c.kind) for c in changes] == [
        ("01_a/01_a.ipynb", "fetched"), ("02_b/02_b.ipynb", "fetched")]
    assert (work / "01_a" / "01_a.ipynb").read_text() == '{"v": 1}'
    assert not (work / "02_b" / ".ipynb_checkpoints").exists()
    assert sync(rel, work) == [], "nothing changed: nothing to do"


def test_a_release_change_to_an_unedited_copy_updates_it(tmp_path):
    rel, work = release_tree(tmp_path), tmp_path / "work"
    sync(rel, work)
    (rel / "01_a" / "01_a.ipynb").write_text('{"v": 2}')
    changes = sync(rel, work)
    assert [(str(c.path), c.kind) for c in changes] == [("01_a/01_a.ipynb", "updated")]
    assert (work / "01_a" / "01_a.ipynb").read_text() == '{"v": 2}'


def test_a_release_change_to_an_edited_copy_keeps_the_edits_and_reports_the_change(tmp_path, capsys):
    rel, work = release_tree(tmp_path), tmp_path / "work"
    sync(rel, work)
    mine = work / "02_b" / "02_b.ipynb"
    mine.write_text('{"v": 1, "my answer": 42}')
    (rel / "02_b" / "02_b.ipynb").write_text('{"v": 2}')
    assert main([str(rel), str(work)]) == 0
    said = capsys.readouterr().err
    assert mine.read_text() == '{"v": 1, "my answer": 42}', "the student's edits are kept"
    beside = work / "02_b" / "02_b.new-release.ipynb"
    assert beside.read_text() == '{"v": 2}'
    assert "02_b/02_b.ipynb changed in release/" in said and str(beside) in said
    assert [c.kind for c in sync(rel, work)] == ["kept"], "reminded until dealt with"
    beside.unlink()  # the student merged what they wanted
    assert sync(rel, work) == [] and mine.read_text() == '{"v": 1, "my answer": 42}'
    (rel / "02_b" / "02_b.ipynb").write_text('{"v": 3}')
    assert [c.kind for c in sync(rel, work)] == ["kept"] and mine.read_text().endswith("42}")


def test_a_lost_or_broken_record_never_overwrites_a_file(tmp_path):
    rel, work = release_tree(tmp_path), tmp_path / "work"
    sync(rel, work)
    (work / ".course" / "fetched.json").write_text("not json")
    (rel / "01_a" / "01_a.ipynb").write_text('{"v": 2}')
    assert [c.kind for c in sync(rel, work)] == ["kept"]
    assert (work / "01_a" / "01_a.ipynb").read_text() == '{"v": 1}'


def test_work_is_ignored_by_git():
    res = subprocess.run(["git", "check-ignore", "-q", "work/01_numerical_slopes/x.ipynb"], cwd=ROOT)
    assert res.returncode == 0, "work/ must be in .gitignore"


def run_lab_show_config(work: Path) -> subprocess.CompletedProcess:
    """The real ./run lab; --show-config makes JupyterLab print its settings and exit."""
    env = {**os.environ, "COURSE_WORK": str(work)}
    return subprocess.run([str(ROOT / "run"), "lab", "--show-config"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_run_lab_fetches_the_working_copy_and_opens_jupyterlab_there(tmp_path):
    res = run_lab_show_config(tmp_path / "mine")
    assert res.returncode == 0, res.stderr[-2000:]
    fetched = sorted(p.relative_to(tmp_path / "mine").as_posix()
                     for p in (tmp_path / "mine").rglob("*.ipynb"))
    assert fetched == sorted(p.relative_to(ROOT / "release").as_posix()
                             for p in (ROOT / "release").rglob("*.ipynb")) and fetched
    assert f"your working copy: {tmp_path / 'mine'}" in res.stderr
    assert f".root_dir = '{tmp_path / 'mine'}'" in res.stdout, res.stdout[-1500:]


def test_a_working_copy_inside_the_checkout_is_opened_from_the_checkouts_root():
    """As the default work/ is: nbgrader wants its course folder inside the server's root."""
    inside = ROOT / ".pytest_cache" / f"work-{os.getpid()}"
    try:
        res = run_lab_show_config(inside)
        assert res.returncode == 0, res.stderr[-2000:]
        assert f".root_dir = '{ROOT}'" in res.stdout
        assert f".default_url = '/lab/tree/.pytest_cache/{inside.name}'" in res.stdout
    finally:
        shutil.rmtree(inside, ignore_errors=True)
