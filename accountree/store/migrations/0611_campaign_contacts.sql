-- The contacts a campaign targets (bundle table `campaign_contacts`): campaigns of different BUs
-- on the same person within a few days are contact-level collisions (issue #21).
CREATE TABLE campaign_contacts (
    campaign_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    attributes JSON,
    row_hash VARCHAR,
    import_id BIGINT,
    updated_at TIMESTAMP,
    PRIMARY KEY (campaign_id, contact_id)
);
