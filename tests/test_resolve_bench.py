"""The resolve benchmark on a small demo: metrics are computed and auto-merges stay precise."""

from __future__ import annotations

from accountree.bench.resolve_bench import _prf, _true_pairs, run_resolve_bench


def test_metrics_by_hand() -> None:
    truth = _true_pairs({"a": "1", "b": "1", "c": "1", "d": "2"})
    assert truth == {("a", "b"), ("a", "c"), ("b", "c")}
    m = _prf({("a", "b"), ("c", "d")}, truth)
    assert (m["precision"], m["recall"], m["f1"]) == (0.5, 0.3333, 0.4)


def test_small_demo_bench() -> None:
    result = run_resolve_bench(accounts=400, seed=3)
    assert result["auto"]["true"] > 5
    assert result["auto"]["precision"] >= 0.95
    assert result["auto"]["recall"] >= 0.7
    assert set(result["review_queue"]) >= {"precision", "recall", "f1"}
