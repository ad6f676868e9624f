"""Portfolio rules: 3-year potential, tiers, the potential × effort matrix and the KAM KPIs.

Pure functions over `KamInputs`; the build stage writes their rows to `kam_accounts`, one row per
account (`scope = 'account'`) and one per group (`scope = 'group'`, keyed by the group head).

The key account is the **unit** — the customer group, or an entity designated as its own unit
(`kam.wallet`): a unit is tiered on its potential (`kam_unit` rows: the group rows, and the account
rows of single-entity units), and every entity carries its unit's tier (`tier` = `kam_tier`).
"""

from __future__ import annotations

import math
from statistics import fmean as mean  # not `mean`: it sums with fractions (2.5 s of a 50k-account KAM stage)
from typing import Any

from accountree.kam.inputs import KamInputs, is_customer
from accountree.kam.settings import KamSettings

COMMITTEE_ROLES = ("economic_buyer", "champion", "influencer", "user", "buyer")
QUADRANTS = {
    ("high", "moderate"): ("priority", "senior AE first: high potential for a moderate effort"),
    ("high", "high"): ("reinforce", "reinforced team with pre-sales (Solutions Engineer) and a CSM"),
    ("low", "moderate"): ("automate", "standardised, automated coverage (inside sales, nurturing)"),
    ("low", "high"): ("review", "limit the effort: check the exit criteria before investing more"),
}
YEARS = 3


def potential_3y(field: float | None, wallet: float | None, run_rate: float | None,
                 achievable_share: float) -> tuple[float, str]:
    """(potential over 3 years, where it comes from).

    The field `potential_3y` wins when given. Otherwise: three years of the larger of today's
    annual revenue and the achievable share of the customer's annual wallet — an account is worth
    at least what it buys now (KAM protects the biggest customers), plus what is left to win.
    """
    if field is not None:
        return max(field, 0.0), "field"
    current = max(float(run_rate or 0), 0.0)
    if wallet:
        return YEARS * max(current, float(wallet) * achievable_share), "wallet"
    return YEARS * current, "run_rate"


def peer_potential(spend: float, wallet: float | None, stage: str, settings: KamSettings) -> float:
    """Three years of today's spend plus the part of the gap to the peers' wallet the relationship
    can reach (customer all of it, open pipeline half, a cold account a fifth: settings)."""
    spend = max(float(spend or 0), 0.0)
    gap = max(float(wallet or 0) - spend, 0.0)
    reach = {"customer": 1.0, "pipeline": settings.reach_pipeline}.get(stage, settings.reach_prospect)
    return YEARS * (spend + reach * gap)


def unit_tiers(units: list[dict[str, Any]], settings: KamSettings) -> dict[str, int]:
    """Tier of each KAM unit (keyed by its id): the thresholds of `tier`, capped by capacity.

    Tier 1 (a dedicated team, 3–5 per AE) goes to customers only: the `tier1_share` of customer
    units with the highest potential, among those above `tier1_threshold`. Tier 2 (regular
    reviews) to customers and units with open deals: the next `tier2_share` of those units above
    `tier2_threshold`. Everything else, cold prospects included, is Tier 3 — a cold account is a
    bet for marketing (ABM), not a key account yet."""
    ranked = sorted(units, key=lambda u: (-float(u["potential_3y"] or 0), -float(u.get("revenue_12m") or 0), u["account_id"]))
    customers = [u for u in ranked if u.get("relationship") == "customer"]
    active = [u for u in ranked if u.get("relationship") in ("customer", "pipeline")]
    out = {u["account_id"]: 3 for u in units}
    first = [u for u in customers if tier(u["potential_3y"], settings) == 1][:math.ceil(settings.tier1_share * len(customers))]
    out.update({u["account_id"]: 1 for u in first})
    rest = [u for u in active if out[u["account_id"]] != 1 and tier(u["potential_3y"], settings) <= 2]
    out.update({u["account_id"]: 2 for u in rest[:math.ceil(settings.tier2_share * len(active))]})
    return out


def relationship(acc: dict[str, Any], open_deals: int) -> str:
    """customer, pipeline (open deals, not a customer yet) or prospect."""
    if is_customer(acc):
        return "customer"
    return "pipeline" if open_deals or acc.get("status_code") == "opportunity" else "prospect"


def share(stage: str, settings: KamSettings) -> float:
    """The share of its wallet an account can reach, by where the relationship stands."""
    return {"customer": settings.achievable_share, "pipeline": settings.achievable_share_pipeline}.get(
        stage, settings.achievable_share_prospect)


def tier(potential: float, settings: KamSettings) -> int:
    """Tier 1 above the Tier 1 threshold, Tier 2 from the Tier 2 threshold, else Tier 3."""
    if potential > settings.tier1_threshold:
        return 1
    return 2 if potential >= settings.tier2_threshold else 3


def quadrant(potential: float, effort: float, settings: KamSettings) -> tuple[str, str]:
    pot = "high" if potential >= settings.high_potential_threshold else "low"
    eff = "high" if effort > settings.high_effort_threshold else "moderate"
    return QUADRANTS[(pot, eff)]


def effort(cycle_days: float | None, open_deals: int, roles_missing: int, icp_distance: float | None,
           settings: KamSettings) -> tuple[float, dict[str, float]]:
    """Effort 0–1: the mean of four parts, each 0–1; an unknown part counts as neutral (0.5)."""
    parts = {
        "cycle": 0.5 if cycle_days is None else min(cycle_days / settings.long_cycle_days, 1.0),
        "open_deals": min(open_deals / settings.many_open_deals, 1.0),
        "stakeholders": roles_missing / len(COMMITTEE_ROLES),
        "icp_distance": 0.5 if icp_distance is None else min(max(icp_distance, 0.0), 1.0),
    }
    return round(mean(parts.values()), 4), parts


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _cycle(f: dict[str, Any]) -> float | None:
    """Sales-cycle length: the account's own won deals, else its deals' seller BUs' typical cycle."""
    if f["cycle_n"]:
        return float(f["cycle_sum"]) / f["cycle_n"]
    return float(f["bu_sum"]) / f["bu_n"] if f["bu_n"] else None


def _row(scope: str, account_id: str, head: dict[str, Any], entities: list[dict[str, Any]],
         potential: float, source: str, cycle: float | None, open_deals: int, roles: set[str],
         icp: float | None, settings: KamSettings) -> dict[str, Any]:
    def total(key: str) -> float:
        return sum(float(e.get(key) or 0) for e in entities)

    run_rate, now, prev = total("run_rate"), total("rev_now"), total("rev_prev")
    # a wallet the CRM gives; the KPI stage's model (a share of the customer's turnover) is not one we believe
    wallet = sum(float(e["wallet"]) for e in entities if e.get("wallet") and e.get("wallet_source") != "model")
    kept = sum(min(float(e["rev_now"]), float(e["rev_prev"])) for e in entities)
    single = len(entities) == 1 and scope == "account"
    missing = [r for r in COMMITTEE_ROLES if r not in roles]
    score, parts = effort(cycle, open_deals, len(missing), icp, settings)
    quad, reading = quadrant(potential, score, settings)
    return {
        "scope": scope, "account_id": account_id, "name": head["name"], "owner": head["owner"],
        "group_head_id": head["group_head_id"], "potential_3y": round(potential, 2), "potential_source": source,
        "upside_3y": round(max(potential - YEARS * max(run_rate, 0.0), 0.0), 2), "tier": tier(potential, settings),
        "revenue_cy": total("revenue_cy"), "revenue_py1": total("revenue_py1"), "revenue_12m": run_rate,
        "wallet": wallet or None,
        "share_of_wallet": head.get("share_of_wallet") if single and head.get("share_of_wallet") is not None
        and head.get("wallet_source") != "model" else _ratio(run_rate, wallet),
        "nrr": head.get("nrr") if single and head.get("nrr") is not None else _ratio(now, prev),
        "retention": _ratio(kept, prev), "nrr_now": now, "nrr_prev": prev, "nrr_period": head["nrr_period"],
        "entities_penetrated": sum(1 for e in entities if is_customer(e)), "entities_total": len(entities),
        "effort": score, "cycle_days": None if cycle is None else round(cycle, 1), "open_deals": open_deals,
        "roles_missing": ",".join(missing), "icp_distance": icp,
        "effort_cycle": round(parts["cycle"], 4), "effort_open_deals": round(parts["open_deals"], 4),
        "effort_stakeholders": round(parts["stakeholders"], 4), "effort_icp": round(parts["icp_distance"], 4),
        "quadrant": quad, "recommendation": reading,
    }


def _unit_potential(unit_id: str, member_ids: list[str], accounts: dict[str, dict[str, Any]],
                    own: dict[str, tuple[float, str]], stage: str, wallet: dict[str, Any] | None,
                    settings: KamSettings) -> tuple[float, str, float | None]:
    """(potential, source, wallet) of a unit: a `potential_3y` given for its head first; else the
    members' given figures plus three years of the others' run rate; else the peers' wallet."""
    head = accounts[unit_id]
    if head["potential_field"] is not None:
        return max(head["potential_field"], 0.0), "field", wallet["wallet"] if wallet else None
    if any(accounts[m]["potential_field"] is not None for m in member_ids) or wallet is None:
        sources = {own[m][1] for m in member_ids}
        source = "+".join(sorted(sources)) if len(member_ids) == 1 else "members:" + "+".join(sorted(sources))
        return sum(own[m][0] for m in member_ids), source, None
    value = peer_potential(wallet["spend"], wallet["wallet"], stage, settings)
    return value, f"peers: {wallet['peer_cell']} (q{round(settings.wallet_quantile * 100)} of {wallet['peers']})", wallet["wallet"]


def portfolio_rows(inputs: KamInputs, settings: KamSettings, facts: dict[str, dict[str, Any]],
                   wallets: dict[str, dict[str, Any]] | None = None,
                   unit_of: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per account (its own figures, its unit's tier) and per unit of two entities or more.

    `facts` (account → won-deal cycles, open deals, committee roles held: `kam.steps.account_facts`).
    `wallets` (unit id → the peers' wallet, `kam.wallet.unit_wallets`) and `unit_of` (entity → unit)
    come from the hierarchy and KPI tables; without them the units are the groups and the potential
    is the given field or three years of the run rate."""
    accounts = inputs.accounts
    stage = {a: relationship(acc, facts[a]["open"]) for a, acc in accounts.items()}
    own: dict[str, tuple[float, str]] = {}
    for a, acc in accounts.items():  # an entity's own figure: the field, a wallet the CRM gives, or its run rate
        given_wallet = acc.get("wallet") if acc.get("wallet_source") in ("attribute", None) else None
        own[a] = potential_3y(acc["potential_field"], given_wallet, acc["run_rate"], share(stage[a], settings))
    if unit_of is None:
        units = inputs.members()
    else:
        units = {}
        for a in accounts:
            units.setdefault(unit_of.get(a) or accounts[a]["group_head_id"] or a, []).append(a)
    group_sizes = {h: len(ms) for h, ms in inputs.members().items()}  # a designation takes entities out of a group
    unit_rows: dict[str, dict[str, Any]] = {}
    rows = []
    for unit_id, member_ids in units.items():
        if unit_id not in accounts:
            continue
        members = [accounts[m] for m in member_ids]
        stages = {stage[m] for m in member_ids}
        rel = "customer" if "customer" in stages else "pipeline" if "pipeline" in stages else "prospect"
        wallet = wallets.get(unit_id) if wallets is not None else None
        potential, source, unit_wallet = _unit_potential(unit_id, member_ids, accounts, own, rel, wallet, settings)
        head = accounts[unit_id]
        if len(member_ids) == 1:
            f = facts[unit_id]
            icp = None if head["grid_score"] is None else 1 - float(head["grid_score"]) / 100
            row = _row("account", unit_id, head, [head], potential, source, _cycle(f), f["open"], f["roles"], icp, settings)
        else:
            merged = {k: sum(facts[m][k] for m in member_ids) for k in ("cycle_sum", "cycle_n", "bu_sum", "bu_n")}
            roles = set().union(*(facts[m]["roles"] for m in member_ids))
            icp = None if head["grid_score"] is None else 1 - float(head["grid_score"]) / 100
            row = _row("group", unit_id, head, members, potential, source, _cycle(merged),
                       sum(facts[m]["open"] for m in member_ids), roles, icp, settings)
            if head["entities"] and unit_id == head["group_head_id"] and len(member_ids) == group_sizes.get(unit_id):
                row["entities_penetrated"], row["entities_total"] = head["customer_entities"] or 0, head["entities"]
        row["relationship"] = rel
        if unit_wallet:
            row["wallet"] = unit_wallet
            row["share_of_wallet"] = _ratio(float(wallet["spend"] or 0), unit_wallet) if wallet else row["share_of_wallet"]
        if wallet:
            row["wallet_cell"], row["wallet_peers"] = wallet["peer_cell"], wallet["peers"]
        row["kam_unit"], row["kam_unit_id"] = True, unit_id
        unit_rows[unit_id] = row
    tiers = unit_tiers(list(unit_rows.values()), settings)
    for unit_id, row in unit_rows.items():
        row["tier"] = row["kam_tier"] = tiers[unit_id]
        row["upside_3y"] = round(max(row["potential_3y"] - YEARS * max(row["revenue_12m"], 0.0), 0.0), 2)
    unit_of_entity = {m: u for u, ms in units.items() for m in ms}
    for account_id, acc in accounts.items():
        unit_id = unit_of_entity.get(account_id, account_id)
        unit = unit_rows.get(unit_id)
        if unit is not None and unit["scope"] == "account":  # a single-entity unit: its row is the account's
            rows.append(unit)
            continue
        f = facts[account_id]
        icp = None if acc["grid_score"] is None else 1 - float(acc["grid_score"]) / 100
        row = _row("account", account_id, acc, [acc], *own[account_id], _cycle(f), f["open"], f["roles"], icp, settings)
        row["relationship"] = stage[account_id]
        subtree = [accounts[a] for a in acc["subtree"]]
        if acc["entities"]:  # the KPI stage's roll-up: consolidated entities only (JVs apart)
            row["entities_penetrated"], row["entities_total"] = acc["customer_entities"] or 0, acc["entities"]
        else:
            row["entities_penetrated"] = sum(1 for e in subtree if is_customer(e))
            row["entities_total"] = len(subtree)
        row["kam_unit"], row["kam_unit_id"] = False, unit_id
        row["tier"] = row["kam_tier"] = unit["kam_tier"] if unit is not None else row["tier"]
        rows.append(row)
    rows.extend(r for r in unit_rows.values() if r["scope"] == "group")
    return rows


def coverage_report(rows: list[dict[str, Any]], settings: KamSettings) -> dict[str, Any]:
    """Accounts per owner by segment against the recommended ratios (3–5 strategic per AE, 20–50
    mid-market, 100+ SMB). Segments follow tiers: Tier 1 strategic, Tier 2 mid-market, Tier 3 SMB.

    The ratios are about accounts in an active relationship (customers and open deals); cold
    prospects an owner holds in the CRM are counted apart (`prospects`) and do not load anyone.
    """
    segment = {1: "strategic", 2: "midmarket", 3: "smb"}
    owners: dict[str, dict[str, Any]] = {}
    uncovered = {"strategic": 0, "midmarket": 0, "smb": 0}
    uncovered_strategic: list[str] = []
    for row in rows:  # KAM units: a group is one key account of its owner, not one per entity
        if not row.get("kam_unit", row["scope"] == "account"):
            continue
        active = row.get("relationship", "customer") != "prospect"
        if not row["owner"]:
            if active:
                uncovered[segment[row["tier"]]] += 1
                if row["tier"] == 1:
                    uncovered_strategic.append(row["account_id"])
            continue
        counts = owners.setdefault(row["owner"], {"owner": row["owner"], "strategic": 0, "midmarket": 0, "smb": 0,
                                                  "prospects": 0})
        counts[segment[row["tier"]] if active else "prospects"] += 1
    report = []
    for counts in sorted(owners.values(), key=lambda c: c["owner"]):
        load = (counts["strategic"] / settings.strategic_max + counts["midmarket"] / settings.midmarket_max
                + counts["smb"] / settings.smb_max)
        floor = (counts["strategic"] / settings.strategic_min + counts["midmarket"] / settings.midmarket_min
                 + counts["smb"] / settings.smb_min)
        status = "overloaded" if load > 1 else "light" if floor < 1 else "ok"
        report.append({**counts, "accounts": counts["strategic"] + counts["midmarket"] + counts["smb"],
                       "load": round(load, 3), "status": status})
    return {
        "owners": report,
        "overloaded": [r["owner"] for r in report if r["status"] == "overloaded"],
        "light": [r["owner"] for r in report if r["status"] == "light"],
        "uncovered": {**uncovered, "accounts": sum(uncovered.values())},
        "uncovered_strategic": uncovered_strategic,
        "ratios": {"strategic": [settings.strategic_min, settings.strategic_max],
                   "midmarket": [settings.midmarket_min, settings.midmarket_max],
                   "smb": [settings.smb_min, settings.smb_max]},
    }
