"""Every test writes to its own database and artifact folder, never the developer's `data/`, and the
session ends with no model endpoint left running."""

from __future__ import annotations

import os
import subprocess

import pytest

# The tests hop between studies and seeds: under a server's 200 MB memo budget they retrained what it
# dropped (the suite took 21.5 min, 17.5 with this). Set before engine.memo is imported; test_memo
# tests the budget itself. The browser tests' servers inherit it.
os.environ.setdefault("MLSD_LAB_CACHE_MB", "4000")


# The fast tier, `pytest -m "not slow"` (about 2 minutes with `-n 2`): the engine's contracts, every
# study's declaration, run, serving and drift hooks, the uploads and the release and monitoring
# mechanics. Slow: the browser and page tests, the modules that train many models, and the
# conformance check's content and knob sweeps (bench: module times from `--durations=0`).
SLOW_FOLDERS = {"e2e", "app"}
SLOW_MODULES = {
    "test_lessons.py",
    "test_grader.py",
    "test_interview.py",
    "test_fraud.py",
    "test_recommendation.py",
    "test_search.py",
    "test_serving.py",
    "test_content_and_graph.py",
    "test_cli.py",
    "test_release.py",
}
SLOW_CONTRACT_PARTS = {"content", "knobs"}


def pytest_collection_modifyitems(items):
    for item in items:
        path = item.path
        part = getattr(item, "callspec", None) and item.callspec.params.get("part")
        if path.parent.name in SLOW_FOLDERS or path.name in SLOW_MODULES or part in SLOW_CONTRACT_PARTS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def isolated_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-data")
    saved = {k: os.environ.get(k) for k in ("MLSD_LAB_DB", "MLSD_LAB_DATA", "MLSD_LAB_WARM_AHEAD")}
    os.environ["MLSD_LAB_DB"] = f"sqlite:///{root / 'lab.db'}"
    os.environ["MLSD_LAB_DATA"] = str(root)
    os.environ["MLSD_LAB_WARM_AHEAD"] = "0"  # no walkthrough warming behind tests that have ended
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    from engine.serving import process

    process.stop_all()
    children = subprocess.run(
        ["pgrep", "-f", "-P", str(os.getpid()), "engine serve"], capture_output=True, text=True
    ).stdout.split()
    assert not children, f"endpoint processes left running: {children}"


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster on a free port (Debian's `postgresql` binaries), or a skip
    with the reason; in CI a missing server fails instead, since CI must test PostgreSQL."""
    from tests import postgres

    try:
        server = postgres.start()
    except postgres.Unavailable as err:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test PostgreSQL, but no server could start: {err}")
        pytest.skip(f"no PostgreSQL server here ({err}); CI installs one (apt-get install postgresql)")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database of each kind the lab supports, as a SQLAlchemy URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lab.db'}"
    return request.getfixturevalue("postgres_server").new_database()
