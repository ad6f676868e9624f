"""Registry records → accounts and tree links: the set-based reconciliation after each import.

It runs on *everything stored* for one source, not just the file at hand, so files can come in any
order (GLEIF level 2 before level 1, SIRENE establishments before legal units) and a CRM account
added since the last import is picked up by `accountree registry attach`.

1. **Nodes**: every record and every link end (GLEIF level 2 names LEIs that have no record yet).
2. **Attach** a node to an account: by identifier first — LEI, D-U-N-S, SIRET, then SIREN (CRM
   accounts before other registries' accounts, an account without SIRET before an establishment),
   then by exact normalised name + country when asked (`names.py`) — then through `account_aliases` (its registry-only account was merged by the resolver), then
   its existing registry-only account, else a new **registry-only account** with a stable id
   (`LEI:…`, `DUNS:…`, `SIREN:…`, `SIRET:…`) when the node is in scope: `groups` = every member of
   a group (up to the ultimate parents, then all the way down) that one of your accounts belongs
   to, so the full golden copy does not flood the workspace; `all`; `none`. Inactive entities get
   no account. A SIRENE siège is the same legal entity as its SIREN: it attaches to that account.
3. **Fill** empty identifiers of attached accounts (never overwrite); `registry_fills` says which.
   Not the SIREN of an account attached by its SIRET: an establishment is not its legal unit, and
   the filled SIREN would make the next run attach the legal unit to the establishment.
4. **Tree**: active ownership links of kind direct / head_office between attached accounts become
   `relationships` rows with `source` = the registry (an edge the CRM or another registry already
   has is left to it; the hierarchy's precedence decides between parents). Fund links stay in
   `registry_links` only.
5. **Ultimate parents** check the direct chains (registry ids): a chain that stops at an entity
   with no parent at all from any source gets an edge to the declared ultimate parent
   ("completed"); any other disagreement is a row of `registry_discrepancies` (see `chains.py`).

The whole run is a sequence of `CREATE TEMPORARY TABLE … AS SELECT` steps and set-based writes,
the same SQL on DuckDB and PostgreSQL, inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlglot import exp

from accountree.registry.chains import (
    CHAIN,
    CHECKS,
    DECLARED,
    DIRECT,
    DISCREPANCIES,
    EXCEPTIONS,
    REL,
    REL_DELETE,
    REL_INSERT,
    TREE,
)
from accountree.registry.names import create_name_matches
from accountree.registry.scratch import drop_table, temp_table
from accountree.store import Workspace
from accountree.store.engine import Engine

CREATE_MODES = ("groups", "all", "none")
REGISTRY_SOURCES = ("gleif", "dnb", "sirene")

NODES = """
WITH ids AS (
    SELECT source_id FROM registry_entities WHERE source = $source
    UNION SELECT child_source_id FROM registry_links WHERE source = $source
    UNION SELECT parent_source_id FROM registry_links WHERE source = $source AND parent_source_id IS NOT NULL
), typed AS (
    SELECT source_id, CASE WHEN $source = 'gleif' THEN 'lei' WHEN $source = 'dnb' THEN 'duns'
                           WHEN length(source_id) = 14 THEN 'siret' ELSE 'siren' END AS id_kind
    FROM ids
)
SELECT i.source_id, i.id_kind, upper(i.id_kind) || ':' || i.source_id AS stable_id,
       e.source_id IS NOT NULL AS has_record, e.name, e.country, e.city, e.status, e.as_of,
       coalesce(e.is_head_office, FALSE) AND i.id_kind = 'siret' AS is_siege,
       CASE WHEN i.id_kind = 'lei' THEN i.source_id ELSE e.lei END AS lei,
       CASE WHEN i.id_kind = 'duns' THEN i.source_id ELSE e.duns END AS duns,
       CASE WHEN i.id_kind = 'siren' THEN i.source_id
            WHEN i.id_kind = 'siret' THEN coalesce(e.siren, substr(i.source_id, 1, 9)) ELSE e.siren END AS siren,
       CASE WHEN i.id_kind = 'siret' THEN i.source_id ELSE e.siret END AS siret
FROM typed i LEFT JOIN registry_entities e ON e.source = $source AND e.source_id = i.source_id
"""

# Identifier matches; the registry's own registry-only accounts are found by their id instead.
MATCH = """
WITH cand AS (
    SELECT n.source_id, a.account_id, a.source AS account_source, 1 AS id_rank, 'lei' AS method, FALSE AS is_site
    FROM _reg_nodes n JOIN accounts a ON a.lei = n.lei WHERE a.source <> $source
    UNION ALL
    SELECT n.source_id, a.account_id, a.source, 2, 'duns', FALSE
    FROM _reg_nodes n JOIN accounts a ON a.duns = n.duns WHERE a.source <> $source
    UNION ALL
    SELECT n.source_id, a.account_id, a.source, 3, 'siret', FALSE
    FROM _reg_nodes n JOIN accounts a ON a.siret = n.siret WHERE a.source <> $source
    UNION ALL
    SELECT n.source_id, a.account_id, a.source, 4, 'siren', a.siret IS NOT NULL
    FROM _reg_nodes n JOIN accounts a ON a.siren = n.siren WHERE a.source <> $source AND n.id_kind <> 'siret'
    UNION ALL  -- name + country, unique on both sides (names.py; empty unless asked for)
    SELECT source_id, account_id, 'crm', 5, 'name', FALSE FROM _reg_name_match
), ranked AS (
    SELECT *, row_number() OVER (
        PARTITION BY source_id
        ORDER BY CASE WHEN account_source IN ('gleif', 'dnb', 'sirene') THEN 1 ELSE 0 END, id_rank, is_site, account_id
    ) AS rn
    FROM cand
)
SELECT source_id, account_id, method FROM ranked WHERE rn = 1
"""

EDGES = """
SELECT DISTINCT child_source_id AS child, parent_source_id AS parent FROM registry_links
WHERE source = $source AND is_ownership AND parent_source_id IS NOT NULL AND coalesce(relationship_status, 'active') = 'active'
  AND child_source_id <> parent_source_id
"""
UP = """
WITH RECURSIVE up(node) AS (
    SELECT source_id FROM _reg_match
    UNION
    SELECT e.parent FROM _reg_edges e JOIN up ON e.child = up.node
)
SELECT node FROM up
"""
DOWN = """
WITH RECURSIVE down(node) AS (
    SELECT node FROM _reg_up
    UNION
    SELECT e.child FROM _reg_edges e JOIN down ON e.parent = down.node
)
SELECT node FROM down
"""
SCOPE = {"groups": DOWN, "all": "SELECT source_id AS node FROM _reg_nodes",
         "none": "SELECT source_id AS node FROM _reg_nodes WHERE FALSE"}

ATTACH = """
WITH base AS (
    SELECT n.source_id, n.stable_id, n.is_siege, n.siren,
           CASE WHEN m.account_id IS NOT NULL THEN m.account_id
                WHEN al.survivor_id IS NOT NULL THEN al.survivor_id
                WHEN ex.account_id IS NOT NULL THEN ex.account_id
                WHEN s.node IS NOT NULL AND NOT n.is_siege AND coalesce(n.status, 'active') <> 'inactive'
                THEN n.stable_id END AS account_id,
           CASE WHEN m.account_id IS NOT NULL THEN m.method
                WHEN al.survivor_id IS NOT NULL THEN 'alias'
                WHEN ex.account_id IS NOT NULL THEN 'created'
                WHEN s.node IS NOT NULL AND NOT n.is_siege AND coalesce(n.status, 'active') <> 'inactive'
                THEN 'created' END AS method
    FROM _reg_nodes n
    LEFT JOIN _reg_match m ON m.source_id = n.source_id
    LEFT JOIN account_aliases al ON al.old_id = n.stable_id
    LEFT JOIN accounts ex ON ex.account_id = n.stable_id
    LEFT JOIN _reg_scope s ON s.node = n.source_id
)
SELECT b.source_id, b.stable_id,
       CASE WHEN b.is_siege AND b.method IS DISTINCT FROM 'siret' AND u.account_id IS NOT NULL
            THEN u.account_id ELSE b.account_id END AS account_id,
       CASE WHEN b.is_siege AND b.method IS DISTINCT FROM 'siret' AND u.account_id IS NOT NULL
            THEN 'head_office' ELSE b.method END AS method
FROM base b LEFT JOIN base u ON b.is_siege AND u.source_id = b.siren
"""

# What registry-only accounts show: the record's name, else (an establishment) its legal unit's
# name and town, else (a SIREN seen only through its sites) its siège's name, else the identifier.
REGISTRY_ACCOUNTS = """
SELECT r.*, md5(concat_ws(chr(31), r.name, coalesce(r.country, chr(30)), coalesce(r.city, chr(30)), coalesce(r.lei, chr(30)), coalesce(r.duns, chr(30)), coalesce(r.siren, chr(30)), coalesce(r.siret, chr(30)))) AS row_hash FROM (
WITH siege AS (SELECT siren, min(name) AS name FROM _reg_nodes WHERE is_siege GROUP BY siren)
SELECT a.account_id,
       coalesce(n.name, p.name || CASE WHEN n.city IS NULL THEN '' ELSE ' (' || n.city || ')' END, sg.name,
                upper(n.id_kind) || ' ' || n.source_id) AS name,
       n.country, n.city, n.lei, n.duns, n.siren, n.siret
FROM _reg_attach a JOIN _reg_nodes n ON n.source_id = a.source_id
LEFT JOIN _reg_nodes p ON n.id_kind = 'siret' AND p.source_id = n.siren
LEFT JOIN siege sg ON n.id_kind = 'siren' AND sg.siren = n.source_id
WHERE a.method = 'created' AND a.account_id = n.stable_id
) r
"""


LINK_ACCOUNTS = """
SELECT l.child_source_id, l.parent_key, l.link_kind, c.account_id AS child_account_id, p.account_id AS parent_account_id
FROM registry_links l
LEFT JOIN _reg_attach c ON c.source_id = l.child_source_id
LEFT JOIN _reg_attach p ON p.source_id = l.parent_source_id
WHERE l.source = $source
"""

# Registry-only accounts are refreshed from their records only while they are exactly as the registry
# wrote them: recomputed on the stored row, the hash tells whether a merge or an edit changed them.
_UNTOUCHED = """
    a.row_hash = md5(concat_ws(chr(31), a.name, coalesce(a.country, chr(30)), coalesce(a.city, chr(30)),
                               coalesce(a.lei, chr(30)), coalesce(a.duns, chr(30)), coalesce(a.siren, chr(30)),
                               coalesce(a.siret, chr(30))))"""
REFRESHABLE = """
SELECT count(*) FROM _reg_accounts r JOIN accounts a ON a.account_id = r.account_id
WHERE a.source = $source AND a.row_hash <> r.row_hash AND """ + _UNTOUCHED
REFRESH_ACCOUNTS = """
UPDATE accounts a SET name = r.name, country = r.country, city = r.city, lei = r.lei, duns = r.duns, siren = r.siren,
       siret = r.siret, row_hash = r.row_hash, import_id = $import_id, updated_at = $now
FROM _reg_accounts r
WHERE a.account_id = r.account_id AND a.source = $source AND a.row_hash <> r.row_hash AND """ + _UNTOUCHED
INSERT_ACCOUNTS = """
INSERT INTO accounts (account_id, name, country, city, lei, duns, siren, siret, source, row_hash, import_id, updated_at)
SELECT account_id, name, country, city, lei, duns, siren, siret, $source, row_hash, $import_id, $now
FROM _reg_accounts r WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = r.account_id)
"""
ALIAS_SUPERSEDED = """
INSERT INTO account_aliases (old_id, survivor_id, merged_at, merged_by, reason)
SELECT old_id, survivor_id, $now, $user, 'registry ' || $source || ': same identifier as ' || survivor_id
FROM _reg_superseded s WHERE NOT EXISTS (SELECT 1 FROM account_aliases x WHERE x.old_id = s.old_id)
"""
ATTACH_ENTITIES = """
UPDATE registry_entities e SET account_id = a.account_id, attach_method = a.method
FROM _reg_attach a
WHERE e.source = $source AND e.source_id = a.source_id
  AND (e.account_id IS DISTINCT FROM a.account_id OR e.attach_method IS DISTINCT FROM a.method)
"""
ATTACH_LINKS = """
UPDATE registry_links l SET child_account_id = x.child_account_id, parent_account_id = x.parent_account_id
FROM _reg_link_accounts x
WHERE l.source = $source AND l.child_source_id = x.child_source_id AND l.parent_key = x.parent_key
  AND l.link_kind = x.link_kind
  AND (l.child_account_id IS DISTINCT FROM x.child_account_id OR l.parent_account_id IS DISTINCT FROM x.parent_account_id)
"""
# Registry-only accounts whose record now attaches to another account (a CRM account got the same
# LEI): they become aliases of it, as a merge would, unless something of the user's points at them.
SUPERSEDED = """
SELECT DISTINCT n.stable_id AS old_id, a.account_id AS survivor_id
FROM _reg_attach a JOIN _reg_nodes n ON n.source_id = a.source_id
JOIN accounts o ON o.account_id = n.stable_id AND o.source = $source
WHERE a.account_id IS NOT NULL AND a.account_id <> n.stable_id
  AND NOT EXISTS (SELECT 1 FROM deals d WHERE d.account_id = n.stable_id)
  AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = n.stable_id)
  AND NOT EXISTS (SELECT 1 FROM activities t WHERE t.account_id = n.stable_id)
"""

# Identifiers filled where an attached account has none (not a SIREN from an establishment's SIRET).
FILL = """
WITH offered AS (
    SELECT a.account_id, 'lei' AS column_name, n.lei AS value, n.source_id, n.as_of
    FROM _reg_attach a JOIN _reg_nodes n ON n.source_id = a.source_id JOIN accounts ac ON ac.account_id = a.account_id
    WHERE ac.source <> $source AND ac.lei IS NULL AND n.lei IS NOT NULL
    UNION ALL
    SELECT a.account_id, 'duns', n.duns, n.source_id, n.as_of
    FROM _reg_attach a JOIN _reg_nodes n ON n.source_id = a.source_id JOIN accounts ac ON ac.account_id = a.account_id
    WHERE ac.source <> $source AND ac.duns IS NULL AND n.duns IS NOT NULL
    UNION ALL
    SELECT a.account_id, 'siren', n.siren, n.source_id, n.as_of
    FROM _reg_attach a JOIN _reg_nodes n ON n.source_id = a.source_id JOIN accounts ac ON ac.account_id = a.account_id
    WHERE ac.source <> $source AND ac.siren IS NULL AND n.siren IS NOT NULL AND n.id_kind <> 'siret'
)
INSERT INTO registry_fills (account_id, column_name, value, source, source_id, as_of, import_id, filled_at)
SELECT account_id, column_name, min(value), $source, min(source_id), max(as_of), $import_id, $now
FROM offered o
WHERE NOT EXISTS (SELECT 1 FROM registry_fills f WHERE f.account_id = o.account_id AND f.column_name = o.column_name)
GROUP BY account_id, column_name
"""
APPLY_FILLS = """
UPDATE accounts SET lei = coalesce(accounts.lei, f.lei), duns = coalesce(accounts.duns, f.duns),
                    siren = coalesce(accounts.siren, f.siren)
FROM (SELECT account_id, max(CASE WHEN column_name = 'lei' THEN value END) AS lei,
             max(CASE WHEN column_name = 'duns' THEN value END) AS duns,
             max(CASE WHEN column_name = 'siren' THEN value END) AS siren
      FROM registry_fills WHERE source = $source GROUP BY account_id) f
WHERE f.account_id = accounts.account_id
  AND (accounts.lei IS NULL AND f.lei IS NOT NULL OR accounts.duns IS NULL AND f.duns IS NOT NULL
       OR accounts.siren IS NULL AND f.siren IS NOT NULL)
"""
TEMP_TABLES = ("_reg_nodes", "_reg_name_match", "_reg_match", "_reg_edges", "_reg_up", "_reg_scope", "_reg_attach", "_reg_accounts",
               "_reg_link_accounts", "_reg_superseded", "_reg_tree", "_reg_direct", "_reg_declared", "_reg_chain",
               "_reg_checks", "_reg_rel")


def save_attach_options(ws: Workspace, source: str, create_accounts: str, match_names: bool) -> None:
    """Remember how the user attaches this source, so `registry attach` and the build stage do the same."""
    ws.set_meta(f"registry.{source}.create_accounts", create_accounts)
    ws.set_meta(f"registry.{source}.match_names", "true" if match_names else "false")


def attach_options(ws: Workspace, source: str) -> tuple[str, bool]:
    """The options of the source's last import (default: groups, no name matching)."""
    mode = ws.meta(f"registry.{source}.create_accounts")
    return (mode if mode in CREATE_MODES else "groups"), ws.meta(f"registry.{source}.match_names") == "true"


def _params(sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    return used or None


def _run(engine: Engine, sql: str, params: dict[str, Any]) -> None:
    engine.execute(sql, _params(sql, params))


def _temp(engine: Engine, name: str, sql: str, params: dict[str, Any]) -> int:
    temp_table(engine, name, sql, _params(sql, params))
    return int(engine.scalar(exp.select(exp.func("count", exp.Star())).from_(exp.table_(name, quoted=True))) or 0)


def _count(engine: Engine, sql: str, params: dict[str, Any]) -> int:
    return int(engine.scalar(sql, _params(sql, params)) or 0)


def reconcile(ws: Workspace, source: str, *, import_id: int, now: dt.datetime, user: str,
              create_accounts: str = "groups", match_names: bool = False) -> dict[str, Any]:
    """Attach one source's stored records to accounts and rebuild its tree links; a summary."""
    engine = ws.engine
    p: dict[str, Any] = {"source": source, "import_id": import_id, "now": now, "user": user}
    with engine.transaction():
        nodes = _temp(engine, "_reg_nodes", NODES, p)
        create_name_matches(engine, source, match_names)
        _temp(engine, "_reg_match", MATCH, p)
        _temp(engine, "_reg_edges", EDGES, p)
        if create_accounts == "groups":
            _temp(engine, "_reg_up", UP, p)
        _temp(engine, "_reg_scope", SCOPE[create_accounts], p)
        _temp(engine, "_reg_attach", ATTACH, p)
        by_method = dict(engine.fetchall(
            "SELECT coalesce(method, 'unattached'), count(*) FROM _reg_attach GROUP BY 1 ORDER BY 1"))
        # Registry-only accounts: new ones inserted, existing ones refreshed from the records.
        _temp(engine, "_reg_accounts", REGISTRY_ACCOUNTS, p)
        changed = _count(engine, REFRESHABLE, p)
        _run(engine, REFRESH_ACCOUNTS, p)
        created = _count(engine, "SELECT count(*) FROM _reg_accounts r "
                                 "WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = r.account_id)", p)
        _run(engine, INSERT_ACCOUNTS, p)
        superseded = _temp(engine, "_reg_superseded", SUPERSEDED, p)
        if superseded:
            _run(engine, ALIAS_SUPERSEDED, p)
            _run(engine, "DELETE FROM accounts WHERE account_id IN (SELECT old_id FROM _reg_superseded)", p)
        # Provenance of every record: the account it attaches to.
        _run(engine, ATTACH_ENTITIES, p)
        _temp(engine, "_reg_link_accounts", LINK_ACCOUNTS, p)
        _run(engine, ATTACH_LINKS, p)
        before = _count(engine, "SELECT count(*) FROM registry_fills WHERE source = $source", p)
        _run(engine, FILL, p)
        _run(engine, APPLY_FILLS, p)
        fills = _count(engine, "SELECT count(*) FROM registry_fills WHERE source = $source", p) - before
        # Tree links and ultimate-parent checks.
        _temp(engine, "_reg_tree", TREE, p)
        _temp(engine, "_reg_direct", DIRECT, p)
        _temp(engine, "_reg_declared", DECLARED, p)
        _temp(engine, "_reg_chain", CHAIN, p)
        _temp(engine, "_reg_checks", CHECKS, p)
        _temp(engine, "_reg_rel", REL, p)
        _run(engine, REL_DELETE, p)
        _run(engine, REL_INSERT, p)
        _run(engine, "DELETE FROM registry_discrepancies WHERE source = $source", p)
        _run(engine, DISCREPANCIES, p)
        _run(engine, EXCEPTIONS, p)
        kinds = dict(engine.fetchall(
            "SELECT kind, count(*) FROM registry_discrepancies WHERE source = ? GROUP BY kind ORDER BY kind", [source]))
        relationships = _count(engine, "SELECT count(*) FROM relationships WHERE source = $source", p)
        for table in TEMP_TABLES:
            drop_table(engine, table)
    return {"nodes": nodes, "attached": by_method, "registry_only_created": created, "registry_only_updated": changed,
            "superseded": superseded, "identifiers_filled": fills, "relationships": relationships,
            "chains_completed": kinds.pop("completed", 0), "discrepancies": kinds}

