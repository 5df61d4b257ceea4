"""Every test writes to its own database and artifact folder, never the developer's `data/`, and the
session ends with no model endpoint left running."""

from __future__ import annotations

import os
import subprocess

import pytest


@pytest.fixture(scope="session", autouse=True)
def isolated_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-data")
    saved = {k: os.environ.get(k) for k in ("MLSD_LAB_DB", "MLSD_LAB_DATA")}
    os.environ["MLSD_LAB_DB"] = f"sqlite:///{root / 'lab.db'}"
    os.environ["MLSD_LAB_DATA"] = str(root)
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
