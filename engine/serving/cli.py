"""The Production commands of `python -m engine`: registry, serve, loadtest, batch, capacity."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict

from engine.serving import batch as batch_job
from engine.serving import capacity, loadtest, process, sizing
from engine.serving.registry import Registry
from engine.study import get_study

DEFAULT_DB = f"sqlite:///{process.ROOT / 'data' / 'mlsd_lab.db'}"


def add_commands(commands) -> None:
    registry = commands.add_parser("registry", help="model versions and their aliases")
    actions = registry.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="versions, aliases and the alias history")
    listing.add_argument("study")
    listing.add_argument("--json", action="store_true")
    register = actions.add_parser("register", help="train a configuration and register it as a version")
    register.add_argument("study")
    register.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE")
    register.add_argument("--seed", type=int, default=0)
    register.add_argument("--json", action="store_true")
    promote = actions.add_parser("promote", help="move the champion alias to a version")
    promote.add_argument("study")
    promote.add_argument("version", type=int)
    rollback = actions.add_parser("rollback", help="move the champion back to the version before")
    rollback.add_argument("study")

    serve = commands.add_parser("serve", help="run a version's HTTP endpoint in the foreground")
    serve.add_argument("study")
    serve.add_argument("--version", help="a number or an alias (default: the champion)")
    serve.add_argument("--port", type=int, default=8600)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--max-batch", type=int, default=1, help="micro-batching: requests per call")
    serve.add_argument("--max-wait-ms", type=float, default=10.0, help="micro-batching: longest wait")
    serve.add_argument("--idle-timeout", type=float, default=None, help="exit after this many idle seconds")
    serve.add_argument(
        "--nice", type=int, default=0, help="lower the server's CPU priority by this much (the app uses 10)"
    )

    load = commands.add_parser("loadtest", help="start a server, measure it at each concurrency, stop it")
    load.add_argument("study")
    load.add_argument("--version")
    load.add_argument("--concurrency", default="1,16", help="comma-separated levels")
    load.add_argument("--requests", type=int, default=500, help="requests per level (a cap)")
    load.add_argument("--seconds", type=float, default=10.0, help="time per level (a cap)")
    load.add_argument("--max-batch", type=int, default=1)
    load.add_argument("--json", action="store_true")

    batch = commands.add_parser("batch", help="run the batch job with a version's artifact")
    batch.add_argument("study")
    batch.add_argument("--version")
    batch.add_argument("--json", action="store_true")

    plan = commands.add_parser("capacity", help="a capacity and cost plan from in-process measurements")
    plan.add_argument("study")
    plan.add_argument("--version")
    plan.add_argument("--dau", type=int, required=True)
    plan.add_argument("--requests-per-user", type=float, default=capacity.Inputs.requests_per_user)
    plan.add_argument("--peak", type=float, default=capacity.Inputs.peak_factor)
    plan.add_argument("--json", action="store_true")


def registry_from_env() -> Registry:
    return Registry.from_url(os.environ.get("MLSD_LAB_DB", DEFAULT_DB))


def run(args: argparse.Namespace, parse_overrides) -> int:
    handler = {
        "registry": _registry,
        "serve": _serve,
        "loadtest": _loadtest,
        "batch": _batch,
        "capacity": _capacity,
    }[args.command]
    return handler(args, parse_overrides)


def _registry(args, parse_overrides) -> int:
    registry = registry_from_env()
    study = get_study(args.study).id
    if args.action == "register":
        model = registry.register(study, parse_overrides(args.set), args.seed)
        print(
            json.dumps(model.to_dict(), indent=2)
            if args.json
            else f"registered {study} version {model.version}"
        )
    elif args.action == "promote":
        registry.promote(study, args.version)
        print(f"{study}: champion → version {args.version}")
    elif args.action == "rollback":
        print(f"{study}: champion rolled back to version {registry.rollback(study)}")
    else:
        listing = {
            "versions": [v.to_dict() for v in registry.versions(study)],
            "aliases": registry.aliases(study),
            "history": [asdict(e) for e in registry.history(study)],
        }
        if args.json:
            print(json.dumps(listing, indent=2))
        else:
            aliases = {v: a for a, v in listing["aliases"].items()}
            for v in listing["versions"]:
                print(
                    f"v{v['version']}  {aliases.get(v['version'], ''):10}  {v['sha256'][:12]}  {v['config']}"
                )
    return 0


def _serve(args, _) -> int:
    from engine.serving.server import serve

    if args.nice:
        os.nice(args.nice)
    registry = registry_from_env()
    model = registry.resolve(get_study(args.study).id, args.version)
    predictor = registry.load(model)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}, reachable beyond this machine", file=sys.stderr)
    info = {"study": model.study, "version": model.version, "config": model.config, "sha256": model.sha256}
    print(f"serving {model.study} v{model.version} on http://{args.host}:{args.port}", file=sys.stderr)
    serve(predictor, info, args.host, args.port, args.max_batch, args.max_wait_ms, args.idle_timeout)
    return 0


def _loadtest(args, _) -> int:
    registry = registry_from_env()
    model = registry.resolve(get_study(args.study).id, args.version)
    bodies = registry.load(model).traffic(1000, seed=0)
    levels = tuple(int(c) for c in args.concurrency.split(","))
    server = process.start(model.study, model.version, max_batch=args.max_batch)
    try:
        results = loadtest.run(server.port, bodies, levels, args.requests, args.seconds)
    finally:
        server.stop()
    rows = [
        {
            k: r.to_dict()[k]
            for k in ("concurrency", "p50_ms", "p95_ms", "p99_ms", "rps", "errors", "requests")
        }
        for r in results
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(
                f"c={r['concurrency']:<3} p50 {r['p50_ms']:.2f} ms  p95 {r['p95_ms']:.2f}  "
                f"p99 {r['p99_ms']:.2f}  {r['rps']:,.0f} req/s  errors {r['errors']}"
            )
    return 0


def _batch(args, _) -> int:
    registry = registry_from_env()
    predictor = registry.load(registry.resolve(get_study(args.study).id, args.version))
    job = batch_job.run_batch(predictor)
    traffic = predictor.traffic(2000, seed=1)
    replay = batch_job.replay(predictor, job, traffic)
    out = {**job.to_dict(), "coverage": replay.hit_rate, "fallbacks": replay.fallbacks}
    print(json.dumps(out, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))
    return 0


def _capacity(args, _) -> int:
    registry = registry_from_env()
    study = get_study(args.study)
    model = registry.resolve(study.id, args.version)
    inputs = capacity.Inputs(dau=args.dau, requests_per_user=args.requests_per_user, peak_factor=args.peak)
    lines = capacity.plan(inputs, sizing.measure(study, model, registry.load(model), inputs))
    if args.json:
        print(json.dumps([asdict(line) for line in lines], indent=2))
    else:
        for line in lines:
            print(f"{line.label:22} {line.value:>14,.2f} {line.unit:15} = {line.formula}")
    return 0
