"""Generate the student versions in release/ from source/, and check them.

``generate`` runs ``nbgrader generate_assignment`` in a scratch course folder
(so the instructor's gradebook is never touched) and copies the result into
place. ``differences`` compares two release trees ignoring volatile metadata.
``check`` proves the pipeline's promise for every exercise: the source notebook
passes all of its tests and the released notebook fails every one of them,
each with a message (the stub's NotImplementedError says what to do).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from . import notebooks, textsource

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"

#: notebook metadata that differs between machines or runs and means nothing
VOLATILE_NOTEBOOK_KEYS = ("widgets", "toc", "vscode", "celltoolbar")


def assignments(source: Path = SOURCE) -> list[str]:
    """Assignment folders in course order (they are numbered)."""
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run this environment's nbgrader (its config puts the environment's bin/ on PATH)."""
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd,
                          capture_output=True, text=True)


def generate(dest: Path = RELEASE, names: list[str] | None = None, source: Path = SOURCE) -> list[Path]:
    """Regenerate ``dest/<assignment>/`` for each assignment; return the notebooks written."""
    names = assignments(source) if names is None else names
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        course = Path(tmp)
        shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        shutil.copytree(ROOT / "autograder", course / "autograder",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for name in names:
            # the text source (NN_name.py) holds the solutions and the hidden tests: never released
            shutil.copytree(source / name, course / "source" / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", f"{name}.py"))
            proc = nbgrader("generate_assignment", name, "--no-db", "--force",
                            f"--CourseDirectory.root={course}", cwd=course)
            out = course / "release" / name
            if proc.returncode != 0 or not out.is_dir():
                raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{proc.stdout}\n{proc.stderr}")
            target = dest / name
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(out, target)
            for nb in sorted(target.glob("*.ipynb")):
                normalize_file(nb)
                written.append(nb)
    return written


def normalize(nb: dict) -> dict:
    """Drop what varies between runs and machines; keep everything a student sees."""
    nb = json.loads(json.dumps(nb))
    for k in VOLATILE_NOTEBOOK_KEYS:
        nb.get("metadata", {}).pop(k, None)
    nb.get("metadata", {}).get("language_info", {}).pop("version", None)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        cell.get("metadata", {}).pop("execution", None)
        cell.get("metadata", {}).pop("collapsed", None)
    return nb


def normalize_file(path: Path) -> None:
    """Normalise a generated notebook and give its cells the source's stable ids."""
    nb = nbformat.from_dict(normalize(json.loads(path.read_text(encoding="utf-8"))))
    textsource.write_notebook(textsource.stable_ids(nb), path)


def differences(a: Path, b: Path) -> list[str]:
    """What differs between two release trees, ignoring volatile metadata."""
    out: list[str] = []
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    for rel in sorted(files_a ^ files_b):
        out.append(f"{rel}: only in {'the committed release' if rel in files_a else 'the regenerated release'}")
    for rel in sorted(files_a & files_b):
        pa, pb = a / rel, b / rel
        if rel.suffix == ".ipynb":
            na = normalize(json.loads(pa.read_text(encoding="utf-8")))
            nb_ = normalize(json.loads(pb.read_text(encoding="utf-8")))
            if na != nb_:
                out.append(f"{rel}: {_first_difference(na, nb_)}")
        elif pa.read_bytes() != pb.read_bytes():
            out.append(f"{rel}: contents differ")
    return out


def _first_difference(a: dict, b: dict) -> str:
    ca, cb = a.get("cells", []), b.get("cells", [])
    for i, (x, y) in enumerate(zip(ca, cb)):
        if x != y:
            src = "".join(x.get("source", ""))[:80]
            return f"cell {i} differs (starts {src!r})"
    if len(ca) != len(cb):
        return f"{len(ca)} cells against {len(cb)}"
    return "notebook metadata differs"


def check(name: str, *, in_kernel: bool = True) -> list[str]:
    """Problems with one assignment: a source test that fails, a released test that passes."""
    problems: list[str] = []
    def run(path: Path) -> notebooks.RunResult:
        return notebooks.run_in_kernel(path)[0] if in_kernel else notebooks.run_in_process(path)

    for src in sorted((SOURCE / name).glob("*.ipynb")):
        rel = RELEASE / name / src.name
        res = run(src)
        if not res.tests:
            problems.append(f"{src.relative_to(ROOT)}: has no test cells")
        for g in res.failed():
            problems.append(f"{src.relative_to(ROOT)}: source test {g} fails: {res.tests[g].message[:300]}")
        for cell, err, msg in res.errors:
            problems.append(f"{src.relative_to(ROOT)}: cell {cell} raised {err}: {msg[:300]}")
        if not rel.exists():
            problems.append(f"{rel.relative_to(ROOT)}: missing (run ./run release)")
            continue
        res = run(rel)
        for g in res.passed():
            problems.append(f"{rel.relative_to(ROOT)}: released test {g} passes with no solution written")
        for g in res.failed():
            if not res.tests[g].message.strip():
                problems.append(f"{rel.relative_to(ROOT)}: released test {g} fails with no message")
    return problems
