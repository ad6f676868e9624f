SELECT CAST(NULL AS TEXT) AS account_id WHERE FALSE;

DROP TABLE IF EXISTS "kam_alert_accounts_step";
