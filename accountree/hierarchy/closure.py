"""Group heads, paths, levels and the ancestor/descendant closure, in set-based SQL.

The controlling links form a forest once circles are broken, so the hierarchy is one recursive
query walking *down* from the heads: it cannot loop (accounts on a circle are never reached from a
head), and every level is one join. It stops at `max_depth` levels: what is left unreached is
either on a circle (cut at its weakest link, then walked from there) or too deep (left unattached
and reported). The closure is a second walk from every account down its consolidated subtree
(rows = sum of levels, hence the depth limit).

Minority stakes and joint ventures are added afterwards, in rounds: round k holds the
(ancestor, descendant) pairs linked through exactly k stakes, aggregated per pair at each round,
so diamonds (a JV owned by two companies of one group) never multiply rows, and ownership weights
of every path add up. The number of rounds is the longest chain of stakes, bounded once stake
circles are broken.
"""

from __future__ import annotations

from accountree.hierarchy import cycles, issues, worktables
from accountree.store import Workspace

TREE = """
WITH RECURSIVE t(account_id, group_head_id, level, path, parent_id, relation, ownership_pct, link_source) AS (
    SELECT a.account_id, a.account_id, 0, CAST(a.account_id AS VARCHAR), CAST(NULL AS VARCHAR),
           CAST(NULL AS VARCHAR), CAST(NULL AS DOUBLE), CAST(NULL AS VARCHAR)
    FROM accounts a
    WHERE NOT EXISTS (SELECT 1 FROM hierarchy_edges e WHERE e.child_id = a.account_id AND e.is_control)
    UNION ALL
    SELECT e.child_id, t.group_head_id, t.level + 1, t.path || ' > ' || e.child_id, e.parent_id,
           e.relation, e.ownership_pct, e.source
    FROM t JOIN hierarchy_edges e ON e.parent_id = t.account_id AND e.is_control
    WHERE t.level < $max_depth
)
SELECT * FROM t
"""

# The same walk from the accounts whose circle was cut: they head what the first walk missed.
TREE_BELOW_CUT = """
WITH RECURSIVE t(account_id, group_head_id, level, path, parent_id, relation, ownership_pct, link_source) AS (
    SELECT c.child_id, c.child_id, 0, CAST(c.child_id AS VARCHAR), CAST(NULL AS VARCHAR),
           CAST(NULL AS VARCHAR), CAST(NULL AS DOUBLE), CAST(NULL AS VARCHAR)
    FROM _hier_cut c
    UNION ALL
    SELECT e.child_id, t.group_head_id, t.level + 1, t.path || ' > ' || e.child_id, e.parent_id,
           e.relation, e.ownership_pct, e.source
    FROM t JOIN hierarchy_edges e ON e.parent_id = t.account_id AND e.is_control
    WHERE t.level < $max_depth
)
SELECT * FROM t
"""

UNREACHED_LINKS = """
SELECT e.child_id, e.parent_id, e.source, e.source_rank, e.ownership_pct FROM hierarchy_edges e
WHERE e.is_control AND NOT EXISTS (SELECT 1 FROM _hier_tree t WHERE t.account_id = e.child_id)
"""

CUT = """
DELETE FROM hierarchy_edges
WHERE EXISTS (SELECT 1 FROM _hier_cut c WHERE c.child_id = hierarchy_edges.child_id AND c.parent_id = hierarchy_edges.parent_id)
"""

UNATTACHED = """
SELECT e.child_id, e.parent_id FROM hierarchy_edges e
WHERE e.is_control AND NOT EXISTS (SELECT 1 FROM _hier_tree t WHERE t.account_id = e.child_id)
ORDER BY e.child_id
"""

DETACH_UNATTACHED = """
DELETE FROM hierarchy_edges
WHERE is_control AND NOT EXISTS (SELECT 1 FROM _hier_tree t WHERE t.account_id = hierarchy_edges.child_id)
"""

UNATTACHED_AS_HEADS = """
INSERT INTO _hier_tree
SELECT a.account_id, a.account_id, 0, CAST(a.account_id AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
       CAST(NULL AS DOUBLE), CAST(NULL AS VARCHAR)
FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM _hier_tree t WHERE t.account_id = a.account_id)
"""

CONSOLIDATED = """
WITH RECURSIVE c(ancestor_id, descendant_id, depth, weight) AS (
    SELECT account_id, account_id, 0, CAST(1.0 AS DOUBLE) FROM _hier_tree
    UNION ALL
    SELECT c.ancestor_id, e.child_id, c.depth + 1, c.weight * e.weight
    FROM c JOIN hierarchy_edges e ON e.parent_id = c.descendant_id AND e.is_control
    WHERE c.depth < $max_depth
)
SELECT ancestor_id, descendant_id, depth, weight, TRUE AS consolidated FROM c
"""

STAKE_ENDS = """
SELECT parent_id AS account_id FROM hierarchy_edges WHERE NOT is_control
UNION SELECT child_id FROM hierarchy_edges WHERE NOT is_control
"""

CONTROL_PAIRS = """
SELECT c.ancestor_id, c.descendant_id FROM hierarchy_closure c
JOIN _hier_stake_ends a ON a.account_id = c.ancestor_id
JOIN _hier_stake_ends d ON d.account_id = c.descendant_id
WHERE c.depth > 0
"""

FIRST_ROUND = """
SELECT up.ancestor_id, down.descendant_id, min(up.depth + 1 + down.depth) AS depth,
       sum(up.weight * s.weight * down.weight) AS weight
FROM hierarchy_edges s
JOIN hierarchy_closure up ON up.descendant_id = s.parent_id
JOIN hierarchy_closure down ON down.ancestor_id = s.child_id
WHERE NOT s.is_control
GROUP BY up.ancestor_id, down.descendant_id
"""

NEXT_ROUND = """
SELECT r.ancestor_id, down.descendant_id, min(r.depth + 1 + down.depth) AS depth,
       sum(r.weight * s.weight * down.weight) AS weight
FROM _hier_round r
JOIN hierarchy_edges s ON s.parent_id = r.descendant_id AND NOT s.is_control
JOIN hierarchy_closure down ON down.ancestor_id = s.child_id
GROUP BY r.ancestor_id, down.descendant_id
"""

# Stakes are merged into the consolidated closure in place: the closure is the largest table
# of the build (sum of levels), so it is written once and only the pairs reached by stakes change.
STAKE_PAIRS = """
SELECT ancestor_id, descendant_id, min(depth) AS depth, sum(weight) AS weight
FROM _hier_stake_rows GROUP BY ancestor_id, descendant_id
"""

MERGE_OVERLAP = """
UPDATE hierarchy_closure SET weight = least(hierarchy_closure.weight + s.weight, 1.0),
                             depth = least(hierarchy_closure.depth, s.depth)
FROM _hier_stake_pairs s
WHERE s.ancestor_id = hierarchy_closure.ancestor_id AND s.descendant_id = hierarchy_closure.descendant_id
"""

MERGE_NEW = """
INSERT INTO hierarchy_closure (ancestor_id, descendant_id, depth, weight, consolidated)
SELECT s.ancestor_id, s.descendant_id, s.depth, least(s.weight, 1.0), FALSE FROM _hier_stake_pairs s
WHERE NOT EXISTS (SELECT 1 FROM hierarchy_closure c
                  WHERE c.ancestor_id = s.ancestor_id AND c.descendant_id = s.descendant_id)
"""


def _links(rows: list[tuple]) -> list[cycles.Link]:
    return [cycles.Link(c, p, s, int(r), pct) for c, p, s, r, pct in rows]


def build_tree(ws: Workspace, max_depth: int) -> int:
    """`_hier_tree` (head, level, path per account); circles of control are broken and reported."""
    engine = ws.engine
    worktables.create(engine, "_hier_tree", TREE, {"max_depth": max_depth})
    stuck = _links(engine.fetchall(UNREACHED_LINKS))
    if not stuck:
        return 0
    found = _break_circles(ws, stuck, max_depth)
    too_deep = engine.fetchall(UNATTACHED)
    if too_deep:  # only links more than max_depth levels below a head are left
        engine.execute(DETACH_UNATTACHED)
        engine.execute(UNATTACHED_AS_HEADS)
        issues.add(ws, [_too_deep_issue(too_deep, max_depth)])
    return found


def _too_deep_issue(links: list[tuple], max_depth: int) -> dict:
    children = [c for c, _ in links]
    shown = ", ".join(children[:20]) + (f", … ({len(children)} in all)" if len(children) > 20 else "")
    return {
        "kind": "too_deep", "severity": issues.SEVERITY["too_deep"], "issue_key": "too_deep",
        "account_ids": shown, "edges": "; ".join(f"{c} -> {p}" for c, p in links[:20]),
        "message": (f"{len(children)} account(s) hang more than {max_depth} levels below their group head; "
                    "their parent links are ignored and each stands alone"),
        "suggested_fix": ("look for a chain error in the source (each account pointing at the previous one?), "
                          "or raise the limit: accountree hierarchy settings --max-depth N"),
        "members": children,
    }


def _break_circles(ws: Workspace, stuck: list[cycles.Link], max_depth: int) -> int:
    engine = ws.engine
    found = cycles.control_cycles(stuck)
    if not found:
        return 0
    cut = [min(ring, key=lambda link: link.weakness) for ring in found]
    worktables.create_empty(engine, "_hier_cut", {"child_id": "VARCHAR", "parent_id": "VARCHAR"})
    worktables.insert_rows(engine, "_hier_cut", [{"child_id": c.child_id, "parent_id": c.parent_id} for c in cut],
                           ["child_id", "parent_id"])
    engine.execute(CUT)
    issues.add(ws, [_cycle_issue(ring, weakest) for ring, weakest in zip(found, cut, strict=True)])
    worktables.create(engine, "_hier_tree_cut", TREE_BELOW_CUT, {"max_depth": max_depth})
    engine.execute("INSERT INTO _hier_tree SELECT * FROM _hier_tree_cut")
    return len(found)


def _cycle_issue(ring: list[cycles.Link], weakest: cycles.Link) -> dict:
    members = [link.child_id for link in ring]
    more = f" … ({len(ring)} links in all)" if len(ring) > 50 else ""
    circle = " -> ".join([*members[:50], members[0] if not more else "…"])
    return {
        "kind": "cycle", "severity": issues.SEVERITY["cycle"], "issue_key": "cycle:" + members[0],
        "account_ids": ", ".join(members[:50]) + more, "edges": "; ".join(link.text() for link in ring[:50]) + more,
        "message": (f"parent links form a circle {circle}{more}; the weakest link "
                    f"{weakest.text()} is ignored, so {weakest.child_id} heads the group"),
        "suggested_fix": (f"remove the wrong link in the source, or run: accountree unlink {weakest.child_id} "
                          f"{weakest.parent_id} (or unlink another link of the circle)"),
        "members": members,
    }


def build_closure(ws: Workspace, max_depth: int) -> dict[str, int]:
    """The public `hierarchy_closure`: consolidated pairs first, then the pairs reached by stakes."""
    engine = ws.engine
    worktables.replace_output(engine, "hierarchy_closure", CONSOLIDATED, {"max_depth": max_depth},
                              index=("ancestor_id", "descendant_id"))
    stakes = _links(engine.fetchall(
        "SELECT child_id, parent_id, source, source_rank, ownership_pct FROM hierarchy_edges WHERE NOT is_control"))
    if not stakes:
        return {"stake_cycles": 0, "stake_rounds": 0}
    worktables.create(engine, "_hier_stake_ends", STAKE_ENDS)
    pairs = [(a, d) for a, d in engine.fetchall(CONTROL_PAIRS)]
    cut = cycles.stake_cycles(stakes, pairs)
    if cut:
        worktables.create_empty(engine, "_hier_cut", {"child_id": "VARCHAR", "parent_id": "VARCHAR"})
        worktables.insert_rows(engine, "_hier_cut", [{"child_id": s.child_id, "parent_id": s.parent_id} for s, _ in cut],
                               ["child_id", "parent_id"])
        engine.execute(CUT)
        issues.add(ws, [_stake_cycle_issue(stake, members) for stake, members in cut])
    rounds = 0
    worktables.create_empty(engine, "_hier_stake_rows", {"ancestor_id": "VARCHAR", "descendant_id": "VARCHAR",
                                                         "depth": "BIGINT", "weight": "DOUBLE"})
    size = worktables.create(engine, "_hier_round", FIRST_ROUND)
    while size and rounds <= len(stakes):
        rounds += 1
        engine.execute("INSERT INTO _hier_stake_rows (ancestor_id, descendant_id, depth, weight) "
                       "SELECT ancestor_id, descendant_id, depth, weight FROM _hier_round")
        worktables.create(engine, "_hier_next", NEXT_ROUND)
        size = worktables.create(engine, "_hier_round", "SELECT * FROM _hier_next")
    worktables.create(engine, "_hier_stake_pairs", STAKE_PAIRS)
    engine.execute(MERGE_OVERLAP)
    engine.execute(MERGE_NEW)
    return {"stake_cycles": len(cut), "stake_rounds": rounds}


def _stake_cycle_issue(stake: cycles.Link, members: list[str]) -> dict:
    return {
        "kind": "ownership_cycle", "severity": issues.SEVERITY["ownership_cycle"],
        "issue_key": f"ownership_cycle:{stake.child_id}:{stake.parent_id}",
        "account_ids": ", ".join(members), "edges": stake.text(),
        "message": (f"shareholdings between {', '.join(members)} form a circle; the stake {stake.text()} is "
                    "left out of ownership-weighted totals"),
        "suggested_fix": f"check the shares, or drop the stake for good: accountree unlink {stake.child_id} {stake.parent_id}",
        "members": [stake.child_id, stake.parent_id],
    }
