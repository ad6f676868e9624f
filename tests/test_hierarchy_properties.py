"""Invariants on random forests (with cycles, JVs, unknown and duplicate parents), by hypothesis.

- every account gets exactly one consolidated group head, and sits in its head's closure once;
- paths, levels, parents, descendants and the closure agree with each other;
- the order in which accounts and links were imported changes nothing;
- DuckDB and PostgreSQL build the same tables from the same data.
"""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accountree.store import open_workspace
from tests.conftest import PG_AVAILABLE, PG_URL
from tests.test_hierarchy_helpers import build, put

PCTS = [None, 20.0, 30.0, 40.0, 50.0, 60.0, 100.0]


@st.composite
def forests(draw):
    n = draw(st.integers(1, 12))
    ids = [f"n{i}" for i in draw(st.permutations(range(n)))]
    targets = [*ids, "ghost"]
    accounts = [(a, draw(st.one_of(st.none(), st.sampled_from(targets))), draw(st.sampled_from([None, True, False])))
                for a in ids]
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(targets)), max_size=8,
                          unique=True))
    links = [(c, p, draw(st.sampled_from(["subsidiary", "joint_venture", "branch"])), draw(st.sampled_from(PCTS)),
              draw(st.sampled_from(["crm", "gleif"]))) for c, p in pairs]
    return accounts, links


def _snapshot(ws) -> dict[str, list[tuple]]:
    def rows(sql: str) -> list[tuple]:
        return sorted(tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in ws.engine.fetchall(sql))

    return {
        "hierarchy": rows("SELECT account_id, parent_id, group_head_id, level, path, relation, ownership_pct, "
                          "is_joint_venture, descendants, is_group_head, has_issue, stakeholders FROM hierarchy"),
        "edges": rows("SELECT child_id, parent_id, relation, ownership_pct, is_control, source, weight "
                      "FROM hierarchy_edges"),
        "closure": rows("SELECT ancestor_id, descendant_id, depth, weight, consolidated FROM hierarchy_closure"),
        "issues": rows("SELECT issue_id, kind, account_ids, edges, message, suggested_fix FROM hierarchy_issues"),
    }


_MEMORY = {}


def _built(location: str, accounts, links) -> dict[str, list[tuple]]:
    """Build in a fresh workspace (the in-memory DuckDB one is emptied and reused: opening costs more)."""
    if location == ":memory:":
        ws = _MEMORY.get("ws") or _MEMORY.setdefault("ws", open_workspace(":memory:"))
        ws.engine.execute("DELETE FROM accounts; DELETE FROM relationships")
        put(ws, accounts, links)
        build(ws)
        return _snapshot(ws)
    ws = open_workspace(location)
    try:
        put(ws, accounts, links)
        build(ws)
        return _snapshot(ws)
    finally:
        ws.close()


def _check_invariants(snap: dict[str, list[tuple]], accounts) -> None:
    h = {r[0]: r for r in snap["hierarchy"]}
    assert sorted(h) == sorted(a for a, *_ in accounts)
    control = [e for e in snap["edges"] if e[4]]
    assert len({e[0] for e in control}) == len(control)  # at most one controlling parent each
    consolidated = [(a, d) for a, d, _, _, c in snap["closure"] if c]
    heads_of = Counter(d for a, d in consolidated if h[a][3] == 0)
    for account, (_, parent, head, level, path, _, _, is_jv, descendants, is_head, _, _) in h.items():
        steps = path.split(" > ")
        assert steps[0] == head and steps[-1] == account and len(steps) == level + 1
        assert h[head][3] == 0 and h[head][2] == head and is_head == (level == 0)
        if parent is None:
            assert level == 0
        else:
            assert h[parent][4] + " > " + account == path and h[parent][2] == head
        assert heads_of[account] == 1  # one consolidated group head: never counted twice
        assert {a for a, d in consolidated if d == account} == set(steps)
        assert descendants == sum(1 for a, d in consolidated if a == account) - 1
        if is_jv:
            assert parent is None and any(e[0] == account and not e[4] for e in snap["edges"])
    for ancestor, descendant, depth, weight, _ in snap["closure"]:
        assert 0 < weight <= 1 and (depth == 0) == (ancestor == descendant)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forests(), st.randoms(use_true_random=False))
def test_random_forests_are_consistent_and_order_free(forest, rnd) -> None:
    accounts, links = forest
    first = _built(":memory:", accounts, links)
    _check_invariants(first, accounts)
    shuffled_accounts, shuffled_links = list(accounts), list(links)
    rnd.shuffle(shuffled_accounts)
    rnd.shuffle(shuffled_links)
    assert _built(":memory:", shuffled_accounts, shuffled_links) == first


@pytest.mark.postgres
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forests())
def test_postgres_builds_what_duckdb_builds(forest) -> None:
    if not PG_AVAILABLE:
        pytest.skip(f"PostgreSQL does not answer at {PG_URL}")
    import psycopg

    accounts, links = forest
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        assert _built(f"{PG_URL}?schema={schema}", accounts, links) == _built(":memory:", accounts, links)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=30))
def test_strongly_connected_components_match_networkx(edges) -> None:
    import networkx as nx

    from accountree.hierarchy.cycles import strongly_connected

    successors: dict[str, list[str]] = {}
    graph = nx.DiGraph()
    for a, b in edges:
        successors.setdefault(str(a), []).append(str(b))
        graph.add_edge(str(a), str(b))
    ours = sorted(sorted(c) for c in strongly_connected(successors) if len(c) > 1)
    expected = sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)
    assert ours == expected
