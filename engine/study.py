"""Case-study specs and the registry that discovers them under `case_studies/`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from engine.knobs import Knob, validate_config
from engine.memo import working_set
from engine.result import RunResult, StageTiming
from engine.serving.predictor import Serving


@dataclass(frozen=True)
class Stage:
    """A component of the system: a node of the architecture graph.

    Online stages sit on the request path and report milliseconds per request; offline ones (logs,
    training) report milliseconds per run. `pos` is the node's (column, row) in the drawing.
    """

    id: str
    label: str
    what: str
    pos: tuple[float, float]
    online: bool = True
    timed: bool = True  # False: drawn, but its time is inside other stages (no 0.0 µs boxes)


NO_CHANGE = "≈ no change"


def registry_stage(pos: tuple[float, float]) -> Stage:
    """The model registry's box on a study's architecture graph, at `pos`: the same for every study."""
    return Stage(
        "Model_Registry",
        "Model registry",
        "Numbered model versions with their config, seed, data identity, metrics and artifact (sha256); "
        "the `champion` alias names the version in production, and moving it back is a rollback. "
        "Register and promote versions on the Production page.",
        pos,
        online=False,
        timed=False,
    )


@dataclass(frozen=True)
class MetricSpec:
    key: str
    label: str
    group: str  # quality | business | system | data
    fmt: str  # format spec, e.g. ".3f" or ".1%"
    help: str
    higher_is_better: bool = True
    unit: str = ""
    deterministic: bool = True  # timings are measured, so they vary run to run
    prefix: str = ""  # e.g. "$"

    def format(self, value: float | None) -> str:
        if value is None or value != value:  # None or NaN
            return "n/a"
        text = self.prefix + format(value, self.fmt)
        if not self.unit:
            return text
        return text + self.unit if self.unit.startswith("/") else f"{text} {self.unit}"

    def format_delta(self, value: float, base: float | None, noise: float = 0.0) -> str | None:
        """`value - base`, signed and formatted like the metric (percentages in points), or None when
        either side is missing; "≈ no change" when the difference is inside the noise band (`noise`:
        the two runs' half-widths added: a measured latency's, or a quality metric's range over
        resampled users, queries or days)."""
        if base is None or value != value or base != base:  # None or NaN
            return None
        diff = value - base
        if diff == 0 or abs(diff) <= noise and (noise > 0 or not self.deterministic):
            return NO_CHANGE  # an identical run's "+0.000" would be coloured as a gain
        if self.fmt.endswith("%"):
            return f"{diff * 100:+.{self.fmt[1]}f} pp"
        return ("+" if diff >= 0 else "-") + self.format(abs(diff))


@dataclass(frozen=True)
class Panel:
    """A chart a study adds to its trade-off lab, drawn from its runs' artifacts.

    `build(result, baseline)` returns an ECharts option, or None when the run has nothing to show."""

    title: str
    caption: str
    build: Callable[[RunResult, RunResult | None], dict[str, Any] | None]


@dataclass(frozen=True)
class Probe:
    """Something a learner types (a search query, say) to see what each stage makes of it.

    `run(config, seed, data, text)` returns (heading, output) pairs in stage order; an output is a
    pandas DataFrame, a line of text or a chart (an ECharts option, a dict)."""

    label: str
    placeholder: str
    example: str
    run: Callable[[dict[str, Any], int, Any, str], list[tuple[str, Any]]]


class Dataset(Protocol):
    """User-supplied data, already validated; `token` identifies its content for caching. A dataset
    may also have `limits`: knob id -> (value, reason), the value past which the knob changes
    nothing on this data (a candidate pool larger than a small catalogue)."""

    token: str
    summary: str


def data_limits(data: Dataset | None) -> dict[str, tuple[Any, str]]:
    return getattr(data, "limits", {}) if data is not None else {}


Runner = Callable[[dict[str, Any], int, Any], tuple[dict[str, float], dict[str, float], dict]]


@dataclass(frozen=True)
class Study:
    id: str
    title: str
    question: str
    summary: str
    stages: tuple[Stage, ...]
    flow: tuple[tuple[str, str], ...]  # edges of the architecture graph
    knobs: tuple[Knob, ...]
    metrics: tuple[MetricSpec, ...]
    runner: Runner  # (config, seed, dataset or None) -> (metrics, stage ms, artifacts)
    # Raises engine.data.DataError with a readable message. Takes the file's bytes, or, for a study
    # whose format has several files (`upload_files`), {file name: bytes}.
    load_data: Callable[[Any], Dataset]
    data_format: str
    headline: tuple[str, ...]  # metric keys shown first
    quality_metric: str
    cost_metric: str
    content_dir: Path
    panels: tuple[Panel, ...] = ()
    order: int = 100  # position in menus: the flagship study first
    probe: Probe | None = None
    upload_files: tuple[str, ...] = ()  # the files of a multi-file format, e.g. corpus.jsonl
    serving: Serving | None = None  # what the Production page serves, load-tests and batches

    def knob(self, knob_id: str) -> Knob:
        return _find(self.knobs, knob_id, "knob")

    def stage(self, stage_id: str) -> Stage:
        return _find(self.stages, stage_id, "stage")

    def metric(self, key: str) -> MetricSpec:
        return _find(self.metrics, key, "metric")

    def knobs_touching(self, stage_id: str) -> list[Knob]:
        return [k for k in self.knobs if stage_id in k.stages]

    def defaults(self) -> dict[str, Any]:
        return {k.id: k.default for k in self.knobs}

    @property
    def latency_metric(self) -> MetricSpec:
        """The latency per request the Production page lists beside each version."""
        timed = [m for m in self.metrics if m.group == "system" and m.unit == "ms"]
        return next((m for m in timed if m.key == "latency_p99_ms"), timed[0])


def lazy(target: str) -> Callable[..., Any]:
    """`"package.module:function"`, imported on its first call, so listing studies and painting a page
    do not wait for a study's heavy libraries (implicit, scikit-learn, faiss) to load."""
    module_name, _, name = target.partition(":")

    def call(*args: Any) -> Any:
        return getattr(importlib.import_module(module_name), name)(*args)

    return call


def _find(items, wanted: str, kind: str):
    for item in items:
        if getattr(item, "key", None) == wanted or getattr(item, "id", None) == wanted:
            return item
    raise KeyError(f"unknown {kind} '{wanted}'")


@cache
def _registry() -> dict[str, Study]:
    import case_studies

    found = [
        importlib.import_module(f"case_studies.{info.name}.spec").STUDY
        for info in pkgutil.iter_modules(case_studies.__path__)
    ]
    return {study.id: study for study in sorted(found, key=lambda s: (s.order, s.id))}


def list_studies() -> list[Study]:
    return list(_registry().values())


def get_study(study_id: str) -> Study:
    try:
        return _registry()[study_id]
    except KeyError:
        known = ", ".join(_registry())
        raise KeyError(f"unknown study '{study_id}'; known studies: {known}") from None


def run(
    study: Study | str,
    config: Mapping[str, Any] | None = None,
    seed: int = 0,
    data: Dataset | None = None,
) -> RunResult:
    """Validate `config` against the study's knobs and run the study's pipeline once."""
    if isinstance(study, str):
        study = get_study(study)
    full = validate_config(study.knobs, config or {})
    with working_set():  # the run's own world and models are not dropped for the budget meanwhile
        metrics, stage_ms, artifacts = study.runner(full, int(seed), data)
    stages = [StageTiming(s.id, stage_ms[s.id]) for s in study.stages if s.id in stage_ms]
    return RunResult(study.id, full, int(seed), metrics, stages, artifacts)
