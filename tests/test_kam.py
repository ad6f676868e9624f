"""KAM on the hand-made Thales bundle, on DuckDB and PostgreSQL: potential, tiers, matrix,
coverage, KPIs, exports. Numbers worked out by hand in the comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from accountree.exports import export_query
from accountree.kam import coverage, kam_view, matrix
from accountree.kam.settings import set_setting
from tests.test_kam_fixtures import ACCOUNTS, build, load, row

pytest_plugins = ("tests.test_kam_fixtures",)  # the module-scoped `built_ws` fixture


@pytest.fixture
def kam_ws(workspace, tmp_path: Path):
    load(workspace, tmp_path / "bundle")
    build(workspace)
    return workspace


def test_potential_tiers_and_group_roll_up(built_ws) -> None:
    tas = row(built_ws, "TAS")
    assert (tas["potential_3y"], tas["potential_source"], tas["tier"]) == (600_000, "field", 1)
    g1 = row(built_ws, "G1")  # no field, no wallet: 3 years of this year's 100 000; its group's tier (the KAM unit's)
    assert (g1["potential_3y"], g1["potential_source"], g1["tier"], g1["kam_tier"]) == (300_000, "run_rate", 1, 1)
    assert (g1["kam_unit"], g1["kam_unit_id"], tas["kam_unit_id"]) == (False, "G1", "G1")
    acme = row(built_ws, "ACME")
    assert (acme["potential_3y"], acme["tier"], acme["kam_unit"]) == (150_000, 2, True)  # a standalone customer: its own unit
    assert row(built_ws, "LONE")["tier"] == 3
    group = row(built_ws, "G1", "group")  # 300 000 + 600 000 + 0
    assert (group["potential_3y"], group["tier"], group["potential_source"]) == (900_000, 1, "members:field+run_rate")
    assert (group["entities_penetrated"], group["entities_total"]) == (1, 3)
    assert group["nrr"] == pytest.approx(1.25)  # 100 000 / 80 000
    assert group["retention"] == pytest.approx(1.0)  # min(100k, 80k) / 80k
    assert (g1["entities_penetrated"], g1["entities_total"]) == (1, 3)  # G1's subtree
    assert acme["nrr"] == pytest.approx(0.5) and acme["retention"] == pytest.approx(0.5)
    assert acme["share_of_wallet"] is None  # no wallet without the KPI stage


def test_effort_and_quadrants(built_ws) -> None:
    tas = row(built_ws, "TAS")
    # cycle unknown 0.5, 3 open deals of 5 = 0.6, 3 of 5 committee roles missing = 0.6, ICP unknown 0.5
    assert tas["effort"] == pytest.approx(0.55)
    assert tas["roles_missing"] == "economic_buyer,champion,user"
    assert tas["quadrant"] == "reinforce" and "pre-sales" in tas["recommendation"]
    g1 = row(built_ws, "G1")  # won cycles 59 and 142 days (mean 100.5 / 540), no open deal, no contact, ICP unknown
    assert g1["effort"] == pytest.approx((100.5 / 540 + 0 + 1 + 0.5) / 4, abs=1e-4)
    assert g1["quadrant"] == "automate"
    result = matrix(built_ws)
    assert result["quadrants"]["reinforce"]["accounts"][0]["account_id"] == "TAS"
    assert sum(q["count"] for q in result["quadrants"].values()) == 5
    group = row(built_ws, "G1", "group")  # same cycle, 4 open deals of 5, 3 roles missing, ICP unknown
    assert group["effort"] == pytest.approx((100.5 / 540 + 0.8 + 0.6 + 0.5) / 4, abs=1e-4)
    assert matrix(built_ws, "group")["quadrants"]["reinforce"]["count"] == 1  # 900 k potential, effort 0.52


def test_thresholds_are_settings_in_reporting_currency(kam_ws) -> None:
    set_setting(kam_ws, "tier1_threshold", "1000000")
    set_setting(kam_ws, "tier2_threshold", "200000")
    build(kam_ws)
    assert row(kam_ws, "TAS")["tier"] == 2 and row(kam_ws, "ACME")["tier"] == 3
    from accountree.errors import ConfigError

    with pytest.raises(ConfigError):
        set_setting(kam_ws, "tier2_threshold", "2000000")
    with pytest.raises(ConfigError):
        set_setting(kam_ws, "no_such_setting", "1")


def test_coverage_per_owner(kam_ws, tmp_path: Path) -> None:
    report = coverage(kam_ws)
    owners = {o["owner"]: o for o in report["owners"]}
    # KAM units, not entities: alice owns the Thales group (G1's owner; Tier 1), bob ACME (Tier 2);
    # SUB, bob's entity inside the Thales group, is part of alice's key account, not one of bob's
    assert (owners["alice"]["strategic"], owners["alice"]["midmarket"], owners["alice"]["smb"]) == (1, 0, 0)
    assert (owners["bob"]["strategic"], owners["bob"]["midmarket"], owners["bob"]["smb"]) == (0, 1, 0)
    assert report["uncovered"]["accounts"] == 0  # LONE has no owner but is a cold prospect
    assert owners["alice"]["status"] == "light"  # 1/3 of the low end of the ratios
    set_setting(kam_ws, "strategic_max", "0.5")  # one strategic account is now more than an AE can carry
    assert coverage(kam_ws)["overloaded"] == ["alice"]
    load(kam_ws, tmp_path / "no_owner", accounts=ACCOUNTS.replace("G1,Thales,,true,alice", "G1,Thales,,true,"))
    build(kam_ws)
    report = coverage(kam_ws)
    assert report["uncovered"] == {"strategic": 1, "midmarket": 0, "smb": 0, "accounts": 1}
    assert report["uncovered_strategic"] == ["G1"]


def test_exports_have_the_contract_columns(built_ws) -> None:
    contract = {
        "kam": ["account_id", "potential_3y", "tier", "share_of_wallet", "nrr", "entities_penetrated",
                "entities_total", "quadrant", "owner"],
        "stakeholders": ["contact_id", "account_id", "name", "title", "buying_role", "reports_to", "strength",
                         "last_interaction"],
        "meddic": ["deal_id", "metrics", "economic_buyer", "decision_criteria", "decision_process",
                   "identify_pain", "champion", "completeness", "gaps"],
        "alerts": ["alert_id", "account_id", "kind", "reason", "created_at", "acknowledged"],
    }
    for name, columns in contract.items():
        table = built_ws.engine.fetch_arrow(export_query(built_ws, name))
        assert set(columns) <= set(table.column_names), name
        if name in ("kam", "alerts"):
            assert table.column_names[: len(columns)] == columns
    kam = built_ws.engine.fetch_arrow(export_query(built_ws, "kam")).to_pylist()
    assert len(kam) == 6  # five accounts and the G1 group
    assert len(built_ws.engine.fetch_arrow(export_query(built_ws, "meddic"))) == 4  # the open deals


def test_kam_view_of_one_account(built_ws) -> None:
    view = kam_view(built_ws, "TAS")
    assert view["account"]["tier"] == 1 and view["group"]["account_id"] == "G1"
    assert {d["deal_id"] for d in view["meddic"]} == {"D3", "D4", "D5"}
    assert {a["kind"] for a in view["alerts"]} == {"champion_lost", "new_executive"}
    assert view["org_chart"]["people"] == 5


def test_missing_build_steps_are_named(kam_ws, tmp_path) -> None:
    summary = build(kam_ws)
    for step in ("hierarchy", "account_kpis", "scores", "cross_sell"):
        assert step in summary["missing"]
