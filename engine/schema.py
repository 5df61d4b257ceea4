"""The lab's SQL schema (interviews and the model registry share one database), and its migrations.

SQLite by default, any SQLAlchemy URL (PostgreSQL for a class). The schema is created on first use and
moved forward by numbered migrations; a migration is never edited once released: a change to the
schema is a new migration."""

from __future__ import annotations

import time

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

# Plain SQL that SQLite and PostgreSQL both accept (or, in POSTGRESQL_ONLY, that only PostgreSQL needs).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: attempts and everything typed or chosen in them
        "CREATE TABLE attempts (id VARCHAR(16) PRIMARY KEY, study VARCHAR(64) NOT NULL, "
        "level VARCHAR(16) NOT NULL, minutes INTEGER NOT NULL, seed INTEGER NOT NULL, "
        "created_at REAL NOT NULL, step_index INTEGER NOT NULL DEFAULT 0, finished_at REAL, "
        "self_assessment TEXT)",
        "CREATE TABLE answers (attempt_id VARCHAR(16) NOT NULL REFERENCES attempts(id), "
        "slot VARCHAR(128) NOT NULL, body TEXT NOT NULL, updated_at REAL NOT NULL, "
        "PRIMARY KEY (attempt_id, slot))",
        "CREATE TABLE choices (attempt_id VARCHAR(16) NOT NULL REFERENCES attempts(id), "
        "choice VARCHAR(64) NOT NULL, value TEXT NOT NULL, PRIMARY KEY (attempt_id, choice))",
        "CREATE TABLE steps (attempt_id VARCHAR(16) NOT NULL REFERENCES attempts(id), "
        "step VARCHAR(32) NOT NULL, seconds REAL NOT NULL DEFAULT 0, hints INTEGER NOT NULL DEFAULT 0, "
        "PRIMARY KEY (attempt_id, step))",
        "CREATE TABLE scores (attempt_id VARCHAR(16) NOT NULL REFERENCES attempts(id), "
        "dimension VARCHAR(32) NOT NULL, auto REAL NOT NULL, self_score REAL, final REAL NOT NULL, "
        "PRIMARY KEY (attempt_id, dimension))",
    ),
    (  # 2: the spaced-repetition plan, one row per study and rubric dimension
        "CREATE TABLE practice (study VARCHAR(64) NOT NULL, dimension VARCHAR(32) NOT NULL, "
        "interval_days REAL NOT NULL, due_at REAL NOT NULL, last_score REAL NOT NULL, "
        "reviews INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (study, dimension))",
    ),
    (  # 3: the model registry: versions, mutable aliases (champion, challenger) and their history
        "CREATE TABLE model_versions (study VARCHAR(64) NOT NULL, version INTEGER NOT NULL, "
        "created_at REAL NOT NULL, config TEXT NOT NULL, seed INTEGER NOT NULL, data TEXT NOT NULL, "
        "metrics TEXT NOT NULL, artifact VARCHAR(512) NOT NULL, sha256 VARCHAR(64) NOT NULL, "
        "size_bytes BIGINT NOT NULL, PRIMARY KEY (study, version))",
        "CREATE TABLE model_aliases (study VARCHAR(64) NOT NULL, alias VARCHAR(32) NOT NULL, "
        "version INTEGER NOT NULL, PRIMARY KEY (study, alias))",
        "CREATE TABLE alias_events (study VARCHAR(64) NOT NULL, alias VARCHAR(32) NOT NULL, "
        "at REAL NOT NULL, from_version INTEGER, to_version INTEGER, action VARCHAR(16) NOT NULL)",
    ),
    (  # 4: PostgreSQL's REAL is 4 bytes (SQLite's is 8): timestamps lost whole minutes; widen them
        *(
            f"ALTER TABLE {table} ALTER COLUMN {column} TYPE DOUBLE PRECISION"
            for table, columns in (
                ("attempts", ("created_at", "finished_at")),
                ("answers", ("updated_at",)),
                ("steps", ("seconds",)),
                ("scores", ("auto", "self_score", "final")),
                ("practice", ("interval_days", "due_at", "last_score")),
                ("model_versions", ("created_at",)),
                ("alias_events", ("at",)),
            )
            for column in columns
        ),
    ),
    (  # 5: per-person history: attempts and the practice plan belong to a signed-in owner ('' alone)
        "ALTER TABLE attempts ADD COLUMN owner VARCHAR(256) NOT NULL DEFAULT ''",
        "CREATE TABLE practice_plan (owner VARCHAR(256) NOT NULL DEFAULT '', study VARCHAR(64) NOT NULL, "
        "dimension VARCHAR(32) NOT NULL, interval_days DOUBLE PRECISION NOT NULL, "
        "due_at DOUBLE PRECISION NOT NULL, last_score DOUBLE PRECISION NOT NULL, "
        "reviews INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (owner, study, dimension))",
        "INSERT INTO practice_plan (owner, study, dimension, interval_days, due_at, last_score, reviews) "
        "SELECT '', study, dimension, interval_days, due_at, last_score, reviews FROM practice",
        "DROP TABLE practice",
        "ALTER TABLE practice_plan RENAME TO practice",
    ),
)
POSTGRESQL_ONLY = {4}  # migrations that SQLite, whose REAL is already 8 bytes, records and skips
SCHEMA_VERSION = len(MIGRATIONS)
MIGRATION_TRIES = 8
MIGRATION_LOCK = 7_413_001  # any constant: the advisory lock replicas queue on while migrating


def schema_version(connection: Connection) -> int:
    connection.execute(text("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))
    return connection.execute(text("SELECT MAX(version) FROM schema_version")).scalar() or 0


def migrate(engine: Engine, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations not yet applied, each in its own transaction; returns the version.

    Safe when several app replicas start together: on PostgreSQL each step runs under a
    transaction-scoped advisory lock and re-reads the version inside it; on SQLite a replica that
    loses the race (the database locked, or the tables just made by another) waits and re-reads."""
    version = _retrying(lambda: _current(engine))
    for number in range(version + 1, target + 1):
        _retrying(lambda number=number: _apply(engine, number))
    return max(version, target)


def _retrying(step):
    for attempt in range(MIGRATION_TRIES):
        try:
            return step()
        except (OperationalError, IntegrityError):
            if attempt == MIGRATION_TRIES - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def _current(engine: Engine) -> int:
    with engine.begin() as connection:
        _lock(connection)  # concurrent CREATE TABLE IF NOT EXISTS can still collide on PostgreSQL
        return schema_version(connection)


def _apply(engine: Engine, number: int) -> None:
    with engine.begin() as connection:
        _lock(connection)
        if schema_version(connection) >= number:
            return  # another replica applied it meanwhile
        skip = number in POSTGRESQL_ONLY and connection.dialect.name != "postgresql"
        for statement in () if skip else MIGRATIONS[number - 1]:
            connection.execute(text(statement))
        connection.execute(text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": number})


def _lock(connection: Connection) -> None:
    """Queue behind any other replica migrating."""
    lock(connection, MIGRATION_LOCK)


def lock(connection: Connection, key: int) -> None:
    """On PostgreSQL, wait for any other connection holding `key` in its transaction, and hold it
    until this one ends. SQLite has one writer at a time anyway (and the lab one process on it)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
