"""The three indexes: BM25 (bm25s), dense LSA vectors (TF-IDF → TruncatedSVD), and an HNSW graph
over the vectors (hnswlib) for approximate nearest-neighbour search."""

from __future__ import annotations

import time
from dataclasses import dataclass

import bm25s
import hnswlib
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


def build_hnsw(vectors: np.ndarray, seed: int) -> tuple[hnswlib.Index, float, int]:
    """One thread: with several, insertion order and so the graph would vary run to run."""
    start = time.perf_counter()
    index = hnswlib.Index(space="ip", dim=vectors.shape[1])
    index.init_index(
        max_elements=len(vectors), M=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION, random_seed=seed
    )
    index.set_num_threads(1)
    index.add_items(vectors, np.arange(len(vectors)))
    size = len(vectors) * (HNSW_M * 2 * 4 + 8)  # links per node at level 0, plus labels (hnswlib's layout)
    return index, (time.perf_counter() - start) * 1000, size


def nearest(dense: Dense, ann: hnswlib.Index | None, query: np.ndarray, k: int, ef: int):
    """The k documents closest to `query`: exactly, or through the HNSW graph with beam width ef."""
    k = min(k, len(dense.vectors))
    if ann is None:
        scores = dense.vectors @ query
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top, scores[top]
    ann.set_ef(max(ef, k))  # hnswlib needs a beam at least as wide as the answer
    labels, distances = ann.knn_query(query[None, :], k=k)
    return labels[0].astype(np.int64), 1.0 - distances[0]
