"""The three indexes: BM25 (bm25s), dense LSA vectors (TF-IDF → TruncatedSVD), and an HNSW graph
over the vectors (faiss's IndexHNSWFlat) for approximate nearest-neighbour search.

faiss ships wheels for every platform the README promises; hnswlib 0.8.0 has none, so installing it
needed a C++ compiler (and failed in the slim Docker image)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import bm25s
import faiss
import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

HNSW_M, HNSW_EF_CONSTRUCTION = 4, 40  # a sparse graph, so the query beam width matters


@dataclass(frozen=True)
class Lexical:
    bm25: bm25s.BM25
    build_ms: float
    bytes: int

    def scores(self, tokens: list[str]) -> np.ndarray:
        return self.bm25.get_scores(tokens)


@dataclass(frozen=True)
class Dense:
    tfidf: TfidfVectorizer
    svd: TruncatedSVD
    vectors: np.ndarray  # unit rows, float32
    build_ms: float

    def embed(self, tokens: list[str]) -> np.ndarray:
        sparse = self.tfidf.transform([" ".join(tokens)])
        return normalize(self.svd.transform(sparse)).astype(np.float32)[0]


def build_lexical(docs: list[list[str]], k1: float, b: float) -> Lexical:
    start = time.perf_counter()
    index = bm25s.BM25(k1=k1, b=b)
    index.index(docs, show_progress=False)
    scores = index.scores
    size = sum(scores[part].nbytes for part in ("data", "indices", "indptr"))
    return Lexical(index, (time.perf_counter() - start) * 1000, int(size))


def build_dense(docs: list[list[str]], dims: int, seed: int) -> Dense:
    start = time.perf_counter()
    tfidf = TfidfVectorizer(analyzer=str.split, sublinear_tf=True)
    matrix = tfidf.fit_transform([" ".join(d) for d in docs])
    svd = TruncatedSVD(n_components=min(dims, matrix.shape[1] - 1), random_state=seed)
    vectors = normalize(svd.fit_transform(matrix)).astype(np.float32)
    return Dense(tfidf, svd, vectors, (time.perf_counter() - start) * 1000)


class HNSW:
    """A faiss HNSW graph that pickles (a registered search version is a pickled system): faiss's own
    index is a SWIG object, so it travels as faiss's serialised bytes."""

    def __init__(self, index: faiss.IndexHNSWFlat, graph_bytes: int):
        self.index, self.graph_bytes = index, graph_bytes

    def __getstate__(self) -> dict:
        return {"bytes": faiss.serialize_index(self.index), "graph_bytes": self.graph_bytes}

    def __setstate__(self, state: dict) -> None:
        self.index, self.graph_bytes = faiss.deserialize_index(state["bytes"]), state["graph_bytes"]

    def search(self, query: np.ndarray, k: int, ef: int) -> tuple[np.ndarray, np.ndarray]:
        # The beam rides on the call, not the shared index: sessions with other ef values may search
        # the same memoised graph at once. It must be at least as wide as the answer.
        params = faiss.SearchParametersHNSW(efSearch=max(ef, k))
        scores, labels = self.index.search(query[None, :], k, params=params)
        return labels[0].astype(np.int64), scores[0]


def build_hnsw(vectors: np.ndarray, seed: int) -> tuple[HNSW, float, int]:
    """One thread, so the graph is the same on every run (faiss's level draws use a fixed seed of its
    own, so `seed` does not change it). Its size is the graph faiss adds on top of the vectors,
    which the dense index already counts."""
    faiss.omp_set_num_threads(1)
    start = time.perf_counter()
    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(np.ascontiguousarray(vectors, np.float32))
    elapsed = (time.perf_counter() - start) * 1000
    size = int(faiss.serialize_index(index).nbytes - vectors.astype(np.float32).nbytes)
    return HNSW(index, size), elapsed, size


def nearest(dense: Dense, ann: HNSW | None, query: np.ndarray, k: int, ef: int):
    """The k documents closest to `query`: exactly, or through the HNSW graph with beam width ef."""
    k = min(k, len(dense.vectors))
    if ann is None:
        scores = dense.vectors @ query
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top, scores[top]
    return ann.search(query, k, ef)
