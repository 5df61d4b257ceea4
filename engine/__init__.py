"""MLSD Lab engine: pure Python, no Streamlit. Studies declare knobs, stages, metrics and lessons; the
engine validates configurations, times requests, memoises expensive steps, draws the architecture
graph and checks that a study keeps its contract (`engine.check`)."""

from engine.declare import (
    Drift,
    Lesson,
    MetricSpec,
    Panel,
    Placement,
    Probe,
    Release,
    Serving,
    Stage,
    System,
    Upload,
    latency_metrics,
    registry_stage,
)
from engine.knobs import Knob, KnobError
from engine.result import Measured, RunResult, StageTiming, Uncertainty
from engine.study import Study, get_study, list_studies, run

__all__ = [
    "Drift",
    "Knob",
    "KnobError",
    "Lesson",
    "Measured",
    "MetricSpec",
    "Panel",
    "Placement",
    "Probe",
    "Release",
    "RunResult",
    "Serving",
    "Stage",
    "StageTiming",
    "Study",
    "System",
    "Uncertainty",
    "Upload",
    "get_study",
    "latency_metrics",
    "list_studies",
    "registry_stage",
    "run",
]
