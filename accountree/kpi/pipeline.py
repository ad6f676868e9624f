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
from accountree.kpi import bits
from accountree.kpi.account_sql import ACCOUNT_PRODUCTS, account_facts, account_kpis
from accountree.kpi.history import record_statuses
from accountree.kpi.rollup_sql import CROSS_SELL_VIEW, cross_sell, group_kpis
from accountree.kpi.rules import KpiRules, load_rules
from accountree.kpi.scope import Scope, scoped, used_params
from accountree.store import Workspace

HIERARCHY_TABLES = ("hierarchy", "hierarchy_closure")
CROSS_SELL = "cross_sell"  # a view over `kpi_cross_sell` (see rollup_sql.CROSS_SELL_VIEW)


def _tables(ws: Workspace) -> dict[str, str]:
    """Tables and views of the workspace's schema (name → type), in one catalog query."""
    rows = ws.engine.fetchall("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = ?",
                              [ws.engine.schema])
    return {r[0]: r[1] for r in rows}


def _words(ws: Workspace) -> tuple[int, int]:
    return (int(ws.engine.scalar(bits.words_sql(bits.PRODUCTS))), int(ws.engine.scalar(bits.words_sql(bits.BUS))))


def _steps(ws: Workspace, tables: dict[str, str] | None = None) -> list[tuple[str, str, str, str]]:
    """(table, query, scope kind, key column) in dependency order."""
    tables = _tables(ws) if tables is None else tables
    has_grades = "scores" in tables and "grade" in ws.engine.table_columns("scores")
    product_words, bu_words = _words(ws)
    return [
        ("kpi_account_products", ACCOUNT_PRODUCTS, "accounts", "account_id"),
        ("kpi_account_facts", account_facts(product_words, bu_words), "accounts", "account_id"),
        ("account_kpis", account_kpis(product_words, bu_words), "accounts", "account_id"),
        ("group_kpis", group_kpis(product_words), "ingroups", "account_id"),
        ("kpi_cross_sell", cross_sell(product_words, has_grades), "groups", "group_id"),
    ]


def _check_inputs(ws: Workspace, tables: dict[str, str] | None = None) -> None:
    tables = _tables(ws) if tables is None else tables
    missing = [t for t in HIERARCHY_TABLES if t not in tables]
    if missing:
        raise NotFoundError(f"the KPIs need the hierarchy, which has not been built ({', '.join(missing)} missing)",
                            hint="Run `accountree build` (the hierarchy stage runs before the KPIs).")


def _load_wallet_shares(ws: Workspace, rules: KpiRules) -> None:
    ws.engine.execute("DELETE FROM kpi_wallet_shares")
    shares = {k.strip().lower(): v for k, v in rules.wallet.industry_share.items()}
    if shares:
        ws.engine.insert_arrow("kpi_wallet_shares", pa.table({"industry": list(shares), "share": list(shares.values())}))


def _drop_cross_sell(ws: Workspace, tables: dict[str, str]) -> None:
    """The view goes before the tables it reads are replaced (PostgreSQL refuses to drop them
    under it); a workspace built before the view existed has a `cross_sell` table instead."""
    kind = tables.get(CROSS_SELL)
    if kind is not None:
        ws.engine.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {CROSS_SELL}")


def _create_cross_sell(ws: Workspace) -> None:
    (view,) = ws.engine.render(CROSS_SELL_VIEW)
    ws.engine._execute(f"CREATE VIEW {CROSS_SELL} AS {view}", None)


def build_kpis(ws: Workspace, as_of: date, rules: KpiRules | None = None) -> dict[str, Any]:
    """Recompute every KPI table from scratch; returns row counts."""
    tables = _tables(ws)
    _check_inputs(ws, tables)
    rules = rules or load_rules(ws)
    params = rules.params(as_of)
    duckdb = ws.engine.name == "duckdb"
    if duckdb:  # derived tables need no insertion order, which costs memory on large builds
        ws.engine.execute("SET preserve_insertion_order = false")
    try:
        with ws.engine.transaction():
            _drop_cross_sell(ws, tables)
            _load_wallet_shares(ws, rules)
            for kind in (bits.PRODUCTS, bits.BUS):
                ws.engine.replace_table(kind[0], bits.dictionary_sql(kind))
            for table, query, _, _ in _steps(ws, tables):
                sql, _ = scoped(query.replace("DEALS_SOURCE", "deals"))
                ws.engine.replace_table(table, sql, used_params(sql, params))
            _create_cross_sell(ws)
            record_statuses(ws, params, None)
            ws.set_meta("kpi_as_of", params["as_of"].isoformat())
    finally:
        if duckdb:
            ws.engine.execute("SET preserve_insertion_order = true")
    counts = {t: ws.engine.scalar(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - fixed names
              for t, table in (("kpi_account_products", "kpi_account_products"), ("account_kpis", "account_kpis"),
                               ("group_kpis", "group_kpis"), (CROSS_SELL, "kpi_cross_sell"))}
    return {"as_of": as_of.isoformat(), **counts}


# A refresh reads the deals of a few accounts; without an index on `deals.account_id` each of its
# deal queries scans the whole table (0.7 s at 10M deals, 4 ms with the index). The index is
# created by the first refresh, not by the full build, which never needs it (17 s at 10M deals on
# a loaded 2-core machine); on PostgreSQL it is an ordinary b-tree.
DEALS_INDEX = "kpi_deals_account_id"
SCOPE_DEALS = "kpi_scope_deals"
_SCOPE_DEALS_SQL = "CREATE TEMPORARY TABLE kpi_scope_deals AS SELECT * FROM deals WHERE TRUE /*scope:accounts:account_id*/"
# Every table a refresh rewrites must exist (else it runs a full build).
_REFRESHED = ("kpi_product_bits", "kpi_bu_bits", "kpi_account_products", "kpi_account_facts", "account_kpis",
              "group_kpis", "kpi_cross_sell", CROSS_SELL)


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
    if any(t not in tables for t in _REFRESHED):
        return build_kpis(ws, as_of, rules)
    _index_deals(ws)
    words = _words(ws)
    with ws.engine.transaction():
        scope = find_scope(ws, account_ids)
        # The scope's deals, fetched once by the index alone (DuckDB uses an index only when the
        # id filter is the scan's only filter); the account queries then read this small table.
        text, ids = scoped(_SCOPE_DEALS_SQL, scope)
        ws.engine.execute(f"DROP TABLE IF EXISTS {SCOPE_DEALS}")
        ws.engine.execute(text, ids)
        for kind in (bits.PRODUCTS, bits.BUS):  # new products / BUs take the next free positions
            ws.engine.execute(bits.append_sql(kind, SCOPE_DEALS))
        grown = _words(ws) != words
        if not grown:
            for table, query, kind, key in _steps(ws, tables):
                query = query.replace("DEALS_SOURCE", SCOPE_DEALS)
                marker = f"TRUE /*scope:{kind}:{key}*/"
                if table == "group_kpis":  # also rows of ancestors that left the refreshed groups
                    marker += " OR TRUE /*scope:groups:group_head_id*/"
                delete, ids = scoped(f'DELETE FROM "{table}" WHERE {marker}', scope)  # noqa: S608 - static names
                ws.engine.execute(delete, ids)
                sql, ids = scoped(query, scope)
                ws.engine.execute(f'INSERT INTO "{table}" {sql}', used_params(sql, params) | ids)
            record_statuses(ws, params, scope)
        ws.engine.execute(f"DROP TABLE {SCOPE_DEALS}")
    if grown:  # a set needs one more word than the tables hold: every mask is rebuilt
        return build_kpis(ws, as_of, rules)
    return {"as_of": as_of.isoformat(), "accounts": len(scope.accounts), "groups": len(scope.groups)}
