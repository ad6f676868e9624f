"""The former per-lead routing (Python, one lead at a time), kept as the test oracle of the
set-based `accountree.leads.route`: `tests/test_leads_route_oracle.py` routes a generated lead set
both ways and compares every route, reason and pool count. Test code only."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from accountree.errors import NotFoundError
from accountree.leads.route import RoutingRules, When
from accountree.store import Workspace

# What routing needs about each lead to route, in one query.
CONTEXT = """
SELECT l.lead_id, l.seller_bu AS lead_bu, coalesce(l.country, a.country) AS country, CAST(l.attributes AS VARCHAR) AS attributes,
       m.account_id, a.industry, a.employees, a.owner AS account_owner
FROM leads l
LEFT JOIN lead_matches m ON m.lead_id = l.lead_id
LEFT JOIN accounts a ON a.account_id = m.account_id
WHERE ? OR NOT EXISTS (SELECT 1 FROM lead_routing r WHERE r.lead_id = l.lead_id)
ORDER BY l.created_at NULLS LAST, l.lead_id
"""
# Open deals of the matched account, else of its group (with the hierarchy build).
OPEN_DEALS_GROUP = """
SELECT m.account_id, d.deal_id, d.seller_bu, d.owner, d.stage, d.account_id AS deal_account
FROM (SELECT DISTINCT account_id FROM lead_matches WHERE account_id IS NOT NULL) m
JOIN hierarchy h1 ON h1.account_id = m.account_id
JOIN hierarchy h2 ON h2.group_head_id = h1.group_head_id
JOIN deals d ON d.account_id = h2.account_id
WHERE d.stage NOT IN ('won', 'lost')
ORDER BY m.account_id, CASE WHEN d.account_id = m.account_id THEN 0 ELSE 1 END, d.deal_id
"""
OPEN_DEALS_ACCOUNT = """
SELECT m.account_id, d.deal_id, d.seller_bu, d.owner, d.stage, d.account_id AS deal_account
FROM (SELECT DISTINCT account_id FROM lead_matches WHERE account_id IS NOT NULL) m
JOIN deals d ON d.account_id = m.account_id
WHERE d.stage NOT IN ('won', 'lost')
ORDER BY m.account_id, d.deal_id
"""
KAM_TIERS = """
SELECT k.account_id, k.tier FROM kam_accounts k
WHERE k.scope = 'account' AND k.account_id IN (SELECT account_id FROM lead_matches)
"""
ABM_LEAD_BU = """
SELECT x.account_id, x.lead_bu FROM abm_accounts x
WHERE x.scope = 'account' AND x.lead_bu IS NOT NULL AND x.account_id IN (SELECT account_id FROM lead_matches)
"""


@dataclass
class LeadContext:
    lead_id: str
    lead_bu: str | None
    country: str | None
    account_id: str | None
    industry: str | None
    employees: int | None
    account_owner: str | None
    products: list[str] = field(default_factory=list)
    open_deals: list[dict[str, Any]] = field(default_factory=list)
    kam_tier: int | None = None
    abm_lead_bu: str | None = None


def _products(attributes: str | None) -> list[str]:
    if not attributes:
        return []
    try:
        data = json.loads(attributes)
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    found = data.get("product_interest") or data.get("product") or ""
    return [p.strip() for p in str(found).replace(",", ";").split(";") if p.strip()]


def load_context(ws: Workspace, everything: bool) -> list[LeadContext]:
    e = ws.engine
    if not e.table_exists("lead_matches"):
        raise NotFoundError("leads are not matched yet", hint="Run `accountree leads match` (or `accountree build`).")
    leads = [LeadContext(r["lead_id"], r["lead_bu"], r["country"], r["account_id"], r["industry"],
                         r["employees"], r["account_owner"], _products(r["attributes"]))
             for r in e.fetch_dicts(CONTEXT, [everything])]
    deals: dict[str, list[dict[str, Any]]] = defaultdict(list)
    group = e.table_exists("hierarchy")
    for d in e.fetch_dicts(OPEN_DEALS_GROUP if group else OPEN_DEALS_ACCOUNT):
        deals[d["account_id"]].append(d)
    tiers = dict(e.fetchall(KAM_TIERS)) if e.table_exists("kam_accounts") else {}
    abm = dict(e.fetchall(ABM_LEAD_BU)) if e.table_exists("abm_accounts") else {}
    for lead in leads:
        if lead.account_id:
            lead.open_deals = deals.get(lead.account_id, [])
            lead.kam_tier = tiers.get(lead.account_id)
            lead.abm_lead_bu = abm.get(lead.account_id)
    return leads


def _fold(values: list[str]) -> set[str]:
    return {v.casefold() for v in values}


def holds(when: When, lead: LeadContext) -> str | None:
    """Why the condition holds for the lead (words), or None when it does not."""
    why: list[str] = []
    if when.matched is not None:
        if (lead.account_id is not None) != when.matched:
            return None
        why.append(f"matched to {lead.account_id}" if lead.account_id else "no account matched")
    if when.open_deal is not None:
        if bool(lead.open_deals) != when.open_deal:
            return None
        if lead.open_deals:
            shown = ", ".join(f"{d['deal_id']} ({d['stage']}, {d['seller_bu'] or 'no BU'}"
                              + ("" if d["deal_account"] == lead.account_id else f", at {d['deal_account']} in the group")
                              + ")" for d in lead.open_deals[:3])
            why.append(f"open deal(s) {shown}")
        else:
            why.append("no open deal")
    if when.country is not None:
        if not lead.country or lead.country.casefold() not in _fold(when.country):
            return None
        why.append(f"country {lead.country}")
    if when.industry is not None:
        if not lead.industry or lead.industry.casefold() not in _fold(when.industry):
            return None
        why.append(f"industry {lead.industry}")
    if when.employees_min is not None or when.employees_max is not None:
        n = lead.employees
        if n is None or (when.employees_min is not None and n < when.employees_min) or (
                when.employees_max is not None and n > when.employees_max):
            return None
        why.append(f"{n} employees")
    if when.product is not None:
        wanted = _fold(when.product)
        found = [p for p in lead.products if p.casefold() in wanted]
        if not found:
            return None
        why.append(f"interested in {', '.join(found)}")
    if when.kam_tier is not None:
        if lead.kam_tier not in when.kam_tier:
            return None
        why.append(f"KAM tier {lead.kam_tier}")
    if when.abm_lead_bu is not None:
        if (lead.abm_lead_bu is not None) != when.abm_lead_bu:
            return None
        why.append(f"ABM lead BU {lead.abm_lead_bu}" if lead.abm_lead_bu else "no ABM lead BU")
    if when.lead_bu is not None:
        if not lead.lead_bu or lead.lead_bu.casefold() not in _fold(when.lead_bu):
            return None
        why.append(f"came in through {lead.lead_bu}")
    return "; ".join(why) or "always"


class Pools:
    """Count-based round-robin: the member with the fewest leads from the pool, under capacity."""

    def __init__(self, rules: RoutingRules, counts: dict[tuple[str, str], int]) -> None:
        self.rules = rules
        self.counts = {(p, m): counts.get((p, m), 0) for p, pool in rules.pools.items() for m in pool.members}

    def next(self, name: str) -> tuple[str | None, str]:
        pool = self.rules.pools[name]
        free = [m for m in pool.members if pool.capacity is None or self.counts[(name, m)] < pool.capacity]
        if not free:
            return None, f"pool {name} is full (capacity {pool.capacity} each): no owner"
        member = min(free, key=lambda m: (self.counts[(name, m)], pool.members.index(m)))
        self.counts[(name, member)] += 1
        return member, f"round-robin in pool {name} ({self.counts[(name, member)]} lead(s) now)"


def routes_for(lead: LeadContext, rules: RoutingRules, pools: Pools, now: datetime) -> list[dict[str, Any]]:
    """The routes of one lead: rule by rule, first match wins unless the rule says `continue`."""
    out: list[dict[str, Any]] = []
    seen: set[str | None] = set()
    for rule in rules.rules:
        why = holds(rule.when, lead)
        if why is None:
            continue
        targets: list[tuple[str | None, str | None, str]] = []  # (bu, owner, extra reason)
        if rule.to.bu == "deal_bu":
            by_bu: dict[str | None, dict[str, Any]] = {}
            for d in lead.open_deals:
                by_bu.setdefault(d["seller_bu"], d)
            targets = [(bu, d["owner"] if rule.to.owner == "deal_owner" else None, f"deal {d['deal_id']}")
                       for bu, d in by_bu.items()]
        else:
            bu = {"lead_bu": lead.lead_bu, "abm_lead_bu": lead.abm_lead_bu}.get(rule.to.bu, rule.to.bu)
            targets = [(bu, None, "")]
        sla = rule.sla_hours if rule.sla_hours is not None else rules.sla_hours
        for bu, owner, extra in targets:
            if bu in seen:
                continue
            seen.add(bu)
            reason = why + (f"; {extra}" if extra else "")
            pool = None
            if owner is None and rule.to.owner == "account_owner":
                owner = lead.account_owner
                reason += f"; account owner {owner}" if owner else "; the account has no owner"
            elif owner is None and rule.to.owner not in (None, "deal_owner", "account_owner"):
                owner = rule.to.owner
            if owner is None and rule.to.pool:
                pool = rule.to.pool
                owner, said = pools.next(pool)
                reason += f"; {said}"
            out.append({"lead_id": lead.lead_id, "seller_bu": bu, "owner": owner, "rule": rule.name,
                        "reason": reason, "routed_at": now, "sla_due_at": now + timedelta(hours=sla), "pool": pool})
        if out and not rule.continue_:
            break
    if not out:
        out.append({"lead_id": lead.lead_id, "seller_bu": None, "owner": None, "rule": "none",
                    "reason": "no rule applies", "routed_at": now, "sla_due_at": None, "pool": None})
    return out


def oracle_routes(ws: Workspace, rules: RoutingRules, everything: bool, now: datetime
                  ) -> tuple[list[dict[str, Any]], dict[tuple[str, str], int]]:
    """The routes the per-lead code gives (written nowhere) and the pool counts after them."""
    leads = load_context(ws, everything)
    counts = {(p, m): int(n) for p, m, n in ws.engine.fetchall("SELECT pool, member, assigned FROM lead_pool_counts")}
    pools = Pools(rules, counts)
    return [r for lead in leads for r in routes_for(lead, rules, pools, now)], pools.counts
