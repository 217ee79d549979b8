"""Shared fixtures: paths of the course and its notebooks."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MPLBACKEND", "Agg")


def source_notebooks() -> list[Path]:
    return sorted((ROOT / "source").glob("*/*.ipynb"))


def assignments() -> list[str]:
    return sorted({p.parent.name for p in source_notebooks()})


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
