SELECT d.deal_id, d.stage, CASE WHEN s.stage IS NOT DISTINCT FROM d.stage THEN s.since WHEN NOT s.stage IS NULL THEN CAST(%s AS DATE) ELSE COALESCE(d.created_at, CAST(%s AS DATE)) END AS since FROM deals AS d LEFT JOIN kam_deal_stages AS s ON s.deal_id = d.deal_id;

DROP TABLE IF EXISTS "kam_deal_stages_step";
