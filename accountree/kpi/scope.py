"""How one set of SQL statements serves both the full build and the incremental refresh.

Statements carry `TRUE /*scope:KIND:column*/` where a refresh narrows them. A full build keeps
`TRUE`; a refresh (`accountree.kpi.refresh`) replaces the marker with
`column IN (SELECT id FROM <prefix>KIND)`, reading the ids from a small temporary table (no limit
on their number, no values in the SQL):
- `accounts`: the accounts recomputed (those touched and their subtrees);
- `groups`: the group heads recomputed;
- `ingroups`: every account of those groups (the ancestors whose roll-ups are recomputed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_MARKER = re.compile(r"TRUE /\*scope:(accounts|groups|ingroups):([A-Za-z_.]+)\*/")


@dataclass
class Scope:
    accounts: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    ingroups: list[str] = field(default_factory=list)


def scoped(sql: str, id_tables: str | None = None) -> str:
    """The statement for a full build (`id_tables` None: every marker `TRUE`), or narrowed to the
    ids held in the tables `<id_tables><kind>` (one `id` column each)."""
    if id_tables is None:
        return _MARKER.sub("TRUE", sql)
    return _MARKER.sub(lambda m: f"{m.group(2)} IN (SELECT id FROM {id_tables}{m.group(1)})", sql)  # noqa: S608 - fixed names


def used_params(sql: str, params: dict) -> dict:
    """The named parameters a statement uses (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if re.search(rf"\${re.escape(k)}\b", sql)}
