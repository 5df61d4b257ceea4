"""Artifacts: a Predictor pickled to disk, identified by its sha256.

Pickle is fine here: the lab writes every artifact itself, under its own data folder, and checks the
digest before loading one. A registry shared with untrusted writers would need a safer format."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from engine.serving.predictor import Predictor

DEFAULT_DATA_DIR = Path(__file__).parents[2] / "data"


def data_dir() -> Path:
    """Where artifacts live: `MLSD_LAB_DATA`, else `data/` next to the app (as the database)."""
    return Path(os.environ.get("MLSD_LAB_DATA", DEFAULT_DATA_DIR))


def save(predictor: Predictor, path: Path) -> tuple[str, int]:
    """Write atomically (a crash leaves no half file); returns (sha256, size in bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = pickle.dumps(predictor, protocol=pickle.HIGHEST_PROTOCOL)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(blob)
    os.replace(tmp.name, path)
    return hashlib.sha256(blob).hexdigest(), len(blob)


class ArtifactError(RuntimeError):
    pass


def load(path: Path, sha256: str) -> Predictor:
    try:
        blob = Path(path).read_bytes()
    except OSError as err:
        raise ArtifactError(f"artifact {path} cannot be read: {err.strerror}") from None
    digest = hashlib.sha256(blob).hexdigest()
    if digest != sha256:
        raise ArtifactError(f"artifact {path} has sha256 {digest[:12]}…, the registry says {sha256[:12]}…")
    return pickle.loads(blob)
