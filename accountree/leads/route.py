"""Lead routing: `accountree leads route`. Documented YAML rules (`routing.yaml`) send each lead to
one or several BUs and an owner; every route carries its rule, its reason in words and an SLA due
time; `lead_routing` is the current picture, `lead_routing_log` every decision ever made.

Only leads not routed yet are routed (inbound leads arrive a few at a time), so the per-lead
evaluation is bounded by the new leads; `--all` routes every lead again. The context of the leads
(match, account, open deals of the account's group, KAM tier, ABM lead BU) is read set-based.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accountree.errors import ConfigError, NotFoundError
from accountree.store import Workspace, current_user

RULES_META = "leads_routing_rules"


class When(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matched: bool | None = None
    open_deal: bool | None = None
    country: list[str] | None = None
    industry: list[str] | None = None
    employees_min: int | None = None
    employees_max: int | None = None
    product: list[str] | None = None
    kam_tier: list[int] | None = None
    abm_lead_bu: bool | None = None
    lead_bu: list[str] | None = None


class To(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bu: str = "lead_bu"
    owner: str | None = None
    pool: str | None = None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    when: When = Field(default_factory=When)
    to: To = Field(default_factory=To)
    sla_hours: float | None = None
    continue_: bool = Field(False, alias="continue")


class Pool(BaseModel):
    model_config = ConfigDict(extra="forbid")
    members: list[str]
    capacity: int | None = None


class RoutingRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sla_hours: float = 48
    pools: dict[str, Pool] = Field(default_factory=dict)
    rules: list[Rule]


def parse_rules(text: str, source: str = "rules") -> RoutingRules:
    try:
        data = yaml.safe_load(text)
        rules = RoutingRules.model_validate(data)
    except (yaml.YAMLError, ValidationError) as err:
        raise ConfigError(f"{source}: not valid routing rules: {err}".splitlines()[0] + " " + str(err).splitlines()[-1],
                          hint="See accountree/leads/routing.yaml for the documented format.") from err
    for rule in rules.rules:
        if rule.to.pool and rule.to.pool not in rules.pools:
            raise ConfigError(f"{source}: rule {rule.name!r} names pool {rule.to.pool!r}, which is not defined",
                              hint=f"Define it under `pools:` (defined: {', '.join(rules.pools) or 'none'}).")
    return rules


def default_text() -> str:
    return resources.files("accountree.leads").joinpath("routing.yaml").read_text(encoding="utf-8")


def load_rules(ws: Workspace, path: Path | None = None, save: bool = False) -> RoutingRules:
    """Rules from a file (saved in the workspace with `save`), else the saved ones, else the default."""
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise NotFoundError(f"cannot read routing rules {path}: {err.strerror}", hint="Check the path.") from err
        rules = parse_rules(text, str(path))
        if save:
            ws.set_meta(RULES_META, text)
        return rules
    saved = ws.meta(RULES_META)
    return parse_rules(saved, "saved routing rules") if saved else parse_rules(default_text(), "routing.yaml")


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


ROUTE_SCHEMA = pa.schema([("lead_id", pa.string()), ("seller_bu", pa.string()), ("owner", pa.string()),
                          ("rule", pa.string()), ("reason", pa.string()), ("routed_at", pa.timestamp("us")),
                          ("sla_due_at", pa.timestamp("us")), ("pool", pa.string())])


def route(ws: Workspace, rules: RoutingRules | None = None, everything: bool = False,
          now: datetime | None = None) -> dict[str, Any]:
    """Route the leads not routed yet (every lead with `everything`); returns a summary."""
    rules = rules or load_rules(ws)
    now = (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    e = ws.engine
    with e.transaction():
        leads = load_context(ws, everything)
        counts = {(p, m): int(n) for p, m, n in e.fetchall("SELECT pool, member, assigned FROM lead_pool_counts")}
        pools = Pools(rules, counts)
        routes = [r for lead in leads for r in routes_for(lead, rules, pools, now)]
        if everything:
            e.execute("DELETE FROM lead_routing")
        if routes:
            table = pa.Table.from_pylist(routes, schema=ROUTE_SCHEMA)
            e.insert_arrow("lead_routing", table)
            log = table.drop_columns(["pool"]).append_column("routed_by", pa.array([current_user()] * len(routes), pa.string()))
            e.insert_arrow("lead_routing_log", log)
        e.execute("DELETE FROM lead_pool_counts")
        e.insert_arrow("lead_pool_counts", pa.table({
            "pool": pa.array([p for p, _ in pools.counts], pa.string()),
            "member": pa.array([m for _, m in pools.counts], pa.string()),
            "assigned": pa.array(list(pools.counts.values()), pa.int64())}))
    by_rule: dict[str, int] = defaultdict(int)
    for r in routes:
        by_rule[r["rule"]] += 1
    return {"leads routed": len(leads), "routes": len(routes),
            "leads to several BUs": sum(1 for n in _per_lead(routes).values() if n > 1),
            **{f"rule {k}": v for k, v in sorted(by_rule.items())}}


def _per_lead(routes: list[dict[str, Any]]) -> dict[str, int]:
    count: dict[str, int] = defaultdict(int)
    for r in routes:
        count[r["lead_id"]] += 1
    return count
