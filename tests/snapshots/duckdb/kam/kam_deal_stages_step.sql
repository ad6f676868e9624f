SELECT d.deal_id, d.stage,
       CASE WHEN s.stage IS NOT DISTINCT FROM d.stage THEN s.since
            WHEN s.stage IS NOT NULL THEN CAST(? AS DATE)
            ELSE coalesce(d.created_at, CAST(? AS DATE)) END AS since
FROM deals d LEFT JOIN kam_deal_stages s ON s.deal_id = d.deal_id;

DROP TABLE IF EXISTS "kam_deal_stages_step";
