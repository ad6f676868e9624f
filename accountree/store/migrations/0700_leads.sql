-- Inbound leads (accountree.leads): accounts' extra domains, the review decisions on lead matches,
-- the round-robin pointers of routing pools and the routing log.

-- `;`-separated extra web / e-mail domains of an account: acquired brands, country sites, old names.
ALTER TABLE accounts ADD COLUMN domains VARCHAR;

-- A user's decision on a lead's match (review list): accept = this account, reject = never this one.
-- Remembered across runs: `accountree leads match` applies them before any evidence.
CREATE TABLE lead_match_decisions (
    lead_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    decision VARCHAR NOT NULL,
    decided_by VARCHAR,
    decided_at TIMESTAMP,
    PRIMARY KEY (lead_id, account_id)
);

-- Round-robin pools: how many leads each member of a pool has received (count-based rotation).
CREATE TABLE lead_pool_counts (
    pool VARCHAR NOT NULL,
    member VARCHAR NOT NULL,
    assigned BIGINT NOT NULL,
    PRIMARY KEY (pool, member)
);

-- The current route of each routed lead (one row per lead and BU): a routed lead is not routed
-- again unless asked (`accountree leads route --all`), so owners do not change under sellers' feet.
CREATE TABLE lead_routing (
    lead_id VARCHAR NOT NULL,
    seller_bu VARCHAR,
    owner VARCHAR,
    rule VARCHAR NOT NULL,
    reason VARCHAR,
    routed_at TIMESTAMP NOT NULL,
    sla_due_at TIMESTAMP,
    pool VARCHAR
);

-- Every routing decision ever made (append-only): `lead_routing` is the current picture.
CREATE TABLE lead_routing_log (
    lead_id VARCHAR NOT NULL,
    seller_bu VARCHAR,
    owner VARCHAR,
    rule VARCHAR NOT NULL,
    reason VARCHAR,
    routed_at TIMESTAMP NOT NULL,
    sla_due_at TIMESTAMP,
    routed_by VARCHAR
);

-- The accounts' names as the resolver's normaliser reads them, kept between runs (a typed company
-- is read against every account name): recomputed only for new or renamed accounts, and all of
-- them when the normaliser changes (workspace meta `leads_name_keys_version`).
CREATE TABLE lead_name_keys (
    account_id VARCHAR PRIMARY KEY,
    name VARCHAR,
    name_key VARCHAR
);
