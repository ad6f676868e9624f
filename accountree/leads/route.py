"""Lead routing: `accountree leads route`. Documented YAML rules (`routing.yaml`) send each lead to
one or several BUs and an owner; every route carries its rule, its reason in words and an SLA due
time; `lead_routing` is the current picture, `lead_routing_log` every decision ever made.

Set-based over the leads to route (those not routed yet; `--all`: every lead): the leads' context
(match, account, open deals of the account's group, KAM tier, ABM lead BU, products) is a few
temporary tables; each rule is one SELECT whose WHERE is its `when` and whose columns are its
targets and its reason in words (`_branch`, values as parameters); window functions keep, per lead,
the rules up to the first that routes it without `continue` and the first route per BU (`ROUTES`);
round-robin is a join of the routes to each pool's numbered slots (`SLOTS`).
"""

from __future__ import annotations

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


# Work tables of a routing run: TEMPORARY (private to the run's connection), dropped at the end.
WORK_TABLES = ("leads_r_ctx", "leads_r_deals", "leads_r_dealsum", "leads_r_dealbu", "leads_r_products",
               "leads_r_found", "leads_r_pools", "leads_r_members", "leads_r_cand", "leads_r_routes", "leads_r_slots", "leads_r_final")

# What routing needs about each lead, one row per lead to route; `ord` is the order leads are
# served in (round-robin): oldest first.
CONTEXT = """
SELECT l.lead_id, row_number() OVER (ORDER BY l.created_at NULLS LAST, l.lead_id) AS ord,
       l.seller_bu AS lead_bu, coalesce(l.country, a.country) AS country,
       coalesce(nullif(json_extract_string(l.attributes, '$.product_interest'), ''),
                json_extract_string(l.attributes, '$.product')) AS products,
       m.account_id, a.industry, a.employees, a.owner AS account_owner,
       {kam} AS kam_tier, {abm} AS abm_lead_bu
FROM leads l
LEFT JOIN lead_matches m ON m.lead_id = l.lead_id
LEFT JOIN accounts a ON a.account_id = m.account_id
{joins}
WHERE ? OR NOT EXISTS (SELECT 1 FROM lead_routing r WHERE r.lead_id = l.lead_id)
"""
KAM_JOIN = """LEFT JOIN (SELECT account_id, min(tier) AS tier FROM kam_accounts WHERE scope = 'account'
           GROUP BY account_id) k ON k.account_id = m.account_id"""
ABM_JOIN = """LEFT JOIN (SELECT account_id, min(lead_bu) AS lead_bu FROM abm_accounts
           WHERE scope = 'account' AND lead_bu IS NOT NULL GROUP BY account_id) x ON x.account_id = m.account_id"""
# Open deals of the matched account, else of its group (with the hierarchy build); `dn`: the
# account's own deals first.
_DEALS = """
SELECT m.account_id, d.deal_id, d.seller_bu, d.owner, d.stage, d.account_id AS deal_account,
       row_number() OVER (PARTITION BY m.account_id
                          ORDER BY CASE WHEN d.account_id = m.account_id THEN 0 ELSE 1 END, d.deal_id) AS dn
FROM (SELECT DISTINCT account_id FROM leads_r_ctx WHERE account_id IS NOT NULL) m
{join}
WHERE d.stage NOT IN ('won', 'lost')
"""
DEALS_GROUP = _DEALS.format(join="""JOIN hierarchy h1 ON h1.account_id = m.account_id
JOIN hierarchy h2 ON h2.group_head_id = h1.group_head_id
JOIN deals d ON d.account_id = h2.account_id""")
DEALS_ACCOUNT = _DEALS.format(join="JOIN deals d ON d.account_id = m.account_id")
# Per account: how many open deals, and the first three in words.
DEAL_SUMMARY = """
SELECT account_id, count(*) AS n_open,
       string_agg(CASE WHEN dn <= 3 THEN deal_id || ' (' || coalesce(stage, 'None') || ', '
                       || coalesce(nullif(seller_bu, ''), 'no BU')
                       || CASE WHEN deal_account = account_id THEN '' ELSE ', at ' || deal_account || ' in the group' END
                       || ')' END, ', ' ORDER BY dn) AS shown
FROM leads_r_deals GROUP BY account_id
"""
# `to: {bu: deal_bu}`: one target per BU with an open deal, its first deal, in the deals' order.
DEAL_BUS = """
SELECT account_id, seller_bu, deal_id, owner, dn FROM (
    SELECT account_id, seller_bu, deal_id, owner, dn,
           row_number() OVER (PARTITION BY account_id, seller_bu ORDER BY dn) AS first
    FROM leads_r_deals) d
WHERE first = 1
"""
# The lead's products of interest (`product_interest`, else `product`: `;` or `,` separated).
PRODUCTS = """
WITH RECURSIVE n(i) AS (
    SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < (SELECT coalesce(max(length(products) - length(replace(replace(products, ',', ''), ';', ''))), 0) + 1
               FROM leads_r_ctx)
), parts AS (
    SELECT c.lead_id, n.i AS pos, trim(split_part(replace(c.products, ',', ';'), ';', n.i)) AS product
    FROM leads_r_ctx c
    JOIN n ON n.i <= length(c.products) - length(replace(replace(c.products, ',', ''), ';', '')) + 1
    WHERE c.products IS NOT NULL
)
SELECT lead_id, pos, product FROM parts WHERE product <> ''
"""
# After the first rule that routes a lead and does not say `continue`, no later rule counts; of the
# targets left, a BU already given to the lead by an earlier rule (or target) is skipped.
ROUTES = """
WITH firsts AS (
    SELECT *, min(CASE WHEN has_target THEN prio END) OVER (PARTITION BY lead_id) AS first_routing
    FROM leads_r_cand
), stops AS (
    SELECT *, min(CASE WHEN NOT cont AND prio >= first_routing THEN prio END) OVER (PARTITION BY lead_id) AS stop
    FROM firsts
), kept AS (
    SELECT *, row_number() OVER (PARTITION BY lead_id, seller_bu ORDER BY prio, t) AS nth_for_bu
    FROM stops WHERE has_target AND (stop IS NULL OR prio <= stop)
)
SELECT lead_id, ord, prio, t, seller_bu, owner, reason, rule, pool, sla_due_at,
       CASE WHEN pool IS NOT NULL THEN row_number() OVER (PARTITION BY pool ORDER BY ord, prio, t) END AS k
FROM kept WHERE nth_for_bu = 1
"""
# Round-robin, count-based: each route to a pool takes the member with the fewest leads from it
# (then the first listed) under capacity. In order, that is the slots (level = the member's count
# after it, member's place) sorted: the k-th route to a pool takes the pool's k-th slot, and
# none when the pool has fewer free slots (full). Levels above the start's highest +
# ceil(routes / members) are never reached: not generated.
SLOTS = """
WITH need AS (SELECT pool, count(*) AS n FROM leads_r_routes WHERE pool IS NOT NULL GROUP BY pool),
team AS (SELECT pool, count(*) AS size, max(start) AS top FROM leads_r_members GROUP BY pool),
levels AS (
    SELECT m.pool, m.member, m.idx, m.start + r.k AS level
    FROM leads_r_members m
    JOIN need ON need.pool = m.pool
    JOIN team ON team.pool = m.pool
    JOIN leads_r_routes r ON r.pool = m.pool
    WHERE (m.capacity IS NULL OR m.start + r.k <= m.capacity)
      AND (m.start + r.k - team.top) * team.size <= need.n + team.size - 1
)
SELECT pool, member, level, row_number() OVER (PARTITION BY pool ORDER BY level, idx) AS k FROM levels
"""
FINAL = """
SELECT r.lead_id, r.seller_bu, coalesce(r.owner, s.member) AS owner, r.rule,
       r.reason || CASE WHEN r.pool IS NULL THEN ''
                        WHEN s.member IS NOT NULL THEN '; round-robin in pool ' || r.pool || ' ('
                             || CAST(s.level AS VARCHAR) || ' lead(s) now)'
                        ELSE '; pool ' || r.pool || ' is full (capacity ' || CAST(p.capacity AS VARCHAR)
                             || ' each): no owner' END AS reason,
       CAST(? AS TIMESTAMP) AS routed_at, r.sla_due_at, r.pool
FROM leads_r_routes r
LEFT JOIN leads_r_slots s ON s.pool = r.pool AND s.k = r.k
LEFT JOIN (SELECT pool, max(capacity) AS capacity FROM leads_r_members GROUP BY pool) p ON p.pool = r.pool
UNION ALL
SELECT c.lead_id, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), 'none', 'no rule applies', CAST(? AS TIMESTAMP),
       CAST(NULL AS TIMESTAMP), CAST(NULL AS VARCHAR)
FROM leads_r_ctx c WHERE NOT EXISTS (SELECT 1 FROM leads_r_routes r WHERE r.lead_id = c.lead_id)
"""
POOL_COUNTS = """
SELECT m.pool, m.member, m.start + count(s.k) AS assigned
FROM leads_r_members m
LEFT JOIN (SELECT s.pool, s.member, s.k FROM leads_r_slots s
           JOIN (SELECT pool, count(*) AS n FROM leads_r_routes WHERE pool IS NOT NULL GROUP BY pool) need
             ON need.pool = s.pool AND s.k <= need.n) s
  ON s.pool = m.pool AND s.member = m.member
GROUP BY m.pool, m.member, m.start
"""


FOUND = ("SELECT lead_id, CAST(? AS INTEGER) AS prio, string_agg(product, ', ' ORDER BY pos) AS found "
         "FROM leads_r_products WHERE {test} GROUP BY lead_id")


class _Sql:
    """A statement built piece by piece with its `?` parameters in order (no value in the text)."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.params: list[Any] = []

    def add(self, text: str, *params: Any) -> _Sql:
        self.text.append(text)
        self.params.extend(params)
        return self


def _in(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)


def _lower(values: list[str]) -> list[str]:
    return [v.lower() for v in values]


def _condition(when: When) -> tuple[list[tuple[str, list[Any]]], list[tuple[str, list[Any]]]]:
    """A rule's `when` as SQL: (predicates, reason parts), each with its parameters. Columns:
    `c` the lead's context, `s` its account's open deals, `f` its products this rule asks for."""
    preds: list[tuple[str, list[Any]]] = []
    why: list[tuple[str, list[Any]]] = []
    if when.matched is not None:
        preds.append((f"c.account_id IS {'NOT ' if when.matched else ''}NULL", []))
        why.append(("CASE WHEN c.account_id IS NOT NULL THEN 'matched to ' || c.account_id ELSE 'no account matched' END", []))
    if when.open_deal is not None:
        preds.append((f"coalesce(s.n_open, 0) {'>' if when.open_deal else '='} 0", []))
        why.append(("CASE WHEN coalesce(s.n_open, 0) > 0 THEN 'open deal(s) ' || s.shown ELSE 'no open deal' END", []))
    for key, column, words in (("country", "c.country", "country "), ("industry", "c.industry", "industry ")):
        values = getattr(when, key)
        if values is not None:
            test, params = _in(f"lower({column})", _lower(values))
            preds.append((f"{column} <> '' AND {test}", params))
            why.append((f"'{words}' || {column}", []))
    if when.employees_min is not None or when.employees_max is not None:
        preds.append(("c.employees IS NOT NULL", []))
        if when.employees_min is not None:
            preds.append(("c.employees >= ?", [when.employees_min]))
        if when.employees_max is not None:
            preds.append(("c.employees <= ?", [when.employees_max]))
        why.append(("CAST(c.employees AS VARCHAR) || ' employees'", []))
    if when.product is not None:
        preds.append(("f.found IS NOT NULL", []))
        why.append(("'interested in ' || f.found", []))
    if when.kam_tier is not None:
        preds.append(_in("c.kam_tier", list(when.kam_tier)))
        why.append(("'KAM tier ' || CAST(c.kam_tier AS VARCHAR)", []))
    if when.abm_lead_bu is not None:
        preds.append((f"c.abm_lead_bu IS {'NOT ' if when.abm_lead_bu else ''}NULL", []))
        why.append(("CASE WHEN c.abm_lead_bu IS NOT NULL THEN 'ABM lead BU ' || c.abm_lead_bu ELSE 'no ABM lead BU' END", []))
    if when.lead_bu is not None:
        test, params = _in("lower(c.lead_bu)", _lower(when.lead_bu))
        preds.append((f"c.lead_bu <> '' AND {test}", params))
        why.append(("'came in through ' || c.lead_bu", []))
    return preds, why


def _branch(rule: Rule, prio: int, rules: RoutingRules, now: datetime) -> _Sql:
    """The candidate routes of one rule: a row per lead it holds for and per target (a lead whose
    `deal_bu` rule holds without a deal: one row without target, `has_target` false)."""
    to = rule.to
    preds, why = _condition(rule.when)
    deal_bu = to.bu == "deal_bu"
    q = _Sql().add("SELECT c.lead_id, c.ord, CAST(? AS INTEGER) AS prio, CAST(? AS BOOLEAN) AS cont, ", prio, rule.continue_)
    q.add("coalesce(db.dn, 0) AS t, db.account_id IS NOT NULL AS has_target, " if deal_bu
          else "CAST(0 AS BIGINT) AS t, TRUE AS has_target, ")
    if deal_bu:
        q.add("db.seller_bu AS seller_bu, ")
    elif to.bu in ("lead_bu", "abm_lead_bu"):
        q.add(f"c.{to.bu} AS seller_bu, ")
    else:
        q.add("CAST(? AS VARCHAR) AS seller_bu, ", to.bu)
    owner_part = ""
    if deal_bu and to.owner == "deal_owner":
        owner = "db.owner"
    elif to.owner == "account_owner":
        owner = "c.account_owner"
        owner_part = (" || CASE WHEN c.account_owner <> '' THEN '; account owner ' || c.account_owner "
                      "ELSE '; the account has no owner' END")
    elif to.owner not in (None, "deal_owner"):
        owner = "CAST(? AS VARCHAR)"
    else:
        owner = "CAST(NULL AS VARCHAR)"
    q.add(f"{owner} AS owner, ", *([to.owner] if owner.startswith("CAST(?") else []))
    q.add("(" + (" || '; ' || ".join(f"({w})" for w, _ in why) if why else "CAST(? AS VARCHAR)"),
          *([p for _, ps in why for p in ps] if why else ["always"]))
    q.add((" || '; deal ' || db.deal_id" if deal_bu else "") + owner_part + ") AS reason, ")
    q.add("CAST(? AS VARCHAR) AS rule, ", rule.name)
    if to.pool:
        q.add(f"CASE WHEN {owner} IS NULL THEN CAST(? AS VARCHAR) END AS pool, ",
              *([to.owner] if owner.startswith("CAST(?") else []), to.pool)
    else:
        q.add("CAST(NULL AS VARCHAR) AS pool, ")
    sla = rule.sla_hours if rule.sla_hours is not None else rules.sla_hours
    q.add("CAST(? AS TIMESTAMP) AS sla_due_at ", now + timedelta(hours=sla))
    q.add("FROM leads_r_ctx c LEFT JOIN leads_r_dealsum s ON s.account_id = c.account_id ")
    if rule.when.product is not None:
        q.add("LEFT JOIN leads_r_found f ON f.lead_id = c.lead_id AND f.prio = ? ", prio)
    if deal_bu:
        q.add("LEFT JOIN leads_r_dealbu db ON db.account_id = c.account_id ")
    if preds:
        q.add("WHERE " + " AND ".join(f"({p})" for p, _ in preds), *[v for _, ps in preds for v in ps])
    return q


def _found(rules: RoutingRules) -> _Sql | None:
    """Per rule asking for products: the lead's products it names, in the lead's order."""
    q = _Sql()
    for prio, rule in enumerate(rules.rules):
        if rule.when.product is None:
            continue
        if q.text:
            q.add(" UNION ALL ")
        test, params = _in("lower(product)", _lower(rule.when.product))
        q.add(FOUND.format(test=test), prio, *params)
    return q if q.text else None


def _temp(ws: Workspace, table: str, select_sql: str, params: list[Any] | None = None) -> None:
    e = ws.engine
    e.execute(f'DROP TABLE IF EXISTS "{table}"')
    e.execute(f'CREATE TEMPORARY TABLE "{table}" AS {select_sql}', params)


def _members(rules: RoutingRules) -> pa.Table:
    rows = [(name, m, i, pool.capacity) for name, pool in rules.pools.items() for i, m in enumerate(pool.members)]
    return pa.table({"pool": pa.array([r[0] for r in rows], pa.string()), "member": pa.array([r[1] for r in rows], pa.string()),
                     "idx": pa.array([r[2] for r in rows], pa.int64()), "capacity": pa.array([r[3] for r in rows], pa.int64())})


def _route_all(ws: Workspace, rules: RoutingRules, everything: bool, now: datetime) -> None:
    """Fill `leads_r_final` (the routes) and `leads_r_members` (new pool counts in `POOL_COUNTS`)."""
    e = ws.engine
    if not e.table_exists("lead_matches"):
        raise NotFoundError("leads are not matched yet", hint="Run `accountree leads match` (or `accountree build`).")
    kam, abm = e.table_exists("kam_accounts"), e.table_exists("abm_accounts")
    _temp(ws, "leads_r_ctx", CONTEXT.format(kam="k.tier" if kam else "CAST(NULL AS INTEGER)",
                                            abm="x.lead_bu" if abm else "CAST(NULL AS VARCHAR)",
                                            joins="\n".join(j for j, on in ((KAM_JOIN, kam), (ABM_JOIN, abm)) if on)),
          [everything])
    _temp(ws, "leads_r_deals", DEALS_GROUP if e.table_exists("hierarchy") else DEALS_ACCOUNT)
    _temp(ws, "leads_r_dealsum", DEAL_SUMMARY)
    _temp(ws, "leads_r_dealbu", DEAL_BUS)
    _temp(ws, "leads_r_products", PRODUCTS)
    found = _found(rules)
    if found is not None:
        _temp(ws, "leads_r_found", "".join(found.text), found.params)
    branches = [_branch(rule, prio, rules, now) for prio, rule in enumerate(rules.rules)]
    _temp(ws, "leads_r_cand", " UNION ALL ".join("".join(b.text) for b in branches), [p for b in branches for p in b.params])
    _temp(ws, "leads_r_routes", ROUTES)
    _temp(ws, "leads_r_pools", "SELECT CAST(NULL AS VARCHAR) AS pool, CAST(NULL AS VARCHAR) AS member, "
                               "CAST(NULL AS BIGINT) AS idx, CAST(NULL AS BIGINT) AS capacity WHERE 1 = 0")
    members = _members(rules)  # the rules' pools: a few rows of configuration
    if members.num_rows:
        e.insert_arrow("leads_r_pools", members)
    _temp(ws, "leads_r_members", "SELECT m.pool, m.member, m.idx, m.capacity, coalesce(c.assigned, 0) AS start "
                                 "FROM leads_r_pools m LEFT JOIN lead_pool_counts c ON c.pool = m.pool AND c.member = m.member")
    _temp(ws, "leads_r_slots", SLOTS)
    _temp(ws, "leads_r_final", FINAL, [now, now])


def route(ws: Workspace, rules: RoutingRules | None = None, everything: bool = False,
          now: datetime | None = None) -> dict[str, Any]:
    """Route the leads not routed yet (every lead with `everything`), set-based: each rule is a
    predicate over the whole lead set (`_branch`), the first rule that routes a lead and its
    targets by window functions (`ROUTES`), round-robin by slot numbers (`SLOTS`). Returns a summary."""
    rules = rules or load_rules(ws)
    now = (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    e = ws.engine
    with e.transaction():
        _route_all(ws, rules, everything, now)
        if everything:
            e.execute("DELETE FROM lead_routing")
        columns = "lead_id, seller_bu, owner, rule, reason, routed_at, sla_due_at"
        e.execute(f"INSERT INTO lead_routing ({columns}, pool) SELECT {columns}, pool FROM leads_r_final")  # noqa: S608
        e.execute(f"INSERT INTO lead_routing_log ({columns}, routed_by) SELECT {columns}, CAST(? AS VARCHAR) "  # noqa: S608
                  "FROM leads_r_final", [current_user()])
        e.execute("DELETE FROM lead_pool_counts")
        e.execute("INSERT INTO lead_pool_counts (pool, member, assigned) " + POOL_COUNTS)
        leads = int(e.scalar("SELECT count(*) FROM leads_r_ctx") or 0)
        by_rule = e.fetchall("SELECT rule, count(*) FROM leads_r_final GROUP BY rule ORDER BY rule")
        several = int(e.scalar("SELECT count(*) FROM (SELECT lead_id FROM leads_r_final GROUP BY lead_id "
                               "HAVING count(*) > 1) x") or 0)
        for table in WORK_TABLES:
            e.execute(f'DROP TABLE IF EXISTS "{table}"')
    return {"leads routed": leads, "routes": sum(int(n) for _, n in by_rule), "leads to several BUs": several,
            **{f"rule {k}": int(v) for k, v in by_rule}}
