"""Find Debian's chromium for the browser tests, installing it when we can.

Playwright cannot download its own browsers on this project's machines, so
the browser tests drive Debian's ``chromium`` by path. When it is missing and
we run as root with apt-get, it is installed; otherwise the tests are skipped
with a message saying how to get it, except under ``CI=true``, where a missing
browser is an error (CI must not silently skip the real-browser test).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOW = "install it with:  sudo apt-get update && sudo apt-get install -y chromium"


def find_or_install() -> tuple[Path | None, str]:
    """(path to chromium or None, what happened) ."""
    if CHROMIUM.exists():
        return CHROMIUM, f"found {CHROMIUM}"
    apt = shutil.which("apt-get")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and apt:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        log = []
        for cmd in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "chromium"]):
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
            log.append(f"$ {' '.join(cmd)} -> exit {res.returncode}\n{res.stderr[-2000:]}")
            if res.returncode != 0:
                return None, "installing chromium with apt-get failed:\n" + "\n".join(log)
        if CHROMIUM.exists():
            return CHROMIUM, "installed chromium with apt-get"
        return None, "apt-get installed chromium but /usr/bin/chromium is missing"
    why = "not running as root" if apt else "apt-get is not available"
    return None, f"Debian's chromium is not at {CHROMIUM} and cannot be installed ({why}); {HOW}"


def chromium_or_skip():
    """The chromium path for a test, or a skip that says why (a failure under ``CI=true``)."""
    import pytest
    path, what = find_or_install()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and no browser for the real-browser test: {what}")
        pytest.skip(f"real-browser test skipped: {what}")
    return path
