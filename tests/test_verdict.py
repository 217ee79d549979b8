"""autograder.verdict: a real kernel runs notebook 01 and records its answers; the verdict is
made outside it, so a kernel that forges passes earns nothing and is caught."""
from __future__ import annotations

import pytest

from autograder import notebooks, verdict
from conftest import ROOT
from course.checks import answers

NB = ROOT / "source" / "01_numerical_slopes" / "01_numerical_slopes.ipynb"
RELEASE = ROOT / "release" / "01_numerical_slopes" / "01_numerical_slopes.ipynb"
MASTER = notebooks.read(NB)
TESTS = {notebooks.cell_id(c): c.source for c in notebooks.test_cells(MASTER)}

#: wrong answers, plus code that makes every later cell look passed in the kernel
FORGE_TRANSFORMER = '''
def forward_difference(f, x, h):
    return 0.0
def _skip(lines):
    return ["pass\\n"] if any("check_" in ln for ln in lines) else lines
get_ipython().input_transformers_cleanup.append(_skip)
'''
FORGE_STRIP = '''
def forward_difference(f, x, h):
    return 0.0
import course.checks.answers as _a
_a.fail = lambda *a, **k: None
import course.checks.expect as _e
_e.fail = lambda *a, **k: None
'''


def graded(tmp_path, replace: dict[str, str], base=RELEASE):
    log = tmp_path / "answers.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(answers.ENV, str(log))
        nb = notebooks.read(base)
        for c in nb.cells:
            gid = notebooks.nbgrader_meta(c).get("grade_id")
            if gid in TESTS or gid in replace:
                c.source = {**TESTS, **replace}[gid]
        _, executed = notebooks.run_in_kernel(verdict.with_markers(nb), skip_tags={"slow"}, cwd=NB.parent,
                                              stop_after="test_central_difference_value", timeout=120)
    return verdict.judge(executed, MASTER, log.read_text() if log.exists() else "")


@pytest.mark.slow
def test_the_solution_passes_every_replayed_cell_with_nothing_flagged(tmp_path):
    j = graded(tmp_path, {}, base=NB)
    assert j.cells and all(v.passed and v.replayed is not None for v in j.cells.values())
    assert not j.hostile and not j.notes


@pytest.mark.slow
def test_a_wrong_answer_fails_on_replay_as_in_the_kernel(tmp_path):
    j = graded(tmp_path, {"forward_difference": "def forward_difference(f, x, h):\n    return (f(x) - f(x + h)) / h"})
    v = j.cells["test_forward_difference_value"]
    assert not v.passed and not v.kernel_passed and not j.hostile
    assert "Misconception [wrong-sign]" in v.replayed.message


@pytest.mark.slow
@pytest.mark.parametrize("attack", [FORGE_TRANSFORMER, FORGE_STRIP], ids=["input-transformer", "patched-fail"])
def test_a_kernel_that_forges_passes_earns_nothing_and_is_flagged_hostile(tmp_path, attack):
    j = graded(tmp_path, {"forward_difference": attack})
    v = j.cells["test_forward_difference_value"]
    assert v.kernel_passed, "the attack should have fooled the kernel"
    assert not v.passed and v.forged
    assert any("test_forward_difference_value" in h for h in j.hostile)


def test_trusted_outputs_replace_the_kernels_error_with_the_replayed_message():
    from nbformat import NotebookNode
    cell = NotebookNode(outputs=[NotebookNode(output_type="stream", name="stdout", text="hi"),
                                 NotebookNode(output_type="error", ename="X", evalue="forged", traceback=[])])
    r = answers.ReplayResult(False, "CheckFailed", "Check failed: x")
    verdict.trusted_outputs(cell, verdict.CellVerdict("t", True, False, r))
    assert [o["output_type"] for o in cell.outputs] == ["stream", "error"]
    assert cell.outputs[1]["evalue"] == "Check failed: x"
    verdict.trusted_outputs(cell, verdict.CellVerdict("t", True, True, answers.ReplayResult(True)))
    assert [o["output_type"] for o in cell.outputs] == ["stream"]
