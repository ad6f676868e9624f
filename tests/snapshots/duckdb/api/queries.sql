SELECT account_id FROM (SELECT account_id, row_number() OVER (ORDER BY account_id) AS rn FROM accounts) n WHERE rn % ? = 1 AND rn > 1 ORDER BY account_id;

COMMENT ON TABLE "accounts" IS 'accountree api read model <id>';

COMMENT ON TABLE "account_aliases" IS 'accountree api read model <id>';

COMMENT ON TABLE "hierarchy" IS 'accountree api read model <id>';

COMMENT ON TABLE "account_kpis" IS 'accountree api read model <id>';

COMMENT ON TABLE "group_kpis" IS 'accountree api read model <id>';

COMMENT ON TABLE "scores" IS 'accountree api read model <id>';

COMMENT ON TABLE "kam_accounts" IS 'accountree api read model <id>';

COMMENT ON TABLE "kam_alerts" IS 'accountree api read model <id>';

COMMENT ON TABLE "kam_alert_acks" IS 'accountree api read model <id>';

COMMENT ON TABLE "kpi_status_history" IS 'accountree api read model <id>';

COMMENT ON TABLE "kam_meddic" IS 'accountree api read model <id>';

COMMENT ON TABLE "deals" IS 'accountree api read model <id>';

COMMENT ON TABLE "contacts" IS 'accountree api read model <id>';

COMMENT ON TABLE "kam_contact_roles" IS 'accountree api read model <id>';

COMMENT ON TABLE "kam_stakeholders" IS 'accountree api read model <id>';

COMMENT ON TABLE "activities" IS 'accountree api read model <id>';

COMMENT ON TABLE "campaigns" IS 'accountree api read model <id>';

COMMENT ON TABLE "campaign_accounts" IS 'accountree api read model <id>';

COMMENT ON TABLE "seller_bus" IS 'accountree api read model <id>';

COMMENT ON TABLE "relationships" IS 'accountree api read model <id>';

SELECT key, value FROM workspace_meta WHERE key NOT LIKE 'api%' ORDER BY key;

SELECT (SELECT CAST(COALESCE(count(*), 0) AS VARCHAR) FROM "imports"), (SELECT CAST(COALESCE(sum(import_id), 0) AS VARCHAR) FROM "imports"), (SELECT CAST(COALESCE(count(*), 0) AS VARCHAR) FROM "manual_links"), (SELECT CAST(COALESCE(sum(CAST(EXTRACT(EPOCH FROM created_at) * 1000 AS BIGINT)), 0) AS VARCHAR) FROM "manual_links"), (SELECT CAST(COALESCE(count(*), 0) AS VARCHAR) FROM "hierarchy_changes"), (SELECT CAST(COALESCE(sum(change_id), 0) AS VARCHAR) FROM "hierarchy_changes"), (SELECT CAST(COALESCE(count(*), 0) AS VARCHAR) FROM "merges"), (SELECT CAST(COALESCE(sum(CAST(EXTRACT(EPOCH FROM merged_at) * 1000 AS BIGINT)), 0) AS VARCHAR) FROM "merges"), (SELECT CAST(COALESCE(sum(CAST(EXTRACT(EPOCH FROM undone_at) * 1000 AS BIGINT)), 0) AS VARCHAR) FROM "merges"), (SELECT CAST(COALESCE(count(*), 0) AS VARCHAR) FROM "account_aliases"), (SELECT CAST(COALESCE(count(*), 0) AS VARCHAR) FROM "kam_contact_roles"), (SELECT CAST(COALESCE(sum(CAST(EXTRACT(EPOCH FROM set_at) * 1000 AS BIGINT)), 0) AS VARCHAR) FROM "kam_contact_roles"), (SELECT CAST(COALESCE(count(*), 0) AS VARCHAR) FROM "kam_alert_acks"), (SELECT CAST(COALESCE(sum(CAST(EXTRACT(EPOCH FROM acknowledged_at) * 1000 AS BIGINT)), 0) AS VARCHAR) FROM "kam_alert_acks");

SELECT count(*) FROM "api_account_360";

SELECT count(*) FROM "api_account_records";

SELECT count(*) FROM "api_tree_nodes";

SELECT count(*) FROM "api_tree_jvs";

SELECT count(*) FROM "api_account_deals";

SELECT count(*) FROM "api_account_activities";

SELECT count(*) FROM "api_account_contacts";
