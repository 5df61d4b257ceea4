"""Start and stop endpoint processes: `python -m engine serve` on a free 127.0.0.1 port.

Each child watches its parent and exits when it is gone (not Linux's parent-death signal: that fires
when the *thread* that started the child ends, and Streamlit's script threads end after every rerun),
stops itself when idle, and is stopped at interpreter exit, so no server outlives the app."""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).parents[2]
IDLE_SECONDS = 15 * 60
_running: set[ServerProcess] = set()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(RuntimeError):
    pass


@dataclass(eq=False)
class ServerProcess:
    study: str
    version: int
    port: int
    process: subprocess.Popen
    started_at: float = field(default_factory=time.time)
    max_batch: int = 1
    max_wait_ms: float = 10.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def get(self, path: str) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def model(self) -> dict:
        return json.loads(self.get("/v1/model")[1])

    def stop(self) -> None:
        _running.discard(self)
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start(
    study: str,
    version: int,
    db_url: str | None = None,
    max_batch: int = 1,
    max_wait_ms: float = 10.0,
    timeout: float = 60.0,
) -> ServerProcess:
    """Start an endpoint for a registered version and wait until /healthz answers."""
    port = free_port()
    env = dict(os.environ)
    if db_url:
        env["MLSD_LAB_DB"] = db_url
    command = [
        sys.executable, "-m", "engine", "serve", study, "--version", str(version), "--port", str(port),
        "--max-batch", str(max_batch), "--max-wait-ms", str(max_wait_ms), "--idle-timeout", str(IDLE_SECONDS),
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = ServerProcess(study, version, port, process, max_batch=max_batch, max_wait_ms=max_wait_ms)
    _running.add(server)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive:
            _running.discard(server)
            error = process.stderr.read().decode(errors="replace").strip().splitlines()
            raise ServerError(error[-1] if error else f"the server exited with status {process.returncode}")
        with contextlib.suppress(OSError):
            if server.get("/healthz")[0] == 200:
                return server
        time.sleep(0.1)
    server.stop()
    raise ServerError(f"the server did not answer /healthz within {timeout:.0f} s")


def running() -> list[ServerProcess]:
    return [s for s in list(_running) if s.alive]


@atexit.register
def stop_all() -> None:
    for server in list(_running):
        server.stop()
