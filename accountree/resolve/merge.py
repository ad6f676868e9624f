"""Merging duplicates into a survivor, set-based, with before-images for undo.

**Survivor rule** (documented in README): the record with the most deals + contacts, then a CRM
record over a registry record, then the oldest (`created_at`, unknown last), then the smallest
account id — so the choice is deterministic.

A merge of record M into survivor S, all in one transaction:
1. S's empty fields are filled from M (`filled_columns` remembers which, so undo empties them);
2. deals, contacts, activities, leads and child accounts (`parent_id`) of M move to S, and so do
   M's relationships and campaign memberships (a row S already has is removed instead, a
   relationship between M and S disappears); every moved or removed row is kept in
   `merge_moves`;
3. `account_aliases(M -> S)` is written (aliases that pointed at M now point at S, so re-imports
   of any old id land on today's survivor);
4. M's row is kept as JSON in `merges.before_merged` and deleted from `accounts`.

Every step is one SQL statement for a whole batch of merges (a million-account run merges tens
of thousands of records), through two temporary tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from accountree.errors import ConfigError, NotFoundError
from accountree.store import Workspace, current_user

# Survivor fields filled from the merged record when empty.
FILLABLE = (
    "parent_id", "domain", "website", "country", "city", "industry", "employees", "annual_revenue", "currency",
    "annual_revenue_rc", "siren", "siret", "lei", "duns", "technologies", "owner", "created_at",
)
# (table, key column, account column) re-pointed from the merged record to the survivor.
MOVED = (
    ("deals", "deal_id", "account_id"), ("contacts", "contact_id", "account_id"),
    ("activities", "activity_id", "account_id"), ("leads", "lead_id", "account_id"),
    ("accounts", "account_id", "parent_id"),
)
# Tables keyed by account ids: rows are removed and re-inserted re-keyed (duplicates dropped).
REKEYED = (("relationships", ("child_id", "parent_id")), ("campaign_accounts", ("campaign_id", "account_id")))


@dataclass
class Member:
    account_id: str
    match_probability: float | None = None
    pair_id: str | None = None


@dataclass
class Group:
    """Accounts that are one entity. `survivor_id` None: chosen by the survivor rule."""

    members: list[Member]
    survivor_id: str | None = None
    method: str = "manual"  # auto | review | manual
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _json_default(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _rank_rows(ws: Workspace, ids: list[str]) -> dict[str, tuple]:
    """Survivor sort key of each account: fewer deals+contacts, registry, newer, larger id sort last."""
    ws.engine.execute("DROP TABLE IF EXISTS resolve_ids_tmp")
    ws.engine.execute("CREATE TEMP TABLE resolve_ids_tmp (account_id VARCHAR)")
    ws.engine.insert_arrow("resolve_ids_tmp", pa.table({"account_id": pa.array(ids, pa.string())}))
    rows = ws.engine.fetchall(
        "SELECT a.account_id, a.source, CAST(a.created_at AS VARCHAR), "
        "(SELECT count(*) FROM deals d WHERE d.account_id = a.account_id) "
        "+ (SELECT count(*) FROM contacts c WHERE c.account_id = a.account_id) "
        "FROM accounts a JOIN resolve_ids_tmp i ON a.account_id = i.account_id"
    )
    ws.engine.execute("DROP TABLE IF EXISTS resolve_ids_tmp")
    return {r[0]: (-int(r[3] or 0), 0 if (r[1] or "crm") == "crm" else 1, r[2] or "9999", r[0]) for r in rows}


def merge_groups(ws: Workspace, groups: list[Group], user: str | None = None) -> list[int]:
    """Merge every group into its survivor; returns the merge ids (one per absorbed record)."""
    engine, user = ws.engine, user or current_user()
    groups = [g for g in groups if len({m.account_id for m in g.members} | {g.survivor_id} - {None}) > 1]
    if not groups:
        return []
    all_ids = sorted({m.account_id for g in groups for m in g.members} | {g.survivor_id for g in groups} - {None})
    with engine.transaction():
        ranks = _rank_rows(ws, all_ids)
        missing = [i for i in all_ids if i not in ranks]
        if missing:
            raise NotFoundError(f"no account {', '.join(missing[:5])} in the workspace",
                                hint="It may have been merged already: see `accountree export merges`.")
        start = int(engine.scalar("SELECT coalesce(max(merge_id), 0) FROM merges")) + 1
        plan: list[tuple[int, str, Member, Group]] = []
        for g in groups:
            ids = {m.account_id for m in g.members} | ({g.survivor_id} if g.survivor_id else set())
            survivor = g.survivor_id or min(ids, key=lambda i: ranks[i])
            for m in sorted(g.members, key=lambda m: m.account_id):
                if m.account_id != survivor:
                    plan.append((start + len(plan), survivor, m, g))
        if len({m.account_id for _, _, m, _ in plan}) != len(plan):
            raise ConfigError("an account cannot be merged into two survivors at once")
        engine.execute("DROP TABLE IF EXISTS resolve_map_tmp")
        engine.execute("CREATE TEMP TABLE resolve_map_tmp (merge_id BIGINT, old_id VARCHAR, survivor_id VARCHAR)")
        engine.insert_arrow("resolve_map_tmp", pa.table({
            "merge_id": pa.array([p[0] for p in plan], pa.int64()),
            "old_id": pa.array([p[2].account_id for p in plan], pa.string()),
            "survivor_id": pa.array([p[1] for p in plan], pa.string())}))
        _write_merges(ws, plan, user)
        for table, key, column in MOVED:
            _move(ws, table, key, column)
        engine.execute("UPDATE accounts SET parent_id = NULL WHERE parent_id = account_id")
        for table, keys in REKEYED:
            _rekey(ws, table, keys)
        engine.execute(
            "INSERT INTO merge_moves SELECT m.merge_id, 'account_aliases', a.old_id, NULL, 'survivor_id', NULL "
            "FROM account_aliases a JOIN resolve_map_tmp m ON a.survivor_id = m.old_id")
        engine.execute("UPDATE account_aliases SET survivor_id = (SELECT m.survivor_id FROM resolve_map_tmp m "
                       "WHERE m.old_id = account_aliases.survivor_id) WHERE survivor_id IN (SELECT old_id FROM resolve_map_tmp)")
        engine.execute(
            "INSERT INTO account_aliases (old_id, survivor_id, merged_at, merged_by, reason) "
            "SELECT m.old_id, m.survivor_id, g.merged_at, g.merged_by, coalesce(g.reason, g.method) FROM resolve_map_tmp m "
            "JOIN merges g ON g.merge_id = m.merge_id")
        engine.execute("DELETE FROM accounts WHERE account_id IN (SELECT old_id FROM resolve_map_tmp)")
        engine.execute("DROP TABLE IF EXISTS resolve_map_tmp")
    return [p[0] for p in plan]


def _write_merges(ws: Workspace, plan: list[tuple[int, str, Member, Group]], user: str) -> None:
    """Before-images, survivor fills, and the `merges` rows."""
    engine = ws.engine
    rows = {r["account_id"]: r for r in engine.fetch_dicts(
        "SELECT a.* FROM accounts a WHERE a.account_id IN (SELECT old_id FROM resolve_map_tmp) "
        "OR a.account_id IN (SELECT survivor_id FROM resolve_map_tmp)")}
    cluster = {p[2].account_id: p[1] for p in plan}
    filled: dict[str, dict[str, str]] = {}  # survivor -> column -> source account
    fills: dict[int, list[str]] = {}
    for merge_id, survivor, member, _ in plan:
        source, target = rows[member.account_id], rows[survivor]
        taken = filled.setdefault(survivor, {})
        for col in FILLABLE:
            if col not in target or target[col] is not None or source.get(col) is None or col in taken:
                continue
            if col == "parent_id" and (source[col] == survivor or cluster.get(source[col]) == survivor):
                continue
            taken[col] = member.account_id
            fills.setdefault(merge_id, []).append(col)
    now = _now()
    engine.insert_arrow("merges", pa.table({
        "merge_id": pa.array([p[0] for p in plan], pa.int64()),
        "survivor_id": [p[1] for p in plan],
        "merged_id": [p[2].account_id for p in plan],
        "pair_id": pa.array([p[2].pair_id for p in plan], pa.string()),
        "match_probability": pa.array([p[2].match_probability for p in plan], pa.float64()),
        "method": [p[3].method for p in plan],
        "reason": pa.array([p[3].reason for p in plan], pa.string()),
        "merged_at": pa.array([now] * len(plan), pa.timestamp("us")),
        "merged_by": [user] * len(plan),
        "before_merged": [json.dumps(rows[p[2].account_id], default=_json_default, ensure_ascii=False) for p in plan],
        "filled_columns": [json.dumps(fills.get(p[0], [])) for p in plan],
    }))
    fill_rows = [(s, c, src) for s, cols in filled.items() for c, src in cols.items()]
    if not fill_rows:
        return
    engine.execute("DROP TABLE IF EXISTS resolve_fill_tmp")
    engine.execute("CREATE TEMP TABLE resolve_fill_tmp (survivor_id VARCHAR, column_name VARCHAR, source_id VARCHAR)")
    engine.insert_arrow("resolve_fill_tmp", pa.table({k: pa.array(v, pa.string()) for k, v in
                                         zip(("survivor_id", "column_name", "source_id"), zip(*fill_rows, strict=True), strict=True)}))
    for col in sorted({c for _, c, _ in fill_rows}):
        engine.execute(_names(
            "UPDATE accounts SET col__ = (SELECT s.col__ FROM accounts s JOIN resolve_fill_tmp f ON s.account_id = f.source_id "
            "WHERE f.survivor_id = accounts.account_id AND f.column_name = ?) "
            "WHERE account_id IN (SELECT survivor_id FROM resolve_fill_tmp WHERE column_name = ?)", col__=col), [col, col])
    engine.execute("DROP TABLE IF EXISTS resolve_fill_tmp")


def _move(ws: Workspace, table: str, key: str, column: str) -> None:
    # accounts.parent_id: the merged accounts themselves are deleted, not re-pointed
    keep = "account_id NOT IN (SELECT old_id FROM resolve_map_tmp)" if table == "accounts" else "true"
    record = ("INSERT INTO merge_moves SELECT m.merge_id, ?, CAST(t.key__ AS VARCHAR), NULL, ?, NULL "
              "FROM tbl__ t JOIN resolve_map_tmp m ON t.col__ = m.old_id WHERE keep__")
    update = ("UPDATE tbl__ SET col__ = (SELECT m.survivor_id FROM resolve_map_tmp m WHERE m.old_id = tbl__.col__) "
              "WHERE col__ IN (SELECT old_id FROM resolve_map_tmp) AND keep__")
    for sql, params in ((record, [table, column]), (update, None)):
        ws.engine.execute(_names(sql.replace("keep__", keep), tbl__=table, key__=key, col__=column), params)


def _names(sql: str, **names: str) -> str:
    """Replace placeholder identifiers (tbl__, key__, col__) by the module's constant names."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = tree.transform(lambda n: exp.to_identifier(names[n.name], quoted=True)
                          if isinstance(n, exp.Identifier) and n.name in names else n)
    return tree.sql(dialect="duckdb")


def _rekey(ws: Workspace, table: str, keys: tuple[str, str]) -> None:
    """Rows of `table` naming a merged account: kept as JSON, deleted, re-inserted re-keyed."""
    engine = ws.engine
    account_cols = [k for k in keys if k != "campaign_id"]
    names = {"tbl__": table, "k1__": keys[0], "k2__": keys[1]}
    one = keys[0] == "campaign_id"  # campaign_accounts: only the second key is an account
    select = ("SELECT * FROM tbl__ WHERE k2__ IN (SELECT old_id FROM resolve_map_tmp)" if one else
              "SELECT * FROM tbl__ WHERE k1__ IN (SELECT old_id FROM resolve_map_tmp) "
              "OR k2__ IN (SELECT old_id FROM resolve_map_tmp)")
    affected = engine.fetch_arrow(_names(select, **names))
    if affected.num_rows == 0:
        return
    remap = dict(engine.fetchall("SELECT old_id, survivor_id FROM resolve_map_tmp"))
    merge_of = dict(engine.fetchall("SELECT old_id, merge_id FROM resolve_map_tmp"))
    existing = {tuple(r) for r in engine.fetchall(_names("SELECT k1__, k2__ FROM tbl__", **names))}
    moves, new_rows = [], []
    for row in affected.to_pylist():
        merge_id = next(merge_of[row[c]] for c in account_cols if row[c] in merge_of)
        moves.append((merge_id, table, row[keys[0]], row[keys[1]], "removed",
                      json.dumps(row, default=_json_default, ensure_ascii=False)))
        new = {**row, **{c: remap.get(row[c], row[c]) for c in account_cols}}
        key = (new[keys[0]], new[keys[1]])
        if key in existing or (table == "relationships" and key[0] == key[1]):
            continue
        existing.add(key)
        new_rows.append(new)
        moves.append((merge_id, table, key[0], key[1], "added", None))
    engine.execute(_names(select.replace("SELECT * FROM", "DELETE FROM"), **names))
    if new_rows:
        engine.insert_arrow(table, pa.Table.from_pylist(new_rows, schema=affected.schema))
    columns = ("merge_id", "table_name", "key1", "key2", "column_name", "row_json")
    engine.insert_arrow("merge_moves", pa.table(
        {n: pa.array(list(v), pa.int64() if n == "merge_id" else pa.string())
         for n, v in zip(columns, zip(*moves, strict=True), strict=True)}))
