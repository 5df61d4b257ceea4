"""A case study's declaration (`Study`), the registry that discovers them under `case_studies/`, and
`run`, which validates a configuration and runs a study's system once.

A study is one typed declaration: its parts (upload, serving, release, drift, probe, panels,
lessons) sit side by side, each a dataclass of `engine.declare`; its implementation is a `System`
returned by a function the study writes with real imports, loaded on first use."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from engine.declare import (
    NO_CHANGE,
    Dataset,
    Drift,
    Lesson,
    MetricSpec,
    Panel,
    Probe,
    Release,
    Serving,
    Stage,
    System,
    Upload,
    data_limits,
    registry_stage,
)
from engine.knobs import Knob, validate_config
from engine.memo import working_set
from engine.result import Measured, RunResult, StageTiming

# Re-exported: pages and tests name them from here.
__all__ = [
    "NO_CHANGE",
    "Dataset",
    "Study",
    "data_limits",
    "get_study",
    "list_studies",
    "registry_stage",
    "run",
]


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
    system: Callable[[], System]  # the implementation, imported on first call
    upload: Upload
    headline: tuple[str, ...]  # metric keys shown first
    quality_metric: str
    cost_metric: str
    content_dir: Path
    # The share by which the same design's latency moves between runs in one process
    # (`python bench/production.py --only-noise`): the floor of its latency's noise band.
    latency_floor: float = 0.25
    panels: tuple[Panel, ...] = ()
    order: int = 100  # position in menus: the flagship study first
    probe: Probe | None = None
    serving: Serving | None = None  # what the Production page serves, load-tests and batches
    release: Release | None = None  # the online metric a canary judges on the world
    drift: Drift | None = None  # how the world can change in a serving period
    lessons: tuple[Lesson, ...] = ()

    def implementation(self) -> System:
        return _implementation(self.system)

    def knob(self, knob_id: str) -> Knob:
        return _find(self.knobs, knob_id, "knob")

    def stage(self, stage_id: str) -> Stage:
        return _find(self.stages, stage_id, "stage")

    def metric(self, key: str) -> MetricSpec:
        return _find(self.metrics, key, "metric")

    def lesson(self, lesson_id: str) -> Lesson:
        return _find(self.lessons, lesson_id, "lesson")

    def knobs_touching(self, stage_id: str) -> list[Knob]:
        return [k for k in self.knobs if stage_id in k.stages]

    def defaults(self) -> dict[str, Any]:
        return {k.id: k.default for k in self.knobs}

    @property
    def latency_metric(self) -> MetricSpec:
        """The latency per request the Production page lists beside each version."""
        return self.metric("latency_p99_ms")


@cache
def _implementation(load: Callable[[], System]) -> System:
    return load()


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
        if not info.name.startswith("_")  # _template: what `python -m engine new-study` copies
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
    """Validate `config` against the study's knobs and run the study's system once."""
    if isinstance(study, str):
        study = get_study(study)
    full = validate_config(study.knobs, config or {})
    with working_set():  # the run's own world and models are not dropped for the budget meanwhile
        measured = study.implementation().run(full, int(seed), data)
    if not isinstance(measured, Measured):
        raise TypeError(f"the {study.id} study's run returned {type(measured).__name__}, not engine.Measured")
    stages = [StageTiming(s.id, measured.stage_ms[s.id]) for s in study.stages if s.id in measured.stage_ms]
    return RunResult(
        study.id, full, int(seed), measured.metrics, stages, measured.uncertainty, measured.artifacts
    )
