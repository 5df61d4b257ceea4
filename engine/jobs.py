"""Heavy jobs take turns: one queue per server for the work a class starts at once (load tests, batch
jobs, seeded canary repeats, serving periods), so thirty students on a 2-core replica do not slow
every other session's repaint with nothing telling anyone why.

A job waits for its turn in the order it asked (first come, first served), then for a free slot:
at most MAX_RUNNING run at once (the cores, by default). A load test runs alone, so its figures are
not another job's CPU. While it waits the caller is told its place and an estimate from the recent
durations of that kind of job, and can give up: `turn` is a context manager, and leaving it
(an exception, Streamlit interrupting the script for a click) withdraws the ticket.
"""

from __future__ import annotations

import itertools
import os
import statistics
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

MAX_RUNNING = int(os.environ.get("MLSD_LAB_MAX_JOBS", os.cpu_count() or 2))
POLL_S = 0.5
JOB_NICE = 10  # a running job's thread yields the CPU to other sessions' repaints


@dataclass
class Ticket:
    number: int
    kind: str
    exclusive: bool
    asked_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Turn:
    """What a job saw: how long it waited, and how many other jobs ran beside it at its start."""

    waited_s: float
    alongside: int


class JobQueue:
    def __init__(self, max_running: int = MAX_RUNNING):
        self.max_running = max(1, max_running)
        self._lock = threading.Condition()
        self._waiting: deque[Ticket] = deque()
        self._running: dict[int, Ticket] = {}
        self._numbers = itertools.count(1)
        self._durations: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=20))

    def _can_start(self, ticket: Ticket) -> bool:
        if self._waiting[0] is not ticket:
            return False  # first come, first served: no job overtakes an earlier one
        if ticket.exclusive:
            return not self._running
        alone = any(t.exclusive for t in self._running.values())
        return not alone and len(self._running) < self.max_running

    def place(self, ticket: Ticket) -> int:
        """1 = next to start."""
        with self._lock:
            return list(self._waiting).index(ticket) + 1 if ticket in self._waiting else 0

    def estimate_s(self, ticket: Ticket) -> float | None:
        """Seconds until `ticket` starts, from the recent durations of the jobs ahead of it and
        those running; None until each kind involved has finished once."""
        with self._lock:
            ahead = [t for t in self._waiting if t.number < ticket.number]
            kinds = [t.kind for t in (*self._running.values(), *ahead)]
            if any(not self._durations[k] for k in kinds):
                return None
            work = sum(statistics.median(self._durations[k]) for k in kinds)
            return work / self.max_running

    def busy(self) -> tuple[int, int]:
        """(running, waiting) now."""
        with self._lock:
            return len(self._running), len(self._waiting)

    @contextmanager
    def turn(
        self, kind: str, exclusive: bool = False, waiting: Callable[[int, float | None], None] | None = None
    ) -> Iterator[Turn]:
        """Wait for this job's turn, calling `waiting(place, estimate_s)` while it waits, then run
        the body. Leaving the block, normally or not, frees the slot or withdraws the ticket."""
        ticket = Ticket(next(self._numbers), kind, exclusive)
        with self._lock:
            self._waiting.append(ticket)
        started = None
        try:
            while True:
                with self._lock:
                    if self._can_start(ticket):
                        self._waiting.popleft()
                        alongside = len(self._running)
                        self._running[ticket.number] = ticket
                        self._lock.notify_all()
                        break
                if waiting is not None:
                    waiting(self.place(ticket), self.estimate_s(ticket))
                with self._lock:
                    self._lock.wait(POLL_S)
            started = time.monotonic()
            with _lower_priority():
                yield Turn(started - ticket.asked_at, alongside)
        finally:
            with self._lock:
                if started is None:
                    self._waiting.remove(ticket)  # given up while waiting
                else:
                    self._running.pop(ticket.number, None)
                    self._durations[kind].append(time.monotonic() - started)
                self._lock.notify_all()


@contextmanager
def _lower_priority() -> Iterator[None]:
    """Run the job's thread (and the threads it starts) at a lower CPU priority: Linux keeps a nice
    value per thread, so the session's other work and everyone else's repaints come first. Restoring
    it needs the right to raise priority (root here); without it the thread stays low, and it ends
    with the script run anyway."""
    if not hasattr(os, "setpriority"):
        yield
        return
    thread = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, thread)
    os.setpriority(os.PRIO_PROCESS, thread, min(before + JOB_NICE, 19))
    try:
        yield
    finally:
        with suppress(PermissionError):
            os.setpriority(os.PRIO_PROCESS, thread, before)


QUEUE = JobQueue()
