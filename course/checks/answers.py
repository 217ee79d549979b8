"""How a check talks to the student's code: it asks, and gets a plain answer.

Every call a check makes into the student's code goes through :func:`ask`, which
returns the result as *plain data* (numbers, strings, numpy arrays, lists, tuples,
dicts, or :class:`Foreign` for any other object) or raises :class:`StudentError`
when the student's code raised. A check never touches a student object any other
way, so its verdict depends only on the answers. That makes three modes possible,
with one copy of every check:

* **live** (the default: a student's JupyterLab): ask calls the code and the check
  judges at once;
* **record** (the grading kernel: the environment variable ``COURSE_ANSWERS`` names
  a file): as live, and every answer is also appended to that file as one JSON line
  tagged with the test cell that asked (the grader marks each test cell first:
  :func:`begin_cell`);
* **replay** (the grader's own trusted process, :func:`replay_cell`): the test
  cell's master source runs again with every student name bound to a
  :class:`Placeholder`, and ask hands back the recorded answers in order instead
  of calling anything. The verdict is made outside the student's process, by code
  the student cannot change: the student's process can only supply answers, and a
  wrong answer fails whoever supplied it.

A check is a function decorated with :func:`check`. When it fails it raises
:class:`CheckFailed`, whose message comes first in the notebook (IPython shows
``_render_traceback_``), followed by the student's own frames when their code
raised: the check modules' frames are never shown.
"""
from __future__ import annotations

import builtins
import functools
import json
import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TypeVar

import numpy as np

from .messages import misconception, report

__all__ = ["ask", "check", "fail", "CheckFailed", "StudentError", "Foreign", "Placeholder",
           "ReplayResult", "replay_cell", "plain", "ENV"]

ENV = "COURSE_ANSWERS"  #: names the file answers are recorded to in the grading kernel
STUB_TEXT = "Not written yet"  #: the start of the released stub's NotImplementedError message
MAX_ITEMS = 200_000  #: the largest answer (numbers in it) a question may return
MAX_TEXT = 4_000  #: characters kept of a string answer or an error message

F = TypeVar("F", bound=Callable[..., Any])


# ---------------------------------------------------------------------------
# Plain answers


@dataclass(frozen=True)
class Foreign:
    """An answer that is not plain data: the type's name and a short repr, nothing else."""

    type_name: str
    text: str

    def __str__(self) -> str:
        return f"a {self.type_name} ({self.text})"


def plain(x: Any, _budget: list[int] | None = None) -> Any:
    """``x`` as plain data: what a check may keep of the student's result.

    Python and numpy numbers become ``int``/``float``/``bool``, numeric arrays stay
    arrays (copied), lists, tuples and string-keyed dicts are converted item by item,
    anything else becomes a :class:`Foreign` (its type's name and repr, so a message
    can say "you returned a Value"). Subclasses are not trusted: a subclass of float
    that compares equal to everything becomes a plain float.
    """
    budget = _budget if _budget is not None else [MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError(f"the answer is larger than {MAX_ITEMS} items")
    if x is None or type(x) in (bool, np.bool_):
        return None if x is None else bool(x)
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    if isinstance(x, str):
        return str.__str__(x)[:MAX_TEXT]
    if type(x) is Foreign:
        return x
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor) and not x.dtype.is_complex:  # a tensor is its numbers
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        budget[0] -= x.size
        if budget[0] < 0:
            raise ValueError(f"the answer is larger than {MAX_ITEMS} items")
        return np.array(x, dtype=x.dtype.newbyteorder("=") if x.dtype.kind != "b" else bool, copy=True)
    if isinstance(x, tuple):
        return tuple(plain(v, budget) for v in tuple.__iter__(x))
    if isinstance(x, list):
        return [plain(v, budget) for v in list.__iter__(x)]
    if isinstance(x, dict) and all(isinstance(k, str) for k in dict.keys(x)):
        return {str.__str__(k): plain(v, budget) for k, v in dict.items(x)}
    try:
        text = repr(x)
    except Exception as e:  # noqa: BLE001  (a student's __repr__ may raise)
        text = f"repr raised {type(e).__name__}"
    return Foreign(type(x).__name__, str(text)[:200])


def encode(x: Any) -> Any:
    """Plain data as JSON-ready values (arrays, tuples, dicts and Foreign tagged)."""
    if isinstance(x, np.ndarray):
        return {"ndarray": [x.dtype.str, list(x.shape), x.ravel().tolist()]}
    if isinstance(x, tuple):
        return {"tuple": [encode(v) for v in x]}
    if isinstance(x, list):
        return [encode(v) for v in x]
    if isinstance(x, dict):
        return {"dict": [[k, encode(v)] for k, v in x.items()]}
    if isinstance(x, Foreign):
        return {"foreign": [x.type_name, x.text]}
    return x


def decode(x: Any) -> Any:
    """The inverse of :func:`encode`, accepting only what it makes (anything else: ValueError)."""
    if isinstance(x, list):
        return [decode(v) for v in x]
    if isinstance(x, dict):
        if len(x) != 1:
            raise ValueError("not an encoded answer")
        (tag, v), = x.items()
        if tag == "ndarray":
            dtype, shape, data = v
            if np.dtype(dtype).kind not in "biuf":
                raise ValueError(f"an answer array of dtype {dtype}")
            return np.array(data, dtype=np.dtype(dtype)).reshape([int(n) for n in shape])
        if tag == "tuple":
            return tuple(decode(e) for e in v)
        if tag == "dict":
            return {str(k): decode(e) for k, e in v}
        if tag == "foreign":
            return Foreign(str(v[0]), str(v[1]))
        raise ValueError(f"unknown answer tag {tag!r}")
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise ValueError(f"not an encoded answer: {type(x).__name__}")


# ---------------------------------------------------------------------------
# Failures


class CheckFailed(AssertionError):
    """A check's verdict: what was checked, expected, got, and a hint. Shown message first."""

    def __init__(self, message: str, trace: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.trace = trace  #: the student's own frames, when their code raised

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        lines = self.message.splitlines()
        if self.trace:
            lines += ["", "Where it happened in your code:"] + ["  " + t for t in self.trace.splitlines()]
        return lines


class StudentError(Exception):
    """The student's code raised while a check asked it something (carried as plain data)."""

    def __init__(self, what: str, name: str, names: tuple[str, ...], message: str, trace: str = "") -> None:
        super().__init__(f"{what} raised {name}: {message}")
        self.what, self.name, self.names, self.message, self.trace = what, name, names, message, trace

    def is_a(self, name: str) -> bool:
        """Whether the student's exception was a ``name`` (or a subclass of it)."""
        return name in self.names

    @property
    def not_written(self) -> bool:
        """The released stub's ``NotImplementedError``: the exercise is not done yet."""
        return self.is_a("NotImplementedError")

    def as_record(self) -> dict:
        return {"name": self.name, "names": list(self.names), "message": self.message, "trace": self.trace}


class ReplayViolation(Exception):
    """A check touched a student object outside :func:`ask` (a bug in the check)."""


def fail(what: str, **details: Any) -> None:
    """Stop the check: raise :class:`CheckFailed` with :func:`course.checks.report`'s message."""
    raise CheckFailed(report(what, **details))


def _student_trace(tb: Any) -> str:
    """The frames of a traceback outside the check modules, as IPython would name them."""
    own = (os.path.dirname(os.path.abspath(__file__)),)
    frames = [f for f in traceback.extract_tb(tb)
              if not os.path.abspath(f.filename).startswith(own) and "course_hidden" not in f.filename]
    ip = getattr(builtins, "get_ipython", lambda: None)()
    lines = []
    for f in frames[-4:]:
        where = f.filename
        if ip is not None:
            try:
                where = " ".join(ip.compile.format_code_name(f.filename) or (f.filename,))
            except Exception:  # noqa: BLE001
                pass
        lines.append(f"{where}, line {f.lineno}, in {f.name}")
        if f.line:
            lines.append(f"    {f.line.strip()}")
    return "\n".join(lines)


def _error_text(e: BaseException) -> str:
    try:
        return str(e)[:MAX_TEXT]
    except Exception:  # noqa: BLE001
        return f"({type(e).__name__} whose message cannot be shown)"


# ---------------------------------------------------------------------------
# Modes


@dataclass
class _Replay:
    records: list[dict]
    pos: int = 0
    problems: list[str] = field(default_factory=list)

    def next(self, kind: str, key: str) -> dict:
        if self.pos >= len(self.records):
            raise _Missing(f"no answer was recorded for {key!r}")
        rec = self.records[self.pos]
        self.pos += 1
        if rec.get("kind") != kind or rec.get("key") != key:
            raise _Missing(f"the recorded answers do not follow the check: expected {kind} {key!r}, "
                           f"found {rec.get('kind')} {rec.get('key')!r}")
        return rec


class _Missing(Exception):
    """The recorded answers run out or do not match the questions."""


_STATE: dict[str, Any] = {"replay": None, "depth": 0, "question": 0, "cell_id": None}


def _recording_path() -> str | None:
    return os.environ.get(ENV) or None


def begin_cell(cell_id: str) -> None:
    """Tag the answers recorded from now on with ``cell_id``: the grader runs this, in a cell of
    its own, right before each test cell (``autograder.verdict.with_markers``)."""
    _STATE["cell_id"] = str(cell_id)


def _record(kind: str, key: str, **data: Any) -> None:
    path = _recording_path()
    if not path or _STATE["replay"] is not None:
        return
    line = json.dumps({"cell_id": _STATE.get("cell_id"), "kind": kind, "key": key, **data})
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def ask(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``plain(fn(*args, **kwargs))``: the student's answer to one question.

    ``what`` says what is asked, in the student's terms (it appears in messages and
    keys the recorded answer). Raises :class:`StudentError` when the student's code
    raises. In replay, ``fn`` is never called: the recorded answer comes back.
    """
    __tracebackhide__ = True
    rep: _Replay | None = _STATE["replay"]
    _STATE["question"] += 1
    key = f"{_STATE['question']}: {what}"
    if rep is not None:
        rec = rep.next("answer", key)
        if "error" in rec:  # recorded by the student's process: keep it as short as a live one
            e = rec["error"]
            raise StudentError(what, str(e["name"])[:100], tuple(str(n)[:100] for n in list(e["names"])[:50]),
                               str(e["message"])[:MAX_TEXT], str(e.get("trace", ""))[:MAX_TEXT])
        return decode(rec["answer"])
    try:
        result = fn(*args, **kwargs)
        answer = plain(result)
    except (KeyboardInterrupt, SystemExit):
        raise
    except RecursionError as e:
        err = StudentError(what, "RecursionError", ("RecursionError", "RuntimeError", "Exception"),
                           _error_text(e), "(recursion: the stack of calls grew too deep)")
        _record("answer", key, error=err.as_record())
        raise err from None
    except BaseException as e:  # noqa: BLE001  (whatever the student's code raised)
        names = tuple(c.__name__ for c in type(e).__mro__)
        err = StudentError(what, type(e).__name__, names, _error_text(e), _student_trace(e.__traceback__))
        _record("answer", key, error=err.as_record())
        raise err from e
    _record("answer", key, answer=encode(answer))
    return answer


def _describe(err: StudentError) -> str:
    if err.not_written:
        return (f"Check stopped: {err.what} raised NotImplementedError: {err.message}\n"
                "  hint:      this exercise is not written yet: replace the raise line with your code, "
                "run that cell, then this one")
    return (f"Check stopped: {err.what} raised {err.name}: {err.message}\n"
            "  hint:      your code raised an error while it was checked: see where below, fix it, "
            "run its cell again, then this one")


def check(fn: F) -> F:
    """Make ``fn`` a check: its failures, and errors in the student's code, become :class:`CheckFailed`."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        __tracebackhide__ = True
        rep: _Replay | None = _STATE["replay"]
        key = f"{fn.__module__}.{fn.__qualname__}"
        if _STATE["depth"] == 0:
            _STATE["question"] = 0
            if rep is not None:
                rep.next("check", key)
            else:
                _record("check", key)
        _STATE["depth"] += 1
        try:
            fn(*args, **kwargs)
        except StudentError as e:
            raise CheckFailed(_describe(e), e.trace) from None
        finally:
            _STATE["depth"] -= 1
        return None

    run.__is_check__ = True  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]


# ---------------------------------------------------------------------------
# Replay: the trusted verdict


class Placeholder:
    """Stands for a student's object in replay: any use outside :func:`ask` is an error."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _touched(self, *_: Any, **__: Any) -> Any:
        raise ReplayViolation(f"a check used the student's {object.__getattribute__(self, '_name')!r} "
                              "outside ask()")

    def __getattr__(self, name: str) -> Any:
        self._touched()

    def __repr__(self) -> str:
        return f"<the student's {object.__getattribute__(self, '_name')}>"

    __call__ = __setattr__ = __getitem__ = __setitem__ = __iter__ = __len__ = __bool__ = _touched
    __float__ = __int__ = __index__ = __eq__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = _touched
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _touched
    __pow__ = __rpow__ = __neg__ = __contains__ = __enter__ = _touched


class _Names(dict):
    """A test cell's namespace in replay: imports work, every other name is a Placeholder."""

    def __missing__(self, name: str) -> Any:
        if hasattr(builtins, name):
            return getattr(builtins, name)
        return Placeholder(name)


@dataclass
class ReplayResult:
    """The trusted verdict on one test cell."""

    passed: bool
    error: str = ""  #: exception class name when it failed ("CheckFailed", ...)
    message: str = ""  #: what the student sees
    trace: str = ""
    problems: list[str] = field(default_factory=list)  #: answers missing, out of order, or left over
    checks: int = 0  #: checks the cell ran

    @property
    def lines(self) -> list[str]:
        return CheckFailed(self.message, self.trace)._render_traceback_() if self.message else []


def replay_cell(source: str, records: list[dict]) -> ReplayResult:
    """Run a test cell's (trusted, master) ``source`` on recorded answers; never calls student code.

    ``records`` are the JSON objects recorded in that cell, in order. The cell passes
    when it runs to the end without an exception, as nbgrader decides; answers that
    are missing, out of order or left over are listed in ``problems``.
    """
    rep = _Replay(list(records))
    old = _STATE["replay"], _STATE["depth"], _STATE["question"]
    _STATE["replay"], _STATE["depth"], _STATE["question"] = rep, 0, 0
    ns = _Names(__name__="__main__", __builtins__=builtins)
    result = ReplayResult(True)
    try:
        exec(compile(source, "<test cell>", "exec"), {"__builtins__": builtins, "__name__": "__main__"}, ns)
    except CheckFailed as e:
        result = ReplayResult(False, "CheckFailed", e.message, e.trace)
    except _Missing as e:
        result = ReplayResult(False, "NoAnswer", f"Check not answered: {e}")
        rep.problems.append(str(e))
    except ReplayViolation as e:
        result = ReplayResult(False, "ReplayViolation", f"Check could not be replayed: {e}")
        rep.problems.append(str(e))
    except Exception as e:  # noqa: BLE001  (an error outside any check)
        result = ReplayResult(False, type(e).__name__, _error_text(e))
    finally:
        _STATE["replay"], _STATE["depth"], _STATE["question"] = old
    if result.passed and rep.pos < len(rep.records):
        rep.problems.append(f"{len(rep.records) - rep.pos} recorded answer(s) that no check asked for")
    result.problems = rep.problems
    result.checks = sum(1 for r in rep.records[:rep.pos] if r.get("kind") == "check")
    return result


def read_records(text: str) -> Iterator[dict]:
    """The records of an answers file; lines that are not records are skipped."""
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            continue
        if isinstance(rec, dict) and rec.get("kind") in ("check", "answer") and isinstance(rec.get("key"), str):
            yield rec
