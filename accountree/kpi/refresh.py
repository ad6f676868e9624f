"""Incremental refresh: the full build's statements, run on small copies of the scope's rows.

Scope (`find_scope`): the accounts touched and their subtrees (`accounts`), the group heads above
them now and at the last build (`groups`), and those groups' members (`ingroups`).

Why copies: DuckDB reads a whole table for a filter unless an index answers it, which it does only
when an id filter is the scan's only filter, and a join reads its other side whole — so the
build's statements, narrowed by `IN` filters, still scanned millions of rows each (~1 s a
refresh at 1M accounts). A refresh therefore:

1. makes sure every table it reads or writes by id has an index on that id (`LOOKUPS`). The build
   replaces its tables without them (writing a table with its indexes is slower) and creates them
   once it has committed (`prepare_refreshes`, ~3 s at 1M accounts, ~6 s the first time, when the
   deals have none yet), so no refresh waits for them; a refresh still creates any that is missing
   (a build interrupted after its commit, a `build --stage` that skipped the KPIs). On PostgreSQL
   they are ordinary b-trees that also help the API;
2. copies the rows it needs into temporary tables, each by index lookups (`WHERE id IN (…)`,
   ids as parameters, in batches);
3. runs each step's statement on the copies (table names swapped, scope markers reading small id
   tables), stores the new rows in a temporary table, deletes the step's rows from the real table
   by id and inserts the new ones; the copy later steps read is the new rows plus the other rows
   they need, again by id, made just before the first step that reads it. The cross-sell step is
   skipped when the scope's new rows equal its old ones in everything cross-sell reads
   (`_CROSS_SELL_INPUTS`: product sets, group, parent, size, pipeline, grades) — most edits of a
   deal or an activity: its rows stand as they are;
4. records status history the same way: copy the scope's history, apply, replace it by id —
   unless no status changed (`_HISTORY_CHANGES`, asked of the history by index lookups), the
   common case.

Same statements as the full build, so the same numbers (tested on both engines).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from accountree.hierarchy import worktables
from accountree.kpi import bits
from accountree.kpi.history import HISTORY, record_statuses
from accountree.kpi.scope import Scope, scoped, used_params
from accountree.store import Workspace

PREFIX = "kpi_r_"  # temporary tables of a refresh
IDS = PREFIX + "ids_"  # id tables: kpi_r_ids_accounts, …_groups, …_ingroups
BATCH = 2048  # ids per lookup statement (PostgreSQL takes at most 65 535 parameters)

# (table, column) pairs a refresh looks up by id
LOOKUPS = [
    ("deals", "account_id"), ("activities", "account_id"), ("hierarchy", "account_id"),
    ("hierarchy", "group_head_id"), ("hierarchy_closure", "ancestor_id"), ("hierarchy_closure", "descendant_id"),
    ("kpi_account_facts", "account_id"), ("account_kpis", "account_id"),
    ("group_kpis", "account_id"), ("group_kpis", "group_head_id"), ("kpi_cross_sell", "group_id"),
    ("scores", "account_id"), (HISTORY, "account_id"),
]
# the input tables a step reads, swapped for their copies
INPUTS = ("deals", "activities", "accounts", "hierarchy", "hierarchy_closure", "scores",
          "kpi_account_facts", "account_kpis")
_TABLE_REF = re.compile(r"\b(FROM|JOIN)\s+(" + "|".join(INPUTS) + r")\b")


DEALS_INDEX = "kpi_deals_account_id"  # the name earlier versions gave it


def index_name(table: str, column: str) -> str:
    return DEALS_INDEX if (table, column) == ("deals", "account_id") else f"kpi_ix_{table}_{column}"


def ensure_indexes(ws: Workspace, tables: dict[str, str]) -> int:
    """Creates the lookup indexes a build dropped (one catalog query when they are all there) and
    returns how many it created. On PostgreSQL the hierarchy stage indexes its own tables
    (`worktables.index_name`): those serve."""
    existing = ws.engine.index_names()
    created = 0
    for table, column in LOOKUPS:
        if tables.get(table) == "BASE TABLE" and not {index_name(table, column),
                                                      worktables.index_name(table, column)} & existing:
            ws.engine.create_index(table, column, index_name(table, column))
            created += 1
    return created


def drop_history_index(ws: Workspace) -> None:
    """A full build writes a status row per account: cheaper without the index, rebuilt on demand."""
    ws.engine.drop_index(index_name(HISTORY, "account_id"))


def _batches(ids: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(ids), BATCH):
        chunk = ids[i:i + BATCH]
        # padded to a power of two (repeating the last id): a few statement texts, cached
        yield chunk + chunk[-1:] * ((1 << (len(chunk) - 1).bit_length()) - len(chunk))


def _where_in(column: str, ids: Iterable[str], prefix: str = "id") -> Iterable[tuple[str, dict[str, str]]]:
    """`column IN ($id_0_0, …)` and its parameters, one per batch of the distinct ids. Names carry
    the batch number, and `prefix` keeps several such filters apart in one statement."""
    for b, chunk in enumerate(_batches(sorted(set(ids)))):
        names = {f"{prefix}_{b}_{i}": v for i, v in enumerate(chunk)}
        yield f"{column} IN ({', '.join('$' + n for n in names)})", names


def _create(ws: Workspace, table: str, select: str, params: dict | None = None) -> None:
    """A temporary table gone with the transaction where the engine can (`drop_at_commit`),
    replaced by the next refresh elsewhere (a few rows): no statements spent dropping them."""
    ws.engine.materialize(table, select, params=params, temporary=True, until_commit=True)


# the deals columns the KPI statements read (a deal row is wide: attributes, hashes, …)
DEAL_COLUMNS = "account_id, product, seller_bu, stage, close_date, amount_rc, gross_margin_rc"
# The columns the steps read of the wide tables: their copies hold these only (an index lookup
# fetches every column of a row: ~1 ms a row of the 49 of account_kpis at 1M accounts, ~0.3 ms of 18).
# A step that reads another column fails on its copy: the refresh tests run every step.
COPY_COLUMNS = {
    "account_kpis": "account_id, group_head_id, parent_id, relation, status_code, buying, employees, revenue_cy, "
                    "revenue_py1, revenue_py2, revenue_py3, margin_cy, margin_py1, margin_py2, margin_py3, "
                    "revenue_ttm, open_pipeline, open_deals",
    "hierarchy": "account_id, name, parent_id, group_head_id, level, relation",
    "accounts": "account_id, name, industry, employees, annual_revenue_rc, attributes",
    "activities": 'account_id, "date", weight',
}


def copy_rows(ws: Workspace, source: str, column: str, ids: Iterable[str], target: str, columns: str = "*",
              plus: str | None = None) -> None:
    """A temporary `target` with the rows of `source` whose `column` is in `ids` (index lookups),
    and the rows of the table `plus` when given (same columns), in as few statements as possible."""
    batches = list(_where_in(column, ids))
    if not batches:
        _create(ws, target, f"SELECT {columns} FROM {plus or source} WHERE {'TRUE' if plus else 'FALSE'}")  # noqa: S608
        return
    for i, (where, params) in enumerate(batches):
        select = f"SELECT {columns} FROM {source} WHERE {where}"  # noqa: S608 - fixed names
        if plus and i == len(batches) - 1:
            select += f" UNION ALL SELECT {columns} FROM {plus}"  # noqa: S608 - fixed names
        if i == 0:
            _create(ws, target, select, params)
        else:
            ws.engine.execute(f"INSERT INTO {target} {select}", params)


def delete_rows(ws: Workspace, table: str, column: str, ids: Iterable[str]) -> None:
    for where, params in _where_in(column, ids):
        ws.engine.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608 - fixed names


def _id_table(ws: Workspace, kind: str, ids: list[str]) -> None:
    """One statement: the ids travel as one array parameter."""
    _create(ws, IDS + kind, "SELECT unnest(CAST($ids AS VARCHAR[])) AS id", {"ids": sorted(set(ids))})


def _lookup(ws: Workspace, parts: list[tuple[str, str, str, Iterable[str]]]) -> set[str]:
    """The non-null `column` of the rows of `table` whose `key` is in `ids`, for every
    (table, column, key, ids) of `parts`, in one statement per batch: a UNION ALL of lookups,
    each a single id filter an index answers."""
    selects: list[str] = []
    params: dict[str, str] = {}
    out: set[str] = set()

    def flush() -> None:
        if selects:
            rows = ws.engine.fetchall(" UNION ALL ".join(selects), dict(params))
            out.update(r[0] for r in rows if r[0] is not None)
            selects.clear()
            params.clear()

    for n, (table, column, key, ids) in enumerate(parts):
        for where, names in _where_in(key, ids, prefix=f"p{n}"):
            if len(params) + len(names) > BATCH * 2:
                flush()
            selects.append(f"SELECT {column} FROM {table} WHERE {where}")  # noqa: S608 - fixed names
            params.update(names)
    flush()
    return out


def _ids(ws: Workspace, table: str, column: str, key: str, ids: Iterable[str]) -> set[str]:
    return _lookup(ws, [(table, column, key, ids)])


def known_ids(ws: Workspace, ids: Iterable[str]) -> set[str]:
    """Those of `ids` that are an account, or were one at the last build (`account_kpis`)."""
    ids = list(ids)
    return _lookup(ws, [("accounts", "account_id", "account_id", ids), ("account_kpis", "account_id", "account_id", ids)])


def find_scope(ws: Workspace, account_ids: Iterable[str]) -> Scope:
    """Every lookup is one id filter alone, so an index answers it."""
    given = set(account_ids)
    # the touched accounts' subtrees: a moved subsidiary takes its descendants along
    accounts = given | _ids(ws, "hierarchy_closure", "descendant_id", "ancestor_id", given)
    # groups to recompute: the group of every ancestor now (a JV sits under two groups) and the
    # group each account belonged to at the last build (it may have moved out of it)
    ancestors = _ids(ws, "hierarchy_closure", "ancestor_id", "descendant_id", accounts)
    groups = _lookup(ws, [("hierarchy", "group_head_id", "account_id", ancestors | accounts),
                          ("account_kpis", "group_head_id", "account_id", accounts),
                          ("group_kpis", "group_head_id", "account_id", accounts)])
    members = _ids(ws, "hierarchy", "account_id", "group_head_id", groups)
    return Scope(accounts=sorted(accounts), groups=sorted(groups), ingroups=sorted(members))


def _on_copies(sql: str) -> str:
    return _TABLE_REF.sub(lambda m: f"{m.group(1)} {PREFIX}{m.group(2)}", sql)


def words(ws: Workspace) -> tuple[int, int]:
    """Mask words of the product and BU sets."""
    products, bus = ws.engine.fetchall(
        f"SELECT ({bits.words_sql(bits.PRODUCTS)}), ({bits.words_sql(bits.BUS)})")[0]
    return int(products), int(bus)


def refresh_scope(ws: Workspace, scope: Scope, steps: list[tuple[str, str, str, str]], params: dict[str, Any],
                  tables: dict[str, str], steps_words: tuple[int, int]) -> bool:
    """Run the refresh for `scope` inside the caller's transaction. False (nothing written) when a
    new product or BU needs one more mask word: the caller then runs a full build."""
    accounts, groups, members = scope.accounts, scope.groups, scope.ingroups
    copy_rows(ws, "deals", "account_id", accounts, PREFIX + "deals", DEAL_COLUMNS)
    if ws.engine.scalar(bits.unknown_sql(PREFIX + "deals")):  # new products / BUs take the next free positions
        for kind in (bits.PRODUCTS, bits.BUS):
            ws.engine.execute(bits.append_sql(kind, PREFIX + "deals"))
        if words(ws) != steps_words:
            return False
    copy_rows(ws, "hierarchy_closure", "ancestor_id", members, PREFIX + "hierarchy_closure")
    pairs = ws.engine.fetchall(f"SELECT DISTINCT descendant_id, depth > 0 FROM {PREFIX}hierarchy_closure")  # noqa: S608
    descendants = {r[0] for r in pairs}
    # Steps whose rows are provably none are not run (their new rows: an empty table; the old rows are
    # still deleted): roll-ups need an ancestor with a descendant, cross-sell a group of two. Most
    # accounts of a CRM are standalone companies: their refresh skips both.
    empty: set[str] = set()
    if not any(r[1] for r in pairs):
        empty.add("group_kpis")
    if len(members) < 2:
        empty.add("kpi_cross_sell")
    # every account a step reads: the scope, its groups' members, and stakes (JVs) below them
    needed = sorted(set(accounts) | set(members) | descendants)
    for kind, ids in (("accounts", accounts), ("groups", groups), ("ingroups", members)):
        _id_table(ws, kind, ids)
    copy_rows(ws, "activities", "account_id", accounts, PREFIX + "activities", COPY_COLUMNS["activities"])
    copy_rows(ws, "accounts", "account_id", accounts, PREFIX + "accounts", COPY_COLUMNS["accounts"])
    copy_rows(ws, "hierarchy", "account_id", needed, PREFIX + "hierarchy", COPY_COLUMNS["hierarchy"])
    if "scores" in tables:
        copy_rows(ws, "scores", "account_id", members, PREFIX + "scores")
    fresh: dict[str, str] = {}
    pending: dict[str, str] = {}  # refreshed inputs whose copy for later steps is not made yet → their new rows
    rest = sorted(set(needed) - set(accounts))
    changed: dict[str, bool] = {}
    graded = any("JOIN scores sc" in query for table, query, _, _ in steps if table == "kpi_cross_sell")
    for table, query, kind, key in steps:
        if table == "kpi_cross_sell" and not (changed["kpi_account_facts"] or changed["account_kpis"]):
            continue  # its rows stand: nothing they are computed from changed (see _CROSS_SELL_INPUTS)
        sql = scoped(_on_copies(query.replace("DEALS_SOURCE", "deals")), IDS)
        for source in [t for t in pending if re.search(rf"\b(FROM|JOIN)\s+{PREFIX}{t}\b", sql)]:
            # the copy a step reads: the new rows and the others it needs
            copy_rows(ws, source, "account_id", rest, PREFIX + source, COPY_COLUMNS.get(source, "*"),
                      plus=pending.pop(source))
        new = f"{PREFIX}new_{table}"
        if table in empty:
            _create(ws, new, f"SELECT * FROM {table} WHERE FALSE")  # noqa: S608 - fixed names
        else:
            _create(ws, new, sql, used_params(sql, params))
        fresh[table] = new
        if table in _CROSS_SELL_INPUTS:  # before the old rows go
            changed[table] = "kpi_cross_sell" in empty or _changed(ws, table, new, scope, steps_words[0], graded)
        if table == "group_kpis":  # also rows of ancestors that left the refreshed groups
            delete_rows(ws, table, "account_id", members)
            delete_rows(ws, table, "group_head_id", groups)
        else:
            delete_rows(ws, table, key, getattr(scope, kind))
        if table not in empty:
            ws.engine.execute(f'INSERT INTO "{table}" SELECT * FROM {new}')  # noqa: S608 - fixed names
        if table in INPUTS:
            pending[table] = new
    history_ids = sorted(set(accounts) | set(members))
    batches = list(_where_in("account_id", history_ids))
    if len(batches) == 1:  # asked of the history by index lookups: no copy unless a status changed
        history, history_params = f"(SELECT * FROM {HISTORY} WHERE {batches[0][0]})", batches[0][1]  # noqa: S608
    else:
        copy_rows(ws, HISTORY, "account_id", history_ids, PREFIX + "history")
        history, history_params = PREFIX + "history", {}
    changes = _HISTORY_CHANGES.format(accounts=fresh["account_kpis"], groups=fresh["group_kpis"], history=history)
    if not ws.engine.scalar(changes, history_params):
        return True
    if len(batches) == 1:
        copy_rows(ws, HISTORY, "account_id", history_ids, PREFIX + "history")
    record_statuses(ws, params, history=PREFIX + "history",
                    tables={"account_kpis": fresh["account_kpis"], "group_kpis": fresh["group_kpis"]}, id_tables=IDS)
    delete_rows(ws, HISTORY, "account_id", history_ids)
    ws.engine.execute(f"INSERT INTO {HISTORY} SELECT * FROM {PREFIX}history")  # noqa: S608 - fixed names
    return True


# What the cross-sell rows of a group are computed from, per table a refresh rewrites before them:
# the members' product sets and, from their KPIs, group, parent, size and whether they have open
# deals (their status and pipeline amount are added on read, by the view). The refresh compares a
# scope's new rows with its old ones in these columns, and the cross-sell grades with the scores: when none differs — most edits of a
# deal (an amount, a lost deal) or of an activity — the group's cross-sell rows stand and the
# step is not run.
_CROSS_SELL_INPUTS = {
    "kpi_account_facts": ("owned", "bought"),  # mask words
    "account_kpis": ("group_head_id", "parent_id", "employees", "open_deals > 0"),  # pipeline: its factor only
}


def _changed(ws: Workspace, table: str, new: str, scope: Scope, product_words: int, graded: bool) -> bool:
    """Do the new rows of `table` differ from its old rows (not yet deleted) in what cross-sell
    reads? With the account KPIs, the grades on the groups' cross-sell rows are compared too."""
    batches = list(_where_in("account_id", scope.accounts))
    group_batches = list(_where_in("group_id", scope.groups, prefix="g"))
    if len(batches) != 1 or len(group_batches) > 1:
        return True  # a large scope: not worth proving
    where, params = batches[0]
    names = _CROSS_SELL_INPUTS[table]
    columns = ([f"{n}_{w}" for n in names for w in range(product_words)] if table == "kpi_account_facts"
               else list(names))
    differs = " OR ".join(f"(n.{c}) IS DISTINCT FROM (o.{c})" for c in columns)  # a column, or one compared
    # each lookup alone on its scan (a materialized CTE), so that an index answers it
    sql = f"""
    WITH o AS MATERIALIZED (SELECT * FROM {table} WHERE {where})
    SELECT EXISTS (SELECT 1 FROM {new} n FULL OUTER JOIN o ON o.account_id = n.account_id
                   WHERE n.account_id IS NULL OR o.account_id IS NULL OR {differs})"""  # noqa: S608 - fixed names
    if table == "account_kpis" and graded and group_batches:
        group_where, group_params = group_batches[0]
        params = {**params, **group_params}
        sql = sql.replace("SELECT EXISTS", f"""
    , x AS MATERIALIZED (SELECT account_id, icp_grade FROM kpi_cross_sell WHERE {group_where})
    SELECT EXISTS (SELECT 1 FROM x LEFT JOIN {PREFIX}scores sc ON sc.account_id = x.account_id
                   WHERE x.account_id IN (SELECT id FROM {IDS}accounts) AND x.icp_grade IS DISTINCT FROM sc.grade)
        OR EXISTS""", 1)  # noqa: S608 - fixed names
    return bool(ws.engine.scalar(sql, params))


# Does the refresh change the status history? Not when every recomputed status is the status of an
# open stay and every open stay in scope still has its status: then `record_statuses` would neither
# correct, close nor open a stay (most refreshes — a deal amount changes, not a status), and its
# statements are skipped.
_HISTORY_CHANGES = f"""
WITH current_statuses AS (
    SELECT 'account' AS scope, account_id, status FROM {{accounts}}
    UNION ALL SELECT 'group', account_id, group_status FROM {{groups}}
), stays AS MATERIALIZED (  -- the lookup alone: another filter on the scan would stop the index
    SELECT * FROM {{history}} h
), open_stays AS (
    SELECT scope, account_id, status FROM stays
    WHERE left_on IS NULL
      AND ((scope = 'account' AND account_id IN (SELECT id FROM {IDS}accounts))
           OR (scope = 'group' AND account_id IN (SELECT id FROM {IDS}ingroups)))
)
SELECT EXISTS (SELECT 1 FROM current_statuses k
               WHERE NOT EXISTS (SELECT 1 FROM open_stays o
                                 WHERE o.scope = k.scope AND o.account_id = k.account_id AND o.status = k.status))
    OR EXISTS (SELECT 1 FROM open_stays o
               WHERE NOT EXISTS (SELECT 1 FROM current_statuses k
                                 WHERE k.scope = o.scope AND k.account_id = o.account_id AND k.status = o.status))
"""  # noqa: S608 - fixed names
