WITH shares AS (
    SELECT s.*,
        coalesce(s.revenue / nullif(sum(s.revenue) OVER (PARTITION BY s.scope, s.account_id), 0), 0) AS revenue_share,
        coalesce(s.pipeline / nullif(sum(s.pipeline) OVER (PARTITION BY s.scope, s.account_id), 0), 0) AS pipeline_share,
        coalesce(CAST(s.history AS DOUBLE) / nullif(sum(s.history) OVER (PARTITION BY s.scope, s.account_id), 0), 0)
            AS history_share
    FROM _abm_bu_scope s
)
SELECT shares.*,
    $weight_revenue * revenue_share + $weight_pipeline * pipeline_share + $weight_history * history_share AS score
FROM shares;

DROP TABLE IF EXISTS "_abm_lead_scores";
