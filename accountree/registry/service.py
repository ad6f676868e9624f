"""Registry service functions for the CLI and the API: what is stored, and re-attaching.

`registry_status` answers "what did the registries bring?": per source, records and links
stored, how many records attach to one of your (CRM) accounts, how many registry-only accounts
were created, tree links contributed, discrepancies; and how many CRM accounts a registry covers.
`reattach` re-runs the reconciliation on what is stored — after a CRM import added accounts with
identifiers, or after the resolver merged registry-only accounts — without re-reading any file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from accountree.registry.reconcile import CREATE_MODES, REGISTRY_SOURCES, attach_options, reconcile
from accountree.store import Workspace, current_user

_PER_SOURCE = """
WITH crm AS (SELECT account_id FROM accounts WHERE source NOT IN ('gleif', 'dnb', 'sirene')),
touched AS (  -- the accounts each source's records and link ends attach to
    SELECT source, account_id FROM registry_entities WHERE account_id IS NOT NULL
    UNION SELECT source, child_account_id FROM registry_links WHERE child_account_id IS NOT NULL
    UNION SELECT source, parent_account_id FROM registry_links WHERE parent_account_id IS NOT NULL
)
SELECT s.source,
       (SELECT count(*) FROM registry_entities e WHERE e.source = s.source) AS entities,
       (SELECT count(*) FROM registry_links l WHERE l.source = s.source) AS links,
       (SELECT count(*) FROM registry_links l WHERE l.source = s.source AND l.is_ownership
                                               AND l.link_kind IN ('direct', 'head_office')) AS tree_links,
       (SELECT count(*) FROM registry_links l WHERE l.source = s.source AND NOT l.is_ownership) AS other_links,
       (SELECT count(*) FROM touched t JOIN crm c ON c.account_id = t.account_id
        WHERE t.source = s.source) AS crm_accounts_attached,
       (SELECT count(*) FROM accounts a WHERE a.source = s.source) AS registry_only_accounts,
       (SELECT count(*) FROM relationships r WHERE r.source = s.source) AS relationships,
       (SELECT count(*) FROM registry_discrepancies d WHERE d.source = s.source AND d.kind = 'completed') AS chains_completed,
       (SELECT count(*) FROM registry_discrepancies d WHERE d.source = s.source AND d.kind <> 'completed') AS discrepancies,
       (SELECT count(*) FROM registry_fills f WHERE f.source = s.source) AS identifiers_filled,
       (SELECT max(imported_at) FROM imports i WHERE i.table_name = 'registry_' || s.source) AS last_import
FROM (SELECT DISTINCT source FROM registry_entities UNION SELECT DISTINCT source FROM registry_links) s
ORDER BY s.source
"""

_COVERAGE = """
WITH crm AS (SELECT account_id FROM accounts WHERE source NOT IN ('gleif', 'dnb', 'sirene')),
covered AS (
    SELECT account_id FROM registry_entities WHERE account_id IS NOT NULL
    UNION SELECT child_account_id FROM registry_links WHERE child_account_id IS NOT NULL
    UNION SELECT parent_account_id FROM registry_links WHERE parent_account_id IS NOT NULL
)
SELECT (SELECT count(*) FROM crm) AS crm_accounts,
       (SELECT count(*) FROM crm JOIN covered c ON c.account_id = crm.account_id) AS crm_accounts_in_a_registry
"""


def registry_status(ws: Workspace) -> dict[str, Any]:
    """Counts per source and the share of CRM accounts a registry knows (attach rate)."""
    sources = ws.engine.fetch_dicts(_PER_SOURCE)
    coverage = ws.engine.fetch_dicts(_COVERAGE)[0]
    total = coverage["crm_accounts"] or 0
    for row in sources:  # attach rate: the share of your (CRM) accounts this registry knows
        row["attach_rate"] = round(row["crm_accounts_attached"] / total, 4) if total else None
    coverage["crm_coverage"] = round(coverage["crm_accounts_in_a_registry"] / total, 4) if total else None
    return {"sources": sources, **coverage}


def reattach(ws: Workspace, sources: list[str] | None = None, *, create_accounts: str | None = None,
             match_names: bool | None = None, user: str | None = None) -> dict[str, Any]:
    """Reconcile stored records again (no file read), for the given sources or all stored ones.

    `create_accounts` / `match_names` default to what the source's last import used."""
    from accountree.errors import ConfigError

    if create_accounts is not None and create_accounts not in CREATE_MODES:
        raise ConfigError(f"--create-accounts must be one of {', '.join(CREATE_MODES)}, not {create_accounts!r}")
    unknown = [s for s in sources or [] if s not in REGISTRY_SOURCES]
    if unknown:
        raise ConfigError(f"unknown registry {', '.join(unknown)}", hint=f"Use: {', '.join(REGISTRY_SOURCES)}.")
    stored = [r[0] for r in ws.engine.fetchall(
        "SELECT DISTINCT source FROM registry_entities UNION SELECT DISTINCT source FROM registry_links ORDER BY 1")]
    chosen = [s for s in (sources or stored) if s in stored]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    last = "SELECT coalesce(max(import_id), 0) FROM imports WHERE table_name = 'registry_' || ?"
    results: dict[str, Any] = {}
    with ws.engine.transaction():  # what changes is stamped with the source's last import: its data
        for source in chosen:
            mode, names = attach_options(ws, source)
            results[source] = reconcile(
                ws, source, import_id=int(ws.engine.scalar(last, [source])), now=now, user=user or current_user(),
                create_accounts=create_accounts or mode, match_names=names if match_names is None else match_names)
    return results
