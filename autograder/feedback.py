"""``feedback``: one HTML page per student, with no hidden test and nothing that runs.

:func:`feedback` runs nbgrader's ``generate_feedback`` for each student on its own, with
:class:`StripHiddenTests` first among its preprocessors:

* the hidden tests' source is cut from every test cell, and an error's traceback is reduced
  to the check's message (a traceback quotes the failing line of a hidden test);
* hidden test text is cut from every output too, however it got there (student code can
  read the cells being run and print them): an output line that holds a hidden line, or any
  :data:`WINDOW` characters of one, is replaced by a note; a rich output (HTML, SVG, JSON...)
  that holds one is replaced whole. Text the release shows anyway is never cut;
* every output and markdown cell is made safe to render (:func:`autograder.safe_html.sanitize_outputs`).

One student's notebook never stops another's page: a failure is recorded with its reason
and the loop goes on (:class:`FeedbackRun`).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, List, Unicode

from .safe_html import sanitize_outputs

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)
MIN_CHARS = 8  #: a hidden line shorter than this (``else:``, ``)``) gives nothing away
WINDOW = 24  #: this many consecutive characters of a hidden line count as that line
CUT = "[autograder: text of a hidden test was removed]"
_TAGS = re.compile(r"<[^>]*>")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _decoded(text: str) -> str:
    """``text`` with Python/JSON string escapes undone (a repr of the source is one long line)."""
    return (text.replace("\\\\", "\x00").replace("\\n", "\n").replace("\\t", "\t").replace("\\'", "'")
            .replace('\\"', '"').replace("\x00", "\\"))


def hidden_lines(master_nb, release_nb=None) -> list[str]:
    """The lines of ``master_nb``'s hidden test blocks (markers included), whitespace collapsed, that say something
    (:data:`MIN_CHARS` or more) and that the release does not show anyway."""
    given = _norm("\n".join(c.source for c in release_nb.cells)) if release_nb is not None else ""
    out: list[str] = []
    modules: list[str] = []
    for cell in master_nb.cells:
        for block in HIDDEN.findall(cell.get("source", "")) if cell.get("cell_type") == "code" else []:
            modules += [m for m in HIDDEN_MODULE.findall(block) if m not in modules]
            for line in block.splitlines():  # the markers too: they say where hidden text was
                n = _norm(line)
                if len(n) >= MIN_CHARS and n not in given and n not in out:
                    out.append(n)
    for text in map(_module_source, modules):  # the hidden checks' own code is a hidden test's text too
        for line in text.splitlines():
            n = _norm(line)
            if len(n) >= MIN_CHARS and n not in given and n not in out:
                out.append(n)
    return out


#: a hidden block's import of the hidden checks (``from course_hidden.numerical_slopes import ...``)
HIDDEN_MODULE = re.compile(r"^\s*from\s+(course_hidden\.\w+)\s+import\b", re.M)


def _module_source(name: str) -> str:
    """The source of a hidden-checks module, found as the grader imports it ('' if it cannot be)."""
    import importlib.util
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return ""
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return ""
    try:
        return Path(spec.origin).read_text(encoding="utf-8")
    except OSError:
        return ""


class HiddenText:
    """Finds hidden test text in any string: a whole hidden line, or :data:`WINDOW` characters of one
    that the release does not show."""

    def __init__(self, lines: list[str], given: str = ""):
        given = _norm(given)
        self.short = {ln for ln in lines if len(ln) < WINDOW}
        self.windows = {ln[i:i + WINDOW] for ln in lines if len(ln) >= WINDOW
                        for i in range(len(ln) - WINDOW + 1)} - _windows(given)

    def __bool__(self) -> bool:
        return bool(self.short or self.windows)

    def _hit(self, line: str) -> bool:
        n = _norm(line)
        return any(s in n for s in self.short) or any(n[i:i + WINDOW] in self.windows
                                                      for i in range(len(n) - WINDOW + 1))

    def found_in(self, text: str) -> bool:
        return bool(self) and any(self._hit(ln) for t in (text, _decoded(text)) for ln in t.splitlines())

    def scrub(self, text: str) -> str:
        """``text`` with every line that holds hidden test text replaced by :data:`CUT`."""
        if not self:
            return text
        lines = text.splitlines(keepends=True)
        out = [CUT + ("\n" if ln.endswith("\n") else "") if self.found_in(ln) else ln for ln in lines]
        return "".join(out)


def _windows(text: str) -> set[str]:
    return {text[i:i + WINDOW] for i in range(len(text) - WINDOW + 1)}


def _as_text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def scrub_output(o: dict, hidden: HiddenText) -> None:
    """Cut hidden test text from one output, in place."""
    kind = o.get("output_type")
    if kind == "stream":
        o["text"] = hidden.scrub(_as_text(o.get("text", "")))
    elif kind == "error":
        o["ename"] = hidden.scrub(str(o.get("ename", "")))
        o["evalue"] = hidden.scrub(str(o.get("evalue", "")))
        o["traceback"] = [hidden.scrub(_as_text(t)) for t in o.get("traceback", [])]
    elif kind in ("display_data", "execute_result"):
        data = o.get("data", {})
        for mime in list(data):
            text = _as_text(data[mime])
            if mime == "text/plain":
                data[mime] = hidden.scrub(text)
            elif hidden.found_in(text) or hidden.found_in(html.unescape(_TAGS.sub(" ", text))):
                del data[mime]
                data.setdefault("text/plain", CUT)


class StripHiddenTests(Preprocessor):
    """Remove hidden tests' source, tracebacks and any hidden test text in outputs from what a student
    gets back, and make every output safe to render."""

    enabled = Bool(True)  # nbconvert runs a preprocessor only when enabled
    hidden_lines = List(Unicode(), help="hidden test lines (see hidden_lines()) to cut from outputs").tag(config=True)
    given_text = Unicode("", help="text of the release notebook: never cut").tag(config=True)

    def preprocess(self, nb, resources):
        self._hidden = HiddenText(list(self.hidden_lines), self.given_text)
        nb, resources = super().preprocess(nb, resources)
        sanitize_outputs(nb)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        hidden = getattr(self, "_hidden", None) or HiddenText(list(self.hidden_lines), self.given_text)
        m = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and m.get("grade") and not m.get("solution"):
            cell.source = HIDDEN.sub("# (hidden tests are not shown)\n", cell.source)
            for o in cell.get("outputs", []):
                if o.get("output_type") == "error":
                    o["traceback"] = [f"{o.get('ename', 'Error')}: {o.get('evalue', '')}"]
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            scrub_output(o, hidden)
        return cell, resources


@dataclass
class FeedbackRun:
    """What :func:`feedback` did: pages written, and students without a page, with why."""

    written: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _config(course, assignment: str):
    import nbformat
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades
    from .isolate import ROOT
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "autograder")).load_config()
    c = Config()
    c.merge(cfg)
    c.CourseDirectory.root = str(course.root)
    c.CourseDirectory.db_url = course.db_url
    c.GenerateFeedback.preprocessors = [StripHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]
    c.HTMLExporter.template_name = "feedback"
    lines: list[str] = []
    given: list[str] = []
    for nb_path in course.release_notebooks(assignment):
        release = nbformat.read(nb_path, as_version=4)
        lines += hidden_lines(course.master(assignment, nb_path.name), release)
        given += [cell.source for cell in release.cells]
    c.StripHiddenTests.hidden_lines = lines
    c.StripHiddenTests.given_text = "\n".join(given)
    return c


def feedback(root: Path | str, assignment: str, students: list[str] | None = None) -> FeedbackRun:
    """HTML feedback for every autograded submission of ``assignment`` (see the module doc)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from .batch import Course

    course = Course(root)
    c = _config(course, assignment)
    api = NbGraderAPI(CourseDirectory(config=c), config=c)
    run = FeedbackRun()
    for folder in sorted((course.root / "autograded").glob(f"*/{assignment}")):
        student = folder.parent.name
        if students and student not in students or not list(folder.glob("*.ipynb")):
            continue
        try:
            res = api.generate_feedback(assignment, student)
            ok, why = bool(res.get("success")), str(res.get("error") or res.get("log") or "")
        except Exception as e:  # noqa: BLE001  (one notebook never stops the others)
            ok, why = False, f"{type(e).__name__}: {e}"
        pages = sorted((course.root / "feedback" / student / assignment).glob("*.html"))
        if ok and pages:
            run.written += pages
        else:
            run.failed[student] = _reason(why or "no page was written")
    return run


def _reason(log: str) -> str:
    """The last meaningful line of nbgrader's log: what went wrong."""
    lines = [ln.strip() for ln in log.strip().splitlines() if ln.strip()]
    errs = [ln for ln in lines if "Error" in ln or "error" in ln]
    return (errs or lines or ["unknown error"])[-1][:300]
