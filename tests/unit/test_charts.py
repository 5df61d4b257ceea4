"""The Production page's charts say what their numbers say: readable log axes, no bars on a log axis,
marks that do not run into each other, and a knee sentence taken from its own table."""

from __future__ import annotations

from engine.serving.loadtest import Level
from ui.plots import log_ticks
from ui.production.batch import batch_vs_online
from ui.production.serve import knee_note


def level(concurrency: int, rps: float, p50: float) -> Level:
    return Level(
        concurrency=concurrency, requests=100, errors=0, seconds=1.0, rps=rps, p50_ms=p50, p95_ms=p50,
        p99_ms=p50 * 2, server_ms=p50 / 2, mean_ms=p50, stopped_by="requests",
    )  # fmt: skip


def test_a_log_axis_is_labelled_one_two_five_in_plain_numbers_inside_the_data():
    ticks = log_ticks([1.3, 2.2, 4.8, 95.0])
    assert ticks["type"] == "log"
    assert ticks["tickvals"] == [1, 2, 5, 10, 20, 50, 100]
    assert ticks["ticktext"] == ["1", "2", "5", "10", "20", "50", "100"]
    small = log_ticks([0.21, 0.34])
    assert small["ticktext"] == ["0.2", "0.5"]  # a short range still gets labels, none crowded
    assert log_ticks([float("nan"), 2.2, 4.8])["tickvals"] == [2, 5]  # a level that measured nothing


def test_batch_against_online_is_drawn_as_points_not_bars_on_a_log_axis():
    fig = batch_vs_online({"batch job": 50_000.0, "online, in process": 900.0})
    assert [trace.type for trace in fig.data] == ["scatter"]
    assert fig.layout.xaxis.type == "log" and list(fig.data[0].text) == ["50,000/s", "900/s"]


def test_the_knee_sentence_is_the_tables_own_numbers():
    rising = knee_note(level(16, 1000, 2.0), level(64, 1040, 8.0))
    assert "c=16" in rising and "+4%" in rising and "2.00 to 8.00 ms" in rising and "queue" in rising
    falling = knee_note(level(16, 1000, 2.0), level(64, 1020, 1.8))  # a busy machine's table
    assert "2.00 to 1.80 ms" in falling and "wait in the queue" not in falling
