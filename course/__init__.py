"""Helpers for the automatic differentiation course.

One module per concept: :mod:`course.rules` (every primitive's derivative,
once), :mod:`course.numeric` (numerical slopes), :mod:`course.checks` (the
messages of the notebooks' tests), :mod:`course.engine` (the reference scalar
engine) and the graph widgets.
"""
from __future__ import annotations

import os
import sys


def tools_on_path() -> None:
    """Put this environment's bin/ on PATH.

    Kernels started by .venv/bin/jupyter do not have .venv/bin on PATH, yet the
    graphviz package runs a program named ``dot`` (a link to graphviz-pure that
    ./run puts there), so graphs would not render without this; and nbgrader
    runs ``alembic`` by name (autograder/nbgrader_config.py calls this too).
    """
    bindir = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bindir not in parts:
        os.environ["PATH"] = os.pathsep.join([bindir, *[p for p in parts if p]])


tools_on_path()

__version__ = "0.1.0"
