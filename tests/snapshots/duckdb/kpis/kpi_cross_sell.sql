WITH sizes AS (  -- groups of two entities or more: standalone companies have no sisters
    SELECT group_head_id AS group_id, count(*) - 1 AS sisters
    FROM account_kpis
    WHERE group_head_id IS NOT NULL AND TRUE
    GROUP BY group_head_id
    HAVING count(*) > 1
), m0 AS (
    SELECT row_number() OVER (ORDER BY k.account_id) AS mk, k.account_id, k.group_head_id AS group_id, k.parent_id, k.employees,
           k.open_deals, s.sisters,
           coalesce(f.owned_0, 0) AS owned_0,
           coalesce(f.bought_0, 0) AS bought_0
    FROM account_kpis k
    JOIN sizes s ON s.group_id = k.group_head_id
    LEFT JOIN kpi_account_facts f ON f.account_id = k.account_id
), kids AS (  -- per parent: what its children bought
    SELECT parent_id, coalesce(bit_or(CASE WHEN TRUE THEN m0.bought_0 END), 0) AS bought_0 FROM m0 WHERE parent_id IS NOT NULL GROUP BY parent_id
), members AS (
    SELECT m.*, g.mk AS gk, pm.mk AS pk, coalesce(c.bought_0, 0) AS kids_0, coalesce(pm.bought_0, 0) AS parent_0
    FROM m0 m
    JOIN m0 g ON g.account_id = m.group_id
    LEFT JOIN m0 pm ON pm.account_id = m.parent_id  -- the parent: same group
    LEFT JOIN kids c ON c.parent_id = m.parent_id
), dictionary AS (
    SELECT product, word, bit, row_number() OVER (ORDER BY product) AS ord FROM kpi_product_bits
), bought AS (  -- (entity, product) pairs of the members' `bought_*` sets
    SELECT m.gk, m.pk, b.ord
    FROM members m CROSS JOIN dictionary b
    WHERE (((m.bought_0) >> b.bit) & 1) = 1
), group_products AS (
    SELECT g.gk, g.ord, g.buyers, b.word, b.bit, b.product
    FROM (SELECT gk, ord, count(*) AS buyers FROM bought GROUP BY gk, ord) g
    JOIN dictionary b ON b.ord = g.ord
), group_sets AS (  -- per group: the products some member bought
    SELECT gk, coalesce(bit_or(CASE WHEN word = 0 AND (TRUE) THEN CAST(1 AS BIGINT) << bit END), 0) AS g_0 FROM group_products GROUP BY gk
), combos AS (  -- each product of a group as a near gap and as a far one, with its ranking key
    SELECT gp.gk, gp.ord, gp.word, gp.bit, gp.buyers, gp.product, c.near,
           $w_adoption * gp.buyers / h.sisters + $w_proximity * CASE WHEN c.near THEN 1.0 ELSE 0.5 END AS rank_key
    FROM group_products gp
    JOIN members h ON h.mk = gp.gk  -- the head: its group's size
    CROSS JOIN (SELECT TRUE AS near UNION ALL SELECT FALSE AS near) c
), ahead AS (  -- per combo: the products at or before it in the group's order, as near and as far
    SELECT gk, ord, word, bit, buyers, product, near,
           coalesce(bit_or(CASE WHEN near AND word = 0 THEN CAST(1 AS BIGINT) << bit END) OVER group_order, 0) AS near_ahead_0,
           coalesce(bit_or(CASE WHEN NOT near AND word = 0 THEN CAST(1 AS BIGINT) << bit END) OVER group_order, 0) AS far_ahead_0
    FROM combos
    WINDOW group_order AS (PARTITION BY gk ORDER BY rank_key DESC, ord)
), gaps AS (  -- per member: `open_*` the group's products it neither bought nor has in pipeline,
              -- `near_*` the products its parent or a direct sibling bought
    SELECT m.mk, m.gk, m.sisters, m.parent_0, g.g_0 & ~m.owned_0 AS open_0, m.kids_0 | m.parent_0 AS near_0
    FROM members m
    JOIN group_sets g ON g.gk = m.gk
), numbered AS (
    SELECT m.mk, a.ord, a.product, a.buyers, m.sisters,
           coalesce((((m.parent_0) >> a.bit) & 1) = 1, FALSE) AS parent_buys,
           CASE WHEN a.near THEN 1.0 ELSE 0.5 END AS proximity,
           CAST(bit_count(m.open_0 & m.near_0 & a.near_ahead_0) AS BIGINT) + CAST(bit_count(m.open_0 & ~m.near_0 & a.far_ahead_0) AS BIGINT) AS entity_rank
    FROM gaps m
    JOIN ahead a ON a.gk = m.gk
    WHERE (((m.open_0) >> a.bit) & 1) = 1 AND a.near = ((((m.near_0) >> a.bit) & 1) = 1)  -- a gap of the member, in its class
), sibling_buyers AS (
    SELECT pk, ord, count(*) AS n FROM bought WHERE pk IS NOT NULL GROUP BY pk, ord
), kept AS (
    SELECT n.*, m.account_id, m.group_id, CAST(n.buyers AS DOUBLE) / n.sisters AS adoption,
           coalesce(sb.n, 0) AS sibling_buyers, sc.grade AS icp_grade,
           least(1.0, ln(1 + coalesce(m.employees, 0)) / ln(1 + $size_full)) AS size_factor,
           CASE WHEN m.open_deals > 0 THEN 1.0 ELSE 0.0 END AS pipeline_factor
    FROM numbered n
    JOIN members m ON m.mk = n.mk
    LEFT JOIN sibling_buyers sb ON sb.pk = m.pk AND sb.ord = n.ord
    LEFT JOIN scores sc ON sc.account_id = m.account_id
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
FROM scored;
