"""Walkthrough text is filled from the live run; the graph is the study's pipeline."""

import networkx as nx
import pytest

import engine
from engine.content import load_steps, render
from engine.graph import architecture, echarts_option, format_latency

STUDY = engine.get_study("recommendation")


# Every study's seven steps, placeholders and timed stages: engine.check (tests/unit/test_studies.py).


def test_a_search_without_a_re_ranker_draws_no_training_time():
    timed = engine.run("search", {"rerank_depth": 0}, seed=0).stage_ms()
    assert "Ranker_Training" not in timed and "Catalogue_Index" in timed


def test_walkthrough_numbers_follow_the_knobs():
    step = next(s for s in load_steps(STUDY) if s.title == "Evaluation")
    texts = {}
    for n in (50, 400):
        result = engine.run(STUDY, {"candidates": n}, seed=0)
        texts[n] = render(step.body, STUDY, result, lambda cfg: engine.run(STUDY, cfg, seed=0))
        expected = STUDY.metric("candidate_recall@N").format(result.metrics["candidate_recall@N"])
        assert f"Candidate recall@N {expected}" in texts[n]
    assert texts[50] != texts[400]


def test_graph_is_the_pipeline_with_latencies_and_lit_stages():
    result = engine.run(STUDY, {}, seed=0)
    graph = architecture(STUDY, result, touched=["candidates"])
    chain = [
        "User",
        "API_Gateway",
        "Feature_Store",
        "Model_Serving",
        "Candidate_Generation",
        "Ranking",
        "Post_Processing",
        "User",
    ]
    assert nx.is_path(graph, chain)
    assert graph.nodes["Ranking"]["ms"] == result.stage_ms()["Ranking"] > 0
    lit = {n for n, d in graph.nodes(data=True) if d["highlighted"]}
    assert lit == {"Candidate_Generation", "Ranking", "Post_Processing"}
    option = echarts_option(graph, selected="Ranking")
    labels = {node["name"]: node["label"]["formatter"] for node in option["baseOption"]["series"][0]["data"]}
    assert labels["Ranking"].startswith("Ranking\n") and "/ request" in labels["Ranking"]
    assert len(option["baseOption"]["series"][0]["links"]) == graph.number_of_edges()


@pytest.mark.parametrize("study", [s for s in engine.list_studies() if s.release], ids=lambda s: s.id)
def test_the_router_and_the_monitor_join_the_graph_only_when_production_is_in_use(study):
    assert "Router" not in architecture(study)
    graph = architecture(study, production=True)
    place = study.release.placement
    assert nx.is_path(graph, ["Model_Registry", "Router", place.serving])
    assert nx.is_path(graph, [place.watched, "Monitor", place.retraining])
    assert not graph.has_edge("Model_Registry", place.serving)  # every version now goes through the router
    positions = [d["pos"] for _, d in graph.nodes(data=True)]
    assert len(set(positions)) == len(positions)  # no box drawn on top of another


def test_offline_stages_longer_than_a_second_read_in_seconds():

    assert format_latency(11_116.3, online=False) == "11.1 s / run"
    assert format_latency(250.0, online=False) == "250.0 ms / run"
    assert format_latency(0.5, online=True) == "500 µs / request"


def test_the_serving_cost_reads_as_dollars_a_month_once():
    spec = engine.get_study("recommendation").metric("cost_usd_month")
    assert spec.format(6.684) == "$7/mo"  # whole dollars: the estimate is rough


def test_the_pareto_chart_marks_a_run_once_and_bounds_a_score_at_one():
    from ui.views import pareto_option

    study = engine.get_study("search")
    runs = {("a",): engine.run(study, {"rerank_depth": 0}, seed=0), ("b",): engine.run(study, {}, seed=0)}
    option = pareto_option(study, runs, current=("b",), baseline=("b",))
    names = [series["name"] for series in option["series"]]
    assert "Current (the baseline)" in names and "Baseline" not in names
    assert option["yAxis"]["max"] <= 1.0
    apart = pareto_option(study, runs, current=("b",), baseline=("a",))
    assert {"Baseline", "Current"} <= {series["name"] for series in apart["series"]}


def test_the_compare_table_colours_a_change_by_whether_it_is_better_and_leaves_noise_plain():
    from engine import palette
    from engine.study import NO_CHANGE
    from ui.views import BETTER, compare_table

    study = engine.get_study("recommendation")
    base, wide = engine.run(study, {}, seed=0), engine.run(study, {"candidates": 500}, seed=0)
    styler = compare_table(study, base, wide)
    table, colour = styler.data, styler._compute().ctx
    column = list(table.columns).index("B − A")

    def shade(label):
        return dict(colour.get((list(table.index).index(label), column), [])).get("color")

    assert table.loc["Candidate pool N", "B"] == "500 items"  # the knob that moved, by its label
    assert table.loc["Candidate recall@N", "B − A"].startswith("+") and shade("Candidate recall@N") == BETTER
    wider = study.metric("candidate_recall@N")
    assert shade(wider.label) == BETTER and palette.RED != BETTER
    plain = [label for label, delta in table["B − A"].items() if delta == NO_CHANGE]
    assert plain and all(shade(label) is None for label in plain)


def test_no_change_has_no_arrow_and_no_colour_while_a_real_change_is_coloured_by_direction():
    from engine.study import NO_CHANGE
    from ui.views import delta_style

    assert delta_style(NO_CHANGE, higher_is_better=True) == {"delta_color": "off", "delta_arrow": "off"}
    assert delta_style("+0.021", higher_is_better=True) == {"delta_color": "normal"}
    assert delta_style("+3.20 ms", higher_is_better=False) == {"delta_color": "inverse"}


def test_the_ranges_caption_says_which_difference_the_approximately_equal_sign_tests():
    from ui.views import ranges_text

    recommendation = engine.get_study("recommendation")
    paired = ranges_text(recommendation, engine.run(recommendation, {}, seed=0))
    assert "paired difference" in paired and "evaluation users" in paired
    assert "narrower than these" in paired  # so a coloured change inside the ranges is not a contradiction
    fraud = engine.get_study("fraud")
    unpaired = ranges_text(fraud, engine.run(fraud, {}, seed=0))
    assert "paired" not in unpaired and "both runs' ranges added" in unpaired
