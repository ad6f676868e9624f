"""KAM alerts: exit criteria, org changes, cross-sell — each with a reason, the account, a date.

An alert id is a hash of kind + account + subject, so the same situation keeps its id from one
build to the next and an acknowledgement (`kam_alert_acks`) survives rebuilds. Org changes are
found two ways: dates within `event_lookback_days` of the build date (works on the first build),
and a diff against the previous build's snapshot of contacts and parents (catches what the
CRM does not date: a title change, a new parent, a merged entity).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from accountree.errors import NotFoundError
from accountree.kam.settings import KamSettings
from accountree.store import Workspace, current_user

KINDS = ("no_progress", "falling_revenue", "champion_lost", "stakeholder_left", "new_executive",
         "restructuring", "cross_sell")
EXECUTIVE = re.compile(
    r"\b(ceo|cfo|cio|cto|coo|cmo|chief|president|pr[ée]sidente?|pdg|dg|daf|dsi|vp|vice[- ]president|head of|"
    r"managing director|general manager|directeur|directrice|director|directora|direttore|direttrice|"
    r"gesch[äa]ftsf[üu]hrer(in)?|vorstand\w*|amministratore delegato|consejer[oa] delegad[oa])\b", re.IGNORECASE)


def alert_id(kind: str, account_id: str, subject: str) -> str:
    return hashlib.sha1(f"{kind}\x1f{account_id}\x1f{subject}".encode()).hexdigest()[:12]


def is_executive(title: str | None, role: str | None) -> bool:
    return role == "economic_buyer" or bool(title and EXECUTIVE.search(title))


# Alerts about a person: their `contact_id` is the subject and is kept in its own column, so an
# alert follows its contact's seller BU (`accountree.api.access`: a BU member sees an alert about
# another BU's contact no more than the contact). Other alerts are about the account (revenue,
# progress, hierarchy, cross-sell: shared figures) and have none.
CONTACT_KINDS = ("champion_lost", "stakeholder_left", "new_executive")


def _contact_of(kind: str, subject: str) -> str | None:
    return subject if kind in CONTACT_KINDS else None


def _alert(kind: str, account_id: str, subject: str, reason: str, created_at: date, owner: str | None) -> dict[str, Any]:
    return {"alert_id": alert_id(kind, account_id, subject), "account_id": account_id, "kind": kind,
            "subject": subject, "reason": reason, "created_at": created_at, "owner": owner,
            "contact_id": _contact_of(kind, subject)}


def no_progress(candidates: list[dict[str, Any]], settings: KamSettings) -> list[dict[str, Any]]:
    """Exit criterion: open deals or a customer, activity in the window, yet no deal created, no
    stage change and no deal closed for `no_progress_months`. `candidates` are the quiet accounts
    the SQL step `kam.steps.NO_PROGRESS` found (last progress, open deals, activities, and the
    account's owner and relationship from `kam_accounts`)."""
    window = timedelta(days=round(settings.no_progress_months * 30.44))
    out = []
    for c in candidates:
        account_id, since, active = c["account_id"], c["last_progress"], int(c["activities"])
        if not c["known"] or (not c["has_open"] and c["relationship"] != "customer"):
            continue
        reason = (f"no commercial progress since {since.isoformat()} (no new deal, no stage change, no deal closed) "
                  f"despite {active} activities in the last {settings.no_progress_months:g} months")
        out.append(_alert("no_progress", account_id, since.isoformat(), reason, since + window, c["owner"]))
    return out


def falling_revenue(rows: list[dict[str, Any]], as_of: date, settings: KamSettings) -> list[dict[str, Any]]:
    """Revenue down by `falling_revenue_drop` or more (and at least `falling_revenue_min`) on a key
    account (unit): a group's fall is one alert, not one per shrinking entity. `rows`: the unit
    rows of `kam_accounts` the SQL step `kam.steps.FALLING_REVENUE` found shrinking."""
    out = []
    for r in rows:
        if not r.get("kam_unit", True):
            continue
        now, prev = float(r["nrr_now"] or 0), float(r["nrr_prev"] or 0)
        if prev <= 0 or now > prev * (1 - settings.falling_revenue_drop) or prev - now < settings.falling_revenue_min:
            continue
        scope = "group revenue" if r["scope"] == "group" else "revenue"
        reason = (f"{scope} down {100 * (1 - now / prev):.0f} % ({r['nrr_period']}: {now:,.0f} vs {prev:,.0f}): "
                  "shrinking budget, check the exit criteria")
        out.append(_alert("falling_revenue", r["account_id"], f"{r['scope']}:{as_of.year}", reason, as_of, r["owner"]))
    return out


def org_changes(as_of: date, changed: list[dict[str, Any]], champions_in_place: list[tuple],
                meddic_rows: list[dict[str, Any]], settings: KamSettings) -> list[dict[str, Any]]:
    """Champion lost, stakeholder left, new executive — dated events and changes since the last build.

    `changed` are the contacts the SQL step `kam.steps.CHANGED_CONTACTS` found worth a look (left,
    started, new, or a new title or role since the previous build), with their previous picture
    (`before_*`) and their account's owner; `champions_in_place` the (account, BU, count) of
    champions still in place."""
    lookback = as_of - timedelta(days=settings.event_lookback_days)
    champions_by_name = {(m["account_id"], name.strip().lower()) for m in meddic_rows
                         if m["champion"] and m["champion_source"] != "inferred from contacts"
                         for name in m["champion"].split(",")}
    # champions in place per (account, BU: None = shared); an alert about a person counts only the
    # champions whoever may read it may see (shared ones, and the person's BU's own)
    in_place_champions: dict[tuple[str, str | None], int] = {(a, bu): int(n) for a, bu, n in champions_in_place}
    out = []
    for c in changed:
        if not c["account_exists"]:
            continue
        acc = {"owner": c["account_owner"]}
        before = None if not c["before_seen"] else {
            "title": c["before_title"], "buying_role": c["before_role"], "end_date": c["before_end_date"]}
        who = f"{c['name'] or c['contact_id']}" + (f" ({c['title']})" if c["title"] else "")
        if c["left"]:
            newly = before is not None and before["end_date"] is None
            if not newly and c["end_date"] < lookback:
                continue
            champion = c["buying_role"] == "champion" or (c["account_id"], (c["name"] or "").lower()) in champions_by_name
            if champion:
                bu = c.get("seller_bu")
                others = in_place_champions.get((c["account_id"], None), 0) + (
                    in_place_champions.get((c["account_id"], bu), 0) if bu is not None else 0)
                reason = (f"champion {who} left on {c['end_date'].isoformat()}; "
                          + (f"{others} other champion(s) in place" if others else "no other champion in place"))
                out.append(_alert("champion_lost", c["account_id"], c["contact_id"], reason, c["end_date"], acc["owner"]))
            else:
                role = f", {c['buying_role']}" if c["buying_role"] else ""
                reason = f"stakeholder {who}{role} left on {c['end_date'].isoformat()}"
                out.append(_alert("stakeholder_left", c["account_id"], c["contact_id"], reason, c["end_date"], acc["owner"]))
            continue
        if not is_executive(c["title"], c["buying_role"]):
            continue
        started = c["start_date"] is not None and lookback <= c["start_date"] <= as_of
        appeared = before is None and bool(c["account_known"])
        promoted = before is not None and not is_executive(before["title"], before["buying_role"])
        if started or appeared or promoted:
            when = c["start_date"] if started else as_of
            how = "took the role" if started else "appears in the CRM" if appeared else "new executive title"
            reason = f"new executive {who} {how} on {when.isoformat()}"
            out.append(_alert("new_executive", c["account_id"], c["contact_id"], reason, when, acc["owner"]))
    return out


def restructuring(moved: list[dict[str, Any]], merged: list[dict[str, Any]], as_of: date) -> list[dict[str, Any]]:
    """A new parent or group head since the previous build, or an entity merged into another.

    `moved`: the accounts whose parent or group head differs from the previous build's snapshot
    (SQL step `kam.steps.MOVED`, with `carried`: its parent changed group too); `merged`: the
    entities of that snapshot merged into an account since (`kam.steps.MERGED`). When a whole
    branch changes group, only its top (the one with a new parent) is alerted."""
    out = []
    for acc in moved:
        if acc["before_parent_id"] != acc["parent_id"]:
            reason = f"{acc['name']} moved from parent {acc['before_parent_id'] or '(none)'} to {acc['parent_id'] or '(none)'}"
            out.append(_alert("restructuring", acc["account_id"], f"parent:{acc['parent_id']}", reason, as_of, acc["owner"]))
        elif acc["before_group_head_id"] != acc["group_head_id"] and not acc["carried"]:
            reason = f"{acc['name']} changed group: {acc['before_group_head_id']} → {acc['group_head_id']}"
            out.append(_alert("restructuring", acc["account_id"], f"group:{acc['group_head_id']}", reason, as_of,
                              acc["owner"]))
    for m in merged:
        reason = f"entity {m['old_id']} was merged into {m['name']} ({m['survivor_id']})"
        out.append(_alert("restructuring", m["survivor_id"], f"merged:{m['old_id']}", reason, as_of, m["owner"]))
    return out


def cross_sell_by_unit(rows: list[tuple], as_of: date) -> list[dict[str, Any]]:
    """Cross-sell summarised per key account (unit): one alert listing the products most entities
    of the group could buy, instead of one per entity × product. `rows`: (unit_id, unit_name,
    unit_owner, unit entities, unit products, product, entities, product_name) of the products that
    may be among each unit's three most bought (SQL step `kam.steps.CROSS_SELL`, over the best
    targets of the entities of units of KAM tier ≤ `cross_sell_max_tier`; the rest are on the
    group page's cross-sell table), by unit. The subject is the products named, so a new
    recommendation is a new alert and an acknowledged one stays quiet."""
    by_unit: dict[str, list[tuple]] = {}
    for r in rows:
        by_unit.setdefault(r[0], []).append(r)
    out = []
    for unit_id, found in sorted(by_unit.items()):
        _, unit_name, unit_owner, entities, products, *_ = found[0]
        top = sorted(((str(name or product), product, n) for *_, product, n, name in found),
                     key=lambda t: (-t[2], t[0], t[1]))[:3]
        listed = ", ".join(f"{name} for {n} entit{'y' if n == 1 else 'ies'}" for name, _, n in top)
        more = products - len(top)
        reason = (f"cross-sell in {unit_name}: {entities} entit{'y' if entities == 1 else 'ies'} could "
                  f"buy what the rest of the group buys — {listed}" + (f", and {more} more product(s)" if more > 0 else "")
                  + " (the group page lists them with the reason)")
        subject = "products:" + ",".join(sorted(p for _, p, _ in top))
        out.append(_alert("cross_sell", unit_id, subject, reason, as_of, unit_owner))
    return out


def people_of_active_units(found: list[dict[str, Any]], unit_of: dict[str, str], units: dict[str, dict[str, Any]],
                           settings: KamSettings) -> list[dict[str, Any]]:
    """New executives and people who left matter on key accounts we sell to: with
    `people_alerts_active_only` (default), only on units that are customers or have open deals.
    A lost champion is always kept."""
    if not settings.people_alerts_active_only:
        return found
    def active(a: dict[str, Any]) -> bool:
        unit = units.get(unit_of.get(a["account_id"], a["account_id"]))
        return unit is None or unit.get("relationship") in ("customer", "pipeline")
    return [a for a in found if a["kind"] == "champion_lost" or active(a)]


# Severity of each kind, and its weight in the ranking (severity × value of the key account).
SEVERITY = {"champion_lost": "high", "falling_revenue": "high", "no_progress": "medium", "restructuring": "medium",
            "new_executive": "medium", "stakeholder_left": "low", "cross_sell": "low"}
SEVERITY_WEIGHT = {"high": 10.0, "medium": 3.0, "low": 1.0}


def rank(found: list[dict[str, Any]], unit_of: dict[str, str], units: dict[str, dict[str, Any]]) -> None:
    """Severity, the key account (unit) each alert belongs to, its value (the unit's 3-year
    potential) and `priority` = severity weight × (1 + value): a lost champion on a Tier 1 group
    comes before the 800th cross-sell hint."""
    for a in found:
        unit = unit_of.get(a["account_id"], a["account_id"])
        row = units.get(unit) or {}
        value = float(row.get("potential_3y") or 0)
        a["severity"] = SEVERITY.get(a["kind"], "low")
        a["unit_id"], a["unit_tier"], a["value"] = unit, row.get("tier"), round(value, 2)
        a["priority"] = round(SEVERITY_WEIGHT[a["severity"]] * (1 + value), 2)


EVENT_KINDS = ("champion_lost", "stakeholder_left", "new_executive", "restructuring")


def carry_over(found: list[dict[str, Any]], previous: list[dict[str, Any]], as_of: date,
               lookback_days: float) -> list[dict[str, Any]]:
    """Merge this build's alerts with the previous build's.

    An alert seen before keeps its dates (`created_at`, `detected_at`). An org-change alert is kept
    for `lookback_days` after it was detected even when this build no longer sees it: a change
    found by diffing two builds is only visible once, and must not vanish before someone reads it.
    """
    before = {p["alert_id"]: p for p in previous}
    unique: dict[str, dict[str, Any]] = {}
    for a in found:
        old = before.get(a["alert_id"])
        a["detected_at"] = as_of
        if old is not None:
            a["created_at"] = min(a["created_at"], old["created_at"] or a["created_at"])
            a["detected_at"] = old.get("detected_at") or as_of
        unique.setdefault(a["alert_id"], a)
    horizon = as_of - timedelta(days=lookback_days)
    for old in previous:
        detected = old.get("detected_at")
        if old["alert_id"] not in unique and old["kind"] in EVENT_KINDS and detected and detected >= horizon:
            # (derived again: a workspace built before alerts had `contact_id` has none stored)
            unique[old["alert_id"]] = {**old, "contact_id": _contact_of(old["kind"], old["subject"])}
    return sorted(unique.values(), key=lambda a: (a["created_at"], a["account_id"], a["kind"], a["alert_id"]))


def alerts(ws: Workspace, owner: str | None = None, include_acknowledged: bool = False,
           account_id: str | None = None) -> list[dict[str, Any]]:
    """The current alerts, most important first (severity × the key account's value), then newest."""
    if not ws.engine.table_exists("kam_alerts"):
        raise NotFoundError("KAM alerts have not been computed in this workspace yet",
                            hint="Run `accountree build` (the kam stage).")
    ranked = "priority" in ws.engine.table_columns("kam_alerts")  # most important first (severity × value)
    rows = ws.engine.fetch_dicts(
        "SELECT a.alert_id, a.account_id, a.kind, a.subject, a.reason, a.created_at, a.owner, "
        "k.alert_id IS NOT NULL AS acknowledged, k.acknowledged_by, k.acknowledged_at, a.detected_at"
        + (", a.severity, a.unit_id, a.priority " if ranked else " ") +
        "FROM kam_alerts a LEFT JOIN kam_alert_acks k ON k.alert_id = a.alert_id "
        "WHERE (CAST(? AS VARCHAR) IS NULL OR a.owner = ?) AND (CAST(? AS VARCHAR) IS NULL OR a.account_id = ?) "
        "ORDER BY " + ("a.priority DESC, " if ranked else "") + "a.created_at DESC, a.account_id, a.kind, a.alert_id",
        [owner, owner, account_id, account_id])
    return [r for r in rows if include_acknowledged or not r["acknowledged"]]


def digest(ws: Workspace, days: int = 7, owner: str | None = None, per_owner: int = 10,
           as_of: date | None = None) -> list[dict[str, Any]]:
    """The weekly digest: per owner, the open alerts first detected in the last `days` days, most
    important first (at most `per_owner` each, with how many more), and how many are open in all."""
    from accountree.kam.settings import reference_date

    since = reference_date(ws, as_of) - timedelta(days=days)
    out: dict[str | None, dict[str, Any]] = {}
    for a in alerts(ws, owner=owner):
        entry = out.setdefault(a["owner"], {"owner": a["owner"], "open": 0, "new": 0, "alerts": []})
        entry["open"] += 1
        detected = a.get("detected_at") or a["created_at"]
        if detected is not None and detected >= since:
            entry["new"] += 1
            if len(entry["alerts"]) < per_owner:
                entry["alerts"].append(a)
    return sorted(out.values(), key=lambda e: (e["owner"] is None, str(e["owner"] or "")))


def acknowledge(ws: Workspace, alert_id: str, user: str | None = None) -> dict[str, Any]:
    known = ws.engine.table_exists("kam_alerts") and ws.engine.scalar(
        "SELECT count(*) FROM kam_alerts WHERE alert_id = ?", [alert_id])
    if not known:
        raise NotFoundError(f"no alert {alert_id!r}", hint="List them with `accountree alerts`.")
    who, when = user or current_user(), datetime.now(UTC).replace(tzinfo=None)
    with ws.engine.transaction():
        ws.engine.execute("DELETE FROM kam_alert_acks WHERE alert_id = ?", [alert_id])
        ws.engine.execute("INSERT INTO kam_alert_acks VALUES (?, ?, ?)", [alert_id, who, when])
    return {"alert_id": alert_id, "acknowledged": True, "acknowledged_by": who, "acknowledged_at": when}
