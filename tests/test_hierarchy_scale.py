"""One group of 100,000 entities with a 50-level branch, and the synthetic forest generator."""

from __future__ import annotations

import pyarrow as pa

from accountree.hierarchy.service import group_tree
from accountree.hierarchy.synthetic import load_forest, synthetic_forest
from tests.test_hierarchy_helpers import build

SIZE = 100_000


def _big_group(ws) -> None:
    # Node i > 0 hangs under (i - 1) // 8 (about 6 levels), except a chain of 50 under node 1.
    ids = [f"E{i:06d}" for i in range(SIZE + 1)]
    parents = [None] + [ids[(i - 1) // 8] for i in range(1, SIZE + 1)]
    chain_start = SIZE - 50
    parents[chain_start] = ids[1]
    for i in range(chain_start + 1, SIZE + 1):
        parents[i] = ids[i - 1]
    ws.engine.insert_arrow("accounts", pa.table({
        "account_id": ids, "name": ids, "parent_id": pa.array(parents, pa.string()),
        "annual_revenue_rc": pa.array([1.0] * (SIZE + 1), pa.float64()),
    }))


def test_a_group_of_100000_entities(workspace) -> None:
    _big_group(workspace)
    summary = build(workspace)
    assert (summary["accounts"], summary["groups"], summary["largest_group"]) == (SIZE + 1, 1, SIZE + 1)
    assert summary["max_depth"] == 52 and summary["issues"] == 0  # head > E000001 > 50 chained
    engine = workspace.engine
    assert engine.fetchall("SELECT count(*), count(DISTINCT group_head_id) FROM hierarchy") == [(SIZE + 1, 1)]
    assert engine.scalar("SELECT descendants FROM hierarchy WHERE account_id = 'E000000'") == SIZE
    total = engine.scalar("SELECT sum(a.annual_revenue_rc) FROM hierarchy_closure c "
                          "JOIN accounts a ON a.account_id = c.descendant_id "
                          "WHERE c.ancestor_id = 'E000000' AND c.consolidated")
    assert total == SIZE + 1
    deepest = engine.fetchone("SELECT level, path FROM hierarchy WHERE account_id = ?", [f"E{SIZE:06d}"])
    assert deepest[0] == 52 and deepest[1].startswith("E000000 > E000001 > E099950 > E099951")
    tree = group_tree(workspace, "E000777", max_depth=2, max_children=5)
    assert tree["group_size"] == SIZE + 1 and tree["tree"]["more"] == 3  # 8 children, 5 shown


def test_synthetic_forest_is_deterministic_and_builds_cleanly(duckdb_workspace) -> None:
    first, links = synthetic_forest(5_000, seed=3)
    again, _ = synthetic_forest(5_000, seed=3)
    assert first.equals(again) and links.num_rows > 0
    load_forest(duckdb_workspace, 5_000, seed=3)
    summary = build(duckdb_workspace)
    assert summary["accounts"] == 5_000 and summary["cycles"] == 10 and summary["joint_ventures"] > 0
    assert set(summary["issue_kinds"]) <= {"cycle", "unknown_parent", "two_controlling_parents", "shares_over_100",
                                           "ownership_cycle"}
