"""The tree a registry contributes, and the check of its ultimate parents (SQL of `reconcile`).

Direct links (GLEIF IS_DIRECTLY_CONSOLIDATED_BY, D&B parent, SIRENE establishment → SIREN) and
branch links between attached accounts become `relationships` rows. The ultimate-parent links
(GLEIF IS_ULTIMATELY_CONSOLIDATED_BY, D&B global / domestic ultimate) are never tree edges: they
are checked against the direct chains, walked in the registry's own ids (`_reg_tree`) so that a
chain is judged on what the registry said, whatever the CRM says:

- the chain reaches the declared ultimate, and it is the top: consistent, nothing recorded;
- the chain goes on above the declared ultimate: `above_ultimate` (GLEIF allows an ultimate parent
  that itself reports a parent, e.g. a non-consolidating holder — worth a look, not an error);
- the chain stops at an entity T with no parent at all — from any source: registry, CRM
  `parent_id` or relationships, a manual link, nor a `detach` or `is_group_head` saying "no
  parent" — and every declaration reaching T names the same ultimate U, which is not below T:
  the chain is **completed** with an edge T → U (T is the child itself when it reports no direct
  parent: that is the plain "ultimate parent only" case). One `completed` row per edge added;
- anything else (the chain ends at T, which has a parent elsewhere; declarations disagree;
  U is below T): `mismatch`; a loop: `cycle`. A domestic ultimate only has to be on the chain.
- a GLEIF reporting exception saying no legal entity is above the child (NATURAL_PERSONS,
  NO_KNOWN_PERSON) while the CRM, another registry or a manual link gives its account a parent:
  `reported_no_parent` (the hierarchy still follows its precedence; a person decides).

Only declarations of attached entities are checked, so a full golden copy does not fill the
table with groups that are none of the user's business.
"""

TREE = """
SELECT DISTINCT child_source_id AS child, parent_source_id AS parent FROM registry_links
WHERE source = $source AND is_ownership AND link_kind IN ('direct', 'head_office')
  AND parent_source_id IS NOT NULL AND coalesce(relationship_status, 'active') = 'active' AND child_source_id <> parent_source_id
"""
DIRECT = """
SELECT child_account_id AS child_id, parent_account_id AS parent_id, relation, ownership_pct FROM (
    SELECT *, row_number() OVER (
        PARTITION BY child_account_id, parent_account_id
        ORDER BY CASE WHEN link_kind = 'direct' THEN 0 ELSE 1 END, ownership_pct DESC NULLS LAST,
                 as_of DESC NULLS LAST, child_source_id) AS rn
    FROM registry_links
    WHERE source = $source AND is_ownership AND link_kind IN ('direct', 'head_office') AND coalesce(relationship_status, 'active') = 'active'
      AND child_account_id IS NOT NULL AND parent_account_id IS NOT NULL AND child_account_id <> parent_account_id
) x WHERE rn = 1
"""
# Declared ultimate parents of attached entities, and the direct chains of the entities involved.
DECLARED = """
SELECT child_source_id AS child, parent_source_id AS declared, link_kind, as_of, child_account_id,
       parent_account_id AS declared_account_id
FROM registry_links
WHERE source = $source AND link_kind IN ('ultimate', 'global_ultimate', 'domestic_ultimate') AND parent_source_id IS NOT NULL AND coalesce(relationship_status, 'active') = 'active'
  AND child_account_id IS NOT NULL AND child_source_id <> parent_source_id
"""
CHAIN = """
WITH RECURSIVE starts AS (
    SELECT child AS id FROM _reg_declared UNION SELECT declared FROM _reg_declared
), chain(start_id, node, depth) AS (
    SELECT id, id, 0 FROM starts
    UNION ALL
    SELECT c.start_id, t.parent, c.depth + 1 FROM chain c JOIN _reg_tree t ON t.child = c.node WHERE c.depth < 64
)
SELECT start_id, node, min(depth) AS depth FROM chain GROUP BY start_id, node
"""
CHECKS = """
WITH tops AS (
    SELECT c.start_id, min(c.node) AS top FROM _reg_chain c
    WHERE NOT EXISTS (SELECT 1 FROM _reg_tree t WHERE t.child = c.node) GROUP BY c.start_id
), has_parent AS (
    SELECT child_id FROM relationships WHERE source <> $source
    UNION SELECT child_id FROM _reg_direct
    UNION SELECT account_id FROM accounts WHERE parent_id IS NOT NULL AND trim(parent_id) <> '' OR is_group_head
    UNION SELECT child_id FROM manual_links WHERE action IN ('link', 'detach')
), checked AS (
    SELECT d.*, tp.top, ta.account_id AS top_account_id, oc.node IS NOT NULL AS on_chain,
           ub.node IS NOT NULL AS declared_below_top, hp.child_id IS NOT NULL AS top_has_parent
    FROM _reg_declared d
    LEFT JOIN tops tp ON tp.start_id = d.child
    LEFT JOIN _reg_attach ta ON ta.source_id = tp.top
    LEFT JOIN _reg_chain oc ON oc.start_id = d.child AND oc.node = d.declared
    LEFT JOIN _reg_chain ub ON ub.start_id = d.declared AND ub.node = tp.top
    LEFT JOIN has_parent hp ON hp.child_id = ta.account_id
), candidates AS (
    SELECT *, NOT on_chain AND top IS NOT NULL AND link_kind <> 'domestic_ultimate' AND NOT declared_below_top
              AND top_account_id IS NOT NULL AND declared_account_id IS NOT NULL
              AND top_account_id <> declared_account_id AND NOT top_has_parent AS can_complete
    FROM checked
), agreed AS (  -- every declaration reaching this top names the same ultimate parent
    SELECT top FROM candidates WHERE can_complete GROUP BY top HAVING count(DISTINCT declared) = 1
)
SELECT c.*,
       CASE WHEN c.top IS NULL THEN 'cycle'
            WHEN c.on_chain AND c.declared <> c.top AND c.link_kind <> 'domestic_ultimate' THEN 'above_ultimate'
            WHEN c.on_chain THEN NULL
            WHEN c.can_complete AND g.top IS NOT NULL THEN 'completed'
            ELSE 'mismatch' END AS kind
FROM candidates c LEFT JOIN agreed g ON g.top = c.top
"""
DISCREPANCIES = """
INSERT INTO registry_discrepancies
SELECT $source AS source, kind, child_account_id AS child_id, declared_account_id AS declared_ultimate_id,
       top_account_id AS computed_ultimate_id, child AS child_source_id, declared AS declared_source_id,
       top AS computed_source_id, link_kind,
       child || ' declares ' || declared || ' as its ' || replace(link_kind, '_', ' ') || ' parent, but '
       || CASE kind
            WHEN 'cycle' THEN 'its direct chain loops'
            WHEN 'above_ultimate' THEN 'its direct chain goes on above it, to ' || top
            WHEN 'completed' THEN 'its direct chain stops at ' || top || ', which has no parent: linked '
                                  || top || ' -> ' || declared
            ELSE 'its direct chain ends at ' || top END AS message,
       as_of, $import_id AS import_id
FROM (  -- one completion per edge added: the top's own declaration when it has one
    SELECT *, row_number() OVER (PARTITION BY kind, top, declared
                                 ORDER BY CASE WHEN child = top THEN 0 ELSE 1 END, child) AS nth
    FROM _reg_checks WHERE kind IS NOT NULL
) c
WHERE kind <> 'completed' OR nth = 1
"""
# The source's rows of `relationships`: direct edges plus chains completed to their ultimate parent.
REL = """
WITH completed AS (
    SELECT DISTINCT top_account_id AS child_id, declared_account_id AS parent_id, 'subsidiary' AS relation,
           CAST(NULL AS DOUBLE) AS ownership_pct
    FROM _reg_checks WHERE kind = 'completed'
), edges AS (
    SELECT child_id, parent_id, min(relation) AS relation, max(ownership_pct) AS ownership_pct
    FROM (SELECT * FROM _reg_direct UNION ALL SELECT * FROM completed) u GROUP BY child_id, parent_id
)
SELECT *, md5(concat_ws(chr(31), relation, coalesce(CAST(ownership_pct AS VARCHAR), chr(30)))) AS row_hash FROM edges
"""
# Unchanged rows are left alone (they keep the import that made them); another source's row for
# the same pair is never touched, nor a row of ours a CRM import has rewritten since (the bundle's
# relationships have no `source` column, so such a row still says `gleif` but holds the CRM's data).
REL_DELETE = """
DELETE FROM relationships
WHERE source = $source
  AND NOT EXISTS (SELECT 1 FROM _reg_rel r WHERE r.child_id = relationships.child_id
                                           AND r.parent_id = relationships.parent_id AND r.row_hash = relationships.row_hash)
  -- still as the registry wrote it (a CRM import that updated the pair since owns it now)
  AND relationships.row_hash = md5(concat_ws(chr(31), relationships.relation,
                                             coalesce(CAST(relationships.ownership_pct AS VARCHAR), chr(30))))
"""
REL_INSERT = """
INSERT INTO relationships (child_id, parent_id, relation, ownership_pct, source, row_hash, import_id, updated_at)
SELECT child_id, parent_id, relation, ownership_pct, $source, row_hash, $import_id, $now FROM _reg_rel r
WHERE NOT EXISTS (SELECT 1 FROM relationships x WHERE x.child_id = r.child_id AND x.parent_id = r.parent_id)
"""
# A reporting exception saying that no legal entity is above the child (owned by natural persons,
# or no known person) while another source gives the account a parent: one of them is wrong.
# (NON_CONSOLIDATING and NON_PUBLIC say a parent exists but is not reported: no contradiction.)
EXCEPTIONS = """
INSERT INTO registry_discrepancies
WITH parents AS (
    SELECT child_id, parent_id, source FROM relationships WHERE source <> $source
    UNION ALL SELECT account_id, parent_id, 'crm' FROM accounts WHERE parent_id IS NOT NULL AND trim(parent_id) <> ''
    UNION ALL SELECT child_id, parent_id, 'manual' FROM manual_links WHERE action = 'link'
), contradicted AS (
    SELECT l.child_account_id, l.child_source_id, l.link_kind, l.exception_reason, l.as_of,
           min(p.parent_id) AS parent_id, min(p.source) AS parent_source
    FROM registry_links l JOIN parents p ON p.child_id = l.child_account_id
    WHERE l.source = $source AND l.parent_source_id IS NULL AND l.link_kind = 'direct'
      AND l.child_account_id IS NOT NULL
      AND (l.exception_reason LIKE '%NATURAL_PERSONS%' OR l.exception_reason LIKE '%NO_KNOWN_PERSON%')
    GROUP BY l.child_account_id, l.child_source_id, l.link_kind, l.exception_reason, l.as_of
)
SELECT $source AS source, 'reported_no_parent' AS kind, child_account_id AS child_id,
       CAST(NULL AS VARCHAR) AS declared_ultimate_id, parent_id AS computed_ultimate_id, child_source_id,
       CAST(NULL AS VARCHAR) AS declared_source_id, CAST(NULL AS VARCHAR) AS computed_source_id, link_kind,
       child_source_id || ' reports no direct consolidating parent (' || exception_reason || '), but '
       || parent_source || ' gives it the parent ' || parent_id AS message,
       as_of, $import_id AS import_id
FROM contradicted
"""
