"""Teaching text with live numbers: a study's walkthrough is Markdown with `{{...}}` placeholders.

- `{{ndcg@10}}`: a metric of the current run, formatted by its spec;
- `{{ndcg@10 | ranker=none, candidate_model=popularity}}`: the same metric for a variant of the
  current configuration (the variant is run on demand, so the number is live too);
- `{{config.candidates}}`: a knob's current value; `{{stage.Ranking}}`: a stage's measured latency;
- `{{lesson.pool_recall}}`: a declared lesson's effect, measured live from the current configuration
  ("Candidate recall@N 0.612 → 0.875 (+0.263 ± 0.010)"): how the text states a trade-off;
- `{{serving.online_ms}}`, `{{serving.rows_per_s}}`, `{{serving.batch_speedup}}`, `{{serving.hit_rate}}`:
  batch against online inference, measured on the design's served system (simulated world only, so
  the interview's model answers use them, not the walkthroughs, which also run on uploads).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine import lessons
from engine.graph import format_latency
from engine.knobs import validate_config
from engine.result import RunResult
from engine.study import Study

# The bar may be escaped (`\|`) inside Markdown table cells.
PLACEHOLDER = re.compile(r"\{\{\s*([^}|\\]+?)\s*(?:\\?\|\s*([^}]*?)\s*)?\}\}")


@dataclass(frozen=True)
class Step:
    title: str
    body: str


def load_steps(study: Study, name: str = "walkthrough.md") -> list[Step]:
    """Split a Markdown file into steps at its `## ` headings."""
    text = (study.content_dir / name).read_text(encoding="utf-8")
    steps = []
    for chunk in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        title, _, body = chunk.partition("\n")
        steps.append(Step(title.strip(), body.strip()))
    return steps


def variants(text: str, study: Study, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The configurations `text` quotes besides `config` itself, validated, each once, in order of
    appearance: what rendering it will run."""
    found: list[dict[str, Any]] = []
    for match in PLACEHOLDER.finditer(text):
        name, variant = match.group(1), match.group(2)
        quoted = []
        if name.startswith("lesson."):
            quoted = lessons.configs(study, study.lesson(name.removeprefix("lesson.")), config)
        elif variant:
            quoted = [validate_config(study.knobs, {**config, **_overrides(variant)})]
        found.extend(c for c in quoted if c != config and c not in found)
    return found


def _overrides(variant: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in variant.replace(" ", "").split(","))


def render(
    text: str,
    study: Study,
    result: RunResult,
    run_variant: Callable[[dict[str, Any]], RunResult],
) -> str:
    """Fill every placeholder; an unknown name raises KeyError so broken content fails the tests."""

    def fill(match: re.Match) -> str:
        name, variant = match.group(1), match.group(2)
        source = result
        if variant:
            source = run_variant({**result.config, **_overrides(variant)})
        if name.startswith("lesson."):
            lesson = study.lesson(name.removeprefix("lesson."))
            effect = lessons.measure(
                study, lesson, result.seed, at=source.config, runner=lambda _s, cfg, _seed: run_variant(cfg)
            )
            return lessons.render(study, effect)
        if name.startswith("config."):
            return str(source.config[name.removeprefix("config.")])
        if name.startswith("serving."):
            from engine.serving.sizing import design_profile, format_profile

            return format_profile(
                design_profile(study, source.config, source.seed), name.removeprefix("serving.")
            )
        if name.startswith("stage."):
            stage = study.stage(name.removeprefix("stage."))
            return format_latency(source.stage_ms()[stage.id], stage.online)
        return study.metric(name).format(source.metrics[name])

    return PLACEHOLDER.sub(fill, text)
