"""The model endpoint: a Starlette app over one registered version, run by uvicorn in its own process.

Routes: POST /v1/predict, GET /healthz, GET /v1/model, GET /metrics (Prometheus text). Every response
carries the model version and the server-side time in headers. Optional micro-batching queues
requests for up to `max_wait_ms` and answers up to `max_batch` of them with one vectorised call."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from engine.serving.predictor import BadRequest, Predictor

MAX_BODY_BYTES = 16 * 1024
BUCKETS_MS = (0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)


class Metrics:
    """Request counters and a latency histogram, rendered in Prometheus' text format."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.buckets = [0] * (len(BUCKETS_MS) + 1)
        self.total_ms = 0.0
        self.count = 0
        self.last_request = time.monotonic()

    def observe(self, route: str, status: int, ms: float) -> None:
        self.requests[route, status] = self.requests.get((route, status), 0) + 1
        self.last_request = time.monotonic()
        if route != "/v1/predict":
            return
        self.count += 1
        self.total_ms += ms
        index = next((i for i, edge in enumerate(BUCKETS_MS) if ms <= edge), len(BUCKETS_MS))
        self.buckets[index] += 1

    def render(self, version: int) -> str:
        lines = [
            "# HELP mlsd_requests_total Requests by route and status code.",
            "# TYPE mlsd_requests_total counter",
        ]
        for (route, status), n in sorted(self.requests.items()):
            lines.append(f'mlsd_requests_total{{route="{route}",code="{status}",version="{version}"}} {n}')
        errors = sum(n for (_, status), n in self.requests.items() if status >= 500)
        lines += [
            "# HELP mlsd_errors_total Requests answered with a 5xx status.",
            "# TYPE mlsd_errors_total counter",
            f"mlsd_errors_total {errors}",
            "# HELP mlsd_predict_seconds Server-side time of POST /v1/predict.",
            "# TYPE mlsd_predict_seconds histogram",
        ]
        running = 0
        for edge, n in zip((*BUCKETS_MS, float("inf")), self.buckets, strict=True):
            running += n
            le = "+Inf" if edge == float("inf") else f"{edge / 1000:g}"
            lines.append(f'mlsd_predict_seconds_bucket{{le="{le}"}} {running}')
        lines += [
            f"mlsd_predict_seconds_sum {self.total_ms / 1000:.6f}",
            f"mlsd_predict_seconds_count {self.count}",
        ]
        return "\n".join(lines) + "\n"


class MicroBatcher:
    """Collects parsed requests for up to `max_wait_ms` (or until `max_batch`) and answers them with
    one `predict` call: more throughput under concurrency, at the cost of the wait."""

    def __init__(self, predictor: Predictor, max_batch: int, max_wait_ms: float):
        self.predictor = predictor
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.queue: asyncio.Queue | None = None
        self.sizes: list[int] = []

    async def submit(self, request: Any) -> dict[str, Any]:
        if self.queue is None:
            self.queue = asyncio.Queue()
            asyncio.get_running_loop().create_task(self._drain())
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((request, future))
        return await future

    async def _drain(self) -> None:
        while True:
            batch = [await self.queue.get()]
            deadline = time.monotonic() + self.max_wait
            while len(batch) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self.queue.get(), left))
                except TimeoutError:
                    break
            self.sizes.append(len(batch))
            try:
                answers = self.predictor.predict([request for request, _ in batch])
            except Exception as err:  # noqa: BLE001 - every waiting request gets the error
                for _, future in batch:
                    future.set_exception(err)
                continue
            for (_, future), answer in zip(batch, answers, strict=True):
                future.set_result(answer)


def create_app(predictor: Predictor, model: dict[str, Any], max_batch: int = 1, max_wait_ms: float = 10.0):
    """`model` is what GET /v1/model reports: study, version, config, sha256."""
    metrics = Metrics()
    version = int(model["version"])
    batcher = MicroBatcher(predictor, max_batch, max_wait_ms) if max_batch > 1 else None

    def answer(body: Any, status: int, started: float, route: str) -> Response:
        ms = (time.perf_counter() - started) * 1000
        metrics.observe(route, status, ms)
        headers = {"X-Model-Version": str(version), "X-Server-Time-Ms": f"{ms:.3f}"}
        if isinstance(body, str):
            return PlainTextResponse(body, status, headers=headers, media_type="text/plain; version=0.0.4")
        return Response(json.dumps(body), status, headers=headers, media_type="application/json")

    async def predict(request: Request) -> Response:
        started = time.perf_counter()
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return answer({"error": f"body over {MAX_BODY_BYTES} bytes"}, 413, started, "/v1/predict")
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                return answer({"error": f"body over {MAX_BODY_BYTES} bytes"}, 413, started, "/v1/predict")
        try:
            parsed = predictor.parse(json.loads(raw))
        except json.JSONDecodeError as err:
            return answer({"error": f"body is not JSON: {err.msg} at {err.pos}"}, 400, started, "/v1/predict")
        except BadRequest as err:
            return answer({"error": str(err), "field": err.field}, 422, started, "/v1/predict")
        try:
            result = await batcher.submit(parsed) if batcher else predictor.predict([parsed])[0]
        except Exception as err:  # noqa: BLE001 - a bug answers 500 and the server stays up
            return answer({"error": f"{type(err).__name__}: {err}"}, 500, started, "/v1/predict")
        return answer({**result, "model_version": version}, 200, started, "/v1/predict")

    async def healthz(request: Request) -> Response:
        return answer({"status": "ok", "version": version}, 200, time.perf_counter(), "/healthz")

    async def model_info(request: Request) -> Response:
        info = {**model, "max_batch": max_batch, "max_wait_ms": max_wait_ms, "pid": os.getpid()}
        if batcher and batcher.sizes:
            info["mean_batch"] = sum(batcher.sizes) / len(batcher.sizes)
        return answer(info, 200, time.perf_counter(), "/v1/model")

    async def prometheus(request: Request) -> Response:
        return answer(metrics.render(version), 200, time.perf_counter(), "/metrics")

    app = Starlette(
        routes=[
            Route("/v1/predict", predict, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/v1/model", model_info),
            Route("/metrics", prometheus),
        ]
    )
    app.state.metrics = metrics
    return app


def watch_parent_and_idle(metrics: Metrics, idle_seconds: float) -> None:
    """End this process when the app that started it is gone (its parent changes) or when nobody
    has called it for `idle_seconds`: no server outlives the app or an abandoned session."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent or time.monotonic() - metrics.last_request > idle_seconds:
                os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def serve(
    predictor: Predictor,
    model: dict[str, Any],
    host: str = "127.0.0.1",
    port: int = 8600,
    max_batch: int = 1,
    max_wait_ms: float = 10.0,
    idle_seconds: float | None = None,
) -> None:
    import uvicorn

    app = create_app(predictor, model, max_batch, max_wait_ms)
    if idle_seconds:
        watch_parent_and_idle(app.state.metrics, idle_seconds)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
