"""The sandbox's allow-list root, disk quota, output cap, time limit and withheld modules.

A sandboxed Python (as a kernel starts) shows that a secret planted in folders the grader has
never heard of is not there; one small class of the fixture course, graded once, shows the
disk quota, the cap on a notebook's output, the limit on the steps before the kernel, the
withheld reference module and the recorded answers, each with its status and note.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import fixture_course as fc  # noqa: E402

from autograder import batch, grading, isolate, steps  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SQ, SL = fc.SQUARE, fc.SLOPE
LIMITS = isolate.Limits(cell_timeout=10, timeout=30, nproc=128, output_bytes=200_000,
                        notebook_output_bytes=500_000, disk=8 << 20)


def _sandboxed(tmp_path: Path, code: str) -> subprocess.CompletedProcess:
    sb = isolate.probe(ROOT)
    if not sb.namespaces:
        pytest.skip(f"namespaces unavailable here: {sb.mechanisms.get('namespaces')}")
    uid, lock = isolate.claim_uid()
    sb.uid = uid
    try:
        (tmp_path / "s" / "work").mkdir(parents=True)
        isolate.prepare_scratch(tmp_path / "s", sb)
        argv = isolate.kernel_argv(tmp_path / "s", [sys.executable, "-c", code], isolate.Limits(), sb)
        return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    finally:
        if lock is not None:
            lock.close()


@pytest.fixture
def planted():
    """Readable secrets in folders no part of the grader names."""
    token = secrets.token_hex(6)
    dirs = [Path(f"/srv/autograder-test-{token}"), Path(f"/opt/autograder-test-{token}")]
    for d in dirs:
        d.mkdir(parents=True)
        (d / "secret.txt").write_text("SECRET " + token)
        os.chmod(d, 0o755)
        os.chmod(d / "secret.txt", 0o644)
    yield dirs
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


def test_a_secret_in_a_folder_the_grader_never_heard_of_is_not_in_the_sandbox(tmp_path, planted):
    code = ("import os, json\n"
            f"paths = {[str(d / 'secret.txt') for d in planted]!r}\n"
            "print(json.dumps({'seen': [os.path.exists(p) for p in paths], 'top': sorted(os.listdir('/'))}))")
    out = _sandboxed(tmp_path, code)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert all(Path(p).exists() for p in planted)  # on the machine, readable
    assert got["seen"] == [False, False]
    assert not {"srv", "opt", "home", "var", "boot", "mnt", "media"} & set(got["top"]), got["top"]


def test_the_sandbox_sees_the_environment_and_the_course_read_only_and_nothing_of_the_grader(tmp_path):
    code = ("import os, json, sys, numpy, course\n"
            "def writable(p):\n"
            "    try:\n"
            "        open(os.path.join(p, '.w'), 'w').close(); return True\n"
            "    except OSError:\n"
            "        return False\n"
            f"print(json.dumps([writable(sys.prefix), writable(os.path.dirname(course.__file__)), writable('.'),"
            f" os.path.exists({str(ROOT / 'autograder')!r}), sorted(os.listdir('/dev'))]))")
    out = _sandboxed(tmp_path, code)
    assert out.returncode == 0, out.stderr
    env_w, course_w, work_w, grader_seen, dev = json.loads(out.stdout)
    assert (env_w, course_w, work_w, grader_seen) == (False, False, True, False)
    assert set(dev) <= {"null", "zero", "full", "random", "urandom", "fd", "shm"}


# ------------------------------------------------------------------ one class, graded once
DISK_HOG = ("chunk = b'x' * (1 << 20)\n"
            "try:\n"
            "    for i in range(64):\n"
            "        with open(f'fill{i}.bin', 'wb') as f:\n"
            "            f.write(chunk)\n"
            "except OSError as e:\n"
            "    print('stopped:', e)\n" + SQ)
CHATTY = "for i in range(40):\n    print(f'line {i} ' + 'y' * 20_000)\n"
WITHHELD = "from course.engine import Value\n" + SQ
ANSWERS = ("import os, json\n"
           "with open(os.environ['COURSE_ANSWERS'], 'a') as f:\n"
           "    f.write(json.dumps({'probe': 'recorded'}) + '\\n')\n" + SQ)


def _many_cells(nb):
    nb.cells[1:1] = [nbformat.v4.new_code_cell(f"x{i} = {i}") for i in range(3000)]


CASES = {
    "disk_hog": ({"square": DISK_HOG, "slope": SL}, None),
    "chatty": ({"square": SQ, "slope": SL},
               lambda nb: nb.cells.__setitem__(slice(2, 2), [nbformat.v4.new_code_cell(CHATTY) for _ in range(3)])),
    "withheld": ({"square": WITHHELD, "slope": SL}, None),
    "honest": ({"square": ANSWERS, "slope": SL}, None),
    "flood_wrong": ({"square": "def square(x):\n    print('z' * 1_000_000)\n    return 2 * x\n", "slope": SL}, None),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("sandbox")
    root = fc.copy_course(fc.cached_course(base), base / "course")
    (root / "course.toml").write_text('[assignments.ps1]\nwithheld = ["course.engine"]\n')
    for student, (answers, edit) in CASES.items():
        fc.submit(root, student, fc.student_notebook(root / "release", answers, edit))
    results, sandbox = batch.autograde(root, "ps1", workers=2, limits=LIMITS, progress=False)
    return root, {r.student: r for r in results}, sandbox


def _outputs(root: Path, student: str) -> str:
    nb = nbformat.read(root / "autograded" / student / "ps1" / "ps1.ipynb", as_version=4)
    return "".join(o.get("text", "") + o.get("evalue", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)


def test_a_submission_that_fills_its_disk_quota_is_stopped_and_noted_and_keeps_its_points(graded):
    root, res, sandbox = graded
    if sandbox.mechanisms.get("disk quota") != "active":
        pytest.skip(sandbox.mechanisms.get("disk quota"))
    r = res["disk_hog"]
    assert (r.status, r.score) == ("graded", fc.MAX_SCORE)
    assert any("disk limit" in f for f in r.flags), r.flags
    assert "No space left on device" in _outputs(root, "disk_hog")


def test_a_notebooks_total_output_is_capped_keeping_the_first_part(graded):
    root, res, _ = graded
    r = res["chatty"]
    assert (r.status, r.score) == ("graded", fc.MAX_SCORE)
    assert any("output cut" in f for f in r.flags), r.flags
    text = _outputs(root, "chatty")
    assert "line 0 " in text and "too much output in this notebook" in text
    size = (root / "autograded" / "chatty" / "ps1" / "ps1.ipynb").stat().st_size
    assert size < LIMITS.notebook_output_bytes + 100_000


def test_flooding_output_never_hides_a_failing_test(graded):
    root, res, _ = graded
    r = res["flood_wrong"]
    assert (r.status, r.score) == ("graded", fc.MAX_SCORE - fc.POINTS["test_square_value"] - fc.POINTS["test_square_hidden"])
    assert any("output flood" in f for f in r.flags), r.flags
    failed = {t.grade_id: t.error for t in r.tests if t.score == 0}
    assert failed == {"test_square_value": "AssertionError", "test_square_hidden": "AssertionError"}


def test_a_withheld_reference_module_raises_a_clear_import_error_in_the_sandbox(graded):
    root, res, sandbox = graded
    if sandbox.mechanisms.get("namespaces") != "active":
        pytest.skip("withheld modules are bound over inside the mount namespace")
    r = res["withheld"]
    nb = nbformat.read(root / "autograded" / "withheld" / "ps1" / "ps1.ipynb", as_version=4)
    errors = [(o.ename, o.evalue) for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors[0] == ("ImportError", "course.engine is the reference answer of this assignment (ps1) and is "
                         "withheld while it is graded: the exercise must be solved with your own code")
    assert r.score == fc.MAX_SCORE - fc.POINTS["test_square_value"] - fc.POINTS["test_square_hidden"]


def test_the_kernel_records_answers_where_course_answers_says_and_execute_returns_them(tmp_path):
    template = fc.cached_course(tmp_path)
    master = nbformat.read(template / "source" / "ps1" / "ps1.ipynb", as_version=4)
    given = nbformat.read(template / "release" / "ps1" / "ps1.ipynb", as_version=4)
    nb = fc.student_notebook(template / "release", {"square": ANSWERS, "slope": SL})
    job = grading.Job("ann", "ps1", "ps1.ipynb", nbformat.writes(nb).encode(), nbformat.writes(master),
                      nbformat.writes(given), LIMITS)
    prep = grading.prepare(job, master, given)
    sb = isolate.probe(ROOT)
    uid, lock = isolate.claim_uid()
    (tmp_path / "slot").mkdir()
    ws = steps.Workspace(tmp_path / "slot" / "s", tmp_path / "slot" / "kernel.log",
                         isolate.Sandbox(sb.namespaces, uid if sb.uid is not None else None, sb.mechanisms))
    try:
        ex = steps.execute(prep.plan, ws, job)
    finally:
        if lock is not None:
            lock.close()
    assert ex.run.stop is None and not ex.answers_cut
    assert [json.loads(line) for line in ex.answers.decode().splitlines()] == [{"probe": "recorded"}]
    assert not (tmp_path / "slot" / "s").exists()  # the scratch folder is emptied afterwards


def test_the_answers_read_back_are_capped(tmp_path):
    big = tmp_path / "answers.jsonl"
    big.write_bytes(b"x" * (steps.ANSWERS_CAP + 10))
    data, cut = steps.read_answers(big)
    assert len(data) == steps.ANSWERS_CAP and cut
    (tmp_path / "small.jsonl").write_bytes(b'{"a": 1}\n')
    assert steps.read_answers(tmp_path / "small.jsonl") == (b'{"a": 1}\n', False)


def test_the_time_limit_covers_the_steps_before_the_kernel(tmp_path):
    ok, why = grading.within(0.5, __import__("time").sleep, 5)
    assert (ok, why) == (False, "timeout")
    assert grading.within(5, sum, [1, 2, 3]) == (True, 6)


def test_a_notebook_of_thousands_of_cells_is_timed_out_when_its_preparation_runs_past_the_limit(tmp_path):
    template = fc.cached_course(tmp_path)
    master = nbformat.writes(nbformat.read(template / "source" / "ps1" / "ps1.ipynb", as_version=4))
    given = (template / "release" / "ps1" / "ps1.ipynb").read_text()
    nb = fc.student_notebook(template / "release", {"square": SQ, "slope": SL}, _many_cells)
    job = grading.Job("bob", "ps1", "ps1.ipynb", nbformat.writes(nb).encode(), master, given,
                      isolate.Limits(timeout=0.05))
    ws = steps.Workspace(tmp_path / "s", tmp_path / "kernel.log", isolate.Sandbox())
    res = grading.grade_submission(job, ws)
    assert (res.status, res.score) == ("timed out", 0.0)
    assert any("before the kernel" in f for f in res.flags), res.flags


def test_the_hidden_checks_run_in_the_sandbox_but_their_source_cannot_be_read(tmp_path):
    code = ("import inspect, json, course_hidden.numerical_slopes as m\n"
            "try:\n    src = inspect.getsource(m)\nexcept (OSError, TypeError) as e:\n    src = None\n"
            "print(json.dumps({'check': callable(m.check_forward_difference_random), 'source': src,"
            " 'file': m.__file__}))")
    proc = _sandboxed(tmp_path, code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["check"] and out["source"] is None and out["file"].endswith(".pyc")
