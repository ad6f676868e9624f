"""ABM exports. Names and first columns are the public contract of issue #21; extras follow."""

from __future__ import annotations

from accountree.exports import ExportSpec
from accountree.store import Workspace

HINT = "Run `accountree build` (the abm stage)."


def _accounts(ws: Workspace) -> str:
    return ("SELECT account_id, scope, lead_bu, lead_bu_source, priority_class, bus_active, reason, name, "
            "group_head_id, bus_active_count, rule_lead_bu, rule_score, decided_by, decided_at, icp_grade, kam_tier, "
            "potential_3y FROM abm_accounts ORDER BY scope DESC, account_id")


def _conflicts(ws: Workspace) -> str:
    return ("SELECT conflict_id, account_id, kind, bus, state, reason, detected_at, contact_id, lead_bu, notify_bus, "
            "priority_class, state_changed_by, state_changed_at FROM abm_conflicts "
            "ORDER BY account_id, kind, conflict_id")


def _collisions(ws: Workspace) -> str:
    return ("SELECT account_id, contact_id, campaign_ids, bus, first_date, last_date, reason, suggested_sequence, "
            "status, collision_id FROM abm_collisions ORDER BY first_date, account_id, campaign_ids")


def _attribution(ws: Workspace) -> str:
    return ("SELECT deal_id, seller_bu, share, amount_rc, rule, account_id, weight, touches, lead_bu "
            "FROM abm_attribution ORDER BY deal_id, seller_bu")


def _teams(ws: Workspace) -> str:
    return ("SELECT account_id, member, role, member_bu AS seller_bu, source FROM abm_account_teams "
            "ORDER BY account_id, role, seller_bu, member")


def _handovers(ws: Workspace) -> str:
    return ("SELECT deal_id, account_id, seller_bu, from_ae, to_csm, signed_at, state, missing, reason, meeting_at, "
            "meeting_customer, recorded_by, recorded_at FROM abm_handovers_due ORDER BY signed_at DESC, deal_id")


def _coverage(ws: Workspace) -> str:
    return ("SELECT member, role, member_bu AS seller_bu, accounts, strategic_accounts, coverage, reason "
            "FROM abm_coverage ORDER BY role, member, seller_bu")


EXPORTS = [
    ExportSpec("abm_accounts", "one row per account and group (scope): lead BU and its source (manual, rule, "
               "single_bu), priority class, BUs active, reason", _accounts, "abm_accounts", HINT),
    ExportSpec("abm_conflicts", "BU conflicts: kind, BUs, escalation state (open, arbitrated, resolved), reason",
               _conflicts, "abm_conflicts", HINT),
    ExportSpec("campaign_collisions", "campaigns of different BUs on the same account within N days, with a "
               "suggested sequence", _collisions, "abm_collisions", HINT),
    ExportSpec("attribution", "won revenue split across BUs: one row per deal and BU, shares summing to 1",
               _attribution, "abm_attribution", HINT),
    ExportSpec("account_teams", "account teams: ae, se, csm per BU and the group account manager", _teams,
               "abm_account_teams", HINT),
    ExportSpec("abm_handovers", "AE → CSM handovers of recently won deals: state (missing, incomplete, "
               "meeting_planned, done) and what is missing", _handovers, "abm_handovers_due", HINT),
    ExportSpec("abm_coverage", "accounts and group_strategic accounts per team member, AEs against the 3–5 target",
               _coverage, "abm_coverage", HINT),
]
