"""Every source notebook follows the authoring rules (docs/authoring.md).

These are the mechanical rules the grading depends on: a test cell only calls
checks (so the grader can replay it on the student's answers, and no visible
cell writes out an answer), every exercise has hidden tests, a magic breaks
outside Jupyter.
"""
from __future__ import annotations

import ast
import re
from collections import Counter

import pytest

from autograder import notebooks
from conftest import source_notebooks

NOTEBOOKS = source_notebooks()
ids = [p.parent.name for p in NOTEBOOKS]


def code_of(cell) -> str:
    return cell.source


def parse(cell, nb_name: str) -> ast.Module:
    try:
        return ast.parse(cell.source)
    except SyntaxError as e:  # pragma: no cover - reported by the assert below
        pytest.fail(f"{nb_name}: cell {notebooks.cell_id(cell)} does not parse: {e}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_grade_ids_are_unique_and_test_cells_carry_points(path):
    nb = notebooks.read(path)
    gids = [notebooks.nbgrader_meta(c).get("grade_id") for c in nb.cells if notebooks.nbgrader_meta(c)]
    dupes = [g for g, n in Counter(gids).items() if n > 1]
    assert not dupes, f"{path.name}: duplicate grade_ids {dupes}"
    no_points = [notebooks.cell_id(c) for c in notebooks.test_cells(nb)
                 if not float(notebooks.nbgrader_meta(c).get("points", 0)) > 0]
    assert not no_points, f"{path.name}: test cells without points {no_points}"
    unlocked = [notebooks.cell_id(c) for c in notebooks.test_cells(nb)
                if not notebooks.nbgrader_meta(c).get("locked")]
    assert not unlocked, f"{path.name}: test cells must be locked: {unlocked}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_solution_cells_have_delimiters(path):
    nb = notebooks.read(path)
    bad = [notebooks.cell_id(c) for c in nb.cells if notebooks.is_solution_cell(c)
           and not ("### BEGIN SOLUTION" in c.source and "### END SOLUTION" in c.source)]
    assert not bad, f"{path.name}: solution cells without BEGIN/END SOLUTION: {bad}"


def slug(path) -> str:
    """``01_numerical_slopes`` -> ``numerical_slopes``: the name of the notebook's check modules."""
    return path.parent.name.split("_", 1)[1]


def split_hidden(source: str) -> tuple[str, str]:
    """(visible part, hidden block) of a test cell."""
    if "### BEGIN HIDDEN TESTS" not in source:
        return source, ""
    before, rest = source.split("### BEGIN HIDDEN TESTS", 1)
    hidden, after = rest.split("### END HIDDEN TESTS", 1)
    return before + after, hidden


def check_calls(code: str, module: str, where: str) -> list[str]:
    """Problems with a part of a test cell: it must only import checks from ``module`` and call
    them with the student's names (no literals, no formulas, no asserts of its own)."""
    problems, imported = [], set()
    for node in ast.parse(code).body:
        if isinstance(node, ast.ImportFrom) and node.module == module:
            imported |= {a.asname or a.name for a in node.names}
        elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
              and isinstance(node.value.func, ast.Name) and node.value.func.id in imported
              and all(isinstance(a, ast.Name) for a in node.value.args) and not node.value.keywords):
            continue
        else:
            problems.append(f"{where}: line {node.lineno} is not an import from {module} or a call of a check "
                            f"with the student's names: {ast.unparse(node)[:80]!r}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_test_cells_are_one_or_two_lines_that_call_checks(path):
    """A test cell imports its checks and calls them with the student's names, in at most two
    visible lines; its hidden block does the same with the hidden checks. No formula, no
    reference answer, no assert of its own: the logic lives in the check modules."""
    nb = notebooks.read(path)
    problems = []
    for c in notebooks.test_cells(nb):
        visible, hidden = split_hidden(c.source)
        lines = [ln for ln in visible.splitlines() if ln.strip()]
        gid = notebooks.cell_id(c)
        if not 1 <= len(lines) <= 2:
            problems.append(f"{gid}: {len(lines)} visible lines (at most 2)")
        problems += check_calls(visible, f"course.checks.{slug(path)}", gid)
        if hidden:
            problems += check_calls(hidden, f"course_hidden.{slug(path)}", f"{gid} (hidden)")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_check_a_test_cell_calls_exists_and_is_a_check(path):
    import importlib
    nb = notebooks.read(path)
    missing = []
    for c in notebooks.test_cells(nb):
        for node in ast.walk(ast.parse(c.source)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(("course.checks.", "course_hidden.")):
                mod = importlib.import_module(node.module)
                for a in node.names:
                    fn = getattr(mod, a.name, None)
                    if not getattr(fn, "__is_check__", False):
                        missing.append(f"{notebooks.cell_id(c)}: {node.module}.{a.name}")
    assert not missing, f"{path.name}: not checks (decorate them with @check): {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_exercise_has_a_hidden_test(path):
    """A hard-coded answer must fail: each solution cell is followed, before the
    next solution cell, by at least one test cell with hidden tests."""
    nb = notebooks.read(path)
    current, covered, order = None, {}, []
    for c in nb.cells:
        if notebooks.is_solution_cell(c):
            current = notebooks.cell_id(c)
            covered.setdefault(current, False)
            order.append(current)
        elif notebooks.is_test_cell(c) and current is not None and "### BEGIN HIDDEN TESTS" in c.source:
            covered[current] = True
    uncovered = [g for g in order if not covered[g]]
    assert not uncovered, f"{path.name}: exercises without a hidden test: {uncovered}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_magics_and_no_outputs_in_source(path):
    nb = notebooks.read(path)
    magics = [notebooks.cell_id(c) or i for i, c in enumerate(nb.cells) if c.cell_type == "code"
              and re.search(r"^\s*[%!]", c.source, re.M)]
    assert not magics, f"{path.name}: IPython magics or shell escapes in cells {magics}"
    outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("outputs")]
    assert not outputs, f"{path.name}: commit source notebooks without outputs (cells {outputs})"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec must be python3"


def test_hidden_checks_draw_their_random_inputs_from_seeded_generators():
    """An unseeded random test cannot be reproduced (nor replayed): every generator is seeded()."""
    import course_hidden
    from pathlib import Path
    bad = []
    for f in sorted(Path(course_hidden.__file__).parent.glob("*.py")):
        text = f.read_text()
        for m in re.finditer(r"default_rng\(\s*\)|np\.random\.(?!default_rng|Generator)\w+\(|\brandom\.\w+\(", text):
            bad.append(f"{f.name}: {m.group(0)}")
    assert not bad, f"unseeded randomness in the hidden checks: {bad}"
