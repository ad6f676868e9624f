"""Stakeholders of an account: the people, their buying roles, the org chart and MEDDIC gaps."""

from __future__ import annotations

from typing import Any

from accountree.api.access import ScopedReader

BUYING_ROLES = ("economic_buyer", "champion", "influencer", "user", "buyer", "blocker", "other")
# The MEDDIC roles a key-account team must have identified among people in place.
MEDDIC_ROLES = {
    "economic_buyer": "No economic buyer identified (final budget authority)",
    "champion": "No champion identified (internal sponsor)",
    "influencer": "No technical influencer mapped (decision criteria)",
    "user": "No end user mapped (pain, adoption)",
    "buyer": "No purchaser mapped (decision process)",
}


def stakeholders(r: ScopedReader, account_id: str) -> list[dict[str, Any]]:
    """Contacts of the account the caller may see; a role set by a user (KAM's `kam_contact_roles`)
    wins over the CRM's, and the KAM build adds relationship strength and last interaction."""
    select = ["c.contact_id", "c.name", "c.title", "c.email", "c.buying_role", "c.reports_to", "c.start_date",
              "c.end_date", "c.seller_bu"]
    joins = ""
    if r.has("kam_contact_roles"):
        select[4] = "coalesce(r.buying_role, c.buying_role) AS buying_role"
        joins += " LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id"
    if r.has("kam_stakeholders"):
        cols = r.columns("kam_stakeholders")
        select += [f"ks.{c}" for c in ("strength", "last_interaction", "interactions", "sentiment") if c in cols]
        joins += " LEFT JOIN kam_stakeholders ks ON ks.contact_id = c.contact_id"
    return r.fetch_dicts(
        f"SELECT {', '.join(select)} FROM contacts c{joins} WHERE c.account_id = ? "  # noqa: S608 - fixed names
        "ORDER BY c.end_date IS NOT NULL, c.name, c.contact_id LIMIT 500", [account_id])


def meddic(r: ScopedReader, account_id: str) -> list[dict[str, Any]]:
    """MEDDIC of the account's open deals the caller may see (KAM build), with the gaps per deal."""
    if not r.has("kam_meddic"):
        return []
    return r.fetch_dicts("SELECT * FROM kam_meddic WHERE account_id = ? ORDER BY amount_rc DESC NULLS LAST LIMIT 20",
                         [account_id])


def meddic_gaps(people: list[dict[str, Any]]) -> list[str]:
    in_place = {p["buying_role"] for p in people if p.get("end_date") is None}
    return [message for role, message in MEDDIC_ROLES.items() if role not in in_place]


def org_chart(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """People in place as ECharts tree roots (managers outside the visible set become roots)."""
    current = [p for p in people if p.get("end_date") is None]
    ids = {p["contact_id"] for p in current}
    nodes = {p["contact_id"]: {"name": p.get("name") or p["contact_id"], "title": p.get("title"),
                               "role": p.get("buying_role"), "id": p["contact_id"], "children": []}
             for p in current}
    parent: dict[str, str] = {}

    def above(boss: str, me: str) -> bool:  # would attaching me under boss close a loop?
        seen = set()
        while boss is not None and boss not in seen:
            if boss == me:
                return True
            seen.add(boss)
            boss = parent.get(boss)  # type: ignore[assignment]
        return False

    roots = []
    for p in current:
        me, boss = p["contact_id"], p.get("reports_to")
        if boss in ids and not above(boss, me):
            parent[me] = boss
            nodes[boss]["children"].append(nodes[me])
        else:
            roots.append(nodes[me])
    return roots
