"""Outputs that try to run code in whoever opens a feedback page or an autograded notebook:
each payload sets ``window.PWNED`` (or opens a dialog) if it ever runs."""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell, new_output

from graded_class import Student, html_output, stream

OWN = "my own output 4242"
XSS = {  # what a student's output can hold, each trying to run code in the viewer's browser
    "script": "<script>window.PWNED = 1</script><b>bold</b>",
    "handler": '<img src="x.png" onerror="window.PWNED = 2"><p onmouseover="window.PWNED = 3">hover</p>',
    "js_link": '<a href="javascript:window.PWNED = 4">click</a>',
    "svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>window.PWNED = 5</script><circle r="4"/></svg>',
    "iframe": '<iframe src="javascript:parent.PWNED = 6"></iframe><iframe srcdoc="<script>parent.PWNED=7</script>">',
}


def xss_student() -> Student:
    outs = [html_output(v) for v in XSS.values()]
    outs += [new_output("display_data", data={"image/svg+xml": XSS["svg"], "text/plain": "svg"}),
             new_output("display_data", data={"application/javascript": "window.PWNED = 8", "text/plain": "js"}),
             new_output("display_data", data={"application/vnd.jupyter.widget-view+json":
                                              {"model_id": "</script><script>window.PWNED=9</script>",
                                               "version_major": 2, "version_minor": 0}}),
             new_output("display_data", data={"image/png": "iVBORw0KGgo="},
                        metadata={"image/png": {"width": '1" onerror="window.PWNED=10'}}),
             new_output("display_data", data={"text/markdown": "[m](javascript:window.PWNED=11) <script>x()</script>"}),
             stream(OWN + "\n")]
    return Student(outputs={"square": outs})


def with_markdown(root: Path, student: str) -> None:
    """Add a markdown cell of the student's to the autograded notebook (as a student may)."""
    path = root / "autograded" / student / "ps1" / "ps1.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(3, new_markdown_cell('My notes <script>window.PWNED = 12</script> [a](javascript:window.PWNED=13)'
                                         ' <img src=x onerror="window.PWNED=14"> $x^2$'))
    nbformat.write(nb, path)
