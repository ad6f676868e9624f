"""KAM exports. Column names are a public contract: the first columns of each export are the ones
documented in issue #6, extras follow."""

from __future__ import annotations

from sqlglot import exp

from accountree.exports import ExportSpec
from accountree.store import Workspace
from accountree.store.sql import select_columns

HINT = "Run `accountree build` (the kam stage)."

KAM_COLUMNS = ["account_id", "potential_3y", "tier", "share_of_wallet", "nrr", "entities_penetrated",
               "entities_total", "quadrant", "owner", "scope", "name", "group_head_id", "potential_source",
               "relationship", "upside_3y", "revenue_12m", "revenue_cy", "revenue_py1", "wallet", "retention", "nrr_period", "effort", "cycle_days",
               "open_deals", "roles_missing", "icp_distance", "recommendation",
               # issue 20: the tier named apart from the ICP tier, and the key account (unit) each row belongs to
               "kam_tier", "kam_unit", "kam_unit_id", "wallet_cell", "wallet_peers"]
STAKEHOLDER_COLUMNS = ["contact_id", "account_id", "name", "title", "buying_role", "reports_to", "strength",
                       "last_interaction", "interactions", "sentiment", "start_date", "end_date", "left_company"]
MEDDIC_COLUMNS = ["deal_id", "account_id", "stage", "amount_rc", "owner", "metrics", "economic_buyer",
                  "decision_criteria", "decision_process", "identify_pain", "champion", "completeness", "gaps",
                  "economic_buyer_source", "champion_source"]


def _kam(ws: Workspace) -> exp.Select:
    return select_columns("kam_accounts", KAM_COLUMNS).order_by(
        exp.column("scope", quoted=True).desc(), exp.column("account_id", quoted=True))


def _stakeholders(ws: Workspace) -> exp.Select:
    return select_columns("kam_stakeholders", STAKEHOLDER_COLUMNS, ["account_id", "contact_id"])


def _meddic(ws: Workspace) -> exp.Select:
    return select_columns("kam_meddic", MEDDIC_COLUMNS, ["account_id", "deal_id"])


def _alerts(ws: Workspace) -> str:
    return ("SELECT a.alert_id, a.account_id, a.kind, a.reason, a.created_at, "
            "k.alert_id IS NOT NULL AS acknowledged, a.subject, a.owner, k.acknowledged_by, k.acknowledged_at "
            "FROM kam_alerts a LEFT JOIN kam_alert_acks k ON k.alert_id = a.alert_id "
            "ORDER BY a.created_at DESC, a.account_id, a.kind, a.alert_id")


EXPORTS = [
    ExportSpec("kam", "key accounts: one row per account and per group (scope), 3-year potential, tier, "
               "share of wallet, NRR, entities penetrated, potential × effort quadrant, owner", _kam,
               "kam_accounts", HINT),
    ExportSpec("stakeholders", "people at each account: buying role, manager, relationship strength, last interaction",
               _stakeholders, "kam_stakeholders", HINT),
    ExportSpec("meddic", "one row per open deal: the six MEDDIC elements, completeness 0–100 and the gaps",
               _meddic, "kam_meddic", HINT),
    ExportSpec("alerts", "KAM alerts: exit criteria, org changes, cross-sell; acknowledged or not", _alerts,
               "kam_alerts", HINT),
]
