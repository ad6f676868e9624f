-- The AE → CSM handover at signature (issue #21): what the AE passes on to the CSM who takes the
-- account over after a won deal, and the three-way meeting (AE, CSM, customer). A BU's record
-- (seller_bu: only that BU and corporate read it). The newest handover of a deal is its handover.
CREATE TABLE abm_handovers (
    handover_id VARCHAR PRIMARY KEY,
    deal_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    seller_bu VARCHAR,
    from_ae VARCHAR,
    to_csm VARCHAR NOT NULL,
    decision_context VARCHAR,
    value_objectives VARCHAR,
    stakeholders VARCHAR,
    commitments VARCHAR,
    meeting_at TIMESTAMP,
    meeting_customer VARCHAR,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
