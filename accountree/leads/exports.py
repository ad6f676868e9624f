"""Lead exports. The first columns of each are the public contract of issue #22; extras follow."""

from __future__ import annotations

from sqlglot import exp

from accountree.exports import ExportSpec
from accountree.store import Workspace
from accountree.store.sql import select_columns

MATCH_HINT = "Run `accountree leads match` (or `accountree build`)."
ROUTE_HINT = "Run `accountree leads route`."

MATCH_COLUMNS = ["lead_id", "account_id", "method", "confidence", "evidence", "review", "candidates",
                 "email_domain", "email_kind", "company", "country"]
ROUTING_COLUMNS = ["lead_id", "seller_bu", "owner", "rule", "reason", "routed_at", "sla_due_at", "pool"]
PROPOSAL_COLUMNS = ["domain", "proposed_name", "country", "leads", "lead_ids", "companies_typed"]


def _matches(ws: Workspace) -> exp.Select:
    return select_columns("lead_matches", MATCH_COLUMNS, ["lead_id"])


def _review(ws: Workspace) -> exp.Select:
    return _matches(ws).where(exp.column("review", quoted=True))


def _routing(ws: Workspace) -> exp.Select:
    return select_columns("lead_routing", ROUTING_COLUMNS, ["lead_id", "seller_bu"])


def _log(ws: Workspace) -> exp.Select:
    return select_columns("lead_routing_log", [*ROUTING_COLUMNS[:-1], "routed_by"], ["routed_at", "lead_id", "seller_bu"])


def _proposals(ws: Workspace) -> exp.Select:
    return select_columns("new_account_proposals", PROPOSAL_COLUMNS).order_by(
        exp.column("leads", quoted=True).desc(), exp.column("domain", quoted=True))


EXPORTS = [
    ExportSpec("lead_matches", "one row per lead: matched account (empty when unmatched), method, confidence 0–1, "
               "evidence in words; review flag and candidates of ambiguous leads", _matches, "lead_matches", MATCH_HINT),
    ExportSpec("lead_review", "leads whose match needs a person: ambiguous or low confidence, with their candidates",
               _review, "lead_matches", MATCH_HINT),
    ExportSpec("lead_routing", "current route of each lead: BU, owner, rule, reason, when, SLA due time",
               _routing, "lead_routing", ROUTE_HINT),
    ExportSpec("lead_routing_log", "every routing decision ever made, by whom", _log, "lead_routing_log", ROUTE_HINT),
    ExportSpec("new_account_proposals", "unmatched corporate e-mail domains proposed as new accounts, grouped by "
               "domain: most typed company name, country, leads", _proposals, "new_account_proposals", MATCH_HINT),
]
