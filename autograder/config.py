"""The course's configuration (``course.toml`` at the course root): per-assignment settings.

Each assignment has a table ``[assignments.NN_name]``; an assignment with no table gets the
defaults. Unknown keys are an error, so a typo never silently means "no setting".
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

FILE = "course.toml"


@dataclass(frozen=True)
class AssignmentConfig:
    """What the grading tool needs to know about one assignment."""

    name: str
    #: dotted names of ``course`` modules that answer this assignment's exercises: not importable
    #: in the sandbox while it is graded
    withheld: tuple[str, ...] = ()


@dataclass(frozen=True)
class CourseConfig:
    assignments: dict[str, AssignmentConfig] = field(default_factory=dict)

    def assignment(self, name: str) -> AssignmentConfig:
        return self.assignments.get(name) or AssignmentConfig(name)


def load(root: Path | str) -> CourseConfig:
    """Read ``course.toml`` under ``root`` (no file: every assignment gets the defaults)."""
    path = Path(root) / FILE
    if not path.is_file():
        return CourseConfig()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in fields(AssignmentConfig)} - {"name"}
    out: dict[str, AssignmentConfig] = {}
    for name, table in (data.get("assignments") or {}).items():
        unknown = set(table) - known
        if unknown:
            raise ValueError(f"{path}: [assignments.{name}] has unknown keys {sorted(unknown)}; known: {sorted(known)}")
        withheld = tuple(str(m) for m in table.get("withheld", ()))
        for m in withheld:
            if not (m == "course" or m.startswith("course.")):
                raise ValueError(f"{path}: [assignments.{name}] withheld {m!r} is not a module of the course package")
        out[name] = AssignmentConfig(name, withheld=withheld)
    return CourseConfig(out)
