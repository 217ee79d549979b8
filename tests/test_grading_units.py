"""The grading pipeline's parts that need no kernel: fast.

collect (folder trees, LMS zips, what is left out), the rebuild of a
submission on the master notebook, the static scan (hits on attacks, none on
the course's own solutions), scoring a test cell, stripping hidden tests from
feedback, and the sandbox probe.
"""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import fixture_course as fc  # noqa: E402

from autograder import collect, isolate, report, steps, warmstart  # noqa: E402
from autograder.sanitize import HOSTILE, NOTE, REVIEW, STRUCTURE, master_notebook, sanitize, scan  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return fc.cached_course(tmp_path_factory.mktemp("units"))


def _release(course):
    return nbformat.read(course / "release" / "ps1" / "ps1.ipynb", as_version=4)


def _master(course):
    src = nbformat.read(course / "source" / "ps1" / "ps1.ipynb", as_version=4)
    return master_notebook(_release(course), src)


# ------------------------------------------------------------------ collect
def test_collect_from_folders_keeps_only_notebooks_under_the_release_name(tmp_path):
    src = tmp_path / "inbox"
    (src / "Alice" / "work").mkdir(parents=True)
    (src / "Alice" / "work" / "my_ps1.ipynb").write_text("{}")
    (src / "Alice" / "numpy.py").write_text("raise SystemExit")
    (src / "Alice" / "course.py").write_text("x = 1")
    (src / "bob" / ".ipynb_checkpoints").mkdir(parents=True)
    (src / "bob" / "ps1.ipynb").write_text('{"b": 1}')
    (src / "bob" / ".ipynb_checkpoints" / "ps1-checkpoint.ipynb").write_text("old")
    before = sorted((p.relative_to(src), p.read_bytes()) for p in src.rglob("*") if p.is_file())
    got = collect.collect(src, tmp_path / "course", "ps1", ["ps1.ipynb"])
    assert sorted(got.students) == ["alice", "bob"]
    files = sorted(p.relative_to(tmp_path / "course").as_posix() for p in (tmp_path / "course").rglob("*") if p.is_file())
    assert files == ["collected/ps1.json", "submitted/alice/ps1/ps1.ipynb", "submitted/alice/ps1/timestamp.txt",
                     "submitted/bob/ps1/ps1.ipynb", "submitted/bob/ps1/timestamp.txt"]
    assert (tmp_path / "course/submitted/bob/ps1/ps1.ipynb").read_text() == '{"b": 1}'
    assert any("numpy.py: not a notebook" in s for s in got.skipped)
    assert any("course.py: not a notebook" in s for s in got.skipped)
    assert before == sorted((p.relative_to(src), p.read_bytes()) for p in src.rglob("*") if p.is_file())


def test_collect_from_a_canvas_zip_names_students_and_skips_unsafe_entries(tmp_path):
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("smithalice_1234_5678_ps1.ipynb", '{"a": 1}')
        zf.writestr("jonesbob_LATE_1235_5679_ps1-2.ipynb", '{"b": 2}')
        zf.writestr("jonesbob_1235_5680_numpy.py", "import os")
        zf.writestr("../escape.ipynb", "{}")
        zf.writestr("/abs/evil.ipynb", "{}")
        zf.writestr("__MACOSX/._smithalice_1234_5678_ps1.ipynb", "junk")
    got = collect.collect(z, tmp_path / "course", "ps1", ["ps1.ipynb"])
    assert sorted(got.students) == ["jonesbob", "smithalice"]
    assert (tmp_path / "course/submitted/jonesbob/ps1/ps1.ipynb").read_text() == '{"b": 2}'
    assert not (tmp_path / "escape.ipynb").exists() and not list((tmp_path / "course").rglob("*.py"))
    text = "\n".join(got.skipped)
    assert "unsafe path" in text and "numpy.py" in text and "__MACOSX" in text


def test_collect_from_a_moodle_zip_with_a_wrapper_folder(tmp_path):
    z = tmp_path / "moodle.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("PS1-submissions/Alice Smith_101_assignsubmission_file_/ps1.ipynb", "{}")
        zf.writestr("PS1-submissions/Bob Jones_102_assignsubmission_file_/ps1 (1).ipynb", "{}")
    got = collect.collect(z, tmp_path / "course", "ps1", ["ps1.ipynb"])
    assert sorted(got.students) == ["alice_smith_101", "bob_jones_102"]


def test_collect_keeps_the_newest_of_several_notebooks(tmp_path):
    z = tmp_path / "two.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(zipfile.ZipInfo("ann/ps1.ipynb", (2026, 1, 1, 10, 0, 0)), '{"old": 1}')
        zf.writestr(zipfile.ZipInfo("ann/ps1 copy.ipynb", (2026, 1, 2, 10, 0, 0)), '{"new": 1}')
    got = collect.collect(z, tmp_path / "c", "ps1", ["ps1.ipynb"])
    assert (tmp_path / "c/submitted/ann/ps1/ps1.ipynb").read_text() == '{"old": 1}'  # exact name wins
    assert got.students == {"ann": "ann/ps1.ipynb"}


# ------------------------------------------------------------------ sanitize and scan
def test_untouched_submission_rebuilds_with_no_flags_and_hidden_tests_restored(course):
    nb = fc.student_notebook(course / "release", {"square": fc.SQUARE})
    out, flags = sanitize(nb, _master(course), _release(course))
    assert flags == []
    hidden = next(c for c in out.cells if c.metadata["nbgrader"].get("grade_id") == "test_square_hidden")
    assert fc.HIDDEN_TOKEN in hidden.source


def test_every_structural_change_is_restored_and_flagged(course):
    def edit(nb):
        cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
        cells["test_square_value"].source = "pass"
        cells["test_slope_value"].metadata["nbgrader"]["points"] = 100
        nb.cells.remove(cells["test_slope_array"])
        cells["intro"].metadata["nbgrader"]["grade_id"] = "made_up"
    nb = fc.student_notebook(course / "release", {"square": fc.SQUARE}, edit)
    out, flags = sanitize(nb, _master(course), _release(course))
    text = " | ".join(str(f) for f in flags)
    assert {f.kind for f in flags} == {STRUCTURE}
    for expected in ("locked cell test_square_value edited", "cell metadata of test_slope_value changed",
                     "test_slope_array deleted", "unknown grade id made_up", "intro deleted"):
        assert expected in text
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in out.cells]
    assert ids.count("test_slope_array") == 1 and ids.index("test_slope_array") == ids.index("test_slope_value") + 1
    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"].get("points") for c in out.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    assert points == fc.POINTS


@pytest.mark.parametrize("code, why", [
    ("import numpy as np\nnp.testing.assert_allclose = print", "replaces a helper"),
    ("import math\nmath.isclose = lambda *a, **k: True", "replaces a helper"),
    ("import builtins\nbuiltins.float = lambda x: 1.0", "replaces a helper (builtins.float)"),
    ("get_ipython().events.register('pre_run_cell', print)", "installs IPython hooks"),
    ("import sys\nsys.modules['numpy'] = None", "replaces a loaded module"),
    ("class A:\n    def __eq__(self, o):\n        return True", "compares equal to anything"),
    ("import numpy as np\nclass B(np.ndarray):\n    pass", "subclasses ndarray"),
    ("import math\nsetattr(math, 'isclose', print)", "patches a helper with setattr"),
])
def test_scan_flags_known_attacks_as_hostile(code, why):
    nb = nbformat.v4.new_notebook(cells=[new_code_cell(code)])
    flags = scan(nb)
    assert any(f.kind == HOSTILE and why in f.text for f in flags), flags


@pytest.mark.parametrize("code, why", [
    ("import sys\nf = sys._getframe(1)", "inspects frames"),
    ("import ctypes", "uses ctypes"),
    ("import importlib\nimportlib.reload(importlib)", "reaches into loaded modules"),
    ("ip = get_ipython()\nip.run_line_magic('matplotlib', 'inline')", "uses the IPython shell"),
    ("class P:\n    def __bool__(self):\n        return True", "P.__bool__ returns a constant"),
    ("import sys, io\nsys.stdout = io.StringIO()", "replaces sys.stdout"),
    ("from course.checks.value_engine_probes import walk_back\nclass Value:\n"
     "    def backward(self):\n        walk_back(self)", "uses the checks' own backpropagation"),
])
def test_scan_marks_what_only_suggests_a_look_for_review_not_hostile(code, why):
    flags = scan(nbformat.v4.new_notebook(cells=[new_code_cell(code)]))
    assert any(f.kind == REVIEW and why in f.text for f in flags) and not any(f.kind == HOSTILE for f in flags), flags


@pytest.mark.parametrize("code", [
    "import sys\nprint('x', file=sys.stderr)\nsys.stderr.write('y')\nsys.stdout.flush()",
    "class P:\n    def __init__(self, x):\n        setattr(self, 'x', x)\n    def __eq__(self, o):\n        return self.x == o.x",
    "import threading\nclass W(threading.Thread):\n    def run(self):\n        pass",
    "from IPython.display import display, Markdown\ndisplay(Markdown('x'))",
])
def test_scan_finds_nothing_in_honest_code(code):
    assert scan(nbformat.v4.new_notebook(cells=[new_code_cell(code)])) == []


def test_scan_notes_exits_and_network_without_withholding():
    nb = nbformat.v4.new_notebook(cells=[new_code_cell("import sys, socket\nsys.exit(1)")])
    assert {f.kind for f in scan(nb)} == {NOTE}


def test_scan_notes_a_student_cell_that_imports_reference_answers():
    nb = nbformat.v4.new_notebook(cells=[new_code_cell(
        "from course.numeric import central_difference as cd\ndef central_difference(f, x, h):\n    return cd(f, x, h)")])
    flags = scan(nb)
    assert [f.kind for f in flags] == [NOTE] and "reference answers" in flags[0].text, flags
    given = new_code_cell("from course.engine import Value")
    assert scan(nbformat.v4.new_notebook(cells=[given]), nbformat.v4.new_notebook(cells=[given])) == []


@pytest.mark.parametrize("path", sorted(ROOT.glob("source/*/*.ipynb")), ids=lambda p: p.parent.name)
def test_scan_finds_nothing_in_the_course_solutions(path):
    nb = nbformat.read(path, as_version=4)
    release = ROOT / "release" / path.parent.name / path.name
    rel = nbformat.read(release, as_version=4) if release.exists() else None
    assert [f for f in scan(nb, rel) if f.kind == HOSTILE] == []


# ------------------------------------------------------------------ scoring and feedback
def _test_cell(outputs, points=2):
    c = new_code_cell("assert True", metadata={"nbgrader": {"grade": True, "solution": False, "locked": True,
                                                            "grade_id": "t", "points": points}})
    c.outputs = outputs
    return c


def score_cell(cell):
    """(score, error, message) of one executed test cell, through the read-outputs and score steps."""
    cell.execution_count = 1
    t = steps.score(steps.Observed([steps.observe_test_cell(cell)]))[0][0]
    return t.score, t.error, t.message


def test_a_warning_on_stderr_does_not_zero_a_passing_test():
    c = _test_cell([new_output("stream", name="stderr", text="x.py:3: UserWarning: careful\n  warnings.warn(w)\n")])
    assert score_cell(c)[0] == 2


def test_other_stderr_output_zeroes_the_test_like_nbgrader():
    assert score_cell(_test_cell([new_output("stream", name="stderr", text="boom\n")]))[0] == 0


def test_a_printed_value_is_never_read_as_partial_credit():
    c = _test_cell([new_output("execute_result", data={"text/plain": "0.5"}, execution_count=1)])
    assert score_cell(c)[0] == 2  # nbgrader would give 0.5: all or nothing here
    err = _test_cell([new_output("error", ename="AssertionError", evalue="Misconception [x-y]: no", traceback=[])])
    assert score_cell(err) == (0.0, "AssertionError", "Misconception [x-y]: no")


def test_a_test_cell_the_kernel_never_reached_scores_zero_as_not_run():
    t = steps.score(steps.Observed([steps.observe_test_cell(_test_cell([]))]))[0][0]
    assert (t.score, t.ran, t.error) == (0.0, False, "not run")


def test_feedback_preprocessor_strips_hidden_tests_and_tracebacks(course):
    master = _master(course)
    cell = next(c for c in master.cells if c.metadata["nbgrader"].get("grade_id") == "test_square_hidden")
    cell.outputs = [new_output("error", ename="AssertionError", evalue="Check failed: square(x)",
                               traceback=[f"----> 5 rng = np.random.default_rng(2026)  # {fc.HIDDEN_TOKEN}"])]
    out, _ = report.StripHiddenTests().preprocess_cell(cell, {}, 0)
    text = json.dumps(out)
    assert fc.HIDDEN_TOKEN not in text and "BEGIN HIDDEN" not in text
    assert "Check failed: square(x)" in text and "hidden tests are not shown" in out.source


# ------------------------------------------------------------------ sandbox
def test_probe_reports_every_mechanism_with_a_verdict():
    sb = isolate.probe(ROOT)
    assert set(sb.mechanisms) >= {"memory limit", "process limit", "course and other students hidden",
                                  "no network", "course package read-only", "private pid namespace",
                                  "allow-list root", "disk quota"}
    assert all(v == "active" or v.startswith("UNAVAILABLE") for v in sb.mechanisms.values())


def test_the_probe_marks_a_kernel_that_holds_an_inherited_descriptor(tmp_path):
    limits = isolate.Limits()
    report = {"memory": limits.memory, "as": limits.memory + limits.address_space_extra, "nproc": 256,
              "uid": 1000, "hidden": True, "network": True, "readonly": True, "pid": 1,
              "top": sorted(isolate.allowed_top(tmp_path)), "disk": limits.disk, "fds": []}
    sb = isolate.Sandbox(namespaces=True, uid=100_000)
    assert isolate._verdicts(report, limits, sb, 100_000, tmp_path)["no inherited descriptors"] == "active"
    leaky = isolate._verdicts(dict(report, fds=["socket:[4242]"]), limits, sb, 100_000, tmp_path)
    assert leaky["no inherited descriptors"] == "UNAVAILABLE (the kernel holds ['socket:[4242]'])"


def test_kernels_start_cold_where_warm_ones_lack_a_mechanism_that_cold_ones_hold():
    cold = {"no network": "active", "disk quota": "UNAVAILABLE (no tmpfs)", "no inherited descriptors": "active"}
    assert isolate.warm_verdict(cold, dict(cold)) == "active"
    assert isolate.warm_verdict(cold, dict(cold, **{"disk quota": "UNAVAILABLE (no tmpfs)"})) == "active"
    leaky = dict(cold, **{"no inherited descriptors": "UNAVAILABLE (the kernel holds ['socket:[1]'])"})
    assert isolate.warm_verdict(cold, leaky) == "UNAVAILABLE (warm kernels lack: no inherited descriptors)"


def test_a_warm_kernel_without_namespaces_still_gets_its_limits_and_scratch_folder(tmp_path):
    sb = isolate.Sandbox(namespaces=False, uid=None)
    (tmp_path / "s" / "work").mkdir(parents=True)
    code = ("import os, resource, json; print(json.dumps([os.getcwd(), "
            "resource.getrlimit(resource.RLIMIT_DATA)[0], resource.getrlimit(resource.RLIMIT_FSIZE)[0], "
            "sorted(int(fd) for fd in os.listdir('/proc/self/fd') if os.path.lexists('/proc/self/fd/' + fd))]))")
    limits = isolate.Limits(memory=512 << 20, fsize=1 << 20)
    cmd = [sys.executable, "-c", code]
    spec, _cmd = isolate.split_argv(isolate.kernel_argv(tmp_path / "s", cmd, limits, sb))
    z = warmstart.Zygote()
    try:
        rc, out, err = z.run(spec, cmd)
    finally:
        z.close()
    assert rc == 0, err
    assert json.loads(out) == [str(tmp_path / "s" / "work"), 512 << 20, 1 << 20, [0, 1, 2]]


def test_a_fork_server_of_another_version_of_the_grader_is_not_used(monkeypatch):
    monkeypatch.setattr(warmstart, "VERSION", "an older checkout")
    with pytest.raises(warmstart.Unavailable, match="another version"):
        warmstart.Zygote()


def test_sandboxed_python_cannot_see_the_course_when_namespaces_work(tmp_path):
    sb = isolate.probe(ROOT)
    if not sb.namespaces:
        pytest.skip(f"namespaces unavailable here: {sb.mechanisms.get('namespaces')}")
    (tmp_path / "s" / "work").mkdir(parents=True)
    isolate.prepare_scratch(tmp_path, sb)
    code = ("import os, json; print(json.dumps([os.path.exists(p) for p in "
            f"[{str(ROOT / 'autograder')!r}, {str(tmp_path / 'other')!r}, 'course_here']]))")
    (tmp_path / "other").write_text("another student")
    argv = isolate.kernel_argv(tmp_path / "s", [sys.executable, "-c", code], isolate.Limits(), sb)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [False, False, False]


def test_without_namespaces_the_kernel_still_gets_its_limits_and_scratch_folder(tmp_path):
    sb = isolate.Sandbox(namespaces=False, uid=None)
    (tmp_path / "s" / "work").mkdir(parents=True)
    code = ("import os, resource, json; print(json.dumps([os.getcwd(), "
            "resource.getrlimit(resource.RLIMIT_DATA)[0], resource.getrlimit(resource.RLIMIT_FSIZE)[0]]))")
    limits = isolate.Limits(memory=512 << 20, fsize=1 << 20)
    argv = isolate.kernel_argv(tmp_path / "s", [sys.executable, "-c", code], limits, sb)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [str(tmp_path / "s" / "work"), 512 << 20, 1 << 20]


def test_slow_cells_are_skipped_only_when_they_are_the_instructors_unchanged():
    given = nbformat.v4.new_notebook(cells=[new_code_cell("widget()", metadata={"tags": ["slow"]}),
                                            new_code_cell("x = 1")])
    as_released = nbformat.v4.new_notebook(cells=[new_code_cell("widget()", metadata={"tags": ["slow"]}),
                                                  new_code_cell("x = 1")])
    edited = nbformat.v4.new_notebook(cells=[new_code_cell("widget(); y = 2", metadata={"tags": ["slow"]}),
                                             new_code_cell("x = 1")])
    src = lambda p: [c.source for c in p.notebook.cells if not c.metadata.get(steps.GUARD_META)]  # noqa: E731
    assert src(steps.plan(as_released, given, run_slow=False)) == ["x = 1"]
    assert src(steps.plan(edited, given, run_slow=False)) == ["widget(); y = 2", "x = 1"]
    assert src(steps.plan(as_released, given, run_slow=True)) == ["widget()", "x = 1"]


def test_a_slow_cell_runs_when_a_later_cell_needs_what_it_defines_and_test_cells_always_run():
    test = {"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "t", "points": 1}}
    cells = [new_code_cell("acc = train()", metadata={"tags": ["slow"]}),
             new_code_cell("plot(acc)", metadata={"tags": ["slow"]}),
             new_code_cell("final = globals().get('acc', 0)\nassert final == 1, 'x'",
                           metadata={**test, "tags": ["slow"]})]
    nb = nbformat.v4.new_notebook(cells=cells)
    given = nbformat.v4.new_notebook(cells=[nbformat.from_dict(c) for c in cells])
    src = [c.source for c in steps.plan(nb, given, run_slow=False).notebook.cells
           if not c.metadata.get(steps.GUARD_META)]
    assert src == ["acc = train()", cells[2].source]


def test_the_plan_marks_every_test_cell_and_guards_only_those_judged_in_the_kernel():
    test = lambda gid, src: new_code_cell(src, metadata={"nbgrader": {  # noqa: E731
        "grade": True, "solution": False, "locked": True, "grade_id": gid, "points": 1}})
    nb = nbformat.v4.new_notebook(cells=[
        test("t_check", "from course.checks.numerical_slopes import check_best_step\ncheck_best_step(best_step)"),
        test("t_assert", "assert 1 == 1, 'x'")])
    kinds = [c.metadata.get(steps.GUARD_META) for c in steps.plan(nb).notebook.cells]
    assert kinds[0] == "setup" and kinds[1] == "marker" and kinds[2] is None  # replayed: no guard
    assert kinds[3] == "marker" and kinds[4] not in (None, "marker", "setup") and kinds[5] is None  # guarded
