"""The set-up works as the README promises, with nothing from the system."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder import notebooks
from conftest import ROOT, assignments

VENV_BIN = Path(sys.executable).parent


def path_without_system_dot() -> str:
    """The current PATH minus this environment's bin/ and any folder with a `dot`."""
    keep = [p for p in os.environ.get("PATH", "").split(os.pathsep)
            if p and Path(p).resolve() != VENV_BIN.resolve() and not (Path(p) / "dot").exists()]
    return os.pathsep.join(keep)


def test_graphs_render_with_no_system_graphviz_on_path():
    code = ("import shutil, course, graphviz\n"
            "print(shutil.which('dot'))\n"
            "g = graphviz.Digraph(); g.edge('a', 'b'); g.edge('a', 'b')\n"
            "svg = g.pipe(format='svg').decode()\n"
            "assert svg.count('class=\"edge\"') == 2, svg\n"
            "print('rendered')\n")
    env = dict(os.environ, PATH=path_without_system_dot())
    assert shutil.which("dot", path=env["PATH"]) is None
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    which, rendered = proc.stdout.split()
    assert Path(which).parent == VENV_BIN and rendered == "rendered"


def test_graphs_render_in_a_kernel_with_no_system_graphviz(monkeypatch, tmp_path):
    # the kernel is started by the jupyter machinery but must not rely on PATH holding .venv/bin
    monkeypatch.setenv("PATH", path_without_system_dot())
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(
        "import course, graphviz\n"
        "g = graphviz.Digraph(); g.node('x', 'x = 2.0'); g.edge('x', 'y')\n"
        "svg = g.pipe(format='svg').decode()\n"
        "assert '<svg' in svg and 'x = 2.0' in svg, svg[:200]\n")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "render", "points": 1}
    nb.cells.append(cell)
    res, _ = notebooks.run_in_kernel(nb, cwd=tmp_path, timeout=120)
    assert res.tests["render"].ok, res.tests["render"].message


def _course_copy(tmp: Path) -> Path:
    shutil.copy(ROOT / "nbgrader_config.py", tmp / "nbgrader_config.py")
    shutil.copytree(ROOT / "autograder", tmp / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "source", tmp / "source", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp


@pytest.mark.skipif(not assignments(), reason="no assignments yet")
def test_nbgrader_run_from_the_checkout_finds_the_course_without_flags(tmp_path):
    """No flags, no activated environment: the config supplies root, course id and PATH."""
    course = _course_copy(tmp_path)
    name = assignments()[0]
    env = dict(os.environ, PATH=path_without_system_dot())
    env.pop("VIRTUAL_ENV", None)
    nbgrader = [str(VENV_BIN / "nbgrader")]
    proc = subprocess.run(nbgrader + ["generate_assignment", name], cwd=course, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list((course / "release" / name).glob("*.ipynb")), proc.stdout + proc.stderr
    assert (course / "gradebook.db").exists(), "the gradebook (made with alembic) should exist"
    proc = subprocess.run(nbgrader + ["db", "assignment", "list"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=120)
    assert name in proc.stdout + proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode("utf-8", "replace")


@pytest.mark.slow
def test_jupyterlab_serves_the_course_with_nbgrader_and_widgets_extensions(tmp_path):
    port = _free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    args = [str(VENV_BIN / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
            "--IdentityProvider.token=", "--ServerApp.password=", f"--notebook-dir={ROOT}"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    server = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                status, lab = _get(f"{base}/lab")
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start")
        assert status == 200
        for ext in ("@jupyter/nbgrader", "@jupyter-widgets/jupyterlab-manager"):
            assert f'"name": "{ext}"' in lab, f"{ext} is not loaded in JupyterLab"
        assert '"disabledExtensions": []' in lab
        status, page = _get(f"{base}/formgrader")
        assert status == 200 and "Manage Assignments" in page, page[:500]
        status, _ = _get(f"{base}/assignments?course_id=autodiff")
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
