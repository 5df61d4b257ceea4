"""Two app servers on one PostgreSQL database, as a class deployment runs them: an answer typed on
one is there when the attempt's link opens on the other, and two people typing at once on the two
servers both keep everything they typed."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import create_engine

from engine.interview.store import Store
from tests.e2e.harness import start_server, wait_for_app
from tests.e2e.test_interview_browser import saved


def _start_interview(page, url: str) -> str:
    page.goto(f"{url}/interview?study=fraud")
    wait_for_app(page)
    page.get_by_role("button", name="Start the interview").click()
    wait_for_app(page)
    return page.url.split("attempt=")[1]


def test_two_replicas_share_attempts_and_lose_no_concurrent_writes(browser, tmp_path, postgres_server):
    db_url = postgres_server.new_database()
    servers = [start_server(tmp_path / f"replica{i}.log", db_url=db_url) for i in (1, 2)]
    store = Store(create_engine(db_url))
    pages = [browser.new_context(viewport={"width": 1280, "height": 900}).new_page() for _ in servers]
    try:
        first, second = (_start_interview(page, url) for page, (_, url) in zip(pages, servers, strict=True))
        boxes = [page.get_by_label("Your answer", exact=True) for page in pages]
        texts = [
            "Replica one: fraud is rare, labels arrive late. ",
            "Replica two: the label delay is weeks. ",
        ]
        for box in boxes:
            box.click()
        for chunk in range(0, max(map(len, texts)), 8):  # both sessions type at once, interleaved
            for box, text in zip(boxes, texts, strict=True):
                box.press_sequentially(text[chunk : chunk + 8], delay=5)
        saved(store, first, "requirements", texts[0])
        saved(store, second, "requirements", texts[1])

        pages[1].goto(f"{servers[1][1]}/interview?attempt={first}")  # replica one's attempt, on two
        wait_for_app(pages[1])
        expect(pages[1].get_by_label("Your answer", exact=True)).to_have_value(texts[0])
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=10)
