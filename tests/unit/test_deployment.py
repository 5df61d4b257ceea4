"""The class deployment: the container recipe and the compose file say what the README claims."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]


def test_the_compose_file_runs_app_replicas_on_one_postgresql():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert set(compose) == {"services", "volumes"}
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert db["image"].startswith("postgres:") and "healthcheck" in db
    url = app["environment"]["MLSD_LAB_DB"]
    assert url.startswith("postgresql+psycopg://") and f"@db/{db['environment']['POSTGRES_DB']}" in url
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["build"] == "." and "container_name" not in app  # a fixed name would forbid --scale
    assert all(volume.split(":")[0] in compose["volumes"] for s in (db, app) for volume in s["volumes"])


def test_the_image_runs_as_a_user_with_streamlits_health_check():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    assert "USER lab" in lines and lines.index("USER lab") < lines.index(
        next(x for x in lines if x.startswith("CMD"))
    )
    assert any("/_stcore/health" in line for line in lines)
    assert "psycopg[binary]" in (ROOT / "requirements.txt").read_text()  # the driver is in the image


def _docker_daemon() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _docker_daemon(), reason="no Docker daemon on this machine")
def test_the_image_builds():
    done = subprocess.run(
        ["docker", "build", "-q", "-t", "mlsd-lab-test", str(ROOT)], capture_output=True, timeout=1800
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_every_requirement_installs_from_a_wheel_without_a_compiler():
    """The README's commands and the slim image need no C++ compiler: every runtime and test
    requirement, and everything they pull in, resolves to a wheel for this platform (hnswlib 0.8.0
    shipped none, so `pip install` compiled it and the image build failed)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--only-binary", ":all:", "-r", str(ROOT / "requirements-dev.txt")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_laptop_server_answers_this_machine_only_and_the_container_every_interface():
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert 'address = "127.0.0.1"' in config
    assert "--server.address=0.0.0.0" in (ROOT / "Dockerfile").read_text()
