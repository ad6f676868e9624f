"""Reads served from the build's read model (`accountree.api.readmodel`) when it matches the workspace.

The account 360 is three look-ups: the shared sections, stored as ready JSON and sent as they
are; the caller's BU rows of `api_account_records` (stakeholders, campaigns, alerts); and the
account's deals, activities, MEDDIC, shared contacts and score details, typed rows of the list
tables rendered to JSON by one query (`readmodel.list_sql`). The last two are read through the `ScopedReader`, which filters
those tables by seller BU like any BU-owned table. Rows of several BUs (corporate roles) are
merged in the live queries' order and limits. Tree nodes come from `api_tree_nodes`.
"""

from __future__ import annotations

import json
from typing import Any

from accountree.api.access import ScopedReader
from accountree.api.readmodel import LISTS, SCORE_DETAILS, list_sql, unavailable
from accountree.api.server import to_json_bytes
from accountree.errors import NotFoundError

LIMITS = {"deals": 200, "stakeholders": 500, "activities": 50, "campaigns": None, "meddic": 20, "alerts": 50}


def _sorted(rows: list[dict[str, Any]], desc: str | None, *asc: str) -> list[dict[str, Any]]:
    """SQL order `desc DESC NULLS LAST, asc…` (NULLs last) with Python's stable sorts."""
    rows = sorted(rows, key=lambda x: tuple((x.get(f) is None, x.get(f) if x.get(f) is not None else "") for f in asc))
    if desc is None:
        return rows
    have = [x for x in rows if x.get(desc) is not None]
    have.sort(key=lambda x: x[desc], reverse=True)  # stable with reverse too
    return have + [x for x in rows if x.get(desc) is None]


def _merge(kind: str, lists: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    lists = [rows for rows in lists if rows]
    if len(lists) <= 1:  # one source: already in order and within the limit
        return lists[0] if lists else []
    rows = [r for rows in lists for r in rows]
    if kind == "deals":
        rows = _sorted(rows, "close_date", "deal_id")
    elif kind == "activities":
        rows = _sorted(rows, "date", "activity_id")
    elif kind == "campaigns":
        rows = _sorted(rows, "start_date", "campaign_id")
    elif kind == "meddic":
        rows = _sorted(rows, "amount_rc", "deal_id")
    elif kind == "alerts":
        rows = _sorted(rows, "created_at", "alert_id")
    else:  # stakeholders: people in place first, then by name
        rows = sorted(_sorted(rows, None, "name", "contact_id"), key=lambda x: x.get("end_date") is not None)
    limit = LIMITS[kind]
    return rows[:limit] if limit else rows


def _lists(r: ScopedReader, account_id: str) -> tuple[dict[str, list[list[dict[str, Any]]]], dict[str, list[str]]]:
    """The account's rows of the typed list tables (`readmodel.LISTS`), rendered to JSON by one
    query: deals, activities and MEDDIC per BU the caller may see (BU-owned tables, scoped like
    `deals`), the shared contacts, and the score details as JSON texts (sent as they are)."""
    tables = tuple((name, r.columns(table)) for name, (table, _, _) in LISTS.items() if r.has(table))
    lists: dict[str, list[list[dict[str, Any]]]] = {name: [] for name in LISTS}
    texts: dict[str, list[str]] = {"score_details": []}
    if tables:
        last: tuple[str, str | None] | None = None
        for kind, bu, text, *_ in r.fetchall(list_sql(tables), [account_id] * len(tables)):
            if kind in texts:
                texts[kind].append(text)
                continue
            if (kind, bu) != last:
                lists[kind].append([])
                last = (kind, bu)
            rows, limit = lists[kind][-1], LISTS[kind][1]
            if limit is None or len(rows) < limit:
                rows.append(json.loads(text))
    return lists, texts


def _shared_row(r: ScopedReader, account_id: str) -> tuple[str, str, str, str] | None:
    rows = r.fetchall("SELECT account_id, body, body_tail, bu_counts FROM api_account_360 WHERE account_id = ?",
                      [account_id])
    return rows[0] if rows else None


def account_360_json(r: ScopedReader, account_id: str) -> bytes:
    """The account 360 as JSON bytes: the same document as `reads.accounts.account_360`."""
    from accountree.api.reads.accounts import resolve_account

    row = _shared_row(r, account_id)
    if row is None:
        row = _shared_row(r, resolve_account(r, account_id))  # a merged id: its survivor, or NotFound
        if row is None:
            raise NotFoundError(f"no account {account_id!r}", hint="Search accounts by name with /api/v1/search?q=…")
    account_id, body, tail, bu_counts = row
    # BU-owned: the ScopedReader keeps the rows of the caller's BU (all rows for corporate roles).
    records = [json.loads(text) for _, text in r.fetchall(
        "SELECT seller_bu, body FROM api_account_records WHERE account_id = ? ORDER BY seller_bu", [account_id])]
    lists, texts = _lists(r, account_id)
    # the shared sections, with the score details in their place (not BU-owned: one list, or none)
    details = ('{"available":true,"data":[' + ",".join(texts["score_details"]) + "]}" if r.has(SCORE_DETAILS)
               else unavailable("score_details"))
    shared = body + ',"score_details":' + details + "," + tail
    stakeholders = _merge("stakeholders", lists["contacts"] + [x["stakeholders"] for x in records])
    bosses = {b["contact_id"]: b["reports_to"] for x in records for b in x.get("bosses", [])}
    if bosses:  # managers private to a BU the caller reads: named again (see readmodel._boss_rows)
        stakeholders = [{**p, "reports_to": bosses[p["contact_id"]]} if p["contact_id"] in bosses else p
                        for p in stakeholders]
    private = {
        "meddic": {"available": r.has("kam_meddic"), "data": _merge("meddic", lists["meddic"])},
        "deals": {"available": True, "data": _merge("deals", lists["deals"])},
        "stakeholders": {"available": True, "data": stakeholders},
        "activities": {"available": True, "data": _merge("activities", lists["activities"])},
        "campaigns": {"available": True, "data": _merge("campaigns", [x["campaigns"] for x in records])},
        "other_bus": r.other_bu_activity(account_id, json.loads(bu_counts)) if r.principal.scope_bu is not None else [],
    }
    bu_alerts = [x["alerts"] for x in records if x.get("alerts")]
    if bu_alerts:  # alerts about the caller's BU's people join the shared ones (rare: parsed only then)
        document = json.loads("{" + shared + "}")
        document["alerts"]["data"] = _merge("alerts", [document["alerts"]["data"], *bu_alerts])
        return to_json_bytes({**document, **private})
    return b"{" + shared.encode() + b"," + to_json_bytes(private)[1:]


# -- tree nodes ----------------------------------------------------------------------------------
def _nodes(texts: list[str]) -> list[dict[str, Any]]:
    return json.loads("[" + ",".join(texts) + "]") if texts else []


def node(r: ScopedReader, account_id: str) -> tuple[dict[str, Any], str | None]:
    """A tree node and its group head."""
    rows = r.fetchall("SELECT node, group_head_id FROM api_tree_nodes WHERE account_id = ?", [account_id])
    if not rows:
        raise NotFoundError(f"{account_id!r} is not in the hierarchy", hint="Run `accountree build` after importing it.")
    return json.loads(rows[0][0]), rows[0][1]


def children(r: ScopedReader, parents: list[str]) -> list[dict[str, Any]]:
    """The first `MAX_CHILDREN` children of each parent (`listed_under`), biggest sub-trees first."""
    marks = ", ".join("?" * len(parents))
    rows = r.fetchall(f"SELECT node, rn, siblings FROM api_tree_nodes WHERE listed_under IN ({marks}) "  # noqa: S608
                      "ORDER BY listed_under, rn", parents)
    out = _nodes([n for n, _, _ in rows])
    for row, (_, rn, siblings) in zip(out, rows, strict=True):
        row["rn"], row["siblings"] = rn, siblings
    return out


def shared_jvs(r: ScopedReader, parents: list[str]) -> list[dict[str, Any]]:
    marks = ", ".join("?" * len(parents))
    rows = r.fetchall(f"SELECT shown_under, node FROM api_tree_jvs WHERE shown_under IN ({marks}) "  # noqa: S608
                      "ORDER BY shown_under, account_id LIMIT 200", parents)
    out = _nodes([n for _, n in rows])
    for row, (under, _) in zip(out, rows, strict=True):
        row["shown_under"], row["shared"], row["descendants"] = under, True, 0
    return out


def parent_of(r: ScopedReader, account_id: str) -> str | None:
    rows = r.fetchall("SELECT parent_id FROM api_tree_nodes WHERE account_id = ?", [account_id])
    return rows[0][0] if rows else None
