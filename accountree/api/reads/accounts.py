"""Accounts: the filtered list, search, and the account 360 — shared by the API and the pages.

Every function takes a `ScopedReader`, so BU-owned rows are already limited to the caller's BU.
Derived tables (hierarchy, account_kpis, scores, kam, alerts) join in when the build made them;
a section whose table is missing says so instead of failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlglot import exp
from unidecode import unidecode

from accountree.api.access import ScopedReader
from accountree.api.reads.common import ACCENTS_FROM, ACCENTS_TO, Page, col, needs_build, param, section
from accountree.api.reads.portfolio import open_alerts, tier_label
from accountree.errors import ConfigError, NotFoundError
from accountree.kpi.rules import LABELS as STATUS_LABELS

SORTS = {"name": ("a", "name"), "revenue": ("k", "revenue_cy"), "score": ("s", "grid_score"),
         "employees": ("a", "employees"), "country": ("a", "country")}


@dataclass
class AccountFilters:
    q: str | None = None
    status: str | None = None
    grade: str | None = None
    tier: str | None = None
    country: str | None = None
    industry: str | None = None
    bu: str | None = None
    group: str | None = None
    sort: str = "name"
    descending: bool = False


def folded(column: exp.Expression) -> exp.Expression:
    """lower(column) with accents removed, the same way on DuckDB and PostgreSQL."""
    return exp.func("translate", exp.Lower(this=column), exp.Literal.string(ACCENTS_FROM), exp.Literal.string(ACCENTS_TO))


def fold_text(text: str) -> str:
    return unidecode(text).lower().strip()


def _base_select(r: ScopedReader) -> exp.Select:
    q = exp.select(*[col("a", c) for c in ("account_id", "name", "country", "city", "industry", "employees",
                                          "annual_revenue_rc", "domain")]).from_("accounts AS a")
    if r.has("hierarchy"):
        q = q.join("hierarchy AS h", on="h.account_id = a.account_id", join_type="left")
        q = q.select(*[col("h", c) for c in ("group_head_id", "level", "is_group_head") if c in r.columns("hierarchy")])
        if "group_head_id" in r.columns("hierarchy"):  # the account's group and its consolidated figures
            q = q.join("accounts AS ga", on="ga.account_id = h.group_head_id", join_type="left")
            q = q.select(exp.alias_(col("ga", "name"), "group_name", quoted=True))
            if r.has("group_kpis"):
                q = q.join("group_kpis AS gk", on="gk.account_id = h.group_head_id", join_type="left")
                q = q.select(*[exp.alias_(col("gk", c), n, quoted=True) for c, n in (
                    ("group_status", "group_status"), ("revenue_cy", "group_revenue_cy"), ("entities", "group_entities"))
                    if c in r.columns("group_kpis")])
    if r.has("account_kpis"):
        q = q.join("account_kpis AS k", on="k.account_id = a.account_id", join_type="left")
        q = q.select(*[col("k", c) for c in ("status", "revenue_cy", "margin_cy") if c in r.columns("account_kpis")])
    if r.has("scores"):
        q = q.join("scores AS s", on="s.account_id = a.account_id", join_type="left")
        q = q.select(*[col("s", c) for c in ("grade", "tier", "grid_score") if c in r.columns("scores")])
    return q


def _need(r: ScopedReader, table: str, column: str, what: str) -> None:
    if column not in r.columns(table):
        raise needs_build(what)


def list_accounts(r: ScopedReader, f: AccountFilters, page: int = 1, page_size: int = 50) -> Page:
    q = _base_select(r)
    params: list[Any] = []
    where: list[exp.Expression] = []

    def add(cond: exp.Expression, *values: Any) -> None:
        where.append(cond)
        params.extend(values)

    if f.q:
        add(folded(col("a", "name")).like(param()), f"%{fold_text(f.q)}%")
    if f.status:
        _need(r, "account_kpis", "status", "account status")
        # any casing, the label or the code: "Former customer", "former customer", "former_customer"
        code = f.status.strip().lower().replace(" ", "_")
        if code not in STATUS_LABELS:
            raise ConfigError(f"unknown status {f.status!r}",
                              hint=f"Statuses: {', '.join(STATUS_LABELS.values())} (any casing).")
        if "status_code" in r.columns("account_kpis"):
            add(col("k", "status_code").eq(param()), code)
        else:
            add(col("k", "status").eq(param()), STATUS_LABELS[code])
    if f.grade:
        _need(r, "scores", "grade", "ICP grades")
        add(col("s", "grade").eq(param()), f.grade.upper())
    if f.tier:
        _need(r, "scores", "tier", "tiers")
        add(exp.cast(col("s", "tier"), "text").eq(param()), tier_label(f.tier))
    if f.country:
        add(col("a", "country").eq(param()), f.country.upper())
    if f.industry:
        add(exp.func("lower", col("a", "industry")).eq(param()), f.industry.strip().lower())
    if f.group:
        _need(r, "hierarchy", "group_head_id", "the account hierarchy")
        add(col("h", "group_head_id").eq(param()), f.group)
    if f.bu:
        deals = exp.select("1").from_("deals AS d").where("d.account_id = a.account_id").where(
            col("d", "seller_bu").eq(param()))
        add(exp.Exists(this=deals), f.bu)
    for cond in where:
        q = q.where(cond)
    total = int(r.scalar(exp.select("count(*)").from_(q.subquery("x")), params) or 0)
    alias, column = SORTS.get(f.sort, SORTS["name"])
    if alias != "a" and column not in r.columns({"k": "account_kpis", "s": "scores"}[alias]):
        alias, column = SORTS["name"]
    order = col(alias, column)
    q = q.order_by(exp.Ordered(this=order, desc=f.descending, nulls_first=False), col("a", "account_id"))
    q = q.limit(page_size).offset((page - 1) * page_size)
    return Page(r.fetch_dicts(q, params), total, page, page_size)


def search(r: ScopedReader, text: str, limit: int = 30) -> list[dict[str, Any]]:
    """Accounts whose name (accents and case ignored), domain, SIREN/SIRET, LEI or DUNS match."""
    text = text.strip()
    if not text:
        return []
    digits = "".join(ch for ch in text if ch.isdigit())
    q = _base_select(r).select(col("a", "siren"), col("a", "lei"), col("a", "duns"))
    name_like = folded(col("a", "name")).like(param())
    exact = exp.or_(
        col("a", "siren").eq(param()), col("a", "siret").eq(param()), col("a", "duns").eq(param()),
        exp.Upper(this=col("a", "lei")).eq(param()), col("a", "domain").eq(param()), col("a", "account_id").eq(param()))
    q = q.where(exp.or_(name_like, exact, exp.Lower(this=col("a", "domain")).like(param())))
    rank = exp.Case().when(exact, exp.Literal.number(0)).when(folded(col("a", "name")).like(param()),
                                                                exp.Literal.number(1)).else_(exp.Literal.number(2))
    q = q.order_by(rank, col("a", "name")).limit(limit)
    needle = fold_text(text)
    ids = [digits or text] * 3 + [text.upper(), text.lower(), text]
    params = [f"%{needle}%", *ids, f"%{text.lower()}%", *ids, f"{needle}%"]
    return r.fetch_dicts(q, params)


def resolve_account(r: ScopedReader, account_id: str) -> str:
    """The id itself, or the survivor an old (merged) id now points to."""
    if r.scalar("SELECT count(*) FROM accounts WHERE account_id = ?", [account_id]):
        return account_id
    survivor = r.scalar("SELECT survivor_id FROM account_aliases WHERE old_id = ?", [account_id])
    if survivor:
        return str(survivor)
    raise NotFoundError(f"no account {account_id!r}", hint="Search accounts by name with /api/v1/search?q=…")


# One-row facts of an account: (alias, table, extra condition). Separate point look-ups measured
# faster on DuckDB than one query joining them (each is a filtered scan of one table).
FACTS = (("h", "hierarchy", ""), ("k", "account_kpis", ""), ("s", "scores", ""),
         ("ka", "kam_accounts", " AND scope = 'account'"))
HIDDEN = ("row_hash", "import_id")


def account_facts(r: ScopedReader, account_id: str) -> dict[str, dict[str, Any] | None]:
    """The account row and its hierarchy, KPI, score and key-account rows (None when absent)."""
    account = r.fetchone_dict("SELECT * FROM accounts WHERE account_id = ?", [account_id])
    if account is None:
        account_id = resolve_account(r, account_id)  # a merged id: its survivor, or NotFound
        account = r.fetchone_dict("SELECT * FROM accounts WHERE account_id = ?", [account_id])
    for hidden in HIDDEN:
        (account or {}).pop(hidden, None)
    facts: dict[str, dict[str, Any] | None] = {"a": account}
    for alias, table, extra in FACTS:
        if r.has(table):
            facts[alias] = r.fetchone_dict(f"SELECT * FROM {table} WHERE account_id = ?{extra}",  # noqa: S608 - fixed names
                                           [account_id])
    h = facts.get("h")
    if h and {"parent_id", "group_head_id"} <= h.keys():
        names = dict(r.fetchall("SELECT account_id, name FROM accounts WHERE account_id IN (?, ?)",
                                [h["parent_id"] or "", h["group_head_id"] or ""]))
        h["parent_name"], h["group_head_name"] = names.get(h["parent_id"]), names.get(h["group_head_id"])
    return facts


def account_360_json(r: ScopedReader, account_id: str) -> bytes:
    """The account 360 as JSON: from the build's read model when it is current, else live."""
    if r.read_model:
        from accountree.api.reads.model import account_360_json as from_model

        return from_model(r, account_id)
    from accountree.api.server import to_json_bytes

    return to_json_bytes(live_account_360(r, account_id))


def account_360(r: ScopedReader, account_id: str) -> dict[str, Any]:
    """Everything about one account the caller may see, section by section, as JSON values (dates as
    ISO text) whichever way it was read, so the API and the pages show the same."""
    return json.loads(account_360_json(r, account_id))


def live_account_360(r: ScopedReader, account_id: str) -> dict[str, Any]:
    """The account 360 from the workspace's tables (the reference the read model reproduces)."""
    from accountree.api.reads import stakeholders

    facts = account_facts(r, account_id)
    account = facts["a"] or {}
    account_id = account["account_id"]

    def fact(alias: str, table: str) -> dict[str, Any]:
        return {"available": r.has(table), "data": facts.get(alias)} if r.has(table) else section(r, table, dict)

    hierarchy = fact("h", "hierarchy")
    if hierarchy.get("data"):
        hierarchy["data"]["children"] = r.fetch_dicts(
            "SELECT h.account_id, a.name FROM hierarchy h JOIN accounts a ON a.account_id = h.account_id "
            "WHERE h.parent_id = ? ORDER BY a.name LIMIT 50", [account_id])
    return {
        "account": account,
        "hierarchy": hierarchy,
        "kpis": fact("k", "account_kpis"),
        "score": fact("s", "scores"),
        "score_details": section(r, "score_details", lambda: r.fetch_dicts(
            "SELECT pillar, criterion, field, value, rule, points, max_points, weight, contribution FROM score_details "
            "WHERE account_id = ? ORDER BY pillar, criterion", [account_id])),
        "key_account": fact("ka", "kam_accounts"),
        "alerts": section(r, "kam_alerts", lambda: open_alerts(r, account_id, 50)),
        "status_history": section(r, "kpi_status_history", lambda: r.fetch_dicts(
            "SELECT status, entered_on, left_on, previous_status FROM kpi_status_history "
            "WHERE account_id = ? AND scope = 'account' ORDER BY entered_on DESC LIMIT 30", [account_id])),
        "meddic": {"available": r.has("kam_meddic"), "data": stakeholders.meddic(r, account_id)},
        "deals": {"available": True, "data": r.fetch_dicts(
            "SELECT deal_id, seller_bu, product, stage, amount_rc, gross_margin_rc, created_at, close_date, owner "
            "FROM deals WHERE account_id = ? ORDER BY close_date DESC NULLS LAST, deal_id LIMIT 200", [account_id])},
        "stakeholders": {"available": True, "data": stakeholders.stakeholders(r, account_id)},
        "activities": {"available": True, "data": r.fetch_dicts(
            'SELECT activity_id, "date", type, topic, weight, seller_bu FROM activities WHERE account_id = ? '
            'ORDER BY "date" DESC, activity_id LIMIT 50', [account_id])},
        "campaigns": {"available": True, "data": r.fetch_dicts(
            "SELECT c.campaign_id, c.name, c.seller_bu, c.channel, c.start_date, c.end_date FROM campaign_accounts ca "
            "JOIN campaigns c ON c.campaign_id = ca.campaign_id WHERE ca.account_id = ? ORDER BY c.start_date DESC",
            [account_id])},
        "other_bus": r.other_bu_activity(account_id),
    }
