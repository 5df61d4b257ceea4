"""`python -m engine drift STUDY --scenario NAME ...`: a serving period with monitors, as JSON."""

from __future__ import annotations

import argparse
import json
import math

from engine.monitoring import lab, simulate
from engine.monitoring.monitors import PRESETS
from engine.monitoring.period import DAYS
from engine.serving.cli import registry_from_env
from engine.study import get_study


def add_commands(commands) -> None:
    command = commands.add_parser("drift", help="serve a registered design through a drift scenario")
    command.add_argument("study")
    command.add_argument("--scenario", required=True, help="a scenario name (`none` for no drift)")
    command.add_argument("--version", help="a number or an alias (default: the champion)")
    command.add_argument("--day", type=int, default=14, help="the first day of drift")
    command.add_argument("--days", type=int, default=DAYS)
    command.add_argument("--window", type=int, default=simulate.DEFAULT_WINDOW, help="requests per day")
    command.add_argument("--preset", choices=PRESETS, default="evidently")
    command.add_argument("--policy", choices=simulate.POLICIES, default="never")
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--register", action="store_true", help="register each retrain as a version")
    command.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    registry = registry_from_env()
    study = get_study(args.study)
    version = registry.resolve(study.id, args.version)
    period = lab.period(study, version, args.scenario, args.day, args.days)
    report = simulate.simulate(period, args.window, args.preset, args.policy, args.seed)
    registered = lab.register_retrains(registry, version, report) if args.register else []
    out = {
        "study": study.id,
        "version": version.version,
        "scenario": args.scenario,
        "drift_day": period.drift_day,
        "window": args.window,
        "preset": args.preset,
        "metric": period.metric_label,
        "label_delay_days": period.label_delay_days,
        "days": [
            {
                "day": day,
                "psi": _row(report.psi, day),
                "p_value": _row(report.p_value, day),
                "drift_score": _row(report.drift_score, day),
                "alert": bool(report.alerts[day]),
                "metric": _plain(report.metric[day]),
                "metric_known_on": day + period.label_delay_days,
            }
            for day in range(period.days)
        ],
        "alerts": [int(d) for d in report.alerts.nonzero()[0]],
        "first_alert": report.first_alert,
        "first_measured_drop": report.first_measured_drop,
        "retrains": [{"day": r.day, "reason": r.reason, "train_ms": r.train_ms} for r in report.retrains],
        "registered": [v.version for v in registered],
    }
    print(json.dumps(out, indent=2) if args.json else _text(out))
    return 0


def _row(frame, day: int) -> dict[str, float | None]:
    return {name: _plain(value) for name, value in frame.iloc[day].items()}


def _plain(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) else round(value, 6)


def _text(out: dict) -> str:
    lines = [
        f"{out['study']} v{out['version']}, scenario {out['scenario']} from day {out['drift_day']}, "
        f"{out['window']} requests a day, {out['preset']} rule"
    ]
    for day in out["days"]:
        flag = "ALERT" if day["alert"] else ""
        metric = "n/a" if day["metric"] is None else f"{day['metric']:.4f}"
        lines.append(
            f"  day {day['day']:>2}  score PSI {day['psi']['score']:.3f}  "
            f"KS p {day['p_value']['score']:.3g}  {out['metric']} {metric} "
            f"(known day {day['metric_known_on']})  {flag}"
        )
    lines.append(
        f"first alert: day {out['first_alert']}; drop measured on day {out['first_measured_drop']}; "
        f"retrains: {[(r['day'], r['reason']) for r in out['retrains']]}"
    )
    return "\n".join(lines)
