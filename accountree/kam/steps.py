"""KAM build steps run by the engine as set-based SQL (static text, DuckDB dialect, values bound).

Each step is named and reads or writes whole tables: the deal-stage history, the snapshot the next
build diffs against, the stakeholder table and the per-account facts of the `no_progress` exit
criterion. Python only sees their small results (the `no_progress` candidates, the few contacts
whose custom attributes name a sentiment).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from accountree.kam.inputs import KamInputs, attribute
from accountree.kam.settings import KamSettings
from accountree.kam.tables import create_table
from accountree.store import Workspace

# Since when each deal is in its stage: kept while the stage stays; a changed stage starts at the
# build date; a deal first seen counts from its creation date. Params: as_of, as_of.
DEAL_STAGES = """
SELECT d.deal_id, d.stage,
       CASE WHEN s.stage IS NOT DISTINCT FROM d.stage THEN s.since
            WHEN s.stage IS NOT NULL THEN CAST(? AS DATE)
            ELSE coalesce(d.created_at, CAST(? AS DATE)) END AS since
FROM deals d LEFT JOIN kam_deal_stages s ON s.deal_id = d.deal_id
"""

# The contacts as this build sees them (buying roles set in accountree win). Param: as_of.
SNAPSHOT_CONTACTS = """
SELECT c.contact_id, c.account_id, c.title, coalesce(r.buying_role, c.buying_role) AS buying_role, c.end_date,
       CAST(? AS DATE) AS snapshot_at
FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
"""

# Parents and group heads as the hierarchy stage resolved them (an account it has no row for keeps
# its own parent and heads itself). Param: as_of.
SNAPSHOT_PARENTS = """
SELECT a.account_id, CASE WHEN h.account_id IS NULL THEN a.parent_id ELSE h.parent_id END AS parent_id,
       coalesce(h.group_head_id, a.account_id) AS group_head_id, CAST(? AS DATE) AS snapshot_at
FROM accounts a LEFT JOIN hierarchy h ON h.account_id = a.account_id
"""

# Per account: the last commercial progress (a deal created, a stage change, a deal closed by the
# build date), whether a deal is still open, and the activities in the window; only the accounts
# that have gone quiet for the window despite enough activity, with their owner and relationship
# (this build's `kam_accounts`). Params: as_of, as_of, as_of − window,
# as_of, as_of − window, min activities.
NO_PROGRESS = """
WITH progress AS (
    SELECT d.account_id,
           max(greatest(d.created_at, s.since,
                        CASE WHEN d.stage IN ('won', 'lost') AND d.close_date <= CAST(? AS DATE)
                             THEN d.close_date END)) AS last_progress,
           max(CASE WHEN d.stage IN ('won', 'lost') AND d.close_date <= CAST(? AS DATE) THEN 0 ELSE 1 END) AS has_open
    FROM deals d LEFT JOIN kam_deal_stages s ON s.deal_id = d.deal_id
    GROUP BY d.account_id
), activity AS (
    SELECT account_id, count(*) AS activities FROM activities
    WHERE "date" > CAST(? AS DATE) AND "date" <= CAST(? AS DATE) GROUP BY account_id
)
SELECT p.account_id, p.last_progress, p.has_open, a.activities, k.account_id IS NOT NULL AS known, k.owner,
       k.relationship
FROM progress p JOIN activity a ON a.account_id = p.account_id
LEFT JOIN kam_accounts k ON k.account_id = p.account_id AND k.scope = 'account'
WHERE p.last_progress <= CAST(? AS DATE) AND a.activities >= ?
ORDER BY p.account_id
"""

# Per account: won-deal cycles (sum, count), its deals' seller BUs' typical cycles, open deals.
ACCOUNT_DEALS = """
SELECT d.account_id,
       coalesce(sum(CASE WHEN d.stage = 'won' THEN greatest(d.close_date - d.created_at, 0) END), 0) AS cycle_sum,
       count(CASE WHEN d.stage = 'won' THEN d.close_date - d.created_at END) AS cycle_n,
       coalesce(sum(b.sales_cycle_days), 0) AS bu_sum, count(b.sales_cycle_days) AS bu_n,
       sum(CASE WHEN d.stage IN ('won', 'lost') THEN 0 ELSE 1 END) AS open_deals
FROM deals d LEFT JOIN seller_bus b ON b.bu_id = d.seller_bu
GROUP BY d.account_id
"""

# Committee roles held per account by people still in place. Param: as_of.
ACCOUNT_ROLES = """
SELECT DISTINCT c.account_id, coalesce(r.buying_role, c.buying_role) AS role
FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
WHERE (c.end_date IS NULL OR c.end_date > CAST(? AS DATE))
  AND coalesce(r.buying_role, c.buying_role) IN ('economic_buyer', 'champion', 'influencer', 'user', 'buyer')
"""

# Contacts an org-change rule may fire on, with the previous build's picture: those who left (newly,
# or within the lookback), and those in place who started within the lookback, appeared at an
# account known to the previous build, or changed title or buying role. Params: as_of ×2,
# lookback, lookback, as_of, as_of.
CHANGED_CONTACTS = """
WITH c AS (
    SELECT c.contact_id, c.account_id, c.name, c.title, coalesce(r.buying_role, c.buying_role) AS buying_role,
           c.start_date, c.end_date, c.seller_bu, coalesce(c.end_date <= CAST(? AS DATE), FALSE) AS "left"
    FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
), known AS (SELECT DISTINCT account_id FROM kam_snapshot_contacts)
SELECT c.*, p.contact_id IS NOT NULL AS before_seen, p.title AS before_title, p.buying_role AS before_role,
       p.end_date AS before_end_date, k.account_id IS NOT NULL AS account_known,
       a.account_id IS NOT NULL AS account_exists, a.owner AS account_owner
FROM c LEFT JOIN kam_snapshot_contacts p ON p.contact_id = c.contact_id
LEFT JOIN known k ON k.account_id = c.account_id
LEFT JOIN accounts a ON a.account_id = c.account_id
WHERE CASE WHEN c."left" THEN (p.contact_id IS NOT NULL AND p.end_date IS NULL) OR c.end_date >= CAST(? AS DATE)
      ELSE (c.start_date >= CAST(? AS DATE) AND c.start_date <= CAST(? AS DATE))
           OR (p.contact_id IS NULL AND k.account_id IS NOT NULL)
           OR (p.contact_id IS NOT NULL AND (p.title IS DISTINCT FROM c.title
                                             OR p.buying_role IS DISTINCT FROM c.buying_role)) END
ORDER BY c.contact_id
"""

# Champions still in place per account and contact BU, at accounts where someone left. Params: as_of ×2.
CHAMPIONS_IN_PLACE = """
SELECT c.account_id, c.seller_bu, count(*) AS n
FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
WHERE (c.end_date IS NULL OR c.end_date > CAST(? AS DATE)) AND coalesce(r.buying_role, c.buying_role) = 'champion'
  AND c.account_id IN (SELECT account_id FROM contacts WHERE end_date <= CAST(? AS DATE))
GROUP BY c.account_id, c.seller_bu
"""

# Key accounts (unit rows of `kam_accounts`) whose revenue fell by the drop on the NRR years.
# Param: drop.
FALLING_REVENUE = """
SELECT scope, account_id, owner, nrr_now, nrr_prev, nrr_period, kam_unit FROM kam_accounts
WHERE kam_unit AND nrr_prev > 0 AND nrr_now <= nrr_prev * (1 - CAST(? AS DOUBLE))
ORDER BY scope DESC, account_id
"""

# Accounts whose parent or group head differs from the previous build's snapshot; `carried`: its
# parent (an account) changed group too, so the move is its parent's, not its own.
MOVED = """
SELECT b.account_id, b.name, b.owner, b.parent_id, b.group_head_id, s.parent_id AS before_parent_id,
       s.group_head_id AS before_group_head_id,
       coalesce(pb.account_id IS NOT NULL AND ps.group_head_id IS DISTINCT FROM pb.group_head_id, FALSE) AS carried
FROM kam_base_step b JOIN kam_snapshot_parents s ON s.account_id = b.account_id
LEFT JOIN kam_base_step pb ON pb.account_id = b.parent_id
LEFT JOIN kam_snapshot_parents ps ON ps.account_id = b.parent_id
WHERE s.parent_id IS DISTINCT FROM b.parent_id OR s.group_head_id IS DISTINCT FROM b.group_head_id
ORDER BY b.account_id
"""

# Entities of the previous build's snapshot merged since into an account that exists.
MERGED = """
SELECT m.old_id, m.survivor_id, a.name, a.owner
FROM account_aliases m JOIN kam_snapshot_parents s ON s.account_id = m.old_id
JOIN accounts a ON a.account_id = m.survivor_id
WHERE m.old_id NOT IN (SELECT account_id FROM accounts)
ORDER BY m.old_id
"""

# The best cross-sell targets (`entity_rank` ≤ per account) of the entities of key accounts of KAM
# tier ≤ the setting, counted per unit and product (entities); per unit its name, owner, entities
# and products, and only the products that may be among its three most bought (`rank` by entities
# ≤ 3: ties included, Python orders them by name). Params: per account, max tier.
CROSS_SELL = """
WITH x AS (
    SELECT u.account_id AS unit_id, u.name AS unit_name, u.owner AS unit_owner, x.account_id,
           coalesce(nullif(x.product, ''), '') AS product, x.product_name
    FROM cross_sell x JOIN kam_accounts e ON e.account_id = x.account_id AND e.scope = 'account'
    JOIN kam_accounts u ON u.account_id = e.kam_unit_id AND u.kam_unit
    WHERE x.entity_rank <= ? AND coalesce(u.tier, 3) <= ?
), p AS (
    SELECT unit_id, product, count(DISTINCT account_id) AS entities, max(product_name) AS product_name
    FROM x GROUP BY unit_id, product
), r AS (
    SELECT p.*, rank() OVER (PARTITION BY unit_id ORDER BY entities DESC) AS place,
           count(*) OVER (PARTITION BY unit_id) AS products
    FROM p
), u AS (
    SELECT unit_id, max(unit_name) AS unit_name, max(unit_owner) AS unit_owner,
           count(DISTINCT account_id) AS unit_entities
    FROM x GROUP BY unit_id
)
SELECT r.unit_id, u.unit_name, u.unit_owner, u.unit_entities, r.products, r.product, r.entities, r.product_name
FROM r JOIN u ON u.unit_id = r.unit_id
WHERE r.place <= 3
ORDER BY r.unit_id
"""
# The same over a `cross_sell` without product names (written by an earlier version).
CROSS_SELL_UNNAMED = CROSS_SELL.replace("x.product_name", "CAST(NULL AS VARCHAR) AS product_name")

# The key account (unit) of the accounts alerts are about (`kam_alert_accounts_step`): its id,
# relationship, tier and potential.
ALERT_UNITS = """
SELECT e.account_id, e.kam_unit_id, u.relationship, u.tier, u.potential_3y
FROM kam_alert_accounts_step s JOIN kam_accounts e ON e.account_id = s.account_id AND e.scope = 'account'
LEFT JOIN kam_accounts u ON u.account_id = e.kam_unit_id AND u.kam_unit
"""

# Contacts whose custom attributes may name a sentiment: read in Python (names are normalised).
SENTIMENT_CANDIDATES = """
SELECT contact_id, attributes FROM contacts
WHERE lower(CAST(attributes AS VARCHAR)) LIKE '%sentiment%' OR lower(CAST(attributes AS VARCHAR)) LIKE '%relationship%'
"""

# One row per contact: relationship strength from its activities (the last 12 months' weights, the
# last 90 days counted twice). Params: as_of − 90 d, as_of − 365 d, as_of, strong, medium, as_of.
STAKEHOLDERS = """
INSERT INTO kam_stakeholders
WITH activity AS (
    SELECT contact_id, max("date") AS last_interaction, count(*) AS interactions,
           coalesce(sum(coalesce(weight, 1)) FILTER (WHERE "date" > CAST(? AS DATE)), 0)
           + coalesce(sum(coalesce(weight, 1)) FILTER (WHERE "date" > CAST(? AS DATE)), 0) AS points
    FROM activities WHERE contact_id IS NOT NULL AND "date" <= CAST(? AS DATE) GROUP BY contact_id
)
SELECT c.contact_id, c.account_id, c.name, c.title, coalesce(r.buying_role, c.buying_role) AS buying_role,
       c.reports_to,
       CASE WHEN coalesce(a.points, 0) >= ? THEN 'strong' WHEN coalesce(a.points, 0) >= ? THEN 'medium'
            WHEN coalesce(a.points, 0) > 0 THEN 'weak' ELSE 'none' END AS strength,
       a.last_interaction, coalesce(a.interactions, 0) AS interactions, s.sentiment, c.start_date, c.end_date,
       coalesce(c.end_date <= CAST(? AS DATE), FALSE) AS left_company
FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
LEFT JOIN activity a ON a.contact_id = c.contact_id
LEFT JOIN kam_sentiment_step s ON s.contact_id = c.contact_id
"""


def account_facts(ws: Workspace, inputs: KamInputs) -> dict[str, dict[str, Any]]:
    """Per account: won-deal cycles, BU cycles, open deals, committee roles held (steps
    `kam_account_deals`, `kam_account_roles`: aggregated by the engine, one small row per account)."""
    facts = {a: {"cycle_sum": 0.0, "cycle_n": 0, "bu_sum": 0.0, "bu_n": 0, "open": 0, "roles": set()}
             for a in inputs.accounts}
    for account_id, cycle_sum, cycle_n, bu_sum, bu_n, open_deals in ws.engine.fetchall(ACCOUNT_DEALS):
        f = facts.get(account_id)
        if f is not None:
            f.update(cycle_sum=float(cycle_sum), cycle_n=int(cycle_n), bu_sum=float(bu_sum), bu_n=int(bu_n),
                     open=int(open_deals))
    for account_id, role in ws.engine.fetchall(ACCOUNT_ROLES, [inputs.as_of]):
        f = facts.get(account_id)
        if f is not None:
            f["roles"].add(role)
    return facts


def changed_contacts(ws: Workspace, as_of: date, settings: KamSettings) -> tuple[list[dict[str, Any]], list[tuple]]:
    """(contacts an org-change alert may be about, champions in place) — steps `kam_changed_contacts`
    and `kam_champions_in_place`; read before this build's snapshot replaces the previous one."""
    lookback = as_of - timedelta(days=settings.event_lookback_days)
    changed = ws.engine.fetch_dicts(CHANGED_CONTACTS, [as_of, lookback, lookback, as_of])
    return changed, ws.engine.fetchall(CHAMPIONS_IN_PLACE, [as_of, as_of])


def deal_stages(ws: Workspace, as_of: date) -> None:
    """Rewrite `kam_deal_stages` with today's stages (step `kam_deal_stages`). Written whole (a
    table created from a query), not deleted and inserted row by row: one row per deal, and a key
    index maintained over millions of rows cost more than the step itself (and again at commit)."""
    engine = ws.engine
    engine.materialize("kam_deal_stages_step", DEAL_STAGES, params=[as_of, as_of], temporary=True)
    engine.materialize("kam_deal_stages", "SELECT deal_id, stage, since FROM kam_deal_stages_step")
    engine.drop_table("kam_deal_stages_step")


def no_progress_candidates(ws: Workspace, as_of: date, settings: KamSettings) -> list[dict[str, Any]]:
    """Accounts quiet for `no_progress_months` despite activity (step `kam_no_progress`)."""
    cutoff = as_of - timedelta(days=round(settings.no_progress_months * 30.44))
    return ws.engine.fetch_dicts(NO_PROGRESS, [as_of, as_of, cutoff, as_of, cutoff,
                                               float(settings.no_progress_min_activities)])


def snapshot(ws: Workspace, as_of: date, parents: str = SNAPSHOT_PARENTS) -> None:
    """The picture the next build diffs against (steps `kam_snapshot_contacts`, `kam_snapshot_parents`;
    `parents`: the query of the latter, param as_of), each written whole (see `deal_stages`)."""
    engine = ws.engine
    engine.materialize("kam_snapshot_contacts", SNAPSHOT_CONTACTS, params=[as_of])
    engine.materialize("kam_snapshot_parents", parents, params=[as_of])


def stakeholders(ws: Workspace, as_of: date, settings: KamSettings) -> int:
    """`kam_stakeholders` (step `kam_stakeholders`); returns its rows."""
    engine = ws.engine
    sentiments = []
    for row in engine.fetch_dicts(SENTIMENT_CANDIDATES):
        value = attribute(row["attributes"], "sentiment") or attribute(row["attributes"], "relationship")
        if value is not None:
            sentiments.append({"contact_id": row["contact_id"], "sentiment": str(value)})
    engine.execute("DROP TABLE IF EXISTS kam_sentiment_step")
    engine.execute("CREATE TABLE kam_sentiment_step (contact_id VARCHAR, sentiment VARCHAR)")
    if sentiments:
        engine.insert_arrow("kam_sentiment_step", pa.Table.from_pylist(
            sentiments, schema=pa.schema([("contact_id", pa.string()), ("sentiment", pa.string())])))
    create_table(ws, "kam_stakeholders")
    engine.execute(STAKEHOLDERS, [as_of - timedelta(days=90), as_of - timedelta(days=365), as_of,
                                  settings.strong_points, settings.medium_points, as_of])
    engine.execute("DROP TABLE kam_sentiment_step")
    return int(engine.scalar("SELECT count(*) FROM kam_stakeholders"))
