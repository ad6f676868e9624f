-- Key-account units. By default the KAM unit is the customer group (its head); an entity designated
-- here (`accountree kam designate ACCOUNT_ID`) is managed as its own unit with its subtree.
CREATE TABLE kam_designations (
    account_id VARCHAR PRIMARY KEY,
    designated_by VARCHAR,
    designated_at TIMESTAMP
);
