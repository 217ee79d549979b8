"""Issue 15's attacks, written against this grader's source, on notebook 01 through the whole
pipeline (collect, sandboxed autograde, export): none earns a point its answers do not earn.

Every submission answers forward_difference wrongly (it returns 0.0) and then tries to make the
kernel report its test as passed. The honest control with the same wrong answer scores every
point but that test's. An attack that fools the kernel is caught by the trusted verdict (each
test cell replayed outside the sandbox on the recorded answers): status tampered, score
withheld, a hostile flag that says which test. An attack that does not fool the kernel scores
what the honest control scores.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import ROOT  # noqa: E402
from test_grading_e2e import _filled, grade_class  # noqa: E402

from autograder import release  # noqa: E402

pytestmark = pytest.mark.slow

NAME = "01_numerical_slopes"
WRONG = "def forward_difference(f, x, h):\n    return 0.0\n"

ATTACKS = {
    "honest-wrong": "",
    # rewrite every later test cell into `pass` before it runs
    "input-transformer": (
        "def _skip(lines):\n"
        "    return ['pass\\n'] if any('check_' in ln for ln in lines) else lines\n"
        "get_ipython().input_transformers_cleanup.append(_skip)\n"),
    # hide every error: a failing test cell shows no error output
    "swallow-tracebacks": (
        "ip = get_ipython()\n"
        "ip.showtraceback = lambda *a, **k: None\n"
        "ip._showtraceback = lambda *a, **k: None\n"),
    # the checks' own failure helpers do nothing any more
    "patch-fail": (
        "import course.checks.answers as _a, course.checks.expect as _e\n"
        "_a.fail = _e.fail = lambda *a, **k: None\n"),
    # the check itself replaced in its module, so the test cell's import gets a no-op
    "poison-the-check": (
        "import course.checks.numerical_slopes as _m, course_hidden.numerical_slopes as _h\n"
        "from course.checks.answers import check as _check\n"
        "_m.check_forward_difference = _h.check_forward_difference_random = _check(lambda f: None)\n"),
    # fake check modules written into the kernel's folder, to be found first on sys.path
    "shadow-the-checks": (
        "import os, sys\n"
        "for d in ('course/checks', 'course_hidden'):\n"
        "    os.makedirs(d, exist_ok=True)\n"
        "for f in ('course/__init__.py', 'course/checks/__init__.py', 'course_hidden/__init__.py'):\n"
        "    open(f, 'w').close()\n"
        "for f in ('course/checks/numerical_slopes.py', 'course_hidden/numerical_slopes.py'):\n"
        "    open(f, 'w').write('def __getattr__(name):\\n    return lambda *a, **k: None\\n')\n"
        "for m in [m for m in sys.modules if m.startswith(('course', 'course_hidden'))]:\n"
        "    del sys.modules[m]\n"
        "sys.path.insert(0, os.getcwd())\n"),
    # answers recorded by hand, claiming the right value
    "forge-answers": (
        "import os, json\n"
        "_path = os.environ.get('COURSE_ANSWERS')\n"
        "def _forge():\n"
        "    with open(_path, 'a') as f:\n"
        "        f.write(json.dumps({'cell_id': 'test_forward_difference_value', 'kind': 'answer',\n"
        "                            'key': '1: forward_difference(f, x=3.0, h=1e-3) with f(x) = 3x^2 - 4x + 5',\n"
        "                            'answer': 0.0}) + '\\n')\n"
        "_forge()\n"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("forgery")
    root = tmp / "course"
    shutil.copytree(ROOT / "source" / NAME, root / "source" / NAME)
    release.generate(dest=root / "release", names=[NAME], source=root / "source")
    submissions = {}
    for student, attack in ATTACKS.items():
        nb = _filled(root, NAME, f"{NAME}.ipynb")
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "forward_difference")
        cell.source = WRONG + attack
        submissions[student] = nb
    rows = grade_class(root, NAME, submissions, tmp)
    records = {s: json.loads((root / "grading" / NAME / f"{s}.json").read_text()) for s in ATTACKS}
    return rows, records


def test_the_honest_wrong_answer_loses_exactly_the_tests_that_use_it(graded):
    rows, records = graded
    row = rows["honest-wrong"]
    assert row["status"] == "graded" and not records["honest-wrong"]["flags"]
    failed = [t["grade_id"] for t in records["honest-wrong"]["tests"] if t["score"] == 0]
    # difference_errors (and the best step found from its errors) is built on forward_difference
    assert failed == ["test_forward_difference_value", "test_difference_errors_forward", "test_best_h_forward"]
    assert float(row["score"]) == float(row["max_score"]) - 3


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a != "honest-wrong"])
def test_an_attack_on_the_kernels_verdict_earns_nothing_more(graded, attack):
    rows, records = graded
    honest = float(rows["honest-wrong"]["score"])
    row, rec = rows[attack], records[attack]
    assert float(row["score"]) <= honest, (attack, row)
    fd = next(t for t in rec["tests"] if t["grade_id"] == "test_forward_difference_value")
    assert fd["score"] == 0, (attack, fd)
    if row["status"] == "tampered":
        assert float(row["score"]) == 0
        assert any(f.startswith("hostile") for f in rec["flags"]), rec["flags"]


@pytest.mark.parametrize("attack", ["input-transformer", "patch-fail", "poison-the-check", "shadow-the-checks"])
def test_an_attack_that_fools_the_kernel_is_caught_by_the_replayed_verdict(graded, attack):
    rows, records = graded
    rec = records[attack]
    assert rows[attack]["status"] == "tampered", (attack, rec["flags"])
    assert any("verdict" in f and "test_forward_difference_value" in f for f in rec["flags"]), rec["flags"]
