"""The ABM page: corporate view (every BU) or a BU member's view — classes and lead BUs, conflicts
with their state, the campaign calendar as a timeline with collisions highlighted, attribution by
BU, and (corporate) the synergy analysis. Reads go through the scoped reader."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from accountree.orchestration.settings import BUILT_AS_OF
from accountree.web.pages import Page

router = APIRouter(default_response_class=HTMLResponse)
BEFORE, AFTER = 120, 240  # days of calendar shown around the build date
# accounts and groups where the viewed BU is active (every one when no BU is viewed)
_CLASSES = ("SELECT scope, priority_class, count(*) AS n FROM abm_accounts "
            "WHERE (CAST(? AS VARCHAR) IS NULL OR ',' || bus_active || ',' LIKE '%,' || ? || ',%') "
            "GROUP BY scope, priority_class ORDER BY scope DESC, priority_class")
_LEADS = ("SELECT account_id, scope, name, lead_bu, lead_bu_source, priority_class, bus_active, reason "
          "FROM abm_accounts WHERE priority_class = 'group_strategic' "
          "AND (CAST(? AS VARCHAR) IS NULL OR ',' || bus_active || ',' LIKE '%,' || ? || ',%') "
          "ORDER BY scope DESC, bus_active_count DESC, account_id LIMIT 25")


def timeline(campaigns: list[dict[str, Any]], colliding: set[str], start: date, end: date) -> list[dict[str, Any]]:
    """Each campaign as a bar: left offset and width in % of the window, clipped to it."""
    span = max((end - start).days, 1)
    bars = []
    for c in campaigns:
        first, last = max(c["start_date"], start), min(c["end_date"], end)
        if last < first:
            continue
        bars.append({**c, "left": round(100 * (first - start).days / span, 2),
                     "width": max(round(100 * ((last - first).days + 1) / span, 2), 0.6),
                     "collides": c["campaign_id"] in colliding})
    return bars


@router.get("/abm")
def abm_page(pc: Page, bu: str | None = Query(None, max_length=200)):
    r = pc.reader
    if not r.has("abm_accounts"):
        return pc.render("abm.html", "abm", "ABM orchestration", built=False)
    view_bu = pc.principal.bu_id if not pc.principal.sees_all_bus else bu
    built = r.scalar("SELECT value FROM workspace_meta WHERE key = ?", [BUILT_AS_OF])
    as_of = date.fromisoformat(built) if built else date.today()
    classes = r.fetch_dicts(_CLASSES, [view_bu, view_bu])
    leads = r.fetch_dicts(_LEADS, [view_bu, view_bu])
    conflicts = r.fetch_dicts(
        "SELECT conflict_id, account_id, kind, bus, state, detected_at, reason FROM abm_conflicts "
        "WHERE state <> 'resolved' AND (CAST(? AS VARCHAR) IS NULL OR ',' || notify_bus || ',' LIKE '%,' || ? || ',%') "
        "ORDER BY detected_at DESC, account_id, kind LIMIT 50", [view_bu, view_bu])
    states = r.fetch_dicts("SELECT state, count(*) AS n FROM abm_conflicts GROUP BY state ORDER BY state")
    start, end = as_of - timedelta(days=BEFORE), as_of + timedelta(days=AFTER)
    campaigns = r.fetch_dicts(
        "SELECT campaign_id, name, seller_bu, start_date, coalesce(end_date, start_date) AS end_date FROM campaigns "
        "WHERE start_date IS NOT NULL AND start_date <= ? AND coalesce(end_date, start_date) >= ? "
        "ORDER BY seller_bu, start_date, campaign_id", [end, start])
    collisions = r.fetch_dicts(
        "SELECT account_id, campaign_ids, bus, first_date, last_date, status, suggested_sequence FROM abm_collisions "
        "WHERE last_date >= ? AND first_date <= ? "
        "AND (CAST(? AS VARCHAR) IS NULL OR ',' || bus || ',' LIKE '%,' || ? || ',%') "
        "ORDER BY first_date, account_id LIMIT 50", [start, end, view_bu, view_bu])
    colliding = {c for row in collisions for c in row["campaign_ids"].split(",")}
    attribution = r.fetch_dicts(
        "SELECT coalesce(seller_bu, '(no BU)') AS seller_bu, rule, count(DISTINCT deal_id) AS deals, "
        "sum(amount_cents) / 100.0 AS attributed_rc FROM abm_attribution GROUP BY seller_bu, rule "
        "ORDER BY attributed_rc DESC")
    top = max((a["attributed_rc"] or 0 for a in attribution), default=0) or 1
    for a in attribution:
        a["pct"] = round(100 * max(a["attributed_rc"] or 0, 0) / top, 1)
    synergy = None
    if pc.principal.sees_all_bus:
        from accountree.orchestration.synergy import synergies

        synergy = synergies(pc.ctx.ws)
    bus = [row[0] for row in r.fetchall("SELECT bu_id FROM seller_bus ORDER BY bu_id")]
    return pc.render("abm.html", "abm", "ABM orchestration", built=True, as_of=as_of, view_bu=view_bu, bus=bus,
                     corporate=pc.principal.sees_all_bus, classes=classes, leads=leads, conflicts=conflicts,
                     states=states, bars=timeline(campaigns, colliding, start, end), start=start, end=end,
                     collisions=collisions, attribution=attribution, synergy=synergy,
                     other_bus=r.other_bu_activity(leads[0]["account_id"]) if leads and view_bu else [])
