"""Start and stop endpoint processes: `python -m engine serve` on a free 127.0.0.1 port.

Each child watches its parent and exits when it is gone (not Linux's parent-death signal: that fires
when the *thread* that started the child ends, and Streamlit's script threads end after every rerun),
stops itself when idle, and is stopped at interpreter exit, so no server outlives the app.

A class shares them: `acquire` gives every session that serves the same version with the same
settings the same process (one fraud endpoint holds about 220 MB), counting its holders, and `release`
stops it when the last one lets go. A replica runs at most MAX_ENDPOINTS of them; past the cap,
`acquire` refuses with who holds what."""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).parents[2]
IDLE_SECONDS = 15 * 60
NICE = 10  # an endpoint yields the CPU to the app's pages: a class's load tests do not stall a repaint
ENDPOINT_MB = 250  # what one endpoint process holds, about (a fraud endpoint measured 220 MB)
_running: set[ServerProcess] = set()


def _default_cap() -> int:
    """Endpoints may take a quarter of the machine's memory: 24 on a 24 GiB machine."""
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
        total_kb = next(int(line.split()[1]) for line in lines if line.startswith("MemTotal:"))
    except (OSError, StopIteration, ValueError):
        return 4
    return max(2, min(32, total_kb // 1024 // 4 // ENDPOINT_MB))


MAX_ENDPOINTS = int(os.environ.get("MLSD_LAB_MAX_ENDPOINTS", 0)) or _default_cap()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(RuntimeError):
    pass


class EndpointCapError(ServerError):
    """The replica already runs its cap of endpoints; the message says who holds them."""


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

    def rss_mb(self) -> float:
        """Resident memory of the endpoint's process, in MB (0 once it has stopped)."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0.0
        rss = (int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:"))
        return next(rss, 0.0)

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
        "--nice", str(NICE),
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


# -- shared endpoints ---------------------------------------------------------------------------------
@dataclass(eq=False)
class Shared:
    server: ServerProcess
    holders: set[str]


_shared: dict[tuple, Shared] = {}
_shared_lock = threading.Lock()  # held while starting too: two sessions asking at once get one process


def acquire(
    study: str,
    version: int,
    holder: str,
    db_url: str | None = None,
    max_batch: int = 1,
    max_wait_ms: float = 10.0,
    cap: int | None = None,
) -> ServerProcess:
    """The endpoint for (study, version, settings), started if no session serves it yet, with
    `holder` counted among its users. Past the replica's cap, EndpointCapError says who holds what."""
    key = (study, version, db_url, max_batch, max_wait_ms)
    with _shared_lock:
        for old in [k for k, s in _shared.items() if not s.server.alive]:  # stopped itself when idle
            del _shared[old]
        if key in _shared:
            _shared[key].holders.add(holder)
            return _shared[key].server
        limit = cap or MAX_ENDPOINTS
        if len(_shared) >= limit:
            raise EndpointCapError(_cap_message(limit))
        server = start(study, version, db_url, max_batch, max_wait_ms)
        _shared[key] = Shared(server, {holder})
        return server


def release(server: ServerProcess, holder: str) -> None:
    """`holder` lets go of `server`; the last to let go stops it."""
    with _shared_lock:
        for key, shared in list(_shared.items()):
            if shared.server is server:
                shared.holders.discard(holder)
                if not shared.holders:
                    del _shared[key]
                    server.stop()
                return
    server.stop()  # not shared (started directly): stop it


def shared() -> list[tuple[ServerProcess, int]]:
    """The running shared endpoints and how many sessions hold each."""
    with _shared_lock:
        return [(s.server, len(s.holders)) for s in _shared.values() if s.server.alive]


def _cap_message(limit: int) -> str:
    held = sorted(_shared.values(), key=lambda s: s.server.started_at)
    listing = "; ".join(
        f"{s.server.study} v{s.server.version} ({len(s.holders)} session{'s' * (len(s.holders) != 1)}, "
        f"up {(time.time() - s.server.started_at) / 60:.0f} min)"
        for s in held
    )
    return (
        f"This server already runs its {limit} endpoints, the most it keeps for a class (each holds about "
        f"{ENDPOINT_MB} MB; MLSD_LAB_MAX_ENDPOINTS sets the cap): {listing}. Serve one of those versions to "
        f"share its endpoint, or wait: an endpoint stops when its last session stops it, or after "
        f"{IDLE_SECONDS // 60} idle minutes."
    )
