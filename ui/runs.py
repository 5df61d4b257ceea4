"""Cached runs and the per-session record of every configuration tried."""

from __future__ import annotations

import gc
import sys
from typing import Any

import streamlit as st

import engine
from engine.knobs import validate_config
from engine.result import RunResult
from engine.study import Dataset, Study


@st.cache_resource(max_entries=8, show_spinner=False)
def load_dataset(study_id: str, token: str, _raw: bytes) -> Dataset:
    """Parse an upload once per content hash; raises engine.data.DataError on bad files."""
    return engine.get_study(study_id).load_data(_raw)


@st.cache_data(max_entries=256, show_spinner=False)
def _run_cached(study_id: str, config: tuple, seed: int, data_token: str | None, _data) -> RunResult:
    return engine.run(study_id, dict(config), seed=seed, data=_data)


def run_config(study: Study, config: dict[str, Any], seed: int, data: Dataset | None) -> RunResult:
    full = validate_config(study.knobs, config)
    result = _run_cached(study.id, tuple(full.items()), seed, data.token if data else None, data)
    _freeze_new_imports()
    return result


_modules_frozen = 0


def _freeze_new_imports() -> None:
    """Move everything alive into the garbage collector's permanent generation once new modules
    have been imported (a study's pipeline loads on its first run).

    Streamlit collects garbage after every rerun; walking the ~170k objects that pandas, scikit-learn
    and implicit create at import took ~85 ms of a ~105 ms warm rerun, holding the GIL. Frozen
    objects are still freed by reference counting; they are just not scanned again."""
    global _modules_frozen
    if len(sys.modules) > _modules_frozen:
        _modules_frozen = len(sys.modules)
        gc.collect()
        gc.freeze()


def run_key(result: RunResult, data: Dataset | None) -> tuple:
    return (tuple(result.config.items()), result.seed, data.token if data else None)


def history(study: Study) -> dict[tuple, RunResult]:
    """Every configuration run in this session for `study`, oldest first."""
    return st.session_state.setdefault("history", {}).setdefault(study.id, {})


def record(study: Study, result: RunResult, data: Dataset | None) -> None:
    history(study).setdefault(run_key(result, data), result)


def world(study: Study, key: tuple) -> tuple:
    """The world a run key was measured in: its seed, its data and the world knobs. Only runs of
    one world are comparable (a bigger world, another seed or an upload changes every metric)."""
    config, seed, token = dict(key[0]), key[1], key[2]
    return seed, token, tuple(config[k.id] for k in study.knobs if k.world and token is None)


def same_world(study: Study, current: tuple) -> dict[tuple, RunResult]:
    """This session's runs measured in the world of the run key `current`."""
    here = world(study, current)
    return {key: run for key, run in history(study).items() if world(study, key) == here}
