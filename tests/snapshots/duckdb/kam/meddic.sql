DELETE FROM meddic WHERE source = 'import';

INSERT INTO meddic (deal_id, metrics, economic_buyer, decision_criteria, decision_process, identify_pain, champion, source, updated_by, updated_at)
SELECT deal_id, metrics, economic_buyer, decision_criteria, decision_process, identify_pain, champion, 'import', CAST(NULL AS VARCHAR), CAST(NULL AS TIMESTAMP) FROM (
    SELECT deal_id, nullif(json_extract_string(attributes, '$.metrics'), '') AS metrics, nullif(json_extract_string(attributes, '$.economic_buyer'), '') AS economic_buyer, nullif(json_extract_string(attributes, '$.decision_criteria'), '') AS decision_criteria, nullif(json_extract_string(attributes, '$.decision_process'), '') AS decision_process, nullif(json_extract_string(attributes, '$.identify_pain'), '') AS identify_pain, nullif(json_extract_string(attributes, '$.champion'), '') AS champion
    FROM kam_meddic_candidates_step WHERE plain) d
WHERE (metrics IS NOT NULL OR economic_buyer IS NOT NULL OR decision_criteria IS NOT NULL OR decision_process IS NOT NULL OR identify_pain IS NOT NULL OR champion IS NOT NULL)
  AND deal_id NOT IN (SELECT deal_id FROM meddic WHERE source <> 'import');
