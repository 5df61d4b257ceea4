"""Heavy jobs take turns (engine/jobs.py): first come, first served, a bounded number at once, a load
test alone, and a waiting job can give up. Mechanisms, with events rather than timings."""

from __future__ import annotations

import os
import threading

import pytest

from engine.jobs import JobQueue


def run_in_thread(queue: JobQueue, kind: str, log: list, release: threading.Event, **kwargs):
    started = threading.Event()

    def body():
        with queue.turn(kind, **kwargs) as turn:
            log.append((kind, "start", turn.alongside))
            started.set()
            release.wait(10)
            log.append((kind, "end"))

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, started


def test_a_queued_job_runs_after_the_one_before_it():
    queue, log = JobQueue(max_running=1), []
    first_done, second_done = threading.Event(), threading.Event()
    first, first_started = run_in_thread(queue, "batch", log, first_done)
    assert first_started.wait(5)
    second, second_started = run_in_thread(queue, "canary", log, second_done)
    assert not second_started.wait(0.3)  # waits: the only slot is taken
    assert queue.busy() == (1, 1)
    first_done.set()
    assert second_started.wait(5)
    second_done.set()
    first.join(5), second.join(5)
    order = [entry[:2] for entry in log]
    assert order == [("batch", "start"), ("batch", "end"), ("canary", "start"), ("canary", "end")]


def test_a_waiting_job_sees_its_place_and_can_give_up():
    queue, log = JobQueue(max_running=1), []
    hold = threading.Event()
    holder, started = run_in_thread(queue, "period", log, hold)
    assert started.wait(5)
    seen = []

    def waiting(place, estimate):
        seen.append((place, estimate))
        raise KeyboardInterrupt  # the learner pressed Cancel: Streamlit interrupts the script

    with pytest.raises(KeyboardInterrupt), queue.turn("load test", exclusive=True, waiting=waiting):
        pass
    assert seen == [(1, None)]  # first in line; no estimate before a "period" job has finished once
    assert queue.busy() == (1, 0)  # the ticket is gone
    hold.set()
    holder.join(5)
    with queue.turn("period"):  # and the slot came back
        assert queue.busy() == (1, 0)


def test_a_load_test_runs_alone_and_others_run_side_by_side():
    queue, log = JobQueue(max_running=2), []
    release = threading.Event()
    a, a_started = run_in_thread(queue, "batch", log, release)
    b, b_started = run_in_thread(queue, "canary", log, release)
    assert a_started.wait(5) and b_started.wait(5)  # two slots: both run
    load, load_started = run_in_thread(queue, "load test", log, threading.Event(), exclusive=True)
    assert not load_started.wait(0.3)
    release.set()
    assert load_started.wait(5)
    assert log[-1] == ("load test", "start", 0)  # nothing else ran beside it


def test_a_running_job_yields_the_cpu_and_gets_it_back():
    thread = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, thread)
    with JobQueue().turn("load test"):
        assert os.getpriority(os.PRIO_PROCESS, thread) == min(before + 10, 19)
    if os.geteuid() == 0:  # raising a priority back needs the right to
        assert os.getpriority(os.PRIO_PROCESS, thread) == before
