"""The portfolio rules as SQL steps run by the engine: 3-year potential, KAM units and tiers, effort,
the potential × effort matrix, coverage inputs and the KAM KPIs, written to `kam_accounts` without
a row of it passing through Python.

The rules are those of `portfolio.py` (kept as the readable, row-at-a-time statement of each rule;
`tests/test_kam_portfolio_steps.py` checks that both give the same rows). Steps, each a table the
next ones read (temporary, dropped at the end of the stage):

- `kam_base_step`: one row per account with everything a rule reads — parents and group head (the
  hierarchy stage's, else the core tables'), the KPI stage's revenue and status (else revenue from
  won deals), the `potential_3y` attribute, the ICP score, won-deal cycles, open deals, committee
  roles held, its relationship, its own potential and its KAM unit;
- `kam_unit_step`: one row per KAM unit (sums over its entities, the peers' wallet, potential);
- `kam_rows_step`: the unit rows and the other entities' own rows, tiers from the units' ranks;
- `kam_accounts`: the columns of `tables.TABLES['kam_accounts']`, effort and quadrant computed.

SQL text is static (DuckDB dialect) and values are `$name` parameters; the only text composed is
which optional earlier-stage table a column comes from (names from this module's constants).
"""

# ruff: noqa: S608 - statements are composed from this module's constant fragments; values are parameters
from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa

from accountree.kam import wallet
from accountree.kam.inputs import KPI_COLUMNS, NEEDS, attribute, parse_amount
from accountree.kam.portfolio import COMMITTEE_ROLES, QUADRANTS, YEARS
from accountree.kam.settings import KamSettings
from accountree.kam.steps import ACCOUNT_DEALS
from accountree.kam.tables import cast_select
from accountree.store import Workspace

STEP_TABLES = ("kam_potential_step", "kam_heads_step", "kam_base_step", "kam_unit_step", "kam_rows_step")

# Accounts whose custom attributes may carry `potential_3y` (parsed in Python: names and numbers
# are typed by people).
POTENTIAL_CANDIDATES = ("SELECT account_id, attributes FROM accounts "
                        "WHERE lower(CAST(attributes AS VARCHAR)) LIKE '%potential%' ORDER BY account_id")

# Won-deal revenue when there is no KPI stage: the 12 months to the build date, and the 12 before.
_REVENUE_FROM_DEALS = """(
    SELECT account_id,
           coalesce(sum(coalesce(amount_rc, 0)) FILTER (WHERE close_date > CAST($cy_start AS DATE)), 0) AS revenue_cy,
           coalesce(sum(coalesce(amount_rc, 0)) FILTER (WHERE close_date <= CAST($cy_start AS DATE)
                                                         AND close_date > CAST($py_start AS DATE)), 0) AS revenue_py1
    FROM deals WHERE stage = 'won' AND close_date <= CAST($as_of AS DATE) GROUP BY account_id)"""

_ACCOUNT_DEALS = f"({ACCOUNT_DEALS})"  # the per-account deal facts of `kam.steps`

_ROLE_FLAGS = ", ".join(f"max(CASE WHEN role = '{r}' THEN 1 ELSE 0 END) AS has_{r}" for r in COMMITTEE_ROLES)
_ACCOUNT_ROLES = f"""(
    SELECT account_id, {_ROLE_FLAGS} FROM (
        SELECT DISTINCT c.account_id, coalesce(r.buying_role, c.buying_role) AS role
        FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
        WHERE (c.end_date IS NULL OR c.end_date > CAST($as_of AS DATE))) x
    GROUP BY account_id)"""

_CUSTOMER = ("CASE WHEN coalesce(nullif(k.status_code, ''), nullif(lower(CAST(k.status AS VARCHAR)), '')) IS NOT NULL "
             "THEN coalesce(nullif(k.status_code, ''), nullif(lower(CAST(k.status AS VARCHAR)), '')) = 'customer' "
             "ELSE coalesce(k.revenue_ttm, k.revenue_cy, 0) > 0 END")

# One row per account. FROM-clause pieces and column expressions are filled in by `_base_sql`.
_BASE = """
WITH a AS (
    SELECT a.account_id, a.name, a.owner, PARENT AS parent_id, HEAD AS group_head_id,
           p.potential_field, CAST($nrr_period AS VARCHAR) AS nrr_period, KPIS, ENTITIES, SCORE AS grid_score
    FROM accounts a HIERARCHY_JOIN
    LEFT JOIN kam_potential_step p ON p.account_id = a.account_id KPI_JOIN GROUP_JOIN SCORE_JOIN
), k AS (
    SELECT a.*, coalesce(revenue_ttm, revenue_cy, 0) AS run_rate, NOW_PREV,
           CUSTOMER AS is_customer,
           coalesce(d.cycle_sum, 0) AS cycle_sum, coalesce(d.cycle_n, 0) AS cycle_n,
           coalesce(d.bu_sum, 0) AS bu_sum, coalesce(d.bu_n, 0) AS bu_n, coalesce(d.open_deals, 0) AS open_deals,
           ROLES
    FROM a LEFT JOIN ACCOUNT_DEALS d ON d.account_id = a.account_id
    LEFT JOIN ACCOUNT_ROLES r ON r.account_id = a.account_id
), s AS (
    SELECT k.*, CASE WHEN is_customer THEN 'customer'
                     WHEN open_deals > 0 OR status_code = 'opportunity' THEN 'pipeline' ELSE 'prospect' END AS stage,
           CASE WHEN wallet_source IS NULL OR wallet_source = 'attribute' THEN wallet END AS given_wallet
    FROM k
)
SELECT s.*,
       CASE WHEN potential_field IS NOT NULL THEN greatest(potential_field, 0)
            WHEN coalesce(given_wallet, 0) <> 0 THEN YEARS * greatest(greatest(run_rate, 0), given_wallet * CAST(
                CASE stage WHEN 'customer' THEN $share_customer WHEN 'pipeline' THEN $share_pipeline
                ELSE $share_prospect END AS DOUBLE))
            ELSE YEARS * greatest(run_rate, 0) END AS own_potential,
       CASE WHEN potential_field IS NOT NULL THEN 'field' WHEN coalesce(given_wallet, 0) <> 0 THEN 'wallet'
            ELSE 'run_rate' END AS own_source,
       CASE WHEN coalesce(wallet, 0) <> 0 AND wallet_source IS DISTINCT FROM 'model' THEN wallet END AS crm_wallet,
       coalesce(UNIT, s.group_head_id, s.account_id) AS unit_id
FROM s UNIT_JOIN
"""

_WALLET_COLUMNS = "w.spend, w.peer_level, w.peers, w.peer_wallet, w.unit_id AS wallet_unit"
_NO_WALLET_COLUMNS = ("CAST(NULL AS DOUBLE) AS spend, CAST(NULL AS INTEGER) AS peer_level, "
                      "CAST(NULL AS BIGINT) AS peers, CAST(NULL AS DOUBLE) AS peer_wallet, "
                      "CAST(NULL AS VARCHAR) AS wallet_unit")
_HAS = ", ".join(f"max(b.has_{r}) AS has_{r}" for r in COMMITTEE_ROLES)

# One row per KAM unit whose head is an account: sums over its entities, the head's figures, the
# peers' wallet and the unit's potential (the head's field; else its members' figures when one
# carries a field or there is no wallet; else the peers').
_UNITS = f"""
WITH m AS (
    SELECT b.unit_id, count(*) AS members,
           sum(b.run_rate) AS run_rate, sum(b.rev_now) AS rev_now, sum(b.rev_prev) AS rev_prev,
           sum(coalesce(b.revenue_cy, 0)) AS revenue_cy, sum(coalesce(b.revenue_py1, 0)) AS revenue_py1,
           coalesce(sum(b.crm_wallet), 0) AS crm_wallet, sum(least(b.rev_now, b.rev_prev)) AS kept,
           count(*) FILTER (WHERE b.is_customer) AS penetrated,
           sum(b.cycle_sum) AS cycle_sum, sum(b.cycle_n) AS cycle_n, sum(b.bu_sum) AS bu_sum, sum(b.bu_n) AS bu_n,
           sum(b.open_deals) AS open_deals, {_HAS},
           max(CASE WHEN b.potential_field IS NOT NULL THEN 1 ELSE 0 END) AS any_field,
           sum(b.own_potential) AS own_potential,
           concat_ws('+', max(CASE WHEN b.own_source = 'field' THEN 'field' END),
                     max(CASE WHEN b.own_source = 'run_rate' THEN 'run_rate' END),
                     max(CASE WHEN b.own_source = 'wallet' THEN 'wallet' END)) AS sources,
           CASE WHEN max(CASE WHEN b.stage = 'customer' THEN 1 ELSE 0 END) = 1 THEN 'customer'
                WHEN max(CASE WHEN b.stage = 'pipeline' THEN 1 ELSE 0 END) = 1 THEN 'pipeline'
                ELSE 'prospect' END AS relationship
    FROM kam_base_step b GROUP BY b.unit_id
), g AS (
    SELECT group_head_id, count(*) AS group_size FROM kam_base_step GROUP BY group_head_id
), u AS (
    SELECT m.*, h.name, h.owner, h.group_head_id, h.potential_field, h.grid_score, h.nrr AS head_nrr,
           h.share_of_wallet AS head_share_of_wallet, h.wallet_source AS head_wallet_source, h.nrr_period,
           h.entities AS head_entities, h.customer_entities AS head_customer_entities, g.group_size,
           WALLET_COLUMNS
    FROM m JOIN kam_base_step h ON h.account_id = m.unit_id
    LEFT JOIN g ON g.group_head_id = m.unit_id
    WALLET_JOIN
), p AS (
    SELECT u.*,
           CASE WHEN wallet_unit IS NULL THEN NULL
                WHEN peer_wallet IS NULL THEN coalesce(spend, 0)
                ELSE greatest(coalesce(spend, 0), peer_wallet) END AS unit_wallet_all,
           CASE WHEN potential_field IS NOT NULL THEN 'field'
                WHEN any_field = 1 OR wallet_unit IS NULL THEN 'members' ELSE 'peers' END AS potential_kind
    FROM u
)
SELECT p.*,
       CASE potential_kind WHEN 'field' THEN greatest(potential_field, 0)
            WHEN 'members' THEN own_potential
            ELSE {YEARS} * (greatest(coalesce(spend, 0), 0) + CAST(CASE relationship WHEN 'customer' THEN 1.0
                 WHEN 'pipeline' THEN $reach_pipeline ELSE $reach_prospect END AS DOUBLE)
                 * greatest(coalesce(unit_wallet_all, 0) - greatest(coalesce(spend, 0), 0), 0)) END AS potential,
       CASE potential_kind WHEN 'field' THEN 'field'
            WHEN 'members' THEN CASE WHEN members = 1 THEN sources ELSE 'members:' || sources END
            ELSE 'peers: ' || CELL || CAST($quantile_label AS VARCHAR) || CAST(peers AS VARCHAR) || ')' END
           AS potential_source,
       CASE WHEN potential_kind = 'members' THEN NULL ELSE unit_wallet_all END AS unit_wallet,
       CASE WHEN wallet_unit IS NULL THEN NULL ELSE CELL END AS wallet_cell
FROM p
"""


def rounded(expr: str, digits: int) -> str:
    """`expr` rounded to `digits` decimals like Python's `round`: a tie goes to the even neighbour
    (`round(169.25, 1)` = 169.2; SQL's `round` gives 169.3), the same on every engine."""
    scale = 10 ** digits
    y = f"(CAST({expr} AS DOUBLE) * {scale})"
    return (f"((CASE WHEN {y} - floor({y}) = 0.5 THEN floor({y}) + (floor({y}) - 2 * floor(floor({y}) / 2)) "
            f"ELSE floor({y} + 0.5) END) / {scale})")


def _ratio(num: str, den: str) -> str:
    return f"CASE WHEN {den} <> 0 THEN {rounded(f'CAST({num} AS DOUBLE) / {den}', 4)} END"


def _cycle(p: str) -> str:
    return (f"CASE WHEN {p}cycle_n > 0 THEN CAST({p}cycle_sum AS DOUBLE) / {p}cycle_n "
            f"WHEN {p}bu_n > 0 THEN CAST({p}bu_sum AS DOUBLE) / {p}bu_n END")


_ICP = "1 - CAST({p}grid_score AS DOUBLE) / 100"
_ROW_COLUMNS = ("scope", "account_id", "name", "owner", "group_head_id", "potential", "potential_source",
                "relationship", "run_rate", "revenue_cy", "revenue_py1", "wallet", "share_of_wallet", "nrr",
                "retention", "nrr_now", "nrr_prev", "nrr_period", "entities_penetrated", "entities_total",
                "cycle", "open_deals", *(f"has_{r}" for r in COMMITTEE_ROLES), "icp_distance",
                "kam_unit", "kam_unit_id", "wallet_cell", "wallet_peers", "unit_tier")

# The unit rows (single-entity units are the entity's own row, `scope = 'account'`) ranked for
# the tiers, then every other entity's own row carrying its unit's tier.
_ROWS = f"""
WITH units AS (
    SELECT CASE WHEN members = 1 THEN 'account' ELSE 'group' END AS scope, unit_id AS account_id, name, owner,
           group_head_id, potential, potential_source, relationship, run_rate, revenue_cy, revenue_py1,
           CASE WHEN coalesce(unit_wallet, 0) <> 0 THEN unit_wallet ELSE nullif(crm_wallet, 0) END AS wallet,
           CASE WHEN coalesce(unit_wallet, 0) <> 0 AND wallet_unit IS NOT NULL
                THEN {_ratio('coalesce(spend, 0)', 'unit_wallet')}
                WHEN members = 1 AND head_share_of_wallet IS NOT NULL AND head_wallet_source IS DISTINCT FROM 'model'
                THEN head_share_of_wallet
                ELSE {_ratio('run_rate', 'crm_wallet')} END AS share_of_wallet,
           CASE WHEN members = 1 AND head_nrr IS NOT NULL THEN head_nrr ELSE {_ratio('rev_now', 'rev_prev')} END AS nrr,
           {_ratio('kept', 'rev_prev')} AS retention, rev_now AS nrr_now, rev_prev AS nrr_prev, nrr_period,
           CASE WHEN members > 1 AND coalesce(head_entities, 0) <> 0 AND unit_id = group_head_id
                     AND members = group_size THEN coalesce(head_customer_entities, 0) ELSE penetrated END
               AS entities_penetrated,
           CASE WHEN members > 1 AND coalesce(head_entities, 0) <> 0 AND unit_id = group_head_id
                     AND members = group_size THEN head_entities ELSE members END AS entities_total,
           {_cycle('')} AS cycle, open_deals, {', '.join(f'has_{r}' for r in COMMITTEE_ROLES)},
           {_ICP.format(p='')} AS icp_distance, TRUE AS kam_unit, unit_id AS kam_unit_id, wallet_cell,
           CASE WHEN wallet_unit IS NULL THEN NULL ELSE peers END AS wallet_peers,
           {rounded('potential', 2)} AS rounded, members
    FROM kam_unit_step
), counted AS (  -- (a join to the counts: a filtered count `OVER ()` is evaluated per row by DuckDB)
    SELECT units.*, n.customers, n.active
    FROM units CROSS JOIN (SELECT count(*) FILTER (WHERE relationship = 'customer') AS customers,
                                  count(*) FILTER (WHERE relationship IN ('customer', 'pipeline')) AS active
                           FROM units) n
), tier_one AS (
    SELECT account_id FROM (
        SELECT account_id, customers,
               row_number() OVER (ORDER BY rounded DESC, run_rate DESC, account_id) AS rn
        FROM counted WHERE relationship = 'customer' AND rounded > $tier1_threshold) x
    WHERE rn <= ceil(CAST($tier1_share AS DOUBLE) * customers)
), tier_two AS (
    SELECT account_id FROM (
        SELECT c.account_id, c.active,
               row_number() OVER (ORDER BY c.rounded DESC, c.run_rate DESC, c.account_id) AS rn
        FROM counted c LEFT JOIN tier_one f ON f.account_id = c.account_id
        WHERE f.account_id IS NULL AND c.relationship IN ('customer', 'pipeline')
          AND c.rounded >= $tier2_threshold) x
    WHERE rn <= ceil(CAST($tier2_share AS DOUBLE) * active)
), tiered AS (
    SELECT units.*, CASE WHEN f.account_id IS NOT NULL THEN 1 WHEN s.account_id IS NOT NULL THEN 2 ELSE 3 END AS unit_tier
    FROM units LEFT JOIN tier_one f ON f.account_id = units.account_id
    LEFT JOIN tier_two s ON s.account_id = units.account_id
)
SELECT {', '.join(_ROW_COLUMNS)} FROM tiered
UNION ALL
SELECT 'account', b.account_id, b.name, b.owner, b.group_head_id, b.own_potential, b.own_source, b.stage,
       b.run_rate, coalesce(b.revenue_cy, 0), coalesce(b.revenue_py1, 0), b.crm_wallet,
       CASE WHEN b.share_of_wallet IS NOT NULL AND b.wallet_source IS DISTINCT FROM 'model' THEN b.share_of_wallet
            ELSE {_ratio('b.run_rate', 'coalesce(b.crm_wallet, 0)')} END,
       CASE WHEN b.nrr IS NOT NULL THEN b.nrr ELSE {_ratio('b.rev_now', 'b.rev_prev')} END,
       {_ratio('least(b.rev_now, b.rev_prev)', 'b.rev_prev')}, b.rev_now, b.rev_prev, b.nrr_period,
       CASE WHEN coalesce(b.entities, 0) <> 0 THEN coalesce(b.customer_entities, 0) ELSE st.customers END,
       CASE WHEN coalesce(b.entities, 0) <> 0 THEN b.entities ELSE st.entities END,
       {_cycle('b.')}, b.open_deals, {', '.join(f'b.has_{r}' for r in COMMITTEE_ROLES)},
       {_ICP.format(p='b.')}, FALSE, b.unit_id, CAST(NULL AS VARCHAR), CAST(NULL AS BIGINT), t.unit_tier
FROM kam_base_step b LEFT JOIN tiered t ON t.account_id = b.unit_id
LEFT JOIN kam_subtree_step st ON st.root = b.account_id
WHERE t.account_id IS NULL OR t.members > 1
"""

# Entities of each account's subtree (itself included) by parent links, for the accounts the KPI
# stage's roll-up does not count.
_SUBTREE = """
WITH RECURSIVE t(root, account_id) AS (
    SELECT account_id, account_id FROM kam_base_step WHERE coalesce(entities, 0) = 0
    UNION
    SELECT t.root, b.account_id FROM t JOIN kam_base_step b ON b.parent_id = t.account_id AND b.account_id <> b.parent_id
)
SELECT t.root, count(*) AS entities, count(*) FILTER (WHERE b.is_customer) AS customers
FROM t JOIN kam_base_step b ON b.account_id = t.account_id GROUP BY t.root
"""

_PARTS = {
    "effort_cycle": "CASE WHEN cycle IS NULL THEN 0.5 ELSE least(cycle / CAST($long_cycle_days AS DOUBLE), 1.0) END",
    "effort_open_deals": "least(CAST(open_deals AS DOUBLE) / CAST($many_open_deals AS DOUBLE), 1.0)",
    "effort_stakeholders": "CAST(" + " + ".join(f"1 - has_{r}" for r in COMMITTEE_ROLES)
    + f" AS DOUBLE) / {len(COMMITTEE_ROLES)}",
    "effort_icp": "CASE WHEN icp_distance IS NULL THEN 0.5 ELSE least(greatest(icp_distance, 0.0), 1.0) END",
}

_TIER = ("CASE WHEN {x} > $tier1_threshold THEN 1 WHEN {x} >= $tier2_threshold THEN 2 ELSE 3 END")

# The rows of `kam_accounts`: effort (mean of its four parts), the matrix quadrant, the tier.
_ACCOUNTS = f"""
WITH parts AS (
    SELECT r.*, {', '.join(f'{v} AS {k}' for k, v in _PARTS.items())} FROM kam_rows_step r
), scored AS (
    SELECT parts.*, {rounded(f"({' + '.join(_PARTS)}) / 4", 4)} AS effort FROM parts
)
SELECT scope, account_id, name, owner, group_head_id, {rounded('potential', 2)} AS potential_3y, potential_source,
       relationship, {rounded(f'greatest(potential - {YEARS} * greatest(run_rate, 0), 0)', 2)} AS upside_3y,
       coalesce(unit_tier, {_TIER.format(x='potential')}) AS tier,
       revenue_cy, revenue_py1, run_rate AS revenue_12m, wallet, share_of_wallet, nrr, retention, nrr_now, nrr_prev,
       nrr_period, entities_penetrated, entities_total, effort, {rounded('cycle', 1)} AS cycle_days, open_deals,
       concat_ws(',', {', '.join(f"CASE WHEN has_{r} = 0 THEN '{r}' END" for r in COMMITTEE_ROLES)}) AS roles_missing,
       icp_distance, {', '.join(f'{rounded(p, 4)} AS {p}' for p in _PARTS)},
       QUADRANT AS quadrant, RECOMMENDATION AS recommendation,
       kam_unit, kam_unit_id, coalesce(unit_tier, {_TIER.format(x='potential')}) AS kam_tier, wallet_cell, wallet_peers
FROM scored
"""


def _quadrant(field: int) -> str:
    cases = []
    for i, ((pot, eff), names) in enumerate(QUADRANTS.items()):
        pot_test = "potential >= $high_potential" if pot == "high" else "potential < $high_potential"
        eff_test = "effort > $high_effort" if eff == "high" else "effort <= $high_effort"
        cases.append(f"WHEN {pot_test} AND {eff_test} THEN CAST($q{i}_{field} AS VARCHAR)")
        del names
    return "CASE " + " ".join(cases) + " END"


_CELL = ("CASE peer_level " + " ".join(f"WHEN {i} THEN CAST($cell{i} AS VARCHAR)" for i in range(len(wallet.LEVEL_NAMES)))
         + " END")


def _base_sql(ws: Workspace, wallets: bool) -> tuple[str, list[str]]:
    """The base step's text for the earlier-stage tables present; and what is missing."""
    engine = ws.engine
    missing = [NEEDS[t] for t in ("hierarchy", "account_kpis", "scores") if not engine.table_exists(t)]
    parts: dict[str, str] = {}
    if engine.table_exists("hierarchy"):
        parts["PARENT"] = "CASE WHEN h.account_id IS NULL THEN a.parent_id ELSE h.parent_id END"
        parts["HEAD"] = "coalesce(h.group_head_id, a.account_id)"
        parts["HIERARCHY_JOIN"] = "LEFT JOIN hierarchy h ON h.account_id = a.account_id"
    else:
        parts["PARENT"], parts["HEAD"] = "h.parent_id", "h.group_head_id"
        parts["HIERARCHY_JOIN"] = "JOIN kam_heads_step h ON h.account_id = a.account_id"
    kpi_cols = engine.table_columns("account_kpis") if engine.table_exists("account_kpis") else []
    if kpi_cols:
        types = {"status": "VARCHAR", "status_code": "VARCHAR", "wallet_source": "VARCHAR"}
        parts["KPIS"] = ", ".join(f"k.{c}" if c in kpi_cols else f"CAST(NULL AS {types.get(c, 'DOUBLE')}) AS {c}"
                                  for c in KPI_COLUMNS)
        parts["KPI_JOIN"] = "LEFT JOIN account_kpis k ON k.account_id = a.account_id"
    else:
        parts["KPIS"] = ", ".join(
            f"coalesce(k.{c}, 0) AS {c}" if c in ("revenue_cy", "revenue_py1")
            else f"CAST(NULL AS {'VARCHAR' if c in ('status', 'status_code', 'wallet_source') else 'DOUBLE'}) AS {c}"
            for c in KPI_COLUMNS)
        parts["KPI_JOIN"] = "LEFT JOIN " + _REVENUE_FROM_DEALS + " k ON k.account_id = a.account_id"
    if "revenue_py2" in kpi_cols:
        parts["NOW_PREV"] = "coalesce(revenue_py1, 0) AS rev_now, coalesce(revenue_py2, 0) AS rev_prev"
    else:
        parts["NOW_PREV"] = "coalesce(revenue_cy, 0) AS rev_now, coalesce(revenue_py1, 0) AS rev_prev"
    if engine.table_exists("group_kpis") and {"entities", "customer_entities"} <= set(engine.table_columns("group_kpis")):
        parts["ENTITIES"] = "g.entities, g.customer_entities"
        parts["GROUP_JOIN"] = "LEFT JOIN group_kpis g ON g.account_id = a.account_id"
    else:
        parts["ENTITIES"] = "CAST(NULL AS BIGINT) AS entities, CAST(NULL AS BIGINT) AS customer_entities"
        parts["GROUP_JOIN"] = ""
    score_cols = engine.table_columns("scores") if engine.table_exists("scores") else []
    fit = next((c for c in ("fit_score", "grid_score") if c in score_cols), None)
    parts["SCORE"] = f"s.{fit}" if fit else "CAST(NULL AS DOUBLE)"
    parts["SCORE_JOIN"] = "LEFT JOIN scores s ON s.account_id = a.account_id" if fit else ""
    parts["CUSTOMER"] = _CUSTOMER.replace("k.", "")
    parts["ACCOUNT_DEALS"], parts["ACCOUNT_ROLES"] = _ACCOUNT_DEALS, _ACCOUNT_ROLES
    parts["ROLES"] = ", ".join(f"coalesce(r.has_{r}, 0) AS has_{r}" for r in COMMITTEE_ROLES)
    parts["YEARS"] = str(YEARS)
    if wallets:
        parts["UNIT"] = "uo.unit_id"
        parts["UNIT_JOIN"] = "LEFT JOIN (" + wallet.UNIT_OF + ") uo ON uo.account_id = s.account_id"
    else:
        parts["UNIT"], parts["UNIT_JOIN"] = "CAST(NULL AS VARCHAR)", ""
    sql = _BASE
    for key in sorted(parts, key=len, reverse=True):  # longer markers first (ACCOUNT_DEALS before …)
        sql = sql.replace(key, parts[key])
    return sql, missing


def _heads_fallback(ws: Workspace) -> None:
    """Without the hierarchy stage: group heads by climbing `accounts.parent_id` to the top or to
    a group-head flag (cycles stop where they close) — the degraded path of a partial build."""
    rows = ws.engine.fetchall("SELECT account_id, parent_id, is_group_head FROM accounts")
    parent = {a: p for a, p, _ in rows}
    flagged = {a for a, _, g in rows if g}
    heads = []
    for account_id in parent:
        seen, current = {account_id}, account_id
        while True:
            up = parent[current]
            if current in flagged or up is None or up not in parent or up in seen:
                break
            seen.add(up)
            current = up
        heads.append(current)
    ws.engine.materialize("kam_heads_step", "SELECT * FROM (SELECT CAST(NULL AS VARCHAR) AS account_id, "
                          "CAST(NULL AS VARCHAR) AS parent_id, CAST(NULL AS VARCHAR) AS group_head_id) x WHERE FALSE",
                          temporary=True)
    ws.engine.insert_arrow("kam_heads_step", pa.table({
        "account_id": pa.array(list(parent), pa.string()), "parent_id": pa.array(list(parent.values()), pa.string()),
        "group_head_id": pa.array(heads, pa.string())}))


def _potential_fields(ws: Workspace) -> None:
    """`kam_potential_step`: the `potential_3y` attribute of the few accounts that name it."""
    ids, values = [], []
    for account_id, attributes in ws.engine.fetchall(POTENTIAL_CANDIDATES):
        value = parse_amount(attribute(attributes, "potential_3y"))
        if value is not None:
            ids.append(account_id)
            values.append(value)
    ws.engine.materialize("kam_potential_step", "SELECT * FROM (SELECT CAST(NULL AS VARCHAR) AS account_id, "
                          "CAST(NULL AS DOUBLE) AS potential_field) x WHERE FALSE", temporary=True)
    if ids:
        ws.engine.insert_arrow("kam_potential_step", pa.table({"account_id": pa.array(ids, pa.string()),
                                                               "potential_field": pa.array(values, pa.float64())}))


def params(settings: KamSettings, as_of: date) -> dict[str, Any]:
    """Every value the portfolio steps bind (settings, labels, dates)."""
    from datetime import timedelta

    out: dict[str, Any] = {
        "as_of": as_of, "cy_start": as_of - timedelta(days=365), "py_start": as_of - timedelta(days=730),
        "share_customer": settings.achievable_share, "share_pipeline": settings.achievable_share_pipeline,
        "share_prospect": settings.achievable_share_prospect, "reach_pipeline": settings.reach_pipeline,
        "reach_prospect": settings.reach_prospect, "quantile_label": f" (q{round(settings.wallet_quantile * 100)} of ",
        "tier1_threshold": settings.tier1_threshold, "tier2_threshold": settings.tier2_threshold,
        "tier1_share": settings.tier1_share, "tier2_share": settings.tier2_share,
        "long_cycle_days": settings.long_cycle_days, "many_open_deals": settings.many_open_deals,
        "high_potential": settings.high_potential_threshold, "high_effort": settings.high_effort_threshold,
    }
    out.update({f"cell{i}": name for i, name in enumerate(wallet.LEVEL_NAMES)})
    for i, (name, reading) in enumerate(QUADRANTS.values()):
        out[f"q{i}_0"], out[f"q{i}_1"] = name, reading
    return out


def _used(sql: str, values: dict[str, Any]) -> dict[str, Any]:
    """The parameters a statement names (an engine refuses unused named parameters)."""
    return {k: v for k, v in values.items() if f"${k}" in sql}


def nrr_period(ws: Workspace, as_of: date) -> str:
    complete = ws.engine.table_exists("account_kpis") and "revenue_py2" in ws.engine.table_columns("account_kpis")
    return f"{as_of.year - 1} vs {as_of.year - 2}" if complete else "last 12 months vs the 12 before"


def build_accounts(ws: Workspace, settings: KamSettings, as_of: date) -> list[str]:
    """Write `kam_accounts` with the engine (steps above); returns what earlier stages are missing."""
    engine = ws.engine
    values = params(settings, as_of)
    values["nrr_period"] = nrr_period(ws, as_of)
    with_wallets = wallet.available(ws)
    _potential_fields(ws)
    if not engine.table_exists("hierarchy"):
        _heads_fallback(ws)
    base, missing = _base_sql(ws, with_wallets)
    engine.materialize("kam_base_step", base, params=_used(base, values), temporary=True, analyze=True)
    units = _UNITS.replace("CELL", _CELL)
    if with_wallets:
        wallet_sql, wallet_params = wallet.wallet_query(settings.wallet_quantile, int(settings.wallet_min_peers))
        engine.materialize("kam_wallet_step", wallet_sql, params=wallet_params, temporary=True, analyze=True)
        units = units.replace("WALLET_COLUMNS", _WALLET_COLUMNS).replace(
            "WALLET_JOIN", "LEFT JOIN kam_wallet_step w ON w.unit_id = m.unit_id")
    else:
        units = units.replace("WALLET_COLUMNS", _NO_WALLET_COLUMNS).replace("WALLET_JOIN", "")
    engine.materialize("kam_unit_step", units, params=_used(units, values), temporary=True, analyze=True)
    engine.materialize("kam_subtree_step", _SUBTREE, temporary=True, analyze=True)
    engine.materialize("kam_rows_step", _ROWS, params=_used(_ROWS, values), temporary=True, analyze=True)
    accounts = _ACCOUNTS.replace("QUADRANT", _quadrant(0)).replace("RECOMMENDATION", _quadrant(1))
    engine.materialize("kam_accounts", cast_select("kam_accounts", accounts), params=_used(accounts, values))
    engine.drop_table("kam_wallet_step", "kam_unit_step", "kam_subtree_step", "kam_rows_step", "kam_potential_step",
                      "kam_heads_step")
    return missing
