"""Multi-BU ABM: classes and lead BU, conflicts and their states, the campaign calendar,
attribution, synergies. Reads go through the scoped reader: a BU member reads the shared ABM
picture and only their BU's private notes, plans and attribution rows; writes call the ABM
service functions with the caller, which refuse what their role and BU do not allow."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from accountree.api.deps import Ctx, WriterCtx
from accountree.api.reads.common import needs_build
from accountree.api.routes.params import PageNo, PageSize
from accountree.errors import NotFoundError, PermissionDeniedError

router = APIRouter(prefix="/abm", tags=["abm"])
Id = Annotated[str, Path(min_length=1, max_length=200)]
Opt = Annotated[str | None, Query(max_length=200)]


def _need(ctx: Ctx, table: str) -> None:
    if not ctx.reader.has(table):
        raise needs_build("ABM orchestration")


@router.get("/accounts", summary="Accounts and groups: priority class, lead BU, BUs active")
def accounts(ctx: Ctx, scope: Annotated[Literal["account", "group"] | None, Query()] = None,
             priority_class: Opt = None, bu: Opt = None, page: PageNo = 1, page_size: PageSize = 50) -> dict[str, Any]:
    _need(ctx, "abm_accounts")
    where = ("(CAST(? AS VARCHAR) IS NULL OR scope = ?) AND (CAST(? AS VARCHAR) IS NULL OR priority_class = ?) "
             "AND (CAST(? AS VARCHAR) IS NULL OR ',' || bus_active || ',' LIKE '%,' || ? || ',%')")
    params = [scope, scope, priority_class, priority_class, bu, bu]
    total = int(ctx.reader.scalar(f"SELECT count(*) FROM abm_accounts WHERE {where}", params) or 0)  # noqa: S608
    columns = "account_id, scope, name, lead_bu, lead_bu_source, priority_class, bus_active, reason"
    order = "ORDER BY scope DESC, bus_active_count DESC, account_id LIMIT ? OFFSET ?"
    items = ctx.reader.fetch_dicts(f"SELECT {columns} FROM abm_accounts WHERE {where} {order}",  # noqa: S608
                                   [*params, page_size, (page - 1) * page_size])
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get("/accounts/{account_id}", summary="One account's ABM view: class, lead BU, conflicts, team, plans")
def account(account_id: Id, ctx: Ctx) -> dict[str, Any]:
    _need(ctx, "abm_accounts")
    rows = ctx.reader.fetch_dicts("SELECT * FROM abm_accounts WHERE account_id = ? ORDER BY scope", [account_id])
    if not rows:
        raise NotFoundError(f"no account {account_id!r}")
    return {
        "scopes": rows,
        "conflicts": ctx.reader.fetch_dicts("SELECT * FROM abm_conflicts WHERE account_id = ? ORDER BY kind", [account_id]),
        "collisions": ctx.reader.fetch_dicts("SELECT * FROM abm_collisions WHERE account_id = ? ORDER BY first_date",
                                             [account_id]),
        "team": ctx.reader.fetch_dicts("SELECT account_id, member, role, member_bu AS seller_bu, source "
                                       "FROM abm_account_teams WHERE account_id = ? ORDER BY role", [account_id]),
        "plans": ctx.reader.fetch_dicts("SELECT * FROM abm_plans WHERE account_id = ? ORDER BY written_at", [account_id]),
        "decisions": ctx.reader.fetch_dicts("SELECT * FROM abm_lead_bu_decisions WHERE account_id = ? "
                                            "ORDER BY decided_at", [account_id]),
        "other_bus": ctx.reader.other_bu_activity(account_id),
    }


@router.get("/conflicts", summary="BU conflicts and their escalation state")
def conflicts(ctx: Ctx, state: Annotated[Literal["open", "arbitrated", "resolved"] | None, Query()] = None,
              kind: Opt = None, bu: Opt = None, account_id: Opt = None, page: PageNo = 1,
              page_size: PageSize = 50) -> dict[str, Any]:
    _need(ctx, "abm_conflicts")
    if not ctx.principal.sees_all_bus:  # a BU member lists the conflicts it is party to (or leads)
        bu = ctx.principal.bu_id or ""
    where = ("(CAST(? AS VARCHAR) IS NULL OR state = ?) AND (CAST(? AS VARCHAR) IS NULL OR kind = ?) "
             "AND (CAST(? AS VARCHAR) IS NULL OR ',' || notify_bus || ',' LIKE '%,' || ? || ',%') "
             "AND (CAST(? AS VARCHAR) IS NULL OR account_id = ?)")
    params = [state, state, kind, kind, bu, bu, account_id, account_id]
    total = int(ctx.reader.scalar(f"SELECT count(*) FROM abm_conflicts WHERE {where}", params) or 0)  # noqa: S608
    items = ctx.reader.fetch_dicts(f"SELECT * FROM abm_conflicts WHERE {where} "  # noqa: S608 - static text
                                   "ORDER BY detected_at DESC, account_id, kind LIMIT ? OFFSET ?",
                                   [*params, page_size, (page - 1) * page_size])
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get("/conflicts/{conflict_id}", summary="A conflict, its state history and your BU's private notes")
def conflict(conflict_id: Id, ctx: Ctx) -> dict[str, Any]:
    _need(ctx, "abm_conflicts")
    row = ctx.reader.fetchone_dict("SELECT * FROM abm_conflicts WHERE conflict_id = ?", [conflict_id])
    if row is None:
        raise NotFoundError(f"no conflict {conflict_id!r}")
    return {"conflict": row,
            "history": ctx.reader.fetch_dicts("SELECT * FROM abm_conflict_state_log WHERE conflict_id = ? "
                                              "ORDER BY changed_at", [conflict_id]),
            "notes": ctx.reader.fetch_dicts("SELECT * FROM abm_conflict_notes WHERE conflict_id = ? ORDER BY written_at",
                                            [conflict_id])}


class StateBody(BaseModel):
    state: Literal["open", "arbitrated", "resolved"]


@router.post("/conflicts/{conflict_id}/state", summary="Change a conflict's escalation state")
def conflict_state(conflict_id: Id, body: StateBody, ctx: WriterCtx) -> dict[str, Any]:
    from accountree.orchestration import service

    # state changes of one conflict one at a time (every server process): each logs the state it replaced
    with ctx.server.records_locked([f"abm_conflict:{conflict_id}"], ctx.engine), ctx.engine.transaction():
        result = service.set_conflict_state(ctx.ws, conflict_id, body.state, principal=ctx.principal)
        ctx.audit("abm.conflict_state", "abm_conflict", conflict_id,
                  {"state": body.state, "previous": result["previous_state"]})
    return {"conflict_id": conflict_id, "state": body.state, "previous_state": result["previous_state"]}


class NoteBody(BaseModel):
    note: str = Field(min_length=1, max_length=4000)
    bu: str | None = Field(default=None, max_length=200)


@router.post("/conflicts/{conflict_id}/notes", summary="Add your BU's private note to a conflict")
def conflict_note(conflict_id: Id, body: NoteBody, ctx: WriterCtx) -> dict[str, Any]:
    from accountree.orchestration import service

    row = service.add_conflict_note(ctx.ws, conflict_id, body.note, body.bu, principal=ctx.principal)
    ctx.audit("abm.conflict_note", "abm_conflict", conflict_id, {"bu": row["seller_bu"]})
    return row


@router.post("/accounts/{account_id}/plans", summary="Add your BU's private account plan")
def plan(account_id: Id, body: NoteBody, ctx: WriterCtx) -> dict[str, Any]:
    from accountree.orchestration import service

    row = service.add_plan(ctx.ws, account_id, body.note, body.bu, principal=ctx.principal)
    ctx.audit("abm.plan", "account", account_id, {"bu": row["seller_bu"]})
    return row


class LeadBody(BaseModel):
    bu: str = Field(min_length=1, max_length=200)
    why: str = Field(min_length=1, max_length=2000)
    scope: Literal["account", "group"] = "account"


@router.post("/accounts/{account_id}/lead-bu", summary="Arbitrate the lead BU (corporate); wins until undone")
def lead_bu(account_id: Id, body: LeadBody, ctx: WriterCtx) -> dict[str, Any]:
    from accountree.orchestration import service

    with ctx.server.records_locked([f"abm_lead:{body.scope}:{account_id}"], ctx.engine), ctx.engine.transaction():
        row = service.set_lead_bu(ctx.ws, account_id, body.bu, body.why, body.scope, principal=ctx.principal)
        ctx.audit("abm.lead_bu", body.scope, account_id, {"bu": body.bu, "previous": row["previous_lead_bu"]})
    return row


@router.get("/calendar", summary="Campaigns per BU on a timeline and their collisions")
def calendar(ctx: Ctx, start: Annotated[date | None, Query(alias="from")] = None,
             end: Annotated[date | None, Query(alias="to")] = None, bu: Opt = None) -> dict[str, Any]:
    _need(ctx, "abm_collisions")
    collision_bu = bu if ctx.principal.sees_all_bus else (ctx.principal.bu_id or "")  # its own collisions
    campaigns = ctx.reader.fetch_dicts(
        "SELECT campaign_id, name, seller_bu, channel, start_date, coalesce(end_date, start_date) AS end_date "
        "FROM campaigns WHERE start_date IS NOT NULL AND (CAST(? AS VARCHAR) IS NULL OR seller_bu = ?) "
        "AND (CAST(? AS DATE) IS NULL OR coalesce(end_date, start_date) >= CAST(? AS DATE)) "
        "AND (CAST(? AS DATE) IS NULL OR start_date <= CAST(? AS DATE)) ORDER BY start_date, seller_bu, campaign_id",
        [bu, bu, start, start, end, end])
    collisions = ctx.reader.fetch_dicts(
        "SELECT * FROM abm_collisions WHERE (CAST(? AS VARCHAR) IS NULL OR ',' || bus || ',' LIKE '%,' || ? || ',%') "
        "AND (CAST(? AS DATE) IS NULL OR last_date >= CAST(? AS DATE)) "
        "AND (CAST(? AS DATE) IS NULL OR first_date <= CAST(? AS DATE)) ORDER BY first_date, account_id",
        [collision_bu, collision_bu, start, start, end, end])
    return {"campaigns": campaigns, "collisions": collisions}


@router.get("/attribution", summary="Won revenue attributed to each BU (a BU member sees their BU's)")
def attribution(ctx: Ctx) -> dict[str, Any]:
    _need(ctx, "abm_attribution")
    return {"items": ctx.reader.fetch_dicts(
        "SELECT seller_bu, rule, count(DISTINCT deal_id) AS deals, sum(amount_cents) / 100.0 AS attributed_rc "
        "FROM abm_attribution GROUP BY seller_bu, rule ORDER BY attributed_rc DESC, seller_bu")}


@router.get("/synergies", summary="Coordinated vs silo accounts, with the tests (corporate)")
def synergies(ctx: Ctx) -> dict[str, Any]:
    if not ctx.principal.sees_all_bus:
        raise PermissionDeniedError("the synergy analysis reads every BU's deals: corporate users only")
    from accountree.orchestration.synergy import synergies as compute

    return compute(ctx.ws)


@router.get("/handovers", summary="AE → CSM handovers of recently won deals and their state (your BU's)")
def handovers(ctx: Ctx, state: Annotated[Literal["missing", "incomplete", "meeting_planned", "done"] | None,
                                         Query()] = None) -> dict[str, Any]:
    _need(ctx, "abm_handovers_due")
    return {"items": ctx.reader.fetch_dicts(
        "SELECT deal_id, account_id, seller_bu, from_ae, to_csm, signed_at, state, missing, reason, meeting_at, "
        "meeting_customer FROM abm_handovers_due WHERE (CAST(? AS VARCHAR) IS NULL OR state = ?) "
        "ORDER BY signed_at DESC, deal_id", [state, state])}


class HandoverBody(BaseModel):
    to_csm: str = Field(min_length=1, max_length=200)
    decision_context: str | None = Field(default=None, max_length=4000)
    value_objectives: str | None = Field(default=None, max_length=4000)
    stakeholders: str | None = Field(default=None, max_length=4000)
    commitments: str | None = Field(default=None, max_length=4000)
    meeting_at: datetime | None = None
    meeting_customer: str | None = Field(default=None, max_length=200)


@router.post("/deals/{deal_id}/handover", summary="Record the AE → CSM handover of a won deal of your BU")
def handover(deal_id: Id, body: HandoverBody, ctx: WriterCtx) -> dict[str, Any]:
    from accountree.orchestration import service

    row = service.record_handover(ctx.ws, deal_id, body.to_csm, decision_context=body.decision_context,
                                  value_objectives=body.value_objectives, stakeholders=body.stakeholders,
                                  commitments=body.commitments, meeting_at=body.meeting_at,
                                  meeting_customer=body.meeting_customer, principal=ctx.principal)
    ctx.audit("abm.handover", "deal", deal_id, {"to_csm": body.to_csm})
    return {k: row[k] for k in ("handover_id", "deal_id", "account_id", "seller_bu", "from_ae", "to_csm")}


@router.get("/coverage", summary="Accounts and group_strategic accounts per team member (AEs against 3–5)")
def coverage(ctx: Ctx) -> dict[str, Any]:
    _need(ctx, "abm_coverage")
    return {"items": ctx.reader.fetch_dicts(
        "SELECT member, role, member_bu AS seller_bu, accounts, strategic_accounts, coverage, reason "
        "FROM abm_coverage ORDER BY role, strategic_accounts DESC, member")}
