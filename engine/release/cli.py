"""`python -m engine canary STUDY ...`: a canary release on the registry, and its statistics."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from engine.release import canary, lab
from engine.serving.cli import registry_from_env
from engine.serving.registry import CHAMPION
from engine.study import get_study


def add_commands(commands) -> None:
    command = commands.add_parser("canary", help="release a challenger by canary on the study's world")
    command.add_argument("study")
    command.add_argument("--champion", help="a number or an alias (default: the champion)")
    command.add_argument("--challenger", help="a number or an alias (default: the challenger alias)")
    command.add_argument("--steps", default="5,25,50,100", help="traffic shares in %%, ending at 100")
    command.add_argument("--rpm", type=int, help="requests per minute (default: the study's)")
    command.add_argument("--step-minutes", type=float, default=canary.Schedule.step_minutes)
    command.add_argument("--interval", type=float, default=canary.Schedule.interval_minutes, help="minutes")
    command.add_argument("--alpha", type=float, default=canary.Schedule.alpha)
    command.add_argument("--rule", choices=canary.RULES, default=canary.Schedule.rule)
    command.add_argument("--inject-errors", type=float, default=0.0, help="challenger error rate, 0-1")
    command.add_argument("--inject-ms", type=float, default=0.0, help="latency added to the challenger")
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--repeats", type=int, default=0, help="also run this many seeded canaries")
    command.add_argument("--worse-by", type=float, default=0.1, help="the miss rate's effect (0.1: 10 %%)")
    command.add_argument("--dry-run", action="store_true", help="leave the registry's aliases alone")
    command.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    registry = registry_from_env()
    study = get_study(args.study)
    pair = lab.pick(registry, study.id, args.champion, args.challenger)
    schedule = canary.Schedule(
        steps=_steps(args.steps),
        rpm=args.rpm or pair.release.default_rpm,
        step_minutes=args.step_minutes,
        interval_minutes=args.interval,
        alpha=args.alpha,
        rule=args.rule,
    )
    injection = lab.Injection(args.inject_ms, args.inject_errors)
    rollout = lab.run_canary(registry, pair, schedule, args.seed, injection, apply=not args.dry_run)
    out = {
        "study": study.id,
        "champion": pair.champion.version,
        "challenger": pair.challenger.version,
        "metric": pair.release.metric_label,
        "schedule": asdict(schedule),
        "steps": rollout.steps(),
        "outcome": str(rollout.outcome[0]),
        "champion_after": registry.aliases(study.id).get(CHAMPION),
    }
    if args.repeats:
        result = lab.statistics(registry, pair, schedule, args.repeats, args.worse_by, args.seed)
        out["rates"] = {
            "repeats": result.repeats,
            "promotion": result.actual[canary.PROMOTED],
            "rollback": result.actual[canary.ROLLED_BACK],
            "false_rollback": result.false_rollback,
            "miss": result.miss_rate,
            "worse_by": result.worse_by,
            "operating_curve": result.curve,
            "sample_sizes": result.sample_sizes,
            "detectable_drop": result.detectable,
        }
    print(json.dumps(out, indent=2, default=float) if args.json else _text(out, pair.release))
    return 0


def _steps(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--steps must be numbers separated by commas, got {text!r}") from None


def _text(out: dict, release) -> str:
    lines = [f"{out['study']}: v{out['challenger']} against champion v{out['champion']} on {out['metric']}"]
    for step in out["steps"]:
        detail = ""
        if step["metric_delta"] is not None:
            low, high = step["ci"]
            detail = (
                f"n={step['n']:,}  Δ {release.format(step['metric_delta'])} "
                f"({step['relative_delta']:+.0%}), 95 % CI {release.format(low)} to {release.format(high)}"
            )
        reason = f" ({step['reason']})" if step["reason"] else ""
        lines.append(f"  {step['traffic']:>5g} %  {detail:60} {step['decision']}{reason}")
    lines.append(f"outcome: {out['outcome']}; champion is v{out['champion_after']}")
    if "rates" in out:
        rates = out["rates"]
        lines.append(
            f"over {rates['repeats']} seeded canaries: promoted {rates['promotion'][0]:.0%}, "
            f"false rollback (equal models) sequential {rates['false_rollback']['sequential'][0]:.1%} "
            f"vs peeking {rates['false_rollback']['peeking'][0]:.1%}, "
            f"missed a {rates['worse_by']:.0%} drop {rates['miss'][0]:.1%}"
        )
    return "\n".join(lines)
