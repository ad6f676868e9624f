"""The portfolio at a glance (home page), key accounts, scores, campaigns, data quality."""

from __future__ import annotations

from datetime import date
from typing import Any

from accountree.api.access import ScopedReader
from accountree.api.reads.common import BUILD_HINT, Page, needs_build, section
from accountree.build import BUILT_IMPORT_KEY, IMPORTS_SINCE_BUILD
from accountree.kpi.service import TRANSITIONS, transition_params


def overview(r: ScopedReader) -> dict[str, Any]:
    return {
        "counts": {
            "accounts": int(r.scalar("SELECT count(*) FROM accounts") or 0),
            "groups": int(r.scalar("SELECT count(*) FROM hierarchy WHERE account_id = group_head_id AND descendants > 0")
                          or 0) if "descendants" in r.columns("hierarchy") else None,
            "open_deals": int(r.scalar("SELECT count(*) FROM deals WHERE stage NOT IN ('won', 'lost')") or 0),
            "contacts": int(r.scalar("SELECT count(*) FROM contacts") or 0),
        },
        "group_statuses": section(r, "group_kpis", lambda: r.fetch_dicts(
            "SELECT coalesce(g.group_status, 'unknown') AS status, count(*) AS n FROM group_kpis g "
            "WHERE g.account_id = g.group_head_id AND g.entities > 1 GROUP BY 1 ORDER BY n DESC")),
        "statuses": section(r, "account_kpis", lambda: r.fetch_dicts(
            "SELECT coalesce(status, 'Unknown') AS status, count(*) AS n FROM account_kpis GROUP BY 1 ORDER BY n DESC")),
        "grades": section(r, "scores", lambda: r.fetch_dicts(
            "SELECT coalesce(nullif(grade, ''), 'unscored') AS grade, count(*) AS n FROM scores GROUP BY 1 ORDER BY 1")),
        "revenue_by_tier": _revenue_by_tier(r),
        "alerts": section(r, "kam_alerts", lambda: alert_list(r, page_size=8).items),  # most important first
        "alert_kinds": section(r, "kam_alerts", lambda: open_alert_kinds(r)),
        "open_alerts": int(r.scalar("SELECT count(*) FROM kam_alerts a WHERE a.alert_id NOT IN "
                                    "(SELECT alert_id FROM kam_alert_acks)") or 0)
        if r.has("kam_alerts") and r.has("kam_alert_acks") else None,
        "conflicts": section(r, "abm_conflicts", lambda: r.fetch_dicts(  # the abm stage's (accountree.orchestration)
            "SELECT account_id, kind, bus, state, reason FROM abm_conflicts WHERE state <> 'resolved' "
            "ORDER BY detected_at DESC, account_id, kind LIMIT 8")),
        "last_import": r.fetchone_dict(
            "SELECT import_id, max(imported_at) AS imported_at, max(imported_by) AS imported_by, sum(rows) AS rows, "
            "count(*) AS files FROM imports GROUP BY import_id ORDER BY import_id DESC LIMIT 1"),
        "status_changes": section(r, "kpi_status_history", lambda: _last_changes(r)),
        # imports that changed rows after the last full build: the computed figures do not show them
        "imports_since_build": int(r.scalar(IMPORTS_SINCE_BUILD, [BUILT_IMPORT_KEY]) or 0),
    }


def _acks(r: ScopedReader) -> tuple[str, str]:
    """(join, condition) telling acknowledged alerts apart, when acknowledgements exist."""
    acks = "LEFT JOIN kam_alert_acks k ON k.alert_id = a.alert_id" if r.has("kam_alert_acks") else ""
    return acks, "k.alert_id IS NOT NULL" if acks else "false"


def open_alert_kinds(r: ScopedReader) -> list[dict[str, Any]]:
    """Open alerts counted by kind, most first (the newest few of one kind can fill a short list)."""
    acks, acked = _acks(r)
    return r.fetch_dicts(f"SELECT a.kind, count(*) AS n FROM kam_alerts a {acks} "  # noqa: S608 - fixed text
                         f"WHERE NOT ({acked}) GROUP BY a.kind ORDER BY n DESC, a.kind")


def open_alerts(r: ScopedReader, account_id: str | None, limit: int) -> list[dict[str, Any]]:
    """KAM alerts not yet acknowledged, newest first (one account or all)."""
    acks, acked = _acks(r)
    return r.fetch_dicts(
        f"SELECT a.alert_id, a.account_id, ac.name AS account_name, a.kind, a.subject, a.reason, a.created_at, a.owner, "  # noqa: S608
        f"{acked} AS acknowledged FROM kam_alerts a {acks} LEFT JOIN accounts ac ON ac.account_id = a.account_id "
        f"WHERE (CAST(? AS VARCHAR) IS NULL OR a.account_id = ?) AND ({'NOT ' + acked if acks else 'true'}) "
        "ORDER BY a.created_at DESC, a.alert_id LIMIT ?", [account_id, account_id, limit])


ALERT_KINDS = ("champion_lost", "falling_revenue", "no_progress", "restructuring", "new_executive", "stakeholder_left",
               "cross_sell")
SEVERITIES = ("high", "medium", "low")


def alert_list(r: ScopedReader, *, owner: str | None = None, kind: str | None = None, severity: str | None = None,
               group: str | None = None, account_id: str | None = None, include_acknowledged: bool = False,
               page: int = 1, page_size: int = 50) -> Page:
    """Alerts people act on: most important first (severity × value of the key account), with the
    account's and the key account's names beside their ids; filtered by owner, kind, severity and
    group (the key account: its unit id or group head)."""
    if not r.has("kam_alerts"):
        raise needs_build("alerts")
    acks, acked = _acks(r)
    cols = r.columns("kam_alerts")
    ranked = "priority" in cols
    conds, params = [], []
    if not include_acknowledged and acks:
        conds.append(f"NOT ({acked})")
    for name, value in (("owner", owner), ("kind", kind), ("account_id", account_id)):
        if value:
            conds.append(f"a.{name} = ?")
            params.append(value)
    if severity and "severity" in cols:
        conds.append("a.severity = ?")
        params.append(severity)
    if group:
        unit = "a.unit_id = ? OR " if "unit_id" in cols else ""
        members = "a.account_id IN (SELECT account_id FROM hierarchy WHERE group_head_id = ?)"
        conds.append("(" + unit + (members if r.has("hierarchy") else "a.account_id = ?") + ")")
        params += [group] * (2 if unit else 1)
    where = "WHERE " + " AND ".join(conds) if conds else ""
    extra = ", a.severity, a.unit_id, u.name AS unit_name, a.unit_tier, a.value, a.priority" if ranked else ""
    unit_join = "LEFT JOIN accounts u ON u.account_id = a.unit_id" if ranked else ""
    order = "a.priority DESC, a.created_at DESC, a.alert_id" if ranked else "a.created_at DESC, a.alert_id"
    base = (f"FROM kam_alerts a {acks} LEFT JOIN accounts ac ON ac.account_id = a.account_id {unit_join} {where}")
    total = int(r.scalar(f"SELECT count(*) {base}", params) or 0)
    rows = r.fetch_dicts(
        f"SELECT a.alert_id, a.account_id, ac.name AS account_name, a.kind, a.subject, a.reason, a.created_at, "
        f"a.owner, {acked} AS acknowledged{extra} {base} ORDER BY {order} LIMIT {int(page_size)} "
        f"OFFSET {int((page - 1) * page_size)}", params)
    return Page(rows, total, page, page_size)


def alert_facets(r: ScopedReader) -> dict[str, list[Any]]:
    """Owners and kinds present among open alerts, with counts: the Alerts page's filters."""
    if not r.has("kam_alerts"):
        return {"owners": [], "kinds": []}
    acks, acked = _acks(r)
    not_acked = f"WHERE NOT ({acked})" if acks else ""
    owners = r.fetch_dicts(f"SELECT a.owner, count(*) AS n FROM kam_alerts a {acks} {not_acked} "  # noqa: S608
                           "GROUP BY a.owner ORDER BY n DESC, a.owner")
    return {"owners": owners, "kinds": open_alert_kinds(r)}


def tier_label(tier: str) -> str:
    """`1` and `Tier 1` both mean the scores' `Tier 1`."""
    return f"Tier {tier}" if tier.strip().isdigit() else tier.strip()


def _missing(table: str) -> dict[str, Any]:
    return {"available": False, "hint": BUILD_HINT, "table": table}


def _revenue_by_tier(r: ScopedReader) -> dict[str, Any]:
    if not (r.has("scores") and "tier" in r.columns("scores")):
        return _missing("scores")
    if "revenue_cy" not in r.columns("account_kpis"):
        return _missing("account_kpis")
    return section(r, "scores", lambda: r.fetch_dicts(
        "SELECT coalesce(nullif(CAST(s.tier AS VARCHAR), ''), 'no tier') AS tier, count(*) AS accounts, "
        "coalesce(sum(k.revenue_cy), 0) AS revenue FROM scores s LEFT JOIN account_kpis k ON k.account_id = s.account_id "
        "GROUP BY 1 ORDER BY 1"))


KEY_ACCOUNT_SORTS = {"potential_3y": "k.potential_3y", "name": "k.name", "owner": "k.owner", "tier": "k.tier",
                     "revenue_cy": "revenue_cy", "revenue_py1": "revenue_py1", "share_of_wallet": "k.share_of_wallet",
                     "nrr": "k.nrr", "penetration": "penetration", "entities": "k.entities_total", "effort": "k.effort"}


def _unit_filter(r: ScopedReader) -> str:
    """Key accounts are KAM units (groups, designated entities, standalone companies); a build of an
    older version has no `kam_unit` column: its account rows then."""
    return "k.kam_unit" if "kam_unit" in r.columns("kam_accounts") else "k.scope = 'account'"


def key_accounts(r: ScopedReader, tier: int | None, page: int, page_size: int, owner: str | None = None,
                 sort: str | None = None, desc: bool = True) -> Page:
    """KAM's portfolio of **units** (the customer group, or a designated entity): 3-year potential,
    KAM tier, the unit's revenue (a whole group's: its consolidated `group_kpis` figures), share of
    wallet, NRR, penetration, effort quadrant, what to do next."""
    if not r.has("kam_accounts"):
        raise needs_build("the key-account portfolio")
    where, params = f"WHERE {_unit_filter(r)}", []
    if tier is not None:
        where += " AND k.tier = ?"
        params.append(tier)
    if owner:
        where += " AND k.owner = ?"
        params.append(owner)
    consolidated = r.has("group_kpis")
    gk = ("LEFT JOIN group_kpis gk ON gk.account_id = k.account_id AND k.scope = 'group' AND gk.entities = k.entities_total"
          if consolidated else "")
    fig = (lambda c: f"coalesce(gk.{c}, k.{c})") if consolidated else (lambda c: f"k.{c}")
    cols = r.columns("kam_accounts")
    extra = "".join(f", k.{c}" for c in ("kam_tier", "kam_unit_id", "wallet", "wallet_cell", "wallet_peers",
                                         "potential_source", "relationship", "revenue_12m", "open_deals") if c in cols)
    total = int(r.scalar(f"SELECT count(*) FROM kam_accounts k {where}", params) or 0)  # noqa: S608 - fixed text
    key = KEY_ACCOUNT_SORTS.get(sort or "")
    if key is None:
        key, sort, desc = "k.potential_3y", "potential_3y", True
    rows = r.fetch_dicts(
        "SELECT * FROM (SELECT k.account_id, k.scope, k.name, a.country, a.industry, k.owner, k.tier, k.potential_3y, "  # noqa: S608
        f"{fig('revenue_cy')} AS revenue_cy, {fig('revenue_py1')} AS revenue_py1, k.share_of_wallet, k.nrr, "
        "k.entities_penetrated, k.entities_total, "
        "CAST(k.entities_penetrated AS DOUBLE) / nullif(k.entities_total, 0) AS penetration, k.effort, "
        f"k.quadrant, k.recommendation, k.roles_missing{extra} "
        f"FROM kam_accounts k JOIN accounts a ON a.account_id = k.account_id {gk} {where}) k "
        f"ORDER BY {key} {'DESC' if desc else 'ASC'} NULLS LAST, k.tier, k.potential_3y DESC NULLS LAST, k.account_id "
        f"LIMIT {int(page_size)} OFFSET {int((page - 1) * page_size)}", params)
    result = Page(rows, total, page, page_size)
    result.sort, result.desc = sort, desc  # type: ignore[attr-defined]
    return result


def kam_tier_counts(r: ScopedReader) -> dict[int, int]:
    """KAM units per tier."""
    return dict(r.fetchall(f"SELECT k.tier, count(*) FROM kam_accounts k WHERE {_unit_filter(r)} GROUP BY k.tier"))  # noqa: S608


def kam_matrix(r: ScopedReader, per_tier: int = 150) -> list[dict[str, Any]]:
    """Potential × effort points of the largest key accounts (units) of each tier, for the
    allocation matrix (the largest overall were all tier 1 as soon as it had more than shown)."""
    return r.fetch_dicts(
        "SELECT account_id, name, tier, potential_3y, effort, quadrant FROM ("  # noqa: S608 - fixed text
        "SELECT k.account_id, k.name, k.tier, k.potential_3y, k.effort, k.quadrant, "
        "row_number() OVER (PARTITION BY k.tier ORDER BY k.potential_3y DESC, k.account_id) AS rn "
        f"FROM kam_accounts k WHERE {_unit_filter(r)} AND k.potential_3y > 0) m "
        "WHERE rn <= ? ORDER BY potential_3y DESC, account_id", [per_tier])


def scores(r: ScopedReader, grade: str | None, tier: str | None, page: int, page_size: int) -> Page:
    if not r.has("scores"):
        raise needs_build("ICP scores")
    where, params = ["1 = 1"], []
    if grade:
        where.append("s.grade = ?")
        params.append(grade.upper())
    if tier:
        where.append("CAST(s.tier AS VARCHAR) = ?")
        params.append(tier_label(tier))
    cond = " AND ".join(where)
    order = "s.grid_score DESC NULLS LAST, " if "grid_score" in r.columns("scores") else ""
    total = int(r.scalar(f"SELECT count(*) FROM scores s WHERE {cond}", params) or 0)  # noqa: S608 - fixed text
    rows = r.fetch_dicts(
        f"SELECT s.*, a.name, a.country, a.industry FROM scores s JOIN accounts a ON a.account_id = s.account_id "  # noqa: S608
        f"WHERE {cond} ORDER BY {order}s.account_id LIMIT {int(page_size)} OFFSET {int((page - 1) * page_size)}", params)
    return Page(rows, total, page, page_size)


def campaigns(r: ScopedReader, page: int, page_size: int) -> Page:
    total = int(r.scalar("SELECT count(*) FROM campaigns") or 0)
    rows = r.fetch_dicts(
        "SELECT c.campaign_id, c.name, c.seller_bu, c.channel, c.start_date, c.end_date, c.budget_rc, "  # noqa: S608
        "(SELECT count(*) FROM campaign_accounts ca WHERE ca.campaign_id = c.campaign_id) AS accounts "
        f"FROM campaigns c ORDER BY c.start_date DESC NULLS LAST, c.campaign_id LIMIT {int(page_size)} "
        f"OFFSET {int((page - 1) * page_size)}")
    return Page(rows, total, page, page_size)


def campaign(r: ScopedReader, campaign_id: str) -> dict[str, Any]:
    from accountree.errors import NotFoundError

    row = r.fetchone_dict("SELECT * FROM campaigns WHERE campaign_id = ?", [campaign_id])
    if row is None:  # also what a BU member gets for another BU's campaign: it does not exist for them
        raise NotFoundError(f"no campaign {campaign_id!r}")
    row.pop("row_hash", None)
    row["accounts"] = r.fetch_dicts(
        "SELECT a.account_id, a.name, a.country FROM campaign_accounts ca JOIN accounts a ON a.account_id = ca.account_id "
        "WHERE ca.campaign_id = ? ORDER BY a.name LIMIT 500", [campaign_id])
    return row


def imports(r: ScopedReader, limit: int = 100) -> list[dict[str, Any]]:
    rows = r.fetch_dicts(
        "SELECT import_id, max(imported_at) AS imported_at, max(imported_by) AS imported_by, count(*) AS files, "
        "sum(rows) AS rows, sum(inserted) AS inserted, sum(updated) AS updated, sum(unchanged) AS unchanged "
        "FROM imports GROUP BY import_id ORDER BY import_id DESC LIMIT ?", [limit])
    if r.principal.role != "admin":  # the OS account that ran the import is the server's business
        for row in rows:
            row["imported_by"] = None
    return rows


def hierarchy_issues(r: ScopedReader, page: int, page_size: int) -> Page:
    if not r.has("hierarchy_issues"):
        raise needs_build("hierarchy issues")
    total = int(r.scalar("SELECT count(*) FROM hierarchy_issues") or 0)
    rows = r.fetch_dicts(f"SELECT * FROM hierarchy_issues ORDER BY 1 LIMIT {int(page_size)} "  # noqa: S608
                         f"OFFSET {int((page - 1) * page_size)}")
    return Page(rows, total, page, page_size)


def duplicate_candidates(r: ScopedReader, status: str | None, page: int, page_size: int) -> Page:
    if not r.has("duplicate_candidates"):
        raise needs_build("the duplicate review queue")
    cols = r.columns("duplicate_candidates")
    where, params = "", []
    if status and "status" in cols:
        where, params = "WHERE status = ?", [status]
    order = "match_probability DESC, " if "match_probability" in cols else ""
    if "expected_value" in cols:  # resolve ranks its review queue by expected value (issue 19)
        order = f"coalesce(expected_value, 0) DESC, {order}"
    total = int(r.scalar(f"SELECT count(*) FROM duplicate_candidates {where}", params) or 0)  # noqa: S608
    rows = r.fetch_dicts(f"SELECT * FROM duplicate_candidates {where} ORDER BY {order}1 "  # noqa: S608
                         f"LIMIT {int(page_size)} OFFSET {int((page - 1) * page_size)}", params)
    return Page(rows, total, page, page_size)


def _last_changes(r: ScopedReader) -> dict[str, Any]:
    """The account status changes of the most recent build that changed any: its date and the
    counts from → to (the home page's card)."""
    day = r.scalar("SELECT max(entered_on) FROM kpi_status_history WHERE scope = 'account' "
                   "AND previous_status IS NOT NULL")
    rows = r.fetch_dicts(TRANSITIONS, transition_params(day, day, "account")) if day else []
    return {"on": day, "changes": rows[:8], "accounts": sum(x["accounts"] for x in rows)}


def transitions(r: ScopedReader, since: date | None, until: date | None, groups: bool) -> list[dict[str, Any]]:
    """Status changes between builds, counted by from → to (shared KPI data: every role sees them)."""
    if not r.has("kpi_status_history"):
        raise needs_build("the status history")
    return r.fetch_dicts(TRANSITIONS, transition_params(since, until, "group" if groups else "account"))
