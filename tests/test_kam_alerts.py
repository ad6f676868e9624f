"""KAM alerts and the contract tables of earlier stages, on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from accountree.errors import NotFoundError
from accountree.kam import acknowledge, alerts, org_chart
from accountree.kam.alerts import alert_id
from accountree.kam.settings import set_setting
from tests.test_kam_fixtures import ACCOUNTS, AS_OF, CONTACTS, DEALS, build, load, row

pytest_plugins = ("tests.test_kam_fixtures",)  # the module-scoped `built_ws` fixture


@pytest.fixture
def kam_ws(workspace, tmp_path: Path):
    load(workspace, tmp_path / "bundle")
    build(workspace)
    return workspace


def _by_kind(rows):
    return {(a["kind"], a["account_id"], a["subject"]): a for a in rows}


def test_first_build_alerts(built_ws) -> None:
    found = _by_kind(alerts(built_ws))
    assert set(found) == {
        ("champion_lost", "TAS", "C2"), ("new_executive", "TAS", "C5"),
        ("falling_revenue", "ACME", "account:2026"), ("no_progress", "SUB", "2025-12-01"),
    }
    lost = found[("champion_lost", "TAS", "C2")]
    assert lost["created_at"] == date(2026, 10, 1) and lost["owner"] == "alice"
    assert lost["reason"] == "champion Marie Curie (CMO) left on 2026-10-01; no other champion in place"
    assert lost["alert_id"] == alert_id("champion_lost", "TAS", "C2")
    assert found[("new_executive", "TAS", "C5")]["created_at"] == date(2026, 10, 15)
    assert "down 50 %" in found[("falling_revenue", "ACME", "account:2026")]["reason"]
    stalled = found[("no_progress", "SUB", "2025-12-01")]
    assert stalled["created_at"] == date(2026, 6, 2)  # 2025-12-01 + 6 months (183 days)
    assert "despite 3 activities" in stalled["reason"]
    # most important first: no progress (medium, ×3) on the Thales group (900 k potential) before
    # ACME's falling revenue (high, ×10) on a 150 k key account
    bobs = alerts(built_ws, owner="bob")
    assert [a["account_id"] for a in bobs] == ["SUB", "ACME"]
    assert [a["priority"] for a in bobs] == [3 * (1 + 900_000), 10 * (1 + 150_000)]


def test_acknowledgement_survives_rebuilds(kam_ws) -> None:
    target = alert_id("champion_lost", "TAS", "C2")
    acknowledge(kam_ws, target, user="alice")
    build(kam_ws)
    assert target not in {a["alert_id"] for a in alerts(kam_ws)}
    every = {a["alert_id"]: a for a in alerts(kam_ws, include_acknowledged=True)}
    assert every[target]["acknowledged"] and every[target]["acknowledged_by"] == "alice"
    assert every[target]["created_at"] == date(2026, 10, 1)
    with pytest.raises(NotFoundError):
        acknowledge(kam_ws, "nope")


def test_changes_between_builds(kam_ws, tmp_path: Path) -> None:
    contacts = (CONTACTS.replace("C1,TAS,Jean Dupont,CEO,,,,", "C1,TAS,Jean Dupont,CEO,,,,2025-01-01")
                .replace("Anne Petit,Acheteuse", "Anne Petit,Head of Procurement")
                + "C6,TAS,Nina Roy,Chief Digital Officer,,C1,,\n" + "C7,NEW,Ada Lee,CEO,,,,\n")
    accounts = (ACCOUNTS.replace("SUB,Thales Services,G1", "SUB,Thales Services,ACME").replace("LONE,Lone Startup,,,,\n", "")
                + "NEW,New Customer,,,carol,\n")
    deals = DEALS.replace("D8,SUB,qualification", "D8,SUB,proposal")
    kam_ws.engine.execute("DELETE FROM accounts WHERE account_id = 'LONE'")
    kam_ws.engine.execute("INSERT INTO account_aliases VALUES ('LONE', 'ACME', NULL, 'carol', 'duplicate')")
    load(kam_ws, tmp_path / "second", contacts=contacts, accounts=accounts, deals=deals)
    build(kam_ws)
    found = _by_kind(alerts(kam_ws))
    # C1 left long ago: only the diff with the previous build can see it
    assert "left on 2025-01-01" in found[("stakeholder_left", "TAS", "C1")]["reason"]
    assert "appears in the CRM" in found[("new_executive", "TAS", "C6")]["reason"]
    assert "new executive title" in found[("new_executive", "TAS", "C4")]["reason"]
    moved = found[("restructuring", "SUB", "parent:ACME")]
    assert moved["reason"] == "Thales Services moved from parent G1 to ACME"
    assert "LONE was merged into Acme Industries" in found[("restructuring", "ACME", "merged:LONE")]["reason"]
    assert not any(kind == "no_progress" for kind, _, _ in found)  # D8 changed stage: progress
    assert not any(account == "NEW" for _, account, _ in found)  # a new account's CEO is not a "new executive"
    build(kam_ws, date(2026, 12, 1))  # nothing changed since: alerts found by the diff stay until read
    again = _by_kind(alerts(kam_ws))
    assert again[("restructuring", "SUB", "parent:ACME")]["alert_id"] == moved["alert_id"]
    assert ("stakeholder_left", "TAS", "C1") in again
    assert again[("new_executive", "TAS", "C5")]["created_at"] == date(2026, 10, 15)
    build(kam_ws, date(2027, 7, 1))  # past the 180-day window they are gone
    assert ("restructuring", "SUB", "parent:ACME") not in _by_kind(alerts(kam_ws))


def test_cross_sell_alerts_are_one_per_key_account_to_its_owner(kam_ws) -> None:
    kam_ws.engine.execute("CREATE TABLE cross_sell (account_id VARCHAR, product VARCHAR, reason VARCHAR, score DOUBLE, "
                          "entity_rank INTEGER)")
    kam_ws.engine.execute("INSERT INTO cross_sell VALUES ('SUB', 'P-CRM', 'sister company TAS buys it', 80, 1), "
                          "('SUB', 'P-ERP', 'the group buys it', 40, 2), ('TAS', 'P-CRM', 'its parent buys it', 70, 1), "
                          "('LONE', 'P-CRM', 'x', 10, 1)")
    summary = build(kam_ws)
    assert "cross_sell" not in summary["missing"]
    # one alert for the Thales group (the key account, alice's), not one per entity × product
    (alert,) = [a for a in alerts(kam_ws) if a["kind"] == "cross_sell"]
    assert (alert["account_id"], alert["owner"], alert["subject"]) == ("G1", "alice", "products:P-CRM")
    assert alert["reason"].startswith("cross-sell in Thales: 2 entities could buy what the rest of the group buys "
                                      "— P-CRM for 2 entities")
    assert not [a for a in alerts(kam_ws, owner="bob") if a["kind"] == "cross_sell"]
    set_setting(kam_ws, "cross_sell_max_tier", "0")  # no unit is that good: no cross-sell alert
    build(kam_ws)
    assert not [a for a in alerts(kam_ws) if a["kind"] == "cross_sell"]


def test_contract_tables_of_earlier_stages_are_used(kam_ws) -> None:
    engine = kam_ws.engine
    engine.execute("CREATE TABLE hierarchy (account_id VARCHAR, name VARCHAR, parent_id VARCHAR, group_head_id VARCHAR, "
                   "level INTEGER, path VARCHAR, relation VARCHAR, ownership_pct DOUBLE, is_joint_venture BOOLEAN, "
                   "descendants INTEGER, is_group_head BOOLEAN, has_issue BOOLEAN)")
    for account, parent, head in [("G1", None, "G1"), ("TAS", "G1", "G1"), ("SUB", "G1", "G1"),
                                  ("ACME", None, "ACME"), ("LONE", "G1", "G1")]:
        engine.execute("INSERT INTO hierarchy (account_id, parent_id, group_head_id) VALUES (?, ?, ?)", [account, parent, head])
    engine.execute("CREATE TABLE account_kpis (account_id VARCHAR, status VARCHAR, status_code VARCHAR, revenue_cy DOUBLE, "
                   "revenue_py1 DOUBLE, revenue_py2 DOUBLE, revenue_py3 DOUBLE, revenue_ttm DOUBLE, nrr DOUBLE, "
                   "share_of_wallet DOUBLE, wallet DOUBLE)")
    for values in [("G1", "Customer", "customer", 100000, 80000, 100000, 0, 120000, 0.8, None, None),
                   ("ACME", "Customer", "customer", 50000, 100000, 100000, 0, 60000, 1.0, 0.06, 1000000),
                   ("TAS", "Opportunity", "opportunity", 0, 0, 0, 0, 0, None, None, None),
                   ("SUB", "Opportunity", "opportunity", 0, 0, 0, 0, 0, None, 0.0, 1000000),
                   ("LONE", "Dormant", "dormant", 0, 0, 0, 0, 0, None, 0.0, 1000000)]:
        engine.execute("INSERT INTO account_kpis VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", list(values))
    engine.execute("CREATE TABLE group_kpis (account_id VARCHAR, group_status VARCHAR, entities INTEGER, "
                   "customer_entities INTEGER)")
    engine.execute("INSERT INTO group_kpis VALUES ('G1', 'customer group', 5, 2)")
    engine.execute("CREATE TABLE scores (account_id VARCHAR, grid_score DOUBLE, model_score DOUBLE, fit_score DOUBLE, "
                   "grade VARCHAR, tier VARCHAR)")
    engine.execute("INSERT INTO scores VALUES ('TAS', 80, NULL, 80, 'B', 'Tier 1')")
    summary = build(kam_ws)
    assert summary["missing"] == "cross_sell (run `accountree build --stage kpis`): no cross-sell alerts"
    acme = row(kam_ws, "ACME")  # 3 × max(60 000 over the last 12 months, 30 % × a given wallet of 1 000 000)
    # Tier 2: one of two customer units, and the Tier 1 place (5 % of 2, rounded up: 1) is the Thales group's (1.41 M)
    assert (acme["potential_3y"], acme["potential_source"], acme["tier"]) == (900_000, "wallet", 2)
    assert acme["share_of_wallet"] == pytest.approx(0.06) and acme["upside_3y"] == pytest.approx(720_000)
    assert acme["nrr"] == pytest.approx(1.0)  # the KPI stage's NRR: complete years 2025 vs 2024
    # the reachable share of a wallet follows the relationship: customer 30 %, open deal 10 %, cold 5 %
    assert row(kam_ws, "SUB")["potential_3y"] == pytest.approx(300_000)
    assert row(kam_ws, "LONE")["potential_3y"] == pytest.approx(150_000)
    g1 = row(kam_ws, "G1")
    assert (g1["potential_3y"], g1["tier"]) == (360_000, 1)  # its own figure, its group's tier
    assert row(kam_ws, "G1", "group")["potential_3y"] == pytest.approx(360_000 + 600_000 + 300_000 + 150_000)
    group = row(kam_ws, "G1", "group")  # G1, TAS, SUB and LONE (the hierarchy stage's view)
    assert (group["entities_penetrated"], group["entities_total"]) == (2, 5)  # from group_kpis
    assert group["nrr"] == pytest.approx(0.8) and group["retention"] == pytest.approx(0.8)
    tas = row(kam_ws, "TAS")  # ICP distance 1 − 0.8 replaces the neutral 0.5
    assert tas["effort"] == pytest.approx((0.5 + 0.6 + 0.6 + 0.2) / 4) and tas["quadrant"] == "priority"
    assert set(org_chart(kam_ws, "TAS", group=True)["accounts"]) == {"G1", "TAS", "SUB", "LONE"}
    falling = {(a["account_id"], a["subject"]): a["reason"] for a in alerts(kam_ws) if a["kind"] == "falling_revenue"}
    # one alert per key account: the Thales group's fall, not its head entity's own as well
    assert falling == {("G1", "group:2026"): "group revenue down 20 % (2025 vs 2024: 80,000 vs 100,000): "
                                              "shrinking budget, check the exit criteria"}


def test_weekly_digest_per_owner(built_ws) -> None:
    from accountree.kam.alerts import digest

    entries = {e["owner"]: e for e in digest(built_ws, days=7, per_owner=1, as_of=AS_OF)}
    everything = alerts(built_ws)
    assert sum(e["open"] for e in entries.values()) == len(everything)
    bob = entries["bob"]  # both of bob's alerts were first detected at this build (today): new this week
    assert (bob["new"], bob["open"], [a["account_id"] for a in bob["alerts"]]) == (2, 2, ["SUB"])
    later = {e["owner"]: e for e in digest(built_ws, days=7, as_of=date(2027, 1, 15))}
    assert later["bob"]["new"] == 0 and later["bob"]["open"] == 2  # nothing new since
