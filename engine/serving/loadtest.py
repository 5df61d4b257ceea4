"""A bounded load generator: stdlib threads with keep-alive `http.client` connections (measured
fastest here; an async client collapsed under concurrency). Each level stops at its request count
or its time cap, whichever comes first.

The app runs it in a child process at a lower CPU priority (`run_apart`): sixty-four client threads
inside the app's own process would hold its interpreter lock against every other session's page."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Level:
    concurrency: int
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    server_ms: float  # mean server-side time, from the X-Server-Time-Ms header
    stopped_by: str  # "requests" or "time"

    @property
    def overhead_ms(self) -> float:
        """Network, HTTP and JSON: what the client waited beyond the server's own time."""
        return self.mean_ms - self.server_ms

    @property
    def littles_law_concurrency(self) -> float:
        """L = λ·W: requests in flight implied by the measured throughput and mean latency."""
        return self.rps * self.mean_ms / 1000

    def to_dict(self) -> dict:
        return {**asdict(self), "overhead_ms": self.overhead_ms, "littles_law": self.littles_law_concurrency}


def run_level(
    port: int, bodies: list[dict], concurrency: int, max_requests: int, max_seconds: float
) -> Level:
    encoded = [json.dumps(b).encode() for b in bodies]
    lock = threading.Lock()
    issued = [0]
    latencies: list[float] = []
    server: list[float] = []
    errors = [0]
    began = time.perf_counter()
    deadline = began + max_seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, mine_server, mine_errors = [], [], 0
        while True:
            with lock:
                # Each worker sends at least one request: on a busy machine a short level could
                # otherwise pass its deadline before any worker ran, and measure nothing.
                if issued[0] >= max_requests or (mine and time.perf_counter() >= deadline):
                    break
                index = issued[0]
                issued[0] += 1
            body = encoded[index % len(encoded)]
            start = time.perf_counter()
            try:
                connection.request("POST", "/v1/predict", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
                header = response.getheader("X-Server-Time-Ms")
            except (OSError, http.client.HTTPException):
                ok, header = False, None
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append((time.perf_counter() - start) * 1000)
            if ok and header:
                mine_server.append(float(header))
            mine_errors += not ok
        connection.close()
        with lock:
            latencies.extend(mine)
            server.extend(mine_server)
            errors[0] += mine_errors

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    values = np.array(latencies) if latencies else np.array([np.nan])
    return Level(
        concurrency=concurrency,
        requests=len(latencies),
        errors=errors[0],
        seconds=seconds,
        rps=len(latencies) / seconds,
        p50_ms=float(np.percentile(values, 50)),
        p95_ms=float(np.percentile(values, 95)),
        p99_ms=float(np.percentile(values, 99)),
        mean_ms=float(values.mean()),
        server_ms=float(np.mean(server)) if server else float("nan"),
        stopped_by="requests" if len(latencies) >= max_requests else "time",
    )


def run(
    port: int,
    bodies: list[dict],
    levels: tuple[int, ...] = (1, 4, 16, 64),
    max_requests: int = 500,
    max_seconds: float = 10.0,
    warmup: int = 20,
    progress=None,
) -> list[Level]:
    """Warm the server up, then measure each concurrency level in turn."""
    run_level(port, bodies, 1, warmup, max_seconds)
    results = []
    for i, concurrency in enumerate(levels):
        results.append(run_level(port, bodies, concurrency, max_requests, max_seconds))
        if progress:
            progress((i + 1) / len(levels), results[-1])
    return results


CHILD_NICE = 10


def run_apart(port: int, bodies: list[dict], levels: tuple[int, ...], max_requests: int, max_seconds: float,
              progress=None) -> list[Level]:  # fmt: skip
    """`run` in a child process at a lower priority, its progress passed back as it happens.

    The child is this file run as a script, fed its job as JSON on stdin and answering in JSON lines:
    not `multiprocessing`, whose spawned child re-imports the parent's `__main__`, which under
    Streamlit is the app's own script."""
    job = {"port": port, "bodies": bodies, "levels": list(levels), "max_requests": max_requests,
           "max_seconds": max_seconds}  # fmt: skip
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        child.stdin.write(json.dumps(job))
        child.stdin.close()
        for line in child.stdout:
            message = json.loads(line)
            if "done" in message:
                return [Level(**level) for level in message["done"]]
            if "error" in message:
                raise RuntimeError(message["error"])
            if progress:
                progress(message["share"], Level(**message["level"]))
        raise RuntimeError(f"the load generator stopped without a result (exit code {child.wait()})")
    finally:
        if child.poll() is None:  # the caller gave up (Streamlit stopped the script): stop the load too
            child.kill()
        child.wait(timeout=5)
        child.stdout.close()


def _child() -> None:
    os.nice(CHILD_NICE)
    job = json.load(sys.stdin)

    def say(message: dict) -> None:
        print(json.dumps(message), flush=True)

    try:
        job["levels"] = tuple(job["levels"])
        result = run(**job, progress=lambda share, level: say({"share": share, "level": asdict(level)}))
        say({"done": [asdict(level) for level in result]})
    except Exception as err:  # noqa: BLE001  the parent shows it; the child has no one else to tell
        say({"error": f"{type(err).__name__}: {err}"})


def knee(levels: list[Level]) -> Level | None:
    """The level past which more concurrency buys under 10 % more throughput: there latency starts
    growing with the queue instead of throughput with the load."""
    for current, following in zip(levels, levels[1:], strict=False):
        if following.rps < current.rps * 1.10:
            return current
    return None


if __name__ == "__main__":
    _child()
