"""The KPI tables users export (public contract: names and the columns listed in README.md)."""

from __future__ import annotations

from sqlglot import exp

from accountree.exports import ExportSpec
from accountree.store import Workspace

HINT = "Run `accountree build` (the kpis stage computes it)."

# Every entity × product of each group of two or more entities (products: those bought or in open
# pipeline anywhere in the group). State: bought (a won deal, ever) > pipeline (an open deal) > never.
WHITESPACE = """
WITH members AS (
    SELECT account_id, name, group_head_id AS group_id, status FROM account_kpis WHERE group_head_id IS NOT NULL
), groups_ AS (
    SELECT group_id FROM members GROUP BY group_id HAVING count(*) > 1
), ap AS MATERIALIZED (  -- the products view, aggregated once for both uses below
    SELECT p.* FROM kpi_account_products p WHERE p.product IS NOT NULL
), group_products AS (
    SELECT DISTINCT m.group_id, p.product FROM ap p JOIN members m ON m.account_id = p.account_id
)
SELECT CELLS
FROM members m
JOIN groups_ gs ON gs.group_id = m.group_id
JOIN group_products gp ON gp.group_id = m.group_id
LEFT JOIN ap ON ap.account_id = m.account_id AND ap.product = gp.product
LEFT JOIN account_kpis g ON g.account_id = m.group_id
LEFT JOIN products pr ON pr.product_id = gp.product
"""
# A cell of the matrix: member `m`, product `gp`, its account × product row `ap`, the head `g`
# (also what `accountree.kpi.whitespace` selects for one group).
CELLS = """m.group_id, g.name AS group_name, m.account_id, m.name, m.status, gp.product,
       coalesce(pr.name, gp.product) AS product_name,
       CASE WHEN ap.first_purchase IS NOT NULL THEN 'bought' WHEN ap.open_deals > 0 THEN 'pipeline' ELSE 'never' END AS state,
       ap.first_purchase, ap.last_purchase, coalesce(ap.revenue_total, 0) AS revenue_total,
       coalesce(ap.open_pipeline, 0) AS open_pipeline"""
WHITESPACE = WHITESPACE.replace("CELLS", CELLS)


def _table(name: str, order: list[str]):
    def query(ws: Workspace) -> exp.Select:
        return exp.select("*").from_(exp.table_(name, quoted=True)).order_by(*[exp.column(c, quoted=True) for c in order])

    return query


def _whitespace(ws: Workspace) -> str:
    return f"SELECT * FROM ({WHITESPACE}) w ORDER BY group_id, account_id, product"  # noqa: S608 - static text


def _products(ws: Workspace) -> str:
    return "SELECT * FROM kpi_account_products WHERE product IS NOT NULL ORDER BY account_id, product"


EXPORTS = [
    ExportSpec("account_kpis", "per account: lifecycle status, revenue and margin (CY and 3 previous years), products, "
               "NRR, share of wallet, seller BUs, open pipeline", _table("account_kpis", ["account_id"]),
               "account_kpis", HINT),
    ExportSpec("group_kpis", "per account with descendants: group status, entities by status, consolidated and "
               "ownership-weighted revenue and margin, pipeline, products, penetration",
               _table("group_kpis", ["account_id"]), "group_kpis", HINT),
    ExportSpec("whitespace", "per group: entity × product matrix (bought / pipeline / never)", _whitespace,
               "kpi_account_products", HINT),
    ExportSpec("cross_sell", "cross-sell targets ranked by score, with the reason",
               _table("cross_sell", ["group_id", "account_id", "entity_rank"]), "cross_sell", HINT),
    ExportSpec("account_products", "per account × product: first and last purchase, revenue, open pipeline",
               _products, "kpi_account_products", HINT),
    ExportSpec("status_history", "when each account and group entered and left each status (transitions)",
               _table("kpi_status_history", ["scope", "account_id", "entered_on"]), None, None),
]
