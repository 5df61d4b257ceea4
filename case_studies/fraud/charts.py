"""The fraud study's own charts (ECharts options), drawn from a run's daily series."""

from __future__ import annotations

from engine import Panel, palette


def _days(result) -> list[str]:
    return [f"day {d}" for d in range(len(result.artifacts["daily"]["alerts"]))]


def _marks(result) -> dict:
    """Vertical lines where the drift starts and where a retrained model goes live."""
    lines = [{"xAxis": f"day {d}", "name": "retrained"} for d in result.artifacts.get("retrain_days", [])]
    if result.artifacts.get("drift_day") is not None:
        lines.append({"xAxis": f"day {result.artifacts['drift_day']}", "name": "drift starts"})
    return {"symbol": "none", "label": {"formatter": "{b}"}, "data": lines, "silent": True}


def _base(result, y_name: str) -> dict:
    return {
        "animation": False,
        "legend": {"bottom": 0},
        "grid": {"left": 10, "right": 20, "top": 30, "bottom": 50, "containLabel": True},
        "xAxis": {"type": "category", "data": _days(result)},
        "yAxis": {"type": "value", "name": y_name, "nameTextStyle": {"align": "left"}},
    }


def _rounded(values) -> list:
    return [None if v != v else round(v, 3) for v in values]  # NaN (no fraud in the window) → gap


def precision_over_time(result, baseline) -> dict:
    series = [
        {
            "type": "line",
            "name": "Current",
            "data": _rounded(result.artifacts["daily"]["ap_7d"]),
            "markLine": _marks(result),
            "symbolSize": 6,
        }
    ]
    if baseline is not None and baseline.config != result.config:
        series.append(
            {
                "type": "line",
                "name": "Baseline",
                "data": _rounded(baseline.artifacts["daily"]["ap_7d"]),
                "lineStyle": {"type": "dashed"},
                "itemStyle": {"color": palette.EDGE},
                "symbolSize": 4,
            }
        )
    return {**_base(result, "AP, trailing 7 days"), "series": series}


def alerts_against_capacity(result, baseline) -> dict:
    capacity = result.config["review_capacity"]
    option = _base(result, "alerts")
    # The axis must reach the capacity, or ECharts drops the line when every day is below it.
    option["yAxis"]["max"] = max(capacity, *result.artifacts["daily"]["alerts"]) + 1
    return {
        **option,
        "series": [
            {
                "type": "bar",
                "name": "Alerts",
                "data": result.artifacts["daily"]["alerts"],
                "markLine": {
                    "symbol": "none",
                    "silent": True,
                    "data": [{"yAxis": capacity, "name": "review capacity"}],
                    "label": {"formatter": "capacity {c}"},
                    "lineStyle": {"color": palette.RED, "type": "solid"},
                },
            }
        ],
    }


PANELS = (
    Panel(
        "Average precision through the test period",
        "Each point scores the trailing week. Turn on a new fraud pattern to watch a static model decay, "
        "then a retraining cadence to see it recover once the new labels arrive.",
        precision_over_time,
    ),
    Panel(
        "Alerts per day against the review capacity",
        "Alerts above the red line are approved unread. The review threshold is tuned with this "
        "capacity built in, so a day above it is one the tuning weeks did not foresee.",
        alerts_against_capacity,
    ),
)
