"""Paths a candidate takes across pages, in a real browser: the study and its knobs go with them, and
the Production page's views open from the study page's links."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.harness import wait_for_app


def _no_exception(page) -> None:
    errors = page.get_by_test_id("stException")
    assert errors.count() == 0, errors.first.inner_text()


def test_register_from_the_fraud_study_then_monitor_it(page, app_url):
    """Study → Register this design → Version N registered: serve it → Monitor. The study's drift_day
    knob (0-21) and the Monitor's "Drift starts on day" slider (1-27) once shared a widget key, and
    this path crashed with StreamlitValueBelowMinError."""
    page.goto(f"{app_url}/study?study=fraud")
    wait_for_app(page)
    page.get_by_role("button", name="Register this design").click()
    wait_for_app(page, timeout=180_000)
    page.get_by_role("link", name="registered: serve it").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Production: fraud detection")).to_be_visible()
    page.get_by_role("radio", name="Monitor").or_(page.get_by_text("Monitor", exact=True)).first.click()
    wait_for_app(page)
    _no_exception(page)
    expect(page.get_by_role("button", name="Run the serving period")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_role("link", name="Back to the study")).to_be_visible()


def test_the_study_and_its_knobs_follow_the_top_navigation(page, app_url):
    page.goto(f"{app_url}/study?study=fraud&fraud.model=random_forest")
    wait_for_app(page, timeout=180_000)
    expect(page.get_by_role("heading", name="Design a fraud detection pipeline for PayPal")).to_be_visible()
    page.get_by_role("link", name="Production").first.click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Production: fraud detection")).to_be_visible()
    expect(page.get_by_text("Model = random_forest", exact=False)).to_be_visible()
    page.get_by_role("link", name="Case studies").first.click()
    wait_for_app(page, timeout=180_000)
    expect(page.get_by_role("heading", name="Design a fraud detection pipeline for PayPal")).to_be_visible()
    expect(page.get_by_role("combobox", name="Model", exact=True)).to_have_value("random_forest")
    _no_exception(page)


def test_on_a_phone_results_come_first_and_every_page_is_one_tap_away(browser, app_url):
    context = browser.new_context(viewport={"width": 400, "height": 900})
    page = context.new_page()
    page.goto(f"{app_url}/study?study=fraud")
    wait_for_app(page, timeout=180_000)
    first_metric = page.get_by_test_id("stMetric").first.bounding_box()
    knobs = page.get_by_text("Design knobs", exact=True).bounding_box()
    assert first_metric["y"] < 900 < knobs["y"]  # the results in the first screen, the knobs after them
    links = page.locator(".st-key-phone_only_navigation").get_by_role("link")
    expect(links).to_have_count(5)
    for i in range(5):
        expect(links.nth(i)).to_be_visible()
    links.filter(has_text="Production").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Production: fraud detection")).to_be_visible()
    context.close()
    laptop = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    laptop.goto(f"{app_url}/study?study=fraud")
    wait_for_app(laptop, timeout=180_000)
    expect(laptop.locator(".st-key-phone_only_navigation")).to_be_hidden()  # the top navigation serves
    laptop.context.close()
