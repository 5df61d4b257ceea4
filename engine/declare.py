"""The parts a study declares, as small frozen dataclasses: what its system looks like (stages, the
metrics it reports), what it serves, how a challenger is released on its world, how its world
drifts, what a learner can type into it, which trade-offs it teaches (`Lesson`) and where its
implementation lives (`System`).

Everything here is light to import: a study's heavy libraries (implicit, scikit-learn, faiss) load
only when its `System` is first asked for, so listing studies and painting a page do not wait."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from engine.monitoring.period import Scenario

if TYPE_CHECKING:  # for the annotations only: importing them here would load the heavy modules
    from engine.monitoring.period import Period
    from engine.release.pool import Pool
    from engine.result import Measured, RunResult
    from engine.serving.predictor import Predictor

Config = dict[str, Any]


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


NO_CHANGE = "≈ no change"


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
        return self.format_change(diff)

    def format_change(self, diff: float) -> str:
        """A signed difference formatted like the metric: percentages in points."""
        if self.fmt.endswith("%"):
            return f"{diff * 100:+.{self.fmt[1]}f} pp"
        return ("+" if diff >= 0 else "-") + self.format(abs(diff))


def latency_metrics(path: str) -> tuple[MetricSpec, MetricSpec]:
    """The two latency metrics every study reports, named and measured the same way
    (`engine.timing.time_requests`); `path` says what one request is ("one payment decided")."""
    how = "each request timed alone, warm, on one thread; a change inside the noise band shows as ≈."
    return (
        MetricSpec(
            "latency_p50_ms",
            "Latency p50",
            "system",
            ".2f",
            f"Median time per request ({path}): {how}",
            higher_is_better=False,
            unit="ms",
            deterministic=False,
        ),
        MetricSpec(
            "latency_p99_ms",
            "Latency p99",
            "system",
            ".2f",
            f"99th percentile of the time per request ({path}): the tail a latency budget is set on.",
            higher_is_better=False,
            unit="ms",
            deterministic=False,
        ),
    )


@dataclass(frozen=True)
class Panel:
    """A chart a study adds to its trade-off lab, drawn from its runs' artifacts.

    `build(result, baseline)` returns an ECharts option, or None when the run has nothing to show."""

    title: str
    caption: str
    build: Callable[[RunResult, RunResult | None], dict[str, Any] | None]


@dataclass(frozen=True)
class Probe:
    """Something a learner types (a search query, a user id) to see what each stage makes of it; the
    study's `System.probe` answers it."""

    label: str
    placeholder: str
    example: str


class Dataset(Protocol):
    """User-supplied data, already validated; `token` identifies its content for caching. A dataset
    may also have `limits`: knob id -> (value, reason), the value past which the knob changes
    nothing on this data (a candidate pool larger than a small catalogue)."""

    token: str
    summary: str


def data_limits(data: Dataset | None) -> dict[str, tuple[Any, str]]:
    return getattr(data, "limits", {}) if data is not None else {}


@dataclass(frozen=True)
class Upload:
    """The learner's own data: `load` takes the file's bytes (or {file name: bytes} when the format
    has several `files`) and returns a Dataset, or raises engine.data.DataError with a readable,
    line-numbered message."""

    load: Callable[[Any], Dataset]
    format: str  # one paragraph: the columns, what each means, the limits
    files: tuple[str, ...] = ()  # the files of a multi-file format, e.g. corpus.jsonl
    suffixes: tuple[str, ...] = ("csv",)  # what a single file may be called (the picker refuses others)


@dataclass(frozen=True)
class Serving:
    """What the Production page serves: a request, the population a batch job precomputes, and the
    stages the hybrid pattern keeps online (empty when nothing can be precomputed: a payment)."""

    example: Mapping[str, Any]  # a request body, for the page's curl line
    request_doc: str  # the request's fields, one line
    population_label: str  # e.g. "users", "head queries", "yesterday's payments"
    hybrid_online_stages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Placement:
    """Where the Production page's router and monitor join the study's architecture graph."""

    serving: str  # the stage the router splits traffic into, between the champion and a challenger
    router_pos: tuple[float, float]
    watched: str  # the stage whose requests and answers the monitors read
    retraining: str  # the stage an alert sends a retrain to
    monitor_pos: tuple[float, float]


@dataclass(frozen=True)
class Release:
    """The study's online metric, which a canary judges a challenger on in the simulated world."""

    metric_label: str  # e.g. "CTR"
    metric_fmt: str  # format spec, e.g. ".2%"
    higher_is_better: bool
    metric_help: str
    placement: Placement
    default_rpm: int = 1000  # requests per minute a canary of this study sees by default

    def format(self, value: float) -> str:
        return format(value, self.metric_fmt)


@dataclass(frozen=True)
class Drift:
    """The ways the study's world can change during a serving period (the first: no change)."""

    scenarios: tuple[Scenario, ...]

    def scenario(self, name: str) -> Scenario:
        return next(s for s in self.scenarios if s.name == name)


# "up"/"down": a real move that way; "same": inside the band; "not_up"/"not_down": no real move that
# way (the claim "GBDT is no better than logistic regression here").
Direction = Literal["up", "down", "same", "not_up", "not_down"]


@dataclass(frozen=True, eq=False)
class Lesson:
    """A trade-off the teaching text asserts, as a claim the engine proves: moving the knobs in
    `change` (from the defaults, overlaid with `base`) moves `metric` in `direction` by more than
    its noise band and by at least `at_least`, at every seed in `seeds` ("same": within the band;
    "not_up", "not_down": no move that way beyond the band).
    Content quotes it as `{{lesson.ID}}`, which renders the effect measured live with its band."""

    id: str
    claim: str  # the sentence the text teaches, e.g. "A larger pool raises candidate recall"
    change: Mapping[str, Any]
    metric: str
    direction: Direction
    base: Mapping[str, Any] = field(default_factory=dict)
    at_least: float = 0.0  # in the metric's own units (0.01 = one point of a share)
    seeds: tuple[int, ...] = (0, 1, 2)
    why: str = ""  # the mechanism, where the claim alone would not say it


Runner = Callable[[Config, int, "Dataset | None"], "Measured"]


@dataclass(frozen=True)
class System:
    """A study's implementation: the functions behind its declaration. A study's spec returns one
    from a function that imports its modules, so they load on first use:

        def system() -> System:
            from case_studies.mine import pipeline, serving
            return System(run=pipeline.run, predictor=serving.build)
    """

    run: Runner  # (config, seed, dataset or None) -> Measured
    predictor: Callable[[Config, int, Any], Predictor] | None = None  # a trained config, servable
    probe: Callable[[Config, int, Any, str], list[tuple[str, Any]]] | None = None
    # `pools(config, seed, predictors, n, traffic_seed)`: each predictor answers the same n live
    # requests; each one's outcomes in the world of `config` (the champion's).
    pools: Callable[..., Sequence[Pool]] | None = None
    agreement: Callable[[list[dict[str, Any]], list[dict[str, Any]]], dict[str, float]] | None = None
    # `period(config, seed, data, scenario, drift_day, days)`: the live world over a serving period.
    period: Callable[..., Period] | None = None
