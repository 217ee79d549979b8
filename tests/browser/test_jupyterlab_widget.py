"""The graph stepper in a real JupyterLab 4 and a real Chromium.

Starts ``jupyter lab`` from .venv on a free local port (empty token) in a
temporary copy of graph_widget_demo.ipynb, opens it in Debian's chromium
through Playwright, runs all cells, waits for the widget's SVG nodes, clicks
next, and checks by text (not pixels: fonts differ between machines) that the
highlighted node and the chain-rule panel changed, then steps into the
backward pass and checks the panel's chain rule and the edge highlight. Saves
a screenshot to artifacts/graph_widget_jupyterlab.png, saves the notebook and
checks that its outputs hold a widget view and a text fallback and no SVG
output (which JupyterLab would refuse to show as untrusted when reopened),
then stops the server.

The second test opens fit_and_replay_demo.ipynb in a 1024 px wide window (file
browser folded): a wide static graph (course.diagrams) and a wide stepper must
be scaled into the notebook column, right edge inside it, text at least 9 px
tall; the replay stepper of an engine whose + overwrites gradients must stop,
on "first difference", at a + a with the node and a drawn red and the
grad-overwritten hint. Screenshots: artifacts/fit_wide_graph_1024.png,
fit_wide_stepper_1024.png, replay_stepper_first_difference_1024.png.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from chromium import FLAGS, find_or_install

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEMO = HERE / "graph_widget_demo.ipynb"
FIT_DEMO = HERE / "fit_and_replay_demo.ipynb"
ARTIFACTS = ROOT / "artifacts"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    path, what = find_or_install()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and no browser for the real-browser test: {what}")
        pytest.skip(f"real-browser test skipped: {what}")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a free port, serving a copy of the demo notebook."""
    for nb in HERE.glob("*.ipynb"):
        shutil.copy(nb, tmp_path / nb.name)
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "official Jupyter news?" toast over the screenshot
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "MPLBACKEND": "Agg"}
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser",
         f"--port={port}", "--ip=127.0.0.1", "--ServerApp.token=", "--ServerApp.password=",
         f"--ServerApp.root_dir={tmp_path}", "--LabApp.expose_app_in_browser=True",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
         f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
         "--ServerApp.port_retries=0",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("jupyter lab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
            time.sleep(0.3)
        yield url, tmp_path
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server's own group: it and its kernels
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


KERNEL_READY = """() => {
  const s = window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext;
  const k = s && s.isReady && s.session && s.session.kernel;
  return !!(k && k.connectionStatus === 'connected' && k.status === 'idle');
}"""
RUN_ALL = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"  # not awaited


def run_all_cells(page, timeout: float = 90) -> None:
    """Run all cells and wait for the widget's SVG nodes; accept a kernel dialog if one shows."""
    page.evaluate(RUN_ALL)
    accept = page.locator(".jp-Dialog .jp-mod-accept")
    nodes = page.locator(".ag-stepper svg g.node")
    deadline = time.monotonic() + timeout
    while not nodes.count():
        if accept.count():  # "Select Kernel": keep the notebook's python3, then run again
            accept.first.click()
            page.evaluate(RUN_ALL)
        if time.monotonic() > deadline:
            page.screenshot(path=str(ARTIFACTS / "graph_widget_jupyterlab_failed.png"))
            pytest.fail("the widget's SVG did not appear after running all cells "
                        "(screenshot: artifacts/graph_widget_jupyterlab_failed.png)")
        time.sleep(0.25)


def wait_for_panel(page, stepper, start: str) -> None:
    """The HTML widget replaces its content on each step: query the panel afresh each time."""
    page.wait_for_function(
        "([el, start]) => { const p = el.querySelector('pre.ag-panel');"
        " return !!p && p.innerText.startsWith(start); }", arg=[stepper, start], timeout=20_000)


HIGHLIGHTED = """(stepper) => {
  const out = [];
  for (const g of stepper.querySelectorAll('svg g.node')) {
    const p = g.querySelector('polygon');
    if (p && getComputedStyle(p).fill === 'rgb(255, 213, 79)') out.push(g.id.split('_').pop());
  }
  return out;
}"""
VISIBLE_TEXT = """([stepper, id]) => {
  const g = [...stepper.querySelectorAll('svg g.node')].find(e => e.id.endsWith('_' + id));
  return [...g.querySelectorAll('text')].filter(t => getComputedStyle(t).display !== 'none')
    .map(t => t.textContent).join(' | ');
}"""
RED_EDGES = """(stepper) => [...stepper.querySelectorAll('svg g.edge')]
  .filter(g => getComputedStyle(g.querySelector('path')).stroke === 'rgb(214, 39, 40)')
  .map(g => g.id.split('_').pop())"""


@contextlib.contextmanager
def lab_page(chromium_path: Path, width: int, height: int):
    """A Chromium page of the given viewport; the browser is closed afterwards."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


def open_notebook(page, url: str, name: str) -> None:
    """Open ``name`` in JupyterLab and wait until its kernel is idle."""
    page.goto(f"{url}/lab/tree/{name}", wait_until="domcontentloaded")
    page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=60_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(KERNEL_READY, timeout=90_000)


def test_stepper_runs_in_jupyterlab_and_next_moves_highlight_and_panel(chromium_path, lab):
    url, workdir = lab
    with lab_page(chromium_path, 1400, 1000) as page:
        open_notebook(page, url, DEMO.name)
        run_all_cells(page)
        stepper = page.locator(".ag-stepper").first
        panel = stepper.locator("pre.ag-panel")
        handle = stepper.element_handle()

        before_panel = panel.inner_text()
        assert before_panel.startswith("Start"), before_panel
        assert page.evaluate(HIGHLIGHTED, handle) == []
        v5_before = page.evaluate(VISIBLE_TEXT, [handle, "n5"])
        assert "data \u00b7" in v5_before and "-6.0000" not in v5_before, v5_before

        stepper.get_by_role("button", name="next").click()
        wait_for_panel(page, handle, "Forward step 1 of 5")
        after_panel = panel.inner_text()
        assert after_panel != before_panel
        assert "Forward step 1 of 5" in after_panel and "x1 * w1" in after_panel, after_panel
        assert page.evaluate(HIGHLIGHTED, handle) == ["n5"]
        v5_after = page.evaluate(VISIBLE_TEXT, [handle, "n5"])
        assert "data -6.0000" in v5_after and "data \u00b7" not in v5_after, v5_after

        for _ in range(6):  # 4 more nodes, the seed, the first edge of the backward pass
            stepper.get_by_role("button", name="next").click()
        wait_for_panel(page, handle, "Backward step 1 of 9")
        chain = panel.inner_text()
        assert "upstream" in chain and "contribution  1 \u00d7 0.5" in chain, chain
        assert "0 \u2192 0.5" in chain, chain
        assert page.evaluate(HIGHLIGHTED, handle) == ["n9"]
        assert page.evaluate(RED_EDGES, handle) == ["e0"]
        stepper.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "graph_widget_jupyterlab.png"), full_page=False)
        stepper.screenshot(path=str(ARTIFACTS / "graph_widget_stepper.png"))

        errors = page.locator("text=/untrusted|Error displaying widget|model not found/i")
        assert errors.count() == 0
        page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function(
            "() => !document.querySelector('.jp-mod-dirty')", timeout=20_000)
    saved = json.loads((workdir / DEMO.name).read_text())
    outputs = [o for c in saved["cells"] for o in c.get("outputs", [])]
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in mimes
    assert "image/svg+xml" not in mimes, "SVG output would be untrusted in a reopened notebook"
    texts = [o["data"]["text/plain"] for o in outputs if "text/plain" in o.get("data", {})]
    assert any("GraphStepper of" in "".join(t) and "run the cell" in "".join(t) for t in texts)


FITS = """() => {
  const out = [];
  const pics = [...document.querySelectorAll('.ag-figure svg, .ag-stepper svg')];
  for (const svg of pics) {
    const column = svg.closest('.jp-OutputArea-output') || svg.closest('.jp-Cell');
    const r = svg.getBoundingClientRect(), c = column.getBoundingClientRect();
    const natural = parseFloat(svg.style.maxWidth);
    const text = [...svg.querySelectorAll('text')].find(t => t.textContent.trim().length > 1);
    out.push({kind: svg.closest('.ag-figure') ? 'figure' : 'stepper', right: r.right,
              columnRight: c.right, width: r.width, natural,
              textHeight: text ? text.getBoundingClientRect().height : 0});
  }
  return out;
}"""
RED_NODES = """(stepper) => [...stepper.querySelectorAll('svg g.node')]
  .filter(g => { const p = g.querySelector('polygon'); return p && getComputedStyle(p).fill === 'rgb(255, 138, 128)'; })
  .map(g => g.id.split('_').pop())"""


def test_at_1024_px_wide_graphs_fit_the_column_and_the_replay_stops_at_the_planted_bug(
        chromium_path, lab):
    url, _ = lab
    with lab_page(chromium_path, 1024, 900) as page:
        open_notebook(page, url, FIT_DEMO.name)
        # the file browser folded away, as a student reading at 1024 px would: a ~900 px column
        page.evaluate("window.jupyterapp.shell.collapseLeft()")
        run_all_cells(page)
        page.wait_for_function("document.querySelectorAll('.ag-stepper').length == 2 && "
                               "document.querySelector('.ag-figure svg')", timeout=60_000)
        pics = page.evaluate(FITS)
        assert [q["kind"] for q in pics] == ["figure", "stepper", "stepper"], pics
        for q in pics[:2]:  # the two wide pictures: scaled down to the column, right edge inside
            assert q["natural"] > q["columnRight"] - 250, f"not a wide graph: {q}"
            assert q["width"] < q["natural"] - 1, f"not scaled down: {q}"
            assert q["right"] <= q["columnRight"] + 0.5, f"runs past the column: {q}"
            assert q["textHeight"] >= 9, f"text shrank below 9 px: {q}"
        page.locator(".ag-figure").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "fit_wide_graph_1024.png"))
        page.locator(".ag-stepper").first.screenshot(path=str(ARTIFACTS / "fit_wide_stepper_1024.png"))

        replay = page.locator(".ag-stepper").nth(1)
        handle = replay.element_handle()
        assert "first difference at step 2" in replay.inner_text()
        replay.get_by_role("button", name="first difference").click()
        wait_for_panel(page, handle, "Step 2 of 2")
        text = replay.locator("pre.ag-panel").inner_text()
        assert "FIRST DIFFERENCE" in text and "Misconception [grad-overwritten]" in text, text
        assert "a        +2            +4" in text, text
        assert page.evaluate(RED_NODES, handle) == ["n0", "n2"], "a and a + a drawn red"
        replay.scroll_into_view_if_needed()
        replay.screenshot(path=str(ARTIFACTS / "replay_stepper_first_difference_1024.png"))
