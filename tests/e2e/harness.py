"""Starting `streamlit run` and the system Chromium; shared by the browser tests and bench/."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    log_path: Path, script: str = "app.py", db: Path | None = None, db_url: str | None = None
) -> tuple[subprocess.Popen, str]:
    """`streamlit run` on a free port; `db` is the SQLite file for interview attempts (by default
    one next to the log, so tests never write to the developer's own database), or `db_url` any
    database's SQLAlchemy URL (PostgreSQL shared by several servers)."""
    port = _free_port()
    db_url = db_url or f"sqlite:///{db or log_path.with_suffix('.db')}"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.headless=true",
            "--server.address=127.0.0.1",
            f"--server.port={port}",
            "--server.fileWatcherType=none",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        env={
            "MALLOC_ARENA_MAX": "2",  # as the README starts the app (see engine/memo.py)
            **os.environ,
            "MLSD_LAB_DB": db_url,
            "MLSD_LAB_DATA": str(log_path.parent),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"streamlit did not become healthy; see {log_path}")


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)


def wait_for_app(page, timeout=90_000):
    """Streamlit's own idle signal: connected, and the script has finished running."""
    page.wait_for_timeout(200)
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=timeout
    )
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=timeout
    )


def slider(page, label: str):
    """A slider by its label: while a page is still settling, the set of sliders on it can be
    partial, so a position (`nth`) can name a different knob. The thumb's accessible name also
    holds its current value, so match its `aria-label`, which is the bare label."""
    return page.get_by_role("slider").and_(page.locator(f'[aria-label="{label}"]'))


def press_slider(page, label: str, key: str, attempts: int = 3) -> None:
    """Press `key` on the slider labelled `label` and wait for the rerun. A press that lands while
    the page is still settling after a load can be dropped, so check the value moved and retry."""
    slider_ = slider(page, label)
    for _ in range(attempts):
        before = slider_.input_value()
        slider_.focus()
        slider_.press(key)
        wait_for_app(page)
        if slider_.input_value() != before:
            return
    raise AssertionError(f"slider {label!r} did not move on {key}")


def click_stage(page, label: str) -> None:
    """Click a stage of the architecture graph and wait for its details. A click that lands while
    the page is still settling can be dropped, so retry."""
    node = page.get_by_test_id("stEChartsChart").first.get_by_text(label, exact=True)
    for _ in range(3):
        node.click()
        wait_for_app(page)
        if page.locator(".st-key-stage_details").count():
            return
