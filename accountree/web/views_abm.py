"""The ABM page: corporate view (every BU) or a BU member's view — classes and lead BUs, conflicts
with their state, the campaign calendar as a timeline with collisions highlighted, attribution by
BU, and (corporate) the synergy analysis. Reads go through the scoped reader."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from accountree.orchestration.settings import BUILT_AS_OF
from accountree.web.pages import Page
from accountree.web.views_accounts import label_maps

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


# Labels, not raw codes, on the page (exports and the API keep the codes).
CLASS_LABELS = {"group_strategic": "Group strategic", "multi_bu": "Multi-BU", "mono_bu": "Mono-BU",
                "opportunistic": "Opportunistic"}
KIND_LABELS = {"open_deals": "Open deals of several BUs", "same_contact": "Same contact, several BUs",
               "competing_offers": "Competing offers", "outside_lead_bu": "Outside the lead BU"}
SOURCE_LABELS = {"rule": "rule", "manual": "set by hand"}
RULE_LABELS = {"equal": "equal shares", "lead_bu_bonus": "lead-BU bonus", "touch_weighted": "touch-weighted"}
METRIC_LABELS = {"revenue_12m": "Revenue, last 12 months", "revenue_growth": "Revenue growth",
                 "deal_size": "Deal size", "win_rate": "Win rate", "cycle_days": "Sales cycle (days)"}


def labelled(rows: list[dict[str, Any]], bu_names: dict[str, str]) -> list[dict[str, Any]]:
    """The shown rows with BU names for BU ids (one or a comma list) and words for class / kind codes."""
    def bus(value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value
        return ", ".join(bu_names.get(b, b) for b in value.split(","))

    ids = sorted(bu_names, key=len, reverse=True)  # "bu_soft" after "bu_software"
    pattern = re.compile("|".join(rf"\b{re.escape(b)}\b" for b in ids)) if ids else None
    out = []
    for row in rows:
        row = dict(row)
        for key in ("reason", "suggested_sequence"):  # texts written by the stage name BUs by id
            if pattern is not None and isinstance(row.get(key), str):
                row[key] = pattern.sub(lambda m: bu_names[m.group(0)], row[key])
            if isinstance(row.get(key), str):
                for code, label in CLASS_LABELS.items():
                    row[key] = row[key].replace(code, label.lower())
        for key in ("bus", "bus_active", "lead_bu", "seller_bu"):
            if key in row:
                row[key] = bus(row[key])
        for key, labels in (("priority_class", CLASS_LABELS), ("kind", KIND_LABELS),
                            ("lead_bu_source", SOURCE_LABELS), ("metric", METRIC_LABELS),
                            ("rule", RULE_LABELS)):
            if key in row:
                row[key] = labels.get(row[key], row[key])
        out.append(row)
    return out


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
    bu_names, _ = label_maps(r)
    if synergy:
        synergy = {**synergy, "metrics": labelled(synergy["metrics"], bu_names)}
    return pc.render("abm.html", "abm", "ABM orchestration", built=True, as_of=as_of, view_bu=view_bu, bus=bus,
                     bu_names=bu_names, corporate=pc.principal.sees_all_bus, classes=labelled(classes, bu_names),
                     leads=labelled(leads, bu_names), conflicts=labelled(conflicts, bu_names), states=states,
                     bars=labelled(timeline(campaigns, colliding, start, end), bu_names), start=start, end=end,
                     collisions=labelled(collisions, bu_names), attribution=labelled(attribution, bu_names),
                     synergy=synergy,
                     other_bus=r.other_bu_activity(leads[0]["account_id"]) if leads and view_bu else [])
