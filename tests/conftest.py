"""Shared fixtures: paths of the course and its notebooks."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MPLBACKEND", "Agg")
HIDDEN = ROOT / "autograder" / "hidden"  # the hidden checks (course_hidden): source notebooks call them
if str(HIDDEN) not in sys.path:
    sys.path.insert(0, str(HIDDEN))
if str(HIDDEN) not in os.environ.get("PYTHONPATH", "").split(os.pathsep):  # kernels started by tests
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HIDDEN), os.environ.get("PYTHONPATH", "")) if p)


def source_notebooks() -> list[Path]:
    return sorted((ROOT / "source").glob("*/*.ipynb"))


def assignments() -> list[str]:
    return sorted({p.parent.name for p in source_notebooks()})


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
