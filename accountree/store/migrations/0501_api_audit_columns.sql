-- `at` is a keyword to newer DuckDB parsers: name the audit time `occurred_at`. Buying roles and
-- alert acknowledgements live in the KAM tables (`kam_contact_roles`, `kam_alert_acks`); the API's
-- own copies from 0500 were never written and go.
ALTER TABLE audit_log RENAME COLUMN "at" TO occurred_at;
DROP TABLE IF EXISTS stakeholder_roles;
DROP TABLE IF EXISTS alert_acks;
