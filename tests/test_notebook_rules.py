"""Every source notebook follows the authoring rules (docs/authoring.md).

These are the mechanical rules nbgrader's grading depends on: a test cell that
ends in a bare expression is read as partial credit, an assert without a
message tells the student nothing, an unseeded random test cannot be
reproduced, a magic breaks outside Jupyter.
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_test_cells_never_end_in_a_bare_expression(path):
    nb = notebooks.read(path)
    bad = []
    for c in notebooks.test_cells(nb):
        body = parse(c, path.name).body
        if body and isinstance(body[-1], ast.Expr):
            bad.append(notebooks.cell_id(c))
    assert not bad, f"{path.name}: these test cells end in an expression nbgrader would read as a score: {bad}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_assert_in_a_test_cell_has_a_message(path):
    nb = notebooks.read(path)
    bad = []
    for c in notebooks.test_cells(nb):
        for node in ast.walk(parse(c, path.name)):
            if isinstance(node, ast.Assert) and node.msg is None:
                bad.append(f"{notebooks.cell_id(c)} line {node.lineno}")
    assert not bad, f"{path.name}: asserts without a message: {bad}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_test_cell_asserts_something(path):
    nb = notebooks.read(path)
    empty = [notebooks.cell_id(c) for c in notebooks.test_cells(nb)
             if not any(isinstance(n, ast.Assert) for n in ast.walk(parse(c, path.name)))]
    assert not empty, f"{path.name}: test cells that check nothing: {empty}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_hidden_tests_exist_are_delimited_and_seeded(path):
    nb = notebooks.read(path)
    hidden = []
    for c in notebooks.test_cells(nb):
        begin, end = c.source.count("### BEGIN HIDDEN TESTS"), c.source.count("### END HIDDEN TESTS")
        assert begin == end, f"{path.name}: unbalanced hidden-test delimiters in {notebooks.cell_id(c)}"
        if begin:
            hidden.append(c)
    assert hidden, f"{path.name}: no hidden tests"
    unseeded = [notebooks.cell_id(c) for c in hidden
                if re.search(r"\brandom\b|rng|randn|rand\(", c.source)
                and not re.search(r"default_rng\(\s*\d+|seed\(\s*\d+|Random\(\s*\d+|manual_seed\(\s*\d+", c.source)]
    assert not unseeded, f"{path.name}: hidden tests with unseeded randomness: {unseeded}"


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
