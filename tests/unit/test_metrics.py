import numpy as np
import scipy.sparse as sp
from sklearn.metrics import ndcg_score

from engine import metrics
from engine.rerank import mmr
from engine.tradeoffs import changed_knobs, pareto_front


def _truth(rows, n_items):
    data = [(u, i) for u, items in enumerate(rows) for i in items]
    users, items = zip(*data, strict=True)
    return sp.csr_matrix((np.ones(len(data)), (users, items)), shape=(len(rows), n_items))


def test_ndcg_matches_scikit_learn_on_full_rankings():
    rng = np.random.default_rng(0)
    n_users, n_items = 30, 40
    scores = rng.random((n_users, n_items))
    relevant = [rng.choice(n_items, size=rng.integers(1, 15), replace=False) for _ in range(n_users)]
    truth = _truth(relevant, n_items)
    lists = np.argsort(-scores, axis=1)[:, :10]
    hit = metrics.hits(lists, truth)
    ours = metrics.ndcg_at(hit, np.diff(truth.indptr), 10)
    reference = ndcg_score(truth.toarray(), scores, k=10)
    assert abs(ours - reference) < 1e-9


def test_precision_recall_and_hits_on_a_hand_worked_case():
    truth = _truth([[0, 1, 2, 3], [5]], 6)
    lists = np.array([[0, 4, 1], [5, 0, 1]])
    hit = metrics.hits(lists, truth)
    assert hit.tolist() == [[True, False, True], [True, False, False]]
    assert metrics.precision_at(hit, 3) == (2 / 3 + 1 / 3) / 2
    assert metrics.recall_at(hit, np.diff(truth.indptr), 3) == (2 / 4 + 1 / 1) / 2
    assert metrics.ndcg_at(hit[1:], np.array([1]), 3) == 1.0


def test_diversity_coverage_and_novelty():
    vectors = np.array([[1.0, 0], [1.0, 0], [0, 1.0]])
    assert metrics.intra_list_diversity(np.array([[0, 1]]), vectors) == 0.0
    assert metrics.intra_list_diversity(np.array([[0, 2]]), vectors) == 1.0
    assert metrics.coverage(np.array([[0, 1], [1, 0]]), 4) == 0.5
    counts = np.array([100, 1, 1])
    assert metrics.novelty(np.array([[1]]), counts) > metrics.novelty(np.array([[0]]), counts)


def test_mmr_keeps_order_at_one_and_diversifies_below():
    vectors = np.array([[1.0, 0], [0.99, 0.1], [0, 1.0], [0.98, 0.2]])
    candidates = np.array([[0, 1, 3, 2]])
    scores = np.array([[1.0, 0.9, 0.8, 0.5]])
    assert mmr(candidates, scores, vectors, lam=1.0, k=2).tolist() == [[0, 1]]
    assert mmr(candidates, scores, vectors, lam=0.5, k=2).tolist() == [[0, 2]]


def test_pareto_front_and_changed_knobs():
    points = [(1.0, 0.5), (2.0, 0.6), (2.0, 0.4), (3.0, 0.6)]
    assert pareto_front(points) == [True, True, False, False]
    assert changed_knobs({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ["b"]


def test_a_mean_over_many_units_gets_the_normal_range_the_bootstrap_converges_to():
    from engine.measure import NORMAL_FROM, bootstrap_range

    skewed = np.random.default_rng(0).exponential(1.0, NORMAL_FROM)  # log losses are skewed too
    normal = bootstrap_range(skewed, seed=0)
    rng = np.random.default_rng(1)
    means = skewed[rng.integers(skewed.size, size=(2000, skewed.size))].mean(axis=1)
    resampled = np.percentile(means, [2.5, 97.5])
    width = resampled[1] - resampled[0]
    assert abs((normal[1] - normal[0]) - width) < 0.08 * width
    assert abs(sum(normal) / 2 - skewed.mean()) < 1e-12
    assert bootstrap_range(skewed[:100], seed=0) == bootstrap_range(skewed[:100], seed=0)  # small: resampled
