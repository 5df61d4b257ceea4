"""`check_study`: the conformance check a study passes, in the spirit of scikit-learn's
`check_estimator`. Each check is a function of the study that returns the problems it found, each
naming the study, the part and the fix; the test suite runs every check on every study, and a new
study's author runs them first (`python -m engine check ID`).

    declaration      every part present, well typed and consistent (ids, stages, metrics, lessons)
    implementation   the System the study returns provides a hook for every declared part
    run              a run reports every declared metric, timing and uncertainty, and nothing else
    knobs            every knob runs at its extremes, and no memoised step reads an undeclared knob
    lessons          every lesson holds at every seed it declares
    cli              `python -m engine run ID --json` prints the run's metrics
    serving          a registered version round-trips through the registry and answers its example
    drift            the serving period refuses an upload, an unknown scenario and a day outside it
    content          the walkthrough's seven steps render, every placeholder resolved
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.data import DataError
from engine.declare import Drift, Lesson, Release, Serving, System
from engine.knobs import RESERVED, Knob, KnobError, validate_config
from engine.memo import UndeclaredKnob
from engine.study import Study, run

LATENCY = ("latency_p50_ms", "latency_p99_ms")


@dataclass(frozen=True)
class Problem:
    study: str
    part: str
    message: str  # what is wrong and how to fix it

    def __str__(self) -> str:
        return f"{self.study}: {self.part}: {self.message}"


class StudyContractError(AssertionError):
    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


Check = Callable[[Study], list[Problem]]


def declaration(study: Study) -> list[Problem]:
    found: list[str] = []
    stages = {s.id for s in study.stages}
    metrics = [m.key for m in study.metrics]
    knobs = [k.id for k in study.knobs]
    for kind, ids in (("stage", [s.id for s in study.stages]), ("metric", metrics), ("knob", knobs)):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            found.append(f"{kind} ids {', '.join(twice)} appear twice: give each its own id")
    for knob in study.knobs:
        found += _knob_problems(knob, stages)
    for a, b in study.flow:
        if a not in stages or b not in stages:
            found.append(f"the flow edge {a} → {b} names an unknown stage: declare it in `stages`")
    alone = stages - {stage for edge in study.flow for stage in edge}
    if alone:
        found.append(f"stage(s) {', '.join(sorted(alone))} join no edge of the flow: connect them")
    for key in (*study.headline, study.quality_metric, study.cost_metric, *LATENCY):
        if key not in metrics:
            found.append(f"metric '{key}' is used but not declared: add it to `metrics`")
    for name, part, kind in (
        ("upload", study.upload, None),
        ("serving", study.serving, Serving),
        ("release", study.release, Release),
        ("drift", study.drift, Drift),
    ):
        if kind is not None and part is not None and not isinstance(part, kind):
            found.append(f"`{name}` is a {type(part).__name__}, not engine.{kind.__name__}")
    if study.release is not None and study.serving is None:
        found.append("a release needs something served: declare `serving` too")
    if study.release is not None:
        place = study.release.placement
        for stage in (place.serving, place.watched, place.retraining):
            if stage not in stages:
                found.append(f"the release placement names unknown stage '{stage}'")
    if study.drift is not None and (not study.drift.scenarios or study.drift.scenarios[0].name != "none"):
        found.append("the first drift scenario must be 'none' (no change), the Monitor's baseline")
    for name in ("walkthrough.md", "interview.toml"):
        if not (study.content_dir / name).is_file():
            found.append(f"content/{name} is missing: copy the template's (python -m engine new-study)")
    lesson_ids = [lesson.id for lesson in study.lessons]
    if len(set(lesson_ids)) < len(lesson_ids):
        found.append("two lessons share an id: give each its own")
    for lesson in study.lessons:
        found += _lesson_problems(study, lesson, metrics)
    return [Problem(study.id, "declaration", message) for message in found]


def _knob_problems(knob: Knob, stages: set[str]) -> list[str]:
    found = []
    if not knob.id.isidentifier() or knob.id in RESERVED:
        found.append(f"knob id '{knob.id}' must be a Python identifier other than {', '.join(RESERVED)}")
    unknown = [s for s in knob.stages if s not in stages]
    if unknown:
        found.append(f"knob '{knob.id}' touches unknown stage(s) {', '.join(unknown)}")
    try:
        knob.validate(knob.default)
    except KnobError as err:
        found.append(f"knob '{knob.id}''s default is outside its own range: {err}")
    return found


def _lesson_problems(study: Study, lesson: Lesson, metrics: list[str]) -> list[str]:
    found = []
    if lesson.metric not in metrics:
        found.append(f"lesson '{lesson.id}' measures unknown metric '{lesson.metric}'")
    if lesson.direction not in ("up", "down", "same", "not_up", "not_down"):
        found.append(f"lesson '{lesson.id}' has direction '{lesson.direction}': see engine.declare.Direction")
    if not lesson.change or not lesson.seeds:
        found.append(f"lesson '{lesson.id}' needs a knob change and at least one seed")
    try:
        validate_config(study.knobs, {**lesson.base, **lesson.change})
    except KnobError as err:
        found.append(f"lesson '{lesson.id}' moves a knob it cannot: {err}")
    return found


def implementation(study: Study) -> list[Problem]:
    system = study.implementation()
    if not isinstance(system, System):
        return [Problem(study.id, "implementation", "`system()` must return engine.System")]
    needs = {
        "predictor": study.serving is not None,
        "pools": study.release is not None,
        "agreement": study.release is not None,
        "period": study.drift is not None,
        "probe": study.probe is not None,
    }
    found = []
    for hook, needed in needs.items():
        present = getattr(system, hook) is not None
        if needed and not present:
            found.append(f"the declaration has a part that needs System.{hook}: provide it in `system()`")
        if present and not needed:
            found.append(f"System.{hook} is given but no part declares it: declare the part or drop it")
    return [Problem(study.id, "implementation", message) for message in found]


def run_result(study: Study) -> list[Problem]:
    result = run(study, {}, 0)
    declared = {m.key for m in study.metrics}
    found = []
    if set(result.metrics) != declared:
        missing, extra = declared - set(result.metrics), set(result.metrics) - declared
        found.append(
            f"the run's metrics differ from the declared ones (missing {sorted(missing)}, undeclared "
            f"{sorted(extra)}): report exactly the declared metrics"
        )
    if not all(isinstance(v, float | int) and not isinstance(v, bool) for v in result.metrics.values()):
        found.append("every metric value must be a number (NaN where the data cannot give it)")
    timed = result.stage_ms()
    for stage in study.stages:
        if stage.online and stage.timed and stage.id not in timed:
            found.append(f"online stage '{stage.id}' has no timing: time it, or declare it timed=False")
        elif stage.id in timed and not stage.timed:
            found.append(f"stage '{stage.id}' is declared timed=False but the run times it")
        elif stage.id in timed and not timed[stage.id] > 0:
            found.append(f"stage '{stage.id}' reports no time: a box drawn with a time must do real work")
    uncertainty = result.uncertainty
    for part, keys in (("noise", uncertainty.noise), ("intervals", uncertainty.intervals)):
        unknown = set(keys) - declared
        if unknown:
            found.append(f"the uncertainty's {part} name undeclared metrics {sorted(unknown)}")
    if uncertainty.intervals and not uncertainty.unit:
        found.append("ranges need their unit ('2,000 evaluation users'): set Uncertainty.unit")
    if uncertainty.per_unit and uncertainty.units is None:
        found.append("per-unit values need `units` naming them, so only runs of the same units pair up")
    for key in LATENCY:
        if key in result.metrics and not result.noise(key) > 0:
            found.append(f"{key} needs a noise band: measure it with engine.timing.time_requests")
    return [Problem(study.id, "run", message) for message in found]


def _moves(knob: Knob) -> list:
    """Values to move a knob to: both extremes (a choice's every option, a switch's other side)."""
    if knob.is_switch:
        return [not knob.default]
    if knob.is_choice:
        # Worlds much larger than the default are bench/'s to run, not every check's.
        huge = lambda o: knob.world and not isinstance(o, str) and o > knob.default * 2.5  # noqa: E731
        return [o for o in knob.options if o != knob.default and not huge(o)]
    return [v for v in (knob.low, knob.high) if v != knob.default]


def knobs(study: Study) -> list[Problem]:
    """Every knob at its extremes (large worlds left to bench/): the run reports every metric,
    finite, and no memoised step reads a knob its declaration leaves out."""
    found = []
    for knob in study.knobs:
        for value in _moves(knob):
            try:
                result = run(study, {knob.id: value}, 0)
            except UndeclaredKnob as err:
                found.append(str(err.args[0]))
                continue
            except DataError:
                continue  # a configuration the world cannot support, said as such to the learner
            if set(result.metrics) != {m.key for m in study.metrics}:
                found.append(f"{knob.id}={value}: the run's metrics differ from the declared ones")
            elif not all(math.isfinite(v) for v in result.metrics.values()):
                found.append(f"{knob.id}={value}: a metric is not finite on the simulated world")
            elif not _plausible_quality(study, result.metrics[study.quality_metric]):
                found.append(f"{knob.id}={value}: the quality metric leaves its range")
    return [Problem(study.id, "knobs", message) for message in dict.fromkeys(found)]


def _plausible_quality(study: Study, value: float) -> bool:
    """A quality metric where higher is better is a share (0-1); one where lower is better (a loss,
    normalized entropy: above 1 is worse than predicting the average) is at least 0."""
    return 0.0 <= value <= 1.0 if study.metric(study.quality_metric).higher_is_better else value >= 0.0


def lessons(study: Study) -> list[Problem]:
    from engine import lessons as measured

    found = []
    for lesson in study.lessons:
        for effect in measured.verdict(study, lesson).failures():
            found.append(
                f"lesson '{lesson.id}' (\"{lesson.claim}\") fails at seed {effect.seed}: "
                f"{measured.render(study, effect)}; change the world or the system so it holds, or "
                "rephrase the claim as what the lab measures"
            )
    return [Problem(study.id, "lessons", message) for message in found]


def cli(study: Study) -> list[Problem]:
    from engine.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["run", study.id, "--json"])
    if code != 0:
        return [Problem(study.id, "cli", f"`python -m engine run {study.id} --json` exited {code}")]
    printed = json.loads(out.getvalue())
    if set(printed["metrics"]) != {m.key for m in study.metrics}:
        return [Problem(study.id, "cli", "the CLI's metrics differ from the declared ones")]
    return []


def serving(study: Study) -> list[Problem]:
    if study.serving is None:
        return []
    from engine.serving.registry import Registry

    found = []
    with tempfile.TemporaryDirectory() as folder:
        registry = Registry.from_url(f"sqlite:///{Path(folder) / 'check.db'}", Path(folder) / "artifacts")
        model = registry.register(study, {}, 0)
        predictor = registry.load(model)
        answers = predictor.predict([predictor.parse(dict(study.serving.example))])
        if len(answers) != 1 or not isinstance(answers[0], dict):
            found.append("the predictor must answer one JSON object per request")
        for body in predictor.traffic(5, seed=0):
            predictor.parse(body)  # traffic the load test sends must parse
        registry.engine.dispose()
    return [Problem(study.id, "serving", message) for message in found]


def drift(study: Study) -> list[Problem]:
    if study.drift is None:
        return []
    from engine.monitoring.lab import build

    config, found = study.defaults(), []
    drifting, names = study.drift.scenarios[-1].name, ", ".join(s.name for s in study.drift.scenarios)
    cases = (  # what is asked, and what the refusal must say
        ("an upload", object(), drifting, 14, "simulated world"),
        ("an unknown scenario", None, "meteor", 14, names),
        ("day 0", None, drifting, 0, "1 to 27"),
        ("day 28", None, drifting, 28, "1 to 27"),
    )
    for name, data, scenario, day, says in cases:
        try:
            build(study, config, 0, data, scenario, day)
            found.append(f"the serving period accepted {name}: it must refuse it with a DataError")
        except DataError as err:
            if says not in str(err):
                found.append(f"the refusal of {name} must say '{says}', not '{err}'")
    return [Problem(study.id, "drift", message) for message in found]


def content(study: Study) -> list[Problem]:
    from engine.content import load_steps, render
    from engine.interview.script import load_rubric

    steps, framework = load_steps(study), [s["title"] for s in load_rubric()["steps"].values()]
    found = []
    if [step.title for step in steps] != framework:
        found.append(f"the walkthrough's `## ` headings must be the framework's: {', '.join(framework)}")
    result = run(study, {}, 0)
    for number, step in enumerate(steps, start=1):
        try:
            text = render(step.body, study, result, lambda cfg: run(study, cfg, 0))
        except (KeyError, KnobError, ValueError) as err:
            found.append(f"step {number} ({step.title}) has a placeholder that does not resolve: {err}")
            continue
        if "{{" in text or "}}" in text:
            found.append(f"step {number} ({step.title}) has a malformed placeholder: close each one")
    return [Problem(study.id, "content", message) for message in found]


CHECKS: dict[str, Check] = {
    "declaration": declaration,
    "implementation": implementation,
    "run": run_result,
    "knobs": knobs,
    "lessons": lessons,
    "cli": cli,
    "serving": serving,
    "drift": drift,
    "content": content,
}


def check_study(study: Study, only: tuple[str, ...] = ()) -> None:
    """Run every check (or those named in `only`) and raise StudyContractError listing each problem."""
    problems = [p for name, check in CHECKS.items() if not only or name in only for p in check(study)]
    if problems:
        raise StudyContractError(problems)
