DROP TABLE IF EXISTS "kam_meddic";

CREATE TABLE "kam_meddic" ("deal_id" TEXT, "account_id" TEXT, "stage" TEXT, "amount_rc" DOUBLE, "owner" TEXT, "metrics" TEXT, "economic_buyer" TEXT, "decision_criteria" TEXT, "decision_process" TEXT, "identify_pain" TEXT, "champion" TEXT, "economic_buyer_source" TEXT, "champion_source" TEXT, "completeness" BIGINT, "gaps" TEXT);
