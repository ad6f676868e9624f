"""The resolve benchmark: metrics computed by hand, the issue's target on the demo, and labelled real
data (Chicago early-childhood sites, ROR affiliation strings) from ../shared/data when it is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from accountree.bench.resolve_bench import (
    CHICAGO,
    ROR,
    _prf,
    _true_pairs,
    load_chicago,
    load_ror,
    name_only,
    run_resolve_bench,
    score_records,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not SHARED.exists():  # the repository may sit elsewhere than /work/main
    SHARED = Path("/work/shared/data")


def _shared(relative: Path) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is not here: the real-data tests need shared/data beside the checkout (not committable)")
    return path


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


def test_demo_meets_the_target_at_the_default_threshold() -> None:
    """Issue 3: F1 ≥ 0.95 with precision ≥ 0.98 at the auto-merge threshold (measured 0.98 / 1.000;
    seeds 1, 42, 2026 and 10k-200k accounts in accountree/resolve/README.md)."""
    result = run_resolve_bench(accounts=2000, seed=7)
    assert result["auto_threshold"] == 0.75
    assert result["auto"]["precision"] >= 0.98
    assert result["auto"]["f1"] >= 0.95


def test_real_chicago_sites() -> None:
    """3,337 site records from 9 lists, 6,608 true pairs (measured: precision 0.99, recall 0.34):
    sites named "Agency – Site" differ by whole words, which the sibling guard sends to review."""
    records, truth = load_chicago(_shared(CHICAGO))
    result = score_records(records, truth)
    assert result["auto"]["true"] == 6608
    assert result["auto"]["precision"] >= 0.98
    assert result["auto"]["recall"] >= 0.3
    # issue 19: the queue also holds the near-identical names under the review threshold (823
    # pairs, 0.69 right; before 485, 0.94): auto + review finds more of the true pairs
    assert result["review_queue"]["precision"] >= 0.65
    assert result["auto_plus_review"]["recall"] >= 0.42


def test_real_chicago_sites_name_only() -> None:
    """Issue 19: the same records with every column but the name blanked merged nothing before
    (recall 0); now 0.38 at precision 0.92 — the wrong pairs are mostly sites named exactly like
    their agency's other sites (only the address tells them apart)."""
    records, truth = load_chicago(_shared(CHICAGO))
    result = score_records(name_only(records), truth)
    assert result["auto"]["recall"] >= 0.35
    assert result["auto"]["precision"] >= 0.9


def test_real_ror_strings_abstain_rather_than_guess() -> None:
    """Affiliation strings (department, institution and address in one field, nothing else): name
    evidence alone seldom reaches a threshold; what is proposed is right."""
    records, truth = load_ror(_shared(ROR), rows=3000)
    result = score_records(records, truth)
    # identical strings labelled with two ROR ids ("Howard Hughes Medical Institute, Stanford
    # University": HHMI in one row, Stanford in another) are merged now that exact repeats are one
    # record: precision on those is not scorable (see the next test)
    assert result["auto"]["predicted"] + result["review_queue"]["predicted"] < 100


def test_real_ror_scorable_strings() -> None:
    """Strings the set labels with one ROR id only: what is merged is right (issue 19)."""
    records, truth = load_ror(_shared(ROR), rows=3000, scorable=True)
    result = score_records(records, truth)
    assert result["auto"]["precision"] >= 0.95
