"""A candidate's path through the lab, in a real browser."""

from pathlib import Path

from playwright.sync_api import expect

import engine
from tests.e2e.harness import click_stage, press_slider, wait_for_app

SCREENSHOT = Path(__file__).parents[1] / "artifacts" / "recommendation_lab.png"  # never into the checkout
STUDY = engine.get_study("recommendation")


def metric_value(page, label):
    card = page.get_by_test_id("stMetric").filter(has_text=label)
    return card.get_by_test_id("stMetricValue").inner_text()


def open_study(page, url, query=""):
    page.goto(f"{url}/study{query}")
    wait_for_app(page)
    expect(page.get_by_test_id("stMetric").first).to_be_visible()


def test_home_lists_the_study_and_opens_it(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="MLSD Lab")).to_be_visible()
    page.get_by_text("Open video recommendation").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Design a YouTube-style video recommender")).to_be_visible()
    assert page.get_by_test_id("stException").count() == 0


def test_moving_a_slider_changes_the_metrics(page, app_url):
    open_study(page, app_url)
    before = metric_value(page, "Candidate recall@N")
    press_slider(page, "Candidate pool N", "End")  # to its maximum
    expect(
        page.get_by_test_id("stMetric").filter(has_text="Candidate recall@N").get_by_test_id("stMetricValue")
    ).not_to_have_text(before)
    assert float(metric_value(page, "Candidate recall@N")) > float(before)
    assert "candidates=500" in page.url  # the link reproduces this configuration
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT)


def test_a_link_reproduces_the_engine_numbers(page, app_url):
    config = {"candidates": 60, "ranker": "logistic"}
    open_study(page, app_url, "?recommendation.candidates=60&recommendation.ranker=logistic")
    expected = engine.run(STUDY, config, seed=0).metrics
    for key in ("ndcg@10", "candidate_recall@N", "diversity"):
        spec = STUDY.metric(key)
        assert metric_value(page, spec.label) == spec.format(expected[key])


def test_clicking_a_graph_node_shows_its_details(page, app_url):
    open_study(page, app_url)
    click_stage(page, "Ranking")
    details = page.locator(".st-key-stage_details")
    expect(details).to_contain_text("Ranking · measured")
    expect(details).to_contain_text("Candidate pool N")


def test_bad_upload_shows_the_problem_not_a_traceback(page, app_url, tmp_path):
    open_study(page, app_url)
    bad = tmp_path / "interactions.csv"
    bad.write_text("user_id,item_id,weight\n1,2,1\n1,3,lots\n")
    page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(bad)
    wait_for_app(page)
    expect(page.get_by_test_id("stAlert")).to_contain_text("line 3, column weight: 'lots' is not a number")
    assert page.get_by_test_id("stException").count() == 0


def test_fraud_study_end_to_end(page, app_url, tmp_path):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("Open fraud detection").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Design a fraud detection pipeline for PayPal")).to_be_visible()
    assert "study=fraud" in page.url

    before = metric_value(page, "Average precision")
    switch = page.locator(".st-key-fraud-terminal_windows")  # the key, "." made "-"
    expect(switch).to_contain_text("Features: terminal risk windows")  # the whole label, not cut
    switch.get_by_text("off", exact=True).click()  # switch the group off
    wait_for_app(page)
    expect(
        page.get_by_test_id("stMetric").filter(has_text="Average precision").get_by_test_id("stMetricValue")
    ).not_to_have_text(before)
    assert float(metric_value(page, "Average precision")) < float(before) - 0.2
    assert "fraud.terminal_windows=off" in page.url.lower()

    click_stage(page, "Decision")
    details = page.locator(".st-key-stage_details")
    expect(details).to_contain_text("Decision · measured")
    expect(details).to_contain_text("Cost of a false alarm")

    bad = tmp_path / "transactions.csv"
    bad.write_text("transaction_id,timestamp,customer_id,terminal_id,amount,is_fraud\nt1,soon,c1,T1,10,0\n")
    page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(bad)
    wait_for_app(page)
    expect(page.get_by_test_id("stAlert").first).to_contain_text(
        "line 2, column timestamp: 'soon' is not a date or Unix time"
    )
    assert page.get_by_test_id("stException").count() == 0


def test_search_typed_query_and_a_slider(page, app_url):
    open_study(page, app_url, "?study=search")
    expect(page.get_by_role("heading", name="Design a product search system")).to_be_visible()
    before = metric_value(page, "nDCG@10")
    press_slider(page, "Re-rank depth N", "Home")  # no re-ranker
    expect(
        page.get_by_test_id("stMetric").filter(has_text="nDCG@10").first.get_by_test_id("stMetricValue")
    ).not_to_have_text(before)
    assert float(metric_value(page, "nDCG@10")) < float(before)

    page.get_by_text("Try it", exact=True).click()
    wait_for_app(page)
    box = page.get_by_label("Try a query")
    box.fill("<i>blue</i> headphnes")
    box.press("Enter")
    wait_for_app(page)
    expect(page.get_by_text("<i>blue</i> headphnes", exact=True)).to_be_visible()  # typed HTML stays text
    expect(
        page.get_by_text("i blue i headphones earphones", exact=True)
    ).to_be_visible()  # typo fixed, expanded
    expect(page.get_by_test_id("stDataFrame")).to_have_count(2)
    assert page.locator("i", has_text="blue").count() == 0
    assert page.get_by_test_id("stException").count() == 0


def test_pymk_opens_and_a_knob_moves_its_candidate_recall(app_url, page):
    page.goto(f"{app_url}/study?study=pymk")
    wait_for_app(page)
    before = float(metric_value(page, "Candidate recall"))
    press_slider(page, "Friends-of-friends cap per user", "End")  # to its maximum
    expect(page.get_by_test_id("stMetric").filter(has_text="Candidate recall")).not_to_contain_text(
        f"{before}"
    )
    assert float(metric_value(page, "Candidate recall")) > before
    assert page.get_by_test_id("stException").count() == 0


def test_the_next_step_of_the_walkthrough_opens_at_its_heading(page, app_url):
    """The step buttons sit below a long text: the next step must not open scrolled to its end."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{app_url}/study?study=fraud&fraud.view=Walkthrough")
    wait_for_app(page)
    for heading in ("Frame as an ML task", "Data"):
        forward = page.get_by_role("button", name=heading, exact=False).last
        forward.scroll_into_view_if_needed()
        forward.click()
        wait_for_app(page)
        title = page.locator("#fraud-step")
        expect(title).to_have_text(heading)
        expect(title).to_be_in_viewport()
