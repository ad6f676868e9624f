-- Hierarchy decisions made by people, and their audit trail. DuckDB dialect, transpiled per engine.
-- manual_links is the current state (the build reads it); hierarchy_changes is append-only history.
-- action: 'link'   = child_id has parent parent_id (relation, ownership_pct as given);
--         'unlink' = child_id is NOT a child of parent_id, whatever a CRM or registry says;
--         'detach' = child_id has no parent at all (parent_id is NULL) unless linked manually.

CREATE TABLE manual_links (
    child_id VARCHAR NOT NULL,
    parent_id VARCHAR,
    action VARCHAR NOT NULL,
    relation VARCHAR,
    ownership_pct DOUBLE,
    note VARCHAR,
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE hierarchy_changes (
    change_id BIGINT PRIMARY KEY,
    changed_at TIMESTAMP NOT NULL,
    changed_by VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    child_id VARCHAR NOT NULL,
    parent_id VARCHAR,
    before VARCHAR,
    after VARCHAR,
    note VARCHAR
);
