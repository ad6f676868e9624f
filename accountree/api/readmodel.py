"""The API's read model: the account 360 and the group tree, precomputed by the build.

A live account 360 is about fifteen queries, each a scan of a large table in DuckDB: at a million
accounts that cannot hold 200 requests/s on two cores. The `api` build stage (the last one) writes,
from the same tables and with the same rules as the live read functions:

- `api_account_360`: one row per account, the **shared** sections (account, hierarchy position
  and children, KPIs, score, score details, key account, open alerts, status history) as ready
  JSON text, the account's shared contacts (contacts without a seller BU) and, per seller BU,
  the counts of deals, activities and contacts behind the count-only `other_bus` lines;
- `api_account_records`: one row per account and seller BU, that BU's **private** stakeholders,
  campaigns, alerts about its people and `bosses` as JSON;
- `api_account_deals`, `api_account_activities`, `api_account_meddic` (`LISTS`): the long
  private lists, one **typed** row per record (the live query's output expressions, no JSON),
  sorted by account: writing them costs a sort, where their JSON arrays were half of the stage.
  A 360 renders the account's rows to JSON in one indexed query (`list_sql`), with the same
  expressions, order and limits as the live queries;
- `api_tree_nodes`: one row per account, the tree node (hierarchy facts, status, revenue, grade)
  with its rank among its siblings; `api_tree_jvs`: joint ventures shown under a second parent.

The private tables have a `seller_bu` column, so the `ScopedReader` rewrites them like every
BU-owned table: a BU member reads their BU's rows and nothing else; corporate roles read every
row. Each table is sorted on its look-up key and, once the build has committed, indexed on it
(`prepare_reads`, the stage's `after` step), so a 360 costs three look-ups.

**Freshness.** The stage records a *stamp* of what it was built from: a mark (table comment) on
every table it reads — `accountree build`, `accountree score` or a hierarchy rebuild replace a
table and drop the mark — plus the counts of the tables users edit (imports, manual links, merges,
buying roles, alert acknowledgements) and the workspace settings. The server compares it with the
workspace's current stamp (at most once a second): when they differ, reads fall back to the live
queries until the next build. Writes made through the API refresh the rows they touch in their
own transaction and record the new stamp, so the read model stays in use.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from accountree.api.access import table_rules
from accountree.api.reads.common import MAX_CHILDREN
from accountree.numbers import is_money
from accountree.store import Workspace
from accountree.store.engine import Engine
from accountree.store.sql import table_comments_sql

SHARED = "api_account_360"
RECORDS = "api_account_records"
NODES = "api_tree_nodes"
JVS = "api_tree_jvs"
SCOPE = "api_refresh_scope"
# The long per-BU record lists, stored as typed rows (not JSON) sorted by account and rendered per
# request (`list_sql`): section name → (table, limit). Meddic only where `kam_meddic` exists.
DEALS, ACTIVITIES, MEDDIC = "api_account_deals", "api_account_activities", "api_account_meddic"
CONTACTS, SCORE_DETAILS = "api_account_contacts", "api_account_score_details"
# name → (table, limit, per BU: the table has `seller_bu` and is scoped like `deals`). The BU lists
# first: their `seller_bu` types the column of `list_sql`'s union (PostgreSQL).
LISTS = {"deals": (DEALS, 200, True), "activities": (ACTIVITIES, 50, True), "meddic": (MEDDIC, 20, True),
         "contacts": (CONTACTS, 500, False), "score_details": (SCORE_DETAILS, None, False)}
# lists of a table the workspace may lack: built only where it exists
OPTIONAL_LISTS = {MEDDIC: "kam_meddic", SCORE_DETAILS: "score_details"}
TABLES = (SHARED, RECORDS, NODES, JVS, DEALS, ACTIVITIES, CONTACTS)  # all there: the model can be current
ALL_TABLES = (*TABLES, *OPTIONAL_LISTS)
STAMP_KEY = "api.read_model.stamp"
# The read model's layout: part of the stamp, so a model written by another version is not used.
MODEL_VERSION = 6  # 3: person fields masked per BU; 4: tree nodes carry their subtree's consolidated figures;
# 5: PostgreSQL writes JSON columns as text and money rounded as `tidy`, like its live reads;
# 6: deals, activities, MEDDIC, shared contacts and score details as typed rows rendered per request (`LISTS`)
MARK_PREFIX = "accountree api read model "
BUILD_HINT = "Run `accountree build` (or `accountree demo`) and reload."

# Every table the read model reads: a build that replaces one of them drops its mark.
DEPENDENCIES = ("accounts", "account_aliases", "hierarchy", "account_kpis", "group_kpis", "scores", "score_details",
                "kam_accounts", "kam_alerts", "kam_alert_acks", "kpi_status_history", "kam_meddic", "deals",
                "contacts", "kam_contact_roles", "kam_stakeholders", "activities", "campaigns",
                "campaign_accounts", "seller_bus", "relationships")
# Tables users change outside a build, with what tells that they changed. Additive statistics only
# (counts, sums of ids and of timestamps in milliseconds): an API write records its own change to
# them (`api_read_model_edits`), and changes of concurrent writes to different rows add up.
def _ms(column: str) -> str:
    return f"sum(CAST(EXTRACT(EPOCH FROM {column}) * 1000 AS BIGINT))"


EDITED = (("imports", ("count(*)", "sum(import_id)")), ("manual_links", ("count(*)", _ms("created_at"))),
          ("hierarchy_changes", ("count(*)", "sum(change_id)")),
          ("merges", ("count(*)", _ms("merged_at"), _ms("undone_at"))),
          ("account_aliases", ("count(*)",)), ("kam_contact_roles", ("count(*)", _ms("set_at"))),
          ("kam_alert_acks", ("count(*)", _ms("acknowledged_at"))))
EDITS = "api_read_model_edits"
# Sections of the shared body read only these tables; none may be BU-owned (checked at build).
# (`kam_alerts` is BU-owned through its contacts: the shared body takes only its shared rows.)
SHARED_SOURCES = ("accounts", "hierarchy", "account_kpis", "scores", "score_details", "kam_accounts",
                  "kam_alert_acks", "kpi_status_history", "relationships")
HIDDEN = ("row_hash", "import_id")
MAX_CHILDREN_360 = 50


def q(name: str) -> str:
    """A quoted identifier (names come from the catalogue, never from a request)."""
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def lit(text: str) -> str:
    return exp.Literal.string(text).sql(dialect="duckdb")


class Text(str):
    """Literal JSON text, a piece of a `_concat`."""


AVAILABLE = Text('{"available":true,"data":')


def _concat(parts: list[str]) -> str:
    """One `concat(…)` of SQL expressions and `Text` pieces (adjacent pieces merged): a body of
    ~4 KB written once, where a chain of `||` copies it again at each step (measured: the
    largest cost of the build's statements, ahead of the JSON itself). Every part is not NULL."""
    merged: list[str] = []
    for part in parts:
        if isinstance(part, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1] + part)
        else:
            merged.append(part)
    return "concat(" + ", ".join(lit(p) if isinstance(p, Text) else p for p in merged) + ")"


def unavailable(table: str) -> str:
    return '{"available":false,"hint":' + _json_str(BUILD_HINT) + ',"table":' + _json_str(table) + "}"


def _json_str(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


# -- the catalogue, with types ------------------------------------------------------------------
class Catalog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        rows = engine.fetchall(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
            "ORDER BY table_name, ordinal_position", [engine.schema])
        self.types: dict[str, dict[str, str]] = {}
        for table, column, dtype in rows:
            self.types.setdefault(table, {})[column] = str(dtype).upper()

    def has(self, table: str) -> bool:
        return table in self.types

    def columns(self, table: str) -> list[str]:
        return list(self.types.get(table, {}))

    def out(self, alias: str, table: str, column: str) -> str:
        """`alias.column` as the live API would return it (DuckDB: ISO timestamps, JSON as text)."""
        ref = f"{alias}.{q(column)}"
        dtype = self.types.get(table, {}).get(column, "")
        if dtype in ("TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE"):
            # as Python's isoformat(): six digits of microseconds when there are some (the engines'
            # own JSON drops trailing zeros). The "T" is not in a format: PostgreSQL's to_char reads TH.
            day = f"strftime({ref}, '%Y-%m-%d'), 'T', "
            return (f"CASE WHEN date_trunc('second', {ref}) = {ref} THEN concat({day}strftime({ref}, '%H:%M:%S')) "
                    f"ELSE concat({day}strftime({ref}, '%H:%M:%S.%f')) END")
        if dtype == "JSON":  # the live reads hand JSON columns over as text, on both engines
            return f"CAST({ref} AS VARCHAR)"
        if dtype in ("DOUBLE", "DOUBLE PRECISION", "FLOAT", "REAL") and is_money(column):
            # to the cent as `tidy` (Python's round of the double): DuckDB's round(x, 2) is this very
            # sum; PostgreSQL has round(DOUBLE) only, and rounding a NUMERIC copy differed (x.xx5)
            return f"round({ref} * 100) / 100"
        return ref


@dataclass
class Rows:
    """A JSON rendering of rows: per key, one object (`limit=None, one=True`) or an ordered array."""

    source: str                      # FROM … [WHERE …] (aliases inside)
    keys: list[str]                  # key expressions (become k0, k1, …)
    outs: list[tuple[str, str]]      # (output name, expression)
    order: str = ""                  # ORDER BY of the array (and of the rank)
    limit: int | None = None
    one: bool = False                # a single object per key (no array)
    partition: list[str] | None = None  # rank partition (default: the keys)

    def sql(self) -> str:
        keys = ", ".join(f"{k} AS k{i}" for i, k in enumerate(self.keys))
        outs = ", ".join(f"{expr} AS o{i}" for i, (_, expr) in enumerate(self.outs))
        # the object of a row: a struct packed from its outputs (PostgreSQL: a row, `store.sql`); a
        # LATERAL (SELECT … ) per row cost DuckDB a join back on every output column (~30 % of the build)
        obj = "struct_pack(" + ", ".join(f"{q(name)} := v.o{i}" for i, (name, _) in enumerate(self.outs)) + ")"
        kv = ", ".join(f"v.k{i}" for i in range(len(self.keys)))
        if not self.one:
            # An array per key in one aggregation: the objects ordered, then the first `limit`
            # kept — no window over the rows (twice as fast as a rank and an ordered string_agg).
            terms = _order_terms(self.order or self.keys[0])
            sorts = "".join(f", {term} AS s{i}" for i, (term, _) in enumerate(terms))
            order = ", ".join(f"v.s{i}{flags}" for i, (_, flags) in enumerate(terms))
            cut = f"[1:{int(self.limit)}]" if self.limit else ""
            return (f"SELECT {kv}, '[' || array_to_string((list(CAST(to_json({obj}) AS VARCHAR) "  # noqa: S608 - names from the catalogue
                    f"ORDER BY {order})){cut}, ',') || ']' AS j, count(*) AS n "
                    f"FROM (SELECT {keys}, {outs}{sorts} FROM {self.source}) v GROUP BY {kv}")
        part = ", ".join(self.partition or self.keys)
        rank = (f", row_number() OVER (PARTITION BY {part} ORDER BY {self.order or self.keys[0]}) AS rn, "
                f"count(*) OVER (PARTITION BY {part}) AS n") if self.partition else ""
        return (f"SELECT {kv}{', v.rn, v.n' if self.partition else ''}, CAST(to_json({obj}) AS VARCHAR) AS j "  # noqa: S608
                f"FROM (SELECT {keys}, {outs}{rank} FROM {self.source}) v")


def _order_terms(order: str) -> list[tuple[str, str]]:
    """`a DESC NULLS LAST, b` as [("a", " DESC NULLS LAST"), ("b", "")]: each sort expression and
    its direction, so the expression can be selected and the aggregate sorted by its alias."""
    tree = sqlglot.parse_one(f"SELECT 1 ORDER BY {order}", read="duckdb")  # static text of this module
    terms = []
    for ordered in tree.args["order"].expressions:
        flags = ordered.copy()
        flags.set("this", exp.column("x"))
        terms.append((ordered.this.sql(dialect="duckdb"), flags.sql(dialect="duckdb")[1:]))
    return terms


def _outs(cat: Catalog, alias: str, table: str, columns: Iterable[str] | None = None,
          skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    have = cat.columns(table)
    wanted = [c for c in (columns if columns is not None else have) if c in have and c not in set(skip)]
    return [(c, cat.out(alias, table, c)) for c in wanted]


# Which accounts a statement writes: all (False), those of the scope table (True: a refresh), or
# a range of ids [low, high) (a batch of the build, `_write_by_batches`; None: unbounded), a plain
# comparison each scan filters on, with the bounds as parameters `$scope_low` / `$scope_high`.
Scope = bool | tuple[str | None, str | None]


def _in_scope(column: str, scoped: Scope) -> str:
    if isinstance(scoped, tuple):
        low, high = scoped
        return ((f" AND {column} >= $scope_low" if low is not None else "")
                + (f" AND {column} < $scope_high" if high is not None else ""))
    return f" AND {column} IN (SELECT account_id FROM {SCOPE})" if scoped else ""  # noqa: S608 - fixed names


# -- the shared body -----------------------------------------------------------------------------
def _stakeholder_rows(cat: Catalog, scoped: Scope, shared: bool) -> Rows:
    """Contacts as the live `stakeholders()` returns them: shared ones (no BU) or per BU."""
    outs = _outs(cat, "c", "contacts", ("contact_id", "name", "title", "email", "buying_role", "reports_to",
                                        "start_date", "end_date", "seller_bu"))
    source = "contacts c"
    if cat.has("kam_contact_roles"):
        outs = [(n, "coalesce(r.buying_role, c.buying_role)" if n == "buying_role" else e) for n, e in outs]
        source += " LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id"
    if "reports_to" in cat.columns("contacts"):
        # a manager private to another BU than the readers of this row is not named (`access.person_masks`);
        # corporate readers get it back from that BU's `bosses` (`_boss_rows`)
        seen = "boss.seller_bu IS NULL" if shared else "(boss.seller_bu IS NULL OR boss.seller_bu = c.seller_bu)"
        outs = [(n, f"CASE WHEN {seen} THEN c.reports_to END" if n == "reports_to" else e) for n, e in outs]
        source += " LEFT JOIN contacts boss ON boss.contact_id = c.reports_to"
    if cat.has("kam_stakeholders"):
        outs += _outs(cat, "ks", "kam_stakeholders", ("strength", "last_interaction", "interactions", "sentiment"))
        source += " LEFT JOIN kam_stakeholders ks ON ks.contact_id = c.contact_id"
    where = "c.seller_bu IS NULL" if shared else "c.seller_bu IS NOT NULL"
    keys = ["c.account_id"] if shared else ["c.account_id", "c.seller_bu"]
    return Rows(f"{source} WHERE {where}{_in_scope('c.account_id', scoped)}", keys, outs,
                "c.end_date IS NOT NULL, c.name, c.contact_id", 500)


def _boss_rows(cat: Catalog, scoped: Scope) -> Rows:
    """Per account and BU: the people of other rows (shared, or another BU's) who report to one of
    this BU's private contacts — the `reports_to` those rows do not name, for whoever reads both."""
    return Rows("contacts c JOIN contacts boss ON boss.contact_id = c.reports_to "
                "WHERE boss.seller_bu IS NOT NULL AND (c.seller_bu IS NULL OR c.seller_bu <> boss.seller_bu)"
                f"{_in_scope('c.account_id', scoped)}", ["c.account_id", "boss.seller_bu"],
                [("contact_id", "c.contact_id"), ("reports_to", "c.reports_to")], "c.contact_id")


def _alert_rows(cat: Catalog, scoped: Scope, shared: bool) -> Rows:
    """Open alerts as the live `open_alerts()` returns them. Shared: alerts about the account (no
    contact) and about shared people (a contact without a BU); per BU: alerts about that BU's
    contacts (a contact no longer in the CRM: the `seller_bu` NULL row, which BU members never
    read) — the live reader's rule for `kam_alerts` (`access.NULL_KEY_IS_SHARED`)."""
    acks = cat.has("kam_alert_acks")
    source = ("kam_alerts al" + (" LEFT JOIN kam_alert_acks ak ON ak.alert_id = al.alert_id" if acks else "")
              + " LEFT JOIN accounts ac ON ac.account_id = al.account_id")
    where = ("ak.alert_id IS NULL" if acks else "true") + _in_scope("al.account_id", scoped)
    keys = ["al.account_id"]
    if "contact_id" in cat.columns("kam_alerts"):
        source += " LEFT JOIN contacts ct ON ct.contact_id = al.contact_id"
        if shared:
            where += " AND (al.contact_id IS NULL OR (ct.contact_id IS NOT NULL AND ct.seller_bu IS NULL))"
        else:
            where += " AND al.contact_id IS NOT NULL AND (ct.contact_id IS NULL OR ct.seller_bu IS NOT NULL)"
            keys.append("ct.seller_bu")
    elif not shared:  # a workspace built before alerts had contact_id: all of them shared
        where += " AND false"
        keys.append("CAST(NULL AS VARCHAR)")
    outs = [(c, cat.out("al", "kam_alerts", c)) for c in ("alert_id", "account_id")]
    outs.append(("account_name", "ac.name"))
    outs += [(c, cat.out("al", "kam_alerts", c)) for c in ("kind", "subject", "reason", "created_at", "owner")]
    outs.append(("acknowledged", "false"))
    return Rows(f"{source} WHERE {where}", keys, outs, "al.created_at DESC, al.alert_id", 50)


def shared_sql(cat: Catalog, scoped: Scope) -> str:
    """`account_id, body, body_tail, bu_counts`: the inner text of the 360's shared sections before
    `score_details` and after it (a list table: `list_sql`), every BU's counts behind `other_bus`."""
    ctes = {"acc": Rows(f"accounts a WHERE true{_in_scope('a.account_id', scoped)}", ["a.account_id"],
                        _outs(cat, "a", "accounts", skip=HIDDEN), one=True)}
    sections: list[tuple[str, list[str]]] = [("account", ["acc.j"])]

    def fact(name: str, table: str, alias: str, extra: str = "") -> None:
        if not cat.has(table):
            sections.append((name, [Text(unavailable(table))]))
            return
        ctes[alias] = Rows(f"{table} {alias} WHERE true{extra}{_in_scope(f'{alias}.account_id', scoped)}",
                           [f"{alias}.account_id"], _outs(cat, alias, table), one=True)
        sections.append((name, [AVAILABLE, f"coalesce({alias}.j, 'null')", Text("}")]))

    def listing(name: str, alias: str, rows: Rows | None, table: str) -> None:
        if rows is None:
            sections.append((name, [Text(unavailable(table))]))
            return
        ctes[alias] = rows
        sections.append((name, [AVAILABLE, f"coalesce({alias}.j, '[]')", Text("}")]))

    # hierarchy: the row, the names of parent and group head, the first children by name
    if cat.has("hierarchy"):
        hcols = cat.columns("hierarchy")
        outs = _outs(cat, "h", "hierarchy")
        source = "hierarchy h"
        if {"parent_id", "group_head_id"} <= set(hcols):
            outs += [("parent_name", "p.name"), ("group_head_name", "g.name")]
            source += (" LEFT JOIN accounts p ON p.account_id = h.parent_id"
                       " LEFT JOIN accounts g ON g.account_id = h.group_head_id")
        if "parent_id" in hcols:
            ctes["kids"] = Rows(f"hierarchy h JOIN accounts a ON a.account_id = h.account_id "
                                f"WHERE h.parent_id IS NOT NULL{_in_scope('h.parent_id', scoped)}",
                                ["h.parent_id"], [("account_id", "h.account_id"), ("name", "a.name")],
                                "a.name, h.account_id", MAX_CHILDREN_360)
            outs.append(("children", "CAST(coalesce(kids.j, '[]') AS JSON)"))
            source += " LEFT JOIN kids ON kids.k0 = h.account_id"
        ctes["hier"] = Rows(f"{source} WHERE true{_in_scope('h.account_id', scoped)}", ["h.account_id"], outs,
                            one=True)
        sections.append(("hierarchy", [AVAILABLE, "coalesce(hier.j, 'null')", Text("}")]))
    else:
        sections.append(("hierarchy", [Text(unavailable("hierarchy"))]))
    fact("kpis", "account_kpis", "k")
    fact("score", "scores", "s")
    split = len(sections)  # here the reader puts `score_details`, rendered from its list table
    scope_cond = " AND ka.scope = 'account'" if "scope" in cat.columns("kam_accounts") else ""
    fact("key_account", "kam_accounts", "ka", scope_cond)
    listing("alerts", "alr", _alert_rows(cat, scoped, shared=True) if cat.has("kam_alerts") else None, "kam_alerts")
    history = None
    if cat.has("kpi_status_history"):
        history = Rows(f"kpi_status_history sh WHERE sh.scope = 'account'{_in_scope('sh.account_id', scoped)}",
                       ["sh.account_id"], _outs(cat, "sh", "kpi_status_history",
                                                ("status", "entered_on", "left_on", "previous_status")),
                       "sh.entered_on DESC, sh.status", 30)
    listing("status_history", "hist", history, "kpi_status_history")
    # per seller BU, how many deals, activities and contacts: the count-only `other_bus` lines
    counts = " UNION ALL ".join(
        f"SELECT x.account_id, x.seller_bu, '{kind}' AS kind FROM {kind} x WHERE x.seller_bu IS NOT NULL"  # noqa: S608
        f"{_in_scope('x.account_id', scoped)}" for kind in ("deals", "activities", "contacts"))
    ctes["buc"] = Rows(
        f"(SELECT u.account_id, u.seller_bu, coalesce(max(b.name), u.seller_bu) AS bu_name, "  # noqa: S608
        "count(*) FILTER (WHERE u.kind = 'deals') AS deals, count(*) FILTER (WHERE u.kind = 'activities') AS activities, "
        f"count(*) FILTER (WHERE u.kind = 'contacts') AS contacts FROM ({counts}) u "
        "LEFT JOIN seller_bus b ON b.bu_id = u.seller_bu GROUP BY u.account_id, u.seller_bu) bc",
        ["bc.account_id"], [("bu_id", "bc.seller_bu"), ("bu_name", "bc.bu_name"), ("deals", "bc.deals"),
                            ("activities", "bc.activities"), ("contacts", "bc.contacts")], "bc.seller_bu")

    body, tail = (_concat([part for i, (name, parts) in enumerate(pieces)
                           for part in (Text(("," if i else "") + _json_str(name) + ":"), *parts)])
                  for pieces in (sections[:split], sections[split:]))
    joins = "".join(f" LEFT JOIN {alias} ON {alias}.k0 = acc.k0" for alias in ctes
                    if alias not in ("acc", "kids"))
    with_ = ", ".join(f"{alias} AS ({rows.sql()})" for alias, rows in ctes.items())
    return (f"WITH {with_} SELECT acc.k0 AS account_id, {body} AS body, {tail} AS body_tail, "  # noqa: S608
            f"coalesce(buc.j, '[]') AS bu_counts FROM acc{joins}")


# -- private records, one row per account and seller BU ---------------------------------------
# The orders of the long lists (`LISTS`): the build sorts by them, the per-request rendering too.
LIST_ORDERS = {"deals": "d.close_date DESC NULLS LAST, d.deal_id", "activities": 't."date" DESC, t.activity_id',
               "meddic": "m.amount_rc DESC NULLS LAST, m.deal_id",
               "contacts": "c.end_date IS NOT NULL, c.name, c.contact_id", "score_details": "d.pillar, d.criterion"}


def _list_rows(cat: Catalog, scoped: Scope) -> dict[str, Rows]:
    """The long per-BU lists (`LISTS`) as the live queries select them, keyed by account and BU."""
    rows = {
        "deals": Rows(f"deals d WHERE true{_in_scope('d.account_id', scoped)}", ["d.account_id", "d.seller_bu"],
                      _outs(cat, "d", "deals", ("deal_id", "seller_bu", "product", "stage", "amount_rc",
                                                "gross_margin_rc", "created_at", "close_date", "owner")),
                      LIST_ORDERS["deals"], LISTS["deals"][1]),
        "activities": Rows(f"activities t WHERE true{_in_scope('t.account_id', scoped)}",
                           ["t.account_id", "t.seller_bu"],
                           _outs(cat, "t", "activities", ("activity_id", "date", "type", "topic", "weight", "seller_bu")),
                           LIST_ORDERS["activities"], LISTS["activities"][1]),
    }
    if cat.has("kam_meddic"):
        rows["meddic"] = Rows(f"kam_meddic m LEFT JOIN deals md ON md.deal_id = m.deal_id "
                              f"WHERE true{_in_scope('m.account_id', scoped)}", ["m.account_id", "md.seller_bu"],
                              _outs(cat, "m", "kam_meddic"), LIST_ORDERS["meddic"], LISTS["meddic"][1])
    rows["contacts"] = _stakeholder_rows(cat, scoped, shared=True)  # the shared people (no seller BU)
    if cat.has("score_details"):
        rows["score_details"] = Rows(
            f"score_details d WHERE true{_in_scope('d.account_id', scoped)}", ["d.account_id"],
            _outs(cat, "d", "score_details", ("pillar", "criterion", "field", "value", "rule", "points", "max_points",
                                              "weight", "contribution")), LIST_ORDERS["score_details"])
    return rows


def list_tables_sql(cat: Catalog, scoped: Scope) -> list[tuple[str, str]]:
    """(table, select) of each long list: one typed row per record — `account_id`, for a BU's
    lists `seller_bu` (so the `ScopedReader` filters the table by BU like `deals`), the JSON fields as `o_<field>` (a
    prefix: no column of these tables is read as a person or a record key by the BU rules) and
    the sort terms `s0, s1…` — sorted by account and BU, written without any JSON: `list_sql`
    renders an account's rows per request, with the same expressions the live queries use."""
    out = []
    for name, rows in _list_rows(cat, scoped).items():
        cols = [f"{rows.keys[0]} AS account_id"] + ([f"{rows.keys[1]} AS seller_bu"] if LISTS[name][2] else [])
        cols += [f"{expr} AS {q('o_' + field)}" for field, expr in rows.outs]
        cols += [f"{term} AS s{i}" for i, (term, _) in enumerate(_order_terms(rows.order))]
        order = "1, 2" if LISTS[name][2] else "1"
        out.append((LISTS[name][0], f"SELECT {', '.join(cols)} FROM {rows.source} ORDER BY {order}"))  # noqa: S608
    return out


@lru_cache(maxsize=64)
def list_sql(tables: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """One account's long lists (parameter: the account id, once per list): `kind, seller_bu, j,
    pos`, one row per record (`j` its JSON object, as the build's arrays held them), `pos` its
    place in the live order within its list and BU; the caller keeps the first `LISTS[kind][1]`.
    `tables`: (section name, the columns of its table) of each list table there is. A window
    over the account's few rows: ~1.7 ms for the three lists, where three ordered `list()`
    aggregates cost ~3.3 ms (mostly planning)."""
    selects = []
    for name, columns in tables:
        obj = "struct_pack(" + ", ".join(f"{q(c[2:])} := r.{q(c)}" for c in columns if c.startswith("o_")) + ")"
        order = ", ".join(f"r.s{i}{flags}" for i, (_, flags) in enumerate(_order_terms(LIST_ORDERS[name])))
        bu, part = ("r.seller_bu", "PARTITION BY r.seller_bu ") if LISTS[name][2] else ("NULL", "")
        selects.append(f"SELECT {lit(name)} AS kind, {bu} AS seller_bu, CAST(to_json({obj}) AS VARCHAR) AS j, "  # noqa: S608
                       f"row_number() OVER ({part}ORDER BY {order}) AS pos "
                       f"FROM {q(LISTS[name][0])} r WHERE r.account_id = ?")
    return " UNION ALL ".join(selects) + " ORDER BY kind, seller_bu, pos"


def records_sql(cat: Catalog, scoped: Scope) -> str:
    """Per account and BU: the private records other than the long lists (`list_tables_sql`):
    stakeholders, campaigns, the alerts about the BU's people, the `bosses`."""
    parts: dict[str, Rows] = {
        "c": _stakeholder_rows(cat, scoped, shared=False),
        "cp": Rows(f"campaign_accounts ca JOIN campaigns cm ON cm.campaign_id = ca.campaign_id "
                   f"WHERE true{_in_scope('ca.account_id', scoped)}", ["ca.account_id", "cm.seller_bu"],
                   _outs(cat, "cm", "campaigns", ("campaign_id", "name", "seller_bu", "channel", "start_date",
                                                  "end_date")), "cm.start_date DESC, cm.campaign_id"),
    }
    if cat.has("kam_alerts"):
        parts["al"] = _alert_rows(cat, scoped, shared=False)
    if "reports_to" in cat.columns("contacts"):
        parts["bs"] = _boss_rows(cat, scoped)
    names = {"c": "stakeholders", "cp": "campaigns", "al": "alerts", "bs": "bosses"}
    keys = " UNION ".join(f"SELECT k0, k1 FROM {a}" for a in parts)  # noqa: S608 - CTE names
    body = _concat([part for i, a in enumerate(parts)
                    for part in (Text(("{" if not i else ",") + _json_str(names[a]) + ":"), f"coalesce({a}.j, '[]')")]
                   + [Text("}")])
    joins = "".join(f" LEFT JOIN {a} ON {a}.k0 = keys.k0 AND coalesce({a}.k1, '') = coalesce(keys.k1, '') "
                    f"AND ({a}.k1 IS NULL) = (keys.k1 IS NULL)" for a in parts)
    with_ = ", ".join(f"{a} AS ({rows.sql()})" for a, rows in parts.items())
    return (f"WITH {with_}, keys AS ({keys}) SELECT keys.k0 AS account_id, keys.k1 AS seller_bu, "  # noqa: S608
            f"{body} AS body FROM keys{joins} "
            # sorted: a BU member's look-up (account and BU filters) is pruned by DuckDB's zone maps
            "ORDER BY keys.k0, keys.k1")


# -- tree nodes ------------------------------------------------------------------------------
SUBTREE_COLUMNS = ("revenue_cy", "margin_cy", "open_pipeline", "entities", "group_status")


def _node_outs(cat: Catalog) -> tuple[list[tuple[str, str]], str]:
    """The live tree's node columns (`reads.groups._node_columns`) and their joins."""
    outs = _outs(cat, "h", "hierarchy", ("account_id", "name", "parent_id", "level", "relation", "ownership_pct",
                                         "is_joint_venture", "descendants", "has_issue"))
    joins = ""
    if cat.has("account_kpis"):
        outs += _outs(cat, "k", "account_kpis", ("status", "revenue_cy", "margin_cy"))
        joins += " LEFT JOIN account_kpis k ON k.account_id = h.account_id"
    if "grade" in cat.columns("scores"):
        outs += _outs(cat, "s", "scores", ("grade",))
        joins += " LEFT JOIN scores s ON s.account_id = h.account_id"
    if cat.has("group_kpis"):  # a node with entities below: its subtree's consolidated figures
        have = cat.columns("group_kpis")
        outs += [(f"subtree_{c}", cat.out("gk", "group_kpis", c)) for c in SUBTREE_COLUMNS if c in have]
        joins += " LEFT JOIN group_kpis gk ON gk.account_id = h.account_id"
    return outs, joins


def nodes_sql(cat: Catalog, scoped: Scope) -> str:
    outs, joins = _node_outs(cat)
    hcols = cat.columns("hierarchy")
    order = "h.descendants DESC NULLS LAST, h.name, h.account_id" if "descendants" in hcols else "h.name, h.account_id"
    head = "h.group_head_id" if "group_head_id" in hcols else "CAST(NULL AS VARCHAR)"
    rows = Rows(f"hierarchy h{joins} WHERE true{_in_scope('h.account_id', scoped)}",
                ["h.account_id", "h.parent_id", head], outs, order, one=True, partition=["h.parent_id"])
    # `listed_under`: the parent, for the first MAX_CHILDREN children only — a single-column filter, so
    # DuckDB answers `listed_under IN (…)` from the index (it scans the table when a second filter is added)
    return (f"SELECT x.k0 AS account_id, x.k1 AS parent_id, x.k2 AS group_head_id, x.rn, x.n AS siblings, "  # noqa: S608
            f"CASE WHEN x.rn <= {int(MAX_CHILDREN)} THEN x.k1 END AS listed_under, x.j AS node FROM ({rows.sql()}) x")


def jvs_sql(cat: Catalog) -> str:
    outs, joins = _node_outs(cat)
    outs.append(("held_pct", "rel.ownership_pct"))
    rows = Rows(f"relationships rel JOIN hierarchy h ON h.account_id = rel.child_id{joins} "
                "WHERE rel.relation = 'joint_venture' AND (h.parent_id IS NULL OR h.parent_id <> rel.parent_id)",
                ["rel.parent_id", "rel.child_id"], outs, one=True)
    return (f"SELECT x.k0 AS shown_under, x.k1 AS account_id, x.j AS node FROM ({rows.sql()}) x "  # noqa: S608
            "ORDER BY x.k0, x.k1")


# -- the stamp ---------------------------------------------------------------------------------
def _marks(engine: Engine) -> dict[str, str | None]:
    return {str(t): c for t, c in engine.fetchall(table_comments_sql(engine.dialect))}


def _fingerprint(engine: Engine, marks: dict[str, str | None]) -> str:
    """What the model was built from apart from the edited tables' statistics: the layout version,
    the marks of the tables read (a replaced table lost its mark) and the workspace settings."""
    parts: list[Any] = [MODEL_VERSION, *sorted((t, marks[t]) for t in DEPENDENCIES if t in marks)]
    parts.append(engine.fetchall("SELECT key, value FROM workspace_meta WHERE key NOT LIKE 'api%' ORDER BY key"))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _stats(engine: Engine, marks: dict[str, str | None]) -> dict[str, int]:
    keys = [(t, e) for t, exprs in EDITED if t in marks for e in exprs]
    if not keys:
        return {}
    stats = ", ".join(f"(SELECT CAST(COALESCE({e}, 0) AS VARCHAR) FROM {q(t)})" for t, e in keys)  # noqa: S608 - fixed names
    row = engine.fetchone(f"SELECT {stats}")
    return {f"{t}:{e}": int(v) for (t, e), v in zip(keys, row or (), strict=True)}


def _applied(engine: Engine, marks: dict[str, str | None]) -> dict[str, int]:
    """The statistics' changes recorded by API writes since the base stamp."""
    if EDITS not in marks:
        return {}
    return {k: int(v) for k, v in engine.fetchall(f"SELECT stat, sum(delta) FROM {q(EDITS)} GROUP BY stat")}  # noqa: S608


@dataclass(frozen=True)
class Snapshot:
    """The workspace's state as the read model sees it."""

    fingerprint: str
    stats: dict[str, int]
    fresh: bool

    @property
    def stamp(self) -> str:
        """A key of everything the read model is computed from (changes with every edit)."""
        return self.fingerprint + hashlib.sha256(repr(sorted(self.stats.items())).encode()).hexdigest()[:16]


def snapshot(engine: Engine) -> Snapshot:
    marks = _marks(engine)
    fingerprint, stats = _fingerprint(engine, marks), _stats(engine, marks)
    fresh = False
    if all(t in marks for t in (*TABLES, "workspace_meta")):
        recorded = engine.scalar("SELECT value FROM workspace_meta WHERE key = ?", [STAMP_KEY])
        try:
            base = json.loads(recorded) if recorded else None
        except ValueError:  # a stamp of an older version
            base = None
        if isinstance(base, dict) and base.get("fingerprint") == fingerprint:
            applied = _applied(engine, marks)
            expected = {k: int(v) + applied.get(k, 0) for k, v in (base.get("stats") or {}).items()}
            fresh = expected == stats
    return Snapshot(fingerprint, stats, fresh)


def current_stamp(engine: Engine) -> str:
    """A fingerprint of everything the read model is computed from (see the module docstring)."""
    return snapshot(engine).stamp


def recorded_stamp(engine: Engine) -> str | None:
    if not engine.table_exists("workspace_meta"):
        return None
    return engine.scalar("SELECT value FROM workspace_meta WHERE key = ?", [STAMP_KEY])


def state(engine: Engine) -> tuple[bool, str]:
    """(the read model matches the workspace, the workspace's stamp)."""
    snap = snapshot(engine)
    return snap.fresh, snap.stamp


def _record(ws: Workspace, before: Snapshot | None = None, build: bool = False) -> None:
    """Record that the model matches the workspace as this transaction sees it.

    A build marks every table read with a new mark, clears the recorded edits and
    stores the base stamp. A write that kept the model current (`before`: the snapshot it started
    from) marks only the tables that lost their mark (a hierarchy rebuild replaces `hierarchy`) and,
    when nothing but the edited tables' statistics changed, inserts its own change to them: two
    writes to different records insert different rows and never collide. Otherwise it rewrites the
    base stamp (less what other writes recorded), one row: such writes (links, merges) may conflict
    with each other, and are retried."""
    engine = ws.engine
    marks = _marks(engine)
    if build:
        mark = MARK_PREFIX + uuid.uuid4().hex[:12]
        redo = [t for t in DEPENDENCIES if t in marks]
    else:
        mark = next((m for m in marks.values() if m and m.startswith(MARK_PREFIX)), MARK_PREFIX + uuid.uuid4().hex[:12])
        redo = [t for t in DEPENDENCIES if t in marks and not (marks[t] or "").startswith(MARK_PREFIX)]
    for table in redo:
        engine.execute(f"COMMENT ON TABLE {q(table)} IS {lit(mark)}")
    if redo:
        marks = _marks(engine)
    fingerprint, stats = _fingerprint(engine, marks), _stats(engine, marks)
    if before is not None and before.fingerprint == fingerprint and before.stats.keys() == stats.keys():
        edit = uuid.uuid4().hex
        rows = [(edit, k, v - before.stats[k]) for k, v in stats.items() if v != before.stats[k]]
        if rows and EDITS in marks:
            engine.insert_arrow(EDITS, pa.table({
                "edit_id": pa.array([r[0] for r in rows], pa.string()),
                "stat": pa.array([r[1] for r in rows], pa.string()),
                "delta": pa.array([r[2] for r in rows], pa.decimal128(38, 0))}))
            return
        if not rows:
            return
    if build and EDITS in marks:
        engine.execute(f"DELETE FROM {q(EDITS)}")  # noqa: S608 - a build starts the count again
        applied: dict[str, int] = {}
    else:
        applied = _applied(engine, marks)
    base = {k: v - applied.get(k, 0) for k, v in stats.items()}
    ws.set_meta(STAMP_KEY, json.dumps({"fingerprint": fingerprint, "stats": base}, sort_keys=True))


def _forget(ws: Workspace) -> None:
    ws.engine.execute("DELETE FROM workspace_meta WHERE key = ?", [STAMP_KEY])


# -- build and refresh -------------------------------------------------------------------------
# The look-up keys of the API's reads and refreshes: a 360 by account, a tree slice by parent.
INDEXES = ((SHARED, "account_id"), (RECORDS, "account_id"), (NODES, "account_id"), (NODES, "listed_under"),
           *((table, "account_id") for table, _, _ in LISTS.values()))


def _legacy_index_name(table: str, column: str) -> str:
    """The name builds before the indexes moved after the commit gave them (`{table}_{column}_idx`)."""
    return f"{table}_{column}_idx"


def ensure_indexes(ws: Workspace) -> int:
    """Creates the read model's look-up indexes that are missing (one catalog query when they are
    all there); returns how many it created. The build writes the tables without them: DuckDB
    commits an index made on a table created in the same transaction slowly (19 s against 0.04 s
    for 3M rows), so `prepare_reads` makes them once the build has committed. Until then reads
    and refreshes give the same answers, by scans."""
    engine = ws.engine
    if not engine.capabilities.indexes:
        return 0
    existing = engine.index_names()
    created = 0
    for table, column in INDEXES:
        if ({engine.index_name(table, column), _legacy_index_name(table, column)} & existing
                or not engine.table_exists(table)):
            continue
        engine.create_index(table, column)
        created += 1
    return created


def prepare_reads(ws: Workspace) -> dict[str, Any]:
    """The `api` stage's `after` step, run once the build has committed: the look-up indexes."""
    with ws.engine.transaction():
        return {"lookup_indexes": ensure_indexes(ws)}


def _leaks(cat: Catalog) -> list[str]:
    """Shared sources that a BU filter would apply to: they must not feed the shared body."""
    owned = dict(table_rules({t: tuple(cat.columns(t)) for t in cat.types}))
    # kam_alerts may follow its contacts (its shared rows are the ones without a BU's contact), nothing else
    return [t for t in SHARED_SOURCES if t in owned] + (
        ["kam_alerts"] if owned.get("kam_alerts", "contacts") != "contacts" else [])


# Accounts per statement when the build writes the 360 bodies. One statement for the 1M-account
# demo (~4.6 KB of JSON per account, held in its joins) ran out of DuckDB's memory limit (2 GB), and
# so did batches of 200k; measured there: 25k 120 s, 50k 106 s, 100k 119 s for the two tables
# (peak RSS 2.6 GB). In ranges of ids, the records stay sorted by account.
BUILD_BATCH = 50_000


def _per_account_sql(cat: Catalog, scope: Scope) -> list[tuple[str, str]]:
    """(table, select) of every per-account table of the model: the build writes them by ranges of
    ids, a refresh rewrites the rows of the accounts it touches."""
    return [(SHARED, shared_sql(cat, scope)), (RECORDS, records_sql(cat, scope)), *list_tables_sql(cat, scope)]


def _write_by_batches(engine: Engine, cat: Catalog) -> None:
    """`api_account_360`, `api_account_records` and the long lists' tables, the accounts taken
    `BUILD_BATCH` at a time in ranges of ids (every row of a source falls in exactly one range);
    one statement each when they fit."""
    starts = [r[0] for r in engine.fetchall(  # the first id of each batch but the first: none if one fits
        "SELECT account_id FROM (SELECT account_id, row_number() OVER (ORDER BY account_id) AS rn FROM accounts) n "
        "WHERE rn % ? = 1 AND rn > 1 ORDER BY account_id", [BUILD_BATCH])]
    if not starts:
        for table, select in _per_account_sql(cat, False):
            engine.replace_table(table, select)
        return
    ranges = list(zip([None, *starts], [*starts, None], strict=True))
    for i, scope in enumerate(ranges):  # the first range writes the tables, the others append
        params = {k: v for k, v in (("scope_low", scope[0]), ("scope_high", scope[1])) if v is not None}
        for table, select in _per_account_sql(cat, scope):
            if i == 0:
                engine.replace_table(table, select, params)
            else:
                engine.execute(f"INSERT INTO {q(table)} {select}", params)


def build(ws: Workspace) -> dict[str, Any]:
    """(Re)write the read model from the workspace; returns its row counts."""
    engine = ws.engine
    cat = Catalog(engine)
    leaks = _leaks(cat)
    with engine.transaction():
        if leaks or not cat.has("hierarchy"):
            for table in ALL_TABLES:
                engine.drop_table(table)
            _forget(ws)
            why = f"BU-owned shared sources: {', '.join(leaks)}" if leaks else "no hierarchy yet"
            return {"read_model": f"not built ({why}); the API reads live"}
        for table, source in OPTIONAL_LISTS.items():  # no such list: no table of an earlier build left behind
            if not cat.has(source):
                engine.drop_table(table)
        _write_by_batches(engine, cat)
        engine.replace_table(NODES, nodes_sql(cat, False))
        engine.replace_table(JVS, jvs_sql(cat))
        # no indexes here: `prepare_reads` makes them after the commit (see `ensure_indexes`)
        _record(ws, build=True)
    counts = {t: int(engine.scalar(f"SELECT count(*) FROM {q(t)}") or 0) for t in TABLES}  # noqa: S608
    return {"accounts": counts[SHARED], "bu_records": counts[RECORDS], "tree_nodes": counts[NODES]}


def group_heads(engine: Engine, account_ids: Iterable[str]) -> set[str]:
    """Group heads of these accounts in the hierarchy and in the read model (before a change)."""
    ids = [a for a in dict.fromkeys(account_ids) if a]
    if not ids:
        return set()
    marks = ", ".join("?" * len(ids))
    heads: set[str] = set()
    for table in ("hierarchy", NODES):
        if engine.table_exists(table):
            heads |= {r[0] for r in engine.fetchall(
                f"SELECT DISTINCT group_head_id FROM {q(table)} WHERE account_id IN ({marks})", ids) if r[0]}  # noqa: S608
    return heads


def refresh(ws: Workspace, account_ids: Iterable[str], heads: Iterable[str] = (),
            before: Snapshot | None = None) -> int:
    """Recompute the rows of these accounts and of every member of the groups `heads` (a link or a
    merge moves whole sub-trees); then record the new stamp. Call inside the write's transaction,
    only when the read model was fresh before the write. Returns the accounts refreshed."""
    engine = ws.engine
    cat = Catalog(engine)
    ids = set(a for a in account_ids if a)
    heads = [h for h in dict.fromkeys(heads) if h]
    if heads:
        marks = ", ".join("?" * len(heads))
        for table in ("hierarchy", NODES):
            if cat.has(table):
                ids |= {r[0] for r in engine.fetchall(
                    f"SELECT account_id FROM {q(table)} WHERE group_head_id IN ({marks})", heads)}  # noqa: S608
    if (_leaks(cat) or not all(cat.has(t) for t in TABLES)
            or any(cat.has(source) != cat.has(table) for table, source in OPTIONAL_LISTS.items())):
        _forget(ws)
        return 0
    with engine.transaction():
        engine.drop_table(SCOPE)
        # temporary: private to this connection (each request has its own DuckDB cursor)
        engine.execute(f"CREATE TEMPORARY TABLE {q(SCOPE)} (account_id VARCHAR)")
        engine.insert_arrow(SCOPE, pa.table({"account_id": pa.array(sorted(ids), pa.string())}))
        statements = _per_account_sql(cat, True)
        if heads:  # tree ranks are per parent: only whole groups are refreshed
            statements.append((NODES, nodes_sql(cat, True)))
        for table, select in statements:
            engine.execute(f"DELETE FROM {q(table)} WHERE account_id IN (SELECT account_id FROM {q(SCOPE)})")  # noqa: S608
            engine.execute(f"INSERT INTO {q(table)} {select}")
        if heads:
            engine.execute(f"DELETE FROM {q(JVS)}")  # noqa: S608 - a few rows: rewritten whole
            engine.execute(f"INSERT INTO {q(JVS)} {jvs_sql(cat)}")
        engine.drop_table(SCOPE)
        _record(ws, before)
    return len(ids)


@contextmanager
def kept_current(ws: Workspace, accounts: list[str], whole_groups: bool = False) -> Iterator[None]:
    """Around a change to `accounts`: if the read model matched the workspace before it, recompute
    the rows the change touches (`accounts`, plus every member of their groups before and after
    when `whole_groups`: links, merges, KPI refreshes that roll up) and record the new stamp, so
    reads stay on the model (~1 s at a million accounts). A model already stale is left to the
    next build. Inside the change's transaction when it has one."""
    snap = snapshot(ws.engine)
    before = group_heads(ws.engine, accounts) if snap.fresh and whole_groups else set()
    yield
    if snap.fresh:
        after = group_heads(ws.engine, accounts) if whole_groups else set()
        refresh(ws, accounts, before | after, before=snap)
