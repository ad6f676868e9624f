"""`score train` on what users really have: their outcome (--target), their own fields, honest evaluation."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from accountree.cli import app
from accountree.errors import ConfigError
from accountree.scoring import explain, model_status, model_versions, score_workspace
from accountree.scoring import model as learn
from accountree.scoring.grid import parse_grid
from accountree.scoring.training import NotEnoughLabelsError, train_model
from accountree.scoring.versions import current_model, current_model_version
from tests.conftest import SHARED_DATA

AS_OF = date(2026, 11, 1)
FIXTURES = Path(__file__).parent / "fixtures"
TIERS = ["gold", "silver", "bronze", "none"]
TIER_RATE = {"gold": 0.55, "silver": 0.25, "bronze": 0.10, "none": 0.04}


def load_accounts(ws, n: int, seed: int, attributes, won_rate, dated: bool = True) -> None:
    """n accounts created over 2 years, standard fields pure noise, `attributes(i, rng)` as custom fields;
    account i converts (one won deal) with probability `won_rate(attrs)`."""
    rng = np.random.default_rng(seed)
    ids, attrs, won_ids, won_days = [], [], [], []
    start = AS_OF - timedelta(days=730)
    created = [start + timedelta(days=int(d)) for d in np.sort(rng.integers(0, 600, n))]
    for i in range(n):
        a = attributes(i, rng)
        ids.append(f"C{i:05d}")
        attrs.append(json.dumps(a))
        if rng.random() < won_rate(a):
            won_ids.append(ids[-1])
            won_days.append(min(AS_OF - timedelta(days=1), created[i] + timedelta(days=int(rng.integers(5, 60)))))
    ws.engine.insert_arrow("accounts", pa.table({
        "account_id": ids, "name": [f"Company {i}" for i in range(n)], "domain": [f"c{i}.example.com" for i in range(n)],
        "industry": rng.choice(["Software", "Retail", "Logistics", "Healthcare"], n).tolist(),
        "employees": rng.integers(5, 5000, n).tolist(),
        "country": rng.choice(["FR", "DE", "GB"], n).tolist(),
        "created_at": pa.array(created if dated else [None] * n, pa.date32()),
        "source": ["crm"] * n, "attributes": attrs,
    }))
    ws.engine.insert_arrow("deals", pa.table({
        "deal_id": [f"D{k}" for k in range(len(won_ids))], "account_id": won_ids, "stage": ["won"] * len(won_ids),
        "amount": [1000.0] * len(won_ids), "amount_rc": [1000.0] * len(won_ids),
        "close_date": pa.array(won_days, pa.date32()),
    }))


def tier_accounts(i: int, rng) -> dict:
    return {"partner_tier": str(rng.choice(TIERS, p=[0.15, 0.25, 0.3, 0.3])),
            "region": str(rng.choice(["north", "south", "east", "west"])), "nps": str(int(rng.integers(0, 11)))}


def tier_rate(a: dict) -> float:
    """Conversion from two custom fields only: the partner tier, and the NPS (0-10) as a weaker signal."""
    return min(0.95, TIER_RATE[a["partner_tier"]] * (0.4 + 0.12 * int(a["nps"])))


def test_only_a_custom_column_carries_the_signal(workspace):
    load_accounts(workspace, 1500, 1, tier_accounts, tier_rate)
    result = train_model(workspace, AS_OF, target="won")
    m = result["metrics"]
    assert result["kept"] and result["target"] == "won"
    assert m["importance"][0]["field"] == "partner_tier" and m["importance"][0]["auc_drop"] > 0.1
    assert m["importance"][1]["field"] == "nps"
    assert m["auc_model"] > 0.7 and m["auc_model"] > m["auc_grid"] + 0.1
    assert m["baseline_field"] == "partner_tier"
    assert model_versions(workspace)[0]["target"] == "won"
    # the model found it: gold partners score highest, and explain names the user's field
    model_row = current_model(workspace)
    assert model_row["model"]["fields"]["@partner_tier"] == "text"
    assert model_row["model"]["fields"]["@nps"] == "numeric"
    top = workspace.engine.scalar("SELECT account_id FROM scores ORDER BY model_score DESC, account_id LIMIT 1")
    assert json.loads(workspace.engine.scalar("SELECT CAST(attributes AS VARCHAR) FROM accounts WHERE account_id = ?",
                                              [top]))["partner_tier"] == "gold"
    why = explain(workspace, top)["model"]
    assert why["top_positive"][0]["feature"] == "partner_tier = gold"


def test_linear_model_in_sql_matches_numpy_with_custom_fields(workspace):
    """Target-encoded, numeric-attribute and list-attribute fields compiled to SQL give numpy's scores."""
    def attributes(i, rng):
        a = tier_accounts(i, rng)
        a["landing_page"] = f"p{int(rng.zipf(1.3)) % 90}"
        a["products"] = ";".join(sorted(set(rng.choice(["crm", "erp", "bi", "hr"], int(rng.integers(0, 3))))))
        a["revenue_band"] = "" if rng.random() < 0.2 else str(round(float(rng.lognormal(10, 1)), 2))
        return a

    load_accounts(workspace, 1200, 2, attributes, tier_rate)
    train_model(workspace, AS_OF, target="won", learners=("linear",))
    model = current_model(workspace)["model"]
    kinds = {f["kind"] for f in model["features"]}
    assert {"te", "uses", "num", "missing", "equals"} <= kinds
    assert model["fields"]["@products"] == "multi" and model["fields"]["@revenue_band"] == "numeric"
    from accountree.scoring.service import model_inputs_query

    inputs = workspace.engine.fetch_arrow(model_inputs_query(model).order_by("account_id"))
    expected = dict(zip(inputs.column("account_id").to_pylist(), np.round(learn.predict(model, inputs) * 100, 2),
                        strict=True))
    got = dict(workspace.engine.fetchall("SELECT account_id, model_score FROM score_model WHERE model_score IS NOT NULL"))
    assert len(got) > 1000
    assert np.allclose([got[k] for k in got], [expected[k] for k in got], atol=0.011)


def test_tree_model_scores_in_arrow_batches(workspace, monkeypatch):
    from accountree.scoring import service

    def interaction(a: dict) -> float:  # no single field tells it: trees beat the one-field baseline
        hit = (a["partner_tier"], a["region"]) in {("gold", "north"), ("none", "south"), ("silver", "east")}
        return 0.6 if hit else 0.06

    load_accounts(workspace, 1500, 3, tier_accounts, interaction)
    monkeypatch.setattr(service, "TREE_BATCH_ROWS", 128)  # several batches
    assert train_model(workspace, AS_OF, target="won", learners=("trees",))["kept"]
    model = current_model(workspace)["model"]
    assert model["kind"] == "hist_gradient_boosting+platt" and len(model["trees"]["trees"]) > 5
    inputs = workspace.engine.fetch_arrow(service.model_inputs_query(model))
    expected = dict(zip(inputs.column("account_id").to_pylist(), np.round(learn.predict(model, inputs) * 100, 2),
                        strict=True))
    got = dict(workspace.engine.fetchall("SELECT account_id, model_score FROM score_model WHERE model_score IS NOT NULL"))
    assert len(got) > 900 and not workspace.engine.table_exists("score_model_raw")
    assert np.allclose([got[k] for k in got], [expected[k] for k in got], atol=0.011)
    why = explain(workspace, next(iter(got)))["model"]
    assert why["method"] == "field occlusion (leave-one-field-out)"


def test_leaky_fields_are_excluded_with_their_message(duckdb_workspace):
    state: dict = {}

    def attributes(i, rng):
        a = tier_accounts(i, rng)
        state[i] = a
        return a

    def rate(a):
        return tier_rate(a)

    load_accounts(duckdb_workspace, 1500, 4, attributes, rate)
    won = {r[0] for r in duckdb_workspace.engine.fetchall("SELECT account_id FROM deals")}
    rng = np.random.default_rng(0)
    for i in range(1500):  # what sales write after the outcome
        a, key = state[i], f"C{i:05d}"
        if key in won:
            a["close_reason"] = str(rng.choice(["price", "fit", "champion"]))
        a["sales_grade"] = ("hot" if key in won else "cold") if rng.random() > 0.03 else "warm"
        duckdb_workspace.engine.execute("UPDATE accounts SET attributes = ? WHERE account_id = ?", [json.dumps(a), key])
    result = train_model(duckdb_workspace, AS_OF, target="won")
    reasons = {e["field"]: e["reason"] for e in result["excluded"]}
    assert reasons["close_reason"].startswith("filled for 100% of the positives but 0% of the others")
    assert reasons["sales_grade"].startswith("predicts the outcome almost alone (AUC ")
    fields = current_model(duckdb_workspace)["model"]["fields"]
    assert "@close_reason" not in fields and "@sales_grade" not in fields and "@partner_tier" in fields
    again = train_model(duckdb_workspace, AS_OF, target="won", include=("sales_grade",), exclude=("region",))
    reasons = {e["field"]: e["reason"] for e in again["excluded"]}
    assert "sales_grade" not in reasons and reasons["region"] == "excluded with --exclude"
    assert again["metrics"]["importance"][0]["field"] == "sales_grade"


def test_time_based_holdout_is_the_default(duckdb_workspace):
    load_accounts(duckdb_workspace, 1000, 5, tier_accounts, tier_rate)
    m = train_model(duckdb_workspace, AS_OF, target="won")["metrics"]
    assert m["split"] == "time"
    later = duckdb_workspace.engine.scalar("SELECT count(*) FROM accounts WHERE created_at >= ?", [m["test_from"]])
    assert abs(later - m["holdout_rows"]) <= 10  # the test rows are the latest accounts (ties at the boundary aside)
    assert model_versions(duckdb_workspace)[0]["metrics"]["split"] == "time"
    duckdb_workspace.engine.execute("UPDATE accounts SET created_at = NULL")
    m = train_model(duckdb_workspace, AS_OF, target="won")["metrics"]
    assert m["split"] == "random" and "created_at" in m["note"]
    with pytest.raises(NotEnoughLabelsError, match="no time-based hold-out possible"):
        train_model(duckdb_workspace, AS_OF, target="won", split="time")


def test_won_target_leaves_out_accounts_too_recent_to_have_converted(duckdb_workspace):
    load_accounts(duckdb_workspace, 800, 6, tier_accounts, tier_rate)
    duckdb_workspace.engine.execute("UPDATE accounts SET created_at = ? WHERE account_id IN ('C00001', 'C00002')",
                                    [AS_OF - timedelta(days=3)])
    result = train_model(duckdb_workspace, AS_OF, target="won")
    d = result["definition"]
    assert 20 <= d["horizon_days"] <= 80 and d["too_recent"] >= 2
    assert result["labelled"] == 800 - d["too_recent"]


def test_custom_rule_target_and_model_rejected_when_the_grid_wins(duckdb_workspace):
    def attributes(i, rng):
        a = tier_accounts(i, rng)
        a["Converted"] = "1" if rng.random() < tier_rate(a) else "0"
        return a

    load_accounts(duckdb_workspace, 1000, 7, attributes, lambda a: 0.0)
    first = train_model(duckdb_workspace, AS_OF, target="Converted = 1")
    assert first["kept"] and {"field": "Converted", "reason": "defines the target"} in first["excluded"]
    assert first["positives"] == duckdb_workspace.engine.scalar(
        "SELECT count(*) FROM accounts WHERE json_extract_string(attributes, '$.Converted') = '1'")
    with pytest.raises(ConfigError, match="unknown field 'Convertd'"):
        train_model(duckdb_workspace, AS_OF, target="Convertd = 1")
    # a grid that is the outcome itself: no model can beat it -> stored as rejected, v1 stays in use
    grid = parse_grid("""
pillars:
  firmographic:
    weight: 1
    criteria:
      - {name: industry, field: industry, rules: [{in: [Software], points: 100}]}
require_domain: false
""", "test grid")
    second = train_model(duckdb_workspace, AS_OF, grid=grid, target="industry = 'software'")
    assert not second["kept"] and second["metrics"]["auc_grid"] == 1.0
    assert "does not beat the grid" in second["warnings"][-1] and "model v1 stays in use" in second["warnings"][-1]
    assert current_model_version(duckdb_workspace) == 1
    assert [(v["version"], v["status"], v["current"]) for v in model_versions(duckdb_workspace)] == [
        (2, "rejected", False), (1, "kept", True)]


def test_status_warns_when_the_data_drifted(duckdb_workspace):
    load_accounts(duckdb_workspace, 1000, 8, tier_accounts, tier_rate)
    train_model(duckdb_workspace, AS_OF, target="won")
    calm = model_status(duckdb_workspace)
    assert not calm["drifted"] and calm["warning"] is None
    assert any(d["field"] == "partner_tier" and d["psi"] < 0.05 for d in calm["drift"])
    duckdb_workspace.engine.execute(
        "UPDATE accounts SET attributes = json_object('partner_tier', 'gold', 'region', 'north', 'nps', '3')")
    score_workspace(duckdb_workspace, AS_OF)
    moved = model_status(duckdb_workspace)
    assert moved["drifted"] and "the data drifted since training" in moved["warning"] and "partner_tier" in moved["warning"]


def _import(ws_path: str, bundle: list[str], mapping: Path) -> None:
    result = CliRunner().invoke(app, ["import", *bundle, "--mapping", str(mapping), "-w", ws_path])
    assert result.exit_code == 0, result.output


def test_funnel_fixture_conversion_fit(tmp_path):
    """The committed funnel (8,000 leads, 842 won, channel + landing page, no margins, 11 months)."""
    from accountree.store import open_workspace

    location = str(tmp_path / "funnel.duckdb")
    funnel = FIXTURES / "funnel"
    _import(location, [f"accounts={funnel / 'leads.csv'}", f"deals={funnel / 'closed_deals.csv'}"], funnel / "mapping.yaml")
    ws = open_workspace(location)
    try:
        as_of = date(2026, 5, 1)
        with pytest.raises(NotEnoughLabelsError, match=r"only 0 best customers among \d+ customers \(no won deal of the last 3 years has a gross margin\)") as info:
            train_model(ws, as_of)
        assert "--target won" in info.value.hint
        result = train_model(ws, as_of, target="won")
        m = result["metrics"]
        assert result["kept"] and m["split"] == "time"
        assert {e["field"] for e in result["excluded"] if "filled for" in e["reason"]} == {
            "business_segment", "lead_type", "sr_id"}
        assert m["auc_model"] > m["auc_baseline"] > m["auc_grid"]
        assert {r["field"] for r in m["importance"][:2]} == {"origin", "landing_page_id"}
        assert any(f["kind"] == "te" and f["source"] == "@landing_page_id" for f in current_model(ws)["model"]["features"])
        # `score init` on such data: conversion fit, and no domain needed to get a score
        from accountree.scoring.starter import starter_grid

        grid = parse_grid(starter_grid(ws), "starter")
        assert grid.model.target == "won" and grid.require_domain is False
    finally:
        ws.close()


LEADS = SHARED_DATA / "x-education-lead-scoring" / "Leads.csv"
SALES_JUDGEMENTS = ("Tags", "Lead Quality", "Asymmetrique Activity Index", "Asymmetrique Profile Index",
                    "Asymmetrique Activity Score", "Asymmetrique Profile Score")


@pytest.mark.skipif(not LEADS.exists(), reason=f"X Education lead data not present at {LEADS} (not committable)")
def test_real_leads_imported_as_a_user_would(tmp_path):
    """X Education leads: imported with a mapping (one lead = one account), trained on `Converted = 1`."""
    from accountree.store import open_workspace

    mapping = tmp_path / "mapping.yaml"
    mapping.write_text('tables:\n  accounts:\n    files: ["Leads.csv"]\n    columns: {account_id: Prospect ID, '
                       'name: Lead Number}\n    values:\n      country: {"Asia/Pacific Region": ""}\n', encoding="utf-8")
    location = str(tmp_path / "x.duckdb")
    _import(location, [f"accounts={LEADS}"], mapping)
    ws = open_workspace(location)
    try:
        honest = train_model(ws, target="Converted = 1", exclude=SALES_JUDGEMENTS)
        m = honest["metrics"]
        assert honest["positives"] == 3561 and honest["labelled"] == 9240 and m["split"] == "random"
        assert honest["kept"] and m["auc_model"] > 0.9 and m["auc_model"] > m["auc_baseline"] > m["auc_grid"] == 0.5
        assert m["brier"] < 0.12
        used = current_model(ws)["model"]["fields"]
        assert "@Tags" not in used and "@Converted" not in used and "@Total Time Spent on Website" in used
        assert used["@Total Time Spent on Website"] == "numeric"
    finally:
        ws.close()


def test_cli_train_target_models_and_status(tmp_path):
    """`score train --target won --exclude …`, then `score models` and `score status` show the target."""
    from accountree.store import open_workspace

    location = str(tmp_path / "cli.duckdb")
    ws = open_workspace(location)
    try:
        load_accounts(ws, 900, 9, tier_accounts, tier_rate)
    finally:
        ws.close()
    runner = CliRunner()
    result = runner.invoke(app, ["score", "train", "--target", "won", "--exclude", "region", "--as-of", AS_OF.isoformat(),
                                 "-w", location, "--json"])
    assert result.exit_code == 0, result.output
    trained = json.loads(result.output)
    assert trained["target"] == "won" and {"field": "region", "reason": "excluded with --exclude"} in trained["excluded"]
    models = json.loads(runner.invoke(app, ["score", "models", "-w", location, "--json"]).output)
    assert models[0]["target"] == "won" and models[0]["status"] in ("kept", "rejected")
    assert {"auc_model", "auc_grid", "auc_baseline", "precision_top_grade_model", "precision_top_grade_grid",
            "precision_top_grade_baseline"} <= set(models[0]["metrics"])
    table = runner.invoke(app, ["score", "models", "-w", location], env={"COLUMNS": "200"}).output
    assert "won" in table and "time" in table
    bad = runner.invoke(app, ["score", "train", "--target", "won = = 1", "-w", location])
    assert bad.exit_code != 0 and "Traceback" not in bad.output and "--target" in bad.output
