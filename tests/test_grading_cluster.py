"""autograde on a real Dask cluster on loopback: the same grades as on this machine, nothing lost.

Each test starts its own ``dask scheduler`` and grading workers (``python -m autograder worker``,
as an instructor starts them on other machines) on 127.0.0.1 and stops them. A class of 20
submissions of the fixture course (correct, wrong, broken, hostile) is graded once locally (the
process pool) as the reference; then on the cluster with one worker killed (SIGKILL) while it
grades; then on the cluster with the instructor's process killed mid-batch and ``--resume``d;
and with a worker whose sandbox has no namespaces, refused under ``--require-isolation``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import fixture_course as fc  # noqa: E402

from autograder import batch, isolate  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
LIMITS = isolate.Limits(cell_timeout=4, timeout=20, nproc=128, output_bytes=100_000)
SQ, SL, SQ_BAD, SL_BAD = fc.SQUARE, fc.SLOPE, fc.SQUARE_WRONG, fc.SLOPE_FORWARD
ENV = dict(os.environ, PYTHONPATH=str(ROOT), DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1")


def _insert_after(gid, src):
    def edit(nb):
        i = next(k for k, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
        nb.cells.insert(i + 1, fc.new_code_cell(src))
    return edit


def _edit_test(nb):
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_square_value").source = "pass"


CLASS = {  # student -> answers, edit   (or raw text for a broken file)
    "honest1": ({"square": SQ, "slope": SL}, None), "honest2": ({"square": SQ, "slope": SL}, None),
    "honest3": ({"square": SQ, "slope": SL}, None), "honest4": ({"square": SQ, "slope": SL}, None),
    "wrong1": ({"square": SQ_BAD, "slope": SL_BAD}, None), "wrong2": ({"square": SQ_BAD, "slope": SL}, None),
    "half1": ({"square": SQ, "slope": SL_BAD}, None), "half2": ({"square": SQ, "slope": SL_BAD}, None),
    "syntax": ({"square": "def square(x):\n    return )", "slope": SL}, None),
    "raises": ({"square": "raise RuntimeError('half-finished')", "slope": SL}, None),
    "not_json": "{not json", "empty": "",
    "edit_test": ({"square": SQ_BAD, "slope": SL}, _edit_test),
    "patch_numpy": ({"square": "import numpy as np\nnp.max = lambda *a, **k: 0.0\n" + SQ_BAD, "slope": SL_BAD}, None),
    "shadow_builtin": ({"square": "globals()['fl' + 'oat'] = lambda x: 9.0\n" + SQ_BAD, "slope": SL_BAD}, None),
    "os_exit": ({"square": SQ, "slope": SL}, _insert_after("test_square_hidden", "import os\nos._exit(3)")),
    "loop": ({"square": "while True:\n    pass\n" + SQ, "slope": SL}, None),
    "sys_exit": ({"square": SQ, "slope": SL_BAD}, _insert_after("square", "import sys\nsys.exit(0)")),
    "hardcode": ({"square": "def square(x):\n    return 9.0 if x == 3.0 else 4.0\n", "slope": SL}, None),
    "warning": ({"square": "import warnings\ndef square(x):\n    warnings.warn('careful', UserWarning)\n"
                           "    return x * x\n", "slope": SL}, None),
}


def make_class(template: Path, dest: Path) -> Path:
    root = fc.copy_course(template, dest)
    for student, spec in CLASS.items():
        if isinstance(spec, str):
            fc.submit(root, student, spec)
        else:
            fc.submit(root, student, fc.student_notebook(root / "release", spec[0], spec[1]))
    return root


def records(root: Path) -> dict[str, dict]:
    folder = root / "grading" / "ps1"
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json") if not p.stem.startswith("_")}


def grades(root: Path) -> dict[str, tuple]:
    """student -> (status, score, flags, per-test scores) from the status records."""
    return {s: (r["status"], r["score"], r["flags"], [t["score"] for t in r["tests"]]) for s, r in records(root).items()}


def gradebook_scores(root: Path) -> dict[str, float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.find_assignment("ps1").submissions}


class Cluster:
    """A ``dask scheduler`` and grading workers on loopback, stopped on exit."""

    def __init__(self, tmp: Path, workers: int = 2):
        self.tmp, self.procs = tmp, []
        file = tmp / "scheduler.json"
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(file)], env=ENV, cwd=tmp,
            stdout=subprocess.DEVNULL, stderr=open(tmp / "scheduler.log", "w")))
        deadline = time.monotonic() + 60
        while not file.exists() or not file.read_text().strip():
            assert time.monotonic() < deadline, (tmp / "scheduler.log").read_text()
            time.sleep(0.2)
        time.sleep(0.2)
        self.address = json.loads(file.read_text())["address"]
        for n in range(workers):
            self.add_worker(f"w{n}")
        from distributed import Client
        self.client = Client(self.address, timeout="30s")
        self.client.wait_for_workers(workers, timeout=180)

    def add_worker(self, name: str, wrap: list[str] = ()) -> subprocess.Popen:
        """Start a grading worker the way an instructor does (``./run grade worker``)."""
        cmd = [*wrap, sys.executable, "-m", "autograder", "worker", "--scheduler", self.address,
               "--nworkers", "1", "--name", name]
        p = subprocess.Popen(cmd, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=open(self.tmp / f"worker-{name}.log", "w"))
        self.procs.append(p)
        return p

    def worker_pids(self) -> dict[str, int]:
        return self.client.run(os.getpid)

    @staticmethod
    def stop(p: subprocess.Popen) -> None:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def close(self) -> None:
        self.client.close()
        for p in reversed(self.procs):
            self.stop(p)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One scheduler and two grading workers for this file's tests."""
    cl = Cluster(tmp_path_factory.mktemp("dask"))
    yield cl
    cl.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return fc.cached_course(tmp_path_factory.mktemp("cluster"))


@pytest.fixture(scope="module")
def local(template, tmp_path_factory):
    """The class graded on this machine's process pool: the reference."""
    root = make_class(template, tmp_path_factory.mktemp("local") / "course")
    batch.autograde(root, "ps1", workers=2, limits=LIMITS, progress=False)
    return grades(root)


def test_the_reference_class_covers_correct_wrong_broken_and_hostile(local):
    statuses = {s: g[0] for s, g in local.items()}
    assert statuses["honest1"] == "graded" and local["honest1"][1] == fc.MAX_SCORE
    assert {statuses["not_json"], statuses["empty"]} == {"malformed"}
    assert statuses["patch_numpy"] == statuses["edit_test"] == "tampered"
    assert statuses["os_exit"] == "crashed" and statuses["loop"] == "timed out"
    assert len(local) == len(CLASS)


def test_a_cluster_grades_like_this_machine_even_when_a_worker_is_killed_while_grading(template, local, cluster,
                                                                                       tmp_path):
    root = make_class(template, tmp_path / "course")
    pids = cluster.worker_pids()
    killed: list[str] = []

    def kill_one_busy_worker() -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not killed:
            busy = [w for w, keys in cluster.client.processing().items() if keys and w in pids]
            if busy and len(records(root)) >= 3:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.1)

    killer = threading.Thread(target=kill_one_busy_worker)
    killer.start()
    done, sandbox = batch.autograde(root, "ps1", limits=LIMITS, progress=False, scheduler=cluster.address)
    killer.join()
    assert killed, "no worker was caught grading"
    assert grades(root) == local
    assert sorted(r.student for r in done) == sorted(CLASS)  # each written once in this run
    assert set(gradebook_scores(root)) == set(CLASS)


def test_a_batch_killed_on_the_instructors_side_resumes_with_only_what_is_left(template, local, cluster, tmp_path):
    root = make_class(template, tmp_path / "course")
    cluster.client.wait_for_workers(2, timeout=180)  # a worker killed before is back (its nanny restarts it)
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "autograde", "ps1", "--root", str(root),
                             "--scheduler", cluster.address, "-q", "--timeout", "20", "--cell-timeout", "4",
                             "--nproc", "128"], env=ENV, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "first.log", "w"))
    deadline = time.monotonic() + 120
    while len(records(root)) < 8:
        assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "first.log").read_text()
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = records(root)
    run = json.loads((root / "grading" / "ps1" / "_run.json").read_text())
    assert not run["finished"] and len(first) < len(CLASS)
    done, _ = batch.autograde(root, "ps1", limits=LIMITS, progress=False, scheduler=cluster.address, resume=True)
    written_before = {s for s, r in first.items() if r.get("run") == run["run"]}
    assert written_before and {r.student for r in done} == set(CLASS) - written_before
    assert grades(root) == local
    assert {r["run"] for r in records(root).values()} == {run["run"]}
    assert json.loads((root / "grading" / "ps1" / "_run.json").read_text())["finished"]
    assert set(gradebook_scores(root)) == set(CLASS)


NO_USER_NAMESPACES = ["unshare", "--user", "--map-root-user", "sh", "-c",
                      'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"', "sh"]


def test_each_worker_probes_its_sandbox_and_one_without_isolation_is_refused(template, cluster, tmp_path):
    probe = subprocess.run(NO_USER_NAMESPACES + ["true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a worker without namespaces here: {probe.stderr[-200:]!r}")
    root = fc.copy_course(template, tmp_path / "course")
    for s in ("a", "b", "c", "d"):
        fc.submit(root, s, fc.student_notebook(root / "release", {"square": SQ, "slope": SL}))
    weak = cluster.add_worker("no-namespaces", NO_USER_NAMESPACES)
    try:
        cluster.client.wait_for_workers(3, timeout=180)
        done, sandbox = batch.autograde(root, "ps1", limits=LIMITS, progress=False, scheduler=cluster.address,
                                        require_isolation=True)
    finally:
        cluster.stop(weak)
    info = json.loads((root / "grading" / "ps1" / "_batch.json").read_text())
    isolated = {name: all(v == "active" for v in m.values()) for name, m in info["workers"].items()}
    assert sorted(isolated.values()) == [False, True, True]  # every worker probed, one lacks namespaces
    weak_name = next(n for n, ok in isolated.items() if not ok)
    assert "namespaces" in info["workers"][weak_name] and "refused" in info["engine"]
    assert {r.worker for r in done} <= {n for n, ok in isolated.items() if ok}
    assert [r.score for r in done] == [fc.MAX_SCORE] * 4
