"""Honest work is never scored 0 by a false alarm (issue 15, "honest work scored 0").

A class of correct submissions, each written the way an honest student may write it (stderr
text, warnings, a ``threading.Thread`` subclass, extra imports, helper classes with
``__eq__``, ``setattr`` and a constant ``__bool__``, print-heavy code, plots, IPython magics,
``sys.stdout.flush()``), graded once through the real pipeline (sandboxed kernels, two
workers). Every one must score exactly what it earned, 6 of 6, with the status ``graded`` and
no hostile flag: the false-alarm rate is measured here, and it is zero. A suspicion the scan
keeps (``review:``) costs nothing and is listed for a look.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import fixture_course as fc  # noqa: E402

from autograder import batch, isolate  # noqa: E402

pytestmark = pytest.mark.slow
SQ, SL = fc.SQUARE, fc.SLOPE
LIMITS = isolate.Limits(cell_timeout=20, timeout=90, nproc=128)

HONEST = {  # student -> (square cell, slope cell); each is correct
    "stderr_text": ("import sys\nprint('computing squares', file=sys.stderr)\nsys.stderr.write('done\\n')\n" + SQ, SL),
    "warnings": ("import warnings\nwarnings.warn('this is slow', RuntimeWarning)\n"
                 "def square(x):\n    warnings.warn('squares ahead', UserWarning)\n    return x * x\n", SL),
    "thread_subclass": ("import threading\n"
                        "class Worker(threading.Thread):\n"
                        "    def __init__(self, xs):\n        super().__init__(daemon=True)\n"
                        "        self.xs, self.out = xs, []\n"
                        "    def run(self):\n        self.out = [x * x for x in self.xs]\n"
                        "w = Worker([1, 2, 3])\nw.start()\nw.join()\nprint(w.out)\n" + SQ, SL),
    "thread_ticking": ("import threading, time\n"
                       "def _tick():\n    for _ in range(40):\n        print('.', end='', flush=True)\n"
                       "        time.sleep(0.05)\n"
                       "threading.Thread(target=_tick, daemon=True).start()\n" + SQ, SL),
    "extra_imports": ("import math, itertools, functools, collections, statistics, fractions, operator, random\n"
                      "import numpy as np\nfrom functools import lru_cache\n"
                      "@lru_cache(maxsize=None)\ndef _sq(x):\n    return operator.mul(x, x)\n"
                      "def square(x):\n    return _sq(x)\n",
                      "import math\ndef slope(f, x, h):\n    return math.fsum([f(x + h), -f(x - h)]) / (2 * h)\n"),
    "helper_classes": ("class Point:\n"
                       "    def __init__(self, x):\n        setattr(self, 'x', x)\n"
                       "    def __eq__(self, other):\n        return isinstance(other, Point) and self.x == other.x\n"
                       "    def __hash__(self):\n        return hash(self.x)\n"
                       "    def __lt__(self, other):\n        return self.x < other.x\n"
                       "    def __bool__(self):\n        return True\n"
                       "    def __repr__(self):\n        return f'Point({self.x})'\n"
                       "assert Point(2) == Point(2) and Point(1) < Point(2)\n"
                       "def square(x):\n    return Point(x).x * Point(x).x\n", SL),
    "print_heavy": ("for i in range(400):\n    print(f'step {i}: {i * i}')\n"
                    "def square(x):\n    print('square of', x)\n    return x * x\n", SL),
    "plots": ("%matplotlib inline\nimport matplotlib.pyplot as plt\nimport numpy as np\n"
              "xs = np.linspace(-2, 2, 50)\nplt.plot(xs, xs * xs)\nplt.title('x squared')\nplt.show()\n" + SQ, SL),
    "stdout_flush": ("import sys\nprint('working...', end='')\nsys.stdout.flush()\nprint(' ok')\n" + SQ, SL),
    "introspection": ("import inspect, sys\nprint(inspect.signature(print) is not None, sys.version_info >= (3, 8))\n"
                      "print(sys.getrecursionlimit())\n" + SQ, SL),
    "ipython_display": ("from IPython.display import display, Markdown\ndisplay(Markdown('**my answer**'))\n" + SQ, SL),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("honest")
    root = fc.copy_course(fc.cached_course(base), base / "course")
    for student, (sq, sl) in HONEST.items():
        fc.submit(root, student, fc.student_notebook(root / "release", {"square": sq, "slope": sl}))
    results, _ = batch.autograde(root, "ps1", workers=2, limits=LIMITS, progress=False)
    return {r.student: r.to_dict() for r in results}


def test_every_honest_variation_was_graded(graded):
    assert sorted(graded) == sorted(HONEST)


@pytest.mark.parametrize("student", sorted(HONEST))
def test_honest_variation_scores_what_it_earned_with_no_alarm(graded, student):
    res = graded[student]
    hostile = [f for f in res["flags"] if f.startswith(("hostile", "structure"))]
    assert (res["status"], res["score"], hostile) == ("graded", fc.MAX_SCORE, []), res["flags"]


def test_false_alarm_rate_on_the_honest_set_is_zero(graded):
    alarms = [s for s, r in graded.items() if r["status"] != "graded" or r["score"] != fc.MAX_SCORE]
    rate = len(alarms) / len(graded)
    print(f"false alarms: {len(alarms)}/{len(graded)} = {rate:.0%} {alarms}")
    assert rate == 0
