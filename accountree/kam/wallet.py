"""Key-account units and their wallet, estimated from the seller's own data.

**Unit.** The KAM unit is the customer group: every entity belongs to its group head's unit,
unless it or an ancestor is designated (`kam_designations`, `accountree kam designate`), then to
the nearest designated one (a subsidiary managed as its own key account, with its subtree).

**Wallet** (what a unit could spend with us in a year), after Perlich, Rosset et al., *High-quantile
modeling for customer wallet estimation* (KDD 2007): the wallet of a customer is a high quantile of
the spend of comparable customers — comparable by industry × size band × country, backing off to
industry × size band, then size band, then all units when a cell has fewer than `wallet_min_peers`
buying units. The quantile is the nearest-rank `wallet_quantile` (0.8) of the peers' annual spend
(the larger of the last 12 months and the last complete year). A unit's wallet is never below what
it already spends. Nothing here reads the customer's turnover: a 0.5 M€ customer is compared with
what customers like it actually buy from us, not handed 2 % of a billion.

One statement, set-based, the same text on DuckDB and PostgreSQL; settings are parameters.
"""

from __future__ import annotations

from typing import Any

from accountree.store import Workspace

# Size bands on the unit's employees (all its entities).
SIZE_BAND = ("CASE WHEN u.employees IS NULL OR u.employees <= 0 THEN 'unknown' WHEN u.employees < 50 THEN '1-49' "
             "WHEN u.employees < 250 THEN '50-249' WHEN u.employees < 1000 THEN '250-999' "
             "WHEN u.employees < 5000 THEN '1000-4999' ELSE '5000+' END")
# Backoff levels, finest first: the columns that define a cell of comparable units.
LEVELS = (("industry", "size_band", "country"), ("industry", "size_band"), ("size_band",), ())
LEVEL_NAMES = ("industry × size × country", "industry × size", "size", "all units")


def _cell(level: int) -> str:
    cols = LEVELS[level]
    partition = f"PARTITION BY {', '.join(cols)} " if cols else ""
    keys = ", ".join(cols) + ", " if cols else ""
    return (f"c{level} AS (SELECT {keys}max(n) AS n, max(CASE WHEN r = greatest(1, CAST(ceil(? * n) AS INTEGER)) "  # noqa: S608 - column names from LEVELS, values bound
            f"THEN spend END) AS wallet FROM (SELECT {keys}spend, row_number() OVER ({partition}ORDER BY spend) AS r, "
            f"count(*) OVER ({partition.strip()}) AS n FROM peers) x {'GROUP BY ' + ', '.join(cols) if cols else ''})")


def _join(level: int) -> str:
    on = " AND ".join(f"c{level}.{c} = f.{c}" for c in LEVELS[level]) or "TRUE"
    return f"LEFT JOIN c{level} ON {on}"


_UNITS = """
WITH designated AS (  -- each entity's nearest designated ancestor-or-self
    SELECT c.descendant_id AS account_id, c.ancestor_id AS unit_id,
           row_number() OVER (PARTITION BY c.descendant_id ORDER BY c.depth) AS rn
    FROM hierarchy_closure c JOIN kam_designations d ON d.account_id = c.ancestor_id
    WHERE c.consolidated OR c.depth = 0
), unit_of AS (
    SELECT h.account_id, coalesce(d.unit_id, h.group_head_id, h.account_id) AS unit_id
    FROM hierarchy h LEFT JOIN designated d ON d.account_id = h.account_id AND d.rn = 1
)"""

_WALLET = _UNITS + """, units AS (
    SELECT uo.unit_id, count(*) AS entities, sum(a.employees) AS employees,
           sum(coalesce(k.revenue_ttm, 0)) AS revenue_ttm, sum(coalesce(k.revenue_py1, 0)) AS revenue_py1,
           sum(coalesce(k.open_deals, 0)) AS open_deals,
           max(CASE WHEN k.status_code = 'customer' THEN 1 ELSE 0 END) AS customer
    FROM unit_of uo JOIN accounts a ON a.account_id = uo.account_id
    LEFT JOIN account_kpis k ON k.account_id = uo.account_id
    GROUP BY uo.unit_id
), features AS (
    SELECT u.unit_id, u.entities, u.employees, u.open_deals, u.customer, u.revenue_ttm, u.revenue_py1,
           greatest(u.revenue_ttm, u.revenue_py1) AS spend,
           coalesce(nullif(trim(a.industry), ''), 'unknown') AS industry,
           coalesce(nullif(trim(a.country), ''), 'unknown') AS country, SIZE_BAND AS size_band
    FROM units u JOIN accounts a ON a.account_id = u.unit_id
), peers AS (
    SELECT industry, size_band, country, spend FROM features WHERE spend > 0
), CELLS
SELECT f.unit_id, f.entities, f.employees, f.open_deals, f.customer, f.spend, f.industry, f.country, f.size_band,
       CASE WHEN c0.n >= ? THEN 0 WHEN c1.n >= ? THEN 1 WHEN c2.n >= ? THEN 2 ELSE 3 END AS peer_level,
       CASE WHEN c0.n >= ? THEN c0.n WHEN c1.n >= ? THEN c1.n WHEN c2.n >= ? THEN c2.n ELSE c3.n END AS peers,
       CASE WHEN c0.n >= ? THEN c0.wallet WHEN c1.n >= ? THEN c1.wallet WHEN c2.n >= ? THEN c2.wallet
            ELSE c3.wallet END AS peer_wallet
FROM features f JOINS
""".replace("SIZE_BAND", SIZE_BAND).replace("CELLS", ",\n".join(_cell(i) for i in range(len(LEVELS)))).replace(
    "JOINS", " ".join(_join(i) for i in range(len(LEVELS))))

UNIT_OF = _UNITS + "\nSELECT account_id, unit_id FROM unit_of"


def available(ws: Workspace) -> bool:
    return all(ws.engine.table_exists(t) for t in ("hierarchy", "hierarchy_closure", "account_kpis", "kam_designations"))


def units_of(ws: Workspace) -> dict[str, str]:
    """Entity → its KAM unit (group head or designated entity)."""
    return dict(ws.engine.fetchall(UNIT_OF))


def wallet_query(quantile: float, min_peers: int) -> tuple[str, list[Any]]:
    """The statement giving, per unit, its spend, size band, peers' wallet and cell; its parameters."""
    return _WALLET, [quantile] * len(LEVELS) + [int(min_peers)] * 9


def unit_wallets(ws: Workspace, quantile: float, min_peers: int) -> dict[str, dict[str, Any]]:
    """Per unit: spend, size band, peers' wallet and the cell it comes from."""
    sql, params = wallet_query(quantile, min_peers)
    out = {}
    for row in ws.engine.fetch_dicts(sql, params):
        row["peer_cell"] = LEVEL_NAMES[int(row["peer_level"])]
        spend, peer = float(row["spend"] or 0), row["peer_wallet"]
        row["wallet"] = max(spend, float(peer)) if peer is not None else spend
        out[row["unit_id"]] = row
    return out


def designate(ws: Workspace, account_id: str, by: str | None = None, remove: bool = False) -> dict[str, Any]:
    """Make an entity its own KAM unit (with its subtree), or give it back to its group (`remove`).
    The next build tiers it; the designation survives re-imports and rebuilds."""
    from datetime import UTC, datetime

    from accountree.errors import NotFoundError

    name = ws.engine.scalar("SELECT name FROM accounts WHERE account_id = ?", [account_id])
    if name is None:
        raise NotFoundError(f"no account {account_id!r}", hint="`accountree search NAME` finds an account's id.")
    with ws.engine.transaction():
        ws.engine.execute("DELETE FROM kam_designations WHERE account_id = ?", [account_id])
        if not remove:
            ws.engine.execute("INSERT INTO kam_designations (account_id, designated_by, designated_at) VALUES (?, ?, ?)",
                              [account_id, by, datetime.now(UTC).replace(tzinfo=None)])
    designated = [r[0] for r in ws.engine.fetchall("SELECT account_id FROM kam_designations ORDER BY account_id")]
    return {"account_id": account_id, "name": name, "designated": not remove, "all": designated,
            "next": "Run `accountree build` (or `accountree build --stage kam`) to tier it."}
