"""The grading pipeline against hostile and broken submissions.

One class is graded once (two workers, in parallel, short limits): three
honest control students and one submission per row of
shared/notes/autograding-threats.md and per fault of issue 7. Each test then
proves, for its submission: the right status, no unearned points (the exact
score an honest grader gives), the flag that explains it; and for the batch:
it completed, the controls' grades are intact, the gradebook agrees with the
records, no submitted file changed, nothing outside the scratch folders
changed, nothing secret was read, no network was reached. A second run of a
few students shows that autograde is idempotent.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import fixture_course as fc  # noqa: E402

from autograder import batch, isolate  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

pytestmark = pytest.mark.slow

SQ, SL, SQ_BAD, SL_BAD = fc.SQUARE, fc.SLOPE, fc.SQUARE_WRONG, fc.SLOPE_FORWARD
LIMITS = isolate.Limits(cell_timeout=4, timeout=20, nproc=128, output_bytes=100_000)


# ------------------------------------------------------------------ notebook edits
def _cell(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def _index(nb, gid):
    return nb.cells.index(_cell(nb, gid))


def set_source(gid, src):
    def edit(nb):
        _cell(nb, gid).source = src
    return edit


def delete(gid):
    def edit(nb):
        nb.cells.remove(_cell(nb, gid))
    return edit


def strip_meta(gid, src="pass"):
    def edit(nb):
        c = _cell(nb, gid)
        c.metadata.pop("nbgrader", None)
        c.source = src
    return edit


def flip_flags(gid):
    def edit(nb):
        c = _cell(nb, gid)
        c.metadata["nbgrader"].update(grade=False, solution=True, locked=False)
        c.source = "pass"
    return edit


def to_markdown(gid):
    def edit(nb):
        i = _index(nb, gid)
        old = nb.cells[i]
        md = nbformat.v4.new_markdown_cell("pass", metadata=old.metadata)
        nb.cells[i] = md
    return edit


def duplicate_before(gid, src="pass"):
    def edit(nb):
        i = _index(nb, gid)
        copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[i])))
        copy.source = src
        copy["id"] = "dup-" + copy.get("id", "x")
        nb.cells.insert(i, copy)
    return edit


def insert_after(gid, src):
    def edit(nb):
        nb.cells.insert(_index(nb, gid) + 1, new_code_cell(src))
    return edit


def insert_first(src, times=1):
    def edit(nb):
        for _ in range(times):
            nb.cells.insert(0, new_code_cell(src))
    return edit


def chain(*edits):
    def edit(nb):
        for e in edits:
            e(nb)
    return edit


# ------------------------------------------------------------------ hostile code
OBFUSCATED_HOOK = (
    "_ip = globals()['get_' + 'ipython']()\n"
    "getattr(_ip, 'input_trans' + 'formers_cleanup').append(\n"
    "    lambda lines: [l.replace('assert ', 'pass #') for l in lines])\n")
OBFUSCATED_EVENT = (
    "_ip = globals()['get_' + 'ipython']()\n"
    "getattr(_ip, 'eve' + 'nts').register('pre_run' + '_cell',\n"
    "    lambda *a: _ip.user_ns.__setitem__('float', lambda x: 9.0))\n")
GUARD_SMASHER = (
    "_ip = globals()['get_' + 'ipython']()\n"
    "getattr(_ip, 'input_trans' + 'formers_post').append(lambda lines: ['pass\\n'])\n")
ALWAYS_EQUAL = (
    "class Anything:\n    def __eq__(self, other):\n        return True\n"
    "def square(x):\n    return Anything()\n")
NDARRAY_SUB = (
    "import numpy as np\n"
    "class Sneaky(np.ndarray):\n    def __le__(self, other):\n        return np.array(True)\n"
    "def slope(f, x, h):\n    return (f(x + h) - f(x)) / h\n")


def read_secrets(paths: list[str]) -> str:
    return ("import os\n"
            f"for p in {paths!r}:\n"
            "    try:\n"
            "        if os.path.isdir(p):\n"
            "            print('LEAK' if os.listdir(p) else 'hidden (empty)', p)\n"
            "        else:\n"
            "            open(p, 'rb').read(10); print('LEAK', p)\n"
            "    except OSError as e:\n"
            "        print('hidden', p, type(e).__name__)\n" + SQ_BAD)


def write_outside(paths: list[str], removes: list[str]) -> str:
    return ("import os, course\n"
            f"targets = {paths!r} + [os.path.join(os.path.dirname(course.__file__), 'pwned.py')]\n"
            "for p in targets:\n"
            "    try:\n"
            "        with open(p, 'a') as f: f.write('pwned')\n"
            "        print('WROTE', p)\n"
            "    except OSError as e:\n"
            "        print('blocked', p, type(e).__name__)\n"
            f"for p in {removes!r}:\n"
            "    try:\n"
            "        os.remove(p); print('WROTE', p)\n"
            "    except OSError as e:\n"
            "        print('blocked', p, type(e).__name__)\n" + SQ_BAD)


def network(port: int) -> str:
    return ("import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=3); print('NET-OK')\n"
            "except OSError as e:\n"
            "    print('no network', type(e).__name__)\n" + SQ_BAD)


# student -> (answers, edit, expected status, expected score, expected flag text or None)
def cases(root: Path, sentinel: Path, port: int) -> dict:
    secret_paths = [str(root / "source" / "ps1" / "ps1.ipynb"), str(root / "gradebook.db"),
                    str(root / "submitted" / "honest" / "ps1" / "ps1.ipynb"), str(root / "submitted"),
                    str(sentinel / "keep.txt"), str(root)]
    writes = [str(root / "gradebook.db"), str(sentinel / "pwned.txt"), "/etc/pwned_by_student",
              str(Path(sys.prefix) / "pwned.txt")]
    removes = [str(root / "submitted" / "honest" / "ps1" / "ps1.ipynb"), str(sentinel / "keep.txt")]
    return {
        # controls
        "honest": ({"square": SQ, "slope": SL}, None, "graded", 6, None),
        "wrong": ({"square": SQ_BAD, "slope": SL_BAD}, None, "graded", 0, None),
        "half": ({"square": SQ, "slope": SL_BAD}, None, "graded", 3, None),
        # threat rows: structure
        "edit_test": ({"square": SQ_BAD, "slope": SL},
                      chain(set_source("test_square_value", "pass"), set_source("test_square_hidden", "pass")),
                      "tampered", 3, "locked cell test_square_value edited"),
        "delete_test": ({"square": SQ_BAD, "slope": SL}, delete("test_square_hidden"), "tampered", 3,
                        "test_square_hidden deleted"),
        "strip_meta": ({"square": SQ, "slope": SL_BAD}, strip_meta("test_slope_value"), "tampered", 3,
                       "test_slope_value deleted or its metadata stripped"),
        "flip_flags": ({"square": SQ_BAD, "slope": SL}, flip_flags("test_square_value"), "tampered", 3,
                       "cell metadata of test_square_value changed"),
        "cell_type": ({"square": SQ, "slope": SL_BAD}, to_markdown("test_slope_value"), "tampered", 3,
                      "cell metadata of test_slope_value changed"),
        "duplicate": ({"square": SQ_BAD, "slope": SL}, duplicate_before("test_square_value"), "tampered", 3,
                      "duplicated cell test_square_value"),
        "shadow_files": ({"square": "import os\nprint('CWD', sorted(os.listdir('.')))\n" + SQ_BAD, "slope": SL_BAD},
                         None, "graded", 0, None),
        # threat rows: monkeypatching, fake objects, hooks
        "patch_numpy": ({"square": "import numpy as np, math\nnp.testing.assert_allclose = lambda *a, **k: None\n"
                                   "math.isclose = lambda *a, **k: True\nnp.max = lambda *a, **k: 0.0\n" + SQ_BAD,
                         "slope": SL_BAD}, None, "tampered", 0, "replaces a helper"),
        "patch_checks": ({"square": "import course.checks\ncourse.checks.report = lambda *a, **k: 'fine'\n" + SQ_BAD,
                          "slope": SL_BAD}, None, "tampered", 0, "replaces a helper"),
        "shadow_builtin": ({"square": "globals()['fl' + 'oat'] = lambda x: 9.0\n" + SQ_BAD, "slope": SL_BAD}, None,
                           "tampered", 0, "'float' shadows a builtin"),
        "patch_builtins": ({"square": "__import__('buil' + 'tins').abs = lambda x: 0.0\n" + SQ_BAD,
                            "slope": SL_BAD}, None, "tampered", 0, "builtins.abs replaced"),
        "always_equal": ({"square": ALWAYS_EQUAL, "slope": SL_BAD}, None, "tampered", 0, "compares equal to anything"),
        "ndarray_subclass": ({"square": SQ_BAD, "slope": NDARRAY_SUB}, None, "tampered", 0, "subclasses ndarray"),
        "input_hook": ({"square": "get_ipython().input_transformers_cleanup.append(\n"
                                  "    lambda lines: [l.replace('assert ', 'pass #') for l in lines])\n" + SQ_BAD,
                        "slope": SL_BAD}, None, "tampered", 0, "installs IPython hooks"),
        "hidden_hook": ({"square": OBFUSCATED_HOOK + SQ_BAD, "slope": SL_BAD}, None, "tampered", 0,
                        "input_transformers_cleanup changed"),
        "event_hook": ({"square": OBFUSCATED_EVENT + SQ_BAD, "slope": SL_BAD}, None, "tampered", 0,
                       "event pre_run_cell hooked"),
        "guard_smasher": ({"square": GUARD_SMASHER + SQ_BAD, "slope": SL_BAD}, None, "tampered", 0,
                          "guard cell did not run as written"),
        # threat rows: exits, crashes, limits
        "sys_exit": ({"square": SQ, "slope": SL_BAD}, insert_after("square", "import sys\nsys.exit(0)"),
                     "graded", 3, "calls sys.exit"),
        "os_exit": ({"square": SQ, "slope": SL}, insert_after("test_square_hidden", "import os\nos._exit(3)"),
                    "crashed", 3, "kernel died"),
        "infinite_loop": ({"square": "while True:\n    pass\n" + SQ, "slope": SL}, None, "timed out", 3,
                          "limit per cell"),
        "wall_clock": ({"square": SQ, "slope": SL}, insert_first("import time\ntime.sleep(3.5)", times=7),
                       "timed out", 0, "limit per submission"),
        "memory_bomb": ({"square": "blocks = []\nwhile True:\n    blocks.append(bytearray(100 * 2**20))\n" + SQ,
                         "slope": SL}, None, "crashed", 3, "memory limit"),
        "fork_bomb": ({"square": "import os\nwhile True:\n    os.fork()\n" + SQ, "slope": SL}, None,
                      ("timed out", "crashed"), 3,
                      "starts processes"),
        "output_flood": ({"square": "print('x' * 5_000_000)\nfor i in range(20000):\n    print(i)\n" + SQ,
                          "slope": SL}, None, "graded", 6, "output flood"),
        # threat rows: reading, writing, network, hard-coding, stderr
        "read_secrets": ({"square": read_secrets(secret_paths), "slope": SL_BAD}, None, "graded", 0, None),
        "write_outside": ({"square": write_outside(writes, removes), "slope": SL_BAD}, None, "graded", 0, None),
        "network": ({"square": network(port), "slope": SL_BAD}, None, "graded", 0, "tries the network"),
        "hardcode": ({"square": "def square(x):\n    return 9.0 if x == 3.0 else 4.0\n", "slope": SL}, None,
                     "graded", 4, None),
        "stderr_warning": ({"square": "import warnings\ndef square(x):\n    warnings.warn('squares ahead', UserWarning)\n"
                                      "    return x * x\n", "slope": SL}, None, "graded", 6, None),
    }


BROKEN = {  # student -> (raw file text, expected status)
    "not_json": ("{not json", "malformed"),
    "empty_file": ("", "malformed"),
    "not_a_notebook": ('{"cells": 3, "metadata": {}}', "malformed"),
}


def _hashes(folder: Path, skip=()) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and not any(rel == s or rel.startswith(s + "/") for s in skip):
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


class _Server:
    """A listener on the host's loopback: a sandboxed kernel must not reach it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.accepted += 1
                conn.close()
            except OSError:
                pass


def _grade_class(shared: Path) -> dict:
    """Build the class, snapshot everything, grade it; the result is plain data (JSON)."""
    template = fc.cached_course(shared)
    root = fc.copy_course(template, shared / "course")
    sentinel = shared / "outside"
    sentinel.mkdir()
    (sentinel / "keep.txt").write_text("keep me")
    server = _Server()
    plan = cases(root, sentinel, server.port)
    for student, (answers, edit, *_rest) in plan.items():
        extra = {"numpy.py": "def __getattr__(name):\n    return lambda *a, **k: 0\n",
                 "course.py": "def report(*a, **k):\n    return ''\n"} if student == "shadow_files" else None
        fc.submit(root, student, fc.student_notebook(root / "release", answers, edit), extra)
    for student, (text, _) in BROKEN.items():
        fc.submit(root, student, text)
    (root / "submitted" / "misnamed" / "ps1").mkdir(parents=True)
    nbformat.write(fc.student_notebook(root / "release", {"square": SQ}),
                   root / "submitted" / "misnamed" / "ps1" / "mine.ipynb")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.update_or_create_student("absent")  # enrolled, never submitted
    import course
    course_pkg = Path(course.__file__).parent
    state = {"root": str(root), "sentinel": str(sentinel), "pkg": str(course_pkg),
             "pkg_before": sorted(p.name for p in course_pkg.iterdir()),
             "submitted_before": _hashes(root / "submitted"),
             "course_before": _hashes(root, skip=("autograded", "grading", "gradebook.db", "feedback")),
             "sentinel_before": _hashes(sentinel)}
    results, sandbox = batch.autograde(root, "ps1", workers=2, limits=LIMITS, progress=False)
    server.stop = True
    state.update(results={r.student: r.record() for r in results},
                 mechanisms=sandbox.mechanisms, accepted=server.accepted)
    return state


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class is graded once per test run, even when pytest-xdist spreads these tests over
    several workers (each would otherwise grade it again): the first grades, the others wait."""
    import fcntl
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "grading-hostile-class"
    shared.mkdir(exist_ok=True)
    with open(shared.parent / "grading-hostile-class.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "state.json"
        if not done.exists():
            done.write_text(json.dumps(_grade_class(shared)))
        state = json.loads(done.read_text())
    root = Path(state["root"])
    state.update(root=root, sentinel=Path(state["sentinel"]), pkg=Path(state["pkg"]))
    state["plan"] = cases(root, state["sentinel"], 0)
    return state


def _outputs(g, student) -> str:
    nb = nbformat.read(g["root"] / "autograded" / student / "ps1" / "ps1.ipynb", as_version=4)
    return "".join(o.get("text", "") + o.get("evalue", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)


CASES = ["honest", "wrong", "half", "edit_test", "delete_test", "strip_meta", "flip_flags", "cell_type",
         "duplicate", "shadow_files", "patch_numpy", "patch_checks", "shadow_builtin", "patch_builtins",
         "always_equal", "ndarray_subclass", "input_hook", "hidden_hook", "event_hook", "guard_smasher",
         "sys_exit", "os_exit", "infinite_loop", "wall_clock", "memory_bomb", "fork_bomb", "output_flood",
         "read_secrets", "write_outside", "network", "hardcode", "stderr_warning"]


@pytest.mark.parametrize("student", CASES)
def test_submission_gets_its_status_its_exact_score_and_the_flag_that_explains_it(graded, student):
    _, _, status, score, flag = graded["plan"][student]
    res = graded["results"][student]
    allowed = status if isinstance(status, tuple) else (status,)
    assert res["status"] in allowed and res["score"] == score, (res["status"], res["score"], res["flags"])
    if flag is not None:
        assert any(flag in f for f in res["flags"]), res["flags"]
    if status in ("graded",) and flag is None:
        assert not [f for f in res["flags"] if not f.startswith("note")], res["flags"]


@pytest.mark.parametrize("student", sorted(BROKEN))
def test_broken_file_is_malformed_and_scores_zero(graded, student):
    res = graded["results"][student]
    assert (res["status"], res["score"]) == (BROKEN[student][1], 0)
    assert any("not a readable notebook" in f for f in res["flags"])


def test_wrong_notebook_name_and_no_submission_are_missing(graded):
    for student in ("misnamed", "absent"):
        res = graded["results"][student]
        assert (res["status"], res["score"]) == ("missing", 0)


def test_batch_completes_every_student_once(graded):
    expected = set(CASES) | set(BROKEN) | {"misnamed", "absent"}
    assert set(graded["results"]) == expected
    for s in expected:
        rec = json.loads((graded["root"] / "grading" / "ps1" / f"{s}.json").read_text())
        assert rec["status"] == graded["results"][s]["status"]


def test_controls_keep_their_grades_and_misconceptions(graded):
    r = graded["results"]
    assert [r[s]["score"] for s in ("honest", "wrong", "half")] == [6, 0, 3]
    tags = {tag for t in r["wrong"]["tests"] for tag in t["tags"]}
    assert tags == {"doubling", "forward-difference"}


def test_gradebook_agrees_with_every_record_after_parallel_grading(graded):
    with Gradebook(f"sqlite:///{graded['root'] / 'gradebook.db'}") as gb:
        for s, res in graded["results"].items():
            sub = gb.find_submission("ps1", s)
            assert sub.score == pytest.approx(res["score"]), s
            for t in res["tests"]:
                assert gb.find_grade(t["grade_id"], "ps1", "ps1", s).auto_score == pytest.approx(t["score"])
        hostile = gb.find_submission("ps1", "hidden_hook")
        assert hostile.needs_manual_grade  # a withheld score asks for review


def test_no_submitted_file_changed(graded):
    assert _hashes(graded["root"] / "submitted") == graded["submitted_before"]


def test_nothing_outside_the_scratch_folders_changed(graded):
    root = graded["root"]
    assert _hashes(root, skip=("autograded", "grading", "gradebook.db", "feedback")) == graded["course_before"]
    assert _hashes(graded["sentinel"]) == graded["sentinel_before"]
    assert not Path("/etc/pwned_by_student").exists()
    assert not (Path(sys.prefix) / "pwned.txt").exists()
    assert sorted(p.name for p in graded["pkg"].iterdir()) == graded["pkg_before"]


def test_student_code_reads_nothing_of_the_course_or_other_students(graded):
    out = _outputs(graded, "read_secrets")
    assert "LEAK" not in out and out.count("hidden") >= 5


def test_student_code_writes_nothing_outside_its_scratch_folder(graded):
    out = _outputs(graded, "write_outside")
    assert "WROTE" not in out and out.count("blocked") >= 6


def test_student_code_reaches_no_network(graded):
    out = _outputs(graded, "network")
    assert "NET-OK" not in out and "no network" in out
    assert graded["accepted"] == 0


def test_files_beside_a_notebook_never_reach_the_kernel(graded):
    assert "CWD ['ps1.ipynb']" in _outputs(graded, "shadow_files")


def test_sandbox_mechanisms_are_reported(graded):
    mech = graded["mechanisms"]
    for name in ("memory limit", "process limit", "course and other students hidden", "no network"):
        assert name in mech
    info = json.loads((graded["root"] / "grading" / "ps1" / "_batch.json").read_text())
    assert info["isolation"] == mech


def test_autograde_again_is_idempotent(graded):
    root = graded["root"]
    again, _ = batch.autograde(root, "ps1", workers=2, limits=LIMITS, progress=False,
                               students=["honest", "edit_test", "not_json"])
    for res in again:
        before = graded["results"][res.student]
        assert (res.status, res.score, res.flags) == (before["status"], before["score"], before["flags"])
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert len(gb.find_assignment("ps1").submissions) == len(graded["results"])
        assert gb.find_submission("ps1", "honest").score == 6
    assert _hashes(root / "submitted") == graded["submitted_before"]
