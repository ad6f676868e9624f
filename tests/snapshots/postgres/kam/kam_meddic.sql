DROP TABLE IF EXISTS "kam_meddic";

CREATE TABLE "kam_meddic" ("deal_id" VARCHAR, "account_id" VARCHAR, "stage" VARCHAR, "amount_rc" DOUBLE PRECISION, "owner" VARCHAR, "metrics" VARCHAR, "economic_buyer" VARCHAR, "decision_criteria" VARCHAR, "decision_process" VARCHAR, "identify_pain" VARCHAR, "champion" VARCHAR, "economic_buyer_source" VARCHAR, "champion_source" VARCHAR, "completeness" BIGINT, "gaps" VARCHAR);
