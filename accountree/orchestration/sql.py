"""The `abm` build stage's SQL: static text with `$name` parameters, DuckDB dialect (the engine
transpiles it for PostgreSQL). Each statement is one set-based step over the previous ones; the
stage runs them in order with `replace_table`. Dates are computed in Python and passed as
parameters (`$as_of`, `$active_from`, …).

Time travel: a deal is open at `$as_of` when it was created by then and is neither won nor lost
by then (a deal won after `$as_of` was still open); it is won at `$as_of` when won and closed by then.
"""

from __future__ import annotations

# Which group each account belongs to (itself when standalone). Two variants: with the hierarchy
# stage's table, or without it (every account its own group).
MEMBERS_FROM_HIERARCHY = """
SELECT h.account_id, coalesce(h.group_head_id, h.account_id) AS group_id FROM hierarchy h
"""
MEMBERS_FROM_ACCOUNTS = "SELECT a.account_id, a.account_id AS group_id FROM accounts a"

# What each BU does on each account: open deals and pipeline, won revenue over the revenue window,
# relationship history (deals + activities ever), active in the activity window, first touch; `r`
# the BU's number (`_abm_bu_rank`). Grouped first, then joined with the accounts (4 M rows at 1 M
# accounts instead of the 17 M events).
BU_ACCOUNT = """
WITH ev AS (
    SELECT d.account_id, d.seller_bu AS bu,
        CASE WHEN open_now THEN 1 ELSE 0 END AS open_deals,
        CASE WHEN open_now THEN coalesce(d.amount_rc, d.amount) ELSE 0 END AS pipeline,
        CASE WHEN won_now AND d.close_date >= $revenue_from THEN coalesce(d.amount_rc, d.amount) ELSE 0 END AS revenue,
        1 AS history,
        CASE WHEN open_now OR coalesce(d.close_date, d.created_at) >= $active_from
                  OR d.created_at >= $active_from THEN 1 ELSE 0 END AS active,
        coalesce(d.created_at, d.close_date) AS first_day
    FROM (SELECT d.*,
            (coalesce(d.created_at, $as_of) <= $as_of
             AND (d.stage NOT IN ('won', 'lost') OR coalesce(d.close_date, $as_of) > $as_of)) AS open_now,
            (d.stage = 'won' AND coalesce(d.close_date, d.created_at, $as_of) <= $as_of) AS won_now
          FROM deals d) d
    WHERE d.seller_bu IS NOT NULL AND coalesce(d.created_at, d.close_date, $as_of) <= $as_of
    UNION ALL
    SELECT a.account_id, a.seller_bu, 0, 0, 0, 1,
        CASE WHEN a."date" >= $active_from THEN 1 ELSE 0 END, a."date"
    FROM activities a WHERE a.seller_bu IS NOT NULL AND a."date" <= $as_of
    UNION ALL
    SELECT t.account_id, c.seller_bu, 0, 0, 0, 0,
        CASE WHEN coalesce(c.end_date, c.start_date) >= $active_from AND c.start_date <= $active_to THEN 1 ELSE 0 END,
        c.start_date
    FROM campaign_accounts t JOIN campaigns c ON c.campaign_id = t.campaign_id
    WHERE c.seller_bu IS NOT NULL AND c.start_date IS NOT NULL
)
SELECT g.*, k.r FROM (
    SELECT ev.account_id, ev.bu, sum(ev.open_deals) AS open_deals, sum(ev.pipeline) AS pipeline,
        sum(ev.revenue) AS revenue, sum(ev.history) AS history, max(ev.active) AS active, min(ev.first_day) AS first_day
    FROM ev GROUP BY ev.account_id, ev.bu
) g
JOIN accounts a ON a.account_id = g.account_id
JOIN _abm_bu_rank k ON k.bu = g.bu
"""

def bu_account(n_bus: int) -> str:
    """BU_ACCOUNT pivoted for `n_bus` BUs numbered 1..n_bus (up to PIVOT_MAX_BUS; else BU_ACCOUNT):
    one row per account with each BU number's revenue, pipeline, history, first day and activity
    in its own columns (rev{i}, pip{i}, his{i}, fd{i}, ac{i}; NULL when the BU did nothing there),
    which `lead_rule(n)` reads without grouping the accounts again. The events are grouped per
    (account, BU) with plain aggregates, then those rows per account (20 % less CPU than either
    one GROUP BY of the events with an aggregate per BU number, or the pivot in the lead rule)."""
    if not pivots(n_bus):
        return BU_ACCOUNT
    events = BU_ACCOUNT[:BU_ACCOUNT.index("\nSELECT g.*, k.r FROM (")]
    return events + f"""
SELECT p.* FROM (
    SELECT g.account_id,
        {_each("max(CASE WHEN k.r = {i} THEN g.revenue END) AS rev{i}, max(CASE WHEN k.r = {i} THEN g.pipeline END) AS pip{i}, "
               "max(CASE WHEN k.r = {i} THEN g.history END) AS his{i}, max(CASE WHEN k.r = {i} THEN g.first_day END) AS fd{i}, "
               "max(CASE WHEN k.r = {i} THEN g.active END) AS ac{i}", n_bus, _NEXT)}
    FROM (
        SELECT ev.account_id, ev.bu, sum(ev.pipeline) AS pipeline, sum(ev.revenue) AS revenue, sum(ev.history) AS history,
            max(ev.active) AS active, min(ev.first_day) AS first_day
        FROM ev GROUP BY ev.account_id, ev.bu
    ) g JOIN _abm_bu_rank k ON k.bu = g.bu
    GROUP BY g.account_id
) p
JOIN accounts a ON a.account_id = p.account_id
"""  # noqa: S608 - column numbers only


# The same per scope: 'account' rows, and 'group' rows (head id) for groups of two or more accounts.
BU_SCOPE = """
WITH groups AS (
    SELECT group_id FROM _abm_members GROUP BY group_id HAVING count(*) >= 2
)
SELECT 'account' AS scope, b.account_id, b.bu, b.open_deals, b.pipeline, b.revenue, b.history, b.active, b.first_day,
    b.r
FROM _abm_bu_account b
UNION ALL
SELECT 'group', m.group_id, b.bu, sum(b.open_deals), sum(b.pipeline), sum(b.revenue), sum(b.history),
    max(b.active), min(b.first_day), b.r
FROM _abm_bu_account b JOIN _abm_members m ON m.account_id = b.account_id
WHERE m.group_id IN (SELECT group_id FROM groups)
GROUP BY m.group_id, b.bu, b.r
"""

# The lead-BU rule: a weighted sum of each BU's shares of revenue, pipeline and history; ties go to
# more revenue, then more pipeline, then the earliest relationship, then the BU id. Two steps: the
# scores (materialized, so the best score is compared with the very values stored), then the rank
# among the BUs with the best score of their scope only (a sort of ~1 row per scope instead of
# every (scope, BU) row). For more than PIVOT_MAX_BUS BUs; up to that, `lead_rule(n)` (one GROUP BY).
LEAD_SCORES = """
WITH shares AS (
    SELECT s.*,
        coalesce(s.revenue / nullif(sum(s.revenue) OVER (PARTITION BY s.scope, s.account_id), 0), 0) AS revenue_share,
        coalesce(s.pipeline / nullif(sum(s.pipeline) OVER (PARTITION BY s.scope, s.account_id), 0), 0) AS pipeline_share,
        coalesce(CAST(s.history AS DOUBLE) / nullif(sum(s.history) OVER (PARTITION BY s.scope, s.account_id), 0), 0)
            AS history_share
    FROM _abm_bu_scope s
)
SELECT shares.*,
    $weight_revenue * revenue_share + $weight_pipeline * pipeline_share + $weight_history * history_share AS score
FROM shares
"""
LEAD_RULE = """
WITH best AS (
    SELECT scope, account_id, max(score) AS score FROM _abm_lead_scores GROUP BY scope, account_id
), candidates AS (
    SELECT s.* FROM _abm_lead_scores s
    JOIN best b ON b.scope = s.scope AND b.account_id = s.account_id AND b.score = s.score
)
SELECT candidates.*,
    row_number() OVER (PARTITION BY scope, account_id
                       ORDER BY revenue DESC, pipeline DESC, first_day ASC NULLS LAST, bu) AS rank
FROM candidates
"""

def lead_rule(n_bus: int) -> str:
    """The lead-BU rule's winner per scope (`bu`, `score`, `rank` = 1: the rows of LEAD_RULE that
    `scopes_base` reads) and the BUs active there (`n_active`, `bus_active` in BU order) for
    `n_bus` BUs numbered 1..n_bus, in one GROUP BY of the BU rows per scope (BU_SCOPE, read once:
    not written to a scratch table): each BU's revenue, pipeline, history and first day in its own column beside the scope's totals, the
    shares and scores then column arithmetic on that row (the same expressions as LEAD_SCORES, so
    the same doubles), the best score their `greatest`, and the winner the BU no other BU with the
    best score beats on revenue DESC, pipeline DESC, first_day ASC NULLS LAST, then the BU id (its
    number): n² comparisons, no window, no sort. Above PIVOT_MAX_BUS BUs: LEAD_SCORES + LEAD_RULE."""
    ids = range(1, n_bus + 1)

    def beats(j: int, i: int) -> str:  # BU j ranks before BU i (NULL comparisons count as false: no NOT)
        return (f"CASE WHEN sc{j} = best AND (rev{j} > rev{i} OR rev{j} = rev{i} AND (pip{j} > pip{i} "
                f"OR pip{j} = pip{i} AND (fd{j} < fd{i} OR fd{i} IS NULL AND fd{j} IS NOT NULL "
                f"OR (fd{j} = fd{i} OR fd{j} IS NULL AND fd{i} IS NULL) AND {j} < {i}))) THEN 1 ELSE 0 END")

    winner = " ".join(f"WHEN sc{i} = best AND " + (" + ".join(beats(j, i) for j in ids if j != i) or "0") + f" = 0 THEN {i}"
                      for i in ids)
    # only column numbers are formatted into the text: values stay parameters
    return f"""
WITH groups AS (
    SELECT group_id FROM _abm_members GROUP BY group_id HAVING count(*) >= 2
), s AS (
    SELECT 'account' AS scope, b.* FROM _abm_bu_account b
    UNION ALL
    SELECT 'group', m.group_id,
        {_each("sum(b.rev{i}), sum(b.pip{i}), sum(b.his{i}), min(b.fd{i}), max(b.ac{i})", n_bus, _NEXT)}
    FROM _abm_bu_account b JOIN _abm_members m ON m.account_id = b.account_id
    WHERE m.group_id IN (SELECT group_id FROM groups)
    GROUP BY m.group_id
), p AS (
    SELECT s.scope, s.account_id, {_each("coalesce(rev{i}, 0)", n_bus, " + ")} AS tr,
        {_each("coalesce(pip{i}, 0)", n_bus, " + ")} AS tp, {_each("coalesce(his{i}, 0)", n_bus, " + ")} AS th,
        CAST({_each("CASE WHEN ac{i} = 1 THEN 1 ELSE 0 END", n_bus, " + ")} AS BIGINT) AS n_active,
        {_each("CASE WHEN ac{i} = 1 THEN 1 END AS f{i}", n_bus)},
        {_each("rev{i}, pip{i}, his{i}, fd{i}", n_bus, _NEXT)}
    FROM s
), scored AS (
    SELECT p.*,
        {_each("CASE WHEN his{i} IS NOT NULL THEN $weight_revenue * coalesce(rev{i} / nullif(tr, 0), 0) "
               "+ $weight_pipeline * coalesce(pip{i} / nullif(tp, 0), 0) "
               "+ $weight_history * coalesce(CAST(his{i} AS DOUBLE) / nullif(th, 0), 0) END AS sc{i}", n_bus, _NEXT)}
    FROM p
), best AS (
    SELECT scored.*, greatest({_each("sc{i}", n_bus)}) AS best FROM scored
), won AS (
    SELECT best.*, CASE {winner} END AS lead_r FROM best
)
SELECT w.scope, w.account_id, CASE w.lead_r {_each("WHEN {i} THEN b.bu{i}", n_bus, " ")} END AS bu,
    CASE w.lead_r {_each("WHEN {i} THEN w.sc{i}", n_bus, " ")} END AS score, 1 AS rank, w.n_active,
    CASE WHEN w.n_active > 0 THEN concat_ws(',', {_each("CASE WHEN w.f{i} = 1 THEN b.bu{i} END", n_bus)}) END AS bus_active
FROM won w CROSS JOIN ({_bu_names(n_bus)}) b
"""  # noqa: S608


# Every account and group with its BUs, potential, grade and tier, strategic mark and manual decision
# (`scopes_base(n)` writes the BU list).
_SCOPES_BASE = """
WITH groups AS (
    SELECT group_id FROM _abm_members GROUP BY group_id HAVING count(*) >= 2
), scopes AS (
    SELECT 'account' AS scope, a.account_id, a.name FROM accounts a
    UNION ALL
    SELECT 'group', g.group_id, a.name FROM groups g JOIN accounts a ON a.account_id = g.group_id
), @ACTIVE@, decisions AS (
    SELECT d.*, row_number() OVER (PARTITION BY d.scope, d.account_id ORDER BY d.decided_at DESC, d.decision_id DESC) AS rn
    FROM abm_lead_bu_decisions d WHERE d.undone_at IS NULL
)
SELECT s.scope, s.account_id, s.name, m.group_id AS group_head_id,
    coalesce(ac.n_active, 0) AS n_active, ac.bus_active,
    r.bu AS rule_lead_bu, r.score AS rule_score,
    dec.lead_bu AS manual_lead_bu, dec.why AS manual_why, dec.decided_by, dec.decided_at,
    sm.account_id IS NOT NULL AS marked_strategic, sm.why AS strategic_why,
    k.potential_3y, k.tier AS kam_tier, g.grade AS icp_grade
FROM scopes s
LEFT JOIN _abm_members m ON m.account_id = s.account_id
LEFT JOIN active ac ON ac.scope = s.scope AND ac.account_id = s.account_id
LEFT JOIN _abm_lead_rule r ON r.scope = s.scope AND r.account_id = s.account_id AND r.rank = 1
LEFT JOIN decisions dec ON dec.scope = s.scope AND dec.account_id = s.account_id AND dec.rn = 1
LEFT JOIN abm_strategic_marks sm ON sm.scope = s.scope AND sm.account_id = s.account_id
LEFT JOIN _abm_kam k ON k.scope = s.scope AND k.account_id = s.account_id
LEFT JOIN _abm_grade g ON g.scope = s.scope AND g.account_id = s.account_id
"""

# KAM tier and potential per scope (the kam stage's table, or nothing).
KAM_FROM_TABLE = "SELECT scope, account_id, potential_3y, tier FROM kam_accounts"
KAM_EMPTY = ("SELECT CAST(NULL AS VARCHAR) AS scope, CAST(NULL AS VARCHAR) AS account_id, "
             "CAST(NULL AS DOUBLE) AS potential_3y, CAST(NULL AS BIGINT) AS tier FROM accounts WHERE 1 = 0")
# Best ICP grade per scope (A is best; a group takes its members' best).
GRADE_FROM_SCORES = """
SELECT 'account' AS scope, s.account_id, s.grade FROM scores s WHERE s.grade IS NOT NULL
UNION ALL
SELECT 'group', m.group_id, min(s.grade) FROM scores s JOIN _abm_members m ON m.account_id = s.account_id
WHERE s.grade IS NOT NULL GROUP BY m.group_id
"""
GRADE_EMPTY = ("SELECT CAST(NULL AS VARCHAR) AS scope, CAST(NULL AS VARCHAR) AS account_id, "
               "CAST(NULL AS VARCHAR) AS grade FROM accounts WHERE 1 = 0")

# Lead BU (manual decision > rule when 2+ BUs or strategic > the only active BU), priority class, reason.
_ACCOUNTS = """, c AS (
    SELECT b.*,
        CASE
            WHEN b.marked_strategic THEN 'group_strategic'
            WHEN b.n_active >= $strategic_min_bus THEN 'group_strategic'
            WHEN b.n_active >= 2 AND (',' || $strategic_grades || ',' LIKE '%,' || b.icp_grade || ',%'
                                      OR b.kam_tier <= $strategic_kam_tier
                                      OR b.potential_3y >= $strategic_potential) THEN 'group_strategic'
            WHEN b.n_active >= 2 THEN 'multi_bu'
            WHEN b.n_active = 1 THEN 'mono_bu'
            ELSE 'opportunistic'
        END AS priority_class,
        CASE
            WHEN b.marked_strategic THEN 'marked strategic' || coalesce(': ' || b.strategic_why, '')
            WHEN b.n_active >= $strategic_min_bus THEN CAST(b.n_active AS VARCHAR) || ' BUs active (≥ '
                 || CAST(CAST($strategic_min_bus AS BIGINT) AS VARCHAR) || ')'
            WHEN b.n_active >= 2 AND ',' || $strategic_grades || ',' LIKE '%,' || b.icp_grade || ',%'
                 THEN CAST(b.n_active AS VARCHAR) || ' BUs active and ICP grade ' || b.icp_grade
            WHEN b.n_active >= 2 AND b.kam_tier <= $strategic_kam_tier
                 THEN CAST(b.n_active AS VARCHAR) || ' BUs active and KAM tier ' || CAST(b.kam_tier AS VARCHAR)
            WHEN b.n_active >= 2 AND b.potential_3y >= $strategic_potential
                 THEN CAST(b.n_active AS VARCHAR) || ' BUs active and 3-year potential '
                      || CAST(CAST(round(b.potential_3y) AS BIGINT) AS VARCHAR)
            WHEN b.n_active >= 2 THEN CAST(b.n_active AS VARCHAR) || ' BUs active, not strategic'
            WHEN b.n_active = 1 THEN 'only ' || b.bus_active || ' active'
            ELSE 'no BU active in the last ' || CAST(CAST($active_window_days AS BIGINT) AS VARCHAR) || ' days'
        END AS class_reason
    FROM base b
), l AS (
    SELECT c.*,
        CASE WHEN c.manual_lead_bu IS NOT NULL THEN c.manual_lead_bu
             WHEN c.n_active >= 2 OR c.marked_strategic THEN c.rule_lead_bu
             WHEN c.n_active = 1 THEN c.bus_active END AS lead_bu,
        CASE WHEN c.manual_lead_bu IS NOT NULL THEN 'manual'
             WHEN (c.n_active >= 2 OR c.marked_strategic) AND c.rule_lead_bu IS NOT NULL THEN 'rule'
             WHEN c.n_active = 1 THEN 'single_bu' END AS lead_bu_source
    FROM c
)
SELECT l.account_id, l.scope, l.lead_bu, l.lead_bu_source, l.priority_class, l.bus_active,
    l.class_reason || CASE
        WHEN l.lead_bu_source = 'manual' THEN '; lead BU ' || l.lead_bu || ' set by ' || l.decided_by || ': ' || l.manual_why
        WHEN l.lead_bu_source = 'rule' THEN '; lead BU ' || l.lead_bu || ' by the rule (score '
             || CAST(round(l.rule_score * 1000) / 1000 AS VARCHAR) || ')'
        ELSE '' END AS reason,
    l.name, l.group_head_id, l.n_active AS bus_active_count, l.rule_lead_bu, l.rule_score,
    l.decided_by, l.decided_at, l.manual_why, l.marked_strategic, l.icp_grade, l.kam_tier, l.potential_3y,
    l.class_reason
FROM l
"""



def accounts(n_bus: int) -> str:
    """`abm_accounts` in one statement: the scopes' base (`scopes_base`) is a CTE read once, not a
    scratch table written and read back."""
    base = scopes_base(n_bus)
    cut = base.index("\nSELECT s.scope, s.account_id, s.name,")
    return base[:cut] + ", base AS (" + base[cut:] + ")" + _ACCOUNTS


# A deal open at $as_of with a BU (SQL condition on `deals d`).
_OPEN = """d.seller_bu IS NOT NULL AND coalesce(d.created_at, $as_of) <= $as_of
  AND (d.stage NOT IN ('won', 'lost') OR coalesce(d.close_date, $as_of) > $as_of)"""

# The open deals the competing-offer and outside-lead-BU conflicts look at: opened within the
# conflict window, or of a product marked a substitute.
OPEN_DEALS = """
SELECT d.deal_id, d.account_id, d.seller_bu AS bu, d.product, coalesce(d.amount_rc, d.amount) AS amount_rc,
    d.created_at
FROM deals d
WHERE @OPEN@
  AND (d.created_at >= $conflict_from
       OR d.product IN (SELECT product_a FROM abm_substitutes UNION SELECT product_b FROM abm_substitutes))
""".replace("@OPEN@", _OPEN)

# Conflicts found by this build (without state): kind, account, contact, BUs, reason
# (`conflicts_found(n)` writes the BU lists). Open deals per account and BU are counted from the
# deals directly; `_abm_open_deals` holds only the few the other kinds look at.
_CONFLICTS_FOUND = """
WITH @OD_CA@), subs AS (
    SELECT product_a AS p1, product_b AS p2 FROM abm_substitutes
    UNION SELECT product_b, product_a FROM abm_substitutes
), pairs AS (
    SELECT d1.account_id, d1.bu AS bu1, d2.bu AS bu2,
        string_agg(d1.deal_id || ' ' || d1.product || ' vs ' || d2.deal_id || ' ' || d2.product, ', '
                   ORDER BY d1.deal_id, d2.deal_id) AS offers
    FROM subs s
    JOIN _abm_open_deals d1 ON d1.product = s.p1
    JOIN _abm_open_deals d2 ON d2.account_id = d1.account_id AND d2.product = s.p2 AND d1.bu < d2.bu
    GROUP BY d1.account_id, d1.bu, d2.bu
), competing AS (
    SELECT 'competing_offers' AS kind, account_id, CAST(NULL AS VARCHAR) AS contact_id, bu1 || ',' || bu2 AS bus,
        'substitute products offered by ' || bu1 || ' and ' || bu2 || ': ' || offers AS reason
    FROM pairs
), outside AS (
    SELECT 'outside_lead_bu' AS kind, d.account_id, CAST(NULL AS VARCHAR) AS contact_id,
        CASE WHEN d.bu < x.lead_bu THEN d.bu || ',' || x.lead_bu ELSE x.lead_bu || ',' || d.bu END AS bus,
        d.bu || ' opened ' || string_agg(d.deal_id, ', ' ORDER BY d.deal_id) || ' (open) since '
            || CAST(CAST($conflict_from AS DATE) AS VARCHAR) || ' on a ' || max(x.priority_class)
            || ' account whose lead BU is ' || x.lead_bu || ' (' || max(x.lead_bu_source) || ')' AS reason
    FROM _abm_open_deals d
    JOIN abm_accounts x ON x.scope = 'account' AND x.account_id = d.account_id
    WHERE x.lead_bu IS NOT NULL AND d.bu <> x.lead_bu
      AND (x.priority_class = 'group_strategic' OR x.lead_bu_source = 'manual')
      AND d.created_at >= $conflict_from
    GROUP BY d.account_id, d.bu, x.lead_bu
), found AS (
    SELECT * FROM open_deals UNION ALL SELECT * FROM same_contact UNION ALL SELECT * FROM competing
    UNION ALL SELECT * FROM outside
)
SELECT md5(kind || '|' || account_id || '|' || coalesce(contact_id, '') || '|' || bus) AS conflict_id, found.*
FROM found
"""

# The conflicts this build found that no build saw before, remembered with the build date (their
# `detected_at`: `abm_conflicts` wrote it already as coalesce(first seen, $as_of)).
REMEMBER_CONFLICTS = """
INSERT INTO abm_conflict_seen (conflict_id, first_seen)
SELECT f.conflict_id, $as_of FROM abm_conflicts f
WHERE NOT EXISTS (SELECT 1 FROM abm_conflict_seen s WHERE s.conflict_id = f.conflict_id)
"""

# The conflicts with their state, first day seen (this build's date when no build saw them before)
# and lead BU: the found conflicts (`conflicts_found(n)`) are a CTE read once, not a scratch table.
_CONFLICTS = """
SELECT f.conflict_id, f.account_id, f.kind, f.bus, coalesce(st.state, 'open') AS state, f.reason,
    coalesce(seen.first_seen, $as_of) AS detected_at, f.contact_id, x.lead_bu,
    CASE WHEN x.lead_bu IS NULL OR ',' || f.bus || ',' LIKE '%,' || x.lead_bu || ',%' THEN f.bus
         ELSE f.bus || ',' || x.lead_bu END AS notify_bus,
    x.priority_class, st.changed_by AS state_changed_by, st.changed_at AS state_changed_at
FROM f
LEFT JOIN abm_conflict_states st ON st.conflict_id = f.conflict_id
LEFT JOIN abm_conflict_seen seen ON seen.conflict_id = f.conflict_id
LEFT JOIN abm_accounts x ON x.scope = 'account' AND x.account_id = f.account_id
"""


def conflicts(n_bus: int) -> str:
    """`abm_conflicts` in one statement: the rows of `conflicts_found(n_bus)` as the CTE `f`."""
    found = conflicts_found(n_bus)
    cut = found.index("\nSELECT md5(kind || '|'")
    return found[:cut] + ", f AS (" + found[cut:] + ")" + _CONFLICTS


# Campaigns of two BUs targeting one account (`campaign_accounts`), or one contact
# (`campaign_contacts`: the contact-level collisions, contact_id set), with periods within
# $collision_days of each other;
# the BU with the shorter sales cycle goes first (its deals close before the other's campaign).
COLLISIONS = """
WITH cam AS (
    SELECT c.campaign_id, c.name, c.seller_bu AS bu, c.start_date, coalesce(c.end_date, c.start_date) AS end_date,
        coalesce(b.name, c.seller_bu) AS bu_name, b.sales_cycle_days
    FROM campaigns c LEFT JOIN seller_bus b ON b.bu_id = c.seller_bu
    WHERE c.seller_bu IS NOT NULL AND c.start_date IS NOT NULL
), hit AS (
    SELECT t1.account_id, CAST(NULL AS VARCHAR) AS contact_id, c1.campaign_id AS id1, c2.campaign_id AS id2,
        c1.bu AS bu1, c2.bu AS bu2, c1.name AS name1, c2.name AS name2, c1.bu_name AS bn1, c2.bu_name AS bn2,
        c1.start_date AS s1, c1.end_date AS e1, c2.start_date AS s2, c2.end_date AS e2,
        c1.sales_cycle_days AS cy1, c2.sales_cycle_days AS cy2
    FROM campaign_accounts t1
    JOIN campaign_accounts t2 ON t2.account_id = t1.account_id AND t2.campaign_id <> t1.campaign_id
    JOIN cam c1 ON c1.campaign_id = t1.campaign_id
    JOIN cam c2 ON c2.campaign_id = t2.campaign_id
    WHERE c1.bu < c2.bu
      AND c1.start_date <= c2.end_date + CAST($collision_days AS INTEGER)
      AND c2.start_date <= c1.end_date + CAST($collision_days AS INTEGER)
    UNION ALL
    SELECT p.account_id, t1.contact_id, c1.campaign_id, c2.campaign_id, c1.bu, c2.bu, c1.name, c2.name,
        c1.bu_name, c2.bu_name, c1.start_date, c1.end_date, c2.start_date, c2.end_date,
        c1.sales_cycle_days, c2.sales_cycle_days
    FROM campaign_contacts t1
    JOIN campaign_contacts t2 ON t2.contact_id = t1.contact_id AND t2.campaign_id <> t1.campaign_id
    JOIN contacts p ON p.contact_id = t1.contact_id
    JOIN cam c1 ON c1.campaign_id = t1.campaign_id
    JOIN cam c2 ON c2.campaign_id = t2.campaign_id
    WHERE c1.bu < c2.bu
      AND c1.start_date <= c2.end_date + CAST($collision_days AS INTEGER)
      AND c2.start_date <= c1.end_date + CAST($collision_days AS INTEGER)
)
SELECT md5(account_id || '|' || coalesce(contact_id || '|', '') || id1 || '|' || id2) AS collision_id, account_id, contact_id,
    id1 || ',' || id2 AS campaign_ids, bu1 || ',' || bu2 AS bus,
    least(s1, s2) AS first_date, greatest(e1, e2) AS last_date,
    bn1 || '''s "' || name1 || '" (' || CAST(s1 AS VARCHAR) || ' to ' || CAST(e1 AS VARCHAR) || ') and '
        || bn2 || '''s "' || name2 || '" (' || CAST(s2 AS VARCHAR) || ' to ' || CAST(e2 AS VARCHAR)
        || ') target ' || coalesce('contact ' || contact_id, 'this account') || ' within '
        || CAST(CAST($collision_days AS BIGINT) AS VARCHAR) || ' days' AS reason,
    CASE
        WHEN cy1 IS NOT NULL AND cy2 IS NOT NULL AND cy1 < cy2 THEN
            'run ' || bn1 || '''s "' || name1 || '" before ' || bn2 || '''s "' || name2
            || '": its cycle is shorter (' || CAST(cy1 AS VARCHAR) || ' vs ' || CAST(cy2 AS VARCHAR) || ' days)'
        WHEN cy1 IS NOT NULL AND cy2 IS NOT NULL AND cy2 < cy1 THEN
            'run ' || bn2 || '''s "' || name2 || '" before ' || bn1 || '''s "' || name1
            || '": its cycle is shorter (' || CAST(cy2 AS VARCHAR) || ' vs ' || CAST(cy1 AS VARCHAR) || ' days)'
        WHEN s1 <= s2 THEN
            'run ' || bn1 || '''s "' || name1 || '" first (it starts first), then ' || bn2 || '''s "' || name2
            || '" at least ' || CAST(CAST($collision_days AS BIGINT) AS VARCHAR) || ' days after it ends'
        ELSE
            'run ' || bn2 || '''s "' || name2 || '" first (it starts first), then ' || bn1 || '''s "' || name1
            || '" at least ' || CAST(CAST($collision_days AS BIGINT) AS VARCHAR) || ' days after it ends'
    END AS suggested_sequence,
    CASE WHEN greatest(e1, e2) < $as_of THEN 'past' WHEN least(s1, s2) > $as_of THEN 'upcoming' ELSE 'current' END
        AS status
FROM hit
"""

# Every BU id the steps meet (deals, activities, campaigns; '' for a deal without a BU), numbered
# in the order of their ids: attribution and the BU lists pivot on these numbers.
BU_RANK = """
SELECT bu, row_number() OVER (ORDER BY bu) AS r FROM (
    SELECT coalesce(seller_bu, '') AS bu FROM deals
    UNION SELECT seller_bu FROM activities WHERE seller_bu IS NOT NULL
    UNION SELECT seller_bu FROM campaigns WHERE seller_bu IS NOT NULL
) b
"""

# Most BUs the pivoted attribution is written for (its rank of a part compares it with every other
# part: n² terms); beyond, the window version (`ATTRIBUTION_WINDOWS`).
PIVOT_MAX_BUS = 16

# Won deals (`dn`: an integer key) and the touches of each BU before the close, one row per touch:
# the closing BU, activities and campaign targets within $touch_window_days before the close.
_WON = """
WITH won AS (
    SELECT row_number() OVER (ORDER BY d.deal_id) AS dn, d.deal_id, d.account_id, coalesce(d.seller_bu, '') AS bu,
        coalesce(d.close_date, d.created_at, $as_of) AS closed,
        CAST(round(coalesce(d.amount_rc, d.amount) * 100) AS BIGINT) AS cents, x.lead_bu
    FROM deals d LEFT JOIN abm_accounts x ON x.scope = 'account' AND x.account_id = d.account_id
    WHERE d.stage = 'won' AND coalesce(d.close_date, d.created_at, $as_of) <= $as_of
)"""
_WON_AND_TOUCHES = _WON + """, touch AS (
    SELECT w.dn, w.bu FROM won w
    UNION ALL
    SELECT w.dn, a.seller_bu FROM won w
    JOIN activities a ON a.account_id = w.account_id
    WHERE a.seller_bu IS NOT NULL AND a."date" <= w.closed AND a."date" >= w.closed - CAST($touch_window_days AS INTEGER)
    UNION ALL
    SELECT w.dn, c.seller_bu FROM won w
    JOIN (SELECT t.account_id, c.seller_bu, c.start_date, coalesce(c.end_date, c.start_date) AS end_date
          FROM campaign_accounts t JOIN campaigns c ON c.campaign_id = t.campaign_id
          WHERE c.seller_bu IS NOT NULL) c ON c.account_id = w.account_id
    WHERE c.start_date <= w.closed AND c.end_date >= w.closed - CAST($touch_window_days AS INTEGER)
)"""  # noqa: S608 - two static texts

# Fractional attribution of each won deal: the BUs that touched the account before the close
# (the closing BU always), weights by the rule, cents by the largest-remainder method — the window
# version: one row per (deal, BU), a window for the total weight, one for the leftover cents and
# the ranks of the remainders. For more than PIVOT_MAX_BUS BUs.
ATTRIBUTION_WINDOWS = _WON_AND_TOUCHES + """, per AS (
    SELECT dn, bu, count(*) AS touches FROM touch GROUP BY dn, bu
), weighted AS (
    SELECT p.dn, p.bu, p.touches, w.cents,
        CASE $rule
            WHEN 'equal' THEN 1.0
            WHEN 'lead_bu_bonus' THEN 1.0 + CASE WHEN p.bu = w.lead_bu THEN $lead_bu_bonus ELSE 0.0 END
            ELSE CAST(p.touches AS DOUBLE)
        END AS weight
    FROM per p JOIN won w ON w.dn = p.dn
), raw AS (
    SELECT weighted.*, sum(weight) OVER (PARTITION BY dn) AS total_weight,
        floor(cents * weight / sum(weight) OVER (PARTITION BY dn)) AS base
    FROM weighted
), ranked AS (
    SELECT raw.*,
        cents - sum(base) OVER (PARTITION BY dn) AS leftover,
        row_number() OVER (PARTITION BY dn ORDER BY cents * weight / total_weight - base DESC, bu) AS rnk
    FROM raw
), alloc AS (
    SELECT ranked.*, CAST(base AS BIGINT) + CASE WHEN rnk <= leftover THEN 1 ELSE 0 END AS alloc_cents FROM ranked
)
SELECT w.deal_id, nullif(a.bu, '') AS seller_bu,
    CASE WHEN a.cents <> 0 THEN CAST(a.alloc_cents AS DOUBLE) / a.cents ELSE a.weight / a.total_weight END AS share,
    CAST(a.alloc_cents AS DOUBLE) / 100 AS amount_rc, $rule AS rule,
    w.account_id, a.alloc_cents AS amount_cents, a.cents AS deal_cents, a.weight, a.touches, w.lead_bu
FROM alloc a JOIN won w ON w.dn = a.dn
"""  # noqa: S608 - two static texts


_NEXT = ",\n        "


def bu_list(value: str, n_bus: int, sep: str = ",") -> str:
    """The aggregate `string_agg(value, sep ORDER BY bu)` over rows (one per BU) joined with
    `_abm_bu_rank k`: for up to PIVOT_MAX_BUS BUs, one `max(CASE WHEN k.r = i …)` per BU number in
    BU order, joined by `concat_ws` (an ordered string_agg sorts inside every group: ~3× the
    time). `value` is SQL text of the statement, never a value."""
    if n_bus > PIVOT_MAX_BUS or n_bus == 0:  # no BU at all (a CRM without seller BUs): nothing to pivot
        return f"string_agg({value}, '{sep}' ORDER BY k.bu)"
    return f"concat_ws('{sep}', " + ", ".join(f"max(CASE WHEN k.r = {i} THEN {value} END)"
                                              for i in range(1, n_bus + 1)) + ")"


def pivots(n_bus: int) -> bool:
    """Whether the statements are written with one column per BU number (up to PIVOT_MAX_BUS)."""
    return 0 < n_bus <= PIVOT_MAX_BUS


def _each(template: str, n_bus: int, sep: str = ", ") -> str:
    """`template` written for each BU number 1..n_bus (`{i}`), joined by `sep`: column numbers only."""
    return sep.join(template.format(i=i) for i in range(1, n_bus + 1))


def _bu_names(n_bus: int) -> str:
    """One row: the BU id of each number (bu1..bun), to write the BU lists from per-number columns."""
    return "SELECT " + _each("max(CASE WHEN r = {i} THEN bu END) AS bu{i}", n_bus) + " FROM _abm_bu_rank"  # noqa: S608 - column numbers only


# BUs active per scope: their count and their list in BU order.
_ACTIVE_AGG = """active AS (
    SELECT s.scope, s.account_id, count(*) AS n_active, @BUS_ACTIVE@ AS bus_active
    FROM _abm_bu_scope s JOIN _abm_bu_rank k ON k.r = s.r WHERE s.active = 1 GROUP BY s.scope, s.account_id
)"""
# Pivoted: the lead rule's step (`lead_rule`) counted them and wrote their list.
# Pivoted: the lead rule's step (`lead_rule`) counted them and wrote their list on its one row per
# scope (n_active 0 and no list where none is active), read by the join with the rule's winner.


def scopes_base(n_bus: int) -> str:
    if not pivots(n_bus):
        return _SCOPES_BASE.replace("@ACTIVE@", _ACTIVE_AGG.replace("@BUS_ACTIVE@", bu_list("k.bu", n_bus)))
    base = (_SCOPES_BASE.replace("), @ACTIVE@, decisions AS (", "), decisions AS (")
            .replace("coalesce(ac.n_active, 0) AS n_active, ac.bus_active,", "coalesce(r.n_active, 0) AS n_active, r.bus_active,")
            .replace("LEFT JOIN active ac ON ac.scope = s.scope AND ac.account_id = s.account_id\n", ""))
    assert "active ac" not in base and "@ACTIVE@" not in base
    return base


# Open deals of two or more BUs on one account; activities of two or more BUs on one contact
# within the conflict window (the string_agg version, for more than PIVOT_MAX_BUS BUs).
_OD_CA_AGG = """od AS (
    SELECT d.account_id, d.seller_bu AS bu, count(*) AS n FROM deals d WHERE @OPEN@ GROUP BY d.account_id, d.seller_bu
), open_deals AS (
    SELECT 'open_deals' AS kind, od.account_id, CAST(NULL AS VARCHAR) AS contact_id,
        @OD_BUS@ AS bus,
        'open deals of ' || @OD_REASON@ || ' on the same account' AS reason
    FROM od JOIN _abm_bu_rank k ON k.bu = od.bu GROUP BY od.account_id HAVING count(*) >= 2
), ca AS (
    SELECT a.contact_id, a.seller_bu AS bu, count(*) AS n, max(a."date") AS last_day, min(a.account_id) AS account_id
    FROM activities a
    WHERE a.contact_id IS NOT NULL AND a.seller_bu IS NOT NULL AND a."date" >= $conflict_from AND a."date" <= $as_of
    GROUP BY a.contact_id, a.seller_bu
), same_contact AS (
    SELECT 'same_contact' AS kind, coalesce(max(p.account_id), min(ca.account_id)) AS account_id, ca.contact_id,
        @CA_BUS@ AS bus,
        @CA_REASON@
            || ' all worked this contact in the last ' || CAST(CAST($conflict_window_days AS BIGINT) AS VARCHAR)
            || ' days' AS reason
    FROM ca JOIN _abm_bu_rank k ON k.bu = ca.bu LEFT JOIN contacts p ON p.contact_id = ca.contact_id
    GROUP BY ca.contact_id HAVING count(*) >= 2
"""
# Pivoted: one GROUP BY per account (contact) counts the open deals (activities) of each BU number
# in its own column (and the last day), no (account, BU) rows grouped twice; the BU lists and
# reasons written once per conflict from those columns and the BU names — the same text as the
# string_agg version (concat_ws skips the BUs absent: NULL).
_OD_CA_PIVOT = """bu_names AS (@NAMES@
), od AS (
    SELECT d.account_id, @OD_N@
    FROM deals d JOIN _abm_bu_rank k ON k.bu = d.seller_bu
    WHERE @OPEN@
    GROUP BY d.account_id HAVING @OD_BUS_COUNT@ >= 2
), open_deals AS (
    SELECT 'open_deals' AS kind, od.account_id, CAST(NULL AS VARCHAR) AS contact_id,
        concat_ws(',', @OD_BUS@) AS bus,
        'open deals of ' || concat_ws(', ', @OD_REASON@) || ' on the same account' AS reason
    FROM od CROSS JOIN bu_names b
), ca AS (
    SELECT a.contact_id, coalesce(max(p.account_id), min(a.account_id)) AS account_id, @CA_N@
    FROM activities a JOIN _abm_bu_rank k ON k.bu = a.seller_bu LEFT JOIN contacts p ON p.contact_id = a.contact_id
    WHERE a.contact_id IS NOT NULL AND a.seller_bu IS NOT NULL AND a."date" >= $conflict_from AND a."date" <= $as_of
    GROUP BY a.contact_id HAVING @CA_BUS_COUNT@ >= 2
), same_contact AS (
    SELECT 'same_contact' AS kind, ca.account_id, ca.contact_id, concat_ws(',', @CA_BUS@) AS bus,
        concat_ws(', ', @CA_REASON@)
            || ' all worked this contact in the last ' || CAST(CAST($conflict_window_days AS BIGINT) AS VARCHAR)
            || ' days' AS reason
    FROM ca CROSS JOIN bu_names b
"""


def conflicts_found(n_bus: int) -> str:
    if not pivots(n_bus):
        od_ca = (_OD_CA_AGG.replace("@OD_BUS@", bu_list("od.bu", n_bus))
                 .replace("@OD_REASON@", bu_list("od.bu || ' (' || CAST(od.n AS VARCHAR) || ')'", n_bus, ", "))
                 .replace("@CA_BUS@", bu_list("ca.bu", n_bus))
                 .replace("@CA_REASON@", bu_list(
                     "ca.bu || ' (' || CAST(ca.n AS VARCHAR) || ', last ' || CAST(ca.last_day AS VARCHAR) || ')'",
                     n_bus, ", ")))
    else:
        od_ca = (_OD_CA_PIVOT.replace("@NAMES@", _bu_names(n_bus))
                 .replace("@OD_N@", _each("nullif(count(*) FILTER (WHERE k.r = {i}), 0) AS n{i}", n_bus))
                 .replace("@OD_BUS_COUNT@", "(" + _each("CASE WHEN count(*) FILTER (WHERE k.r = {i}) > 0 THEN 1 ELSE 0 END",
                                                         n_bus, " + ") + ")")
                 .replace("@OD_BUS@", _each("CASE WHEN od.n{i} IS NOT NULL THEN b.bu{i} END", n_bus))
                 .replace("@OD_REASON@", _each("b.bu{i} || ' (' || CAST(od.n{i} AS VARCHAR) || ')'", n_bus))
                 .replace("@CA_N@", _each("nullif(count(*) FILTER (WHERE k.r = {i}), 0) AS n{i}, "
                                          "max(a.\"date\") FILTER (WHERE k.r = {i}) AS l{i}", n_bus))
                 .replace("@CA_BUS_COUNT@", "(" + _each("CASE WHEN count(*) FILTER (WHERE k.r = {i}) > 0 THEN 1 ELSE 0 END",
                                                         n_bus, " + ") + ")")
                 .replace("@CA_BUS@", _each("CASE WHEN ca.n{i} IS NOT NULL THEN b.bu{i} END", n_bus))
                 .replace("@CA_REASON@", _each(
                     "b.bu{i} || ' (' || CAST(ca.n{i} AS VARCHAR) || ', last ' || CAST(ca.l{i} AS VARCHAR) || ')'",
                     n_bus)))
    return _CONFLICTS_FOUND.replace("@OD_CA@", od_ca).replace("@OPEN@", _OPEN)


# The won deals the attribution splits (each has at least its own BU's part).
WON_DEALS = """
SELECT count(*) FROM deals d WHERE d.stage = 'won' AND coalesce(d.close_date, d.created_at, $as_of) <= $as_of
"""


def attribution(n_bus: int) -> str:
    """The attribution of won deals (same rows as `ATTRIBUTION_WINDOWS`) for `n_bus` BUs numbered
    1..n_bus by `_abm_bu_rank`: one GROUP BY per deal counts the touches of each BU in its own
    column (t1..tn), every part's weight, floor, remainder, rank among the deal's parts and cents
    are then column arithmetic on that one row (no sort, no window), and a join with the BU
    numbers turns the columns back into one row per (deal, BU) touched. Same floating-point
    expressions as the window version, so the same cents; ties of remainders go to the smaller
    BU id (the smaller number)."""
    if n_bus > PIVOT_MAX_BUS or n_bus == 0:  # no BU numbered: the window version has nothing to pivot
        return ATTRIBUTION_WINDOWS
    ids = range(1, n_bus + 1)

    def each(template: str, sep: str = ", ") -> str:
        return sep.join(template.format(i=i) for i in ids)

    def pick(template: str) -> str:  # the column of the row's BU number k.r
        return "CASE k.r " + " ".join(f"WHEN {i} THEN {template.format(i=i)}" for i in ids) + " END"

    rank_terms = {i: " + ".join(
        [f"CASE WHEN t{j} > 0 AND (q{j} > q{i} OR q{j} = q{i} AND {j} < {i}) THEN 1 ELSE 0 END" for j in ids if j != i]
        or ["0"]) for i in ids}
    # only column numbers are formatted into the text: values stay parameters
    return _WON + f""", touch AS (
    SELECT w.dn, a.r FROM won w
    JOIN (SELECT a.account_id, a."date", k.r FROM activities a JOIN _abm_bu_rank k ON k.bu = a.seller_bu) a
      ON a.account_id = w.account_id
    WHERE a."date" <= w.closed AND a."date" >= w.closed - CAST($touch_window_days AS INTEGER)
    UNION ALL
    SELECT w.dn, c.r FROM won w
    JOIN (SELECT t.account_id, k.r, c.start_date, coalesce(c.end_date, c.start_date) AS end_date
          FROM campaign_accounts t JOIN campaigns c ON c.campaign_id = t.campaign_id
          JOIN _abm_bu_rank k ON k.bu = c.seller_bu) c ON c.account_id = w.account_id
    WHERE c.start_date <= w.closed AND c.end_date >= w.closed - CAST($touch_window_days AS INTEGER)
), per AS (
    SELECT dn, {each("count(*) FILTER (WHERE r = {i}) AS t{i}")} FROM touch GROUP BY dn
), counted AS (  -- the close counts as one touch of the deal's BU
    SELECT w.deal_id, w.account_id, w.lead_bu, w.cents, lk.r AS lead_r,
        {each("coalesce(p.t{i}, 0) + CASE WHEN dk.r = {i} THEN 1 ELSE 0 END AS t{i}", _NEXT)}
    FROM won w JOIN _abm_bu_rank dk ON dk.bu = w.bu
    LEFT JOIN per p ON p.dn = w.dn LEFT JOIN _abm_bu_rank lk ON lk.bu = w.lead_bu
), weighted AS (
    SELECT p.*,
        {each("CASE WHEN p.t{i} = 0 THEN CAST(0 AS DOUBLE) ELSE CASE $rule WHEN 'equal' THEN 1.0 "
              "WHEN 'lead_bu_bonus' THEN 1.0 + CASE WHEN p.lead_r = {i} THEN $lead_bu_bonus ELSE 0.0 END "
              "ELSE CAST(p.t{i} AS DOUBLE) END END AS w{i}", _NEXT)}
    FROM counted p
), totals AS (
    SELECT weighted.*, {each("w{i}", " + ")} AS total_weight FROM weighted
), based AS (
    SELECT totals.*, {each("floor(cents * w{i} / total_weight) AS b{i}")} FROM totals
), remains AS (
    SELECT based.*, {each("cents * w{i} / total_weight - b{i} AS q{i}")},
        cents - ({each("b{i}", " + ")}) AS leftover
    FROM based
), ranked AS (
    SELECT remains.*, {", ".join(f"1 + {rank_terms[i]} AS k{i}" for i in ids)} FROM remains
), alloc AS (
    SELECT ranked.*, {each("CAST(b{i} AS BIGINT) + CASE WHEN k{i} <= leftover THEN 1 ELSE 0 END AS a{i}")} FROM ranked
), parts AS (
    SELECT x.deal_id, x.account_id, x.lead_bu, x.cents, x.total_weight, k.bu,
        {pick("x.a{i}")} AS alloc_cents, {pick("x.w{i}")} AS weight, {pick("x.t{i}")} AS touches
    FROM alloc x JOIN _abm_bu_rank k ON {pick("x.t{i}")} > 0
)
SELECT deal_id, nullif(bu, '') AS seller_bu,
    CASE WHEN cents <> 0 THEN CAST(alloc_cents AS DOUBLE) / cents ELSE weight / total_weight END AS share,
    CAST(alloc_cents AS DOUBLE) / 100 AS amount_rc, $rule AS rule,
    account_id, alloc_cents AS amount_cents, cents AS deal_cents, weight, touches, lead_bu
FROM parts
"""  # noqa: S608


# AE → CSM handovers: every deal won within $handover_window_days before $as_of, and every deal with a
# recorded handover, with its state — `missing` (nothing recorded), `incomplete` (a field to pass on
# or the three-way meeting missing), `meeting_planned` (after $as_of), `done` — and what is missing.
HANDOVERS = """
WITH latest AS (
    SELECT DISTINCT ON (h.deal_id) h.*
    FROM abm_handovers h ORDER BY h.deal_id, h.recorded_at DESC, h.handover_id DESC
), won AS (
    SELECT d.deal_id, d.account_id, d.seller_bu, d.owner, coalesce(d.close_date, d.created_at) AS signed_at
    FROM deals d
    WHERE d.stage = 'won' AND coalesce(d.close_date, d.created_at, $as_of) <= $as_of
      AND (coalesce(d.close_date, d.created_at, $as_of) >= $handover_from
           OR d.deal_id IN (SELECT deal_id FROM latest))
), j AS (
    SELECT w.deal_id, w.account_id, w.seller_bu, coalesce(h.from_ae, w.owner) AS from_ae, h.to_csm,
        w.signed_at, h.meeting_at, h.meeting_customer, h.recorded_by, h.recorded_at, h.handover_id IS NOT NULL AS recorded,
        concat_ws(', ',
            CASE WHEN coalesce(trim(h.decision_context), '') = '' THEN 'decision context' END,
            CASE WHEN coalesce(trim(h.value_objectives), '') = '' THEN 'value objectives' END,
            CASE WHEN coalesce(trim(h.stakeholders), '') = '' THEN 'stakeholders' END,
            CASE WHEN coalesce(trim(h.commitments), '') = '' THEN 'commitments' END,
            CASE WHEN h.meeting_at IS NULL THEN 'three-way meeting' END) AS missing
    FROM won w LEFT JOIN latest h ON h.deal_id = w.deal_id
)
SELECT deal_id, account_id, seller_bu, from_ae, to_csm, signed_at,
    CASE WHEN NOT recorded THEN 'missing' WHEN missing <> '' THEN 'incomplete'
         WHEN meeting_at > $as_of THEN 'meeting_planned' ELSE 'done' END AS state,
    nullif(missing, '') AS missing,
    CASE WHEN NOT recorded THEN 'signed ' || CAST(signed_at AS VARCHAR) || ' by ' || coalesce(from_ae, 'an unknown AE')
              || ': no handover to a CSM recorded'
         WHEN missing <> '' THEN 'handed over to ' || to_csm || '; missing: ' || missing
         ELSE 'handed over to ' || to_csm || '; three-way meeting with ' || meeting_customer || ' on '
              || CAST(CAST(meeting_at AS DATE) AS VARCHAR) END AS reason,
    meeting_at, meeting_customer, recorded_by, recorded_at
FROM j
"""

# Account teams: members set by users win; else the AE of each BU is the owner of its latest
# deal on the account (latest day, NULL days last, then the greatest deal id: `arg_max` over that
# pair in one GROUP BY of the deals per account and BU — a GROUP BY for the latest day, a join of
# every deal with it and a second GROUP BY cost ~2× the CPU at 1M; on PostgreSQL the store writes
# it as an ordered `array_agg`), its CSM the one the latest recorded handover named, and a
# group's group account manager is the owner of its head account.
TEAMS = """
WITH latest AS (
    SELECT d.account_id, d.seller_bu,
        arg_max(d.owner, (coalesce(d.close_date, d.created_at, DATE '-infinity'), d.deal_id)) AS owner
    FROM deals d
    WHERE d.owner IS NOT NULL AND d.seller_bu IS NOT NULL
      AND coalesce(d.created_at, d.close_date, $as_of) <= $as_of
    GROUP BY d.account_id, d.seller_bu
), csm AS (
    SELECT DISTINCT ON (h.account_id, h.seller_bu) h.account_id, h.seller_bu, h.to_csm
    FROM abm_handovers h
    ORDER BY h.account_id, h.seller_bu, h.recorded_at DESC, h.handover_id DESC
), derived AS (
    SELECT account_id, owner AS member, 'ae' AS role, seller_bu, 'deal_owner' AS source FROM latest
    UNION ALL
    SELECT account_id, to_csm, 'csm', seller_bu, 'handover' FROM csm
    UNION ALL
    SELECT x.account_id, a.owner, 'group_account_manager', CAST(NULL AS VARCHAR), 'account_owner'
    FROM abm_accounts x JOIN accounts a ON a.account_id = x.account_id
    WHERE x.scope = 'group' AND x.bus_active_count >= 2 AND a.owner IS NOT NULL
), manual AS (
    SELECT account_id, member, role, member_bu AS seller_bu, 'manual' AS source FROM abm_team_members
)
SELECT account_id, member, role, seller_bu AS member_bu, source FROM manual
UNION ALL
SELECT d.account_id, d.member, d.role, d.seller_bu, d.source FROM derived d
LEFT JOIN manual m ON m.account_id = d.account_id AND m.role = d.role
     AND coalesce(m.seller_bu, '') = coalesce(d.seller_bu, '')
WHERE m.account_id IS NULL  -- an anti-join: a correlated NOT EXISTS on an expression made DuckDB de-duplicate every derived row first
"""

# Coverage read from the teams: accounts and group_strategic accounts per member and role; an AE
# should carry between $coverage_min and $coverage_max strategic accounts (DOMAIN.md: 3–5).
COVERAGE = """
WITH t AS (
    SELECT t.member, t.role, t.member_bu, t.account_id, x.priority_class  -- one row per (account, role, member, BU)
    FROM abm_account_teams t
    LEFT JOIN abm_accounts x ON x.account_id = t.account_id
         AND x.scope = CASE WHEN t.role = 'group_account_manager' THEN 'group' ELSE 'account' END
), c AS (
    SELECT member, role, member_bu, count(*) AS accounts,
        count(*) FILTER (WHERE priority_class = 'group_strategic') AS strategic_accounts
    FROM t GROUP BY member, role, member_bu
)
SELECT member, role, member_bu, accounts, strategic_accounts,
    CASE WHEN role <> 'ae' THEN NULL
         WHEN strategic_accounts > $coverage_max THEN 'over'
         WHEN strategic_accounts < $coverage_min THEN 'under' ELSE 'ok' END AS coverage,
    CASE WHEN role <> 'ae' THEN CAST(strategic_accounts AS VARCHAR) || ' group_strategic of ' || CAST(accounts AS VARCHAR)
              || ' account(s)'
         ELSE CAST(strategic_accounts AS VARCHAR) || ' group_strategic account(s) as AE (target '
              || CAST(CAST($coverage_min AS BIGINT) AS VARCHAR) || '–' || CAST(CAST($coverage_max AS BIGINT) AS VARCHAR)
              || ')' END AS reason
FROM c
"""
