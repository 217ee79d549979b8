"""Pairs of submissions whose answer cells are suspiciously alike: for a look, never a verdict.

Each submission's answer code is reduced to what renaming and reformatting cannot change:

1. parsed (code that does not parse is compared as text tokens), docstrings and comments dropped;
2. every top-level function, class and the remaining statements are *units*, normalised on
   their own: names the student binds (variables, arguments, helpers) become ``v1, v2, ...`` in
   order of first use inside the unit, import aliases become the module's name, and the names
   the exercise asks for (those the release defines) are kept. So renaming variables and
   reordering functions change nothing;
3. each unit becomes the set of its token :data:`K`-grams ("shingles"); the release's own code
   is removed.

Two submissions are compared by weighted Jaccard similarity over their shingles, each shingle
weighted by its rarity in the class (``log(N / df)``): what every correct answer to a small
exercise shares weighs nothing, which is what keeps honest look-alikes apart. A pair with too
little distinctive code (:data:`MIN_WEIGHT`) is not judged at all.
"""
from __future__ import annotations

import ast
import io
import itertools
import math
import tokenize
from dataclasses import dataclass

K = 6  #: tokens per shingle
THRESHOLD = 0.9  #: pairs at or above are listed (see docs/grading.md, "Similar submissions")
MIN_WEIGHT = 20.0  #: a pair whose distinctive code weighs less is too small to judge


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    similarity: float  #: 0..1


class _Canon(ast.NodeTransformer):
    """Rename bound names to v1, v2, ... in order of first appearance; keep ``keep``."""

    def __init__(self, bound: set[str], keep: set[str], aliases: dict[str, str]):
        self.bound, self.keep, self.aliases, self.names = bound, keep, aliases, {}

    def _name(self, n: str) -> str:
        if n in self.aliases:
            return self.aliases[n]
        if n in self.keep or n not in self.bound:
            return n
        return self.names.setdefault(n, f"v{len(self.names) + 1}")

    def visit_Name(self, node: ast.Name):
        node.id = self._name(node.id)
        return node

    def visit_arg(self, node: ast.arg):
        node.arg = self._name(node.arg)
        node.annotation = None
        return node

    def visit_FunctionDef(self, node):
        node.name = self._name(node.name)
        node.returns = None
        _drop_docstring(node)
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef):
        node.name = self._name(node.name)
        _drop_docstring(node)
        self.generic_visit(node)
        return node


def _drop_docstring(node) -> None:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        node.body = body[1:] or [ast.Pass()]


def _bound(tree: ast.AST) -> tuple[set[str], dict[str, str]]:
    """Names the code binds, and import alias -> module name."""
    bound: set[str] = set()
    aliases: dict[str, str] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            bound.add(n.id)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                if a.asname:
                    aliases[a.asname] = a.name.split(".")[-1]
    return bound, aliases


def _tokens(code: str) -> list[str]:
    out = []
    try:
        for t in tokenize.generate_tokens(io.StringIO(code).readline):
            if t.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            out.append(t.string if t.type != tokenize.NEWLINE else "\n")
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out = code.split()
    return out


def _shingles(tokens: list[str]) -> set[tuple[str, ...]]:
    if len(tokens) < K:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i:i + K]) for i in range(len(tokens) - K + 1)}


def defined_names(code: str) -> set[str]:
    """Top-level names ``code`` defines (the release's: the names the exercise asks for)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def fingerprint(code: str, keep: set[str] = frozenset()) -> set[tuple[str, ...]]:
    """The shingles of ``code`` after normalisation (see the module doc)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return _shingles(_tokens(code))
    bound, aliases = _bound(tree)
    units: list[list[ast.stmt]] = []
    rest: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        (units.append([node]) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
         else rest.append(node))
    if rest:
        units.append(rest)
    out: set[tuple[str, ...]] = set()
    for body in units:
        mod = _Canon(bound, set(keep), aliases).visit(ast.Module(body=body, type_ignores=[]))
        out |= _shingles(_tokens(ast.unparse(mod)))
    return out


def pairs(answers: dict[str, str], given: str = "", threshold: float = THRESHOLD,
          min_weight: float = MIN_WEIGHT) -> list[Pair]:
    """Pairs of ``answers`` (student -> answer code) at or above ``threshold``, most alike first.
    ``given``: the release's code for the same cells (removed, and its names kept)."""
    keep = defined_names(given)
    common = fingerprint(given, keep) if given.strip() else set()
    prints = {s: fingerprint(code, keep) - common for s, code in answers.items()}
    n = len(prints)
    df: dict[tuple[str, ...], int] = {}
    for fp in prints.values():
        for sh in fp:
            df[sh] = df.get(sh, 0) + 1
    weight = {sh: math.log(n / d) for sh, d in df.items()}
    out = []
    for a, b in itertools.combinations(sorted(prints), 2):
        union = prints[a] | prints[b]
        total = sum(weight[s] for s in union)
        if total < min_weight:
            continue
        sim = sum(weight[s] for s in prints[a] & prints[b]) / total
        if sim >= threshold:
            out.append(Pair(a, b, round(sim, 4)))
    return sorted(out, key=lambda p: (-p.similarity, p.a, p.b))


def answer_code(nb, solution_ids: set[str] | None = None) -> str:
    """The source of a notebook's answer cells (nbgrader solution cells), joined."""
    cells = [c for c in nb.cells if c.get("cell_type") == "code"
             and c.get("metadata", {}).get("nbgrader", {}).get("solution")
             and (solution_ids is None or c["metadata"]["nbgrader"].get("grade_id") in solution_ids)]
    return "\n\n".join(c.source for c in cells)
