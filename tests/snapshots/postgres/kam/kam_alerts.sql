DROP TABLE IF EXISTS "kam_alerts";

CREATE TABLE "kam_alerts" ("alert_id" VARCHAR, "account_id" VARCHAR, "kind" VARCHAR, "subject" VARCHAR, "reason" VARCHAR, "created_at" DATE, "owner" VARCHAR, "detected_at" DATE, "contact_id" VARCHAR, "severity" VARCHAR, "unit_id" VARCHAR, "unit_tier" BIGINT, "value" DOUBLE PRECISION, "priority" DOUBLE PRECISION);
