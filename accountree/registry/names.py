"""Optional name + country attachment (`--match-names`): for CRM accounts that lack the identifier.

Identifiers are the reliable join; many CRM accounts have none. With `match_names`, a registry
legal entity (not a SIRENE establishment: its name is a shop sign) attaches to a CRM account when
their names are equal after `accountree.resolve.normalize.normalize_name` (legal forms, accents,
punctuation and generic words folded: "ACME FRANCE S.A.S." = "Acme France") and their countries
are the same — and only when that key is **unique on both sides**, so "Acme" in two CRM records,
or two registry entities sharing a name, never guesses. The attachment is recorded
(`attach_method` = `name`) and the identifier filled on the account (`registry_fills`), so the
next import attaches by identifier. Fuzzy matching is the resolver's job: registry-only accounts
are accounts, `accountree resolve` proposes their duplicates, and a merge becomes an alias that
the next attachment follows.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from accountree.registry.scratch import drop_table
from accountree.store.engine import Engine

NAME_MATCH = "_reg_name_match"
_NODES = """
SELECT source_id, name, country FROM _reg_nodes
WHERE name IS NOT NULL AND country IS NOT NULL AND id_kind <> 'siret'
"""
# CRM accounts without the identifier this registry is keyed by.
_ACCOUNTS = """
SELECT account_id, name, country FROM accounts
WHERE source NOT IN ('gleif', 'dnb', 'sirene') AND country IS NOT NULL
  AND CASE WHEN $source = 'gleif' THEN lei WHEN $source = 'dnb' THEN duns ELSE siren END IS NULL
"""


def _unique_keys(rows: list[dict[str, Any]], id_column: str) -> dict[tuple[str, str], str]:
    from accountree.resolve.normalize import normalize_names

    keys = normalize_names(r["name"] for r in rows)
    seen: dict[tuple[str, str], str | None] = {}
    for row, key in zip(rows, keys, strict=True):
        if not key:
            continue
        k = (key, str(row["country"]).upper())
        seen[k] = None if k in seen else row[id_column]
    return {k: v for k, v in seen.items() if v is not None}


def create_name_matches(engine: Engine, source: str, enabled: bool) -> int:
    """Fill the scratch table `_reg_name_match(source_id, account_id)`; empty unless `enabled`."""
    drop_table(engine, NAME_MATCH)
    engine.execute("CREATE TEMPORARY TABLE _reg_name_match (source_id VARCHAR, account_id VARCHAR)")
    if not enabled:
        return 0
    nodes = _unique_keys(engine.fetch_dicts(_NODES), "source_id")
    accounts = _unique_keys(engine.fetch_dicts(_ACCOUNTS, {"source": source}), "account_id")
    pairs = [(node, accounts[key]) for key, node in nodes.items() if key in accounts]
    if pairs:
        engine.insert_arrow(NAME_MATCH, pa.table({"source_id": [p[0] for p in pairs],
                                                  "account_id": [p[1] for p in pairs]}))
    return len(pairs)
