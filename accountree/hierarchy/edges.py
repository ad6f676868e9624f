"""Which parent links count: sources, precedence, manual decisions, and the control rule.

Parent links come from three places: `accounts.parent_id` (the CRM's simple case),
`relationships` (shares, several parents, registry links with their `source`), and
`manual_links` (what a user decided with `accountree link` / `unlink`). For each child:

1. Links the user removed (`unlink`) or overrode (`detach`), links to or from unknown accounts,
   self-links and links above an account flagged `is_group_head` are set aside (and reported).
2. The child keeps the links of its best source class only (default manual > registry > crm):
   a registry correcting the CRM replaces the CRM's parent instead of adding a second one.
   Within a class, `relationships` rows win over `accounts.parent_id` for the same parent.
3. Control: a link *claims control* when its share is above the threshold, or when no share is
   given and it is not a `joint_venture` link, or when a registry states it (GLEIF accounting
   consolidation, D&B parent, SIRENE establishment: control by definition, whatever the share).
   One claim: that parent consolidates the child.
   Several claims: the largest explicit share wins (then the lowest parent id), the others are
   dropped and reported. No claim: the child is consolidated by nobody; every parent holds its
   share (a joint venture), weighted by its percentage or, with none given, an equal split.

Everything is decided from the data alone, so the order in which files were imported never
changes the result.
"""

from __future__ import annotations

from accountree.hierarchy import worktables
from accountree.hierarchy.settings import HierarchySettings
from accountree.store import Workspace

# An account's own parent_id needs no check that the child exists (it is the account): only the
# parent side is joined, which matters at a million accounts.
RAW = """
WITH declared AS (
    SELECT child_id, trim(parent_id) AS parent_id, coalesce(relation, 'subsidiary') AS relation, ownership_pct,
           lower(source) AS source
    FROM relationships
    UNION ALL
    SELECT child_id, parent_id, coalesce(relation, 'subsidiary'), ownership_pct, 'manual'
    FROM manual_links WHERE action = 'link'
), links AS (
    SELECT account_id AS child_id, trim(parent_id) AS parent_id, 'subsidiary' AS relation,
           CAST(NULL AS DOUBLE) AS ownership_pct, lower(source) AS source, 1 AS origin,
           TRUE AS child_known, coalesce(is_group_head, FALSE) AS child_is_head
    FROM accounts WHERE parent_id IS NOT NULL AND trim(parent_id) <> ''
    UNION ALL
    SELECT coalesce(ac.survivor_id, d.child_id), d.parent_id, d.relation, d.ownership_pct, d.source, 0,
           c.account_id IS NOT NULL, coalesce(c.is_group_head, FALSE)
    FROM declared d
    LEFT JOIN account_aliases ac ON ac.old_id = d.child_id
    LEFT JOIN accounts c ON c.account_id = coalesce(ac.survivor_id, d.child_id)
), removed AS (
    SELECT DISTINCT child_id, parent_id, action FROM manual_links WHERE action IN ('unlink', 'detach')
), aliased AS (
    SELECT l.child_id, coalesce(ap.survivor_id, l.parent_id) AS parent_id, l.relation, l.ownership_pct, l.source,
           l.origin, l.child_known, l.child_is_head
    FROM links l LEFT JOIN account_aliases ap ON ap.old_id = l.parent_id
)
SELECT a.child_id, a.parent_id, a.relation, a.ownership_pct, a.source, a.origin,
       CASE WHEN a.source = 'manual' THEN $rank_manual
            WHEN a.source IN ('gleif', 'dnb', 'sirene') THEN $rank_registry
            ELSE $rank_crm END AS source_rank,
       a.child_known,
       p.account_id IS NOT NULL AS parent_known,
       a.child_is_head AND a.source <> 'manual' AS head_stop,
       a.source IN ('gleif', 'dnb', 'sirene') AND a.relation <> 'joint_venture' AS consolidates,
       a.source <> 'manual' AND (u.child_id IS NOT NULL OR d.child_id IS NOT NULL) AS suppressed
FROM aliased a
LEFT JOIN accounts p ON p.account_id = a.parent_id
LEFT JOIN removed u ON u.action = 'unlink' AND u.child_id = a.child_id AND u.parent_id = a.parent_id
LEFT JOIN removed d ON d.action = 'detach' AND d.child_id = a.child_id
"""

# Links set aside (for the issues), with the text the issues quote.
REJECTED = """
SELECT *, child_id || ' -> ' || parent_id || ' (' || source
          || CASE WHEN ownership_pct IS NULL THEN ''
                  ELSE ', ' || CAST(CAST(ownership_pct AS DECIMAL(9, 2)) AS VARCHAR) || ' %' END || ')' AS edge_text
FROM _hier_raw
WHERE NOT suppressed AND NOT (child_known AND parent_known AND child_id <> parent_id AND NOT head_stop)
"""

# Most children have exactly one usable link: they skip the window functions (the slow part at
# a million accounts); only children with several links go through precedence and claims.
SELECTED = """
WITH usable AS (
    SELECT child_id, parent_id, relation, ownership_pct, source, source_rank, origin,
           consolidates OR coalesce(ownership_pct > $threshold, relation <> 'joint_venture') AS claims_control
    FROM _hier_raw
    WHERE child_known AND parent_known AND child_id <> parent_id AND NOT head_stop AND NOT suppressed
), counted AS (
    SELECT child_id, count(*) AS n FROM usable GROUP BY child_id
), single AS (
    SELECT u.child_id, u.parent_id, u.relation, u.ownership_pct, u.source, u.source_rank,
           CAST(NULL AS VARCHAR) AS edge_text,
           u.claims_control, CAST(1 AS BIGINT) AS claim_order,
           CAST(CASE WHEN u.claims_control THEN 1 ELSE 0 END AS BIGINT) AS claims,
           u.ownership_pct AS total_pct, CAST(1 AS BIGINT) AS kept
    FROM usable u JOIN counted n ON n.child_id = u.child_id AND n.n = 1
), dedup AS (
    SELECT u.*, row_number() OVER (PARTITION BY u.child_id, u.parent_id ORDER BY u.source_rank, u.origin, u.source) AS dup
    FROM usable u JOIN counted n ON n.child_id = u.child_id AND n.n > 1
), best AS (
    SELECT *, min(source_rank) OVER (PARTITION BY child_id) AS best_rank FROM dedup WHERE dup = 1
), claimed AS (
    SELECT child_id, parent_id, relation, ownership_pct, source, source_rank,
           child_id || ' -> ' || parent_id || ' (' || source
               || CASE WHEN ownership_pct IS NULL THEN ''
                       ELSE ', ' || CAST(CAST(ownership_pct AS DECIMAL(9, 2)) AS VARCHAR) || ' %' END || ')' AS edge_text,
           claims_control
    FROM best WHERE source_rank = best_rank
), several AS (
    SELECT *,
           row_number() OVER (PARTITION BY child_id ORDER BY claims_control DESC, ownership_pct IS NULL,
                                                             ownership_pct DESC, parent_id) AS claim_order,
           sum(CASE WHEN claims_control THEN 1 ELSE 0 END) OVER (PARTITION BY child_id) AS claims,
           sum(ownership_pct) OVER (PARTITION BY child_id) AS total_pct,
           count(*) OVER (PARTITION BY child_id) AS n_best
    FROM claimed
)
SELECT * FROM single
UNION ALL
SELECT child_id, parent_id, relation, ownership_pct, source, source_rank, edge_text, claims_control,
       CAST(claim_order AS BIGINT), CAST(claims AS BIGINT), total_pct,
       CAST(n_best - greatest(claims - 1, 0) AS BIGINT) AS kept
FROM several
"""

# The public `hierarchy_edges`: every link in effect. A losing control claim is not in it.
EFFECTIVE = """
SELECT child_id, parent_id, relation, ownership_pct,
       claims_control AND claim_order = 1 AS is_control, source,
       CASE WHEN ownership_pct IS NOT NULL THEN ownership_pct / 100.0
            WHEN claims_control THEN CAST(1.0 AS DOUBLE)
            ELSE CAST(1.0 AS DOUBLE) / kept END AS weight,
       source_rank
FROM _hier_selected
WHERE NOT (claims_control AND claim_order > 1)
"""


def build_edges(ws: Workspace, settings: HierarchySettings) -> int:
    """Scratch `_hier_raw` (every link seen), `_hier_rejected`, `_hier_selected`; `hierarchy_edges`."""
    engine = ws.engine
    params = settings.rank_params()
    worktables.create(engine, "_hier_raw", RAW,
                      {k: v for k, v in params.items() if k.startswith("rank_")})
    worktables.create(engine, "_hier_rejected", REJECTED)
    worktables.create(engine, "_hier_selected", SELECTED, {"threshold": params["threshold"]})
    worktables.replace_output(engine, "hierarchy_edges", EFFECTIVE, index=("parent_id", "child_id"))
    return worktables.count(engine, "hierarchy_edges")
