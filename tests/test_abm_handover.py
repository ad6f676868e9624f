"""AE → CSM handover at signature and coverage read from the account teams, on the hand-made
multi-BU bundle (tests/abm_fixtures.py, as of 2026-06-30), on both engines."""

from __future__ import annotations

from datetime import datetime

import pytest

from accountree.api.access import Principal, ScopedReader, TableCatalog
from accountree.errors import ConfigError, NotFoundError, PermissionDeniedError
from accountree.orchestration import service
from accountree.orchestration.settings import set_setting
from tests.abm_fixtures import build_abm, load, rows

SW = Principal("sven", "bu_member", "sw")
SV = Principal("sam", "bu_member", "sv")
CORP = Principal("cora", "corporate")
RO = Principal("rob", "read_only")
FULL = {"decision_context": "replaces spreadsheets; CFO sponsor", "value_objectives": "close in 3 days, not 10",
        "stakeholders": "C1 Chloé Martin (champion)", "commitments": "SSO by September"}


@pytest.fixture
def abm(workspace, tmp_path):
    load(workspace, tmp_path)
    build_abm(workspace)
    return workspace


def _due(ws):
    return {r["deal_id"]: r for r in rows(ws, "SELECT * FROM abm_handovers_due")}


def test_won_deals_need_a_handover(abm):
    due = _due(abm)
    # D4 (hw, won 2026-03-01) and D6 (sw, won 2026-06-01) are within 180 days; D1 (2025-06-01) is not
    assert {k: v["state"] for k, v in due.items()} == {"D4": "missing", "D6": "missing"}
    assert due["D6"]["reason"] == "signed 2026-06-01 by Ann: no handover to a CSM recorded"
    assert (due["D6"]["seller_bu"], due["D6"]["from_ae"], due["D6"]["to_csm"]) == ("sw", "Ann", None)
    assert not rows(abm, "SELECT * FROM abm_account_teams WHERE role = 'csm'")  # no CSM known yet


def test_who_may_hand_over(abm):
    with pytest.raises(PermissionDeniedError):
        service.record_handover(abm, "D6", "Dana", principal=SV)  # a Software deal
    with pytest.raises(PermissionDeniedError):
        service.record_handover(abm, "D6", "Dana", principal=RO)
    with pytest.raises(ConfigError, match="not won"):
        service.record_handover(abm, "D3", "Dana", principal=SW)  # still open
    with pytest.raises(NotFoundError):
        service.record_handover(abm, "D99", "Dana", principal=CORP)
    with pytest.raises(ConfigError, match="customer"):
        service.record_handover(abm, "D6", "Dana", meeting_at=datetime(2026, 6, 20), principal=SW)
    assert abm.engine.scalar("SELECT count(*) FROM abm_handovers") == 0


def test_handover_states_and_csm_in_the_team(abm):
    row = service.record_handover(abm, "D6", "Dana", **FULL, meeting_at=datetime(2026, 6, 20, 10),
                                  meeting_customer="C1", principal=SW)
    assert (row["from_ae"], row["seller_bu"], row["account_id"]) == ("Ann", "sw", "S1")
    service.record_handover(abm, "D4", "Hugo", decision_context="gateway refresh", value_objectives="uptime",
                            stakeholders="IT", principal=CORP)
    service.record_handover(abm, "D1", "Dana", **FULL, meeting_at=datetime(2026, 7, 5), meeting_customer="C1",
                            principal=SW)  # an old deal handed over late: listed, meeting still to come
    build_abm(abm)
    due = _due(abm)
    assert {k: v["state"] for k, v in due.items()} == {"D6": "done", "D4": "incomplete", "D1": "meeting_planned"}
    assert due["D4"]["missing"] == "commitments, three-way meeting"
    assert due["D6"]["reason"] == "handed over to Dana; three-way meeting with C1 on 2026-06-20"
    csm = {(r["account_id"], r["member_bu"], r["member"], r["source"])
           for r in rows(abm, "SELECT * FROM abm_account_teams WHERE role = 'csm'")}
    assert csm == {("S1", "sw", "Dana", "handover"), ("A2", "hw", "Hugo", "handover"), ("A1", "sw", "Dana", "handover")}
    # a newer handover of the same deal replaces it; a member named by hand wins over the handover
    service.record_handover(abm, "D4", "Iris", **FULL, meeting_at=datetime(2026, 6, 1), meeting_customer="Klaus",
                            principal=CORP)
    service.set_team_member(abm, "S1", "csm", "Zoe", bu="sw")
    build_abm(abm)
    assert _due(abm)["D4"]["state"] == "done" and _due(abm)["D4"]["to_csm"] == "Iris"
    csm = {(r["account_id"], r["member"], r["source"]) for r in rows(abm, "SELECT * FROM abm_account_teams WHERE role = 'csm'")}
    assert csm == {("S1", "Zoe", "manual"), ("A2", "Iris", "handover"), ("A1", "Dana", "handover")}


def test_handovers_are_the_bus_private_records(abm):
    service.record_handover(abm, "D6", "Dana", **FULL, principal=SW)
    service.record_handover(abm, "D4", "Hugo", principal=CORP)
    build_abm(abm)
    for table in ("abm_handovers", "abm_handovers_due"):
        def seen(who, table=table):
            return sorted(r[0] for r in ScopedReader(abm.engine, who, TableCatalog()).fetchall(
                f"SELECT deal_id FROM {table}"))
        assert seen(CORP) == ["D4", "D6"] and seen(SW) == ["D6"] and seen(SV) == [], table


def test_coverage_reads_the_teams(abm):
    strategic = {r["account_id"] for r in rows(abm, "SELECT account_id FROM abm_accounts "
                                                    "WHERE scope = 'account' AND priority_class = 'group_strategic'")}
    ann = {r["account_id"] for r in rows(abm, "SELECT account_id FROM abm_account_teams WHERE member = 'Ann' AND role = 'ae'")}
    (cov,) = rows(abm, "SELECT * FROM abm_coverage WHERE member = 'Ann' AND role = 'ae'")
    assert (cov["accounts"], cov["strategic_accounts"]) == (len(ann), len(ann & strategic))
    assert cov["strategic_accounts"] == 2 and cov["coverage"] == "under"  # below the 3–5 target
    assert cov["reason"] == "2 group_strategic account(s) as AE (target 3–5)"
    # the team decides: Eve named AE of S1 for Software takes it from Ann; Ann named AE of S3 (multi_bu)
    service.set_team_member(abm, "S1", "ae", "Eve", bu="sw")
    service.set_team_member(abm, "S3", "ae", "Ann", bu="sw")
    set_setting(abm, "coverage_min", "1")
    build_abm(abm)
    (cov,) = rows(abm, "SELECT * FROM abm_coverage WHERE member = 'Ann' AND role = 'ae'")
    assert (cov["accounts"], cov["strategic_accounts"], cov["coverage"]) == (2, 1, "ok")  # A1 and S3
    set_setting(abm, "coverage_max", "0")
    build_abm(abm)
    assert rows(abm, "SELECT coverage FROM abm_coverage WHERE member = 'Eve'") == [{"coverage": "over"}]
    gam = rows(abm, "SELECT * FROM abm_coverage WHERE role = 'group_account_manager'")
    assert [(r["member"], r["coverage"]) for r in gam] == [("Gail", None)]


def test_contact_level_collisions(abm, tmp_path):
    """`campaign_contacts`: Software's webinar K1 and Services' event K2 both target Chloé (C1) within
    30 days — a collision on the person, beside the one on the account; Hardware's fair K3 is too late."""
    from accountree.ingest import ImportOptions, import_bundle
    from tests.conftest import write

    write(tmp_path / "targets" / "campaign_contacts.csv", "campaign_id,contact_id\nK1,C1\nK2,C1\nK3,C1\nK2,C404\n")
    result = import_bundle(abm, [str(tmp_path / "targets")], ImportOptions())
    assert abm.engine.scalar("SELECT count(*) FROM campaign_contacts") >= 3, result
    build_abm(abm)
    found = rows(abm, "SELECT * FROM abm_collisions WHERE contact_id IS NOT NULL")
    assert [(r["account_id"], r["contact_id"], r["campaign_ids"], r["bus"]) for r in found] == [("A1", "C1", "K2,K1", "sv,sw")]
    assert "target contact C1 within 30 days" in found[0]["reason"]
    assert "Software" in found[0]["suggested_sequence"]  # the shorter cycle first
    account_level = rows(abm, "SELECT collision_id FROM abm_collisions WHERE contact_id IS NULL")
    assert len(account_level) == 1 and account_level[0]["collision_id"] != found[0]["collision_id"]
    # the coordination picture is shared: Hardware reads both (C1 is a shared contact of A1)
    seen = ScopedReader(abm.engine, Principal("h", "bu_member", "hw"), TableCatalog()).fetchall(
        "SELECT contact_id FROM abm_collisions WHERE campaign_ids = 'K2,K1' ORDER BY contact_id NULLS FIRST")
    assert seen == [(None,), ("C1",)]
