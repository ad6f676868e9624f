"""Parent links of a chunk, as the bundle states them and as they truly are.

``accounts.parent_id`` carries the controlling parent (the simple case). ``relationships.csv``
carries what ``parent_id`` cannot say: the relation type of business units and branches, partial
ownership, joint ventures (several parents, none above 50 %) and minority stakes. Plain 100 %
subsidiaries appear only through ``parent_id``, as in most CRMs. The truth hierarchy is stated on
real entities, so duplicate records never appear in it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from accountree.demo.groups import Entities

RELATIONSHIP_COLUMNS = ("child_id", "parent_id", "relation", "ownership_pct")
HIERARCHY_COLUMNS = ("entity_id", "parent_entity_id", "group_head_entity_id", "relation", "ownership_pct", "level")


def _pct_table(columns: tuple[str, ...], rows: list[tuple]) -> pa.Table:
    data = list(zip(*rows, strict=True)) if rows else [[] for _ in columns]
    out = {}
    for c, values in zip(columns, data, strict=True):
        kind = pa.float64() if c == "ownership_pct" else pa.int64() if c == "level" else pa.string()
        out[c] = pa.array(list(values), kind)
    return pa.table(out)


def relationships(e: Entities, primary: np.ndarray, account_id: list[str]) -> pa.Table:
    """The ``relationships`` bundle rows of a chunk (by primary account ids)."""
    acc = [account_id[r] for r in primary.tolist()]
    rows = [
        (acc[i], acc[p], e.relation[i], e.ownership[i])
        for i, p in enumerate(e.parent)
        if p >= 0 and (e.relation[i] != "subsidiary" or (e.ownership[i] or 100) < 100)
    ]
    rows += [(acc[c], acc[p], rel, pct) for c, p, rel, pct in e.links]
    return _pct_table(RELATIONSHIP_COLUMNS, rows)


def truth_hierarchy(e: Entities, entity_ids: list[str]) -> pa.Table:
    """One row per real entity and parent link; a JV is its own group head with one row per parent."""
    rows = []
    for i, p in enumerate(e.parent):
        if e.kind[i] == "jv":
            continue
        parent = entity_ids[p] if p >= 0 else None
        rows.append((entity_ids[i], parent, entity_ids[e.top[i]], e.relation[i] or None, e.ownership[i], e.level[i]))
    for c, p, rel, pct in e.links:
        rows.append((entity_ids[c], entity_ids[p], entity_ids[e.top[c]], rel, pct, e.level[c]))
    return _pct_table(HIERARCHY_COLUMNS, rows)
