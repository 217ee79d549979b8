"""The student's working copy of the course: fetched from ``release/`` once, never overwritten.

``./run lab`` opens the notebooks in ``work/`` (ignored by git; the
environment variable ``COURSE_WORK`` chooses another folder), not in the
committed ``release/``, so a student's edits never make the checkout dirty and
a ``git pull`` of a corrected release never conflicts with them.

:func:`sync`, run by ``./run lab`` each time before JupyterLab starts, does
what nbgrader's ``fetch`` does the first time (copy each assignment) and then,
for each file of ``release/``:

* not in the working copy yet: copied (``fetched``);
* unchanged in ``release/`` since it was fetched: nothing;
* changed in ``release/``, and the student's copy is exactly as fetched (never
  edited): replaced by the new version (``updated``);
* changed in ``release/`` and edited by the student: the student's file is
  kept, the new version is written beside it as ``NAME.new-release.ipynb``
  and a note says so (``kept``); the note is printed every time until the
  student deletes or renames the new version's file.

What was fetched is remembered in ``work/.course/fetched.json`` (the sha256
of each file as copied, and of the version last written beside it), so
"edited" means "differs from what was copied"; once the student deletes the
``.new-release`` file, their copy counts as based on that version.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

MANIFEST = Path(".course") / "fetched.json"
NEW = ".new-release"


@dataclass(frozen=True)
class Change:
    """What :func:`sync` did to one file of the working copy."""

    path: Path  #: relative to the working copy
    kind: str  #: 'fetched', 'updated', 'kept' (edited by the student; new version beside it)
    beside: Path | None = None  #: the new release's file, when ``kind == 'kept'``

    def note(self, work: Path) -> str:
        if self.kind == "fetched":
            return f"fetched {self.path}"
        if self.kind == "updated":
            return f"updated {self.path} (you had not edited it)"
        return (f"{self.path} changed in release/ since you fetched it. Your edited copy is kept "
                f"as it is; the new version is beside it: {work / self.beside}. Compare them, "
                f"copy over what you want, then delete the new version's file.")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def release_files(release: Path) -> list[Path]:
    """The files a student gets: everything under ``release/`` but hidden files and checkpoints."""
    return sorted(p.relative_to(release) for p in release.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(release).parts))


def beside_name(rel: Path) -> Path:
    """``03/03_value_engine.ipynb`` -> ``03/03_value_engine.new-release.ipynb``."""
    return rel.with_name(rel.stem + NEW + rel.suffix)


def _load(work: Path) -> dict[str, dict[str, str]]:
    """{file: {"fetched": sha256 as copied, "offered": sha256 written beside, if any}}."""
    path = work / MANIFEST
    try:
        data = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        return {}  # unreadable: every existing file then counts as edited (never overwritten)
    return {str(k): dict(v) for k, v in data.items() if isinstance(v, dict)} \
        if isinstance(data, dict) else {}


def _save(work: Path, state: dict[str, dict[str, str]]) -> None:
    path = work / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(path)


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".partial")
    shutil.copyfile(src, tmp)
    tmp.replace(dst)  # atomic: a student never sees half a notebook


def sync(release: Path, work: Path) -> list[Change]:
    """Bring ``work`` up to date with ``release`` without losing a student's edit."""
    if not release.is_dir():
        raise FileNotFoundError(f"no release folder at {release}")
    work.mkdir(parents=True, exist_ok=True)
    state = _load(work)
    changes: list[Change] = []
    for rel in release_files(release):
        src, dst, key = release / rel, work / rel, rel.as_posix()
        new = digest(src)
        entry = state.get(key, {})
        if not dst.exists():
            _copy(src, dst)
            state[key] = {"fetched": new}
            changes.append(Change(rel, "fetched"))
            continue
        if entry.get("fetched") == new:
            continue
        mine = digest(dst)
        if mine == new:  # already the release's version (a lost record, or copied by hand)
            state[key] = {"fetched": new}
            continue
        if entry.get("fetched") and mine == entry["fetched"]:  # as fetched: never edited
            _copy(src, dst)
            state[key] = {"fetched": new}
            changes.append(Change(rel, "updated"))
            continue
        beside = work / beside_name(rel)
        if entry.get("offered") == new and not beside.exists():
            state[key] = {"fetched": new}  # the student has dealt with it and deleted the file
            continue
        if not beside.exists() or digest(beside) != new:
            _copy(src, beside)
        state[key] = {**entry, "offered": new}
        changes.append(Change(rel, "kept", beside_name(rel)))
    _save(work, state)
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("release", type=Path)
    parser.add_argument("work", type=Path)
    args = parser.parse_args(argv)
    try:
        changes = sync(args.release, args.work)
    except (OSError, FileNotFoundError) as err:
        print(f"[course] could not prepare the working copy: {err}", file=sys.stderr)
        return 1
    for c in changes:
        print(f"[course] {c.note(args.work)}", file=sys.stderr)
    print(f"[course] your working copy: {args.work} (not under version control; "
          "release/ stays as committed)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
