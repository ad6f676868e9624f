"""Roll-ups to every ancestor in one pass through `hierarchy_closure`, and cross-sell targets.

Consolidated view: the closure rows flagged `consolidated` (controlled entities, at 100 %, the
ancestor itself included); joint ventures are left out of it. Ownership-weighted view (`*_weighted`):
every closure row times its `weight` (the share held along the path), JVs included at share. Each
(ancestor, descendant) pair is one closure row, so an entity — a JV reached through two parents
included — is counted once in any total.
"""

from __future__ import annotations

from accountree.kpi import bits

_GROUP_KPIS = """
WITH c AS (
    SELECT ancestor_id, descendant_id, consolidated, weight
    FROM hierarchy_closure
    WHERE TRUE /*scope:ingroups:ancestor_id*/
      -- only ancestors with descendants get a row: leaves (most accounts) are not aggregated at all
      AND ancestor_id IN (SELECT ancestor_id FROM hierarchy_closure
                          WHERE depth > 0 AND TRUE /*scope:ingroups:ancestor_id*/)
), roll AS (
    SELECT c.ancestor_id AS account_id,
           CAST(sum(CASE WHEN c.consolidated THEN 1 ELSE 0 END) AS BIGINT) AS entities,
           CAST(sum(CASE WHEN c.consolidated AND k.status_code = 'customer' THEN 1 ELSE 0 END) AS BIGINT) AS customer_entities,
           CAST(sum(CASE WHEN c.consolidated AND k.status_code = 'opportunity' THEN 1 ELSE 0 END) AS BIGINT) AS opportunity_entities,
           CAST(sum(CASE WHEN c.consolidated AND k.status_code = 'mqa' THEN 1 ELSE 0 END) AS BIGINT) AS mqa_entities,
           CAST(sum(CASE WHEN c.consolidated AND k.status_code = 'engaged' THEN 1 ELSE 0 END) AS BIGINT) AS engaged_entities,
           CAST(sum(CASE WHEN c.consolidated AND k.status_code = 'former_customer' THEN 1 ELSE 0 END) AS BIGINT) AS former_customer_entities,
           CAST(sum(CASE WHEN c.consolidated AND k.status_code = 'dormant' THEN 1 ELSE 0 END) AS BIGINT) AS dormant_entities,
           CAST(sum(CASE WHEN c.consolidated AND k.buying THEN 1 ELSE 0 END) AS BIGINT) AS buying_entities,
           CAST(sum(CASE WHEN c.consolidated AND k.relation = 'business_unit' THEN 1 ELSE 0 END) AS BIGINT) AS business_units,
           CAST(sum(CASE WHEN c.consolidated AND k.relation = 'business_unit' AND k.buying THEN 1 ELSE 0 END) AS BIGINT) AS buying_business_units,
           CAST(sum(CASE WHEN c.consolidated AND c.descendant_id <> c.ancestor_id
                            AND coalesce(k.relation, 'subsidiary') <> 'business_unit' THEN 1 ELSE 0 END) AS BIGINT) AS subsidiaries,
           CAST(sum(CASE WHEN c.consolidated AND c.descendant_id <> c.ancestor_id
                            AND coalesce(k.relation, 'subsidiary') <> 'business_unit' AND k.buying THEN 1 ELSE 0 END) AS BIGINT) AS buying_subsidiaries,
           CAST(sum(CASE WHEN NOT c.consolidated THEN 1 ELSE 0 END) AS BIGINT) AS jv_entities,
           sum(CASE WHEN c.consolidated THEN k.revenue_cy ELSE 0 END) AS revenue_cy,
           sum(CASE WHEN c.consolidated THEN k.revenue_py1 ELSE 0 END) AS revenue_py1,
           sum(CASE WHEN c.consolidated THEN k.revenue_py2 ELSE 0 END) AS revenue_py2,
           sum(CASE WHEN c.consolidated THEN k.revenue_py3 ELSE 0 END) AS revenue_py3,
           sum(CASE WHEN c.consolidated THEN k.margin_cy ELSE 0 END) AS margin_cy,
           sum(CASE WHEN c.consolidated THEN k.margin_py1 ELSE 0 END) AS margin_py1,
           sum(CASE WHEN c.consolidated THEN k.margin_py2 ELSE 0 END) AS margin_py2,
           sum(CASE WHEN c.consolidated THEN k.margin_py3 ELSE 0 END) AS margin_py3,
           sum(CASE WHEN c.consolidated THEN k.open_pipeline ELSE 0 END) AS open_pipeline,
           sum(CASE WHEN c.consolidated THEN k.revenue_ttm ELSE 0 END) AS revenue_ttm,
           sum(k.revenue_cy * c.weight) AS revenue_cy_weighted,
           sum(k.revenue_py1 * c.weight) AS revenue_py1_weighted,
           sum(k.revenue_py2 * c.weight) AS revenue_py2_weighted,
           sum(k.revenue_py3 * c.weight) AS revenue_py3_weighted,
           sum(k.margin_cy * c.weight) AS margin_cy_weighted,
           sum(k.margin_py1 * c.weight) AS margin_py1_weighted,
           sum(k.margin_py2 * c.weight) AS margin_py2_weighted,
           sum(k.margin_py3 * c.weight) AS margin_py3_weighted,
           sum(k.open_pipeline * c.weight) AS open_pipeline_weighted,
           min(CASE WHEN c.consolidated THEN
                    CASE k.status_code WHEN 'customer' THEN $grank_customer WHEN 'opportunity' THEN $grank_opportunity
                         WHEN 'mqa' THEN $grank_mqa WHEN 'engaged' THEN $grank_engaged
                         WHEN 'former_customer' THEN $grank_former_customer ELSE $grank_dormant END END) AS group_rank,
           GROUP_BOUGHT
    FROM c
    JOIN account_kpis k ON k.account_id = c.descendant_id
    LEFT JOIN kpi_account_facts f ON f.account_id = c.descendant_id
    GROUP BY c.ancestor_id
), products AS (
    PRODUCT_TEXTS
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
LEFT JOIN products p ON SAME_PRODUCTS
"""



def group_kpis(product_words: int) -> str:
    """Roll-ups; the group's products are the OR of its consolidated entities' `bought_*` sets."""
    return (_GROUP_KPIS
            .replace("GROUP_BOUGHT", bits.merge("bought", product_words, "f", "c.consolidated"))
            .replace("PRODUCT_TEXTS", bits.texts(bits.PRODUCTS, "bought", product_words, "roll", "products",
                                                 "products_count"))
            .replace("SAME_PRODUCTS", bits.same("bought", product_words, "p", "r")))


# Cross-sell: (entity, product) pairs where other entities of the same group (same group head)
# bought the product and this entity never did nor has it in open pipeline. Score 0–100 =
# adoption (buyers ÷ other entities) + proximity (1 if the parent or a direct sibling buys, else
# 0.5) + size (log employees) + ICP grade (A 1, B 0.8 … F 0, none 0.5) + open pipeline on other products.
# The build keeps narrow rows (`kpi_cross_sell`): the best `max_per_entity` pairs of each entity,
# ranked on adoption and proximity (the entity's own factors do not change its ranking; ties: the
# product by name). Names, the entity's open pipeline and the reason in words are added on read by
# the `cross_sell` view: the rows depend on the pipeline only through `open_deals > 0`.
#
# Ranking without sorting the gaps. The (entity × product) gaps are the one large set (9M at 1M
# accounts); ranking them with a window sorted 9M rows (~60 % of the statement). Instead: within a
# group, a gap's key depends only on the product (its buyers) and its class — near (proximity 1:
# the parent or a direct sibling buys it) or far (0.5). So each product of a group is ranked twice,
# once per class (`combos`, 2 × 20 rows per group here, not 9M), in one order by (key DESC, product
# name); each combo gets the masks of the products at or before it in that order, as near and as
# far (`ahead`: running `bit_or`s). An entity's gap p of class c then has rank = the number of its
# gaps at or before (p, c): near gaps in `near_ahead`, far gaps in `far_ahead` — two popcounts per
# mask word (p itself counted once, in its own class). Same order, same ties, so the same ranks as
# `row_number()` over the entity's gaps (tested against it); 3.5 → 2.7 s at 1M accounts.
# Integers only on the large path: the entity's statement-local key `mk`, its group's `gk` and
# parent's `pk` (the head's and the parent's `mk`), the product's `ord` (its place by name).
_CROSS_SELL = """
WITH sizes AS (  -- groups of two entities or more: standalone companies have no sisters
    SELECT group_head_id AS group_id, count(*) - 1 AS sisters
    FROM account_kpis
    WHERE group_head_id IS NOT NULL AND TRUE /*scope:groups:group_head_id*/
    GROUP BY group_head_id
    HAVING count(*) > 1
), m0 AS (
    SELECT row_number() OVER (ORDER BY k.account_id) AS mk, k.account_id, k.group_head_id AS group_id, k.parent_id, k.employees,
           k.open_deals, s.sisters,
           MEMBER_SETS
    FROM account_kpis k
    JOIN sizes s ON s.group_id = k.group_head_id
    LEFT JOIN kpi_account_facts f ON f.account_id = k.account_id
), kids AS (  -- per parent: what its children bought
    SELECT parent_id, KIDS_MERGE FROM m0 WHERE parent_id IS NOT NULL GROUP BY parent_id
), members AS (
    SELECT m.*, g.mk AS gk, pm.mk AS pk, KIDS_SETS, PARENT_SETS
    FROM m0 m
    JOIN m0 g ON g.account_id = m.group_id
    LEFT JOIN m0 pm ON pm.account_id = m.parent_id  -- the parent: same group
    LEFT JOIN kids c ON c.parent_id = m.parent_id
), dictionary AS (
    SELECT product, word, bit, row_number() OVER (ORDER BY product) AS ord FROM kpi_product_bits
), bought AS (  -- (entity, product) pairs of the members' `bought_*` sets
    SELECT m.gk, m.pk, b.ord
    FROM members m CROSS JOIN dictionary b
    WHERE MEMBER_BOUGHT
), group_products AS (
    SELECT g.gk, g.ord, g.buyers, b.word, b.bit, b.product
    FROM (SELECT gk, ord, count(*) AS buyers FROM bought GROUP BY gk, ord) g
    JOIN dictionary b ON b.ord = g.ord
), group_sets AS (  -- per group: the products some member bought
    SELECT gk, GROUP_SET FROM group_products GROUP BY gk
), combos AS (  -- each product of a group as a near gap and as a far one, with its ranking key
    SELECT gp.gk, gp.ord, gp.word, gp.bit, gp.buyers, gp.product, c.near,
           $w_adoption * gp.buyers / h.sisters + $w_proximity * CASE WHEN c.near THEN 1.0 ELSE 0.5 END AS rank_key
    FROM group_products gp
    JOIN members h ON h.mk = gp.gk  -- the head: its group's size
    CROSS JOIN (SELECT TRUE AS near UNION ALL SELECT FALSE AS near) c
), ahead AS (  -- per combo: the products at or before it in the group's order, as near and as far
    SELECT gk, ord, word, bit, buyers, product, near,
           AHEAD_SETS
    FROM combos
    WINDOW group_order AS (PARTITION BY gk ORDER BY rank_key DESC, ord)
), gaps AS (  -- per member: `open_*` the group's products it neither bought nor has in pipeline,
              -- `near_*` the products its parent or a direct sibling bought
    SELECT m.mk, m.gk, m.sisters, PARENT_COLUMNS, OPEN_SETS, NEAR_SETS
    FROM members m
    JOIN group_sets g ON g.gk = m.gk
), numbered AS (
    SELECT m.mk, a.ord, a.product, a.buyers, m.sisters,
           coalesce(PARENT_HAS, FALSE) AS parent_buys,
           CASE WHEN a.near THEN 1.0 ELSE 0.5 END AS proximity,
           RANK_COUNT AS entity_rank
    FROM gaps m
    JOIN ahead a ON a.gk = m.gk
    WHERE OPEN_HAS AND a.near = (NEAR_HAS)  -- a gap of the member, in its class
), sibling_buyers AS (
    SELECT pk, ord, count(*) AS n FROM bought WHERE pk IS NOT NULL GROUP BY pk, ord
), kept AS (
    SELECT n.*, m.account_id, m.group_id, CAST(n.buyers AS DOUBLE) / n.sisters AS adoption,
           coalesce(sb.n, 0) AS sibling_buyers, ICP_GRADE AS icp_grade,
           least(1.0, ln(1 + coalesce(m.employees, 0)) / ln(1 + $size_full)) AS size_factor,
           CASE WHEN m.open_deals > 0 THEN 1.0 ELSE 0.0 END AS pipeline_factor
    FROM numbered n
    JOIN members m ON m.mk = n.mk
    LEFT JOIN sibling_buyers sb ON sb.pk = m.pk AND sb.ord = n.ord
    ICP_JOIN
    WHERE n.entity_rank <= $max_per_entity
), scored AS (
    SELECT kept.*,
           CASE upper(substr(icp_grade, 1, 1)) WHEN 'A' THEN 1.0 WHEN 'B' THEN 0.8 WHEN 'C' THEN 0.6
                WHEN 'D' THEN 0.4 WHEN 'E' THEN 0.2 WHEN 'F' THEN 0.0 ELSE 0.5 END AS icp_factor
    FROM kept
)
SELECT group_id, account_id, product,
       CAST(round(CAST($w_adoption * adoption + $w_proximity * proximity + $w_size * size_factor
                       + $w_icp * icp_factor + $w_pipeline * pipeline_factor AS DECIMAL(12, 4)), 1) AS DOUBLE) AS score,
       entity_rank, buyers, sisters, sibling_buyers, parent_buys, adoption, proximity, size_factor,
       icp_grade, icp_factor
FROM scored
"""


def cross_sell(product_words: int, with_scores: bool) -> str:
    w = range(product_words)
    sets = ",\n           ".join([f"coalesce(f.owned_{i}, 0) AS owned_{i}" for i in w]
                                  + [f"coalesce(f.bought_{i}, 0) AS bought_{i}" for i in w])
    kids = ", ".join(f"coalesce(c.bought_{i}, 0) AS kids_{i}" for i in w)
    parent = ", ".join(f"coalesce(pm.bought_{i}, 0) AS parent_{i}" for i in w)
    ahead = ",\n           ".join(
        f"coalesce(bit_or(CASE WHEN {'' if near else 'NOT '}near AND word = {i} THEN CAST(1 AS BIGINT) << bit END) "
        f"OVER group_order, 0) AS {'near' if near else 'far'}_ahead_{i}" for near in (True, False) for i in w)
    rank = " + ".join(
        f"CAST(bit_count(m.open_{i} & m.near_{i} & a.near_ahead_{i}) AS BIGINT) + "
        f"CAST(bit_count(m.open_{i} & ~m.near_{i} & a.far_ahead_{i}) AS BIGINT)" for i in w)
    return (_CROSS_SELL
            .replace("MEMBER_SETS", sets)
            .replace("KIDS_SETS", kids).replace("PARENT_SETS", parent)
            .replace("KIDS_MERGE", bits.merge("bought", product_words, "m0"))
            .replace("MEMBER_BOUGHT", bits.has("bought", product_words, "m", "b"))
            .replace("GROUP_SET", bits.bit_or("g", product_words, "TRUE", "word", "bit"))
            .replace("AHEAD_SETS", ahead)
            .replace("PARENT_COLUMNS", bits.columns("parent", product_words, "m"))
            .replace("OPEN_SETS", ", ".join(f"g.g_{i} & ~m.owned_{i} AS open_{i}" for i in w))
            .replace("NEAR_SETS", ", ".join(f"m.kids_{i} | m.parent_{i} AS near_{i}" for i in w))
            .replace("RANK_COUNT", rank)
            .replace("PARENT_HAS", bits.has("parent", product_words, "m", "a"))
            .replace("OPEN_HAS", bits.has("open", product_words, "m", "a"))
            .replace("NEAR_HAS", bits.has("near", product_words, "m", "a"))
            .replace("ICP_GRADE", "sc.grade" if with_scores else "CAST(NULL AS VARCHAR)")
            .replace("ICP_JOIN", "LEFT JOIN scores sc ON sc.account_id = m.account_id" if with_scores else ""))


# The public `cross_sell` relation: the kept pairs with names, status and the reason in words.
CROSS_SELL_VIEW = """
SELECT x.group_id, g.name AS group_name, x.account_id, k.name, k.status, x.product,
       coalesce(pr.name, x.product) AS product_name, x.score, x.entity_rank, x.buyers, x.sisters,
       x.sibling_buyers, x.parent_buys, x.adoption, x.proximity, x.size_factor, x.icp_grade, x.icp_factor,
       k.open_pipeline, k.status_code <> 'customer' AS non_customer,
       CAST(x.buyers AS VARCHAR) || ' of ' || CAST(x.sisters AS VARCHAR)
           || CASE WHEN x.account_id = x.group_id THEN ' entities of its group '
                   WHEN x.sisters = 1 THEN ' other entity in ' ELSE ' other entities in ' END
           || coalesce(g.name, x.group_id) || CASE WHEN x.buyers = 1 THEN ' buys ' ELSE ' buy ' END
           || coalesce(pr.name, x.product)
           || CASE WHEN x.parent_buys AND x.sibling_buyers > 0 THEN ' (its parent and '
                        || CAST(x.sibling_buyers AS VARCHAR) || ' direct sibling'
                        || CASE WHEN x.sibling_buyers > 1 THEN 's)' ELSE ')' END
                   WHEN x.parent_buys THEN ' (its parent does)'
                   WHEN x.sibling_buyers > 0 THEN ' (' || CAST(x.sibling_buyers AS VARCHAR) || ' direct sibling'
                        || CASE WHEN x.sibling_buyers > 1 THEN 's)' ELSE ')' END
                   ELSE '' END
           || '; this one is ' || k.status
           || CASE WHEN k.open_deals > 0 THEN ' with open pipeline on other products' ELSE '' END AS reason
FROM kpi_cross_sell x
JOIN account_kpis k ON k.account_id = x.account_id
LEFT JOIN account_kpis g ON g.account_id = x.group_id
LEFT JOIN products pr ON pr.product_id = x.product
"""
