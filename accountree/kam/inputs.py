"""What the KAM rules read, loaded once per build or view: core tables plus the derived tables
of the earlier build stages (hierarchy, account_kpis, scores, cross_sell).

A derived table that is missing is not an error: the rule falls back to what the core tables say
(parents from `accounts.parent_id`, revenue from won deals) and `missing` names the build step to
run for the full picture.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from accountree.store import Workspace
from accountree.store.sql import select_columns

NEEDS = {
    "hierarchy": "hierarchy (run `accountree build --stage hierarchy`): parents taken from accounts.parent_id",
    "account_kpis": "account_kpis (run `accountree build --stage kpis`): revenue taken from won deals, no wallet",
    "scores": "scores (run `accountree build --stage scoring`): distance to ICP counted as neutral",
    "cross_sell": "cross_sell (run `accountree build --stage kpis`): no cross-sell alerts",
}
OPEN_DEALS = ("SELECT deal_id, account_id, stage, amount_rc, created_at, close_date, owner, seller_bu FROM deals "
              "WHERE stage IS NULL OR stage NOT IN ('won', 'lost') ORDER BY deal_id")
DEAL_CONTACTS = (
    "SELECT c.contact_id, c.account_id, c.name, c.title, coalesce(r.buying_role, c.buying_role) AS buying_role, "
    "c.end_date, c.seller_bu FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id "
    "WHERE c.account_id IN (SELECT account_id FROM deals WHERE stage IS NULL OR stage NOT IN ('won', 'lost')) "
    "ORDER BY c.contact_id")
KPI_COLUMNS = ("status", "status_code", "revenue_cy", "revenue_py1", "revenue_py2", "revenue_ttm", "nrr",
               "share_of_wallet", "wallet", "wallet_source")
_NUMBER = re.compile(r"[^0-9,.\-]")


def parse_amount(value: Any) -> float | None:
    """A number typed by a person: `600000`, `600 000 €`, `1.234,5`, `1,234.5`; None when not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = _NUMBER.sub("", str(value))
    if not text or text in {"-", ".", ","}:
        return None
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    elif "," in text:
        head, _, tail = text.rpartition(",")
        text = text.replace(",", "") if len(tail) == 3 and head else text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


_NAMES: dict[str, str] = {}  # raw attribute name → normalised (`attributes_by_name`)


def attributes_by_name(attributes: Any) -> dict[str, Any]:
    """The custom attributes (JSON text or a dict) by normalised name — lower case, spaces as
    underscores (CRM headers vary) — without empty values; the first of two names that normalise
    alike wins. Parse once, then look several names up."""
    if isinstance(attributes, str):
        try:
            attributes = json.loads(attributes)
        except ValueError:
            return {}
    if not isinstance(attributes, dict):
        return {}
    out: dict[str, Any] = {}
    for name, value in attributes.items():
        key = _NAMES.get(name)
        if key is None:  # a CRM export repeats the same few names on every row: normalised once
            key = str(name).strip().lower().replace(" ", "_")
            if len(_NAMES) < 10_000:
                _NAMES[name] = key
        if key not in out:
            out[key] = None if value == "" else value
    return out


def attribute(attributes: Any, key: str) -> Any:
    """A custom attribute by name, case- and space-insensitively (CRM headers vary)."""
    if attributes is None:
        return None
    return attributes_by_name(attributes).get(key.lower())


@dataclass
class KamInputs:
    as_of: date
    accounts: dict[str, dict[str, Any]]
    deals: list[dict[str, Any]]
    """The open deals (MEDDIC rows): won and lost ones are only read by SQL steps."""
    contacts: list[dict[str, Any]]
    """The contacts of accounts with open deals (MEDDIC inference)."""
    cycle_days_of_bu: dict[str, float]
    missing: list[str] = field(default_factory=list)

    def members(self) -> dict[str, list[str]]:
        """Group head → its entities (the head included)."""
        out: dict[str, list[str]] = {}
        for account_id, acc in self.accounts.items():
            out.setdefault(acc["group_head_id"] or account_id, []).append(account_id)
        return out


def _group_heads(accounts: dict[str, dict[str, Any]]) -> None:
    """Fallback without the hierarchy stage: climb parent_id to the top or to a group-head flag."""
    for account_id, acc in accounts.items():
        seen, current = {account_id}, account_id
        while True:
            node = accounts[current]
            parent = node["parent_id"]
            if node.get("is_group_head") or parent is None or parent not in accounts or parent in seen:
                break
            seen.add(parent)
            current = parent
        acc["group_head_id"] = current


def load_inputs(ws: Workspace, as_of: date) -> KamInputs:
    engine = ws.engine
    missing = [NEEDS[t] for t in ("hierarchy", "account_kpis", "scores") if not engine.table_exists(t)]
    accounts: dict[str, dict[str, Any]] = {}
    for row in engine.fetch_dicts(
        "SELECT account_id, name, owner, parent_id, is_group_head, employees, industry, "
        "CASE WHEN lower(CAST(attributes AS VARCHAR)) LIKE '%potential%' THEN attributes END AS attributes "
        "FROM accounts ORDER BY account_id"  # only the few that may carry `potential_3y` are parsed
    ):
        row["potential_field"] = parse_amount(attribute(row.pop("attributes"), "potential_3y"))
        row.update(group_head_id=None, grid_score=None, entities=None, customer_entities=None)
        row.update(dict.fromkeys(KPI_COLUMNS))
        accounts[row["account_id"]] = row
    if engine.table_exists("hierarchy"):
        cols = [c for c in ("account_id", "parent_id", "group_head_id") if c in engine.table_columns("hierarchy")]
        for row in engine.fetch_dicts(select_columns("hierarchy", cols)):
            acc = accounts.get(row.pop("account_id"))
            if acc is not None:
                acc.update(row)  # the hierarchy stage's parents win: it breaks cycles and resolves merges
        for acc in accounts.values():
            acc["group_head_id"] = acc["group_head_id"] or acc["account_id"]
    else:
        _group_heads(accounts)
    _subtrees(accounts)
    kpi_cols = engine.table_columns("account_kpis") if engine.table_exists("account_kpis") else []
    if kpi_cols:
        cols = [c for c in KPI_COLUMNS if c in kpi_cols]
        for row in engine.fetch_dicts(select_columns("account_kpis", ["account_id", *cols])):
            acc = accounts.get(row.pop("account_id"))
            if acc is not None:
                acc.update(row)
    if engine.table_exists("group_kpis") and {"entities", "customer_entities"} <= set(engine.table_columns("group_kpis")):
        for row in engine.fetch_dicts(select_columns("group_kpis", ["account_id", "entities", "customer_entities"])):
            acc = accounts.get(row.pop("account_id"))
            if acc is not None:
                acc.update(row)
    if engine.table_exists("scores"):
        score_cols = engine.table_columns("scores")
        fit = next((c for c in ("fit_score", "grid_score") if c in score_cols), None)
        if fit:
            for account_id, score in engine.fetchall(select_columns("scores", ["account_id", fit])):
                if account_id in accounts:
                    accounts[account_id]["grid_score"] = score
    deals = engine.fetch_dicts(OPEN_DEALS)  # what MEDDIC reads; every other rule is a SQL step
    if not kpi_cols:
        _revenue_from_deals(ws, accounts, as_of)
    _revenue_bases(accounts, as_of, "revenue_py2" in kpi_cols)
    contacts = engine.fetch_dicts(DEAL_CONTACTS)
    for contact in contacts:
        contact["left"] = contact["end_date"] is not None and contact["end_date"] <= as_of
    cycle = {bu: float(days) for bu, days in engine.fetchall(
        "SELECT bu_id, sales_cycle_days FROM seller_bus WHERE sales_cycle_days IS NOT NULL")}
    return KamInputs(as_of, accounts, deals, contacts, cycle, missing)


def load_open_deals(ws: Workspace, as_of: date) -> KamInputs:
    """What MEDDIC reads: the open deals and the contacts of their accounts (no per-account rows:
    the portfolio is built by SQL steps, `kam.portfolio_steps`)."""
    deals = ws.engine.fetch_dicts(OPEN_DEALS)
    contacts = ws.engine.fetch_dicts(DEAL_CONTACTS)
    for contact in contacts:
        contact["left"] = contact["end_date"] is not None and contact["end_date"] <= as_of
    return KamInputs(as_of, {}, deals, contacts, {})


def _subtrees(accounts: dict[str, dict[str, Any]]) -> None:
    children: dict[str, list[str]] = {}
    for account_id, acc in accounts.items():
        if acc["parent_id"] in accounts and acc["parent_id"] != account_id:
            children.setdefault(acc["parent_id"], []).append(account_id)
    for account_id, acc in accounts.items():
        seen, stack = {account_id}, list(children.get(account_id, []))
        while stack:
            child = stack.pop()
            if child not in seen:
                seen.add(child)
                stack.extend(children.get(child, []))
        acc["subtree"] = sorted(seen)


_REVENUE_FROM_DEALS = """
SELECT account_id,
       coalesce(sum(coalesce(amount_rc, 0)) FILTER (WHERE close_date > CAST(? AS DATE)), 0) AS revenue_cy,
       coalesce(sum(coalesce(amount_rc, 0)) FILTER (WHERE close_date <= CAST(? AS DATE)
                                                     AND close_date > CAST(? AS DATE)), 0) AS revenue_py1
FROM deals WHERE stage = 'won' AND close_date <= CAST(? AS DATE) GROUP BY account_id
"""


def _revenue_from_deals(ws: Workspace, accounts: dict[str, dict[str, Any]], as_of: date) -> None:
    """Revenue booked at the close date of won deals: the 12 months to `as_of`, and the 12 before."""
    cy_start, py_start = as_of - timedelta(days=365), as_of - timedelta(days=730)
    for acc in accounts.values():
        acc["revenue_cy"] = acc["revenue_py1"] = 0.0
    for account_id, cy, py1 in ws.engine.fetchall(_REVENUE_FROM_DEALS, [cy_start, cy_start, py_start, as_of]):
        acc = accounts.get(account_id)
        if acc is not None:
            acc["revenue_cy"], acc["revenue_py1"] = float(cy), float(py1)


def _revenue_bases(accounts: dict[str, dict[str, Any]], as_of: date, complete_years: bool) -> None:
    """The two figures every rule shares: `run_rate` (the last 12 months when the KPI stage gives
    them, else this year's revenue) and the NRR pair (`rev_now`, `rev_prev`): the last two complete
    years with the KPI stage (its `nrr` = py1 ÷ py2), else the last 12 months and the 12 before."""
    for acc in accounts.values():
        ttm = acc.get("revenue_ttm")
        acc["run_rate"] = float(ttm if ttm is not None else acc.get("revenue_cy") or 0)
        if complete_years:
            acc["rev_now"], acc["rev_prev"] = float(acc.get("revenue_py1") or 0), float(acc.get("revenue_py2") or 0)
        else:
            acc["rev_now"], acc["rev_prev"] = float(acc.get("revenue_cy") or 0), float(acc.get("revenue_py1") or 0)
        acc["nrr_period"] = (f"{as_of.year - 1} vs {as_of.year - 2}" if complete_years
                             else "last 12 months vs the 12 before")


def is_customer(acc: dict[str, Any]) -> bool:
    """Status from the KPI stage when present, else revenue in the last 12 months."""
    code = acc.get("status_code") or str(acc.get("status") or "").lower() or None
    if code is not None:
        return code == "customer"
    return float(acc.get("run_rate") or 0) > 0
