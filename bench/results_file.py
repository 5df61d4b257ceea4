"""bench/results.json: every bench script updates its own keys and leaves the others' alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("results.json")


def load() -> dict[str, Any]:
    return json.loads(PATH.read_text()) if PATH.exists() else {}


def save(results: dict[str, Any]) -> None:
    PATH.write_text(json.dumps(results, indent=2) + "\n")


def store(key: str, figures: Any) -> None:
    """Replace one bench's figures under `key`."""
    save(load() | {key: figures})
