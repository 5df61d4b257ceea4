"""A serving period day by day: monitors on every window, the quality metric once labels arrive, and
a retraining policy that swaps the model (and the monitors' reference) when it fires."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.monitoring import monitors
from engine.monitoring.period import Period, Window

POLICIES = ("never", "scheduled", "on_alert")
DEFAULT_WINDOW = 1000  # requests per daily window
SCHEDULE_DAYS = 7
REFERENCE_DAYS = 3  # after a retrain, the monitors' reference: the new model on the days before
BASELINE_DAYS = 5  # days of metric before a drop can be told from normal
BASELINE_WEEK = 7  # the normal level a day is compared with: the days before it
METRIC_REQUESTS = 2000  # labelled requests per day the quality metric is measured on


@dataclass(frozen=True)
class Retrain:
    day: int  # the new model serves from this day
    train_ms: float
    reason: str  # "schedule" or "alert on day D"
    model: Any = field(repr=False)


@dataclass
class Report:
    period: Period
    window: int
    preset: str
    policy: str
    columns: list[str]
    drift_score: pd.DataFrame  # days × columns: statistic over threshold (≥ 1 drifts)
    psi: pd.DataFrame  # days × columns
    p_value: pd.DataFrame  # days × columns: KS (numeric) or chi-squared (categorical)
    method: dict[str, str]  # column → the statistic the preset used
    alerts: np.ndarray  # per day: the window drifted
    metric: np.ndarray  # per day: the metric of the last `metric_days` of traffic (known label_delay later)
    retrains: list[Retrain]

    @property
    def first_alert(self) -> int | None:
        days = np.flatnonzero(self.alerts)
        return int(days[0]) if days.size else None

    @property
    def first_measured_drop(self) -> int | None:
        """The day a drop of the quality metric is first measured (its labels arrived): the first
        day whose metric falls below the previous week's level by the period's `drop_share` and by
        3 σ of that week."""
        sign = 1 if self.period.higher_is_better else -1
        values = sign * self.metric
        for day in range(BASELINE_DAYS, values.size):
            week = values[max(0, day - BASELINE_WEEK) : day]
            limit = week.mean() - max(self.period.drop_share * abs(week.mean()), 3 * week.std(ddof=1))
            if values[day] < limit:
                return day + self.period.label_delay_days
        return None

    @property
    def retrain_seconds(self) -> float:
        return sum(r.train_ms for r in self.retrains) / 1000


def simulate(
    period: Period,
    window: int = DEFAULT_WINDOW,
    preset: str = "evidently",
    policy: str = "never",
    seed: int = 0,
    progress: Callable[[float, str], None] | None = None,
) -> Report:
    if preset not in monitors.PRESETS:
        raise ValueError(f"preset must be one of {', '.join(monitors.PRESETS)}")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}")
    if window < 10:
        raise ValueError("a monitoring window needs at least 10 requests")
    rng = np.random.default_rng(seed)
    model = period.initial_model()
    reference = period.reference(model, window, rng)
    cols = monitors.columns(period.features)
    scores, psis, p_values, alerts, metric, retrains, labelled = [], [], [], [], [], [], []
    method: dict[str, str] = {}
    pending: tuple[int, int] | None = None  # (the day a retrain is due, the day of its alert)
    for day in range(period.days):
        if progress:
            progress(day / period.days, f"Day {day + 1} of {period.days}")
        due = policy == "scheduled" and day > 0 and day % SCHEDULE_DAYS == 0
        if due or (pending and pending[0] == day):
            model, train_ms = period.retrain(day)
            reason = "schedule" if due else f"alert on day {pending[1]}"
            retrains.append(Retrain(day, train_ms, reason, model))
            reference = _recent_reference(period, day, model, window, rng)
            pending = None
        current = period.serve(day, model, window, rng)
        verdicts = {
            name: monitors.judge(_column(reference, name), _column(current, name), kind, preset, window)
            for name, kind in cols
        }
        method = {name: v.method for name, v in verdicts.items()}
        scores.append({name: v.drift_score for name, v in verdicts.items()})
        psis.append({name: v.psi for name, v in verdicts.items()})
        p_values.append({name: v.p_value for name, v in verdicts.items()})
        alerts.append(monitors.window_drifts(verdicts, preset))
        labelled.append(
            current if window >= METRIC_REQUESTS else period.serve(day, model, METRIC_REQUESTS, rng)
        )
        metric.append(period.metric(_pooled(labelled[-period.metric_days :])))
        if policy == "on_alert" and alerts[-1] and pending is None and not _just_retrained(retrains, day):
            # Retrain once the alert's day is labelled: a model trained earlier has not seen it.
            pending = (day + period.label_delay_days + 1, day)
    if progress:
        progress(1.0, "Done")
    names = [name for name, _ in cols]
    return Report(
        period=period,
        window=window,
        preset=preset,
        policy=policy,
        columns=names,
        drift_score=pd.DataFrame(scores, columns=names),
        psi=pd.DataFrame(psis, columns=names),
        p_value=pd.DataFrame(p_values, columns=names),
        method=method,
        alerts=np.array(alerts),
        metric=np.array(metric),
        retrains=retrains,
    )


def _just_retrained(retrains: list[Retrain], day: int) -> bool:
    """An alert on the day a new model started compares it with a fresh reference: let it settle."""
    return bool(retrains) and retrains[-1].day == day


def _recent_reference(period: Period, day: int, model, window: int, rng) -> Window:
    """The new model's reference: its answers on the last few days' traffic, the world it now serves
    (input monitors need no labels, so the reference need not wait for them)."""
    days = range(max(0, day - REFERENCE_DAYS), max(day, 1))
    return _pooled([period.serve(d, model, max(1, window // len(days)), rng) for d in days])


def _pooled(windows: list[Window]) -> Window:
    return Window(
        features=pd.concat([w.features for w in windows], ignore_index=True),
        score=np.concatenate([w.score for w in windows]),
        outcome=np.concatenate([w.outcome for w in windows]),
    )


def _column(window: Window, name: str) -> np.ndarray:
    return window.score if name == monitors.SCORE else window.features[name].to_numpy()
