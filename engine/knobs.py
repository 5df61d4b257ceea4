"""Trade-off knobs: their ranges, defaults and validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class KnobError(ValueError):
    """A knob name or value the study does not accept; the message is one line for the user."""


@dataclass(frozen=True)
class Knob:
    """One design choice a learner can move.

    Numeric knobs have `low`..`high` (and `step`); choice knobs have `options`. `trades` says in one
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

    @property
    def is_choice(self) -> bool:
        return bool(self.options)

    @property
    def is_int(self) -> bool:
        return not self.is_choice and isinstance(self.default, int)

    def describe_range(self) -> str:
        if self.is_choice:
            return "one of " + ", ".join(str(o) for o in self.options)
        return f"a number from {self.low:g} to {self.high:g}"

    def validate(self, value: Any) -> Any:
        """Return `value` in the knob's own type, or raise KnobError naming the valid range."""
        if isinstance(value, str):
            value = self._parse(value)
        if self.is_choice:
            for option in self.options:
                if value == option or str(value) == str(option):
                    return option
            raise self._error(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._error(value)
        if not self.low <= value <= self.high:
            raise self._error(value)
        if self.is_int:
            if value != int(value):
                raise self._error(value)
            return int(value)
        return float(value)

    def _parse(self, text: str) -> Any:
        if self.is_choice:
            return text
        try:
            return float(text)
        except ValueError:
            raise self._error(text) from None

    def _error(self, value: Any) -> KnobError:
        return KnobError(f"knob '{self.id}' got {value!r}; expected {self.describe_range()}")


def validate_config(knobs: tuple[Knob, ...], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with `overrides`, every value checked; unknown names are an error."""
    by_id = {k.id: k for k in knobs}
    for name in overrides:
        if name not in by_id:
            raise KnobError(f"unknown knob '{name}'; known knobs: {', '.join(by_id)}")
    return {k.id: k.validate(overrides.get(k.id, k.default)) for k in knobs}
