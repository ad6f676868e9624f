-- Users, API tokens and the audit trail of the REST API and the dashboard.
-- Passwords are argon2 hashes; API tokens are stored as the sha256 of their secret (the secret is
-- shown once). Roles: admin, corporate, bu_member, read_only; `bu_id` scopes a BU member.

CREATE TABLE users (
    username VARCHAR PRIMARY KEY,
    password_hash VARCHAR,
    role VARCHAR NOT NULL,
    bu_id VARCHAR,
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR,
    disabled BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE api_tokens (
    token_hash VARCHAR PRIMARY KEY,
    username VARCHAR NOT NULL,
    label VARCHAR,
    created_at TIMESTAMP NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT false
);

-- Every write made through the API or the dashboard: who, when, what, on which record.
CREATE TABLE audit_log (
    audit_id VARCHAR PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    username VARCHAR NOT NULL,
    role VARCHAR,
    action VARCHAR NOT NULL,
    target_type VARCHAR,
    target_id VARCHAR,
    details VARCHAR,
    client_ip VARCHAR
);

-- Buying roles set by users on stakeholders; they win over the imported CRM value.
CREATE TABLE stakeholder_roles (
    contact_id VARCHAR PRIMARY KEY,
    buying_role VARCHAR NOT NULL,
    set_by VARCHAR NOT NULL,
    set_at TIMESTAMP NOT NULL
);

-- Alerts acknowledged by a user (the alerts themselves are computed by the KAM build).
CREATE TABLE alert_acks (
    alert_id VARCHAR PRIMARY KEY,
    acked_by VARCHAR NOT NULL,
    acked_at TIMESTAMP NOT NULL,
    note VARCHAR
);
