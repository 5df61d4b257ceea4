"""MLSD Lab engine: pure Python, no Streamlit. Studies declare knobs, stages and a runner; the engine
validates configurations, times stages, memoises expensive steps and draws the architecture graph."""

from engine.knobs import Knob, KnobError
from engine.result import RunResult, StageTiming
from engine.study import (
    MetricSpec,
    Panel,
    Probe,
    Stage,
    Study,
    get_study,
    lazy,
    list_studies,
    registry_stage,
    run,
)

__all__ = [
    "Knob",
    "KnobError",
    "MetricSpec",
    "Panel",
    "Probe",
    "RunResult",
    "Stage",
    "StageTiming",
    "Study",
    "get_study",
    "lazy",
    "list_studies",
    "registry_stage",
    "run",
]
