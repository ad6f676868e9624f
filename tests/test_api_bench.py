"""The API benchmark's pieces: the synthetic 10,000-entity group and the percentile arithmetic."""

from __future__ import annotations

import csv
from datetime import date

from accountree.bench.api_bench import BIG_GROUP, _pct, _plan, _write_big_group


def test_big_group_has_the_asked_size_and_one_head(tmp_path) -> None:
    ids = _write_big_group(tmp_path, 1000, date(2026, 11, 23))
    assert len(ids) == len(set(ids)) == 1000 and ids[0] == BIG_GROUP
    with (tmp_path / "accounts.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    parents = {r["account_id"]: r["parent_id"] for r in rows}
    assert [a for a, p in parents.items() if not p] == [BIG_GROUP]
    assert all(p in parents for p in parents.values() if p)  # every parent is in the group


def test_plan_mixes_views_at_the_asked_rate() -> None:
    plan = _plan([f"BIG{i:06d}" for i in range(300)], rate=200, duration=5, seed=1)
    assert len(plan) == 1000 and plan[1][0] == 1 / 200
    kinds = [k for _, k, _ in plan]
    assert 0.4 < kinds.count("account_360") / len(kinds) < 0.6
    assert _pct([5, 1, 3, 2, 4], 0.5) == 3 and _pct([5, 1, 3, 2, 4], 0.95) == 5
