import pytest

import engine
from engine.knobs import KnobError, validate_config
from engine.study import NO_CHANGE

STUDY = engine.get_study("recommendation")


def test_defaults_fill_in_and_values_keep_their_type():
    config = validate_config(STUDY.knobs, {"candidates": "300", "factors": "32", "scale": "1.0"})
    assert config["candidates"] == 300 and isinstance(config["candidates"], int)
    assert config["factors"] == 32
    assert config["scale"] == 1
    assert config["ranker"] == STUDY.knob("ranker").default


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"candidates": 5000}, "knob 'candidates' got 5000; expected a number from 10 to 500"),
        ({"candidates": "lots"}, "knob 'candidates' got 'lots'; expected a number from 10 to 500"),
        ({"candidates": 55.5}, "knob 'candidates' got 55.5"),
        ({"factors": 17}, "knob 'factors' got 17; expected one of 4, 8, 16, 32, 64, 128"),
        ({"ranker": "xgboost"}, "knob 'ranker' got 'xgboost'; expected one of none, logistic, gbdt"),
        ({"diversity": True}, "knob 'diversity' got True"),
        ({"colour": 1}, "unknown knob 'colour'; known knobs: candidate_model"),
    ],
)
def test_bad_values_name_the_knob_and_its_range(overrides, message):
    with pytest.raises(KnobError, match="^" + message.replace("(", r"\(")):
        validate_config(STUDY.knobs, overrides)


@pytest.mark.parametrize("study", engine.list_studies(), ids=lambda s: s.id)
def test_every_knob_default_is_inside_its_own_range(study):
    for knob in study.knobs:
        assert knob.validate(knob.default) == knob.default


@pytest.mark.parametrize("study", engine.list_studies(), ids=lambda s: s.id)
def test_every_knob_touches_real_stages(study):
    stage_ids = {s.id for s in study.stages}
    for knob in study.knobs:
        assert knob.stages and set(knob.stages) <= stage_ids, knob.id


@pytest.mark.parametrize(
    ("typed", "value"), [("true", True), ("off", False), ("0", False), ("Yes", True), (False, False)]
)
def test_switch_knobs_accept_the_usual_spellings(typed, value):
    knob = engine.get_study("fraud").knob("terminal_windows")
    assert knob.validate(typed) is value


def test_a_switch_rejects_anything_else_naming_its_values():
    with pytest.raises(KnobError, match="^knob 'terminal_windows' got 'maybe'; expected true or false$"):
        engine.get_study("fraud").knob("terminal_windows").validate("maybe")


def test_knobs_that_do_nothing_in_a_configuration_say_why():
    search = engine.get_study("search")
    dense_only = {**search.defaults(), "retriever": "dense", "rerank_depth": 0}
    assert "Nothing uses BM25" in search.knob("k1").idle_reason(dense_only)
    assert search.knob("k1").idle_reason(search.defaults()) is None  # the re-ranker reads BM25 scores
    assert search.knob("ann_ef").idle_reason(search.defaults())  # the default index is exact
    assert search.knob("ann_ef").idle_reason({**search.defaults(), "dense_index": "hnsw"}) is None
    assert search.knob("hybrid_weight").idle_reason({**search.defaults(), "retriever": "bm25"})
    recommender = engine.get_study("recommendation")
    assert recommender.knob("diversity").idle_reason({**recommender.defaults(), "candidates": 10})
    assert recommender.knob("diversity").idle_reason(recommender.defaults()) is None


def test_a_knob_value_reads_the_same_in_tables_as_on_its_slider():
    fraud, recommender = engine.get_study("fraud"), engine.get_study("recommendation")
    assert recommender.knob("scale").format_value(5) == "5x"
    assert recommender.knob("candidates").format_value(200) == "200 items"
    assert fraud.knob("label_delay").format_value(7) == "7 days"
    assert fraud.knob("false_alarm_cost").format_value(5.0) == "$5"
    assert fraud.knob("time_flags").format_value(True) == "on"
    assert fraud.knob("model").format_value("logistic") == "logistic"


def test_an_unchanged_metric_reads_as_no_change_not_as_a_gain():
    spec = engine.get_study("search").metric("ndcg@10")
    assert spec.format_delta(0.762, 0.762) == NO_CHANGE  # was "+0.000", coloured green in Compare
    assert spec.format_delta(0.763, 0.762) == "+0.001"
    assert engine.get_study("search").metric("zero_result_rate").format_delta(0.003, 0.003) == NO_CHANGE
