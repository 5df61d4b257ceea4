"""The search study: who wins on which queries, what query understanding and re-ranking buy, the
ANN trade-off, determinism, and typed queries."""

import time

import numpy as np
import pytest

import engine
from case_studies.search import index
from case_studies.search import pipeline as search

STUDY = engine.get_study("search")
FIRST_STAGE_ONLY = {"rerank_depth": 0}
NO_UNDERSTANDING = {"spelling": False, "synonyms": False}


def metrics(seed=0, **config):
    return engine.run(STUDY, config, seed=seed).metrics


def min_stage_ms(stage, repeats=3, **config):
    """Timings are noisy: the fastest of a few runs is the stable figure."""
    return min(engine.run(STUDY, config, seed=0).stage_ms()[stage] for _ in range(repeats))


@pytest.mark.parametrize("seed", [0, 1])
def test_hybrid_beats_lexical_and_dense_alone(seed):
    ndcg = {r: metrics(seed, retriever=r, **FIRST_STAGE_ONLY)["ndcg@10"] for r in ("bm25", "dense", "hybrid")}
    assert ndcg["hybrid"] >= max(ndcg["bm25"], ndcg["dense"]) + 0.01, ndcg


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synonyms_hurt_bm25_more_than_dense(seed):
    def synonym_drop(retriever):
        m = metrics(seed, retriever=retriever, **FIRST_STAGE_ONLY, **NO_UNDERSTANDING)
        return m["ndcg@10_plain"] - m["ndcg@10_synonyms"]

    assert synonym_drop("bm25") - synonym_drop("dense") > 0.05


def test_model_codes_are_where_lexical_search_wins():
    bm25 = metrics(retriever="bm25", **FIRST_STAGE_ONLY)["ndcg@10_navigational"]
    dense = metrics(retriever="dense", **FIRST_STAGE_ONLY)["ndcg@10_navigational"]
    assert bm25 - dense > 0.08


@pytest.mark.parametrize("retriever", ["bm25", "dense"])
def test_spelling_correction_fixes_typos(retriever):
    off = metrics(retriever=retriever, spelling=False, **FIRST_STAGE_ONLY)
    on = metrics(retriever=retriever, spelling=True, **FIRST_STAGE_ONLY)
    assert on["ndcg@10_typos"] - off["ndcg@10_typos"] > 0.15
    assert abs(on["ndcg@10_plain"] - off["ndcg@10_plain"]) < 0.02  # and leaves clean queries alone


def test_reranking_raises_ndcg_and_costs_time_growing_with_depth():
    assert metrics(rerank_depth=50)["ndcg@10"] - metrics(rerank_depth=0)["ndcg@10"] > 0.05
    assert metrics(rerank_depth=50)["recall@100"] == metrics(rerank_depth=0)["recall@100"]  # order only
    costs = [min_stage_ms("Ranking", rerank_depth=n) for n in (0, 20, 100)]
    assert costs[0] < costs[1] < costs[2]


def test_hnsw_beam_width_trades_recall_for_time():
    config = {"retriever": "dense", "dense_index": "hnsw", **FIRST_STAGE_ONLY}
    narrow, wide = metrics(**config, ann_ef=100), metrics(**config, ann_ef=500)
    assert narrow["ann_recall@100"] < wide["ann_recall@100"] - 0.04
    assert metrics(retriever="dense", dense_index="exact")["ann_recall@100"] == 1.0
    # The beam's cost, timed in the index itself: 4.4x from ef 100 to 500 here. In the Retrieval stage
    # it is a few per cent, under embedding the query, so a stage timing flaked under load.
    system, _ = search.assemble(STUDY.defaults() | config, 0, None)
    queries = system.dense.vectors[:300]  # points of the catalogue's own vector space

    def seconds(ef: int) -> float:
        def once() -> float:
            start = time.perf_counter()
            for query in queries:
                index.nearest(system.dense, system.ann, query, search.FIRST_STAGE_DEPTH, ef)
            return time.perf_counter() - start

        return min(once() for _ in range(5))

    assert seconds(500) > 2 * seconds(100)


def test_more_embedding_dimensions_pay_less_and_less_and_cost_memory():
    runs = {d: metrics(retriever="dense", dims=d, **FIRST_STAGE_ONLY) for d in (16, 64, 256)}
    ndcg = {d: run["ndcg@10"] for d, run in runs.items()}
    assert ndcg[64] > ndcg[16] + 0.1  # measured 0.40 → 0.59 → 0.64
    assert ndcg[256] - ndcg[64] < (ndcg[64] - ndcg[16]) / 2
    assert runs[16]["index_mb"] < runs[64]["index_mb"] < runs[256]["index_mb"]


def test_same_seed_same_metrics_and_another_seed_differs():
    deterministic = [m.key for m in STUDY.metrics if m.deterministic]
    config = {"dense_index": "hnsw", "ann_ef": 150, "k1": 0.9}
    first = engine.run(STUDY, config, seed=3)
    engine.run(STUDY, {}, seed=4)  # interleave another catalogue in the memos
    again = engine.run(STUDY, config, seed=3)
    assert {k: first.metrics[k] for k in deterministic} == {k: again.metrics[k] for k in deterministic}
    assert first.metrics["ndcg@10"] != engine.run(STUDY, config, seed=4).metrics["ndcg@10"]


def test_a_typed_query_shows_every_stage():
    outputs = dict(STUDY.implementation().probe(STUDY.defaults(), 0, None, "red wireless sneekers"))
    assert outputs["Query understanding"] == "`red wireless sneekers` → `red wireless sneakers running shoes`"
    retrieved = next(v for k, v in outputs.items() if k.startswith("Retrieval"))
    assert len(retrieved) == 10 and retrieved["first stage"].is_monotonic_decreasing
    page = next(v for k, v in outputs.items() if k.startswith("Ranking"))
    assert page["product"].str.contains("sneakers|running shoes").sum() >= 8


def test_a_query_with_no_words_has_no_results_not_an_error():
    outputs = dict(STUDY.implementation().probe(STUDY.defaults(), 0, None, "the of !!"))
    assert outputs == {"Query understanding": "(nothing left)", "Retrieval": "No results."}


@pytest.mark.parametrize("retriever", ["bm25", "dense", "hybrid"])
@pytest.mark.parametrize("query", ["zzzzqqq", "Ünïcödé 手机 📱"])
def test_a_query_matching_nothing_gets_an_empty_page_whatever_the_retriever(retriever, query):
    outputs = dict(STUDY.implementation().probe({**STUDY.defaults(), "retriever": retriever}, 0, None, query))
    assert outputs["Retrieval"] == "No results."


def test_tokens_keep_letters_of_every_script():
    from case_studies.search.text import tokenize

    assert tokenize("Ünïcödé 手机 📱 size-10") == ["ünïcödé", "手机", "size", "10"]


def test_the_index_size_counts_only_what_the_configuration_holds():
    def index_mb(**config):
        return metrics(**FIRST_STAGE_ONLY, **config)["index_mb"]

    bm25, dense, hybrid = (
        index_mb(retriever="bm25"),
        index_mb(retriever="dense"),
        index_mb(retriever="hybrid"),
    )
    assert bm25 < hybrid and dense < hybrid
    assert hybrid == pytest.approx(bm25 + dense, rel=0.01)


def test_a_quality_delta_inside_the_queries_range_reads_as_no_change():
    spec = STUDY.metric("ndcg@10")
    base, nudged, reranked = (
        engine.run(STUDY, c, seed=0) for c in ({"rerank_depth": 0}, {"rerank_depth": 0, "k1": 1.3}, {})
    )

    def delta(first, second) -> str:
        noise = second.noise_against(first, "ndcg@10")
        return spec.format_delta(second.metrics["ndcg@10"], first.metrics["ndcg@10"], noise)

    assert delta(base, nudged) == "≈ no change"
    assert delta(base, reranked).startswith("+")
    assert "test queries" in reranked.uncertainty.unit


@pytest.mark.parametrize("seed", [0, 1])
def test_the_default_design_leaves_room_below_the_ceiling_and_beats_each_retriever_alone(seed):
    full = metrics(seed)["ndcg@10"]
    assert 0.6 <= full <= 0.85  # measured 0.81-0.82; the world used to hand it 0.96
    for retriever in ("bm25", "dense"):
        assert metrics(seed, retriever=retriever, **FIRST_STAGE_ONLY)["ndcg@10"] < full - 0.08


def test_a_bigger_catalogue_does_not_hand_each_query_more_exact_answers():
    """The cause of search looking easier at 10x: a fixed attribute space, so every query had 10x the
    products matching all it asked for. Now the shop grows in brands, colours and features too."""
    from case_studies.search.world import EXACT, generate_catalogue

    def median_exact_answers(scale):
        catalogue = generate_catalogue(scale, 0)
        judged = [j for j, kind in zip(catalogue.qrels, catalogue.query_kind, strict=True) if kind < 4]
        return np.median([sum(grade == EXACT for grade in j.values()) for j in judged])

    assert median_exact_answers(5) <= median_exact_answers(0.5) + 2  # measured 3-7 at every scale


def test_a_bigger_catalogue_does_not_make_search_look_easier():
    small, big = metrics(scale=1), metrics(scale=2)
    assert big["ndcg@10"] <= small["ndcg@10"] and big["mrr"] <= small["mrr"]  # measured -0.02 each
    assert big["recall@100"] < small["recall@100"]


def test_spelling_correction_leaves_ordinary_words_the_index_lacks_alone():
    from case_studies.search.text import QueryUnderstanding

    understanding = QueryUnderstanding(frozenset(["sold", "pink", "fit", "sneakers", "kalo", "t"]))
    typed = ["bold", "link", "it", "sneakrs", "klao", "x1234", "b"]
    assert understanding.correct(typed) == ["bold", "link", "it", "sneakers", "kalo", "x1234", "b"]


def test_a_correction_costs_the_same_whatever_the_vocabulary_size():
    """difflib scanned the whole vocabulary for each unknown word: 9-27 ms on an uploaded
    collection's, which was its p99."""
    import time

    from case_studies.search.text import QueryUnderstanding

    rng = np.random.default_rng(0)
    letters = np.array(list("bcdfghjklmnpqrstvwxz"))

    def correction_ms(n_words):
        words = frozenset("".join(rng.choice(letters, 8)) for _ in range(n_words))
        understanding = QueryUnderstanding(words)
        tokens = ["qqqqzzzzv", "xxbbxxbbk"]
        return min(_timed(lambda: understanding.correct(tokens)) for _ in range(20))

    def _timed(call):
        start = time.perf_counter()
        call()
        return (time.perf_counter() - start) * 1000

    assert correction_ms(40_000) < 4 * correction_ms(1_000) + 0.05  # difflib: about 40x


def test_the_word_list_is_loaded_when_the_index_is_built_not_by_the_first_query():
    import time

    from case_studies.search.text import QueryUnderstanding, english_words

    english_words.cache_clear()
    understanding = QueryUnderstanding(frozenset(["sneakers"]))
    start = time.perf_counter()
    understanding.correct(["cheap", "sneakrs"])
    assert (time.perf_counter() - start) * 1000 < 20  # loading the list takes about 200 ms
