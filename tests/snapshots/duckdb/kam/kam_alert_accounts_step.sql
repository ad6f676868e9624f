SELECT CAST(NULL AS VARCHAR) AS account_id WHERE FALSE;

DROP TABLE IF EXISTS "kam_alert_accounts_step";
