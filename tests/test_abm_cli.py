"""`accountree abm …` commands and `import --bu`, end to end through the CLI (DuckDB file), and the
stage on odd workspaces (no BU at all, no hierarchy, no campaigns)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from accountree.cli import app
from accountree.store import open_workspace
from tests.abm_fixtures import AS_OF, HARDWARE, SERVICES, SHARED, SOFTWARE
from tests.conftest import write

runner = CliRunner()


def _cli(*args: str):
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result


@pytest.fixture
def location(tmp_path):
    ws = str(tmp_path / "w.duckdb")
    for name, files, bu in (("shared", SHARED, None), ("sw", SOFTWARE, "sw"), ("sv", SERVICES, "sv"), ("hw", HARDWARE, "hw")):
        for file, text in files.items():
            write(tmp_path / name / file, text)
        args = ["import", str(tmp_path / name), "-w", ws, "--json"] + (["--bu", bu] if bu else [])
        result = _cli(*args)
        assert result.exit_code == 0, result.output
    result = _cli("build", "-w", ws, "--as-of", AS_OF.isoformat(), "--stage", "hierarchy", "--stage", "abm")
    assert result.exit_code == 0, result.output
    return ws


def test_lead_bu_conflicts_calendar_attribution_synergies(location):
    result = _cli("abm", "lead-bu", "A1", "sv", "-w", location)
    assert result.exit_code == 1 and "say why" in result.output  # --why is required
    result = _cli("abm", "lead-bu", "A1", "sv", "--why", "client asked", "-w", location, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["previous_lead_bu"] == "sw"
    _cli("build", "-w", location, "--as-of", AS_OF.isoformat(), "--stage", "abm")
    listed = json.loads(_cli("abm", "lead-bu", "A1", "-w", location, "--json").output)
    assert [(d["lead_bu"], d["why"]) for d in listed] == [("sv", "client asked")]
    conflicts = json.loads(_cli("abm", "conflicts", "-w", location, "--json", "--bu", "sv").output)
    assert {c["kind"] for c in conflicts} == {"open_deals", "same_contact", "outside_lead_bu"}
    assert json.loads(_cli("abm", "conflicts", "-w", location, "--json", "--bu", "hw").output) == []
    cid = conflicts[0]["conflict_id"]
    result = _cli("abm", "conflicts", cid[:8], "--state", "arbitrated", "--note", "call on Monday", "--bu", "sv",
                  "-w", location, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["state"] == "arbitrated"
    assert _cli("abm", "conflicts", cid, "--state", "closed", "-w", location).exit_code == 1
    states = json.loads(_cli("abm", "conflicts", "--state", "arbitrated", "-w", location, "--json").output)
    assert [c["conflict_id"] for c in states] == [cid]
    calendar = json.loads(_cli("abm", "calendar", "-w", location, "--json", "--from", "2026-07-01").output)
    assert [c["campaign_id"] for c in calendar["campaigns"]] == ["K1", "K2", "K3"]
    assert [c["campaign_ids"] for c in calendar["collisions"]] == ["K2,K1"]
    assert _cli("abm", "calendar", "-w", location, "--from", "July").exit_code != 0
    attribution = json.loads(_cli("abm", "attribution", "-w", location, "--json").output)
    assert sum(r["attributed_rc"] for r in attribution) == pytest.approx(10000 + 30000 + 100)
    result = _cli("abm", "synergies", "-w", location, "--json")
    assert result.exit_code == 0, result.output
    assert {m["metric"] for m in json.loads(result.output)["metrics"]} >= {"deal_size", "win_rate", "cycle_days"}
    assert _cli("abm", "settings", "attribution_rule", "shapley", "-w", location).exit_code == 1
    assert _cli("abm", "settings", "collision_days", "90", "-w", location).exit_code == 0
    result = _cli("abm", "team", "A1", "csm", "Dana", "--bu", "sw", "-w", location, "--json")
    assert result.exit_code == 0, result.output
    assert _cli("abm", "lead-bu", "A1", "--undo", "-w", location).exit_code == 0
    assert _cli("abm", "lead-bu", "A1", "--undo", "-w", location).exit_code != 0  # nothing left to undo


def test_import_bu_refuses_an_empty_bu(tmp_path):
    write(tmp_path / "b" / "accounts.csv", "account_id,name\nX,X Co\n")
    result = _cli("import", str(tmp_path / "b"), "--bu", "  ", "-w", str(tmp_path / "w.duckdb"))
    assert result.exit_code == 1 and "--bu" in result.output


def test_stage_on_a_workspace_without_bus_hierarchy_or_campaigns(tmp_path):
    """Name-only accounts, deals without any BU (a single-BU company): every account gets a class,
    won deals are attributed whole to 'no BU', nothing conflicts."""
    from accountree.build import BuildOptions, build
    from accountree.ingest import import_bundle

    write(tmp_path / "b" / "accounts.csv", "account_id,name\nX,X Co\nY,Ÿ Société\nZ,\n".replace("Z,\n", "Z,Zed\n"))
    write(tmp_path / "b" / "deals.csv", "deal_id,account_id,stage,amount,created_at,close_date\n"
                                        "1,X,won,0.01,2026-01-01,2026-02-01\n2,X,proposal,5,2026-05-01,\n"
                                        "3,Y,won,-50,2026-01-01,2026-03-01\n")
    ws = open_workspace(str(tmp_path / "w.duckdb"))
    try:
        import_bundle(ws, [str(tmp_path / "b")])
        build(ws, BuildOptions(as_of=AS_OF, stages=["abm"]))
        classes = dict(ws.engine.fetchall("SELECT account_id, priority_class FROM abm_accounts WHERE scope = 'account'"))
        assert classes == {"X": "opportunistic", "Y": "opportunistic", "Z": "opportunistic"}
        assert ws.engine.fetchall("SELECT deal_id, seller_bu, share, amount_rc FROM abm_attribution ORDER BY deal_id") == [
            ("1", None, 1.0, 0.01), ("3", None, 1.0, -50.0)]
        assert ws.engine.scalar("SELECT count(*) FROM abm_conflicts") == 0
        assert ws.engine.scalar("SELECT count(*) FROM abm_collisions") == 0
    finally:
        ws.close()


def test_handover_and_coverage_commands(location):
    result = _cli("abm", "handover", "D6", "-w", location)
    assert result.exit_code == 1 and "--csm" in result.output
    result = _cli("abm", "handover", "D6", "--csm", "Dana", "--context", "CFO sponsor", "--objectives", "3-day close",
                  "--stakeholders", "C1", "--commitments", "SSO", "--meeting", "2026-06-20", "--customer", "C1",
                  "-w", location, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["from_ae"] == "Ann"
    assert _cli("abm", "handover", "D6", "--csm", "Dana", "--meeting", "soon", "-w", location).exit_code == 1
    assert _cli("build", "-w", location, "--as-of", AS_OF.isoformat(), "--stage", "abm").exit_code == 0
    listed = json.loads(_cli("abm", "handover", "-w", location, "--json").output)
    assert {r["deal_id"]: r["state"] for r in listed} == {"D6": "done", "D4": "missing"}
    team = json.loads(_cli("abm", "team", "S1", "-w", location, "--json").output)
    assert {(r["role"], r["member"]) for r in team} == {("ae", "Ann"), ("csm", "Dana")}
    coverage = json.loads(_cli("abm", "coverage", "-w", location, "--json").output)
    assert {r["member"]: r["coverage"] for r in coverage} == {"Ann": "under", "Bob": "under", "Cid": "under"}
