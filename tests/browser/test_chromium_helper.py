"""How the real-browser test finds its browser, and what it says when it cannot."""
from __future__ import annotations

from pathlib import Path

import chromium


def test_a_missing_chromium_without_root_gives_a_message_that_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(chromium, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 1000)
    path, what = chromium.find_or_install()
    assert path is None
    assert "not running as root" in what and "apt-get install -y chromium" in what


def test_an_existing_chromium_is_used_without_installing(monkeypatch, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setattr(chromium, "CHROMIUM", fake)
    monkeypatch.setattr(chromium.subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(
        AssertionError("must not run apt-get")))
    assert chromium.find_or_install() == (fake, f"found {fake}")


def test_the_launch_flags_are_the_ones_this_machine_needs():
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        assert flag in chromium.FLAGS
    assert chromium.CHROMIUM == Path("/usr/bin/chromium")
