"""Exports of duplicate resolution (`accountree export NAME`). Column names are public contracts."""

from __future__ import annotations

from accountree.exports import ExportSpec
from accountree.store import Workspace

# One row per imported account id, merged ones included; survivor = itself when not merged.
# The probability is the one of the merge that absorbed the record (NULL for survivors and for
# manual merges without a score).
RESOLUTION_SQL = """
SELECT account_id, account_id AS survivor_id, CAST(NULL AS DOUBLE) AS match_probability FROM accounts
UNION ALL
SELECT a.old_id AS account_id, a.survivor_id,
       (SELECT max(m.match_probability) FROM merges m WHERE m.merged_id = a.old_id AND m.undone_at IS NULL)
           AS match_probability
FROM account_aliases a
ORDER BY account_id
"""

CANDIDATES_SQL = """
SELECT c.pair_id, c.account_id_l, l.name AS name_l, c.account_id_r, r.name AS name_r, c.match_probability,
       c.match_weight, c.status, c.method, c.guard, c.evidence, c.found_at, c.decided_by, c.decided_at
FROM duplicate_candidates c
LEFT JOIN accounts l ON l.account_id = c.account_id_l
LEFT JOIN accounts r ON r.account_id = c.account_id_r
ORDER BY c.match_probability DESC, c.pair_id
"""

MERGES_SQL = """
SELECT merge_id, survivor_id, merged_id, pair_id, match_probability, method, reason, merged_at, merged_by,
       filled_columns, undone_at, undone_by
FROM merges ORDER BY merge_id
"""


def _sql(text: str):
    def query(ws: Workspace) -> str:
        return text

    return query


EXPORTS = [
    ExportSpec("resolution", "one row per imported account id: account_id, survivor_id, match_probability",
               _sql(RESOLUTION_SQL)),
    ExportSpec("duplicate_candidates", "candidate duplicate pairs with probability, evidence and review status",
               _sql(CANDIDATES_SQL)),
    ExportSpec("merges", "merges done (auto, reviewed, manual) with who/when and undo state", _sql(MERGES_SQL)),
]
