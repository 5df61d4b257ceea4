"""Trade-off knobs: their ranges, defaults and validation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Names the study page binds to the URL beside the knobs (ui/state.py), so no knob may take them.
RESERVED = ("seed", "view", "step")


class KnobError(ValueError):
    """A knob name or value the study does not accept; the message is one line for the user."""


@dataclass(frozen=True)
class Knob:
    """One design choice a learner can move.

    Numeric knobs have `low`..`high` (and `step`); choice knobs have `options`; a knob whose default
    is True or False is a switch. `trades` says in one
    sentence what moving it buys and costs; `stages` names the pipeline stages it touches.
    """

    id: str
    label: str
    default: Any
    trades: str
    stages: tuple[str, ...]
    low: float | None = None
    high: float | None = None
    step: float | None = None
    options: tuple[Any, ...] = ()
    unit: str = ""
    world: bool = False  # shapes the simulated world, so it does not apply to uploaded data
    # Why the knob does nothing in a configuration (BM25's k1 when nothing uses BM25), else None.
    idle_when: Callable[[Mapping[str, Any]], str | None] | None = None

    def idle_reason(self, config: Mapping[str, Any]) -> str | None:
        return self.idle_when(config) if self.idle_when else None

    @property
    def is_switch(self) -> bool:
        return isinstance(self.default, bool)

    @property
    def is_choice(self) -> bool:
        return bool(self.options)

    @property
    def is_int(self) -> bool:
        return not self.is_choice and not self.is_switch and isinstance(self.default, int)

    def format_value(self, value: Any) -> str:
        """A value as the slider shows it, everywhere: "5x", "$5", "7 days", "200 items", "on"."""
        if self.is_switch:
            return "on" if value else "off"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        unit = self.unit.strip()
        if unit == "$":
            return f"${value:g}"
        if unit in ("x", "%"):
            return f"{value:g}{unit}"
        return f"{value:g} {unit}" if unit else f"{value:g}"

    def describe_range(self) -> str:
        if self.is_switch:
            return "true or false"
        if self.is_choice:
            return "one of " + ", ".join(str(o) for o in self.options)
        return f"a number from {self.low:g} to {self.high:g}"

    def validate(self, value: Any) -> Any:
        """Return `value` in the knob's own type, or raise KnobError naming the valid range."""
        checked = self._checked(value)
        if checked is None:
            raise KnobError(f"knob '{self.id}' got {value!r}; expected {self.describe_range()}")
        return checked

    def _checked(self, value: Any) -> Any:
        """The accepted value, or None when `value` is outside the knob's range or options."""
        if self.is_switch:
            return SWITCH.get(str(value).strip().lower())
        if self.is_choice:
            return next((option for option in self.options if same_option(value, option)), None)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not self.low <= value <= self.high:
            return None
        if self.is_int:
            return int(value) if value == int(value) else None
        return float(value)


SWITCH = {
    "true": True,
    "1": True,
    "on": True,
    "yes": True,
    "false": False,
    "0": False,
    "off": False,
    "no": False,
}


def same_option(value: Any, option: Any) -> bool:
    """Choice match that accepts "1.0" for 1 and "16" for 16, as typed on a command line."""
    if isinstance(option, int | float) and not isinstance(option, bool):
        try:
            return float(value) == float(option)
        except (TypeError, ValueError):
            return False
    return value == option


def validate_config(knobs: tuple[Knob, ...], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with `overrides`, every value checked; unknown names are an error."""
    by_id = {k.id: k for k in knobs}
    for name in overrides:
        if name not in by_id:
            raise KnobError(f"unknown knob '{name}'; known knobs: {', '.join(by_id)}")
    return {k.id: k.validate(overrides.get(k.id, k.default)) for k in knobs}
