"""Text sources: each notebook is authored as ``source/NN_name/NN_name.py`` (jupytext percent format).

The text source holds every cell with its nbgrader metadata (``# %% nbgrader={...}``),
and is the only file an author edits. :func:`build` writes ``source/NN_name/NN_name.ipynb``
from it; ``release/`` is generated from that notebook by nbgrader
(:mod:`autograder.release`). ``./run grade release`` does both.

Cell ids are stable, so an unchanged source regenerates byte for byte and a one-line
edit is a one-line diff in every generated notebook: a graded cell's id is its
``grade_id``; any other cell is named after the graded cell before it and its place
after that one (``forward_difference-2``), so an edit never renames a cell and
inserting one renames at most the cells up to the next graded cell. Every instructor
code cell is locked (:func:`lock_instructor_cells`) under that name, so grading
restores it from the master.

:func:`to_text` goes the other way, for an author who edited the ``.ipynb`` in
JupyterLab: it rewrites the text source from the notebook (``./run grade text``).
"""
from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
from nbformat import NotebookNode

FORMAT = "py:percent"
ID_OK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: notebook metadata the text format carries for itself, not part of the notebook
TEXT_ONLY_KEYS = ("jupytext",)


def text_path(notebook: Path) -> Path:
    """``source/NN_name/NN_name.ipynb`` -> ``source/NN_name/NN_name.py``."""
    return notebook.with_suffix(".py")


def text_sources(source: Path) -> list[Path]:
    """Every text source under ``source/`` (one per assignment folder, named after it)."""
    return sorted(p for p in source.glob("*/*.py") if p.stem == p.parent.name)


def _is_exercise(meta: dict) -> bool:
    """A solution or test cell (an anchor for ids), not a locked instructor cell."""
    return bool(meta.get("grade_id")) and bool(meta.get("grade") or meta.get("solution"))


def stable_ids(nb: NotebookNode) -> NotebookNode:
    """Give every cell its stable id (see the module doc); raises on a duplicate."""
    anchor, n, seen = "start", 0, set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        gid = meta.get("grade_id")
        if gid and _is_exercise(meta):
            anchor, n = gid, 0
            cid = gid
        elif gid:  # a locked instructor cell: its id is its grade id, and it keeps its place in the count
            n += 1
            cid = gid
        else:
            n += 1
            cid = f"{anchor}-{n}"
        cid = cid[:64]
        if not ID_OK.match(cid):
            raise ValueError(f"cell id {cid!r} is not a valid notebook cell id (letters, digits, - and _)")
        if cid in seen:
            raise ValueError(f"two cells would get the id {cid!r}: grade ids must be unique")
        seen.add(cid)
        cell["id"] = cid
    return nb


def read_text(path: Path) -> NotebookNode:
    """The notebook a text source describes: no outputs, stable ids, nbformat 4.5."""
    nb = jupytext.read(path, fmt=FORMAT)
    for key in TEXT_ONLY_KEYS:
        nb.metadata.pop(key, None)
    nb.metadata.setdefault("language_info", {"name": "python"})
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.nbformat, nb.nbformat_minor = 4, 5
    return lock_instructor_cells(stable_ids(nb))


EDITABLE_TAG = "editable"  #: an instructor code cell with this tag is left unlocked


def lock_instructor_cells(nb: NotebookNode) -> NotebookNode:
    """Lock every instructor code cell (no nbgrader metadata, no ``editable`` tag), named by its id.

    Grading restores locked cells from the master, so nothing a test depends on (a helper, the
    data, the training loop) can be changed by the student to earn points the same work would
    not earn; a student who wants to experiment adds a cell of their own."""
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.metadata.get("nbgrader"):
            continue
        if EDITABLE_TAG in cell.metadata.get("tags", []):
            continue
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": cell["id"], "locked": True,
                                     "schema_version": 3, "solution": False}
    return nb


def write_notebook(nb: NotebookNode, path: Path) -> bool:
    """Write ``nb`` (one JSON line per source line); returns whether the file changed."""
    text = nbformat.writes(nb, version=4)
    if not text.endswith("\n"):
        text += "\n"
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def build(text: Path) -> Path:
    """Write the source notebook of one text source; returns its path."""
    out = text.with_suffix(".ipynb")
    write_notebook(read_text(text), out)
    return out


def build_all(source: Path, names: list[str] | None = None) -> list[Path]:
    """Build the source notebooks of the named assignments (default: every text source)."""
    return [build(t) for t in text_sources(source) if names is None or t.parent.name in names]


def to_text(notebook: Path) -> Path:
    """Rewrite a text source from its notebook (the way back, after editing the .ipynb)."""
    nb = nbformat.read(notebook, as_version=4)
    nb.metadata.pop("jupytext", None)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if meta and not _is_exercise(meta) and meta.get("grade_id") == cell.get("id"):
            cell.metadata.pop("nbgrader")  # locked by the build, not by the author
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    out = text_path(notebook)
    jupytext.write(nb, out, fmt=FORMAT)
    return out


def differences(text: Path) -> list[str]:
    """Why the committed ``.ipynb`` beside a text source is not what the text builds (empty: in sync)."""
    nb_path = text.with_suffix(".ipynb")
    if not nb_path.is_file():
        return [f"{nb_path.name}: missing (run ./run grade release {text.parent.name})"]
    built = nbformat.writes(read_text(text), version=4).rstrip("\n")
    committed = nb_path.read_text(encoding="utf-8").rstrip("\n")
    if built == committed:
        return []
    a, b = built.splitlines(), committed.splitlines()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return [f"{nb_path.name}: line {i + 1} differs from what {text.name} builds: {y.strip()[:80]!r}"]
    return [f"{nb_path.name}: {len(b)} lines where {text.name} builds {len(a)}"]
