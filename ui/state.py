"""Session state, namespaced so that no two widgets can ever share a key.

Two kinds of key exist, and they cannot meet:
- a *link* key, `"<study>.<name>"`, for what a shared URL carries: the study's knobs and its page's
  seed, view and step (short, so links stay readable and old links keep working);
- a *scoped* key, `"<study>.<page>.<view>.<name>"`, for everything else: every other widget and
  whatever a view remembers between reruns.

A scoped key has four parts and a link key two, so a Production slider can no longer take a study
knob's key: the Monitor's "Drift starts on day" (1-27) and fraud's `drift_day` knob (0-21) once shared
`fraud.drift_day`, and the Monitor view crashed with StreamlitValueBelowMinError.

What a page remembers per study is one typed object (`StudyPage`, `Production`), not a scatter of
hand-built strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

import streamlit as st

T = TypeVar("T")


def link_key(study_id: str, name: str) -> str:
    """The key of a URL-bound widget: a knob (`fraud.drift_day`) or one of LINK_NAMES (seed, view,
    step), which no knob may take (engine.check)."""
    return f"{study_id}.{name}"


@dataclass(frozen=True)
class Scope:
    """The session-state namespace of one view of one page for one study."""

    study: str
    page: str
    view: str = "main"

    def key(self, name: str) -> str:
        return f"{self.study}.{self.page}.{self.view}.{name}"

    def get(self, name: str, default: Any = None) -> Any:
        return st.session_state.get(self.key(name), default)

    def __setitem__(self, name: str, value: Any) -> None:
        st.session_state[self.key(name)] = value

    def __contains__(self, name: str) -> bool:
        return self.key(name) in st.session_state

    def pop(self, name: str, default: Any = None) -> Any:
        return st.session_state.pop(self.key(name), default)


def remembered(scope: Scope, kind: type[T]) -> T:
    """The page's typed state for `scope`'s study, made on first use and kept for the session."""
    return st.session_state.setdefault(scope.key(kind.__name__), kind())


@dataclass
class StudyPage:
    """What the study page remembers for one study between reruns."""

    baseline: dict[str, Any] | None = None  # the pinned configuration (None: the defaults)
    previous: dict[str, Any] | None = None  # the configuration of the last rerun
    touched: list[str] = field(default_factory=list)  # knobs the last change moved
    registered: int | None = None  # the version "Register this design" made last
    step_moves: int = 0  # Next/Back presses, so each one scrolls anew
    scroll_pending: int = 0  # a press not yet scrolled to
    node: str | None = None  # the architecture stage clicked last
    link_problems: list[str] | None = None  # values a shared link asked for that knobs cannot take


@dataclass
class Production:
    """What the Production page remembers for one study between reruns (and the study page reads:
    the graph gains the router and monitor once a release or monitor view was opened, and the
    request path shows the endpoint's last load test)."""

    used: bool = False
    server: Any = None  # engine.serving.process.ServerProcess of this session's endpoint
    loadtest: dict[str, Any] | None = None  # the last load test: version, max_batch, levels
    loadtests: dict[str, list] = field(default_factory=dict)  # every run's levels, by label
    batched: set[int] = field(default_factory=set)  # versions whose batch job was run
    monitor: tuple | None = None  # (version, report) of the last serving period
    canary: tuple | None = None  # (champion, challenger, rollout) of the last canary
    canary_runs: int = 0  # each canary a new seed: a new day of traffic
    statistics: tuple | None = None  # (champion, challenger, schedule, result) of seeded repeats
    injection: Any = None  # engine.release.lab.Injection of the schedule form


def study_page(study_id: str) -> StudyPage:
    return remembered(Scope(study_id, "study"), StudyPage)


def production(study_id: str) -> Production:
    return remembered(Scope(study_id, "production"), Production)
