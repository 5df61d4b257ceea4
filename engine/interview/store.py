"""Interview attempts in a SQL database (SQLite by default, any SQLAlchemy URL, PostgreSQL included).

Every write is its own short transaction, so whatever was saved survives a reload, a crashed server or
a restart. The schema is created on first use and moved forward by numbered migrations; a migration
is never edited once released: a change to the schema is a new migration."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from engine.interview.plan import Review, reschedule
from engine.schema import migrate

FOLLOW_UP = "followup:"  # answer slots of follow-up questions start with this


@dataclass
class Attempt:
    id: str
    study: str
    level: str
    minutes: int
    seed: int
    created_at: float
    step_index: int
    finished_at: float | None
    self_assessment: dict[str, float] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    choices: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # per step
    hints: dict[str, int] = field(default_factory=dict)  # per step

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def elapsed(self) -> float:
        return sum(self.seconds.values())

    def asked(self) -> list[str]:
        """Follow-up ids already put to the candidate, in the order they were asked."""
        return [slot.removeprefix(FOLLOW_UP) for slot in self.answers if slot.startswith(FOLLOW_UP)]


class NotYours(PermissionError):
    """An attempt that belongs to another signed-in person."""


class Store:
    """The attempts and practice plan of one owner: the signed-in person, or '' when the lab runs
    without sign-in (one user, as on a laptop). An owner never reads another's attempts."""

    def __init__(self, engine: Engine, owner: str = ""):
        self.engine = engine
        self.owner = owner
        migrate(engine)

    # -- attempts --------------------------------------------------------------------------------
    def create(self, study: str, level: str, minutes: int, seed: int = 0) -> str:
        attempt_id = secrets.token_urlsafe(6)
        with self.engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO attempts (id, study, level, minutes, seed, created_at, owner) "
                    "VALUES (:id, :study, :level, :minutes, :seed, :now, :owner)"
                ),
                {
                    "owner": self.owner,
                    "id": attempt_id,
                    "study": study,
                    "level": level,
                    "minutes": minutes,
                    "seed": seed,
                    "now": time.time(),
                },
            )
        return attempt_id

    def get(self, attempt_id: str) -> Attempt | None:
        with self.engine.connect() as c:
            row = (
                c.execute(text("SELECT * FROM attempts WHERE id = :id"), {"id": attempt_id})
                .mappings()
                .first()
            )
            if row is None:
                return None
            if row["owner"] != self.owner:
                raise NotYours(f"attempt {attempt_id} belongs to someone else")
            attempt = _attempt(row)
            params = {"id": attempt_id}
            for slot, body in c.execute(
                text("SELECT slot, body FROM answers WHERE attempt_id = :id ORDER BY updated_at"), params
            ):
                attempt.answers[slot] = body
            for choice, value in c.execute(
                text("SELECT choice, value FROM choices WHERE attempt_id = :id"), params
            ):
                attempt.choices[choice] = json.loads(value)
            for step, seconds, hints in c.execute(
                text("SELECT step, seconds, hints FROM steps WHERE attempt_id = :id"), params
            ):
                attempt.seconds[step] = seconds
                attempt.hints[step] = hints
        return attempt

    def attempts(self) -> list[Attempt]:
        """Every attempt, newest first, without their answers."""
        with self.engine.connect() as c:
            rows = (
                c.execute(
                    text("SELECT * FROM attempts WHERE owner = :owner ORDER BY created_at DESC"),
                    {"owner": self.owner},
                )
                .mappings()
                .all()
            )
            seconds = c.execute(text("SELECT attempt_id, step, seconds FROM steps")).all()
        attempts = [_attempt(row) for row in rows]
        by_id = {a.id: a for a in attempts}
        for attempt_id, step, value in seconds:
            if attempt_id in by_id:
                by_id[attempt_id].seconds[step] = value
        return attempts

    # -- writes during an attempt ------------------------------------------------------------------
    def save_answer(self, attempt_id: str, slot: str, body: str) -> None:
        self._upsert(
            "UPDATE answers SET body = :body, updated_at = :now WHERE attempt_id = :id AND slot = :slot",
            "INSERT INTO answers (attempt_id, slot, body, updated_at) VALUES (:id, :slot, :body, :now)",
            {"id": attempt_id, "slot": slot, "body": body, "now": time.time()},
        )

    def ask(self, attempt_id: str, followup_id: str) -> None:
        """Record that a follow-up was asked (an empty answer), so it stays asked after a reload. Asking
        again keeps the answer already given."""
        try:
            with self.engine.begin() as c:
                c.execute(
                    text(
                        "INSERT INTO answers (attempt_id, slot, body, updated_at) "
                        "VALUES (:id, :slot, '', :now)"
                    ),
                    {"id": attempt_id, "slot": FOLLOW_UP + followup_id, "now": time.time()},
                )
        except IntegrityError:  # asked before
            pass

    def set_choice(self, attempt_id: str, choice: str, value: Any) -> None:
        self._upsert(
            "UPDATE choices SET value = :value WHERE attempt_id = :id AND choice = :choice",
            "INSERT INTO choices (attempt_id, choice, value) VALUES (:id, :choice, :value)",
            {"id": attempt_id, "choice": choice, "value": json.dumps(value)},
        )

    def set_step(self, attempt_id: str, step_index: int) -> None:
        with self.engine.begin() as c:
            c.execute(
                text("UPDATE attempts SET step_index = :i WHERE id = :id"),
                {"i": step_index, "id": attempt_id},
            )

    def add_time(self, attempt_id: str, step: str, seconds: float) -> None:
        self._step_update(attempt_id, step, "seconds = seconds + :n", {"n": seconds})

    def take_hint(self, attempt_id: str, step: str) -> None:
        self._step_update(attempt_id, step, "hints = hints + 1", {})

    def finish(self, attempt_id: str, self_assessment: Mapping[str, float], scores: list) -> None:
        """Close the attempt with its scores (engine.interview.scoring.DimensionScore list) and move
        its study's practice plan on by them."""
        now = time.time()
        with self.engine.begin() as c:
            study = c.execute(
                text("SELECT study FROM attempts WHERE id = :id"), {"id": attempt_id}
            ).scalar_one()
            c.execute(
                text("UPDATE attempts SET finished_at = :now, self_assessment = :sa WHERE id = :id"),
                {"now": now, "sa": json.dumps(dict(self_assessment)), "id": attempt_id},
            )
            c.execute(text("DELETE FROM scores WHERE attempt_id = :id"), {"id": attempt_id})
            for s in scores:
                c.execute(
                    text(
                        "INSERT INTO scores (attempt_id, dimension, auto, self_score, final) "
                        "VALUES (:id, :dimension, :auto, :self_score, :final)"
                    ),
                    {
                        "id": attempt_id,
                        "dimension": s.dimension,
                        "auto": s.auto,
                        "self_score": s.self_score,
                        "final": s.final,
                    },
                )
        for review in reschedule(self.practice(), study, {s.dimension: s.final for s in scores}, now):
            self.save_practice(review)

    # -- history and the practice plan ---------------------------------------------------------------
    def scores(self) -> list[dict[str, Any]]:
        """One row per finished attempt and dimension, oldest first."""
        with self.engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT a.id AS attempt_id, a.study, a.level, a.finished_at, s.dimension, s.auto, "
                    "s.self_score, s.final FROM scores s JOIN attempts a ON a.id = s.attempt_id "
                    "WHERE a.owner = :owner ORDER BY a.finished_at"
                ),
                {"owner": self.owner},
            ).mappings()
            return [dict(r) for r in rows]

    def practice(self) -> list[Review]:
        with self.engine.connect() as c:
            rows = c.execute(
                text("SELECT * FROM practice WHERE owner = :owner ORDER BY due_at, last_score"),
                {"owner": self.owner},
            ).mappings()
            return [
                Review(r["study"], r["dimension"], r["due_at"], r["last_score"], r["interval_days"])
                for r in rows
            ]

    def save_practice(self, review: Review) -> None:
        self._upsert(
            "UPDATE practice SET interval_days = :interval, due_at = :due, last_score = :score, "
            "reviews = reviews + 1 WHERE owner = :owner AND study = :study AND dimension = :dimension",
            "INSERT INTO practice (owner, study, dimension, interval_days, due_at, last_score) "
            "VALUES (:owner, :study, :dimension, :interval, :due, :score)",
            {
                "owner": self.owner,
                "study": review.study,
                "dimension": review.dimension,
                "interval": review.interval_days,
                "due": review.due_at,
                "score": review.last_score,
            },
        )

    # -- helpers -------------------------------------------------------------------------------------
    def _step_update(self, attempt_id: str, step: str, assignment: str, params: dict) -> None:
        values = {"id": attempt_id, "step": step, **params}
        self._upsert(
            f"UPDATE steps SET {assignment} WHERE attempt_id = :id AND step = :step",
            "INSERT INTO steps (attempt_id, step) VALUES (:id, :step)",
            values,
            then_update=True,
        )

    def _upsert(self, update: str, insert: str, params: dict, then_update: bool = False) -> None:
        """UPDATE, or INSERT when there was no row (portable, unlike each dialect's ON CONFLICT). With
        `then_update` the UPDATE runs again after inserting a row of defaults."""
        for _ in range(2):
            try:
                with self.engine.begin() as c:
                    if c.execute(text(update), params).rowcount:
                        return
                    c.execute(text(insert), params)
                    if then_update:
                        c.execute(text(update), params)
                    return
            except IntegrityError:  # another session inserted the row first: update it
                continue


def _attempt(row: Mapping[str, Any]) -> Attempt:
    return Attempt(
        id=row["id"],
        study=row["study"],
        level=row["level"],
        minutes=row["minutes"],
        seed=row["seed"],
        created_at=row["created_at"],
        step_index=row["step_index"],
        finished_at=row["finished_at"],
        self_assessment=json.loads(row["self_assessment"]) if row["self_assessment"] else {},
    )
