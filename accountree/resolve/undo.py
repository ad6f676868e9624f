"""Undoing a merge from its before-images (`merges`, `merge_moves`).

The merged record comes back with its own id and data; what moved to the survivor moves back;
rows removed because the survivor already had them come back; the alias goes; survivor fields
that were filled from the merged record are emptied again (when nobody changed them since). The
pair is then marked `rejected`, so the next `accountree resolve --auto` does not merge it again.
A merge whose survivor was itself merged away later is undone after that later merge.
"""

from __future__ import annotations

import json
from typing import Any

from sqlglot import exp

from accountree.errors import ConfigError, NotFoundError
from accountree.resolve.merge import MOVED, REKEYED, _names, _now
from accountree.store import Workspace, current_user


def _insert_row(ws: Workspace, table: str, row: dict[str, Any]) -> None:
    columns = [c for c in ws.engine.table_columns(table) if c in row]
    insert = exp.insert(
        exp.Values(expressions=[exp.tuple_(*[exp.Placeholder() for _ in columns])]),
        exp.Schema(this=exp.table_(table, quoted=True), expressions=[exp.to_identifier(c, quoted=True) for c in columns]),
    )
    ws.engine.execute(insert, [row[c] for c in columns])


def undo_merge(ws: Workspace, merge_id: int, user: str | None = None) -> dict[str, Any]:
    engine, user = ws.engine, user or current_user()
    found = engine.fetch_dicts("SELECT * FROM merges WHERE merge_id = ?", [merge_id])
    if not found:
        raise NotFoundError(f"no merge #{merge_id}", hint="List merges with `accountree export merges`.")
    merge = found[0]
    survivor, merged = merge["survivor_id"], merge["merged_id"]
    if merge["undone_at"] is not None:
        raise ConfigError(f"merge #{merge_id} was already undone on {merge['undone_at']} by {merge['undone_by']}")
    if not engine.scalar("SELECT count(*) FROM accounts WHERE account_id = ?", [survivor]):
        later = engine.scalar("SELECT max(merge_id) FROM merges WHERE merged_id = ? AND undone_at IS NULL", [survivor])
        raise ConfigError(f"the survivor {survivor} of merge #{merge_id} was merged away since (merge #{later})",
                          hint=f"Undo merge #{later} first.")
    if engine.scalar("SELECT count(*) FROM accounts WHERE account_id = ?", [merged]):
        raise ConfigError(f"account {merged} exists again (re-created since the merge); nothing to restore")
    before = json.loads(merge["before_merged"])
    filled = json.loads(merge["filled_columns"] or "[]")
    with engine.transaction():
        _insert_row(ws, "accounts", before)
        for table, key, column in MOVED:
            engine.execute(_names(
                "UPDATE tbl__ SET col__ = ? WHERE key__ IN (SELECT key1 FROM merge_moves WHERE merge_id = ? "
                "AND table_name = ? AND column_name = ?)", tbl__=table, key__=key, col__=column),
                [merged, merge_id, table, column])
        for table, keys in REKEYED:
            moves = engine.fetchall("SELECT key1, key2, column_name, row_json FROM merge_moves WHERE merge_id = ? "
                                    "AND table_name = ? ORDER BY column_name", [merge_id, table])
            for key1, key2, kind, _ in moves:
                if kind == "added":
                    engine.execute(_names("DELETE FROM tbl__ WHERE k1__ = ? AND k2__ = ?", tbl__=table,
                                          k1__=keys[0], k2__=keys[1]), [key1, key2])
            for _, _, kind, row_json in moves:
                if kind == "removed":
                    _insert_row(ws, table, json.loads(row_json))
        engine.execute("DELETE FROM account_aliases WHERE old_id = ?", [merged])
        engine.execute("UPDATE account_aliases SET survivor_id = ? WHERE old_id IN (SELECT key1 FROM merge_moves "
                       "WHERE merge_id = ? AND table_name = 'account_aliases')", [merged, merge_id])
        current = engine.fetch_dicts("SELECT * FROM accounts WHERE account_id = ?", [survivor])[0]
        emptied = [c for c in filled if c in current and _same(current[c], before.get(c))]
        for col in emptied:
            engine.execute(_names("UPDATE accounts SET col__ = NULL WHERE account_id = ?", col__=col), [survivor])
        now = _now()
        engine.execute("UPDATE merges SET undone_at = ?, undone_by = ? WHERE merge_id = ?", [now, user, merge_id])
        engine.execute(
            "UPDATE duplicate_candidates SET status = 'rejected', decided_by = ?, decided_at = ? "
            "WHERE status = 'merged' AND (account_id_l = ? OR account_id_r = ?)", [user, now, merged, merged])
    return {"merge_id": merge_id, "restored": merged, "survivor_id": survivor, "emptied": emptied}


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return str(a.isoformat() if hasattr(a, "isoformat") else a) == str(b)
