"""A model registry on the lab's SQL database: numbered versions per study with their config, seed,
data identity, metrics and artifact, plus MLflow-style aliases (`champion`, `challenger`: mutable
pointers, unique per study) and the alias history MLflow lacks (when, from, to)."""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text

from engine.schema import lock, migrate
from engine.serving import artifact
from engine.study import Dataset, Study, get_study, run

CHAMPION, CHALLENGER = "champion", "challenger"
ALIASES = (CHAMPION, CHALLENGER)
STUDY_LOCK = 7_500_000  # + a number per study: writes to one study's versions and aliases take turns


class RegistryError(ValueError):
    pass


@dataclass(frozen=True)
class ModelVersion:
    study: str
    version: int
    created_at: float
    config: dict[str, Any]
    seed: int
    data: dict[str, Any]  # {"world": {knob: value}} or {"upload": content hash}
    metrics: dict[str, float]
    artifact: str
    sha256: str
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AliasEvent:
    alias: str
    at: float
    from_version: int | None
    to_version: int | None
    action: str  # promote | rollback | set


class Registry:
    def __init__(self, engine: Engine, root: Path | None = None):
        self.engine = engine
        self.root = root or artifact.data_dir() / "artifacts"
        migrate(engine)

    @classmethod
    def from_url(cls, url: str, root: Path | None = None) -> Registry:
        return cls(create_engine(url), root)

    @contextmanager
    def _turn(self, study: str) -> Iterator[Connection]:
        """A transaction in which this study's versions and aliases are ours alone: on PostgreSQL
        an advisory lock every replica queues on; on SQLite (one server) a lock in this process,
        since two SQLite transactions that read and then write deadlock instead of queueing."""
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as connection:
                lock(connection, STUDY_LOCK + zlib.crc32(study.encode()) % 1_000_000)
                yield connection
        else:
            with _local_turn(str(self.engine.url)), self.engine.begin() as connection:
                yield connection

    # -- versions ----------------------------------------------------------------------------------
    def register(
        self, study: Study | str, config: dict[str, Any], seed: int = 0, data: Dataset | None = None
    ) -> ModelVersion:
        """Train (or reuse) `config`, write its Predictor as an artifact, record it as the next version."""
        study = get_study(study) if isinstance(study, str) else study
        if study.serving is None:
            raise RegistryError(f"the {study.id} study declares nothing to serve")
        result = run(study, config, seed, data)
        predictor = study.implementation().predictor(result.config, result.seed, data)
        identity = (
            {"upload": data.token}
            if data
            else {"world": {k.id: result.config[k.id] for k in study.knobs if k.world}, "seed": seed}
        )
        return self.add(study.id, result.config, result.seed, identity, predictor, result.metrics)

    def add(
        self,
        study: str,
        config: dict[str, Any],
        seed: int,
        identity: dict[str, Any],
        predictor,
        metrics: dict[str, float],
    ) -> ModelVersion:
        """Record a trained Predictor as the next version (a retrain, or a run of `register`). Two
        replicas registering at once take turns: both read the same latest version otherwise, and
        the second overwrote the first's artifact before its insert failed."""
        with self._turn(study) as c:
            number = (
                c.execute(
                    text("SELECT MAX(version) FROM model_versions WHERE study = :s"), {"s": study}
                ).scalar()
                or 0
            ) + 1
            path = self.root / study / f"v{number}.pkl"
            sha256, size = artifact.save(predictor, path)
            c.execute(
                text(
                    "INSERT INTO model_versions (study, version, created_at, config, seed, data, metrics, "
                    "artifact, sha256, size_bytes) VALUES (:study, :version, :at, :config, :seed, :data, "
                    ":metrics, :artifact, :sha256, :size)"
                ),
                {
                    "study": study,
                    "version": number,
                    "at": time.time(),
                    "config": json.dumps(config),
                    "seed": seed,
                    "data": json.dumps(identity),
                    "metrics": json.dumps(_finite(metrics)),
                    "artifact": str(path),
                    "sha256": sha256,
                    "size": size,
                },
            )
        return self.get(study, number)

    def versions(self, study: str) -> list[ModelVersion]:
        with self.engine.connect() as c:
            rows = c.execute(
                text("SELECT * FROM model_versions WHERE study = :s ORDER BY version"), {"s": study}
            ).mappings()
            return [_version(row) for row in rows]

    def get(self, study: str, version: int) -> ModelVersion:
        with self.engine.connect() as c:
            row = (
                c.execute(
                    text("SELECT * FROM model_versions WHERE study = :s AND version = :v"),
                    {"s": study, "v": int(version)},
                )
                .mappings()
                .first()
            )
        if row is None:
            raise RegistryError(f"{study} has no version {version}")
        return _version(row)

    def resolve(self, study: str, version: int | str | None = None) -> ModelVersion:
        """A version number, an alias, or None for the champion (else the newest version)."""
        if isinstance(version, str) and not version.isdigit():
            number = self.aliases(study).get(version)
            if number is None:
                raise RegistryError(f"{study} has no version with the alias '{version}'")
            return self.get(study, number)
        if version is not None:
            return self.get(study, int(version))
        versions = self.versions(study)
        if not versions:
            raise RegistryError(f"{study} has no registered version yet: register one first")
        return self.get(study, self.aliases(study).get(CHAMPION, versions[-1].version))

    def load(self, model: ModelVersion):
        return artifact.load(Path(model.artifact), model.sha256)

    # -- aliases -----------------------------------------------------------------------------------
    def aliases(self, study: str) -> dict[str, int]:
        with self.engine.connect() as c:
            rows = c.execute(text("SELECT alias, version FROM model_aliases WHERE study = :s"), {"s": study})
            return {alias: version for alias, version in rows}

    def set_alias(self, study: str, alias: str, version: int, action: str = "set") -> None:
        if alias not in ALIASES:
            raise RegistryError(f"unknown alias '{alias}'; use one of {', '.join(ALIASES)}")
        self.get(study, version)  # raises for an unknown version
        with self._turn(study) as c:  # the alias as it is now, not as another replica changes it
            current = c.execute(
                text("SELECT version FROM model_aliases WHERE study = :s AND alias = :a"),
                {"s": study, "a": alias},
            ).scalar()
            if current == version:
                return
            c.execute(
                text("DELETE FROM model_aliases WHERE study = :s AND alias = :a"), {"s": study, "a": alias}
            )
            c.execute(
                text("INSERT INTO model_aliases (study, alias, version) VALUES (:s, :a, :v)"),
                {"s": study, "a": alias, "v": version},
            )
            c.execute(
                text(
                    "INSERT INTO alias_events (study, alias, at, from_version, to_version, action) "
                    "VALUES (:s, :a, :at, :f, :t, :action)"
                ),
                {"s": study, "a": alias, "at": time.time(), "f": current, "t": version, "action": action},
            )

    def promote(self, study: str, version: int) -> None:
        """Move `champion` to `version`."""
        self.set_alias(study, CHAMPION, int(version), "promote")

    def rollback(self, study: str) -> int:
        """Move `champion` back to the version that held it before the promotion that put the
        current one there; returns that version."""
        current = self.aliases(study).get(CHAMPION)
        if current is None:
            raise RegistryError(f"{study} has no champion to roll back")
        for event in reversed(self.history(study)):
            if event.alias == CHAMPION and event.action == "promote" and event.to_version == current:
                if event.from_version is None:
                    break
                self.set_alias(study, CHAMPION, event.from_version, "rollback")
                return event.from_version
        raise RegistryError(f"version {current} of {study} was the first champion: nothing to roll back to")

    def history(self, study: str) -> list[AliasEvent]:
        with self.engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT alias, at, from_version, to_version, action FROM alias_events "
                    "WHERE study = :s ORDER BY at"
                ),
                {"s": study},
            )
            return [AliasEvent(*row) for row in rows]


def diff(a: ModelVersion, b: ModelVersion) -> dict[str, dict[str, tuple[Any, Any]]]:
    """What differs between two versions: {"config": {knob: (a, b)}, "metrics": {key: (a, b)}}."""
    return {
        part: {
            key: (getattr(a, part).get(key), getattr(b, part).get(key))
            for key in dict.fromkeys([*getattr(a, part), *getattr(b, part)])
            if getattr(a, part).get(key) != getattr(b, part).get(key)
        }
        for part in ("config", "metrics")
    }


def _finite(metrics: dict[str, float]) -> dict[str, float | None]:
    return {k: (v if v == v and abs(v) != float("inf") else None) for k, v in metrics.items()}


def _version(row) -> ModelVersion:
    return ModelVersion(
        study=row["study"],
        version=row["version"],
        created_at=row["created_at"],
        config=json.loads(row["config"]),
        seed=row["seed"],
        data=json.loads(row["data"]),
        metrics=json.loads(row["metrics"]),
        artifact=row["artifact"],
        sha256=row["sha256"],
        size_bytes=row["size_bytes"],
    )


_LOCAL = threading.Lock()
_LOCAL_TURNS: dict[str, threading.Lock] = {}


def _local_turn(url: str) -> threading.Lock:
    with _LOCAL:
        return _LOCAL_TURNS.setdefault(url, threading.Lock())
