-- KPIs: status history across builds (user-visible state that a rebuild must not lose), and the
-- industry wallet shares the KPI build copies from the rules.

-- One row per stay of an account (scope 'account') or a group (scope 'group') in a status:
-- entered_on = as-of date of the build that first saw it, left_on = the one that saw it change.
CREATE TABLE kpi_status_history (
    scope VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    entered_on DATE NOT NULL,
    left_on DATE,
    previous_status VARCHAR,
    recorded_at TIMESTAMP NOT NULL
);

CREATE TABLE kpi_wallet_shares (industry VARCHAR PRIMARY KEY, share DOUBLE NOT NULL);
