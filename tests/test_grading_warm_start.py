"""Warm start (autograder.warmstart, autograder.forkserver): forked kernels keep every guarantee of cold ones.

A fork server imports the notebook's modules once and forks a child per kernel; each child
enters the same sandbox, fresh. These tests start real fork servers and real sandboxed
kernels: the probe holds for warm kernels too, a warm kernel holds no descriptor of the
server, withheld modules are never preloaded, nothing one submission leaves reaches the next,
random generators are reseeded, a kernel dies with its grader, and a dead server means a cold
start, not a lost submission.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import fixture_course as fc  # noqa: E402

from autograder import batch, grading, isolate, steps, warmstart  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
LIMITS = isolate.Limits(cell_timeout=20, timeout=60)


@pytest.fixture(scope="module")
def sandbox():
    sb = isolate.probe(ROOT)
    if not sb.namespaces:
        pytest.skip(f"namespaces unavailable here: {sb.mechanisms.get('namespaces')}")
    uid, lock = isolate.claim_uid()
    sb.uid = uid
    yield sb
    if lock is not None:
        lock.close()


@pytest.fixture
def zygote():
    z = warmstart.Zygote(("numpy",), ("course.engine",))
    yield z
    z.close()


def _spec(tmp_path: Path, sb: isolate.Sandbox, cmd: list[str], withheld=()) -> dict:
    (tmp_path / "s" / "work").mkdir(parents=True, exist_ok=True)
    isolate.prepare_scratch(tmp_path / "s", sb)
    return isolate.split_argv(isolate.kernel_argv(tmp_path / "s", cmd, isolate.Limits(), sb, withheld=withheld,
                                                  assignment="ps3"))[0]


def _run(z: warmstart.Zygote, tmp_path: Path, sb: isolate.Sandbox, code: str, withheld=()) -> dict:
    cmd = [sys.executable, "-c", code]
    rc, out, err = z.run(_spec(tmp_path, sb, cmd, withheld), cmd)
    assert rc == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_the_probe_finds_every_mechanism_active_for_warm_kernels_too(sandbox):
    sb = isolate.probe(ROOT, warm=True)
    assert sb.warm_start == "active"
    assert sb.mechanisms["no inherited descriptors"] == "active"
    assert all(v == "active" for v in sb.mechanisms.values()), sb.mechanisms


def test_a_warm_child_holds_no_descriptor_and_sees_no_file_of_the_fork_server(zygote, sandbox, tmp_path):
    code = ("import os, json\n"
            "fds = {}\n"
            "for fd in os.listdir('/proc/self/fd'):\n"
            "    try: fds[fd] = os.readlink('/proc/self/fd/' + fd)\n"
            "    except OSError: pass\n"
            f"print(json.dumps({{'fds': sorted(int(f) for f in fds), 'sock': os.path.exists({zygote.path!r}), "
            f"'folder': os.path.exists({str(zygote.folder)!r}), 'uid': os.getuid(), 'pid': os.getpid()}}))")
    got = _run(zygote, tmp_path, sandbox, code)
    assert got["fds"] == [0, 1, 2]
    assert (got["sock"], got["folder"]) == (False, False)
    assert (got["uid"], got["pid"]) == (isolate.INNER_UID, 1)


def test_a_warm_child_is_a_fresh_interpreter(zygote, sandbox, tmp_path):
    code = ("import os, sys, json, tempfile\n"
            "print(json.dumps({'env': sorted(os.environ), 'path0': sys.path[0], 'cwd': os.getcwd(),\n"
            "                  'autograder': [m for m in sys.modules if m.startswith('autograder')],\n"
            "                  'tmp': tempfile.gettempdir(), 'numpy': 'numpy' in sys.modules}))")
    got = _run(zygote, tmp_path, sandbox, code)
    cold = set(isolate._kernel_env({"scratch": str(tmp_path / "s"), "namespaces": True, "env": {}}))
    assert set(got["env"]) == cold  # the kernel's clean environment, nothing of the server's
    assert got["cwd"] == got["tmp"] == str(tmp_path / "s" / "work")
    assert got["autograder"] == []
    assert got["numpy"]  # preloaded: the point of it


def test_a_withheld_module_is_never_preloaded_and_a_warm_kernel_meets_its_stub(sandbox, tmp_path):
    z = warmstart.Zygote(("numpy", "course.nn", "course.engine"), ("course.engine",))
    try:
        assert z.report["loaded"] == ["numpy"]
        assert set(z.report["failed"]) == {"course.nn", "course.engine"}  # course.nn imports course.engine
        code = ("import sys, json\n"
                "try:\n    import course.nn\n    why = 'imported'\n"
                "except ImportError as e:\n    why = str(e)\n"
                "print(json.dumps({'why': why, 'loaded': [m for m in sys.modules if m.startswith('course.')]}))")
        got = _run(z, tmp_path, sandbox, code, withheld=("course.engine",))
    finally:
        z.close()
    assert "withheld while it is graded" in got["why"], got
    assert "course.engine" not in got["loaded"]


def test_the_preload_is_what_the_master_imports_but_hidden_and_withheld_modules():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\nfrom course.engine import Value"),
        nbformat.v4.new_code_cell("from course_hidden.value_engine import check\nimport course.nn.deep"),
        nbformat.v4.new_code_cell("from . import relative\nimport autograder"),
        nbformat.v4.new_markdown_cell("import torch")])
    got = warmstart.preload_for(nbformat.writes(nb), ("course.nn",))
    assert got == warmstart.KERNEL_MODULES + ("numpy", "course.engine")


def test_two_warm_kernels_draw_different_random_numbers(zygote, sandbox, tmp_path):
    code = "import json, random, numpy\nprint(json.dumps([random.random(), float(numpy.random.rand())]))"
    a = _run(zygote, tmp_path / "a", sandbox, code)
    b = _run(zygote, tmp_path / "b", sandbox, code)
    assert a[0] != b[0] and a[1] != b[1]


def test_a_warm_kernel_dies_when_its_graders_end_closes(zygote, sandbox, tmp_path):
    cmd = [sys.executable, "-c", "import time; time.sleep(600)"]
    k = zygote.launch(_spec(tmp_path, sandbox, cmd), cmd)
    os.kill(k.pid, 0)  # running
    k.conn.close()  # the grader is gone
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(k.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the kernel outlived its grader's connection")


def test_a_fork_server_exits_with_its_slot(tmp_path):
    z = warmstart.Zygote()
    os.close(z._life)  # what the slot's death does to the lifeline
    z.proc.wait(10)
    assert not z.folder.exists()  # it cleaned its socket folder on the way out


def test_an_interrupt_reaches_a_warm_kernel(zygote, sandbox, tmp_path):
    code = ("import signal, sys, time\n"
            "signal.signal(signal.SIGINT, lambda *a: sys.exit(7))\n"
            "print('ready', flush=True)\n"
            "time.sleep(600)")
    cmd = [sys.executable, "-c", code]
    r, w = os.pipe()
    try:
        k = zygote.launch(_spec(tmp_path, sandbox, cmd), cmd, stdout=w)
    finally:
        os.close(w)
    with os.fdopen(r, "rb") as out:
        assert out.readline() == b"ready\n"  # its handler is in place
        k.send_signal(signal.SIGINT)
        assert k.wait(10) == 7


# ------------------------------------------------------------------ through the whole pipeline
LEAVE = ("import json, numpy, os, random, tempfile\n"
         "MINE, OTHER = {mine!r}, {other!r}\n"
         "try:\n    import autograder\n    grader = True\n"
         "except ImportError:\n    grader = False\n"
         "left = [numpy.get_printoptions()['precision'] != 8, hasattr(json, OTHER), OTHER in os.environ,\n"
         "        os.path.exists(os.path.join(tempfile.gettempdir(), OTHER)), grader]\n"
         "assert not any(left), left\n"
         "numpy.set_printoptions(precision=3); json.__dict__[MINE] = 1; os.environ[MINE] = '1'\n"
         "open(os.path.join(tempfile.gettempdir(), MINE), 'w').write('x')\n"
         "print('DRAW', random.random(), numpy.random.rand())\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Two students graded one after the other in one slot: each leaves traces in preloaded
    modules (numpy's print options, an entry in json's namespace), the environment and the
    disk, and fails if it finds the other's."""
    base = tmp_path_factory.mktemp("warm")
    root = fc.copy_course(fc.cached_course(base), base / "course")
    for mine, other in (("ann", "bob"), ("bob", "ann")):
        square = LEAVE.format(mine=f"left_by_{mine}", other=f"left_by_{other}") + fc.SQUARE
        fc.submit(root, mine, fc.student_notebook(root / "release", {"square": square, "slope": fc.SLOPE}))
    results, _ = batch.autograde(root, "ps1", workers=1, limits=LIMITS, progress=False)
    return root, {r.student: r for r in results}


def test_both_kernels_started_warm_and_nothing_one_left_reached_the_other(graded):
    _root, res = graded
    assert {s: r.started for s, r in res.items()} == {"ann": "warm", "bob": "warm"}
    for r in res.values():
        assert (r.status, r.score) == ("graded", r.max_score), (r.student, r.flags, r.tests)


def test_each_warm_kernel_drew_its_own_random_numbers(graded):
    root, _res = graded
    draws = []
    for s in ("ann", "bob"):
        nb = nbformat.read(root / "autograded" / s / "ps1" / "ps1.ipynb", as_version=4)
        text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        draws.append(next(line for line in text.splitlines() if line.startswith("DRAW")))
    assert draws[0] != draws[1]


class _DeadServer:
    """A slot's fork servers where the server died between two submissions."""

    def __init__(self) -> None:
        self.z = warmstart.Zygote()
        self.z.proc.send_signal(signal.SIGKILL)
        self.z.proc.wait()

    def get(self, job):  # noqa: ANN001
        return self.z


def test_a_dead_fork_server_costs_a_cold_start_not_the_submission(sandbox, tmp_path):
    template = fc.cached_course(tmp_path)
    master = (template / "source" / "ps1" / "ps1.ipynb").read_text()
    given = (template / "release" / "ps1" / "ps1.ipynb").read_text()
    nb = fc.student_notebook(template / "release", {"square": fc.SQUARE, "slope": fc.SLOPE})
    job = grading.Job("cat", "ps1", "ps1.ipynb", nbformat.writes(nb).encode(), master, given, LIMITS)
    dead = _DeadServer()
    (tmp_path / "slot").mkdir()
    ws = steps.Workspace(tmp_path / "slot" / "s", tmp_path / "slot" / "kernel.log", sandbox, dead)
    try:
        res = grading.grade_submission(job, ws)
    finally:
        dead.z.close()
    assert res.started.startswith("cold (") and "exited" in res.started, res.started
    assert (res.status, res.score) == ("graded", res.max_score), res.flags


def test_a_fork_server_that_keeps_dying_is_replaced_three_times_then_kernels_start_cold(tmp_path):
    template = fc.cached_course(tmp_path)
    master = (template / "source" / "ps1" / "ps1.ipynb").read_text()
    job = grading.Job("dan", "ps1", "ps1.ipynb", b"", master, master, LIMITS)
    warm = warmstart.WarmStart()
    pids = []
    try:
        for _ in range(warmstart.WarmStart.MAX_STARTS):
            z = warm.get(job)
            assert z is not None and z.alive()
            pids.append(z.proc.pid)
            z.proc.send_signal(signal.SIGKILL)
            z.proc.wait()
        assert warm.get(job) is None
        assert warm.why == f"its fork server exited {warmstart.WarmStart.MAX_STARTS} times"
    finally:
        warm.close()
    assert len(set(pids)) == warmstart.WarmStart.MAX_STARTS
