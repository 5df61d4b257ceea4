"""The Production page in AppTest: register, promote and roll back, serve, load-test, batch, plan."""

import dataclasses

import pytest

import engine
from engine.serving import process
from tests.app.pages import open_page

PAGE = "app_pages/production.py"


@pytest.fixture
def fresh_db(monkeypatch, tmp_path):
    monkeypatch.setenv("MLSD_LAB_DB", f"sqlite:///{tmp_path / 'lab.db'}")
    monkeypatch.setenv("MLSD_LAB_DATA", str(tmp_path))


def button(at, label):
    return next(b for b in at.button if b.label == label)


def view(at, name):
    at.segmented_control[0].set_value(name).run(timeout=180)
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("study", [s.id for s in engine.list_studies() if s.serving])
def test_the_page_opens_for_every_study_with_nothing_registered(fresh_db, study):
    at = open_page(PAGE, study=study)
    assert "No versions yet" in at.info[0].value
    view(at, "Serve and load-test")
    assert "Register a version first" in at.info[0].value


def test_register_promote_roll_back_and_diff(fresh_db):
    at = open_page(PAGE, study="fraud")
    button(at, "Register this design").click().run(timeout=180)
    at.session_state["fraud.model"] = "random_forest"  # as if moved on the study page
    button(at, "Register this design").click().run(timeout=180)
    assert not at.exception
    versions = at.dataframe[0].value
    assert list(versions["version"]) == [1, 2]
    assert "Model = random_forest" in versions["design"].iloc[1]
    for version in (1, 2):
        at.selectbox(key="fraud.production.registry.alias_target").set_value(version).run()
        button(at, "Promote to champion").click().run()
    assert list(at.dataframe[0].value["alias"]) == ["", "champion"]
    button(at, "Roll back champion").click().run()
    assert list(at.dataframe[0].value["alias"]) == ["champion", ""]
    history = at.dataframe[1].value
    assert list(history["action"]) == ["promote", "promote", "rollback"]
    changes = at.dataframe[2].value
    assert "model" in list(changes["what"])


def test_serve_load_test_batch_and_plan(fresh_db):
    at = open_page(PAGE, study="fraud")
    button(at, "Register this design").click().run(timeout=180)
    view(at, "Serve and load-test")
    button(at, "Start the endpoint").click().run(timeout=120)
    assert "127.0.0.1" in at.success[0].value
    assert any("curl -s -X POST http://127.0.0.1" in c.value for c in at.code)
    assert any("serves 1 session." in c.value and "MB (resident)" in c.value for c in at.caption)
    at.multiselect(key="fraud.production.serve.levels").set_value([1, 4]).run()
    at.number_input(key="fraud.production.serve.requests").set_value(100).run()
    button(at, "Run the load test").click().run(timeout=120)
    assert not at.exception
    levels = at.dataframe[0].value
    assert list(levels["concurrency"]) == [1, 4]
    assert (levels["errors"] == 0).all() and (levels["requests"] == 100).all()
    assert any("ran with no other heavy job" in m.value for m in at.markdown)
    assert at.get("plotly_chart")
    view(at, "Batch vs online")
    next(b for b in at.button if b.label.startswith("Run the batch job")).click().run(timeout=180)
    assert any("Nothing can be served from a batch" in m.value for m in at.markdown)
    assert int(at.metric[0].value.replace(",", "")) > 1000  # yesterday's payments
    view(at, "Capacity plan")
    # A generous SLO: on a busy machine (the endpoint runs at nice 10) c=1's p99 can pass 100 ms, and
    # the plan then falls back to the in-process estimate, rightly.
    at.number_input(key="fraud.production.capacity.slo").set_value(10_000.0).run()
    plan = at.dataframe[0].value
    cores = plan.loc[plan[""] == "Cores"]
    assert "load test at c=" in cores["how"].iloc[0]  # planned from the endpoint's measurement
    view(at, "Serve and load-test")
    button(at, "Stop the endpoint").click().run()
    assert not process.running()


def test_sessions_share_an_endpoint_and_past_the_cap_a_new_one_is_refused(fresh_db, monkeypatch):
    monkeypatch.setattr(process, "MAX_ENDPOINTS", 1)
    sessions = []
    for batch in (1, 1, 8):  # the third asks for other settings: a second endpoint
        at = open_page(PAGE, study="fraud")
        if not sessions:
            button(at, "Register this design").click().run(timeout=180)
        view(at, "Serve and load-test")
        at.number_input(key="fraud.production.serve.max_batch").set_value(batch).run()
        button(at, "Start the endpoint").click().run(timeout=120)
        assert not at.exception
        sessions.append(at)
    first, second, third = sessions
    assert second.success[0].value.split("pid ")[1][:6] == first.success[0].value.split("pid ")[1][:6]
    assert any("serves 2 sessions" in c.value for c in second.caption)
    assert "already runs its 1 endpoints" in third.warning[0].value
    assert "fraud v1 (2 sessions" in third.warning[0].value
    button(first, "Stop the endpoint").click().run()
    assert [n for _, n in process.shared()] == [1]  # the second still holds it
    button(second, "Stop the endpoint").click().run()
    assert not process.shared()
    button(third, "Start the endpoint").click().run(timeout=120)  # room again
    assert "127.0.0.1" in third.success[0].value
    button(third, "Stop the endpoint").click().run()
    assert not process.running()


def test_release_shadow_canary_and_statistics(fresh_db):
    at = open_page(PAGE, study="fraud")
    button(at, "Register this design").click().run(timeout=180)
    view(at, "Release")
    assert "needs two versions" in at.info[0].value
    at.session_state["fraud.model"] = "random_forest"  # as if moved on the study page
    button(at, "Register this design as the challenger").click().run(timeout=300)
    assert not at.exception, at.exception
    assert at.selectbox(key="fraud.production.release.challenger").value == 2
    assert {m.label for m in at.metric} >= {"same decision", "challenger p50", "challenger p99"}
    button(at, "Run the canary").click().run(timeout=180)
    assert not at.exception, at.exception
    steps = at.dataframe[0].value
    assert steps["decision"].iloc[-1] in ("promote", "roll back (metric)", "pause (no data)")
    assert (at.success or at.warning) and at.get("plotly_chart")
    at.text_input(key="fraud.production.release.steps").set_value("5, 50").run()
    assert "cannot run" in at.error[0].value and "100" in at.error[0].value  # nothing typed is lost
    assert at.text_input(key="fraud.production.release.steps").value == "5, 50"
    at.text_input(key="fraud.production.release.steps").set_value("5, 25, 50, 100").run()
    at.select_slider(key="fraud.production.release.repeats").set_value(100).run()
    next(b for b in at.button if b.label.startswith("Run 100 seeded canaries")).click().run(timeout=180)
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    assert float(labels["False rollbacks, peeking"].rstrip("%")) > float(
        labels["False rollbacks, O'Brien–Fleming"].rstrip("%")
    )
    assert len(at.get("plotly_chart")) == 2  # the timeline and the operating curve


def test_monitor_a_drift_scenario_with_retraining_on_alert(fresh_db):
    at = open_page(PAGE, study="fraud")
    button(at, "Register this design").click().run(timeout=180)
    view(at, "Monitor")
    at.selectbox(key="fraud.production.monitor.scenario").set_value("card_testing")
    at.radio(key="fraud.production.monitor.preset").set_value("psi")
    at.radio(key="fraud.production.monitor.policy").set_value("on_alert")
    next(b for b in at.button if b.label == "Run the serving period").click().run(timeout=300)
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["First alert"] == "day 14" and metrics["AP drop measured"] == "day 21"
    assert metrics["Retrains"] == "1"
    assert len(at.get("plotly_chart")) == 2  # the heatmap and the metric once labelled
    button(at, "Register the 1 retrained model(s)").click().run(timeout=120)
    view(at, "Registry")
    assert list(at.dataframe[0].value["version"]) == [1, 2]


def test_a_study_that_serves_nothing_says_so(fresh_db, monkeypatch):
    """Every study serves today; a new study's first commit may not yet."""
    studies = engine.study._registry()
    monkeypatch.setitem(studies, "pymk", dataclasses.replace(studies["pymk"], serving=None))
    at = open_page(PAGE, study="pymk")
    assert "declares nothing to serve" in at.info[0].value
