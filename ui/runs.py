"""Cached runs and the per-session record of every configuration tried."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from typing import Any

import streamlit as st

import engine
from engine.knobs import validate_config
from engine.result import RunResult
from engine.study import Dataset, Study

SLOW_S = 0.3  # a run slower than this gets a progress bar for the rest
WARMER = "warmer"  # the session's background warmer: (token, Warmer)


@st.cache_resource(max_entries=8, show_spinner=False)
def load_dataset(study_id: str, token: str, _raw: bytes) -> Dataset:
    """Parse an upload once per content hash; raises engine.data.DataError on bad files."""
    return engine.get_study(study_id).upload.load(_raw)


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


def run_all(study: Study, configs: list[dict[str, Any]], seed: int, data: Dataset | None, what: str) -> None:
    """Run `configs` (cached ones return at once), with a progress bar once one of them is slow."""
    bar = None
    for done, config in enumerate(configs, start=1):
        start = time.perf_counter()
        run_config(study, config, seed, data)
        if bar is None and time.perf_counter() - start > SLOW_S and done < len(configs):
            bar = st.progress(0.0)
        if bar is not None:
            bar.progress(done / len(configs), text=f"{what}: {done} of {len(configs)}")
    if bar is not None:
        bar.empty()


class Warmer:
    """Runs configurations in a background thread, so what the learner reads next is ready when
    they get there; cancelled when they move on (their knobs change), so no stale work competes
    with the next repaint. Steps are memoised with a single flight, so a run the page asks for
    meanwhile waits for the one in progress instead of training twice."""

    def __init__(self, study: Study, configs: list[dict[str, Any]], seed: int, data: Dataset | None):
        self._cancelled = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(study, configs, seed, data), daemon=True, name="warmer"
        )
        self._thread.start()

    def _run(self, study, configs, seed, data) -> None:
        for config in configs:
            if self._cancelled.is_set():
                return
            try:
                run_config(study, config, seed, data)
            except Exception:  # noqa: BLE001 - the page runs it again and shows what went wrong
                return

    def cancel(self) -> None:
        self._cancelled.set()


def warm_ahead(study: Study, token: tuple, configs: list[dict[str, Any]], seed: int, data) -> None:
    """Warm `configs` in the background for this session, once per `token` (what they were
    derived from). A session warms one thing at a time: a warmer started for another token, or
    another study, is cancelled (four studies' warmers at once held four studies' temporaries).
    MLSD_LAB_WARM_AHEAD=0 turns it off (the page tests, whose sessions end at once, would leave it
    working behind them)."""
    current = st.session_state.get(WARMER)
    token = (study.id, *token)
    if current is not None and current[0] == token or os.environ.get("MLSD_LAB_WARM_AHEAD") == "0":
        return
    if current is not None:
        current[1].cancel()
    st.session_state[WARMER] = (token, Warmer(study, configs, seed, data))


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
