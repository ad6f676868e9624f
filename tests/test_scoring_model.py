"""The learned fit model: finds a planted pattern the grid misses, refuses too few labels, is versioned."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest

from accountree.scoring import explain, model_status, model_versions, score_workspace, synthetic, use_model
from accountree.scoring import model as learn
from accountree.scoring.training import NotEnoughLabelsError, train_model

AS_OF = date(2026, 11, 1)


def test_model_learns_planted_pattern_and_beats_grid(workspace):
    synthetic.load(workspace, 2500, seed=3, as_of=AS_OF)
    result = train_model(workspace, AS_OF)
    m = result["metrics"]
    assert result["labelled"] >= 2400 and result["positives"] >= 100
    assert m["auc_model"] > 0.85 and m["auc_grid"] < 0.65 and m["auc_model"] > m["auc_grid"] + 0.25
    assert m["precision_top_decile_model"] > 3 * m["precision_top_decile_grid"]
    assert m["cv_folds"] == 5 and 0 < m["cv_auc_std"] < 0.1
    assert any("below-median gross margin" in w for w in result["warnings"])
    # scores say which model made them, grades come from the model (quantiles), reasons explain it
    row = workspace.engine.fetch_dicts("SELECT * FROM scores WHERE account_id = 'A7'")[0]
    assert row["model_version"] == 1 and row["graded_on"] == "model" and row["model_score"] is not None
    grades = dict(workspace.engine.fetchall("SELECT grade, count(*) FROM scores WHERE grade IS NOT NULL GROUP BY grade"))
    assert grades["A"] == pytest.approx(0.10 * sum(grades.values()), rel=0.1)
    top = workspace.engine.scalar("SELECT account_id FROM scores ORDER BY model_score DESC LIMIT 1")
    why = explain(workspace, top)["model"]
    assert {r["feature"] for r in why["top_positive"]} & {"uses snowflake", "industry = logistics", "country = de"}


def test_versions_rollback_and_age(workspace):
    synthetic.load(workspace, 600, seed=5, as_of=AS_OF)
    first = train_model(workspace, AS_OF, note="first")
    second = train_model(workspace, AS_OF)
    assert (first["model_version"], second["model_version"]) == (1, 2)
    versions = model_versions(workspace)
    assert [v["version"] for v in versions] == [2, 1] and versions[0]["current"]
    assert versions[1]["note"] == "first" and versions[1]["metrics"]["auc_model"] is not None
    assert versions[0]["data_hash"] == versions[1]["data_hash"]  # same data, same snapshot hash
    use_model(workspace, 1)
    score_workspace(workspace, AS_OF)
    assert workspace.engine.scalar("SELECT max(model_version) FROM scores") == 1
    use_model(workspace, None)
    score_workspace(workspace, AS_OF)
    assert workspace.engine.scalar("SELECT count(model_score) FROM scores") == 0
    use_model(workspace, 2)
    assert model_status(workspace, date.today() + timedelta(days=30))["stale"] is False
    old = model_status(workspace, date.today() + timedelta(days=200))
    assert old["stale"] and "retrain" in old["warning"]


def test_added_after_training_is_explained(workspace):
    synthetic.load(workspace, 400, seed=9, as_of=AS_OF)
    train_model(workspace, AS_OF)
    tomorrow = date.today() + timedelta(days=1)
    workspace.engine.execute(
        "INSERT INTO accounts (account_id, name, domain, industry, employees, created_at, source) "
        "VALUES ('NEW', 'New Co', 'newco.example.com', 'Logistics', 800, ?, 'crm')", [tomorrow])
    score_workspace(workspace, AS_OF)
    row = workspace.engine.fetch_dicts("SELECT * FROM scores WHERE account_id = 'NEW'")[0]
    assert row["model_score"] is None and row["grid_score"] is not None and row["graded_on"] == "grid"
    assert row["unscored_reason"].startswith("no model score: added after the last model training")


def test_too_few_labels_says_how_many_are_missing(duckdb_workspace):
    synthetic.load(duckdb_workspace, 150, seed=1, as_of=AS_OF)
    with pytest.raises(NotEnoughLabelsError) as info:
        train_model(duckdb_workspace, AS_OF)
    # an account without a domain is still a training example: every account counts, positives and negatives said
    labelled = duckdb_workspace.engine.scalar("SELECT count(*) FROM score_features")
    assert duckdb_workspace.engine.scalar("SELECT count(*) FROM score_features WHERE domain_issue IS NOT NULL") > 0
    assert f"only {labelled} labelled accounts (" in info.value.message
    assert " positives, " in info.value.message and " negatives)" in info.value.message
    assert f"{200 - labelled} more are needed (at least 200)" in info.value.message
    assert duckdb_workspace.engine.scalar("SELECT count(*) FROM score_models") == 0


def test_too_few_best_customers(duckdb_workspace):
    synthetic.load(duckdb_workspace, 300, seed=1, as_of=AS_OF)
    duckdb_workspace.engine.execute("DELETE FROM deals WHERE account_id NOT IN ('A1', 'A2', 'A3', 'A4', 'A5')")
    with pytest.raises(NotEnoughLabelsError, match=r"best customers among \d+ customers; \d+ more are needed"):
        train_model(duckdb_workspace, AS_OF)


def test_small_sample_trains_with_a_warning(duckdb_workspace):
    synthetic.load(duckdb_workspace, 260, seed=2, as_of=AS_OF)
    result = train_model(duckdb_workspace, AS_OF)
    assert any(w.startswith("small sample") for w in result["warnings"])
    assert result["metrics"]["auc_model"] is not None and result["metrics"]["cv_folds"] >= 2


def test_model_is_json_and_predicts_the_same_after_a_round_trip():
    from accountree.scoring.fields import Field

    tables = synthetic.generate(800, seed=4, as_of=AS_OF)
    acc = tables["accounts"]
    features = pa.table({
        "industry": pa.compute.utf8_lower(acc["industry"]), "employees": pa.compute.cast(acc["employees"], pa.float64()),
        "technologies": pa.array([None if t is None else ";" + t.lower().replace("; ", ";") + ";"
                                  for t in acc["technologies"].to_pylist()]),
    })
    fields = [Field("industry", "standard", "text"), Field("employees", "standard", "numeric"),
              Field("technologies", "standard", "multi")]
    y = np.isin(acc["industry"].to_numpy(zero_copy_only=False), ["Logistics"]).astype(np.int8)
    for learner in ("linear", "trees"):
        spec = learn.encoding(features, fields)
        x = learn.fit_design(features, spec, y)
        model = {"features": spec, **learn.fit(x, y, learner)}
        again = json.loads(json.dumps(model))
        assert np.allclose(learn.predict(model, features), learn.predict(again, features))
        assert learn.roc_auc(y, learn.predict(again, features)) > 0.99


def test_tree_json_traversal_matches_scikit_learn():
    """The trees copied out of HistGradientBoostingClassifier give scikit-learn's own raw scores."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 6))
    y = ((x[:, 0] > 0.3) ^ (x[:, 2] * x[:, 4] > 0.5) | (rng.random(3000) < 0.1)).astype(int)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        fitted = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, random_state=0).fit(x, y)
    ours = learn.raw_score({"trees": json.loads(json.dumps(learn._trees_json(fitted)))}, x)
    assert np.allclose(ours, fitted.decision_function(x), atol=1e-9)


def test_sql_inference_matches_numpy(workspace):
    """The model compiled to SQL (what scores 1M accounts in place) gives numpy's probabilities."""
    synthetic.load(workspace, 700, seed=11, as_of=AS_OF)
    workspace.engine.execute("UPDATE accounts SET employees = NULL, technologies = NULL WHERE account_id IN ('A1', 'A2')")
    train_model(workspace, AS_OF)
    from accountree.scoring.versions import current_model

    model = current_model(workspace)["model"]
    features = workspace.engine.fetch_arrow("SELECT * FROM score_features ORDER BY account_id")
    expected = np.round(learn.predict(model, features) * 100, 2)
    got = dict(workspace.engine.fetchall("SELECT account_id, model_score FROM score_model"))
    ids = features.column("account_id").to_pylist()
    issues = features.column("domain_issue").to_pylist()
    pairs = [(got[i], e) for i, e, issue in zip(ids, expected, issues, strict=True) if issue is None]
    assert len(pairs) > 600
    assert np.allclose([g for g, _ in pairs], [e for _, e in pairs], atol=0.011)


def test_a_model_stored_before_user_fields_still_scores_and_explains(workspace):
    """Models of the first format (standard fields only, no `fields` map) keep working after the upgrade."""
    from accountree.scoring.versions import add_model

    synthetic.load(workspace, 300, seed=12, as_of=AS_OF)
    old = {"kind": "logistic_regression+platt", "intercept": -1.0, "calibration": {"slope": 1.0, "offset": 0.0},
           "features": [{"kind": "log", "source": "employees", "label": "employees (log)", "fill": 5.0, "mean": 5.0, "std": 1.5},
                        {"kind": "equals", "source": "industry", "value": "logistics", "label": "industry = logistics",
                         "fill": 0.1, "mean": 0.1, "std": 0.3},
                        {"kind": "uses", "source": "technologies", "value": "snowflake", "label": "uses snowflake",
                         "fill": 0.2, "mean": 0.2, "std": 0.4}],
           "coef": [0.5, 1.0, 0.8]}
    add_model(workspace, as_of=AS_OF, grid_version=None, data_hash="old", labelled=300, positives=30,
              definition={}, metrics={"auc_model": 0.8}, model=old)
    score_workspace(workspace, AS_OF)
    from accountree.scoring.service import model_inputs_query

    inputs = workspace.engine.fetch_arrow(model_inputs_query(old))
    expected = dict(zip(inputs.column("account_id").to_pylist(), np.round(learn.predict(old, inputs) * 100, 2), strict=True))
    got = dict(workspace.engine.fetchall("SELECT account_id, model_score FROM score_model WHERE model_score IS NOT NULL"))
    assert len(got) > 250 and np.allclose([got[k] for k in got], [expected[k] for k in got], atol=0.011)
    logistics = workspace.engine.scalar(
        "SELECT s.account_id FROM scores s JOIN accounts a USING (account_id) WHERE lower(a.industry) = 'logistics' "
        "AND s.model_score IS NOT NULL ORDER BY s.account_id LIMIT 1")
    assert "industry = logistics" in {r["feature"] for r in explain(workspace, logistics)["model"]["top_positive"]}
    assert model_status(workspace)["drift"] == []
