"""Roll-ups to every ancestor in one pass through `hierarchy_closure`, and cross-sell targets.

Consolidated view: the closure rows flagged `consolidated` (controlled entities, at 100 %, the
ancestor itself included); joint ventures are left out of it. Ownership-weighted view (`*_weighted`):
every closure row times its `weight` (the share held along the path), JVs included at share. Each
(ancestor, descendant) pair is one closure row, so an entity — a JV reached through two parents
included — is counted once in any total.
"""

from __future__ import annotations

GROUP_KPIS = """
WITH c AS (
    SELECT ancestor_id, descendant_id, consolidated, weight
    FROM hierarchy_closure
    WHERE TRUE /*scope:ingroups:ancestor_id*/
), products AS (  -- ordered list as a running window (see account_sql.ORDERED_LIST_NOTE)
    SELECT ancestor_id, products, products_count
    FROM (SELECT ancestor_id,
                 string_agg(product, '; ') OVER (PARTITION BY ancestor_id ORDER BY product
                                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS products,
                 row_number() OVER (PARTITION BY ancestor_id ORDER BY product) AS products_count,
                 count(*) OVER (PARTITION BY ancestor_id) AS n
          FROM (SELECT DISTINCT c.ancestor_id, p.product
                FROM c JOIN kpi_account_products p ON p.account_id = c.descendant_id
                WHERE c.consolidated AND p.first_purchase IS NOT NULL AND p.product IS NOT NULL
                  AND TRUE /*scope:ingroups:p.account_id*/) gp) x
    WHERE products_count = n
), roll AS (
    SELECT c.ancestor_id AS account_id,
           count(*) FILTER (WHERE c.consolidated) AS entities,
           count(*) FILTER (WHERE c.consolidated AND k.status_code = 'customer') AS customer_entities,
           count(*) FILTER (WHERE c.consolidated AND k.status_code = 'opportunity') AS opportunity_entities,
           count(*) FILTER (WHERE c.consolidated AND k.status_code = 'mqa') AS mqa_entities,
           count(*) FILTER (WHERE c.consolidated AND k.status_code = 'engaged') AS engaged_entities,
           count(*) FILTER (WHERE c.consolidated AND k.status_code = 'former_customer') AS former_customer_entities,
           count(*) FILTER (WHERE c.consolidated AND k.status_code = 'dormant') AS dormant_entities,
           count(*) FILTER (WHERE c.consolidated AND k.buying) AS buying_entities,
           count(*) FILTER (WHERE c.consolidated AND h.relation = 'business_unit') AS business_units,
           count(*) FILTER (WHERE c.consolidated AND h.relation = 'business_unit' AND k.buying) AS buying_business_units,
           count(*) FILTER (WHERE c.consolidated AND c.descendant_id <> c.ancestor_id
                            AND coalesce(h.relation, 'subsidiary') <> 'business_unit') AS subsidiaries,
           count(*) FILTER (WHERE c.consolidated AND c.descendant_id <> c.ancestor_id
                            AND coalesce(h.relation, 'subsidiary') <> 'business_unit' AND k.buying) AS buying_subsidiaries,
           count(*) FILTER (WHERE NOT c.consolidated) AS jv_entities,
           coalesce(sum(k.revenue_cy) FILTER (WHERE c.consolidated), 0) AS revenue_cy,
           coalesce(sum(k.revenue_py1) FILTER (WHERE c.consolidated), 0) AS revenue_py1,
           coalesce(sum(k.revenue_py2) FILTER (WHERE c.consolidated), 0) AS revenue_py2,
           coalesce(sum(k.revenue_py3) FILTER (WHERE c.consolidated), 0) AS revenue_py3,
           coalesce(sum(k.margin_cy) FILTER (WHERE c.consolidated), 0) AS margin_cy,
           coalesce(sum(k.margin_py1) FILTER (WHERE c.consolidated), 0) AS margin_py1,
           coalesce(sum(k.margin_py2) FILTER (WHERE c.consolidated), 0) AS margin_py2,
           coalesce(sum(k.margin_py3) FILTER (WHERE c.consolidated), 0) AS margin_py3,
           coalesce(sum(k.open_pipeline) FILTER (WHERE c.consolidated), 0) AS open_pipeline,
           coalesce(sum(k.revenue_ttm) FILTER (WHERE c.consolidated), 0) AS revenue_ttm,
           sum(k.revenue_cy * c.weight) AS revenue_cy_weighted,
           sum(k.revenue_py1 * c.weight) AS revenue_py1_weighted,
           sum(k.revenue_py2 * c.weight) AS revenue_py2_weighted,
           sum(k.revenue_py3 * c.weight) AS revenue_py3_weighted,
           sum(k.margin_cy * c.weight) AS margin_cy_weighted,
           sum(k.margin_py1 * c.weight) AS margin_py1_weighted,
           sum(k.margin_py2 * c.weight) AS margin_py2_weighted,
           sum(k.margin_py3 * c.weight) AS margin_py3_weighted,
           sum(k.open_pipeline * c.weight) AS open_pipeline_weighted,
           min(CASE k.status_code WHEN 'customer' THEN $grank_customer WHEN 'opportunity' THEN $grank_opportunity
                    WHEN 'mqa' THEN $grank_mqa WHEN 'engaged' THEN $grank_engaged
                    WHEN 'former_customer' THEN $grank_former_customer ELSE $grank_dormant END)
               FILTER (WHERE c.consolidated) AS group_rank
    FROM c
    JOIN account_kpis k ON k.account_id = c.descendant_id
    LEFT JOIN hierarchy h ON h.account_id = c.descendant_id
    GROUP BY c.ancestor_id
    HAVING count(*) > 1
)
SELECT r.account_id, h.name, h.group_head_id, h.level,
       CASE r.group_rank WHEN $grank_customer THEN 'customer group' WHEN $grank_opportunity THEN 'opportunity group'
            WHEN $grank_mqa THEN 'MQA group' WHEN $grank_engaged THEN 'engaged group'
            WHEN $grank_former_customer THEN 'former customer group' ELSE 'dormant group' END AS group_status,
       r.entities, r.customer_entities, r.opportunity_entities, r.mqa_entities, r.engaged_entities,
       r.former_customer_entities, r.dormant_entities, r.buying_entities,
       CAST(r.buying_entities AS DOUBLE) / r.entities AS penetration,
       r.subsidiaries, r.buying_subsidiaries, r.business_units, r.buying_business_units, r.jv_entities,
       r.revenue_cy, r.revenue_py1, r.revenue_py2, r.revenue_py3,
       r.revenue_py1 + r.revenue_py2 + r.revenue_py3 AS revenue_3y,
       r.margin_cy, r.margin_py1, r.margin_py2, r.margin_py3,
       r.margin_py1 + r.margin_py2 + r.margin_py3 AS margin_3y,
       r.margin_cy / nullif(r.revenue_cy, 0) AS margin_pct_cy,
       r.margin_py1 / nullif(r.revenue_py1, 0) AS margin_pct_py1,
       r.revenue_py1 / nullif(r.revenue_py2, 0) AS nrr,
       r.open_pipeline, r.revenue_ttm,
       r.revenue_cy_weighted, r.revenue_py1_weighted, r.revenue_py2_weighted, r.revenue_py3_weighted,
       r.margin_cy_weighted, r.margin_py1_weighted, r.margin_py2_weighted, r.margin_py3_weighted,
       r.open_pipeline_weighted,
       p.products, coalesce(p.products_count, 0) AS products_count
FROM roll r
JOIN hierarchy h ON h.account_id = r.account_id AND TRUE /*scope:ingroups:h.account_id*/
LEFT JOIN products p ON p.ancestor_id = r.account_id
"""

# Cross-sell: (entity, product) pairs where other entities of the same group (same group head)
# bought the product and this entity never did nor has it in open pipeline. Score 0–100 =
# adoption (buyers ÷ other entities) + proximity (1 if the parent or a direct sibling buys, else
# 0.5) + size (log employees) + ICP grade (A 1 … D 0, none 0.5) + open pipeline on other products.
# Pairs are ranked on narrow rows first (the entity's own factors do not change its ranking);
# names and reasons are only built for the `max_per_entity` kept.
_CROSS_SELL = """
WITH members AS (
    SELECT account_id, group_head_id AS group_id, parent_id
    FROM account_kpis
    WHERE group_head_id IS NOT NULL AND TRUE /*scope:groups:group_head_id*/ AND TRUE /*chunk*/
), sizes AS (
    SELECT group_id, count(*) - 1 AS sisters FROM members GROUP BY group_id HAVING count(*) > 1
), bought AS (
    SELECT m.group_id, m.account_id, m.parent_id, p.product
    FROM kpi_account_products p JOIN members m ON m.account_id = p.account_id
    WHERE p.first_purchase IS NOT NULL AND p.product IS NOT NULL AND TRUE /*scope:ingroups:p.account_id*/
), owned AS (  -- any product row of a member (bought or in pipeline): not a target for it
    SELECT p.account_id, p.product
    FROM kpi_account_products p JOIN members m ON m.account_id = p.account_id
    WHERE p.product IS NOT NULL AND TRUE /*scope:ingroups:p.account_id*/
), group_products AS (
    SELECT group_id, product, count(*) AS buyers FROM bought GROUP BY group_id, product
), sibling_buyers AS (
    SELECT parent_id, product, count(*) AS n FROM bought WHERE parent_id IS NOT NULL GROUP BY parent_id, product
), pairs AS (
    SELECT m.account_id, m.group_id, m.parent_id, gp.product, gp.buyers, s.sisters
    FROM members m
    JOIN sizes s ON s.group_id = m.group_id
    JOIN group_products gp ON gp.group_id = m.group_id
    WHERE NOT EXISTS (SELECT 1 FROM owned o WHERE o.account_id = m.account_id AND o.product = gp.product)
), placed AS (
    SELECT p.account_id, p.group_id, p.product, p.buyers, p.sisters,
           coalesce(sb.n, 0) AS sibling_buyers, pb.account_id IS NOT NULL AS parent_buys,
           CAST(p.buyers AS DOUBLE) / p.sisters AS adoption,
           CASE WHEN sb.n > 0 OR pb.account_id IS NOT NULL THEN 1.0 ELSE 0.5 END AS proximity
    FROM pairs p
    LEFT JOIN sibling_buyers sb ON sb.parent_id = p.parent_id AND sb.product = p.product
    LEFT JOIN bought pb ON pb.account_id = p.parent_id AND pb.product = p.product  -- the parent: same group
), numbered AS (
    SELECT placed.*, row_number() OVER (PARTITION BY account_id
                                        ORDER BY $w_adoption * adoption + $w_proximity * proximity DESC, product)
                     AS entity_rank
    FROM placed
), kept AS (
    SELECT n.*, k.name, k.status, k.status_code, k.open_deals, k.open_pipeline, ICP_GRADE AS icp_grade,
           least(1.0, ln(1 + coalesce(k.employees, 0)) / ln(1 + $size_full)) AS size_factor,
           CASE WHEN k.open_deals > 0 THEN 1.0 ELSE 0.0 END AS pipeline_factor
    FROM numbered n
    JOIN account_kpis k ON k.account_id = n.account_id AND TRUE /*scope:ingroups:k.account_id*/
    ICP_JOIN
    WHERE n.entity_rank <= $max_per_entity
), scored AS (
    SELECT kept.*,
           CASE upper(substr(icp_grade, 1, 1)) WHEN 'A' THEN 1.0 WHEN 'B' THEN 0.67 WHEN 'C' THEN 0.33
                WHEN 'D' THEN 0.0 ELSE 0.5 END AS icp_factor
    FROM kept
)
SELECT n.group_id, g.name AS group_name, n.account_id, n.name, n.status, n.product,
       coalesce(pr.name, n.product) AS product_name,
       CAST(round(CAST($w_adoption * n.adoption + $w_proximity * n.proximity + $w_size * n.size_factor
                       + $w_icp * n.icp_factor + $w_pipeline * n.pipeline_factor AS DECIMAL(12, 4)), 1) AS DOUBLE)
           AS score,
       n.entity_rank, n.buyers, n.sisters, n.sibling_buyers, n.parent_buys, n.adoption, n.proximity,
       n.size_factor, n.icp_grade, n.icp_factor, n.open_pipeline,
       n.status_code <> 'customer' AS non_customer,
       CAST(n.buyers AS VARCHAR) || ' of ' || CAST(n.sisters AS VARCHAR)
           || CASE WHEN n.account_id = n.group_id THEN ' entities of its group '
                   WHEN n.sisters = 1 THEN ' other entity in ' ELSE ' other entities in ' END
           || coalesce(g.name, n.group_id) || CASE WHEN n.buyers = 1 THEN ' buys ' ELSE ' buy ' END
           || coalesce(pr.name, n.product)
           || CASE WHEN n.parent_buys AND n.sibling_buyers > 0 THEN ' (its parent and '
                        || CAST(n.sibling_buyers AS VARCHAR) || ' direct sibling'
                        || CASE WHEN n.sibling_buyers > 1 THEN 's)' ELSE ')' END
                   WHEN n.parent_buys THEN ' (its parent does)'
                   WHEN n.sibling_buyers > 0 THEN ' (' || CAST(n.sibling_buyers AS VARCHAR) || ' direct sibling'
                        || CASE WHEN n.sibling_buyers > 1 THEN 's)' ELSE ')' END
                   ELSE '' END
           || '; this one is ' || n.status
           || CASE WHEN n.open_deals > 0 THEN ' with open pipeline on other products' ELSE '' END AS reason
FROM scored n
LEFT JOIN account_kpis g ON g.account_id = n.group_id AND TRUE /*scope:groups:g.account_id*/
LEFT JOIN products pr ON pr.product_id = n.product
"""

CROSS_SELL = _CROSS_SELL.replace("ICP_GRADE", "CAST(NULL AS VARCHAR)").replace("ICP_JOIN", "")
CROSS_SELL_WITH_SCORES = _CROSS_SELL.replace("ICP_GRADE", "sc.grade").replace(
    "ICP_JOIN", "LEFT JOIN scores sc ON sc.account_id = n.account_id")
