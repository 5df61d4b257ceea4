"""What every study must do, whatever its domain: run at every knob's extremes with its full set of
finite metrics."""

import math

import pytest

import engine


def _extremes():
    for study in engine.list_studies():
        for knob in study.knobs:
            values = (False, True) if knob.is_switch else knob.options or (knob.low, knob.high)
            for value in values:
                if knob.id == "scale" and value > 2.5 * knob.default:  # keeps 2x, and 0.5 for fraud
                    continue  # large worlds are exercised by bench/, not on every test run
                yield pytest.param(study, knob.id, value, id=f"{study.id}:{knob.id}={value}")


@pytest.mark.parametrize(("study", "knob_id", "value"), _extremes())
def test_every_knob_runs_at_its_extremes(study, knob_id, value):
    result = engine.run(study, {knob_id: value}, seed=0)
    assert set(result.metrics) == {m.key for m in study.metrics}
    assert 0.0 <= result.metrics[study.quality_metric] <= 1.0
    assert all(math.isfinite(v) for v in result.metrics.values())
