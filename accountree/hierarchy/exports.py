"""`accountree export hierarchy | hierarchy_issues | hierarchy_edges | hierarchy_changes`.

The column lists below are public contracts: users' scripts read them by name.
"""

from __future__ import annotations

from accountree.exports import ExportSpec
from accountree.store.sql import select_columns

_HINT = "Run `accountree build` first."

HIERARCHY_COLUMNS = ["account_id", "name", "parent_id", "group_head_id", "level", "path", "relation",
                     "ownership_pct", "is_joint_venture", "descendants"]
ISSUE_COLUMNS = ["issue_id", "kind", "severity", "account_ids", "edges", "message", "suggested_fix"]
EDGE_COLUMNS = ["child_id", "parent_id", "relation", "ownership_pct", "is_control", "source", "weight"]
CHANGE_COLUMNS = ["change_id", "changed_at", "changed_by", "action", "child_id", "parent_id", "before", "after", "note"]

EXPORTS = [
    ExportSpec("hierarchy", "one row per account: parent, group head, level, path from the head, relation, "
               "share, joint venture flag, number of consolidated descendants",
               lambda ws: select_columns("hierarchy", HIERARCHY_COLUMNS, ["group_head_id", "path"]),
               "hierarchy", _HINT),
    ExportSpec("hierarchy_issues", "cycles, self-parents, unknown parents, conflicting control claims… "
               "with the accounts, the links and a suggested fix",
               lambda ws: select_columns("hierarchy_issues", ISSUE_COLUMNS, ["issue_id"]), "hierarchy_issues", _HINT),
    ExportSpec("hierarchy_edges", "every parent link in effect after precedence, with control flag and weight",
               lambda ws: select_columns("hierarchy_edges", EDGE_COLUMNS, ["child_id", "parent_id"]),
               "hierarchy_edges", _HINT),
    ExportSpec("hierarchy_changes", "manual links and unlinks: who, when, parent links before and after",
               lambda ws: select_columns("hierarchy_changes", CHANGE_COLUMNS, ["change_id"])),
]
