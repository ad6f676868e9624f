"""ABM orchestration on the hand-made multi-BU bundle (tests/abm_fixtures.py), on both engines."""

from __future__ import annotations

import pytest

from accountree.api.access import Principal
from accountree.errors import ConfigError, PermissionDeniedError
from accountree.orchestration import service
from accountree.orchestration.settings import set_setting
from tests.abm_fixtures import build_abm, load, rows


@pytest.fixture
def abm(workspace, tmp_path):
    load(workspace, tmp_path)
    build_abm(workspace)
    return workspace


def _account(ws, account_id, scope="account"):
    (row,) = rows(ws, "SELECT * FROM abm_accounts WHERE scope = ? AND account_id = ?", [scope, account_id])
    return row


def test_import_bu_tags_rows_and_file_column_wins(abm):
    deals = dict(abm.engine.fetchall("SELECT deal_id, seller_bu FROM deals"))
    assert deals == {"D1": "sw", "D3": "sw", "D6": "sw", "D2": "sv", "D4": "hw", "D5": "hw"}
    assert dict(abm.engine.fetchall("SELECT activity_id, seller_bu FROM activities")) == {
        "X1": "sw", "X2": "sv", "X3": "sv", "X4": "hw"}
    assert dict(abm.engine.fetchall("SELECT campaign_id, seller_bu FROM campaigns")) == {"K1": "sw", "K2": "sv", "K3": "hw"}
    # the shared export (no --bu) leaves contacts and products as they were
    assert abm.engine.scalar("SELECT seller_bu FROM contacts WHERE contact_id = 'C1'") is None
    assert abm.engine.scalar("SELECT seller_bu FROM products WHERE product_id = 'P1'") == "sw"


def test_bus_active_and_priority_classes(abm):
    a1 = _account(abm, "A1")
    assert a1["bus_active"] == "hw,sv,sw" and a1["priority_class"] == "group_strategic"
    assert a1["reason"].startswith("3 BUs active")
    assert _account(abm, "A2")["priority_class"] == "mono_bu"
    assert _account(abm, "A2")["bus_active"] == "hw"
    s3 = _account(abm, "S3")
    assert (s3["bus_active"], s3["priority_class"]) == ("hw,sw", "multi_bu")
    s2 = _account(abm, "S2")
    assert (s2["priority_class"], s2["lead_bu"], s2["bus_active"]) == ("opportunistic", None, None)
    assert "no BU active" in s2["reason"]
    g1 = _account(abm, "G1", "group")
    assert (g1["bus_active"], g1["priority_class"]) == ("hw,sv,sw", "group_strategic")
    # every account and the one group get exactly one class
    assert abm.engine.scalar("SELECT count(*) FROM abm_accounts") == 7
    assert abm.engine.scalar("SELECT count(*) FROM abm_accounts WHERE priority_class IS NULL OR reason IS NULL") == 0


def test_lead_bu_rule_scores(abm):
    a1 = _account(abm, "A1")
    # sw: 0.5·1 (all revenue) + 0.3·7/12 (pipeline) + 0.2·3/5 (history) = 0.795
    assert (a1["lead_bu"], a1["lead_bu_source"]) == ("sw", "rule")
    assert a1["rule_score"] == pytest.approx(0.5 + 0.3 * 7 / 12 + 0.2 * 3 / 5)
    s3 = _account(abm, "S3")
    assert (s3["lead_bu"], s3["lead_bu_source"]) == ("hw", "rule")
    assert (_account(abm, "A2")["lead_bu"], _account(abm, "A2")["lead_bu_source"]) == ("hw", "single_bu")
    # weights are settings: pipeline only → sw still (7 000 vs 5 000); history only on S3 → hw
    set_setting(abm, "weight_revenue", "0")
    set_setting(abm, "weight_history", "0")
    set_setting(abm, "weight_pipeline", "1")
    build_abm(abm)
    assert _account(abm, "A1")["rule_score"] == pytest.approx(7 / 12)


def test_manual_lead_bu_wins_until_undone(abm):
    decision = service.set_lead_bu(abm, "A1", "sv", why="the client's CIO asked for Services")
    assert decision["previous_lead_bu"] == "sw"
    build_abm(abm)
    a1 = _account(abm, "A1")
    assert (a1["lead_bu"], a1["lead_bu_source"]) == ("sv", "manual")
    assert "the client's CIO asked" in a1["reason"]
    # sw opening D3 inside the window on an account led by sv is now the outside-lead conflict
    outside = rows(abm, "SELECT bus, reason FROM abm_conflicts WHERE kind = 'outside_lead_bu' AND account_id = 'A1'")
    assert [r["bus"] for r in outside] == ["sv,sw"] and "sw opened D3" in outside[0]["reason"]
    service.undo_lead_bu(abm, "A1")
    build_abm(abm)
    assert _account(abm, "A1")["lead_bu_source"] == "rule"
    (logged,) = service.decisions(abm, "A1")
    assert logged["undone_at"] is not None and logged["why"].startswith("the client")
    with pytest.raises(ConfigError):
        service.set_lead_bu(abm, "A1", "nope", why="x")
    with pytest.raises(ConfigError):
        service.set_lead_bu(abm, "A1", "sv", why="  ")


def test_conflicts(abm):
    found = {(r["kind"], r["account_id"], r["contact_id"], r["bus"]) for r in rows(abm, "SELECT * FROM abm_conflicts")}
    assert found == {
        ("open_deals", "A1", None, "sv,sw"),
        ("same_contact", "A1", "C1", "sv,sw"),
        # A1 is group_strategic led by sw: sv opened D2 on 2026-05-01, within 90 days
        ("outside_lead_bu", "A1", None, "sv,sw"),
    }
    service.mark_substitutes(abm, "P2", "P1")
    build_abm(abm)
    (competing,) = rows(abm, "SELECT * FROM abm_conflicts WHERE kind = 'competing_offers'")
    assert competing["bus"] == "sv,sw" and "D2 P2 vs D3 P1" in competing["reason"]
    assert competing["state"] == "open" and competing["notify_bus"] == "sv,sw"


def test_a_later_build_keeps_the_day_a_conflict_was_first_seen(abm):
    from datetime import timedelta

    from accountree.build import BuildOptions, build
    from tests.abm_fixtures import AS_OF

    cid = abm.engine.scalar("SELECT conflict_id FROM abm_conflicts WHERE kind = 'open_deals'")
    assert abm.engine.scalar("SELECT detected_at FROM abm_conflicts WHERE conflict_id = ?", [cid]) == AS_OF
    build(abm, BuildOptions(as_of=AS_OF + timedelta(days=5), stages=["hierarchy", "abm"]))
    # still open on A1 five days later: first seen at the first build
    assert abm.engine.scalar("SELECT detected_at FROM abm_conflicts WHERE conflict_id = ?", [cid]) == AS_OF
    # every conflict's detected_at is the day it was remembered, once
    assert abm.engine.fetchall(
        "SELECT c.conflict_id FROM abm_conflicts c LEFT JOIN abm_conflict_seen s ON s.conflict_id = c.conflict_id "
        "WHERE s.first_seen IS NULL OR s.first_seen <> c.detected_at") == []
    assert abm.engine.scalar("SELECT count(*) - count(DISTINCT conflict_id) FROM abm_conflict_seen") == 0


def test_conflict_state_survives_rebuild_and_is_logged(abm):
    cid = abm.engine.scalar("SELECT conflict_id FROM abm_conflicts WHERE kind = 'open_deals'")
    detected = abm.engine.scalar("SELECT detected_at FROM abm_conflicts WHERE conflict_id = ?", [cid])
    service.set_conflict_state(abm, cid, "arbitrated")
    build_abm(abm)
    assert abm.engine.scalar("SELECT state FROM abm_conflicts WHERE conflict_id = ?", [cid]) == "arbitrated"
    assert abm.engine.scalar("SELECT detected_at FROM abm_conflicts WHERE conflict_id = ?", [cid]) == detected
    assert abm.engine.fetchall("SELECT previous_state, state FROM abm_conflict_state_log") == [("open", "arbitrated")]
    with pytest.raises(ConfigError):
        service.set_conflict_state(abm, cid, "closed")
    hw = Principal("hilda", "bu_member", "hw")
    with pytest.raises(PermissionDeniedError):
        service.set_conflict_state(abm, cid, "resolved", principal=hw)
    service.set_conflict_state(abm, cid, "resolved", principal=Principal("sam", "bu_member", "sv"))


def test_campaign_collisions_and_sequence(abm):
    (hit,) = rows(abm, "SELECT * FROM abm_collisions")
    assert (hit["account_id"], hit["campaign_ids"], hit["bus"]) == ("A1", "K2,K1", "sv,sw")
    assert (str(hit["first_date"]), str(hit["last_date"])) == ("2026-07-01", "2026-07-26")
    assert hit["suggested_sequence"] \
        == 'run Software\'s "Webinar" before Services\'s "Event": its cycle is shorter (90 vs 120 days)'
    # K3 (hw, October) is 67 days after K2: no collision at 30 days, one per pair at 90
    set_setting(abm, "collision_days", "90")
    build_abm(abm)
    pairs = {(r["account_id"], r["campaign_ids"]) for r in rows(abm, "SELECT * FROM abm_collisions")}
    assert pairs == {("A1", "K2,K1"), ("A1", "K3,K2"), ("S3", "K3,K1"), ("A1", "K3,K1")}


def test_attribution_rules(abm):
    def split(deal):
        return {r["seller_bu"]: (r["share"], r["amount_rc"]) for r in
                rows(abm, "SELECT * FROM abm_attribution WHERE deal_id = ?", [deal])}

    # S1: sw closed D6 after sv and hw meetings; sw leads S1 (all its revenue) → counts double
    assert split("D6") == {"sw": (0.5, 50.0), "sv": (0.25, 25.0), "hw": (0.25, 25.0)}
    assert split("D1") == {"sw": (1.0, 10000.0)}
    assert split("D4") == {"hw": (1.0, 30000.0)}
    won = abm.engine.scalar("SELECT count(*) FROM deals WHERE stage = 'won'")
    assert abm.engine.scalar("SELECT count(DISTINCT deal_id) FROM abm_attribution") == won
    set_setting(abm, "attribution_rule", "equal")
    build_abm(abm)
    # 10 000 cents / 3: 3 333 each and the last cent by largest remainder (tie → first BU id)
    assert {bu: amount for bu, (_, amount) in split("D6").items()} == {"hw": 33.34, "sv": 33.33, "sw": 33.33}
    set_setting(abm, "attribution_rule", "touch_weighted")
    build_abm(abm)
    assert {r["rule"] for r in rows(abm, "SELECT rule FROM abm_attribution")} == {"touch_weighted"}


def test_account_teams(abm):
    teams = {(r["account_id"], r["role"], r["member_bu"], r["member"]) for r in rows(abm, "SELECT * FROM abm_account_teams")}
    assert ("A1", "ae", "sw", "Ann") in teams and ("A1", "ae", "sv", "Bob") in teams
    assert ("G1", "group_account_manager", None, "Gail") in teams
    service.set_team_member(abm, "A1", "csm", "Dana", bu="sw")
    service.set_team_member(abm, "A1", "ae", "Eve", bu="sw")
    build_abm(abm)
    a1 = {(r["role"], r["member_bu"], r["member"], r["source"]) for r in
          rows(abm, "SELECT * FROM abm_account_teams WHERE account_id = 'A1'")}
    assert a1 == {("ae", "sw", "Eve", "manual"), ("csm", "sw", "Dana", "manual"), ("ae", "sv", "Bob", "deal_owner")}
    with pytest.raises(ConfigError):
        service.set_team_member(abm, "A1", "boss", "Zed", bu="sw")


def test_exports_contract(abm):
    from accountree.exports import all_exports, export_query

    contract = {
        "abm_accounts": ["account_id", "scope", "lead_bu", "lead_bu_source", "priority_class", "bus_active", "reason"],
        "abm_conflicts": ["conflict_id", "account_id", "kind", "bus", "state", "reason", "detected_at"],
        "campaign_collisions": ["account_id", "contact_id", "campaign_ids", "bus", "first_date", "last_date", "reason"],
        "attribution": ["deal_id", "seller_bu", "share", "amount_rc", "rule"],
        "account_teams": ["account_id", "member", "role", "seller_bu"],
    }
    specs = all_exports()
    for name, columns in contract.items():
        assert name in specs
        table = abm.engine.fetch_arrow(export_query(abm, name))
        assert table.column_names[: len(columns)] == columns, name
        assert table.num_rows > 0, name
