-- Key-account management: what users edit (MEDDIC, buying roles, acknowledgements) and what the
-- KAM build remembers from the previous build to detect changes (org changes, stage changes).

-- MEDDIC per opportunity. Rows come from deal attributes at build time (source 'import') and are
-- edited by users (source 'user'); a user edit is never overwritten by a rebuild.
CREATE TABLE meddic (
    deal_id VARCHAR PRIMARY KEY,
    metrics VARCHAR,
    economic_buyer VARCHAR,
    decision_criteria VARCHAR,
    decision_process VARCHAR,
    identify_pain VARCHAR,
    champion VARCHAR,
    source VARCHAR NOT NULL DEFAULT 'import',
    updated_by VARCHAR,
    updated_at TIMESTAMP
);

-- Buying roles set by users in accountree; they override contacts.buying_role from the CRM.
CREATE TABLE kam_contact_roles (
    contact_id VARCHAR PRIMARY KEY,
    buying_role VARCHAR NOT NULL,
    set_by VARCHAR,
    set_at TIMESTAMP
);

-- Acknowledged alerts, by stable alert id (kind + account + subject): survives rebuilds.
CREATE TABLE kam_alert_acks (
    alert_id VARCHAR PRIMARY KEY,
    acknowledged_by VARCHAR,
    acknowledged_at TIMESTAMP
);

-- The previous build's picture, diffed by the next build.
CREATE TABLE kam_snapshot_contacts (
    contact_id VARCHAR PRIMARY KEY,
    account_id VARCHAR,
    title VARCHAR,
    buying_role VARCHAR,
    end_date DATE,
    snapshot_at DATE
);

CREATE TABLE kam_snapshot_parents (
    account_id VARCHAR PRIMARY KEY,
    parent_id VARCHAR,
    group_head_id VARCHAR,
    snapshot_at DATE
);

-- Stage of each deal and since when it has been in that stage, as seen by successive builds.
CREATE TABLE kam_deal_stages (
    deal_id VARCHAR PRIMARY KEY,
    stage VARCHAR,
    since DATE
);
