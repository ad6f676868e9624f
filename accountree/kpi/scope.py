"""How one set of SQL statements serves both the full build and the incremental refresh.

Statements carry `TRUE /*scope:KIND:column*/` where a refresh narrows them. A full build keeps
`TRUE`; a refresh replaces the marker with `column IN ($scope_0, $scope_1, …)` over the ids of
its scope, passed as parameters (only placeholder names are generated, never values), so both
engines filter the scans themselves instead of joining whole tables:
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


def scoped(sql: str, scope: Scope | None = None, id_tables: str | None = None) -> tuple[str, dict[str, str]]:
    """The statement for a full build (`scope` None) or narrowed to `scope`, with its id parameters.

    With `id_tables` (a name prefix), each marker reads the ids from the table `<prefix><kind>`
    (one `id` column) instead of parameters: no limit on their number, for statements that run
    on the small copies of an incremental refresh.
    """
    params: dict[str, str] = {}

    def narrow(match: re.Match) -> str:
        if scope is None:
            return "TRUE"
        if id_tables is not None:
            return f"{match.group(2)} IN (SELECT id FROM {id_tables}{match.group(1)})"  # noqa: S608 - fixed names
        ids = getattr(scope, match.group(1))
        if not ids:
            return "FALSE"
        names = []
        # padded to a power of two (repeating the last id) so the statement text, and with it the
        # transpiled SQL cached by the engine, is one of a few per query
        ids = ids + ids[-1:] * ((1 << (len(ids) - 1).bit_length()) - len(ids))
        for value in ids:
            name = f"scope_{len(params)}"
            params[name] = value
            names.append(f"${name}")
        return f"{match.group(2)} IN ({', '.join(names)})"

    return _MARKER.sub(narrow, sql), params


def used_params(sql: str, params: dict) -> dict:
    """The named parameters a statement uses (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if re.search(rf"\${re.escape(k)}\b", sql)}
