"""BU spaces: role × object × read/write matrix, enforced by the core reader (ScopedReader) and
the ABM service functions. Each cell asserts what is allowed AND what is refused."""

from __future__ import annotations

import pytest

from accountree.api.access import Principal, ScopedReader, TableCatalog
from accountree.errors import PermissionDeniedError
from accountree.orchestration import service
from tests.abm_fixtures import build_abm, load

ADMIN = Principal("ada", "admin")
CORP = Principal("cora", "corporate")
SW = Principal("sven", "bu_member", "sw")
SV = Principal("sam", "bu_member", "sv")
HW = Principal("hilda", "bu_member", "hw")
RO = Principal("rob", "read_only")
RO_SW = Principal("rosa", "read_only", "sw")
NOBU = Principal("nobody", "bu_member", None)


@pytest.fixture
def space(workspace, tmp_path):
    load(workspace, tmp_path)
    build_abm(workspace)
    cid = workspace.engine.scalar("SELECT conflict_id FROM abm_conflicts WHERE kind = 'open_deals'")
    service.add_conflict_note(workspace, cid, "sw: we keep the analytics deal", bu="sw", principal=SW)
    service.add_conflict_note(workspace, cid, "sv: managed service is cheaper", bu="sv", principal=CORP)
    service.add_plan(workspace, "A1", "sw plan: webinar then demo", principal=SW)
    service.add_plan(workspace, "A1", "sv plan: workshop", bu="sv", principal=ADMIN)
    return workspace, cid


def _seen(ws, who: Principal, sql: str) -> list:
    return [r[0] for r in ScopedReader(ws.engine, who, TableCatalog()).fetchall(sql)]


# object → query of what identifies each row; the expected rows per principal
READS = {
    "notes": "SELECT seller_bu FROM abm_conflict_notes ORDER BY seller_bu",
    "plans": "SELECT seller_bu FROM abm_plans ORDER BY seller_bu",
    "attribution": "SELECT DISTINCT seller_bu FROM abm_attribution ORDER BY seller_bu",
    "deals": "SELECT DISTINCT seller_bu FROM deals ORDER BY seller_bu",
    "accounts": "SELECT count(*) FROM abm_accounts",
    "conflicts": "SELECT count(*) FROM abm_conflicts",
    "collisions": "SELECT count(*) FROM abm_collisions",
    "teams": "SELECT count(DISTINCT member_bu) FROM abm_account_teams",
}
EXPECTED = {
    ADMIN: {"notes": ["sv", "sw"], "plans": ["sv", "sw"], "attribution": ["hw", "sv", "sw"], "deals": ["hw", "sv", "sw"]},
    CORP: {"notes": ["sv", "sw"], "plans": ["sv", "sw"], "attribution": ["hw", "sv", "sw"], "deals": ["hw", "sv", "sw"]},
    RO: {"notes": ["sv", "sw"], "plans": ["sv", "sw"], "attribution": ["hw", "sv", "sw"], "deals": ["hw", "sv", "sw"]},
    SW: {"notes": ["sw"], "plans": ["sw"], "attribution": ["sw"], "deals": ["sw"]},
    RO_SW: {"notes": ["sw"], "plans": ["sw"], "attribution": ["sw"], "deals": ["sw"]},
    SV: {"notes": ["sv"], "plans": ["sv"], "attribution": ["hw", "sv", "sw"][1:2], "deals": ["sv"]},
    HW: {"notes": [], "plans": [], "attribution": ["hw"], "deals": ["hw"]},
    NOBU: {"notes": [], "plans": [], "attribution": [], "deals": []},
}


def test_read_matrix(space):
    ws, _ = space
    shared = {name: _seen(ws, ADMIN, READS[name]) for name in ("accounts", "conflicts", "collisions", "teams")}
    assert shared["accounts"] == [7] and shared["conflicts"][0] >= 2 and shared["collisions"] == [1]
    for who, expected in EXPECTED.items():
        for name, rows in expected.items():
            assert _seen(ws, who, READS[name]) == rows, (who.username, name)
        # the shared ABM picture (classes, lead BU, conflicts, collisions, teams) is the same for everyone
        for name, rows in shared.items():
            assert _seen(ws, who, READS[name]) == rows, (who.username, name)


def test_other_bus_one_line_summary(space):
    ws, _ = space
    reader = ScopedReader(ws.engine, SW, TableCatalog())
    lines = [r["summary"] for r in reader.other_bu_activity("A1")]
    assert lines == ["Services: 1 deals, 1 activities"]  # counts only, never the records
    assert ScopedReader(ws.engine, CORP, TableCatalog()).other_bu_activity("A1") == []


def test_write_matrix(space):
    ws, cid = space
    # lead BU / strategic / substitutes: the committee (admin, corporate) only
    for who in (SW, SV, RO, RO_SW, NOBU):
        with pytest.raises(PermissionDeniedError):
            service.set_lead_bu(ws, "A1", "sv", why="x", principal=who)
        with pytest.raises(PermissionDeniedError):
            service.mark_strategic(ws, "S3", "x", principal=who)
        with pytest.raises(PermissionDeniedError):
            service.mark_substitutes(ws, "P1", "P2", principal=who)
    for who in (ADMIN, CORP):
        assert service.set_lead_bu(ws, "A1", "sv", why="committee", principal=who)["decided_by"] == who.username
    # conflict state: a party of the conflict (sv, sw) or the committee; not hw, not read-only
    for who in (HW, RO, RO_SW, NOBU):
        with pytest.raises(PermissionDeniedError):
            service.set_conflict_state(ws, cid, "arbitrated", principal=who)
    for who, state in ((SW, "arbitrated"), (SV, "resolved"), (CORP, "open"), (ADMIN, "resolved")):
        assert service.set_conflict_state(ws, cid, state, principal=who)["state"] == state
    # private notes and plans: a BU member writes its own BU's only
    with pytest.raises(PermissionDeniedError):
        service.add_conflict_note(ws, cid, "sneaky", bu="sv", principal=SW)
    with pytest.raises(PermissionDeniedError):
        service.add_plan(ws, "A1", "x", principal=RO_SW)
    with pytest.raises(PermissionDeniedError):
        service.add_plan(ws, "A1", "x", principal=NOBU)
    assert service.add_plan(ws, "A1", "hw plan", principal=HW)["seller_bu"] == "hw"
    # team members: own BU for a member
    with pytest.raises(PermissionDeniedError):
        service.set_team_member(ws, "A1", "csm", "Zoe", bu="sv", principal=SW)
    service.set_team_member(ws, "A1", "csm", "Zoe", bu="sw", principal=SW)
    # the scoped reader only reads
    with pytest.raises(PermissionDeniedError):
        ScopedReader(ws.engine, CORP, TableCatalog()).fetchall("DELETE FROM abm_plans")
