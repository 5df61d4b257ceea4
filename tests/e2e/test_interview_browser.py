"""A short mock interview in a real browser: answers typed without leaving the box survive a page
reload and a killed server, typed HTML stays text, and the interview ends in scores."""

from __future__ import annotations

import time

from playwright.sync_api import expect
from sqlalchemy import create_engine

from engine.interview.store import Store
from tests.e2e.harness import start_server, wait_for_app

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def saved(store: Store, attempt_id: str, slot: str, wanted: str, timeout: float = 10.0) -> str:
    """Poll the database (the test's own connection) until the answer reads `wanted`."""
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        body = store.get(attempt_id).answers.get(slot)
        if body == wanted:
            return body
        time.sleep(0.1)
    raise AssertionError(f"{slot!r} saved as {body!r}, expected {wanted!r}")


def test_an_interview_survives_a_reload_and_a_server_restart(browser, tmp_path):
    db = tmp_path / "lab.db"
    store = Store(create_engine(f"sqlite:///{db}"))
    proc, url = start_server(tmp_path / "first.log", db=db)
    context = browser.new_context(viewport={"width": 1440, "height": 1100})
    page = context.new_page()
    try:
        page.goto(f"{url}/interview?study=search")
        wait_for_app(page)
        page.get_by_role("button", name="Start the interview").click()
        wait_for_app(page)
        expect(page.get_by_role("heading", name="1. Clarify requirements")).to_be_visible()
        attempt_id = page.url.split("attempt=")[1]

        answer = page.get_by_label("Your answer", exact=True)
        answer.click()
        first = "Goal: shoppers find products; I assume 5k queries per second. "
        answer.press_sequentially(first, delay=10)
        saved(store, attempt_id, "requirements", first)  # saved while the box still has focus
        expect(answer).to_be_focused()

        # Keep typing and reload at once, inside the debounce: the draft comes back and is saved.
        answer.press_sequentially(XSS, delay=5)
        page.reload()
        wait_for_app(page)
        expect(page.get_by_label("Your answer", exact=True)).to_have_value(first + XSS)
        saved(store, attempt_id, "requirements", first + XSS)
        assert page.evaluate("window.__xss") is None  # the payload stayed text
        assert page.locator("img[src=x]").count() == 0

        page.get_by_role("button", name="Next step").click()
        wait_for_app(page)
        page.get_by_text("correct typos against the index vocabulary").click()
        wait_for_app(page)
        expect(page.get_by_text("Your design: nDCG@10")).to_be_visible()
        answer = page.get_by_label("Your answer", exact=True)
        answer.click()
        answer.press_sequentially("Learning to rank over BM25 and dense candidates.", delay=10)
        saved(store, attempt_id, "framing", "Learning to rank over BM25 and dense candidates.")
        used_before = store.get(attempt_id).elapsed
    finally:
        proc.kill()  # no clean shutdown: whatever was saved must already be on disk
        proc.wait(timeout=10)

    proc, url = start_server(tmp_path / "second.log", db=db)
    try:
        page.goto(f"{url}/interview?attempt={attempt_id}")
        wait_for_app(page)
        expect(page.get_by_role("heading", name="2. Frame as an ML task")).to_be_visible()
        expect(page.get_by_label("Your answer", exact=True)).to_have_value(
            "Learning to rank over BM25 and dense candidates."
        )
        expect(page.get_by_role("radio", name="correct typos against the index vocabulary")).to_be_checked()
        page.wait_for_timeout(1500)
        assert store.get(attempt_id).elapsed > used_before  # the clock resumed from the saved time

        page.get_by_role("button", name="Finish the interview").click()
        wait_for_app(page)
        page.get_by_role("button", name="See my scores").click()
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Coverage map")).to_be_visible()
        expect(page.get_by_text("Deployment, monitoring and iteration: never reached")).to_be_visible()
        assert store.get(attempt_id).finished
        assert page.evaluate("window.__xss") is None
    finally:
        context.close()
        proc.kill()
        proc.wait(timeout=10)
