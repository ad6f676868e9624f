DROP TABLE IF EXISTS "kam_alerts";

CREATE TABLE "kam_alerts" ("alert_id" TEXT, "account_id" TEXT, "kind" TEXT, "subject" TEXT, "reason" TEXT, "created_at" DATE, "owner" TEXT, "detected_at" DATE, "contact_id" TEXT, "severity" TEXT, "unit_id" TEXT, "unit_tier" BIGINT, "value" DOUBLE, "priority" DOUBLE);
