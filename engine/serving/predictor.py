"""What a study serves: a trained system that answers requests one at a time or in batches."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from typing import Any


class BadRequest(ValueError):
    """A request the endpoint refuses with 422, naming the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Predictor(ABC):
    """The serving side of one trained configuration: picklable, so it is the registry's artifact.

    `predict` takes parsed requests and returns one JSON-ready answer each. It is vectorised where the
    study allows, so a batch job and a micro-batching server call the same code as a single request."""

    study: str

    @abstractmethod
    def parse(self, body: Any) -> Any:
        """A validated request from a decoded JSON body; raises BadRequest."""

    @abstractmethod
    def predict(self, requests: list[Any]) -> list[dict[str, Any]]:
        """Answers in request order. An answer served by a fallback carries `"fallback": reason`."""

    @abstractmethod
    def traffic(self, n: int, seed: int) -> list[dict[str, Any]]:
        """`n` request bodies drawn from the study's own traffic (cold-start cases included)."""

    @abstractmethod
    def batch_requests(self) -> list[Any]:
        """The population a nightly batch job precomputes (empty when nothing can be)."""

    @abstractmethod
    def batch_key(self, request: Any) -> Hashable | None:
        """The key a precomputed answer for `request` is stored under, or None when the answer
        depends on the request itself (a payment) and cannot be precomputed."""

    @abstractmethod
    def sizes(self) -> dict[str, int]:
        """Bytes held in memory to serve: {"model": ..., "features": ...}."""

    def miss_reason(self, request: Any) -> str:
        """Why a request with a batch key found no precomputed answer (a new user, a rare query)."""
        return "not in the batch"

    def batch_rows(self, dau: int, requests_per_user: float) -> int:
        """Rows the nightly batch scores for a population of `dau` daily users: one per user unless
        the study says otherwise (a day's payments, a fixed set of head queries)."""
        return dau


def field(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    """`body[name]` checked against `kind`; bools are not numbers here, though Python says so."""
    if name not in body:
        if default is ...:
            raise BadRequest(name, "is required")
        return default
    value = body[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(
            {int: "an integer", float: "a number", str: "a string"}.get(k, k.__name__) for k in kinds
        )
        raise BadRequest(name, f"must be {names}, got {type(value).__name__} {value!r:.40}")
    return value


def in_range(name: str, value: float, low: float, high: float) -> float:
    if not low <= value <= high:
        raise BadRequest(name, f"must be between {low:g} and {high:g}, got {value:g}")
    return value


def require_object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise BadRequest("body", f"must be a JSON object, got {type(body).__name__}")
    return body
