"""``autograder.exchange.collect`` on a hand-made ``inbound/`` (no hub): which folders are
graded, under which name, with which timestamp. Owners are real system accounts (``daemon``,
``nobody``), so these tests need root to hand files to them."""
from __future__ import annotations

import os
import pwd
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import exchange

pytestmark = pytest.mark.hub

NB = "ps1.ipynb"
A = "ps1"


@pytest.fixture(autouse=True)
def _root():
    if os.geteuid() != 0:
        pytest.skip("needs root: submissions must belong to other accounts")


def _submission(inbound: Path, name: str, owner: str, code: str, extra: dict[str, str] | None = None) -> Path:
    d = inbound / name
    d.mkdir(parents=True)
    nbformat.write(new_notebook(cells=[new_code_cell(code)]), d / NB)
    (d / "timestamp.txt").write_text(name.split("+")[2])
    (d / "submission_secret.txt").write_text(f"secret-of-{name}")
    for fname, text in (extra or {}).items():
        (d / fname).write_text(text)
    pw = pwd.getpwnam(owner)
    for p in [d, *d.iterdir()]:
        os.chown(p, pw.pw_uid, pw.pw_gid, follow_symlinks=False)
    return d


def _inbound(tmp_path: Path) -> Path:
    inbound = tmp_path / "exchange" / exchange.COURSE_ID / "inbound"
    inbound.mkdir(parents=True)
    return inbound


def _code(root: Path, student: str) -> str:
    return nbformat.read(root / "submitted" / student / A / NB, as_version=4).cells[0].source


def test_a_folder_made_by_another_account_is_not_graded_under_the_name_it_claims(tmp_path):
    inbound = _inbound(tmp_path)
    _submission(inbound, "daemon+ps1+2026-12-01 09:00:00.000001 UTC+aaaa", "daemon", "honest = 1")
    _submission(inbound, "daemon+ps1+2026-12-01 10:00:00.000001 UTC+bbbb", "nobody", "forged = 1")
    got = exchange.collect(tmp_path / "course", A, [NB], tmp_path / "exchange")
    assert _code(tmp_path / "course", "daemon") == "honest = 1"
    assert any("made by nobody, not by daemon" in w for w in got.left_out), got.left_out


def test_a_notebook_planted_in_a_students_folder_refuses_that_folder(tmp_path):
    inbound = _inbound(tmp_path)
    d = _submission(inbound, "daemon+ps1+2026-12-01 09:00:00.000001 UTC+aaaa", "daemon", "x = 1")
    os.chown(d / NB, pwd.getpwnam("nobody").pw_uid, -1)  # another user's notebook in daemon's folder
    got = exchange.collect(tmp_path / "course", A, [NB], tmp_path / "exchange")
    assert got.collected.students == {}
    assert any(f"{NB}: not daemon's own file" in w for w in got.left_out), got.left_out


def test_a_linked_notebook_refuses_the_folder(tmp_path):
    inbound = _inbound(tmp_path)
    d = _submission(inbound, "daemon+ps1+2026-12-01 09:00:00.000001 UTC+aaaa", "daemon", "x = 1")
    (tmp_path / "elsewhere.ipynb").write_text((d / NB).read_text())
    (d / NB).unlink()
    (d / NB).symlink_to(tmp_path / "elsewhere.ipynb")
    os.chown(d / NB, pwd.getpwnam("daemon").pw_uid, -1, follow_symlinks=False)
    got = exchange.collect(tmp_path / "course", A, [NB], tmp_path / "exchange")
    assert got.collected.students == {}


def test_a_foreign_file_that_is_never_collected_does_not_cost_the_student(tmp_path):
    inbound = _inbound(tmp_path)
    d = _submission(inbound, "daemon+ps1+2026-12-01 09:00:00.000001 UTC+aaaa", "daemon", "x = 1")
    (d / "numpy.py").write_text("planted")
    os.chown(d / "numpy.py", pwd.getpwnam("nobody").pw_uid, -1)
    got = exchange.collect(tmp_path / "course", A, [NB], tmp_path / "exchange")
    assert list(got.collected.students) == ["daemon"]
    assert not (tmp_path / "course" / "submitted" / "daemon" / A / "numpy.py").exists()


def test_the_newest_submission_is_kept_with_its_exact_timestamp_and_secret(tmp_path):
    inbound = _inbound(tmp_path)
    _submission(inbound, "daemon+ps1+2026-12-01 09:00:00.000001 UTC+aaaa", "daemon", "first = 1")
    newest = "daemon+ps1+2026-12-01 09:00:00.000002 UTC+bbbb"
    _submission(inbound, newest, "daemon", "second = 1")
    got = exchange.collect(tmp_path / "course", A, [NB], tmp_path / "exchange")
    sub = tmp_path / "course" / "submitted" / "daemon" / A
    assert _code(tmp_path / "course", "daemon") == "second = 1"
    assert (sub / "timestamp.txt").read_text() == "2026-12-01 09:00:00.000002 UTC"
    assert (sub / "submission_secret.txt").read_text() == f"secret-of-{newest}"
    assert any("older submission of daemon" in w for w in got.left_out)


def test_only_the_notebooks_of_a_submission_are_collected(tmp_path):
    inbound = _inbound(tmp_path)
    _submission(inbound, "daemon+ps1+2026-12-01 09:00:00.000001 UTC+aaaa", "daemon", "x = 1",
                extra={"course.py": "shadow the course package"})
    exchange.collect(tmp_path / "course", A, [NB], tmp_path / "exchange")
    sub = tmp_path / "course" / "submitted" / "daemon" / A
    assert sorted(p.name for p in sub.iterdir()) == [NB, "submission_secret.txt", "timestamp.txt"]


def test_other_assignments_and_odd_names_are_left_alone(tmp_path):
    inbound = _inbound(tmp_path)
    _submission(inbound, "daemon+ps2+2026-12-01 09:00:00.000001 UTC+aaaa", "daemon", "x = 1")
    (inbound / "not-a-submission").mkdir()
    got = exchange.collect(tmp_path / "course", A, [NB], tmp_path / "exchange")
    assert got.collected.students == {}
    assert got.left_out == ["not-a-submission: not named <student>+<assignment>+<timestamp>[+<random>]"]
