"""Outputs a student's code made, made safe to show to a person (issue 15, "leaks").

Whoever opens a feedback page or an autograded notebook in the formgrader (the student, the
instructor inside their own Jupyter session) must never run the student's script. nbconvert
writes an output's HTML, SVG, JavaScript and widget views into the page as they are, and
renders a markdown cell's raw HTML and ``javascript:`` links as they are.

:func:`sanitize_outputs` rewrites a notebook in place so that nothing in it can run:

* ``text/html`` and ``text/markdown`` outputs go through nh3 (the Ammonia sanitiser:
  an allow-list of tags and attributes; no script, iframe, object, style, event handler or
  ``javascript:`` URL survives);
* ``image/svg+xml`` becomes an ``<img>`` of the SVG (a browser runs no script of an SVG
  shown as an image);
* images stay only as plain base64 (nbconvert writes them into an attribute), with integer
  width and height metadata or none;
* every other type that a browser can run or nbconvert writes raw (JavaScript, widget views,
  LaTeX for MathJax, JSON, anything unknown) is dropped, ``text/plain`` kept, or a note left;
* markdown cells are rendered to HTML and that HTML cleaned by nh3 the same way, then checked.

:func:`clean_html` is the one sanitiser (nh3 with its default allow-list).
"""
from __future__ import annotations

import base64
import html
import re

import nh3
from nbformat import NotebookNode

SAFE_IMAGES = ("image/png", "image/jpeg", "image/gif")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*\Z")
_SVG_IMAGE = re.compile(r'<img alt="SVG output" src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]*">')
DROPPED = "[autograder: an output that could run code in your browser was removed ({})]"
#: after nh3 nothing of this may remain in a rendered markdown cell (a second, independent check)
_RUNNABLE = re.compile(r"<\s*(script|iframe|object|embed|svg|math|style|link|meta|base|form)\b|\son[a-z]+\s*="
                       r"|\b(javascript|vbscript)\s*:|\bdata\s*:\s*[a-z-]+/[a-z0-9.+-]+", re.I)


def clean_html(text: str) -> str:
    """``text`` with every tag, attribute and URL scheme outside nh3's allow-list removed."""
    return nh3.clean(text)


def _svg_as_image(svg: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img alt="SVG output" src="data:image/svg+xml;base64,{data}">'


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _clean_metadata(meta: dict) -> dict:
    """Only integer width/height per image type (nbconvert writes them into attributes)."""
    out = {}
    for mime, m in (meta or {}).items():
        if mime in SAFE_IMAGES and isinstance(m, dict):
            kept = {k: v for k, v in m.items() if k in ("width", "height") and isinstance(v, int)
                    and not isinstance(v, bool)}
            if kept:
                out[mime] = kept
    return out


def clean_output_data(data: dict) -> tuple[dict, list[str]]:
    """The safe part of one output's mime bundle, and the types dropped."""
    out: dict = {}
    dropped: list[str] = []
    for mime, value in data.items():
        text = _text(value)
        if mime == "text/plain":
            out[mime] = text
        elif mime == "text/html":
            out[mime] = text if _SVG_IMAGE.fullmatch(text) else clean_html(text)  # (sanitised twice: same)
        elif mime == "text/markdown":
            out["text/html"] = clean_html(_markdown(text))
        elif mime == "image/svg+xml":
            out.setdefault("text/html", _svg_as_image(text))
        elif mime in SAFE_IMAGES and _BASE64.match(text):
            out[mime] = text
        else:
            dropped.append(mime)
    if not out:
        out["text/plain"] = DROPPED.format(", ".join(dropped))
    return out, dropped


def _markdown(text: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    return markdown2html_mistune(text)


def clean_markdown_cell(source: str) -> str:
    """A markdown cell's source that renders to HTML with nothing runnable. Kept as written when
    it holds no raw HTML and renders to nothing runnable; else its rendering cleaned by nh3
    (checked again once rendered); if even that renders to something runnable, the text as
    preformatted plain text."""
    rendered = _markdown(source)
    if "<" not in source and not _RUNNABLE.search(rendered):
        return source
    cleaned = clean_html(rendered)
    if _RUNNABLE.search(_markdown(cleaned)):
        return f"<pre>{html.escape(source)}</pre>"
    return cleaned


def sanitize_outputs(nb: NotebookNode) -> NotebookNode:
    """Make every output and markdown cell of ``nb`` safe to render (see the module doc); in
    place, and returned."""
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            cell.source = clean_markdown_cell(_text(cell.get("source", "")))
            cell.pop("attachments", None)
            continue
        if cell.get("cell_type") != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") in ("display_data", "execute_result"):
                o["data"], _ = clean_output_data(o.get("data", {}))
                o["metadata"] = _clean_metadata(o.get("metadata", {}))
    return nb
