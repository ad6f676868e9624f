DROP TABLE IF EXISTS "_abm_kam";

CREATE TEMPORARY TABLE "_abm_kam" AS SELECT scope, account_id, potential_3y, tier FROM kam_accounts;
