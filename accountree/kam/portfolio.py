"""Portfolio rules: 3-year potential, tiers, the potential × effort matrix and the KAM KPIs.

Pure functions over `KamInputs`; the build stage writes their rows to `kam_accounts`, one row per
account (`scope = 'account'`) and one per group (`scope = 'group'`, keyed by the group head).
"""

from __future__ import annotations

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


def _facts(inputs: KamInputs) -> dict[str, dict[str, Any]]:
    """Per account: won-deal cycles, open deals, committee roles held by people still in place."""
    facts: dict[str, dict[str, Any]] = {a: {"cycles": [], "bu_cycles": [], "open": 0, "roles": set()}
                                        for a in inputs.accounts}
    for deal in inputs.deals:
        f = facts.get(deal["account_id"])
        if f is None:
            continue
        if deal["stage"] not in ("won", "lost"):
            f["open"] += 1
        if deal["stage"] == "won" and deal["created_at"] and deal["close_date"]:
            f["cycles"].append(max((deal["close_date"] - deal["created_at"]).days, 0))
        if deal["seller_bu"] in inputs.cycle_days_of_bu:
            f["bu_cycles"].append(inputs.cycle_days_of_bu[deal["seller_bu"]])
    for contact in inputs.contacts:
        f = facts.get(contact["account_id"])
        if f is not None and not contact["left"] and contact["buying_role"] in COMMITTEE_ROLES:
            f["roles"].add(contact["buying_role"])
    return facts


def _cycle(f: dict[str, Any]) -> float | None:
    """Sales-cycle length: the account's own won deals, else its deals' seller BUs' typical cycle."""
    if f["cycles"]:
        return float(mean(f["cycles"]))
    return float(mean(f["bu_cycles"])) if f["bu_cycles"] else None


def _row(scope: str, account_id: str, head: dict[str, Any], entities: list[dict[str, Any]],
         potential: float, source: str, cycle: float | None, open_deals: int, roles: set[str],
         icp: float | None, settings: KamSettings) -> dict[str, Any]:
    def total(key: str) -> float:
        return sum(float(e.get(key) or 0) for e in entities)

    run_rate, now, prev = total("run_rate"), total("rev_now"), total("rev_prev")
    wallet = sum(float(e["wallet"]) for e in entities if e.get("wallet"))
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
        else _ratio(run_rate, wallet),
        "nrr": head.get("nrr") if single and head.get("nrr") is not None else _ratio(now, prev),
        "retention": _ratio(kept, prev), "nrr_now": now, "nrr_prev": prev, "nrr_period": head["nrr_period"],
        "entities_penetrated": sum(1 for e in entities if is_customer(e)), "entities_total": len(entities),
        "effort": score, "cycle_days": None if cycle is None else round(cycle, 1), "open_deals": open_deals,
        "roles_missing": ",".join(missing), "icp_distance": icp,
        "effort_cycle": round(parts["cycle"], 4), "effort_open_deals": round(parts["open_deals"], 4),
        "effort_stakeholders": round(parts["stakeholders"], 4), "effort_icp": round(parts["icp_distance"], 4),
        "quadrant": quad, "recommendation": reading,
    }


def portfolio_rows(inputs: KamInputs, settings: KamSettings) -> list[dict[str, Any]]:
    """One row per account (its own potential, its subtree for entities penetrated) and per group."""
    facts = _facts(inputs)
    accounts = inputs.accounts
    stage = {a: relationship(acc, facts[a]["open"]) for a, acc in accounts.items()}
    own: dict[str, tuple[float, str]] = {
        a: potential_3y(acc["potential_field"], acc.get("wallet"), acc["run_rate"], share(stage[a], settings))
        for a, acc in accounts.items()
    }
    rows = []
    for account_id, acc in accounts.items():
        f = facts[account_id]
        icp = None if acc["grid_score"] is None else 1 - float(acc["grid_score"]) / 100
        subtree = [accounts[a] for a in acc["subtree"]]
        row = _row("account", account_id, acc, [acc], *own[account_id], _cycle(f), f["open"], f["roles"], icp, settings)
        row["relationship"] = stage[account_id]
        if acc["entities"]:  # the KPI stage's roll-up: consolidated entities only (JVs apart)
            row["entities_penetrated"], row["entities_total"] = acc["customer_entities"] or 0, acc["entities"]
        else:
            row["entities_penetrated"] = sum(1 for e in subtree if is_customer(e))
            row["entities_total"] = len(subtree)
        rows.append(row)
    for head_id, member_ids in inputs.members().items():
        if len(member_ids) < 2 or head_id not in accounts:
            continue
        members = [accounts[m] for m in member_ids]
        merged = {"cycles": [c for m in member_ids for c in facts[m]["cycles"]],
                  "bu_cycles": [c for m in member_ids for c in facts[m]["bu_cycles"]]}
        roles = set().union(*(facts[m]["roles"] for m in member_ids))
        head = accounts[head_id]
        icp = None if head["grid_score"] is None else 1 - float(head["grid_score"]) / 100
        potential = sum(own[m][0] for m in member_ids)
        sources = {own[m][1] for m in member_ids}
        source = "members:" + "+".join(sorted(sources))
        row = _row("group", head_id, head, members, potential, source, _cycle(merged),
                   sum(facts[m]["open"] for m in member_ids), roles, icp, settings)
        stages = {stage[m] for m in member_ids}
        row["relationship"] = "customer" if "customer" in stages else "pipeline" if "pipeline" in stages else "prospect"
        if head["entities"]:
            row["entities_penetrated"], row["entities_total"] = head["customer_entities"] or 0, head["entities"]
        rows.append(row)
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
    for row in rows:
        if row["scope"] != "account":
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
