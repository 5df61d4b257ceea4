"""Headless access to the studies: `python -m engine list`, `run STUDY ...`, `lessons [STUDY]`,
`check STUDY`, `new-study ID`, and the Production commands (`registry`, `serve`, `loadtest`, `batch`,
`capacity`, `canary`, `drift`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine import template
from engine.data import DataError
from engine.interview import cli as interview_cli
from engine.knobs import KnobError
from engine.monitoring import cli as monitoring_cli
from engine.release import cli as release_cli
from engine.serving import cli as serving_cli
from engine.serving.artifact import ArtifactError
from engine.serving.process import ServerError
from engine.serving.registry import RegistryError
from engine.study import get_study, list_studies, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="studies and their knobs (ranges, defaults)")
    runner = commands.add_parser("run", help="run one study once and print its metrics")
    runner.add_argument("study")
    runner.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE")
    runner.add_argument("--seed", type=int, default=0)
    runner.add_argument("--data", type=Path, help="your own data: a file, or a folder of files (see `list`)")
    runner.add_argument("--json", action="store_true", help="print JSON (the default is a table)")
    taught = commands.add_parser("lessons", help="every declared lesson, measured at its seeds")
    taught.add_argument("study", nargs="?", help="one study (default: all)")
    taught.add_argument("--json", action="store_true")
    stated = commands.add_parser("claims", help="direction words in a study's text that no measurement backs")
    stated.add_argument("study", nargs="?", help="one study (default: all)")
    checker = commands.add_parser("check", help="the conformance check a study must pass")
    checker.add_argument("study")
    checker.add_argument("--only", action="append", default=[], metavar="PART", help="one part (repeatable)")
    template.add_command(commands)
    serving_cli.add_commands(commands)
    release_cli.add_commands(commands)
    monitoring_cli.add_commands(commands)
    interview_cli.add_commands(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            _print_list()
            return 0
        if args.command == "lessons":
            return _lessons(args)
        if args.command == "check":
            return _check(args)
        if args.command == "claims":
            return _claims(args)
        if args.command == "new-study":
            return template.run(args)
        if args.command == "interview":
            return interview_cli.run(args)
        if args.command == "canary":
            return release_cli.run(args)
        if args.command == "drift":
            return monitoring_cli.run(args)
        if args.command != "run":
            return serving_cli.run(args, _overrides)
        return _run(args)
    except (KnobError, DataError, KeyError, RegistryError, ArtifactError, ServerError, ValueError) as err:
        message = err.args[0] if err.args else str(err)
        print(f"error: {message}", file=sys.stderr)
        return 2


def _print_list() -> None:
    for study in list_studies():
        print(f"{study.id}: {study.question}")
        for knob in study.knobs:
            print(f"  {knob.id} (default {knob.default}): {knob.describe_range()}")
        print(f"  data: {study.upload.format}")


def _read_data(study, path: Path):
    """A file's bytes; for a multi-file format, a folder holding its files, as {name: bytes}."""
    if study.upload.files:
        if not path.is_dir():
            raise DataError(f"{path} is not a folder; expected one holding {', '.join(study.upload.files)}")
        return {f.name: f.read_bytes() for f in path.iterdir() if f.is_file()}
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    return path.read_bytes()


def _overrides(items: list[str]) -> dict[str, str]:
    overrides = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise KnobError(f"--set expects KNOB=VALUE, got {item!r}")
        overrides[name.strip()] = value.strip()
    return overrides


def _run(args: argparse.Namespace) -> int:
    study = get_study(args.study)
    overrides = _overrides(args.set)
    data = None if args.data is None else study.upload.load(_read_data(study, args.data))
    result = run(study, overrides, seed=args.seed, data=data)
    if args.json:
        print(result.to_json())
    else:
        for spec in study.metrics:
            print(f"{spec.label:28} {spec.format(result.metrics.get(spec.key))}")
    return 0


SHOULD = {
    "up": "should rise",
    "down": "should fall",
    "same": "should not move",
    "not_up": "should not rise",
    "not_down": "should not fall",
}


def _lessons(args: argparse.Namespace) -> int:
    from engine.lessons import report

    studies = [get_study(args.study)] if args.study else list_studies()
    rows = [row for study in studies for row in report(study)]
    if args.json:
        print(json.dumps(rows, indent=2, allow_nan=False))
        return 0 if all(row["holds"] for row in rows) else 1
    for row in rows:
        spec = get_study(row["study"]).metric(row["metric"])
        mark = "holds" if row["holds"] else "FAILS"
        print(f"{row['study']}.{row['lesson']} [{mark}]: {row['claim']}")
        print(f"  {row['change']}: {spec.label} {SHOULD[row['direction']]}")
        for e in row["seeds"]:
            change = spec.format_change(e["delta"])
            band = spec.format_change(e["band"])[1:]
            print(
                f"  seed {e['seed']}: {spec.format(e['before'])} → {spec.format(e['after'])} "
                f"({change} ± {band}){'' if e['holds'] else '  <- does not hold'}"
            )
    return 0 if all(row["holds"] for row in rows) else 1


def _check(args: argparse.Namespace) -> int:
    from engine.check import CHECKS, StudyContractError, check_study

    study = get_study(args.study)
    unknown = [part for part in args.only if part not in CHECKS]
    if unknown:
        raise KeyError(f"unknown part(s) {', '.join(unknown)}; the parts are {', '.join(CHECKS)}")
    try:
        check_study(study, only=tuple(args.only))
    except StudyContractError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"{study.id}: every check passed ({', '.join(args.only or CHECKS)})")
    return 0


def _claims(args: argparse.Namespace) -> int:
    from engine.claims import claims

    for study in [get_study(args.study)] if args.study else list_studies():
        found = claims(study)
        backed = [c for c in found if c.backed]
        print(f"{study.id}: {len(found)} sentences assert a direction, {len(backed)} quote a measurement")
        for claim in found:
            if not claim.backed:
                print(f"  [{claim.source}] {claim.sentence}")
    return 0
