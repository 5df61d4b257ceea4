"""The memos' shared byte budget, their single flight, and the size estimate behind the budget."""

import threading
import time

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from engine.memo import Budget, Memo, deep_size, working_set

MB = 2**20


def test_memos_sharing_a_budget_drop_the_least_recently_used_entry_of_any_of_them():
    budget = Budget(3 * MB)
    worlds, models = Memo(10, budget), Memo(10, budget)
    worlds.get("a", lambda: np.zeros(MB // 8))  # 1 MB each
    models.get("b", lambda: np.zeros(MB // 8))
    worlds.get("a", lambda: None)  # "a" used again: "b" is now the oldest
    models.get("c", lambda: np.zeros(MB // 8))
    models.get("d", lambda: np.zeros(MB // 8))  # over 3 MB: "b" goes, from the other memo's use order
    assert len(worlds) == 1 and len(models) == 2
    assert models.get("b", lambda: "recomputed") == "recomputed"
    assert budget.held_bytes <= 3 * MB + 4096


def test_an_entry_larger_than_the_budget_is_still_returned_and_kept_alone():
    budget = Budget(MB)
    memo = Memo(10, budget)
    memo.get("small", lambda: np.zeros(10))
    big = memo.get("big", lambda: np.zeros(MB))  # 8 MB
    assert big.size == MB and len(memo) == 1


def test_a_run_keeps_the_entries_it_used_past_the_budget_until_it_ends():
    """pymk at 10x: the world alone outgrows the budget, and the next step dropped it, so every
    knob move rebuilt it. A run's working set stays, until the run after it ends."""
    budget = Budget(MB)
    worlds, models = Memo(10, budget), Memo(10, budget)
    worlds.get("old", lambda: np.zeros(10))
    with working_set():
        worlds.get("10x", lambda: np.zeros(MB // 4))  # 2 MB: over the budget on its own
        models.get("gbdt", lambda: np.zeros(MB // 4))
        assert len(worlds) == 1  # "old" went; the run's own world stayed
        assert isinstance(worlds.get("10x", lambda: "rebuilt"), np.ndarray)
    with working_set():  # the next configuration: same world, a new model
        worlds.get("10x", lambda: "rebuilt")
        models.get("logistic", lambda: np.zeros(MB // 4))
        assert len(worlds) == 1 and isinstance(worlds.get("10x", lambda: "rebuilt"), np.ndarray)
    assert models.get("gbdt", lambda: "rebuilt") == "rebuilt"  # the previous run's model went at its end
    with working_set():
        models.get("small", lambda: np.zeros(10))
    assert len(worlds) == 0  # a run that did not use the world: the budget applies to it again


def test_max_entries_still_bounds_a_memo():
    memo = Memo(2, Budget(100 * MB))
    for key in "abc":
        memo.get(key, lambda: 1)
    assert len(memo) == 2


def test_a_step_asked_for_while_it_runs_is_computed_once():
    memo, calls = Memo(4, Budget(10 * MB)), []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return 42

    results = []
    threads = [threading.Thread(target=lambda: results.append(memo.get("k", slow))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 4 and len(calls) == 1


def test_a_failed_step_lets_the_next_caller_try_again():
    memo = Memo(4, Budget(10 * MB))

    def broken():
        raise ValueError("no")

    with pytest.raises(ValueError):
        memo.get("k", broken)
    assert memo.get("k", lambda: "fine") == "fine"


def test_deep_size_counts_arrays_sparse_matrices_and_objects_once():
    array = np.zeros(1000)  # 8,000 bytes
    matrix = sp.random(100, 100, density=0.1, format="csr", random_state=0)  # 1,000 entries
    sparse_bytes = matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
    assert 8000 <= deep_size(array) <= 8200
    assert sparse_bytes <= deep_size(matrix) <= sparse_bytes + 1000
    assert deep_size([array, array, array[:10]]) < deep_size(array) + 500  # one buffer, counted once


def test_deep_size_estimates_a_large_graph_quickly_and_within_reason():
    graph = nx.gnm_random_graph(5000, 50_000, seed=0)
    start = time.perf_counter()
    estimate = deep_size(graph)
    assert time.perf_counter() - start < 0.5  # walking every dict took seconds
    exact = sum(deep_size(v) for v in (graph._adj[n] for n in graph)) + deep_size(graph._node)
    assert 0.5 * exact < estimate < 3 * exact
