"""Inbound leads: the inbox with each match's evidence, the review list (accept / reject,
remembered), the routing log, new-account proposals. Every read goes through the scoped reader:
a BU member sees the leads that came in through their BU (and their matches), the routes to their
BU; the proposals, which mix every BU's leads, only users who see every BU."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from accountree.api.access import ScopedReader
from accountree.api.deps import Ctx, WriterCtx
from accountree.api.reads.common import FeatureUnavailableError, Page
from accountree.api.routes.params import PageNo, PageSize
from accountree.errors import NotFoundError

router = APIRouter(tags=["leads"])
MATCH_HINT = "Run `accountree leads match` (or `accountree build`) and reload."
LeadId = Annotated[str, Path(min_length=1, max_length=200)]

INBOX = """
SELECT m.lead_id, l.name, l.email, l.company, l.country, l.seller_bu, l.source, l.created_at, m.account_id,
       a.name AS account_name, m.method, m.confidence, m.evidence, m.review, m.candidates
FROM lead_matches m JOIN leads l ON l.lead_id = m.lead_id LEFT JOIN accounts a ON a.account_id = m.account_id
WHERE (? OR m.review)
ORDER BY l.created_at DESC NULLS LAST, m.lead_id LIMIT ? OFFSET ?
"""
INBOX_COUNT = """
SELECT count(*) FROM lead_matches m JOIN leads l ON l.lead_id = m.lead_id WHERE (? OR m.review)
"""
ROUTES = """
SELECT lead_id, seller_bu, owner, rule, reason, routed_at, sla_due_at, coalesce(sla_due_at < ?, FALSE) AS sla_overdue, pool
FROM lead_routing ORDER BY routed_at DESC, lead_id, seller_bu LIMIT ? OFFSET ?
"""
PROPOSALS = """
SELECT domain, proposed_name, country, leads, lead_ids, companies_typed FROM new_account_proposals
ORDER BY leads DESC, domain LIMIT ? OFFSET ?
"""


def _need(r: ScopedReader, table: str, hint: str = MATCH_HINT) -> None:
    if not r.has(table):
        raise FeatureUnavailableError(f"{table} has not been computed in this workspace yet", hint=hint)


def inbox(r: ScopedReader, review_only: bool, page: int, page_size: int) -> Page:
    _need(r, "lead_matches")
    everything = not review_only
    total = int(r.scalar(INBOX_COUNT, [everything]) or 0)
    rows = r.fetch_dicts(INBOX, [everything, page_size, (page - 1) * page_size])
    return Page(rows, total, page, page_size)


def routes(r: ScopedReader, page: int, page_size: int) -> Page:
    _need(r, "lead_routing", "Run `accountree leads route` and reload.")
    total = int(r.scalar("SELECT count(*) FROM lead_routing") or 0)
    now = datetime.now(UTC).replace(tzinfo=None)  # SLA times are stored in UTC
    return Page(r.fetch_dicts(ROUTES, [now, page_size, (page - 1) * page_size]), total, page, page_size)


def proposals(r: ScopedReader, page: int, page_size: int) -> Page:
    _need(r, "new_account_proposals")
    total = int(r.scalar("SELECT count(*) FROM new_account_proposals") or 0)
    return Page(r.fetch_dicts(PROPOSALS, [page_size, (page - 1) * page_size]), total, page, page_size)


def lead(r: ScopedReader, lead_id: str) -> dict[str, Any]:
    _need(r, "lead_matches")
    row = r.fetchone_dict(INBOX.replace("WHERE (? OR m.review)", "WHERE m.lead_id = ?"), [lead_id, 1, 0])
    if row is None:
        raise NotFoundError(f"no lead {lead_id!r}")
    row["routes"] = r.fetch_dicts("SELECT seller_bu, owner, rule, reason, routed_at, sla_due_at FROM lead_routing "
                                  "WHERE lead_id = ? ORDER BY seller_bu", [lead_id]) if r.has("lead_routing") else []
    row["decisions"] = r.fetch_dicts("SELECT account_id, decision, decided_by, decided_at FROM lead_match_decisions "
                                     "WHERE lead_id = ? ORDER BY decided_at", [lead_id])
    return row


def decide(ctx: Any, lead_id: str, account_id: str, decision: str) -> dict[str, Any]:
    """Accept or reject a lead's account (the caller must see the lead); every lead is matched again."""
    from accountree.leads.service import decide as decide_match

    ctx.principal.require_write()
    if not ctx.reader.scalar("SELECT count(*) FROM leads WHERE lead_id = ?", [lead_id]):
        raise NotFoundError(f"no lead {lead_id!r}")
    # a decision re-matches every lead: decisions (every server process) run one at a time
    with ctx.server.records_locked(["leads:match"], ctx.engine), ctx.engine.transaction():
        result = decide_match(ctx.ws, lead_id, account_id, decision, user=ctx.principal.username)
        ctx.audit(f"lead_match_{decision}", "lead", lead_id, {"account_id": account_id})
    ctx.server.changed()
    return {"lead_id": lead_id, "account_id": account_id, "decision": decision, "match": result["match"]}


@router.get("/leads", summary="Lead inbox: each lead with its matched account, method, confidence and evidence")
def list_leads(ctx: Ctx, review: Annotated[bool, Query(description="Only the leads to review.")] = False,
               page: PageNo = 1, page_size: PageSize = 50) -> dict[str, Any]:
    return inbox(ctx.reader, review, page, page_size).as_dict()


@router.get("/leads/routing", summary="Routing log: BU, owner, rule, reason and SLA of each route")
def list_routes(ctx: Ctx, page: PageNo = 1, page_size: PageSize = 50) -> dict[str, Any]:
    return routes(ctx.reader, page, page_size).as_dict()


@router.get("/leads/proposals", summary="Unmatched corporate domains proposed as new accounts")
def list_proposals(ctx: Ctx, page: PageNo = 1, page_size: PageSize = 50) -> dict[str, Any]:
    return proposals(ctx.reader, page, page_size).as_dict()


@router.get("/leads/{lead_id}", summary="One lead: match, evidence, routes, review decisions")
def get_lead(lead_id: LeadId, ctx: Ctx) -> dict[str, Any]:
    return lead(ctx.reader, lead_id)


class LeadDecision(BaseModel):
    account_id: str
    decision: Literal["accept", "reject"]


@router.post("/leads/{lead_id}/decision", summary="Accept or reject a lead's account (remembered)")
def post_decision(lead_id: LeadId, body: LeadDecision, ctx: WriterCtx) -> dict[str, Any]:
    return decide(ctx, lead_id, body.account_id, body.decision)
