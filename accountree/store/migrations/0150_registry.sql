-- Registry imports (accountree.registry): GLEIF, D&B and SIRENE records as published, with the
-- account each one attaches to. DuckDB dialect, transpiled per engine.
-- Registry records are the provenance of everything a registry adds to the accounts: a registry-only
-- account, an identifier filled on a CRM account, a parent link in `relationships`. Re-importing
-- a file upserts by key, so it changes nothing; history is in `imports` (table_name registry_<source>).

-- One row per registry record (ENTITY_SCHEMA of accountree.registry.schema) plus its attachment.
-- attach_method: lei | duns | siren | siret (matched an account by that identifier), alias (the
-- registry-only account was merged into another), head_office (a SIRENE siège: same legal entity
-- as its SIREN), created (a registry-only account), NULL (out of scope: not attached).
CREATE TABLE registry_entities (
    source VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    name VARCHAR,
    legal_form VARCHAR,
    country VARCHAR,
    city VARCHAR,
    postal_code VARCHAR,
    lei VARCHAR,
    duns VARCHAR,
    siren VARCHAR,
    siret VARCHAR,
    naf_code VARCHAR,
    headcount_band VARCHAR,
    is_head_office BOOLEAN,
    status VARCHAR,
    as_of DATE,
    account_id VARCHAR,
    attach_method VARCHAR,
    row_hash VARCHAR,
    import_id BIGINT,
    imported_at TIMESTAMP,
    PRIMARY KEY (source, source_id)
);

-- One row per registry link (LINK_SCHEMA). parent_key = coalesce(parent_source_id, '') so that a
-- GLEIF reporting exception (no parent) has a key too. child/parent_account_id: the accounts the
-- two ends attach to (NULL when an end is not attached).
CREATE TABLE registry_links (
    source VARCHAR NOT NULL,
    child_source_id VARCHAR NOT NULL,
    parent_source_id VARCHAR,
    parent_key VARCHAR NOT NULL,
    relation VARCHAR NOT NULL,
    is_ownership BOOLEAN NOT NULL,
    link_kind VARCHAR NOT NULL,
    ownership_pct DOUBLE,
    relationship_status VARCHAR,
    start_date DATE,
    end_date DATE,
    as_of DATE,
    exception_reason VARCHAR,
    child_account_id VARCHAR,
    parent_account_id VARCHAR,
    row_hash VARCHAR,
    import_id BIGINT,
    imported_at TIMESTAMP,
    PRIMARY KEY (source, child_source_id, parent_key, link_kind)
);

-- Ultimate-parent declarations checked against the direct chains, rebuilt per source at each
-- import. kind: completed (the chain stopped at an entity with no parent at all: an edge to the
-- declared ultimate was added), mismatch (the chain ends elsewhere), above_ultimate (the chain
-- goes on above the declared ultimate), cycle, reported_no_parent (a GLEIF reporting exception says
-- natural persons / no known person are above the entity while another source gives its account a
-- parent; computed_ultimate_id is that parent). *_id are account ids, *_source_id registry ids.
CREATE TABLE registry_discrepancies (
    source VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    child_id VARCHAR,
    declared_ultimate_id VARCHAR,
    computed_ultimate_id VARCHAR,
    child_source_id VARCHAR NOT NULL,
    declared_source_id VARCHAR,
    computed_source_id VARCHAR,
    link_kind VARCHAR,
    message VARCHAR NOT NULL,
    as_of DATE,
    import_id BIGINT
);

-- Identifiers a registry filled on accounts that had none (CRM values are never overwritten):
-- which value, from which record, when. Lets a user see (and undo) what a registry added.
CREATE TABLE registry_fills (
    account_id VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    as_of DATE,
    import_id BIGINT,
    filled_at TIMESTAMP,
    PRIMARY KEY (account_id, column_name)
);
