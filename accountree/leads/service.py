"""Lead services for the CLI, the API and the dashboard: read matches, the review list, routes;
record a review decision (remembered: `match` applies it on every run)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from accountree.errors import ConfigError, NotFoundError
from accountree.leads.exports import MATCH_COLUMNS, MATCH_HINT, ROUTING_COLUMNS
from accountree.leads.match import match
from accountree.store import Workspace, current_user

DECISIONS = ("accept", "reject")
_MATCH_SELECT = "SELECT " + ", ".join(f"m.{c}" for c in MATCH_COLUMNS) + " FROM lead_matches m"  # noqa: S608 - fixed names


def _need(ws: Workspace, table: str = "lead_matches", hint: str = MATCH_HINT) -> None:
    if not ws.engine.table_exists(table):
        raise NotFoundError(f"no {table} yet", hint=hint)


def matches(ws: Workspace, review_only: bool = False, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    _need(ws)
    where = " WHERE m.review" if review_only else ""
    return ws.engine.fetch_dicts(f"{_MATCH_SELECT}{where} ORDER BY m.lead_id LIMIT ? OFFSET ?", [limit, offset])


def lead(ws: Workspace, lead_id: str) -> dict[str, Any]:
    """One lead: its row, its match, its routes and its review decisions."""
    _need(ws)
    row = ws.engine.fetch_dicts("SELECT lead_id, name, email, company, domain, country, seller_bu, source, created_at "
                                "FROM leads WHERE lead_id = ?", [lead_id])
    if not row:
        raise NotFoundError(f"no lead {lead_id!r}", hint="`accountree export lead_matches` lists the leads.")
    found = ws.engine.fetch_dicts(f"{_MATCH_SELECT} WHERE m.lead_id = ?", [lead_id])
    sql = "SELECT " + ", ".join(ROUTING_COLUMNS) + " FROM lead_routing WHERE lead_id = ? ORDER BY seller_bu"  # noqa: S608
    routes = ws.engine.fetch_dicts(sql, [lead_id])
    decisions = ws.engine.fetch_dicts("SELECT account_id, decision, decided_by, decided_at FROM lead_match_decisions "
                                      "WHERE lead_id = ? ORDER BY decided_at", [lead_id])
    return {**row[0], "match": found[0] if found else None, "routes": routes, "decisions": decisions}


def decide(ws: Workspace, lead_id: str, account_id: str, decision: str, user: str | None = None,
           rematch: bool = True) -> dict[str, Any]:
    """Accept (this lead is this account) or reject (never this account) a match; then re-match."""
    if decision not in DECISIONS:
        raise ConfigError(f"decision must be accept or reject, not {decision!r}", hint="Use --accept or --reject.")
    e = ws.engine
    if not e.scalar("SELECT count(*) FROM leads WHERE lead_id = ?", [lead_id]):
        raise NotFoundError(f"no lead {lead_id!r}", hint="Check the lead id.")
    if not e.scalar("SELECT count(*) FROM accounts WHERE account_id = ?", [account_id]):
        raise NotFoundError(f"no account {account_id!r}", hint="Check the account id.")
    with e.transaction():
        if decision == "accept":  # one accepted account per lead
            e.execute("DELETE FROM lead_match_decisions WHERE lead_id = ? AND decision = 'accept'", [lead_id])
        e.execute("DELETE FROM lead_match_decisions WHERE lead_id = ? AND account_id = ?", [lead_id, account_id])
        e.execute("INSERT INTO lead_match_decisions VALUES (?, ?, ?, ?, ?)",
                  [lead_id, account_id, decision, user or current_user(), datetime.now(UTC).replace(tzinfo=None)])
        summary = match(ws) if rematch else {}
    return {"lead_id": lead_id, "account_id": account_id, "decision": decision, "match": summary}


def routes(ws: Workspace, seller_bu: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    _need(ws, "lead_routing", "Run `accountree leads route`.")
    cols = ", ".join(ROUTING_COLUMNS)
    if seller_bu is None:
        sql = f"SELECT {cols} FROM lead_routing ORDER BY routed_at DESC, lead_id, seller_bu LIMIT ? OFFSET ?"  # noqa: S608
        return ws.engine.fetch_dicts(sql, [limit, offset])
    sql = f"SELECT {cols} FROM lead_routing WHERE seller_bu = ? ORDER BY routed_at DESC, lead_id LIMIT ? OFFSET ?"  # noqa: S608
    return ws.engine.fetch_dicts(sql, [seller_bu, limit, offset])
