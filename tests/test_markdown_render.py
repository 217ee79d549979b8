"""Every notebook's markdown renders as meant, with the renderer nbconvert uses (mistune, pinned).

What a student sees of a formula depends on the markdown renderer: ``d(a*b)/da = b
and d(a*b)/db = a`` written as plain text loses its asterisks to an italic
``b)/da = b and d(a``, and math the renderer does not recognise as math has its
underscores read as emphasis or shown raw. This module renders every markdown
cell of every source notebook with :func:`nbconvert.filters.markdown_mistune.markdown2html_mistune`
(what ``jupyter nbconvert --to html`` runs) and fails on:

* emphasis that starts or ends inside a word (``a*b`` ... ``c*d``: a ``*`` between
  letters that became ``<em>``); formulas belong in code spans or LaTeX;
* math that is broken: a ``$...$`` that came out containing markup, a ``$``
  left without its partner, or LaTeX (``\\frac``, ``x_1``, ``^{2}``) outside
  math and code, where the renderer shows it raw or eats its underscores;
* a table (a ``|---|---|`` line) that did not become a ``<table>``.

The detectors are tested on renders that are known to be broken, so that a
clean notebook passing says something.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from conftest import ROOT

CODE = re.compile(r"<code>.*?</code>|<pre>.*?</pre>", re.S)
MATH = re.compile(r"\$\$.+?\$\$|\$.+?\$", re.S)  # how nbconvert's renderer writes math out: delimiters kept
TAG = re.compile(r"<[^>]+>")
INTRAWORD_EMPHASIS = re.compile(r"\w<(em|strong)>|</(em|strong)>\w")
LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
SUB_OR_SUPERSCRIPT = re.compile(r"\w[_^]\w|[_^]\{")
BLOCK_END = re.compile(r"</(?:p|li|td|th|h[1-6]|dd|dt|blockquote)>")
TABLE_RULE = re.compile(r"^ {0,3}\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.M)


@dataclass(frozen=True)
class MarkdownCell:
    """One markdown cell of a source notebook."""
    notebook: str
    cell_id: str
    source: str


def markdown_cells(source: Path) -> list[MarkdownCell]:
    """Every markdown cell of every source notebook (``source/NN_name/NN_name.ipynb``)."""
    cells = []
    for path in sorted(source.glob("*/*.ipynb")):
        if path.stem != path.parent.name:
            continue
        nb = nbformat.read(path, as_version=4)
        cells += [MarkdownCell(path.stem, c.get("id", f"cell-{i}"), c.source)
                  for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]
    return cells


def render(markdown: str) -> str:
    """The HTML nbconvert makes of a markdown cell."""
    return markdown2html_mistune(markdown)


def without_code(rendered: str) -> str:
    """The rendered HTML with code spans and code blocks removed (their text is literal)."""
    return CODE.sub(" ", rendered)


def visible_text_outside_math(rendered: str) -> str:
    """What the reader sees as prose: no code, no math, no tags (so no heading ids), entities decoded."""
    return html.unescape(TAG.sub(" ", MATH.sub(" ", without_code(rendered))))


def context(text: str, match: re.Match, width: int = 30) -> str:
    return text[max(0, match.start() - width):match.end() + width]


def emphasis_inside_words(rendered: str) -> list[str]:
    """Emphasis that opens or closes inside a word: a ``*`` or ``_`` of a formula read as markup."""
    text = without_code(rendered)
    return [f"emphasis inside a word: ...{context(text, m)}..." for m in INTRAWORD_EMPHASIS.finditer(text)]


def broken_math(rendered: str) -> list[str]:
    """Math that did not come through: markup inside ``$...$``, a lone ``$``, LaTeX left in the prose."""
    text = without_code(rendered)
    problems = [f"markup inside math: {m.group()[:120]}" for m in MATH.finditer(text) if "<" in m.group()]
    for block in BLOCK_END.split(text):  # math never spans two paragraphs, items or cells
        if TAG.sub("", block).count("$") % 2:
            problems.append(f"an odd number of $ in one block (math lost a delimiter): {TAG.sub('', block)[:120]!r}")
    prose = visible_text_outside_math(rendered)
    problems += [f"LaTeX outside math: ...{context(prose, m)}..." for m in LATEX_COMMAND.finditer(prose)]
    problems += [f"a subscript or superscript outside math and code: ...{context(prose, m)}..."
                 for m in SUB_OR_SUPERSCRIPT.finditer(prose)]
    return problems


def lost_tables(markdown: str, rendered: str) -> list[str]:
    """Tables written in the markdown (a ``|---|`` rule) that the renderer did not make a table of."""
    written, made = len(TABLE_RULE.findall(markdown)), rendered.count("<table>")
    return [f"{written} table(s) written, {made} rendered"] if made < written else []


def render_problems(markdown: str) -> list[str]:
    """Everything that renders otherwise than meant, in one list (empty when the cell is fine)."""
    rendered = render(markdown)
    return emphasis_inside_words(rendered) + broken_math(rendered) + lost_tables(markdown, rendered)


# --------------------------------------------- the detectors, on known-broken renders

def test_asterisks_of_a_product_eaten_as_italics_are_found():
    problems = render_problems("By the product rule d(a*b)/da = b and d(a*b)/db = a.")
    assert problems and all("emphasis inside a word" in p for p in problems)


@pytest.mark.parametrize("markdown", [
    "By the product rule `d(a*b)/da = b` and `d(a*b)/db = a`.",
    r"By the product rule $\partial(a b)/\partial a = b$ and $\partial(a*b)/\partial b = a$.",
    "Plain *emphasis*, **bold** and *a phrase*, then punctuation: *this*.",
], ids=["code-spans", "latex", "real-emphasis"])
def test_formulas_in_code_or_latex_and_real_emphasis_pass(markdown):
    assert render_problems(markdown) == []


def test_underscores_of_math_in_unrecognised_delimiters_are_found():
    r"""``\(...\)`` in markdown is an escaped parenthesis, not math: its underscores become markup or stay raw."""
    problems = broken_math(render(r"the slope \(x_1 + \frac{a}{b}\) here"))
    assert any("LaTeX outside math" in p for p in problems)
    assert any("subscript" in p for p in problems)


def test_math_split_across_paragraphs_is_found():
    problems = broken_math(render("where $x_1 +\n\n y_1$ is the sum"))
    assert any("odd number of $" in p for p in problems)


def test_markup_inside_math_is_found():
    assert any("markup inside math" in p for p in broken_math("<p>$x<em>1 + y</em>1$</p>"))


def test_a_table_whose_cells_the_math_splits_is_found():
    """A ``|`` inside ``$...$`` in a table row changes the column count: mistune gives up on the table."""
    markdown = "| a | b |\n| --- | --- |\n| $x_1$ | $|x|$ |\n"
    assert lost_tables(markdown, render(markdown))
    fine = "| a | b |\n| --- | --- |\n| $x_1$ | $\\lvert x \\rvert$ |\n"
    assert lost_tables(fine, render(fine)) == []


# --------------------------------------------------------- every notebook's markdown

CELLS = markdown_cells(ROOT / "source")


def test_every_source_notebook_has_markdown_to_check():
    assert {c.notebook for c in CELLS} == {p.stem for p in (ROOT / "source").glob("*/*.ipynb")
                                           if p.stem == p.parent.name}


@pytest.mark.parametrize("cell", CELLS, ids=[f"{c.notebook}:{c.cell_id}" for c in CELLS])
def test_markdown_renders_as_meant(cell: MarkdownCell):
    problems = render_problems(cell.source)
    assert not problems, f"{cell.notebook}, cell {cell.cell_id}:\n  " + "\n  ".join(problems)
