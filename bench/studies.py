"""What the benches move on each study, derived from its declaration, so no bench names a study:

- a *warm* knob: a slider pressed between its two ends, both run once first, so the timed presses
  are cached repaints (one no memoised step reads, where the study has one);
- a *retrain* knob: a slider a memoised step other than the world reads (a new value retrains);
- the headline metric whose shown value differs between the warm knob's ends (what a browser waits
  for to see the repaint).
"""

from __future__ import annotations

from engine.knobs import Knob
from engine.memo import steps_of
from engine.study import Study, run


def _sliders(study: Study) -> list[Knob]:
    """Knobs drawn as a slider or a select slider (numeric options), outside the world."""
    textual = lambda k: k.is_choice and any(isinstance(o, str) for o in k.options)  # noqa: E731
    return [k for k in study.knobs if not (k.is_switch or textual(k) or k.world)]


def _read_by_steps(study: Study) -> set[str]:
    study.implementation()  # imports the modules that declare the steps
    return {knob for step in steps_of(study.id) for knob in step.knobs}


def warm_knob(study: Study) -> Knob:
    memoised, sliders = _read_by_steps(study), _sliders(study)
    return next((k for k in sliders if k.id not in memoised), sliders[0])


def warm_keys(knob: Knob) -> list[str]:
    """The slider keys that move a knob between its ends, starting with the end away from its
    default (a knob whose default is its top end does not move on End)."""
    top = knob.options[-1] if knob.is_choice else knob.high
    return ["Home", "End"] if knob.default == top else ["End", "Home"]


def retrain_knob(study: Study) -> Knob:
    """A slider with many positions (each press a new value) that a memoised step reads: the one
    with the most room on one side of its default."""
    memoised = _read_by_steps(study)
    numeric = [k for k in _sliders(study) if k.id in memoised and not k.is_choice]
    return max(numeric, key=lambda k: max(_room(k)))


def retrain_presses(knob: Knob, wanted: int) -> tuple[str, int]:
    """The arrow key that moves the knob towards its larger side, and how many presses (up to
    `wanted`) stay new values: a press at an end reruns nothing."""
    below, above = _room(knob)
    return ("ArrowRight", min(wanted, above)) if above >= below else ("ArrowLeft", min(wanted, below))


def _room(knob: Knob) -> tuple[int, int]:
    """Slider positions below and above the default."""
    step = knob.step or 1
    return round((knob.default - knob.low) / step), round((knob.high - knob.default) / step)


def shown_metric(study: Study, knob: Knob) -> str:
    """The label of a headline metric whose card reads differently at the knob's two ends."""
    ends = (knob.options[0], knob.options[-1]) if knob.is_choice else (knob.low, knob.high)
    low, high = (run(study, {knob.id: value}, 0) for value in ends)
    for key in study.headline:
        spec = study.metric(key)
        if spec.deterministic and spec.format(low.metrics[key]) != spec.format(high.metrics[key]):
            return spec.label
    raise ValueError(f"no headline metric of {study.id} moves between {knob.id}'s ends")
