"""Who may see what: the seller-BU policy, built into every query the API and the pages run.

A BU member sees the shared account data (hierarchy, KPIs, scores) plus only their own BU's
private records (deals, contacts, activities, campaigns, leads, notes…). The rule is not left to
each endpoint: routers never get the engine, they get a `ScopedReader`, which rewrites every
query so each reference to a BU-owned table becomes a filtered subquery. A new endpoint that reads
`deals` is scoped whether or not its author thought about BUs.

A table is BU-owned when it has a `seller_bu` column (so a capability adding `notes` with
`seller_bu` is covered without touching this file), except the catalogue tables in
`SHARED_TABLES`. A table without `seller_bu` keyed by a deal, contact or campaign (`meddic`,
`campaign_accounts`, …) follows the BU of that record.

A column that names a person (`PERSON_COLUMNS`: a contact's `reports_to`, an activity's
`contact_id`…) may point at another BU's private contact from a row the caller may see (a shared
contact reporting to a Services person, a Software activity logged against one). Such a value is
read as NULL by a BU member: they learn neither the id nor that the person exists (`person_masks`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from accountree.errors import PermissionDeniedError
from accountree.store.engine import Engine, Params

ROLES = ("admin", "corporate", "bu_member", "read_only")
# Contacts without a BU are shared people of the account (see docs/bundle.md).
NULL_IS_SHARED = frozenset({"contacts"})
# Tables with a seller_bu column that are a catalogue, not a BU's records.
SHARED_TABLES = frozenset({"products"})
# ABM coordination records every BU of an account must see (they name contacts but are not a BU's
# records); each BU's notes and plans on them (`abm_conflict_notes`, `abm_plans`) stay private.
ABM_SHARED_TABLES = frozenset({"abm_accounts", "abm_conflicts", "abm_collisions", "abm_account_teams"})
SHARED_TABLES = SHARED_TABLES | ABM_SHARED_TABLES
# A table without seller_bu but keyed by a BU-owned record follows that record's BU
# (campaign_accounts, meddic, kam_meddic, kam_snapshot_contacts, …).
FOLLOWS = (("deal_id", "deals"), ("contact_id", "contacts"), ("campaign_id", "campaigns"), ("lead_id", "leads"))
# Tables that mix every BU's records in one row (lead ids and typed names grouped by domain): only
# users who see every BU read them.
ALL_BUS_ONLY = frozenset({"new_account_proposals"})
# Records handed to another BU: a lead routed to a BU is that BU's lead too (it sees the lead, its
# match and decisions, which follow `leads`), never the other leads of the BU it came in through.
# table → (key, the table of hand-overs with a seller_bu); applied when that table exists.
HANDED_OVER = {"leads": ("lead_id", "lead_routing")}
# Such tables whose rows without that key are about the account, not a record: shared. A KAM alert
# about a person follows the contact's BU; one about revenue or the hierarchy has no contact.
NULL_KEY_IS_SHARED = frozenset({"kam_alerts"})


# Columns holding a contact id. `contact_id` is the key a table follows `contacts` by (its rows are
# filtered whole), except in a table with its own seller_bu (activities, leads…) or in `contacts`.
PERSON_COLUMNS = ("reports_to", "contact_id")


def person_masks(columns: dict[str, tuple[str, ...]]) -> frozenset[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(table, masked columns, all its columns) for every table with a column naming a person
    that is not the key its rows are filtered by."""
    if "contacts" not in columns or "seller_bu" not in columns["contacts"]:
        return frozenset()
    rules = dict(table_rules(columns))
    masks = set()
    for table, cols in columns.items():
        masked = tuple(c for c in PERSON_COLUMNS if c in cols
                       and not (c == "contact_id" and (table == "contacts" or rules.get(table) == "contacts")))
        if masked:
            masks.add((table, masked, tuple(cols)))
    return frozenset(masks)


def table_rules(columns: dict[str, tuple[str, ...]]) -> frozenset[tuple[str, str]]:
    """(table, rule) for every table the BU filter applies to; rule is "own" or the owning table."""
    rules = set()
    for table, cols in columns.items():
        if table in SHARED_TABLES:
            continue
        if table in ALL_BUS_ONLY:
            rules.add((table, "none"))
            continue
        if "seller_bu" in cols:
            rules.add((table, "own"))
            continue
        for key, owner in FOLLOWS:
            if key in cols and table != owner:
                rules.add((table, owner))
                break
    return frozenset(rules)


@dataclass(frozen=True)
class Principal:
    """The caller: a user of the workspace and the business unit they belong to."""

    username: str
    role: str
    bu_id: str | None = None

    @property
    def sees_all_bus(self) -> bool:
        """Admins and corporate users see every BU; a read-only user without a BU too."""
        return self.role in ("admin", "corporate") or (self.role == "read_only" and not self.bu_id)

    @property
    def scope_bu(self) -> str | None:
        # A BU member without a BU sees no private record at all ("" matches no seller_bu).
        return None if self.sees_all_bus else (self.bu_id or "")

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "corporate", "bu_member")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def require_write(self) -> None:
        if not self.can_write:
            raise PermissionDeniedError(f"user {self.username!r} is read-only",
                                        hint="Ask an admin for a corporate or bu_member role.")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDeniedError("only an admin can do this")


def _visible(table: str, bu: str, rules: frozenset[tuple[str, str]] = frozenset()) -> exp.Expression:
    """The condition on `table`'s own rows the BU may see."""
    mine = exp.column("seller_bu", quoted=True).eq(exp.Literal.string(bu))
    if table in NULL_IS_SHARED:
        return exp.or_(mine, exp.column("seller_bu", quoted=True).is_(exp.null()))
    if table in HANDED_OVER and (HANDED_OVER[table][1], "own") in rules:
        key, handover = HANDED_OVER[table]
        theirs = (exp.select(exp.column(key, quoted=True)).from_(exp.table_(handover, quoted=True))
                  .where(exp.column("seller_bu", quoted=True).eq(exp.Literal.string(bu))))
        return exp.or_(mine, exp.column(key, quoted=True).isin(query=theirs))
    return mine


def _bu_filter(table: str, rule: str, bu: str, rules: frozenset[tuple[str, str]] = frozenset()) -> exp.Select:
    """`SELECT * FROM table WHERE <the caller's BU may see the row>`."""
    query = exp.select("*").from_(exp.table_(table, quoted=True))
    if rule == "none":
        return query.where(exp.false())
    if rule == "own":
        return query.where(_visible(table, bu, rules))
    key = dict((owner, k) for k, owner in FOLLOWS)[rule]
    owners = (exp.select(exp.column(key, quoted=True)).from_(exp.table_(rule, quoted=True))
              .where(_visible(rule, bu, rules)))
    condition = exp.column(key, quoted=True).isin(query=owners)
    if table in NULL_KEY_IS_SHARED:
        condition = exp.or_(exp.column(key, quoted=True).is_(exp.null()), condition)
    return query.where(condition)


def _masked_select(table: str, masked: tuple[str, ...], columns: tuple[str, ...], bu: str) -> exp.Select:
    """`SELECT …` of every column of `table` (alias `_t`), each person column NULL when it names a
    contact private to another BU (an unknown id is nobody's private person: kept)."""
    outs: list[exp.Expression] = []
    for col in columns:
        ref = exp.column(col, table="_t", quoted=True)
        if col not in masked:
            outs.append(ref)
            continue
        hidden = (exp.select("1").from_(exp.table_("contacts", quoted=True).as_("_p", quoted=True))
                  .where(exp.column("contact_id", table="_p", quoted=True).eq(ref))
                  .where(exp.column("seller_bu", table="_p", quoted=True).is_(exp.null()).not_())
                  .where(exp.column("seller_bu", table="_p", quoted=True).neq(exp.Literal.string(bu))))
        value = exp.Case().when(exp.Exists(this=hidden).not_(), ref)
        outs.append(exp.alias_(value, col, quoted=True))
    return exp.select(*outs).from_(exp.table_(table, quoted=True).as_("_t", quoted=True))


@lru_cache(maxsize=4096)
def scope_sql(sql: str, bu: str | None, rules: frozenset[tuple[str, str]],
              masks: frozenset[tuple[str, tuple[str, ...], tuple[str, ...]]] = frozenset()) -> str:
    """`sql` (DuckDB dialect) with each BU-owned table replaced by the rows `bu` may see, and each
    column naming another BU's private person (`masks`, see `person_masks`) read as NULL.

    `bu=None` means unrestricted. Only queries are accepted: writes go through service functions
    that check the caller first. The BU id is rendered by sqlglot as a quoted literal.
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    if not isinstance(tree, exp.Query):
        raise PermissionDeniedError("the scoped reader only runs queries")
    if bu is None:
        return sql
    by_table = dict(rules)
    by_mask = {t: (masked, cols) for t, masked, cols in masks}
    cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        name = table.name
        if not name or name in cte_names or (name not in by_table and name not in by_mask) or table.args.get("db"):
            continue
        alias = table.alias or name
        if name in by_mask:
            query = _masked_select(name, *by_mask[name], bu)
            if name in by_table:  # its unqualified columns are `_t`'s (never a masked one)
                query = query.where(_bu_filter(name, by_table[name], bu, rules).args["where"].this)
        else:
            query = _bu_filter(name, by_table[name], bu, rules)
        table.replace(exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    return tree.sql(dialect="duckdb")


class TableCatalog:
    """Which tables exist, their columns and which are BU-owned — cached for a few seconds, since
    `accountree build` creates derived tables while the server runs."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._at = 0.0
        self._columns: dict[str, tuple[str, ...]] = {}
        self._rules: frozenset[tuple[str, str]] = frozenset()
        self._masks: frozenset[tuple[str, tuple[str, ...], tuple[str, ...]]] = frozenset()
        self._rules_for: dict | None = None

    def refresh(self, engine: Engine) -> None:
        rows = engine.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ? "
            "ORDER BY table_name, ordinal_position", [engine.schema])
        columns: dict[str, list[str]] = {}
        for table, column in rows:
            columns.setdefault(table, []).append(column)
        self._columns = {t: tuple(c) for t, c in columns.items()}
        self._at = time.monotonic()

    def expire(self) -> None:
        self._at = 0.0

    def columns(self, engine: Engine) -> dict[str, tuple[str, ...]]:
        if time.monotonic() - self._at > self.ttl:
            self.refresh(engine)
        return self._columns

    def rules(self, engine: Engine) -> frozenset[tuple[str, str]]:
        columns = self.columns(engine)
        if self._rules_for is not columns:
            self._rules, self._masks, self._rules_for = table_rules(columns), person_masks(columns), columns
        return self._rules

    def masks(self, engine: Engine) -> frozenset[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        self.rules(engine)
        return self._masks


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def json_ready(table: pa.Table) -> pa.Table:
    """Decimals (DuckDB sums, PostgreSQL numerics) as plain numbers, so JSON gets numbers, not strings."""
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            target = pa.int64() if field.type.scale == 0 else pa.float64()
            table = table.set_column(i, field.name, table.column(i).cast(target, safe=False))
    return table


class ScopedReader:
    """The only database handle routers get: read queries, scoped to the caller's BU."""

    def __init__(self, engine: Engine, principal: Principal, catalog: TableCatalog, read_model: bool = False) -> None:
        self.engine = engine
        self.principal = principal
        self.catalog = catalog
        # The build's read model (accountree.api.readmodel) matches the workspace: reads may use it.
        self.read_model = read_model

    def _scoped(self, sql: str | exp.Expression) -> str:
        text = sql.sql(dialect="duckdb") if isinstance(sql, exp.Expression) else sql
        bu = self.principal.scope_bu
        if bu is None:
            return scope_sql(text, None, frozenset())
        return scope_sql(text, bu, self.catalog.rules(self.engine), self.catalog.masks(self.engine))

    def fetch_dicts(self, sql: str | exp.Expression, params: Params = None) -> list[dict[str, Any]]:
        scoped = self._scoped(sql)
        described = self.engine.fetch_described(scoped, params)  # one execution where the engine can
        if described is not None:
            names, rows = described
            return [{k: _plain(v) for k, v in zip(names, row, strict=True)} for row in rows]
        return json_ready(self.engine.fetch_arrow(scoped, params)).to_pylist()

    def fetchall(self, sql: str | exp.Expression, params: Params = None) -> list[tuple]:
        return self.engine.fetchall(self._scoped(sql), params)

    def fetchone_dict(self, sql: str | exp.Expression, params: Params = None) -> dict[str, Any] | None:
        rows = self.fetch_dicts(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str | exp.Expression, params: Params = None) -> Any:
        rows = self.fetchall(sql, params)
        return rows[0][0] if rows else None

    def fetch_arrow(self, sql: str | exp.Expression, params: Params = None) -> pa.Table:
        return self.engine.fetch_arrow(self._scoped(sql), params)

    def has(self, table: str) -> bool:
        return table in self.catalog.columns(self.engine)

    def columns(self, table: str) -> tuple[str, ...]:
        return self.catalog.columns(self.engine).get(table, ())

    def other_bu_activity(self, account_id: str, counts: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """What other BUs do on a shared account, as counts only: 'Services BU: 3 deals, 2 activities'.

        The one deliberate look past the BU filter, so it returns aggregates and BU names, never records.
        `counts`: every BU's counts on the account as the build's read model keeps them (`bu_counts`).
        """
        bu = self.principal.scope_bu
        if bu is None:
            return []
        if counts is not None:
            rows = [dict(c) for c in counts if c["bu_id"] != bu]
        else:
            rows = self._other_bu_rows(account_id, bu)
        for row in rows:
            parts = [f"{row[k]} {k}" for k in ("deals", "activities", "contacts") if row[k]]
            row["summary"] = f"{row['bu_name']}: {', '.join(parts)}"
        return rows

    def _other_bu_rows(self, account_id: str, bu: str) -> list[dict[str, Any]]:
        return self.engine.fetch_dicts(
            "WITH x AS ("
            " SELECT seller_bu, 'deals' AS kind FROM deals WHERE account_id = ? AND seller_bu <> ?"
            " UNION ALL SELECT seller_bu, 'activities' FROM activities WHERE account_id = ? AND seller_bu <> ?"
            " UNION ALL SELECT seller_bu, 'contacts' FROM contacts WHERE account_id = ? AND seller_bu <> ?)"
            " SELECT x.seller_bu AS bu_id, coalesce(max(b.name), x.seller_bu) AS bu_name,"
            " count(*) FILTER (WHERE kind = 'deals') AS deals,"
            " count(*) FILTER (WHERE kind = 'activities') AS activities,"
            " count(*) FILTER (WHERE kind = 'contacts') AS contacts"
            " FROM x LEFT JOIN seller_bus b ON b.bu_id = x.seller_bu GROUP BY x.seller_bu ORDER BY x.seller_bu",
            [account_id, bu] * 3,
        )
