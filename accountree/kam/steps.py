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

from accountree.kam.inputs import attribute
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
INSERT INTO kam_snapshot_contacts (contact_id, account_id, title, buying_role, end_date, snapshot_at)
SELECT c.contact_id, c.account_id, c.title, coalesce(r.buying_role, c.buying_role), c.end_date, CAST(? AS DATE)
FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
"""

# Parents and group heads as the hierarchy stage resolved them (an account it has no row for keeps
# its own parent and heads itself). Param: as_of.
SNAPSHOT_PARENTS = """
INSERT INTO kam_snapshot_parents (account_id, parent_id, group_head_id, snapshot_at)
SELECT a.account_id, CASE WHEN h.account_id IS NULL THEN a.parent_id ELSE h.parent_id END,
       coalesce(h.group_head_id, a.account_id), CAST(? AS DATE)
FROM accounts a LEFT JOIN hierarchy h ON h.account_id = a.account_id
"""

# Per account: the last commercial progress (a deal created, a stage change, a deal closed by the
# build date), whether a deal is still open, and the activities in the window; only the accounts
# that have gone quiet for the window despite enough activity. Params: as_of, as_of, as_of − window,
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
SELECT p.account_id, p.last_progress, p.has_open, a.activities
FROM progress p JOIN activity a ON a.account_id = p.account_id
WHERE p.last_progress <= CAST(? AS DATE) AND a.activities >= ?
ORDER BY p.account_id
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
ORDER BY c.contact_id
"""


def deal_stages(ws: Workspace, as_of: date) -> None:
    """Rewrite `kam_deal_stages` with today's stages (step `kam_deal_stages`)."""
    engine = ws.engine
    engine.replace_table("kam_deal_stages_step", DEAL_STAGES, [as_of, as_of])
    engine.execute("DELETE FROM kam_deal_stages")
    engine.execute("INSERT INTO kam_deal_stages (deal_id, stage, since) SELECT deal_id, stage, since FROM kam_deal_stages_step")
    engine.execute("DROP TABLE kam_deal_stages_step")


def no_progress_candidates(ws: Workspace, as_of: date, settings: KamSettings) -> list[dict[str, Any]]:
    """Accounts quiet for `no_progress_months` despite activity (step `kam_no_progress`)."""
    cutoff = as_of - timedelta(days=round(settings.no_progress_months * 30.44))
    return ws.engine.fetch_dicts(NO_PROGRESS, [as_of, as_of, cutoff, as_of, cutoff,
                                               float(settings.no_progress_min_activities)])


def snapshot(ws: Workspace, as_of: date) -> None:
    """The picture the next build diffs against (steps `kam_snapshot_contacts`, `kam_snapshot_parents`)."""
    engine = ws.engine
    engine.execute("DELETE FROM kam_snapshot_contacts")
    engine.execute("DELETE FROM kam_snapshot_parents")
    engine.execute(SNAPSHOT_CONTACTS, [as_of])
    engine.execute(SNAPSHOT_PARENTS, [as_of])


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
