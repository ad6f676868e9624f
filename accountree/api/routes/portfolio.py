"""Portfolio: the overview, key accounts, scores, campaigns and alerts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from accountree.api import writes
from accountree.api.deps import Ctx, WriterCtx
from accountree.api.reads import portfolio as reads
from accountree.api.reads.common import needs_build
from accountree.api.routes.params import PageNo, PageSize, Text

router = APIRouter(tags=["portfolio"])
Id = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/overview", summary="The portfolio at a glance")
def overview(ctx: Ctx) -> dict[str, Any]:
    """Groups by status, revenue by tier, grade distribution, open alerts, conflicts, last import."""
    return ctx.cached_json("overview", (), lambda: reads.overview(ctx.reader))


@router.get("/transitions", summary="Status changes between builds, counted by from → to")
def transitions(ctx: Ctx, since: date | None = None, until: date | None = None,
                groups: bool = False) -> list[dict[str, Any]]:
    """Account (or, with `groups`, group) status changes whose new status began in [since, until]."""
    return reads.transitions(ctx.reader, since, until, groups)


@router.get("/key-accounts", summary="Key accounts: KAM units (customer groups, designated entities)")
def key_accounts(ctx: Ctx, tier: Annotated[int | None, Query(ge=1, le=3, description="KAM tier")] = None,
                 page: PageNo = 1, page_size: PageSize = 50, owner: Text = None,
                 sort: Annotated[str | None, Query(max_length=40, description="Sort key: " + ", ".join(
                     reads.KEY_ACCOUNT_SORTS) + " (default potential_3y).")] = None,
                 desc: bool = True) -> dict[str, Any]:
    """`tier` is the KAM tier (key-account management), not the ICP tier of `/scores`."""
    result = reads.key_accounts(ctx.reader, tier, page, page_size, owner, sort, desc)
    return {**result.as_dict(), "sort": result.sort, "desc": result.desc}


@router.get("/scores", summary="ICP scores, grades and tiers")
def scores(ctx: Ctx, grade: Text = None, tier: Text = None,
           page: PageNo = 1, page_size: PageSize = 50) -> dict[str, Any]:
    return reads.scores(ctx.reader, grade, tier, page, page_size).as_dict()


@router.get("/accounts/{account_id}/score", summary="An account's score and its explanation", tags=["accounts"])
def account_score(account_id: Id, ctx: Ctx) -> dict[str, Any]:
    if not ctx.reader.has("scores"):
        raise needs_build("ICP scores")
    from accountree.api.reads.accounts import resolve_account
    from accountree.errors import NotFoundError

    account_id = resolve_account(ctx.reader, account_id)
    row = ctx.reader.fetchone_dict("SELECT * FROM scores WHERE account_id = ?", [account_id])
    if row is None:
        raise NotFoundError(f"account {account_id!r} has no score", hint="It was added after the last build: run it again.")
    explanation = None
    if ctx.reader.has("score_details"):
        explanation = ctx.reader.fetch_dicts("SELECT * FROM score_details WHERE account_id = ? ORDER BY pillar, criterion",
                                             [account_id])
    return {"score": row, "explanation": explanation}


@router.get("/campaigns", summary="Campaigns (a BU member sees their BU's)")
def campaigns(ctx: Ctx, page: PageNo = 1, page_size: PageSize = 50) -> dict[str, Any]:
    return reads.campaigns(ctx.reader, page, page_size).as_dict()


@router.get("/campaigns/{campaign_id}", summary="A campaign and its target accounts")
def campaign(campaign_id: Id, ctx: Ctx) -> dict[str, Any]:
    return reads.campaign(ctx.reader, campaign_id)


@router.get("/alerts", summary="KAM alerts not yet acknowledged, most important first")
def alerts(ctx: Ctx, account_id: Annotated[str | None, Query(max_length=200)] = None,
           limit: Annotated[int, Query(ge=1, le=500)] = 100, owner: Text = None,
           kind: Annotated[str | None, Query(max_length=40, description=", ".join(reads.ALERT_KINDS))] = None,
           severity: Annotated[str | None, Query(max_length=10, description="high, medium or low")] = None,
           group: Annotated[str | None, Query(max_length=200, description="a key account: group head or unit id")] = None,
           include_acknowledged: bool = False, page: PageNo = 1) -> dict[str, Any]:
    """Ranked by `priority` = severity weight × (1 + the key account's 3-year potential); names beside ids."""
    result = reads.alert_list(ctx.reader, owner=owner, kind=kind, severity=severity, group=group, account_id=account_id,
                              include_acknowledged=include_acknowledged, page=page, page_size=limit)
    return {**result.as_dict(), "items": result.items}


class Ack(BaseModel):
    note: str | None = Field(default=None, max_length=1000)


@router.post("/alerts/{alert_id}/ack", summary="Acknowledge an alert")
def ack_alert(alert_id: Id, body: Ack, ctx: WriterCtx) -> dict[str, Any]:
    return writes.ack_alert(ctx, alert_id, body.note)
