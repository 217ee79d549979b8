"""``report A --html``: the class report as one self-contained HTML page.

Nothing is fetched when the page is viewed: the figures (matplotlib, drawn here) are PNG
data URLs, the style sheet is inline, and there is no script at all; a Content-Security-
Policy in the page forbids scripts and every network request, so even a student's text that
slipped through could not run or phone home. Every text that comes from a submission
(student ids, flags) is HTML-escaped.

Sections (each an element with a fixed ``id``, which the browser test reads): ``statuses``,
``scores`` (distribution of the scores after late penalties), ``pass-rates`` (each test's
pass rate), ``misconceptions`` (heat map: tag x test, students whose failing check named the
tag), ``look`` (submissions to look at: withheld, structure changed, crashed, timed out,
malformed, unreadable, review flags, late or without a timestamp; with their flags and a link
to their feedback page), ``similar`` (pairs from :mod:`autograder.similarity`, for a look,
never a verdict) and ``isolation`` (the sandbox in force when the class was graded).
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import late, similarity
from .batch import Course
from .export import Grade, grades
from .grading import MISSING, STATUSES

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
MERIT = ("graded", "timed out", "crashed")  #: graded on their merits: counted in pass rates
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;
vertical-align:top}th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
img.figure{max-width:100%;border:1px solid #eee}.flags{font-family:monospace;font-size:12px;max-width:560px}
.muted{color:#777}
"""


@dataclass
class ClassData:
    """Everything the page shows, computed once."""

    assignment: str
    grades: list[Grade]
    test_ids: list[str]
    pass_rates: dict[str, tuple[int, int]]  #: test -> (passed, graded on merit)
    tags: dict[str, Counter]  #: tag -> test -> students
    tag_students: dict[str, set]  #: tag -> the students it fired for (any test)
    pairs: list[similarity.Pair]
    isolation: dict


def _test_ids(course: Course, assignment: str) -> list[str]:
    from .notebooks import is_test_cell, nbgrader_meta
    ids = []
    for nb_path in course.release_notebooks(assignment):
        ids += [nbgrader_meta(c)["grade_id"] for c in course.master(assignment, nb_path.name).cells if is_test_cell(c)]
    return ids


def _pairs(course: Course, assignment: str, students: list[str]) -> list[similarity.Pair]:
    given = "\n\n".join(similarity.answer_code(nbformat.read(p, as_version=4))
                        for p in course.release_notebooks(assignment))
    answers = {}
    for s in students:
        code = []
        for nb_path in sorted((course.root / "autograded" / s / assignment).glob("*.ipynb")):
            try:
                code.append(similarity.answer_code(nbformat.read(nb_path, as_version=4)))
            except Exception:  # noqa: BLE001  (one unreadable notebook never stops the report)
                continue
        if code:
            answers[s] = "\n\n".join(code)
    return similarity.pairs(answers, given)


def collect_data(root: Path | str, assignment: str) -> ClassData:
    course = Course(root)
    gs = grades(root, assignment)
    ids = _test_ids(course, assignment)
    from .report import records
    recs = {r["student"]: r for r in records(root, assignment)}
    merit = [recs[g.student] for g in gs if g.status in MERIT]
    rates = {}
    for gid in ids:
        passed = sum(1 for r in merit for t in r.get("tests", []) if t["grade_id"] == gid and t["score"] >= t["points"] > 0)
        rates[gid] = (passed, len(merit))
    tags: dict[str, Counter] = {}
    who: dict[str, set] = {}
    for r in merit:
        for t in r.get("tests", []):
            for tag in t.get("tags", []):
                tags.setdefault(tag, Counter())[t["grade_id"]] += 1
                who.setdefault(tag, set()).add(r["student"])
    info_path = course.root / "grading" / assignment / "_batch.json"
    try:
        info = json.loads(info_path.read_text()) if info_path.exists() else {}
    except ValueError:
        info = {"isolation": {"record": "unreadable"}}
    return ClassData(assignment, gs, ids, rates, tags, who, _pairs(course, assignment, [g.student for g in gs]), info)


# ------------------------------------------------------------------ figures
def _png(fig) -> str:
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure_scores(d: ClassData) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    scores = [g.score for g in d.grades if g.status != MISSING]
    top = max([g.max_score for g in d.grades] + [1.0])
    fig, ax = plt.subplots(figsize=(6.5, 3))
    ax.hist(scores, bins=min(20, max(5, int(top) + 1)), range=(0, top), color="#4c72b0", edgecolor="white")
    ax.set_xlabel(f"score after late penalties (of {top:g})")
    ax.set_ylabel("submissions")
    ax.set_title(f"Score distribution ({len(scores)} submissions)")
    return _png(fig)


def figure_pass_rates(d: ClassData) -> str:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(d.test_ids) + 1))
    rates = [100 * p / n if n else 0 for p, n in (d.pass_rates[t] for t in d.test_ids)]
    ax.barh(d.test_ids[::-1], rates[::-1], color="#55a868")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of submissions graded on their merits that pass")
    ax.set_title("Pass rate per test")
    return _png(fig)


def figure_heat_map(d: ClassData) -> str:
    import matplotlib.pyplot as plt
    tags = sorted(d.tags)
    fig, ax = plt.subplots(figsize=(6.5, 0.5 * max(len(tags), 1) + 1.8))
    if not tags:
        ax.text(0.5, 0.5, "no misconception fired", ha="center", va="center")
        ax.set_axis_off()
    else:
        grid = [[d.tags[tag].get(t, 0) for t in d.test_ids] for tag in tags]
        top = max(max(row) for row in grid)
        im = ax.imshow(grid, cmap="Reds", aspect="auto", vmin=0, vmax=max(top, 1))
        ax.set_xticks(range(len(d.test_ids)), d.test_ids, rotation=35, ha="right")
        ax.set_yticks(range(len(tags)), tags)
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                if v:
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=10,
                            color="white" if v > top / 2 else "black")
        fig.colorbar(im, ax=ax, label="students")
    ax.set_title("Misconceptions per test")
    return _png(fig)


# ------------------------------------------------------------------ page
def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _table(tid: str, head: list[str], rows: list[list[str]], num: set[int] = frozenset()) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in num else f"<td>{c}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f'<table id="{tid}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _to_look_at(g: Grade) -> bool:
    return (g.status not in ("graded", MISSING) or g.review
            or g.lateness.status in (late.LATE, late.NO_TIME))


def _feedback_link(course: Course, g: Grade, page_dir: Path) -> str:
    pages = sorted((course.root / "feedback" / g.student / g.assignment).glob("*.html"))
    if not pages:
        return '<span class="muted">no feedback page</span>'
    return " ".join(f'<a href="{_e(Path(os.path.relpath(p, page_dir)).as_posix())}">{_e(p.name)}</a>' for p in pages)


def render(root: Path | str, assignment: str, out: Path) -> str:
    """The page's HTML (see the module doc); links are relative to ``out``'s folder."""
    course = Course(root)
    d = collect_data(root, assignment)
    counts = Counter(g.status for g in d.grades)
    order = list(STATUSES) + sorted(set(counts) - set(STATUSES))
    status_rows = [[_e(s), str(counts[s])] for s in order if counts[s]]
    pass_rows = [[_e(t), f"{p}/{n}", f"{100 * p / n:.1f} %" if n else "-"] for t, (p, n) in d.pass_rates.items()]
    tag_rows = [[_e(tag), _e(", ".join(f"{t} ({n})" for t, n in c.most_common())), str(len(d.tag_students[tag]))]
                for tag, c in sorted(d.tags.items(), key=lambda kv: (-len(d.tag_students[kv[0]]), kv[0]))]
    look = [g for g in d.grades if _to_look_at(g)]
    look_rows = [[_e(g.student), _e(g.status), f"{g.score:g} / {g.max_score:g}" + (
        f" (raw {g.raw:g})" if g.score != g.raw else ""), _e(g.lateness.status + (
            f", {g.lateness.hours_late:.1f} h" if g.lateness.status == late.LATE else "")),
        '<div class="flags">' + "<br>".join(_e(f) for f in g.flags) + "</div>",
        _feedback_link(course, g, out.parent)] for g in look]
    pair_rows = [[_e(p.a), _e(p.b), f"{p.similarity:.2f}"] for p in d.pairs]
    iso = d.isolation.get("isolation", {})
    iso_rows = [[_e(k), _e(v)] for k, v in iso.items()] + ([["limits", _e(d.isolation["limits"])]]
                                                          if "limits" in d.isolation else [])
    n_sub = sum(1 for g in d.grades if g.status != MISSING)
    parts = [
        f"<h1>Class report: {_e(assignment)}</h1>",
        f'<p class="muted">{len(d.grades)} students, {n_sub} submissions; written {_e(time.strftime("%Y-%m-%d %H:%M %Z"))}'
        f"; graded {_e(d.isolation.get('when', '(no record)'))}.</p>",
        '<section id="statuses"><h2>Statuses</h2>' + _table("status-table", ["status", "students"], status_rows, {1})
        + "</section>",
        f'<section id="scores"><h2>Score distribution</h2><img class="figure" id="fig-scores" alt="score distribution"'
        f' src="{figure_scores(d)}"></section>',
        f'<section id="pass-rates"><h2>Pass rate per test</h2><img class="figure" id="fig-pass-rates"'
        f' alt="pass rate per test" src="{figure_pass_rates(d)}">'
        + _table("pass-table", ["test", "passed", "rate"], pass_rows, {1, 2}) + "</section>",
        f'<section id="misconceptions"><h2>Misconceptions per test</h2><img class="figure" id="fig-heat-map"'
        f' alt="misconceptions per test" src="{figure_heat_map(d)}">'
        + (_table("tag-table", ["misconception", "tests (students)", "students"], tag_rows, {2}) if tag_rows
           else '<p class="muted" id="tag-table">No misconception fired.</p>') + "</section>",
        '<section id="look"><h2>Submissions to look at</h2>'
        + (_table("look-table", ["student", "status", "score", "late", "flags", "feedback"], look_rows)
           if look_rows else '<p id="look-table">None.</p>') + "</section>",
        '<section id="similar"><h2>Similar submissions</h2><p class="muted">Answer cells alike after renaming, '
        f"reordering and comments are ignored (similarity &ge; {similarity.THRESHOLD}); for a look, never a verdict."
        "</p>" + (_table("similar-table", ["student", "student", "similarity"], pair_rows, {2}) if pair_rows
                  else '<p id="similar-table">No pair.</p>') + "</section>",
        '<section id="isolation"><h2>Isolation in force</h2>'
        + (_table("isolation-table", ["mechanism", "state"], iso_rows) if iso_rows
           else '<p id="isolation-table">No record of the batch.</p>') + "</section>",
    ]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>Class report: {_e(assignment)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def write(root: Path | str, assignment: str, out: Path | str | None = None) -> Path:
    """Write the page to ``out`` (default ``<root>/reports/<assignment>.html``); return its path."""
    out = Path(out) if out else Course(root).root / "reports" / f"{assignment}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(root, assignment, out.resolve()), encoding="utf-8")
    return out
