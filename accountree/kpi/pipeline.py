"""The KPI build, full or incremental, as a sequence of named SQL steps.

Full build: each derived table is replaced from its query. Incremental refresh
(`refresh_accounts`): the scope is found first — the accounts touched plus their subtrees, the
groups they belong to (every group head above them, before and after the change) and those
groups' members; each step then deletes its rows in scope and re-inserts them from the same query
narrowed by `accountree.kpi.scope`. Same SQL on both paths, so a refresh gives exactly the full build's numbers.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from accountree.build import build_as_of
from accountree.errors import NotFoundError
from accountree.kpi import bits, refresh
from accountree.kpi.account_sql import ACCOUNT_PRODUCTS, account_facts, account_kpis
from accountree.kpi.history import record_statuses
from accountree.kpi.rollup_sql import CROSS_SELL_VIEW, cross_sell, group_kpis
from accountree.kpi.rules import META_KEY as RULES_KEY
from accountree.kpi.rules import KpiRules, load_rules, parse_rules
from accountree.kpi.scope import scoped, used_params
from accountree.store import Workspace

HIERARCHY_TABLES = ("hierarchy", "hierarchy_closure")
CROSS_SELL = "cross_sell"  # a view over `kpi_cross_sell` (see rollup_sql.CROSS_SELL_VIEW)
PRODUCTS = "kpi_account_products"  # a view over `deals` (see account_sql.ACCOUNT_PRODUCTS)
VIEWS = (CROSS_SELL, PRODUCTS)
# The KPI tables' layout: a build records it; a refresh of tables built with another layout (an
# earlier version's columns) runs a full build instead of inserting rows that no longer fit.
LAYOUT = "5"  # 2: account_kpis.relation; 3: kpi_cross_sell without open_pipeline (the view adds it);
#               4: kpi_account_products a view; 5: the cross-sell ICP factor over grades A–F
# Every table a refresh rewrites must exist (else it runs a full build).
_REFRESHED = ("kpi_product_bits", "kpi_bu_bits", "kpi_account_facts", "account_kpis", "group_kpis", "kpi_cross_sell",
              *VIEWS)


def _tables(ws: Workspace) -> dict[str, str]:
    """Tables and views of the workspace's schema (name → type), in one catalog query."""
    rows = ws.engine.fetchall("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = ?",
                              [ws.engine.schema])
    return {r[0]: r[1] for r in rows}


def _steps(ws: Workspace, tables: dict[str, str], words: tuple[int, int]) -> list[tuple[str, str, str, str]]:
    """(table, query, scope kind, key column) in dependency order, for `words` mask words."""
    has_grades = "scores" in tables and "grade" in ws.engine.table_columns("scores")
    product_words, bu_words = words
    return [
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


def _drop_views(ws: Workspace, tables: dict[str, str]) -> None:
    """The views go before the tables they read are replaced (PostgreSQL refuses to drop them
    under them); a workspace built before a view existed has a table of that name instead."""
    for name in VIEWS:
        kind = tables.get(name)
        if kind is not None:
            ws.engine.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")


def products_view_sql(as_of: date) -> str:
    """The per account × product query over `deals`, for the build's as-of date (a view takes no
    parameters: the date is written in, from a `date`, never from text)."""
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    return ACCOUNT_PRODUCTS.replace("$as_of", f"DATE '{day.isoformat()}'")


def _create_views(ws: Workspace, as_of: date) -> None:
    for name, sql in ((CROSS_SELL, CROSS_SELL_VIEW), (PRODUCTS, products_view_sql(as_of))):
        ws.engine.create_view(name, sql)


def build_kpis(ws: Workspace, as_of: date, rules: KpiRules | None = None,
               timings: dict[str, float] | None = None) -> dict[str, Any]:
    """Recompute every KPI table from scratch; returns row counts. `timings`, when given, receives
    the seconds each step took (`accountree bench build` prints them)."""
    tables = _tables(ws)
    _check_inputs(ws, tables)
    rules = rules or load_rules(ws)
    params = rules.params(as_of)
    clock: dict[str, float] = {}
    with ws.engine.bulk_work():
        with ws.engine.transaction():
            _drop_views(ws, tables)
            _load_wallet_shares(ws, rules)
            for kind in (bits.PRODUCTS, bits.BUS):
                ws.engine.replace_table(kind[0], bits.dictionary_sql(kind))
            for table, query, _, _ in _steps(ws, tables, refresh.words(ws)):
                sql = scoped(query.replace("DEALS_SOURCE", "deals"))
                start = time.perf_counter()
                ws.engine.replace_table(table, sql, used_params(sql, params))
                clock[table] = time.perf_counter() - start
            _create_views(ws, params["as_of"])
            refresh.drop_history_index(ws)
            start = time.perf_counter()
            record_statuses(ws, params)
            clock["kpi_status_history"] = time.perf_counter() - start
            ws.set_meta("kpi_as_of", params["as_of"].isoformat())
            ws.set_meta("kpi_layout", LAYOUT)
            start = time.perf_counter()  # leaving the block commits
        clock["commit"] = time.perf_counter() - start
    if timings is not None:
        timings.update(clock)
    # the cross-sell view's rows, counted on its table; the products view is not counted (a count
    # would aggregate every deal)
    counted = {"account_kpis": "account_kpis", "group_kpis": "group_kpis", CROSS_SELL: "kpi_cross_sell"}
    counts = {name: ws.engine.scalar(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - fixed names
              for name, table in counted.items()}
    return {"as_of": as_of.isoformat(), **counts}


def regrade_cross_sell(ws: Workspace) -> int | None:
    """After the ICP grades changed outside a build (`accountree score`, `score train`, …): the
    cross-sell rows carry each entity's grade in their score, so the step is run again — the
    build's statement, on the last build's KPIs, with its rules. Ranks do not depend on the grade
    (an entity's own factors do not rank its targets); scores and `icp_grade` follow the new
    grades. Returns the rows written; None when there are no KPIs to regrade (never built, or
    built by a version with other columns: the next `accountree build` makes them)."""
    tables = _tables(ws)
    meta = ws.metas("kpi_as_of", "kpi_layout", RULES_KEY)
    if any(t not in tables for t in _REFRESHED) or meta.get("kpi_layout") != LAYOUT or not meta.get("kpi_as_of"):
        return None
    as_of = date.fromisoformat(meta["kpi_as_of"])
    params = parse_rules(meta.get(RULES_KEY)).params(as_of)
    table, query, _, _ = next(step for step in _steps(ws, tables, refresh.words(ws)) if step[0] == "kpi_cross_sell")
    sql = scoped(query)
    with ws.engine.bulk_work(), ws.engine.transaction():
        _drop_views(ws, tables)
        ws.engine.replace_table(table, sql, used_params(sql, params))
        _create_views(ws, as_of)
        refresh.ensure_indexes(ws, _tables(ws))  # the new table's group index
    return int(ws.engine.scalar(f'SELECT count(*) FROM "{table}"'))  # noqa: S608 - a fixed name


def prepare_refreshes(ws: Workspace) -> dict[str, Any]:
    """After a build has committed: the lookup indexes refreshes and by-id reads use (the build
    wrote its tables without them), so that the first refresh is as quick as the next ones."""
    with ws.engine.transaction():
        return {"refresh_indexes": refresh.ensure_indexes(ws, _tables(ws))}


def refresh_accounts(ws: Workspace, account_ids: Iterable[str], as_of: date | None = None,
                     rules: KpiRules | None = None) -> dict[str, Any]:
    """Recompute the KPIs of `account_ids` (and their subtrees) and of every group they are in.

    Call it after a change to deals, activities or accounts of these accounts; after a change of
    links, once the hierarchy is rebuilt, with the child and its old parent. `as_of` defaults to
    the as-of date of the last full build, so the refreshed rows match the rest of the tables.
    How: `accountree.kpi.refresh`.
    """
    tables = _tables(ws)
    _check_inputs(ws, tables)
    # the last build's as-of date and layout, and the rules, in one query
    meta = ws.metas("kpi_as_of", "kpi_layout", RULES_KEY)
    as_of = build_as_of(ws, as_of)
    rules = rules or parse_rules(meta.get(RULES_KEY))
    params = rules.params(as_of)
    if any(t not in tables for t in _REFRESHED) or meta.get("kpi_layout") != LAYOUT:
        return build_kpis(ws, as_of, rules)
    refresh.ensure_indexes(ws, tables)
    account_ids = set(account_ids)
    # an id neither in the accounts nor in the last build is a typo (a removed account is known
    # to account_kpis: refreshing it clears its rows)
    unknown = account_ids - refresh.known_ids(ws, account_ids)
    if unknown:
        raise NotFoundError(f"no account {', '.join(sorted(unknown))} in this workspace; nothing was refreshed",
                            hint="Check the ids (`accountree export accounts`).")
    words = refresh.words(ws)
    steps = _steps(ws, tables, words)
    with ws.engine.transaction():
        scope = refresh.find_scope(ws, account_ids)
        small = len(scope.accounts) + len(scope.ingroups) <= refresh.BATCH  # a few groups, not a whole book
        with ws.engine.small_work() if small else nullcontext():
            done = refresh.refresh_scope(ws, scope, steps, params, tables, words)
        # readers that cache what they derived from the KPI tables (the API's read model) see the change
        ws.set_meta("kpi_refreshed_at", datetime.now(UTC).isoformat())
    if not done:  # a set needs one more word than the tables hold: every mask is rebuilt
        return build_kpis(ws, as_of, rules)
    return {"as_of": as_of.isoformat(), "accounts": len(scope.accounts), "groups": len(scope.groups)}
