"""Bring-your-own collection, BEIR-style: `corpus.jsonl`, `queries.jsonl` and `qrels.tsv`."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from case_studies.search.world import PRODUCT, Catalogue
from engine.data import DataError

FILES = ("corpus.jsonl", "queries.jsonl", "qrels.tsv")
FORMAT = (
    "Three files, as in BEIR: `corpus.jsonl` (one JSON object per line with `_id`, `text` and optional "
    "`title`), `queries.jsonl` (`_id`, `text`) and `qrels.tsv` (header `query-id<TAB>corpus-id<TAB>score`, "
    "a score above 0 is relevant, higher is better). Half the judged queries train the re-ranker, half test."
)
MIN_DOCS, MIN_QUERIES = 20, 10


@dataclass(frozen=True)
class Collection:
    catalogue: Catalogue
    token: str
    summary: str


def load_collection(files: Mapping[str, bytes]) -> Collection:
    missing = [name for name in FILES if name not in files]
    if missing:
        raise DataError(
            f"Missing {', '.join(missing)}: upload all three files ({', '.join(FILES)}) together."
        )
    every_doc = _jsonl(files["corpus.jsonl"], "corpus.jsonl", ("_id",))
    # Real collections hold a few documents with neither title nor text (Cranfield has two): they
    # cannot be searched, so they are skipped with their judgments, and the summary says so.
    docs = [d for d in every_doc if d.get("title", "").strip() or d.get("text", "").strip()]
    empty = {d["_id"] for d in every_doc} - {d["_id"] for d in docs}
    if not docs:
        raise DataError("corpus.jsonl has no document with a title or text.")
    queries = _jsonl(files["queries.jsonl"], "queries.jsonl", ("_id", "text"))
    doc_index = {d["_id"]: i for i, d in enumerate(docs)}
    query_index = {q["_id"]: i for i, q in enumerate(queries)}
    judged: dict[int, dict[int, int]] = {}
    for line, row in _qrels(files["qrels.tsv"]):
        query_id, doc_id, score = row
        if query_id not in query_index:
            raise DataError(f"qrels.tsv line {line}: query {query_id!r} is not in queries.jsonl.")
        if doc_id in empty:
            continue
        if doc_id not in doc_index:
            raise DataError(f"qrels.tsv line {line}: document {doc_id!r} is not in corpus.jsonl.")
        if score > 0:
            judged.setdefault(query_index[query_id], {})[doc_index[doc_id]] = score
    if len(docs) < MIN_DOCS or len(judged) < MIN_QUERIES:
        raise DataError(
            f"Too small to train and test: {len(docs)} documents and {len(judged)} queries with a relevant "
            f"document; at least {MIN_DOCS} and {MIN_QUERIES} are needed."
        )
    order = sorted(judged)
    titles = [d.get("title") or " ".join(d.get("text", "").split()[:8]) for d in docs]
    catalogue = Catalogue(
        titles=titles,
        texts=[f"{d.get('title', '')} {d.get('text', '')}" for d in docs],
        doc_category=np.zeros(len(docs), int),
        doc_accessory=np.full(len(docs), PRODUCT),
        doc_brand=np.zeros(len(docs), int),
        doc_colour=np.zeros(len(docs), int),
        doc_feature=np.zeros(len(docs), int),
        brands=[],
        colours=[],
        features=[],
        queries=[queries[q]["text"] for q in order],
        qrels=[judged[q] for q in order],
        query_kind=np.zeros(len(order), int),
        train_queries=np.arange(0, len(order), 2),
        test_queries=np.arange(1, len(order), 2),
        synonyms={},  # no curated synonym table for your collection: expansion does nothing
    )
    digest = hashlib.sha256()
    for name in FILES:
        digest.update(files[name])
    return Collection(
        catalogue=catalogue,
        token=digest.hexdigest()[:16],
        summary=f"{len(docs):,} documents, {len(order):,} judged queries"
        + (f"; {len(empty):,} empty document(s) skipped, with their judgments" if empty else ""),
    )


def _jsonl(raw: bytes, name: str, required: tuple[str, ...]) -> list[dict]:
    rows = []
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise DataError(f"{name} is not UTF-8 text: save it as UTF-8 and upload it again.") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{name} line {number}: not valid JSON ({err.msg}).") from None
        if not isinstance(row, dict):
            raise DataError(f"{name} line {number}: expected a JSON object.")
        absent = [key for key in required if not str(row.get(key, "")).strip()]
        if absent:
            raise DataError(f"{name} line {number}: missing {', '.join(absent)}.")
        rows.append({key: str(value) for key, value in row.items()})
    if not rows:
        raise DataError(f"{name} is empty.")
    ids = [r["_id"] for r in rows]
    if len(set(ids)) < len(ids):
        repeated = next(i for i in ids if ids.count(i) > 1)
        raise DataError(f"{name}: _id {repeated!r} appears more than once.")
    return rows


def _qrels(raw: bytes):
    reader = csv.reader(io.StringIO(raw.decode("utf-8", errors="replace")), delimiter="\t")
    for number, row in enumerate(reader, start=1):
        if not row or (number == 1 and row[0].strip().lower() in ("query-id", "query_id", "qid")):
            continue
        if len(row) != 3:
            raise DataError(f"qrels.tsv line {number}: expected 3 tab-separated columns, found {len(row)}.")
        try:
            score = int(float(row[2]))
        except ValueError:
            raise DataError(f"qrels.tsv line {number}, column score: {row[2]!r} is not a number.") from None
        yield number, (row[0].strip(), row[1].strip(), score)
