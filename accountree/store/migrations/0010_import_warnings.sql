-- What an import did with values its optional columns could not read (accountree.ingest.report):
-- one row per file, column, value and action; `row` is the first spreadsheet row, `rows` how many.
-- Joins `imports` on (import_id, file, table_name).
CREATE TABLE import_warnings (
    import_id BIGINT NOT NULL,
    file VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    "row" BIGINT,
    "column" VARCHAR,
    value VARCHAR,
    expected VARCHAR,
    action VARCHAR NOT NULL,
    rows BIGINT NOT NULL
);
CREATE INDEX import_warnings_import ON import_warnings (import_id);
