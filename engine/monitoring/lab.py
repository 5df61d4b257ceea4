"""A serving period for a registered design: the study's live world, the monitors, and the
registry versions each retrain becomes."""

from __future__ import annotations

from engine.data import DataError
from engine.memo import Memo
from engine.monitoring.period import DAYS, Period, check_request
from engine.monitoring.simulate import Report
from engine.serving.registry import ModelVersion, Registry
from engine.study import Study

_periods = Memo(max_entries=6)


def build(
    study: Study, config: dict, seed: int, data, scenario: str, drift_day: int = 14, days: int = DAYS
) -> Period:
    """The live world of `config` over a serving period, once the request passes the checks every
    study's period needs (the simulated world, a known scenario, a drift day inside the period)."""
    if study.drift is None or study.implementation().period is None:
        raise DataError(f"The {study.title} study declares no drift scenarios.")
    check_request(study.drift.scenarios, scenario, drift_day, days, data)
    return study.implementation().period(config, seed, data, scenario, drift_day, days)


def period(study: Study, version: ModelVersion, scenario: str, drift_day: int, days: int = DAYS) -> Period:
    """The live world of `version` over a serving period (memoised: a period holds trained models)."""
    key = (study.id, version.sha256, scenario, drift_day, days)
    config, seed = version.config, version.seed
    return _periods.get(key, lambda: build(study, config, seed, None, scenario, drift_day, days))


def register_retrains(registry: Registry, version: ModelVersion, report: Report) -> list[ModelVersion]:
    """Each retrain of `report` as a new registry version, its lineage in the data identity."""
    registered = []
    for retrain in report.retrains:
        lineage = {
            "retrained_from": version.version,
            "scenario": report.period.scenario,
            "drift_day": report.period.drift_day,
            "serving_day": retrain.day,
            "reason": retrain.reason,
        }
        registered.append(
            registry.add(
                version.study,
                version.config,
                version.seed,
                {**version.data, "retrain": lineage},
                report.period.predictor(retrain.model),
                {"train_s": retrain.train_ms / 1000},
            )
        )
    return registered
