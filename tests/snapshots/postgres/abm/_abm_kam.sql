SELECT scope, account_id, potential_3y, tier FROM kam_accounts;

DROP TABLE IF EXISTS "_abm_kam";
