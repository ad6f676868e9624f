"""Accounts: list with filters, search, account 360, stakeholders and their buying roles."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from accountree.api import writes
from accountree.api.deps import Ctx, WriterCtx
from accountree.api.reads import accounts as reads
from accountree.api.reads.stakeholders import meddic_gaps, org_chart, stakeholders
from accountree.api.routes.params import PageNo, PageSize, Text

router = APIRouter(tags=["accounts"])
AccountId = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/accounts", summary="Accounts, filtered and paginated")
def list_accounts(
    ctx: Ctx, q: Text = None, status: Text = None, grade: Text = None, tier: Text = None,
    country: Text = None, industry: Text = None, bu: Text = None, group: Text = None,
    sort: Literal["name", "revenue", "score", "employees", "country"] = "name", desc: bool = False,
    page: PageNo = 1, page_size: PageSize = 50,
) -> dict[str, Any]:
    """`status` (Dormant, Engaged, MQA, Opportunity, Customer, Former customer), `grade` (A–F) and `tier`
    need the build; `bu` keeps accounts with deals of that seller BU; `group` a group head's entities."""
    f = reads.AccountFilters(q, status, grade, tier, country, industry, bu, group, sort, desc)
    return reads.list_accounts(ctx.reader, f, page, page_size).as_dict()


@router.get("/search", summary="Search accounts by name (accents ignored), domain, SIREN/SIRET, LEI or DUNS")
def search(q: Annotated[str, Query(min_length=1, max_length=200)], ctx: Ctx,
           limit: Annotated[int, Query(ge=1, le=100)] = 30) -> dict[str, Any]:
    return {"items": reads.search(ctx.reader, q, limit)}


@router.get("/accounts/{account_id}", summary="Account 360")
def account_360(account_id: AccountId, ctx: Ctx) -> dict[str, Any]:
    """KPIs, hierarchy position, score, key-account data, alerts, deals, stakeholders, activities and
    campaigns; each section says `available: false` with a hint until the build computed it. A BU
    member gets their BU's records and `other_bus`, a count-only line per other BU."""
    return ctx.cached_json("account_360", (account_id,), lambda: reads.account_360_json(ctx.reader, account_id))


@router.get("/accounts/{account_id}/stakeholders", summary="Stakeholders, org chart and MEDDIC gaps")
def account_stakeholders(account_id: AccountId, ctx: Ctx) -> dict[str, Any]:
    account_id = reads.resolve_account(ctx.reader, account_id)
    people = stakeholders(ctx.reader, account_id)
    return {"items": people, "org_chart": org_chart(people), "meddic_gaps": meddic_gaps(people)}


class BuyingRole(BaseModel):
    buying_role: Literal["economic_buyer", "champion", "influencer", "user", "buyer", "blocker", "other"]


@router.put("/contacts/{contact_id}/buying-role", summary="Set a stakeholder's buying role")
def set_buying_role(contact_id: AccountId, body: BuyingRole, ctx: WriterCtx) -> dict[str, Any]:
    return writes.set_buying_role(ctx, contact_id, body.buying_role)


class Link(BaseModel):
    parent_id: str = Field(min_length=1, max_length=200)
    relation: Literal["subsidiary", "business_unit", "branch", "joint_venture"] = "subsidiary"
    ownership_pct: float | None = Field(default=None, ge=0, le=100)


@router.post("/accounts/{account_id}/links", summary="Add a manual parent link")
def add_link(account_id: AccountId, body: Link, ctx: WriterCtx) -> dict[str, Any]:
    return writes.add_link(ctx, account_id, body.parent_id, body.relation, body.ownership_pct)
