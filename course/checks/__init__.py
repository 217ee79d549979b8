"""The notebooks' checks: one module per notebook, the messages they print, and how they ask.

* :mod:`course.checks.messages`: the text of a failed check (``report``,
  ``misconception``, ``diagnose``, ``worst``);
* :mod:`course.checks.answers`: how a check calls the student's code (``ask``), fails
  (``fail``, :class:`CheckFailed`) and is replayed by the grader on recorded answers;
* one module per notebook (``numerical_slopes``, ``chain_rule``, ``value_engine``,
  ``forward_reverse``, ``pytorch``) with the visible checks its test cells call.

The hidden checks (seeded random inputs, anti-hard-coding) live in a separate package,
``course_hidden``, that is not part of the student's copy of the course: the grader
makes it importable when it grades, and so do the project's tests and ``./run``. A
hidden block run without it fails with a message that says so, not a bare ImportError.
"""
from __future__ import annotations

import importlib.abc
import sys

from .answers import CheckFailed, StudentError, ask, check, fail
from .messages import MISCONCEPTION_TAG, diagnose, fmt, misconception, report, worst

__all__ = ["MISCONCEPTION_TAG", "diagnose", "fmt", "misconception", "report", "worst",
           "ask", "check", "fail", "CheckFailed", "StudentError"]

HIDDEN_PACKAGE = "course_hidden"


class _HiddenChecksMissing(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: ``import course_hidden`` that nothing else found gets a clear error."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001
        if fullname == HIDDEN_PACKAGE or fullname.startswith(HIDDEN_PACKAGE + "."):
            raise ModuleNotFoundError(
                f"{fullname}: the hidden tests are not part of the student's copy of the course. They run "
                "when the instructor grades (./run grade autograde) or checks the release (./run grade release); "
                "in a checkout of the course, run the source notebooks through ./run (it puts "
                "autograder/hidden on the path).", name=fullname)
        return None


if not any(isinstance(f, _HiddenChecksMissing) for f in sys.meta_path):
    sys.meta_path.append(_HiddenChecksMissing())
