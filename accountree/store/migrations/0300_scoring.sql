-- ICP scoring: the workspace's saved points grids and every trained fit model (user state, versioned).
-- A model is stored as JSON (feature encoding, coefficients, calibration): no pickle, readable, portable.

CREATE TABLE score_grids (
    version INTEGER PRIMARY KEY,
    saved_at TIMESTAMP NOT NULL,
    saved_by VARCHAR,
    name VARCHAR,
    grid_hash VARCHAR NOT NULL,
    grid_yaml VARCHAR NOT NULL
);

CREATE TABLE score_models (
    version INTEGER PRIMARY KEY,
    trained_at TIMESTAMP NOT NULL,
    trained_by VARCHAR,
    as_of DATE NOT NULL,
    grid_version INTEGER,
    data_hash VARCHAR NOT NULL,
    labelled BIGINT NOT NULL,
    positives BIGINT NOT NULL,
    definition VARCHAR NOT NULL,
    metrics VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    note VARCHAR
);
