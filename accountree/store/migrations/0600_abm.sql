-- Multi-BU ABM orchestration: what users decide (lead-BU arbitrations, strategic marks, conflict
-- states, substitute products, account-team members) and the BUs' private ABM records (notes on
-- conflicts, account plans). The `abm` build stage computes everything else.

-- Manual lead-BU arbitrations. The newest decision not undone wins over the rule.
-- scope: 'account' or 'group' (account_id is then the group head).
CREATE TABLE abm_lead_bu_decisions (
    decision_id VARCHAR PRIMARY KEY,
    scope VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    lead_bu VARCHAR NOT NULL,
    previous_lead_bu VARCHAR,
    why VARCHAR NOT NULL,
    decided_by VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    undone_by VARCHAR,
    undone_at TIMESTAMP
);

-- Accounts (or groups) a user marks strategic: they get a lead BU and the group_strategic class.
CREATE TABLE abm_strategic_marks (
    scope VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    why VARCHAR,
    marked_by VARCHAR NOT NULL,
    marked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, account_id)
);

-- Escalation state of a conflict, by its stable id (kind + account + contact + BUs).
CREATE TABLE abm_conflict_states (
    conflict_id VARCHAR PRIMARY KEY,
    state VARCHAR NOT NULL,
    changed_by VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL
);

-- Every state change (who, when, from, to).
CREATE TABLE abm_conflict_state_log (
    conflict_id VARCHAR NOT NULL,
    previous_state VARCHAR,
    state VARCHAR NOT NULL,
    changed_by VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL
);

-- When a conflict was first detected (kept across builds).
CREATE TABLE abm_conflict_seen (
    conflict_id VARCHAR PRIMARY KEY,
    first_seen DATE NOT NULL
);

-- A BU's private notes on a conflict (seller_bu: only that BU and corporate read them).
CREATE TABLE abm_conflict_notes (
    note_id VARCHAR PRIMARY KEY,
    conflict_id VARCHAR NOT NULL,
    seller_bu VARCHAR NOT NULL,
    note VARCHAR NOT NULL,
    written_by VARCHAR NOT NULL,
    written_at TIMESTAMP NOT NULL
);

-- A BU's private account plan (campaign plans, objectives).
CREATE TABLE abm_plans (
    plan_id VARCHAR PRIMARY KEY,
    account_id VARCHAR NOT NULL,
    seller_bu VARCHAR NOT NULL,
    plan VARCHAR NOT NULL,
    written_by VARCHAR NOT NULL,
    written_at TIMESTAMP NOT NULL
);

-- Products that compete with each other (stored once per pair, product_a < product_b).
CREATE TABLE abm_substitutes (
    product_a VARCHAR NOT NULL,
    product_b VARCHAR NOT NULL,
    marked_by VARCHAR NOT NULL,
    marked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (product_a, product_b)
);

-- Account-team members set by users or files; they win over members derived from owners.
-- member_bu (not seller_bu): a team is shared with every BU of the account.
CREATE TABLE abm_team_members (
    account_id VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    member VARCHAR NOT NULL,
    member_bu VARCHAR,
    set_by VARCHAR NOT NULL,
    set_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, role, member)
);
