-- accountree core schema: what a bundle imports. DuckDB dialect, transpiled per engine.
-- Every imported table keeps: extra columns as JSON `attributes`, a `row_hash` to tell
-- updated rows from unchanged ones, the `import_id` that last wrote the row, `updated_at`.

CREATE TABLE workspace_meta (key VARCHAR PRIMARY KEY, value VARCHAR);

CREATE TABLE accounts (
    account_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    parent_id VARCHAR,
    domain VARCHAR,
    website VARCHAR,
    country VARCHAR,
    city VARCHAR,
    industry VARCHAR,
    employees BIGINT,
    annual_revenue DOUBLE,
    currency VARCHAR,
    annual_revenue_rc DOUBLE,
    siren VARCHAR,
    siret VARCHAR,
    lei VARCHAR,
    duns VARCHAR,
    is_group_head BOOLEAN,
    technologies VARCHAR,
    owner VARCHAR,
    created_at DATE,
    source VARCHAR NOT NULL DEFAULT 'crm',
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP
);

CREATE TABLE relationships (
    child_id VARCHAR NOT NULL,
    parent_id VARCHAR NOT NULL,
    relation VARCHAR NOT NULL,
    ownership_pct DOUBLE,
    source VARCHAR NOT NULL DEFAULT 'crm',
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP,
    PRIMARY KEY (child_id, parent_id)
);

CREATE TABLE deals (
    deal_id VARCHAR PRIMARY KEY,
    account_id VARCHAR NOT NULL,
    seller_bu VARCHAR,
    product VARCHAR,
    stage VARCHAR NOT NULL,
    amount DOUBLE NOT NULL,
    gross_margin DOUBLE,
    currency VARCHAR,
    amount_rc DOUBLE,
    gross_margin_rc DOUBLE,
    created_at DATE,
    close_date DATE,
    owner VARCHAR,
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP
);

CREATE TABLE contacts (
    contact_id VARCHAR PRIMARY KEY,
    account_id VARCHAR NOT NULL,
    name VARCHAR,
    title VARCHAR,
    email VARCHAR,
    buying_role VARCHAR,
    reports_to VARCHAR,
    start_date DATE,
    end_date DATE,
    seller_bu VARCHAR,
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP
);

CREATE TABLE activities (
    activity_id VARCHAR PRIMARY KEY,
    account_id VARCHAR NOT NULL,
    "date" DATE NOT NULL,
    type VARCHAR NOT NULL,
    weight DOUBLE,
    topic VARCHAR,
    contact_id VARCHAR,
    seller_bu VARCHAR,
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP
);

CREATE TABLE products (
    product_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    family VARCHAR,
    seller_bu VARCHAR,
    list_price DOUBLE,
    currency VARCHAR,
    list_price_rc DOUBLE,
    margin_pct DOUBLE,
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP
);

CREATE TABLE seller_bus (
    bu_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    sales_cycle_days BIGINT,
    description VARCHAR,
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP
);

CREATE TABLE campaigns (
    campaign_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    seller_bu VARCHAR,
    channel VARCHAR,
    start_date DATE,
    end_date DATE,
    budget DOUBLE,
    currency VARCHAR,
    budget_rc DOUBLE,
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP
);

CREATE TABLE campaign_accounts (
    campaign_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP,
    PRIMARY KEY (campaign_id, account_id)
);

CREATE TABLE leads (
    lead_id VARCHAR PRIMARY KEY,
    name VARCHAR,
    email VARCHAR,
    company VARCHAR,
    domain VARCHAR,
    country VARCHAR,
    seller_bu VARCHAR,
    source VARCHAR,
    created_at DATE,
    account_id VARCHAR,
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP
);

CREATE TABLE fx_rates (
    currency VARCHAR PRIMARY KEY,
    rate DOUBLE NOT NULL,
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP
);

-- One row per imported file.
CREATE TABLE imports (
    import_id BIGINT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    imported_by VARCHAR,
    bundle VARCHAR,
    file VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    file_hash VARCHAR NOT NULL,
    preset VARCHAR,
    rows BIGINT NOT NULL,
    inserted BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    PRIMARY KEY (import_id, file, table_name)
);

-- Ids of merged duplicates: re-imports of an old id land on its survivor.
CREATE TABLE account_aliases (
    old_id VARCHAR PRIMARY KEY,
    survivor_id VARCHAR NOT NULL,
    merged_at TIMESTAMP,
    merged_by VARCHAR,
    reason VARCHAR
);
