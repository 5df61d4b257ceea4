"""One server for a class: its memory with every study warm, memory per extra session, and the warm
repaint while many sessions move sliders in turn.

Run from the repository root: `python bench/sessions.py [--sessions 20] [--rounds 3]`. Writes the
"sessions" key of bench/results.json. Targets: server RSS <= 500 MB with every study warm, once the
background work has finished (the memos' shared byte budget, engine/memo.py, holds it; the peak
while warming is reported too); with 20 sessions moving sliders in turn, no errors and a warm
repaint p95 <= 300 ms, reported beside the first session's repaint alone in the same run.

Every study is made warm the way a class would: its defaults, then several new configurations of a
knob that retrains (so the memos fill and the budget has to drop entries), then its walkthrough."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import RUN_FINISHED, VALUE_SHOWN, _rss_mb, percentile  # noqa: E402  bench/run.py

import engine  # noqa: E402
from bench import results_file  # noqa: E402
from bench.studies import retrain_knob, shown_metric, warm_keys, warm_knob  # noqa: E402
from tests.e2e.harness import launch_browser, press_slider, slider, start_server, wait_for_app  # noqa: E402

NEW_CONFIGURATIONS = 4  # presses of each study's retrain knob (bench/studies.py)


def open_study(page, url: str, study_id: str, view: str = "") -> None:
    query = f"&{study_id}.view={view}" if view else ""
    page.goto(f"{url}/study?study={study_id}{query}")
    page.get_by_role("heading", name=engine.get_study(study_id).question).wait_for(timeout=120_000)
    wait_for_app(page, timeout=300_000)


def warm_every_study(page, url: str) -> dict:
    """Each study's defaults, new configurations, then its walkthrough's first two steps; the RSS
    after each study and the seconds it took."""
    figures = {}
    for study in engine.list_studies():
        start = time.perf_counter()
        open_study(page, url, study.id)
        for _ in range(NEW_CONFIGURATIONS):
            press_slider(page, retrain_knob(study).label, "ArrowRight")
        open_study(page, url, study.id, "Walkthrough")
        page.get_by_role("button", name="2.").last.click()
        wait_for_app(page, timeout=300_000)
        figures[study.id] = {"rss_mb": _rss_mb(PROC.pid), "seconds": time.perf_counter() - start}
        print(study.id, figures[study.id], flush=True)
    return figures


def wait_until_idle(pid: int, timeout_s: float = 600) -> float:
    """Seconds until the server's CPU time stops growing (under 5 % of a core for 3 s running)."""
    start, quiet = time.perf_counter(), 0
    ticks = _cpu_ticks(pid)
    while time.perf_counter() - start < timeout_s and quiet < 3:
        time.sleep(1)
        now = _cpu_ticks(pid)
        quiet = quiet + 1 if now - ticks < 0.05 * os.sysconf("SC_CLK_TCK") else 0
        ticks = now
    return time.perf_counter() - start


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _status_mb(pid: int, field: str) -> float:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith(field))
    return int(line.split()[1]) / 1024


def sessions_in_turn(browser, url: str, sessions: int, rounds: int) -> dict:
    """`sessions` pages on the first study; the memory each adds; then, round after round, each
    presses its warm knob in turn (configurations every session has warmed) and
    the time to the repainted metric is recorded, with any error shown. The first page is timed
    alone first, so the figure with many sessions reads against one in the same run."""
    before = _rss_mb(PROC.pid)
    pages = [_warm_page(browser, url)]
    alone, _ = _press_in_turn(pages, 4 * rounds)
    pages += [_warm_page(browser, url) for _ in range(sessions - 1)]
    after = _rss_mb(PROC.pid)
    times, errors = _press_in_turn(pages, rounds)
    return {
        "sessions": sessions,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "mb_per_extra_session": (after - before) / sessions,
        "alone_repaint_ms_p50": percentile(alone, 50),
        "alone_repaint_ms_p95": percentile(alone, 95),
        "repaint_ms_p50": percentile(times, 50),
        "repaint_ms_p95": percentile(times, 95),
        "p95_over_alone": percentile(times, 95) / percentile(alone, 95),
        "repaints": len(times),
        "errors": errors,
    }


FIRST = engine.list_studies()[0]
WARM = warm_knob(FIRST)


def _warm_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    open_study(page, url, FIRST.id)
    for key in warm_keys(WARM):  # warm both positions in this session's history
        press_slider(page, WARM.label, key)
    return page


def _press_in_turn(pages: list, rounds: int) -> tuple[list[float], int]:
    """Each page in turn presses the warm knob, `rounds` times: the milliseconds from each press to
    its repainted metric, and the errors shown."""
    times, errors = [], 0
    label = shown_metric(FIRST, WARM)
    for round_ in range(rounds):
        key = warm_keys(WARM)[round_ % 2]
        for page in pages:
            card = page.get_by_test_id("stMetric").filter(has_text=label)
            shown = card.get_by_test_id("stMetricValue").inner_text()
            handle = slider(page, WARM.label)
            handle.focus()
            start = time.perf_counter()
            handle.press(key)
            page.wait_for_function(VALUE_SHOWN, arg=[label, shown], polling="raf", timeout=60_000)
            page.wait_for_function(RUN_FINISHED, polling="raf", timeout=60_000)
            times.append((time.perf_counter() - start) * 1000)
            errors += page.get_by_test_id("stException").count()
    return times, errors


def main() -> None:
    global PROC
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results: dict = {}
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        PROC, url = start_server(log)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            results["every_study_warm"] = warm_every_study(page, url)
            results["rss_every_study_warm_mb"] = _rss_mb(PROC.pid)
            results["idle_after_s"] = wait_until_idle(PROC.pid)  # the walkthrough warmers finish
            results["rss_every_study_warm_idle_mb"] = _rss_mb(PROC.pid)
            results["rss_peak_mb"] = _status_mb(PROC.pid, "VmHWM")
            page.close()
            results["in_turn"] = sessions_in_turn(browser, url, args.sessions, args.rounds)
            results["rss_end_mb"] = _rss_mb(PROC.pid)
        finally:
            browser.close()
            PROC.terminate()
            PROC.wait(timeout=10)
    results_file.store("sessions", results)
    print(json.dumps(results, indent=2))


PROC = None

if __name__ == "__main__":
    main()
