"""Bounded, thread-safe memos for expensive pipeline steps (world generation, training).

A `Step` declares the knobs it depends on and the steps it builds on, and its memo key is derived
from that declaration, so moving a post-processing knob reuses the trained models, and returning to a
configuration already seen costs nothing. A step's computation sees only the knobs it declared:
reading another raises UndeclaredKnob, naming the step and the fix, instead of silently serving a
model trained for another value (a hand-written key list once could forget a knob).

Every memo shares one byte budget (`MLSD_LAB_CACHE_MB`, default CACHE_MB): when their entries together
outgrow it, the least recently used entry of any memo is dropped. A server's memory then stays bounded
however many studies and configurations its sessions visit (each memo's `max_entries` alone let a
server grow past 500 MB). A step asked for while another thread computes it waits for that result
instead of computing it twice.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
import types
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

T = TypeVar("T")

# The libraries a server imports take ~240 MB and Streamlit's sessions a few tens more: 200 MB of
# memoised steps keeps a server with every study warm under 500 MB (bench/run.py measures it).
CACHE_MB = 200

_lock = threading.RLock()  # one lock for every memo and the budget: their operations are dict moves


_budgets: weakref.WeakSet[Budget] = weakref.WeakSet()


class Budget:
    """The bytes held by every memo's entries, in one least-recently-used order."""

    def __init__(self, limit_bytes: int):
        _budgets.add(self)
        self.limit_bytes = limit_bytes
        self._order: OrderedDict[tuple[int, Hashable], tuple[Memo, int]] = OrderedDict()
        self.held_bytes = 0

    def used(self, memo: Memo, key: Hashable) -> None:
        self._order.move_to_end((id(memo), key))

    def add(self, memo: Memo, key: Hashable, size: int) -> None:
        """Hold the new entry, then drop the least recently used ones while over the limit, but
        never the new entry nor one a run in progress has used (see `working_set`)."""
        added = (id(memo), key)
        self._order[added] = (memo, size)
        self.held_bytes += size
        self.trim(keep=added)

    def trim(self, keep: tuple[int, Hashable] | None = None) -> bool:
        """Drop the least recently used entries not in a run's working set while over the limit;
        whether any went."""
        if self.held_bytes <= self.limit_bytes:
            return False
        pinned = set().union(_last_run, *_pinned.values())
        dropped = False
        for entry in list(self._order):
            if self.held_bytes <= self.limit_bytes:
                break
            if entry != keep and entry not in pinned:
                owner, _ = self._order[entry]
                owner._drop(entry[1])
                dropped = True
        return dropped

    def forget(self, memo: Memo, key: Hashable) -> None:
        _, size = self._order.pop((id(memo), key))
        self.held_bytes -= size


# Per thread running a `working_set`: the (memo id, key) of every entry its run has used so far;
# and the entries of the run that ended last.
_pinned: dict[int, set[tuple[int, Hashable]]] = {}
_last_run: set[tuple[int, Hashable]] = set()


@contextmanager
def working_set() -> Iterator[None]:
    """While this thread runs a configuration, the budget keeps the entries it has used, and keeps
    them after it until another run ends: its world stays while its models are added, and for the
    next knob move. Without it a world larger than the whole budget (pymk at 10x: ~300 MB) was
    dropped by the very next step, so every knob move rebuilt it (36 s; 1.3 s with it). The budget
    then bounds the rest: what a server holds is the budget plus the runs in progress and the last."""
    me = threading.get_ident()
    with _lock:
        outermost = me not in _pinned
        _pinned.setdefault(me, set())
    try:
        yield
    finally:
        if outermost:
            global _last_run
            with _lock:
                _last_run = _pinned.pop(me)  # kept until another run ends: the next knob move reuses it
                dropped = [budget.trim() for budget in list(_budgets)]  # what earlier runs kept goes now
            if any(dropped):
                release_freed_memory()


def _pin(memo: Memo, key: Hashable) -> None:
    if (held := _pinned.get(threading.get_ident())) is not None:
        held.add((id(memo), key))


BUDGET = Budget(int(float(os.environ.get("MLSD_LAB_CACHE_MB", CACHE_MB)) * 2**20))


class Memo:
    def __init__(self, max_entries: int, budget: Budget = BUDGET):
        self.max_entries = max_entries
        self.budget = budget
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._computing: dict[Hashable, threading.Event] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        while True:
            with _lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    self.budget.used(self, key)
                    _pin(self, key)
                    return self._items[key]  # type: ignore[return-value]
                running = self._computing.get(key)
                if running is None:
                    running = self._computing[key] = threading.Event()
                    break
            running.wait()  # another thread computes it: take its result (or retry if it failed)
        try:
            value = compute()  # outside the lock: other sessions keep running meanwhile
        finally:
            with _lock:
                self._computing.pop(key).set()
        size = deep_size(value)
        with _lock:
            _pin(self, key)
            if key not in self._items:
                self._items[key] = value
                self.budget.add(self, key, size)
            while len(self._items) > self.max_entries:
                self._drop(next(iter(self._items)))
        release_freed_memory()  # the step's temporaries, and any entry dropped for it
        return value

    def _drop(self, key: Hashable) -> None:
        with _lock:
            del self._items[key]
            self.budget.forget(self, key)

    def clear(self) -> None:
        with _lock:
            for key in list(self._items):
                self._drop(key)

    def __len__(self) -> int:
        return len(self._items)


class UndeclaredKnob(KeyError):
    """A step read a knob its declaration does not list: its memo would serve a stale result."""


class KnobView(Mapping):
    """The configuration as one step may read it: only the knobs the step declared."""

    def __init__(self, config: Mapping[str, Any], step: Step):
        self._config, self._step = config, step

    def __getitem__(self, knob: str) -> Any:
        if knob not in self._step.knobs:
            raise UndeclaredKnob(
                f"step '{self._step.name}' of the {self._step.study} study read knob '{knob}', which its "
                f"declaration does not list, so its memo would serve a stale result when '{knob}' moves: "
                f"add '{knob}' to the step's knobs (or to a step it is declared after)"
            )
        return self._config[knob]

    def __iter__(self) -> Iterator[str]:
        return iter(self._step.knobs)

    def __len__(self) -> int:
        return len(self._step.knobs)


_steps: dict[str, list[Step]] = {}


class Step:
    """A memoised step of a study's pipeline (generating the world, training a model, building an
    index), keyed on what it declares: the knobs it reads, the knobs of the steps it is built
    `after` (their output is its input), the seed, and the data (an upload's token, or the simulated
    world's knobs, which the world step declares)."""

    def __init__(
        self,
        study: str,
        name: str,
        knobs: tuple[str, ...] = (),
        after: tuple[Step, ...] = (),
        max_entries: int = 8,
    ):
        self.study, self.name = study, name
        self.knobs = tuple(dict.fromkeys([k for step in after for k in step.knobs] + list(knobs)))
        self._memo = Memo(max_entries)
        _steps.setdefault(study, []).append(self)

    def key(self, config: Mapping[str, Any], seed: int, data: Any, extra: tuple = ()) -> tuple:
        source = ("upload", data.token) if data is not None else ("world",)
        return (*source, seed, *(config[k] for k in self.knobs), *extra)

    def get(
        self,
        config: Mapping[str, Any],
        seed: int,
        data: Any,
        compute: Callable[[KnobView], T],
        extra: tuple = (),
    ) -> T:
        """The step's result for this configuration, computed once per key: `compute` receives the
        configuration restricted to the declared knobs; `extra` adds what is not a knob (a day)."""
        return self._memo.get(self.key(config, seed, data, extra), lambda: compute(KnobView(config, self)))

    def clear(self) -> None:
        self._memo.clear()


def steps_of(study: str) -> list[Step]:
    """The memoised steps a study's implementation declared (once its modules are imported)."""
    return list(_steps.get(study, ()))


def _glibc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:  # not glibc (macOS, musl): nothing to tune this way
        return None


_LIBC = _glibc()
_TRIM = _LIBC.malloc_trim if _LIBC else None
M_ARENA_MAX = -8
if _LIBC:
    # Streamlit runs each session's script on a thread of its own, and glibc gives threads up to
    # eight arenas per core, whose freed memory other threads cannot reuse: with every study warm a
    # server held 595 MB idle, 458 MB started with MALLOC_ARENA_MAX=2 as the README does
    # (bench/sessions.py). glibc reads the limit once, when a second arena is made, so set this late
    # it only caps what comes after (546 MB); the variable is the way to start a server.
    _LIBC.mallopt(M_ARENA_MAX, int(os.environ.get("MALLOC_ARENA_MAX", 2)))


def release_freed_memory() -> None:
    """Hand the heap that freed objects leave behind back to the operating system. glibc keeps it in
    its arenas: after building fraud's features, 90 MB more than the memos held stayed in the
    server's RSS (measured), so a budget on the memos alone did not bound the process."""
    if _TRIM is not None:
        _TRIM(0)


SPARSE_PARTS = ("data", "indices", "indptr", "row", "col")
_NOT_DATA = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)
SAMPLED = 256  # elements sized of a larger container, the rest estimated from them


def deep_size(value: object) -> int:
    """Bytes held by `value` and everything it refers to, each object counted once: array buffers
    in full (a view counts its base once), containers and plain objects through their contents. A
    container of more than SAMPLED elements is estimated from SAMPLED of them, evenly spaced: walking
    every dict of a networkx graph took 1.5 s for one 5,000-user network."""
    seen: set[int] = set()
    total = 0.0
    stack: list[tuple[object, float]] = [(value, 1.0)]
    while stack:
        item, weight = stack.pop()
        if id(item) in seen or isinstance(item, _NOT_DATA):
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            if isinstance(item.base, np.ndarray):
                stack.append((item.base, weight))
            else:
                total += weight * item.nbytes
            continue
        total += weight * sys.getsizeof(item, 64)
        if isinstance(item, str | bytes | int | float | bool | complex) or item is None:
            continue
        if sp.issparse(item):
            parts = [getattr(item, name) for name in SPARSE_PARTS if hasattr(item, name)]
        elif isinstance(item, dict):
            parts = [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple | set | frozenset):
            parts = list(item)
        elif hasattr(item, "memory_usage") and hasattr(item, "to_numpy"):  # pandas
            total += weight * int(np.sum(item.memory_usage(deep=True)))
            continue
        else:
            parts = _attributes(item)
        if len(parts) > SAMPLED:
            weight *= len(parts) / SAMPLED
            parts = parts[:: len(parts) // SAMPLED][:SAMPLED]
        stack.extend((part, weight) for part in parts)
    return int(total)


def _attributes(item: object) -> list[object]:
    attributes = list(getattr(item, "__dict__", {}).values())
    for cls in type(item).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if hasattr(item, name):
                attributes.append(getattr(item, name))
    return attributes
