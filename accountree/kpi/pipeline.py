"""The KPI build, full or incremental, as a sequence of named SQL steps.

Full build: each derived table is replaced from its query. Incremental refresh
(`refresh_accounts`): the scope is found first — the accounts touched plus their subtrees, the
groups they belong to (every group head above them, before and after the change) and those
groups' members; each step then deletes its rows in scope and re-inserts them from the same query
narrowed by `accountree.kpi.scope`. Same SQL on both paths, so a refresh gives exactly the full build's numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import pyarrow as pa

from accountree.errors import NotFoundError
from accountree.kpi.account_sql import ACCOUNT_KPIS, ACCOUNT_PRODUCTS
from accountree.kpi.history import record_statuses
from accountree.kpi.rollup_sql import CROSS_SELL, CROSS_SELL_WITH_SCORES, GROUP_KPIS
from accountree.kpi.rules import KpiRules, load_rules
from accountree.kpi.scope import Scope, scoped, used_params
from accountree.store import Workspace

HIERARCHY_TABLES = ("hierarchy", "hierarchy_closure")
# Cross-sell ranks every (entity, product) gap of a group with a window; on DuckDB, whose window
# operator must hold its input, large workspaces are ranked in chunks of groups to stay in memory.
CHUNK_ACCOUNTS = 200_000
_CHUNK = "TRUE /*chunk*/"


def _tables(ws: Workspace) -> set[str]:
    """Tables of the workspace's schema, in one catalog query (a refresh checks several)."""
    rows = ws.engine.fetchall("SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                              [ws.engine.schema])
    return {r[0] for r in rows}


def _steps(ws: Workspace, tables: set[str] | None = None) -> list[tuple[str, str, str, str]]:
    """(table, query, scope kind, key column) in dependency order."""
    tables = _tables(ws) if tables is None else tables
    has_grades = "scores" in tables and "grade" in ws.engine.table_columns("scores")
    return [
        ("kpi_account_products", ACCOUNT_PRODUCTS, "accounts", "account_id"),
        ("account_kpis", ACCOUNT_KPIS, "accounts", "account_id"),
        ("group_kpis", GROUP_KPIS, "ingroups", "account_id"),
        ("cross_sell", CROSS_SELL_WITH_SCORES if has_grades else CROSS_SELL, "groups", "group_id"),
    ]


def _check_inputs(ws: Workspace, tables: set[str] | None = None) -> None:
    tables = _tables(ws) if tables is None else tables
    missing = [t for t in HIERARCHY_TABLES if t not in tables]
    if missing:
        raise NotFoundError(f"the KPIs need the hierarchy, which has not been built ({', '.join(missing)} missing)",
                            hint="Run `accountree build` (the hierarchy stage runs before the KPIs).")


def _replace_table(ws: Workspace, table: str, sql: str, params: dict) -> None:
    ws.engine.replace_table(table, sql, params)


def _load_wallet_shares(ws: Workspace, rules: KpiRules) -> None:
    ws.engine.execute("DELETE FROM kpi_wallet_shares")
    shares = {k.strip().lower(): v for k, v in rules.wallet.industry_share.items()}
    if shares:
        ws.engine.insert_arrow("kpi_wallet_shares", pa.table({"industry": list(shares), "share": list(shares.values())}))


def build_kpis(ws: Workspace, as_of: date, rules: KpiRules | None = None) -> dict[str, Any]:
    """Recompute every KPI table from scratch; returns row counts."""
    _check_inputs(ws)
    rules = rules or load_rules(ws)
    params = rules.params(as_of)
    duckdb = ws.engine.name == "duckdb"
    chunks = -(-int(ws.engine.scalar("SELECT count(*) FROM accounts")) // CHUNK_ACCOUNTS) if duckdb else 1
    if duckdb:  # derived tables need no insertion order, which costs memory on large builds
        ws.engine.execute("SET preserve_insertion_order = false")
    try:
        _build(ws, params, max(chunks, 1), rules)
    finally:
        if duckdb:
            ws.engine.execute("SET preserve_insertion_order = true")
    counts = {t: ws.engine.scalar(f'SELECT count(*) FROM "{t}"') for t, *_ in _steps(ws)}  # noqa: S608 - fixed names
    return {"as_of": as_of.isoformat(), **counts}


def _build(ws: Workspace, params: dict[str, Any], chunks: int, rules: KpiRules) -> None:
    with ws.engine.transaction():
        _load_wallet_shares(ws, rules)
        for table, query, _, _ in _steps(ws):
            sql, _ = scoped(query)
            if _CHUNK in sql and chunks > 1:
                sql = sql.replace(_CHUNK, "hash(group_head_id) % $chunks = $chunk")
                for chunk in range(chunks):
                    run = params | {"chunks": chunks, "chunk": chunk}
                    if chunk == 0:
                        _replace_table(ws, table, sql, used_params(sql, run))
                    else:
                        ws.engine.execute(f'INSERT INTO "{table}" {sql}', used_params(sql, run))
                continue
            _replace_table(ws, table, sql.replace(_CHUNK, "TRUE"), used_params(sql, params))
        record_statuses(ws, params, None)
        ws.set_meta("kpi_as_of", params["as_of"].isoformat())


# A refresh reads the deals of a few accounts; without an index on `deals.account_id` each of its
# two deal queries scans the whole table (0.7 s at 10M deals, 4 ms with the index). The index is
# created by the first refresh, not by the full build, which never needs it (17 s at 10M deals on
# a loaded 2-core machine); on PostgreSQL it is an ordinary b-tree.
DEALS_INDEX = "kpi_deals_account_id"
SCOPE_DEALS = "kpi_scope_deals"
_SCOPE_DEALS_SQL = "CREATE TEMPORARY TABLE kpi_scope_deals AS SELECT * FROM deals WHERE TRUE /*scope:accounts:account_id*/"


def _index_deals(ws: Workspace) -> None:
    ws.engine.execute(f"CREATE INDEX IF NOT EXISTS {DEALS_INDEX} ON deals (account_id)")  # a no-op once there


def _ids(ws: Workspace, sql: str, ids: list[str]) -> list[str]:
    """Ids returned by `sql`, whose `TRUE /*scope:accounts:…*/` marker is narrowed to `ids`."""
    text, params = scoped(sql, Scope(accounts=ids))
    return sorted({r[0] for r in ws.engine.fetchall(text, params) if r[0] is not None})


def find_scope(ws: Workspace, account_ids: Iterable[str]) -> Scope:
    given = sorted(set(account_ids))
    # the touched accounts' subtrees: a moved subsidiary takes its descendants along
    accounts = sorted(set(given) | set(_ids(
        ws, "SELECT descendant_id FROM hierarchy_closure WHERE TRUE /*scope:accounts:ancestor_id*/", given)))
    # groups to recompute: the group of every ancestor now (a JV sits under two groups) and the
    # group each account belonged to at the last build (it may have moved out of it)
    groups = set(_ids(ws, "SELECT h.group_head_id FROM hierarchy_closure c JOIN hierarchy h ON h.account_id = c.ancestor_id "
                          "WHERE TRUE /*scope:accounts:c.descendant_id*/", accounts))
    groups |= set(_ids(ws, "SELECT group_head_id FROM account_kpis WHERE TRUE /*scope:accounts:account_id*/", accounts))
    groups |= set(_ids(ws, "SELECT group_head_id FROM group_kpis WHERE TRUE /*scope:accounts:account_id*/", accounts))
    members = _ids(ws, "SELECT account_id FROM hierarchy WHERE TRUE /*scope:accounts:group_head_id*/", sorted(groups))
    return Scope(accounts=accounts, groups=sorted(groups), ingroups=members)


def refresh_accounts(ws: Workspace, account_ids: Iterable[str], as_of: date | None = None,
                     rules: KpiRules | None = None) -> dict[str, Any]:
    """Recompute the KPIs of `account_ids` (and their subtrees) and of every group they are in.

    Call it after a change to deals, activities or accounts of these accounts; after a change of
    links, once the hierarchy is rebuilt, with the child and its old parent. `as_of` defaults to
    the as-of date of the last full build, so the refreshed rows match the rest of the tables.
    """
    tables = _tables(ws)
    _check_inputs(ws, tables)
    if as_of is None:
        last = ws.meta("kpi_as_of")
        as_of = date.fromisoformat(last) if last else date.today()
    rules = rules or load_rules(ws)
    params = rules.params(as_of)
    steps = _steps(ws, tables)
    if any(t not in tables for t, *_ in steps):
        return build_kpis(ws, as_of, rules)
    _index_deals(ws)
    with ws.engine.transaction():
        scope = find_scope(ws, account_ids)
        # The scope's deals, fetched once by the index alone (DuckDB uses an index only when the
        # id filter is the scan's only filter); the account queries then read this small table.
        text, ids = scoped(_SCOPE_DEALS_SQL, scope)
        ws.engine.execute(f"DROP TABLE IF EXISTS {SCOPE_DEALS}")
        ws.engine.execute(text, ids)
        for table, query, kind, key in steps:
            query = query.replace("FROM deals\n", f"FROM {SCOPE_DEALS}\n")
            marker = f"TRUE /*scope:{kind}:{key}*/"
            if table == "group_kpis":  # also rows of ancestors that left the refreshed groups
                marker += " OR TRUE /*scope:groups:group_head_id*/"
            delete, ids = scoped(f'DELETE FROM "{table}" WHERE {marker}', scope)  # noqa: S608 - static names
            ws.engine.execute(delete, ids)
            sql, ids = scoped(query.replace(_CHUNK, "TRUE"), scope)
            ws.engine.execute(f'INSERT INTO "{table}" {sql}', used_params(sql, params) | ids)
        record_statuses(ws, params, scope)
        ws.engine.execute(f"DROP TABLE {SCOPE_DEALS}")
    return {"as_of": as_of.isoformat(), "accounts": len(scope.accounts), "groups": len(scope.groups)}
