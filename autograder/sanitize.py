"""What the grader trusts: the master notebook, and a submission made to match it.

* :func:`master_notebook` is the release notebook (what students got) with each
  test cell's full source from ``source/`` (hidden tests included) and fresh
  checksums: the instructor's truth, stored in the gradebook and used to
  restore whatever a student changed.
* :func:`sanitize` rebuilds a submission on the master: test cells and other
  locked cells come from the master, cell metadata from the master, duplicated
  grade ids and unknown ones lose their nbgrader metadata, deleted graded
  cells come back. Every difference becomes a *flag* (the notebook is still
  graded, on the instructor's tests).
* :func:`scan` reads the student's own code (everything that is not a
  restored locked cell) for known attacks on the grader. Only code that *does*
  what a forgery needs is *hostile* (the score is withheld for review, whatever
  the run says): installing IPython input/AST transformers or event hooks,
  assigning to an attribute of a helper module the tests use (``np.max = ...``,
  ``setattr(math, ...)``), comparison methods that return a constant "equal",
  ``ndarray`` subclasses. Code that only *could* be part of an attack and is
  also written by honest students (the IPython shell, ``sys.modules``,
  ``importlib``, frame inspection, trace hooks, ``ctypes``, replacing
  ``sys.stdout``, a constant ``__bool__``) is a *review* flag: the earned score
  stands and the submission is listed for a look. The runtime guard and the
  verdict outside the kernel catch the forgery itself if it happens.
"""
from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass

import nbformat
from nbformat import NotebookNode
from nbgrader import utils as nbu

from .notebooks import nbgrader_meta

STRUCTURE, HOSTILE, REVIEW, NOTE = "structure", "hostile", "review", "note"


@dataclass(frozen=True)
class Flag:
    kind: str  #: STRUCTURE (restored, still graded), HOSTILE (score withheld), REVIEW (score kept, look) or NOTE
    text: str

    def __str__(self) -> str:
        return self.text


def master_notebook(release_nb: NotebookNode, source_nb: NotebookNode) -> NotebookNode:
    """The release notebook with the source's test cells (hidden tests and all)."""
    nb = copy.deepcopy(release_nb)
    src = {nbgrader_meta(c).get("grade_id"): c for c in source_nb.cells if nbgrader_meta(c).get("grade_id")}
    for cell in nb.cells:
        m = nbgrader_meta(cell)
        gid = m.get("grade_id")
        if gid and m.get("grade") and not m.get("solution") and gid in src:
            cell.source = src[gid].source
            m["checksum"] = nbu.compute_checksum(cell)
    return nb


def _restore_meta(cell: NotebookNode, master: NotebookNode) -> None:
    """Put the master's cell type and nbgrader metadata on ``cell``."""
    if cell.cell_type != master.cell_type:
        new = copy.deepcopy(master)
        new.source = cell.source
        cell.clear()
        cell.update(new)
    cell.setdefault("metadata", {})["nbgrader"] = copy.deepcopy(nbgrader_meta(master))


def sanitize(student: NotebookNode, master: NotebookNode,
             release: NotebookNode) -> tuple[NotebookNode, list[Flag]]:
    """A runnable notebook: the student's cells on the master's structure, plus what was changed
    (compared with ``release``, the notebook the student was given)."""
    flags: list[Flag] = []
    by_id = {nbgrader_meta(c)["grade_id"]: c for c in master.cells if nbgrader_meta(c).get("grade_id")}
    given = {nbgrader_meta(c)["grade_id"]: c for c in release.cells if nbgrader_meta(c).get("grade_id")}
    out = nbformat.v4.new_notebook(metadata=copy.deepcopy(master.metadata))
    seen: set[str] = set()
    for cell in copy.deepcopy(student.cells):
        if cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        cell.setdefault("metadata", {})
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in seen:
            flags.append(Flag(STRUCTURE, f"duplicated cell {gid} (the copy is graded as an ordinary cell)"))
            cell.metadata.pop("nbgrader", None)
        elif gid and gid not in by_id:
            flags.append(Flag(STRUCTURE, f"unknown grade id {gid} (graded as an ordinary cell)"))
            cell.metadata.pop("nbgrader", None)
        elif gid:
            seen.add(gid)
            m, r = by_id[gid], given.get(gid, by_id[gid])
            if cell.cell_type != r.cell_type or nbgrader_meta(cell) != nbgrader_meta(r):
                flags.append(Flag(STRUCTURE, f"cell metadata of {gid} changed (restored)"))
            _restore_meta(cell, m)
            if nbgrader_meta(m).get("locked") or (nbgrader_meta(m).get("grade") and not nbgrader_meta(m).get("solution")):
                if cell.source != r.source:
                    flags.append(Flag(STRUCTURE, f"locked cell {gid} edited (restored)"))
                cell.source = m.source
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        out.cells.append(cell)
    # a graded or locked cell that is missing comes back after its predecessor in the master
    for i, m in enumerate(master.cells):
        gid = nbgrader_meta(m).get("grade_id")
        if not gid or gid in seen:
            continue
        flags.append(Flag(STRUCTURE, f"cell {gid} deleted or its metadata stripped (restored)"))
        pos = 0
        for prev in reversed(master.cells[:i]):
            pid = nbgrader_meta(prev).get("grade_id")
            hits = [k for k, c in enumerate(out.cells) if pid and nbgrader_meta(c).get("grade_id") == pid]
            if hits:
                pos = hits[0] + 1
                break
        out.cells.insert(pos, copy.deepcopy(m))
        seen.add(gid)
    for c in out.cells:
        c.pop("attachments", None) if c.cell_type == "code" else None
    out.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return out, flags


# ---------------------------------------------------------------- static scan

#: (pattern in the student's code, what it means): code that installs what a forgery needs;
#: each hit withholds the score for review
HOSTILE_PATTERNS = [
    (r"input_transformers|ast_transformers|\bpre_run_cell\b|\bpost_run_cell\b|\bpre_execute\b|events\.register",
     "installs IPython hooks"),
]
#: code that could serve an attack and that honest students also write: the score stands, and
#: the submission is listed for a look
REVIEW_PATTERNS = [
    (r"\bget_ipython\b|\bInteractiveShell\b|\bIPython\.core\b|\bipykernel\b",
     "uses the IPython shell (hooks can rewrite later cells)"),
    (r"__builtins__", "reaches the builtins through __builtins__"),
    (r"\bsys\.modules\b|\bimportlib\b|\bgc\.get_", "reaches into loaded modules"),
    (r"\bsys\.(settrace|setprofile|_getframe|displayhook|excepthook)\b|\binspect\.(currentframe|stack)\b"
     r"|\bf_back\b|\bf_locals\b|\bf_globals\b", "inspects frames or sets interpreter hooks"),
    (r"\bctypes\b|\bcffi\b", "uses ctypes"),
    # the checks of notebook 03 carry a whole backward pass of their own (they need one before
    # the student's backward() works); a student cell has no honest use for it
    (r"\bwalk_back\b|\bvalue_engine_probes\b",
     "uses the checks' own backpropagation (walk_back): check backward() is the student's own"),
]

#: helper modules whose attributes a student must not replace
PROTECTED = {"np", "numpy", "math", "testing", "checks", "course", "numeric", "report", "misconception",
             "cmath", "operator", "random", "builtins", "__builtins__"}
_EQUAL_ALWAYS = {"__eq__": True, "__le__": True, "__ge__": True, "__ne__": False}  # constant that forges a pass
_CONSTANT_REVIEW = ("__lt__", "__gt__", "__abs__", "__bool__")
NOTE_PATTERNS = [
    (r"\bsys\.exit\b|\bexit\(\)|\bquit\(\)|raise\s+SystemExit", "calls sys.exit"),
    (r"\bos\._exit\b|\bos\.kill\b|\bsignal\.", "kills or signals the kernel"),
    (r"\bos\.fork\b|\bsubprocess\b|\bmultiprocessing\b|\bos\.system\b|\bos\.spawn", "starts processes"),
    (r"\bexec\s*\(|\beval\s*\(|\bcompile\s*\(", "runs generated code"),
    (r"\bsocket\b|\burllib\b|\brequests\b|\bhttp\.client\b", "tries the network"),
    # The course package ships reference implementations (for later notebooks and the
    # project's tests); a student cell that imports one may have delegated its exercise.
    (r"\b(?:from|import)\s+course\.(?:numeric|engine|nn|dual|tape|reverse|matrix_ops|layers)\b",
     "imports a course module that holds reference answers: check the exercise is the student's own"),
]


def _constant_returns(fn: ast.FunctionDef) -> list | None:
    """The constant values ``fn`` returns, or None if any return is not a constant."""
    rets = [r for r in ast.walk(fn) if isinstance(r, ast.Return)]
    if rets and all(isinstance(r.value, ast.Constant) for r in rets):
        return [r.value.value for r in rets]
    return None


def _class_hits(node: ast.ClassDef) -> list[tuple[str, str]]:
    hits: list[tuple[str, str]] = []
    for base in node.bases:
        if "ndarray" in ast.unparse(base):
            hits.append((HOSTILE, f"class {node.name} subclasses ndarray"))
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and (item.name in _EQUAL_ALWAYS or item.name in _CONSTANT_REVIEW):
            consts = _constant_returns(item)
            if consts is None:
                continue
            if item.name in _EQUAL_ALWAYS and all(bool(v) == _EQUAL_ALWAYS[item.name] for v in consts):
                hits.append((HOSTILE, f"class {node.name}.{item.name} returns a constant (compares equal to anything)"))
            elif item.name in _CONSTANT_REVIEW:
                hits.append((REVIEW, f"class {node.name}.{item.name} returns a constant"))
        elif isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__eq__" for t in item.targets):
            hits.append((HOSTILE, f"class {node.name} overrides __eq__ with a lambda"))
    return hits


def _base_name(t: ast.expr) -> str | None:
    while isinstance(t, ast.Attribute):
        t = t.value
    return t.id if isinstance(t, ast.Name) else None


def _ast_hits(source: str) -> list[tuple[str, str]]:
    """(kind, why) for each forgery-shaped statement of ``source``."""
    hits: list[tuple[str, str]] = []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return hits
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute) and _base_name(t) in PROTECTED:
                    hits.append((HOSTILE, f"replaces a helper ({ast.unparse(t)})"))
                elif isinstance(t, ast.Subscript) and ast.unparse(t.value) in ("sys.modules", "__builtins__"):
                    hits.append((HOSTILE, f"replaces a loaded module or builtin ({ast.unparse(t)})"))
                elif isinstance(t, ast.Attribute) and ast.unparse(t) in ("sys.stdout", "sys.stderr"):
                    hits.append((REVIEW, f"replaces {ast.unparse(t)}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            if node.args and _base_name(node.args[0]) in PROTECTED:
                hits.append((HOSTILE, f"patches a helper with {node.func.id} ({ast.unparse(node.args[0])})"))
        elif isinstance(node, ast.ClassDef):
            hits += _class_hits(node)
    return hits


def scan(nb: NotebookNode, release: NotebookNode | None = None) -> list[Flag]:
    """Known attacks on the grader in the student's own code: cells that are not locked (those are
    the master's) and not exactly as released (the instructor's code is trusted)."""
    flags: list[Flag] = []
    seen: set[str] = set()
    given = {c.source for c in release.cells if c.cell_type == "code"} if release is not None else set()
    for cell in nb.cells:
        if cell.cell_type != "code" or nbgrader_meta(cell).get("locked") or cell.source in given:
            continue
        src = cell.source
        where = nbgrader_meta(cell).get("grade_id") or f"cell {nb.cells.index(cell)}"
        found = [(HOSTILE, why) for pat, why in HOSTILE_PATTERNS if re.search(pat, src)]
        found += [(REVIEW, why) for pat, why in REVIEW_PATTERNS if re.search(pat, src)]
        found += _ast_hits(src)
        found += [(NOTE, why) for pat, why in NOTE_PATTERNS if re.search(pat, src)]
        for kind, why in found:
            text = f"{where}: {why}"
            if text not in seen:
                seen.add(text)
                flags.append(Flag(kind, text))
    return flags


def names_loaded(source: str) -> list[str]:
    """Global names a test cell reads (so the guard can check they are the real ones)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted(loaded - stored)
