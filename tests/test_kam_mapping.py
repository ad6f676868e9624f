"""Account mapping on the hand-made Thales bundle: org chart, strength, buying committee, MEDDIC,
buying-role edits, and the `map` / `kam` commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from accountree.errors import ConfigError, NotFoundError
from accountree.kam import buying_committee, meddic, org_chart, set_buying_role, update_meddic
from accountree.kam.commands import register
from tests.test_kam_fixtures import AS_OF, build, load

pytest_plugins = ("tests.test_kam_fixtures",)  # the module-scoped `built_ws` fixture


@pytest.fixture
def kam_ws(workspace, tmp_path: Path):
    load(workspace, tmp_path / "bundle")
    build(workspace)
    return workspace


def _flatten(nodes, depth=0):
    for n in nodes:
        yield depth, n
        yield from _flatten(n["reports"], depth + 1)


def test_org_chart_nests_reports_with_strength_and_last_interaction(built_ws) -> None:
    chart = org_chart(built_ws, "TAS", as_of=AS_OF)
    assert [r["contact_id"] for r in chart["roots"]] == ["C1"]
    people = {n["contact_id"]: (depth, n) for depth, n in _flatten(chart["roots"])}
    assert {c: d for c, (d, _) in people.items()} == {"C1": 0, "C2": 1, "C3": 1, "C4": 2, "C5": 1}
    # C3: 3 points in the last 90 days (counted twice) + 1 earlier = 7 → strong
    assert people["C3"][1]["strength"] == "strong"
    assert people["C3"][1]["last_interaction"] == date(2026, 11, 1)
    assert people["C1"][1]["strength"] == "medium"  # 1 recent point, counted twice
    assert people["C4"][1]["strength"] == "weak"  # one activity ten months ago
    assert people["C5"][1]["strength"] == "none" and people["C5"][1]["last_interaction"] is None
    assert people["C2"][1]["left_company"] is True and chart["left"] == 1
    group = org_chart(built_ws, "G1", group=True, as_of=AS_OF)
    assert group["scope"] == "group" and set(group["accounts"]) == {"G1", "TAS", "SUB"} and group["people"] == 5
    with pytest.raises(NotFoundError):
        org_chart(built_ws, "NOPE")


def test_buying_committee_names_missing_roles_per_open_deal(built_ws) -> None:
    committee = buying_committee(built_ws, "TAS", as_of=AS_OF)
    assert committee["identified"] == ["influencer", "buyer", "other"]
    assert committee["missing"] == ["economic_buyer", "champion", "user"]  # the champion left
    assert "no economic buyer identified on the 3 open deals of Thales Alenia Space" in committee["messages"]
    # D3's MEDDIC names Marie Curie as champion, but she left: no deal has a champion
    assert "no champion identified on the 3 open deals of Thales Alenia Space" in committee["messages"]
    d3 = next(d for d in committee["deals"] if d["deal_id"] == "D3")
    assert {"champion", "economic_buyer"} <= set(d3["missing"])
    acme = buying_committee(built_ws, "ACME", as_of=AS_OF)
    assert "no economic buyer identified at Acme Industries" in acme["messages"]


def test_set_buying_role_overrides_the_crm_and_feeds_meddic(kam_ws) -> None:
    set_buying_role(kam_ws, "C1", "Economic Buyer", user="carol")
    committee = buying_committee(kam_ws, "TAS", as_of=AS_OF)
    assert committee["roles"]["economic_buyer"] == ["Jean Dupont"]
    d4 = meddic(kam_ws, "D4")
    assert d4["economic_buyer"] == "Jean Dupont" and d4["economic_buyer_source"] == "inferred from contacts"
    assert kam_ws.engine.scalar("SELECT set_by FROM kam_contact_roles WHERE contact_id = 'C1'") == "carol"
    with pytest.raises(ConfigError):
        set_buying_role(kam_ws, "C1", "kingmaker")
    with pytest.raises(NotFoundError):
        set_buying_role(kam_ws, "C99", "champion")
    update_meddic(kam_ws, "D4", {"champion": "Paul Martin"})
    messages = buying_committee(kam_ws, "TAS", as_of=AS_OF)["messages"]
    assert "no champion identified on 2 of the 3 open deals of Thales Alenia Space" in messages
    set_buying_role(kam_ws, "C1", "")  # cleared: back to the CRM's (empty) role
    assert buying_committee(kam_ws, "TAS", as_of=AS_OF)["roles"]["economic_buyer"] == []


def test_meddic_from_deal_attributes_completeness_and_gaps(built_ws) -> None:
    d3 = meddic(built_ws, "D3")  # the champion written in the CRM, Marie Curie, left on 2026-10-01
    assert (d3["metrics"], d3["champion"], d3["champion_source"]) == ("cut costs", "Marie Curie", "left the company")
    assert d3["completeness"] == 17  # 1 of 6
    assert d3["gaps"] == "Economic buyer, Decision criteria, Decision process, Identify pain, Champion"
    built = built_ws.engine.fetch_dicts("SELECT completeness, gaps FROM kam_meddic WHERE deal_id = 'D3'")
    assert built == [{"completeness": 17, "gaps": d3["gaps"]}]
    d5 = meddic(built_ws, "D5")
    assert d5["completeness"] == 0 and d5["champion"] is None


def test_meddic_edits_survive_rebuilds(kam_ws) -> None:
    edited = update_meddic(kam_ws, "D3", {"economic_buyer": "Jean Dupont", "decision_process": "board in March",
                                          "metrics": ""}, user="carol")
    assert edited["completeness"] == 33  # EB and decision process; metrics cleared, the champion left
    assert edited["economic_buyer_source"] == "user" and edited["stored"]["updated_by"] == "carol"
    build(kam_ws)
    after = meddic(kam_ws, "D3")
    assert after["metrics"] is None and after["decision_process"] == "board in March"
    with pytest.raises(ConfigError):
        update_meddic(kam_ws, "D3", {"budget": "1 M€"})
    with pytest.raises(NotFoundError):
        update_meddic(kam_ws, "D99", {"metrics": "x"})


def test_map_and_kam_commands(kam_ws) -> None:
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    location = kam_ws.location
    kam_ws.close()  # DuckDB allows one writer: let the command open the file
    result = runner.invoke(app, ["map", "TAS", "-w", location], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Jean Dupont" in result.output and "Marie Curie" in result.output and "left 2026-10-01" in result.output
    assert "no economic buyer identified on the 3 open deals" in result.output
    result = runner.invoke(app, ["kam", "meddic", "D3", "--set", "identify_pain=late deliveries", "-w", location, "--json"])
    assert result.exit_code == 0, result.output
    assert '"completeness": 33' in result.output  # metrics and pain; the champion left
    for args in (["kam", "coverage"], ["kam", "matrix"], ["kam", "settings"], ["alerts"]):
        result = runner.invoke(app, [*args, "-w", location])
        assert result.exit_code == 0, (args, result.output)
    result = runner.invoke(app, ["map", "NOPE", "-w", location])
    assert result.exit_code == 1
    import json

    listed = json.loads(runner.invoke(app, ["alerts", "--owner", "alice", "-w", location, "--json"]).output)
    assert {a["kind"] for a in listed} == {"champion_lost", "new_executive"}
    result = runner.invoke(app, ["alerts", "ack", listed[0]["alert_id"], "-w", location])
    assert result.exit_code == 0 and "acknowledged" in result.output
    after = json.loads(runner.invoke(app, ["alerts", "--owner", "alice", "-w", location, "--json"]).output)
    assert len(after) == len(listed) - 1
    result = runner.invoke(app, ["kam", "settings", "tier1_threshold", "750000", "-w", location, "--json"])
    assert json.loads(result.output)["tier1_threshold"] == 750000
