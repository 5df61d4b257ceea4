"""Run numerical code on one thread, cheaply enough to do per request.

`threadpoolctl.threadpool_limits` scans the process's loaded libraries on every call (about 4.5 ms
here, read from /proc/self/maps): more than a whole recommendation. One controller, built on first
use, makes each limit a few microseconds."""

from __future__ import annotations

from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def one_thread(user_api: str | None = None):
    """A context manager limiting BLAS / OpenMP pools to one thread, as one request would run."""
    return _controller().limit(limits=1, user_api=user_api)
