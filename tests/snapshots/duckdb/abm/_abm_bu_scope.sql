DROP TABLE IF EXISTS "_abm_bu_scope";
