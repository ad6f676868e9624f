DROP TABLE IF EXISTS "_abm_lead_scores";
