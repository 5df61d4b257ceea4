import pytest

import engine
from engine.knobs import KnobError, validate_config

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


def test_every_knob_default_is_inside_its_own_range():
    for knob in STUDY.knobs:
        assert knob.validate(knob.default) == knob.default


def test_every_knob_touches_real_stages():
    stage_ids = {s.id for s in STUDY.stages}
    for knob in STUDY.knobs:
        assert knob.stages and set(knob.stages) <= stage_ids, knob.id
