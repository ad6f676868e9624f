"""Manual links, the audit trail, group trees, exports and the commands, on both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accountree.cli import app
from accountree.errors import NotFoundError
from accountree.exports import export_query
from accountree.hierarchy import service
from accountree.ingest import import_bundle
from tests.conftest import write
from tests.test_hierarchy_helpers import build, hierarchy, put

ACCOUNTS = ("account_id,name,parent_id,is_group_head\n"
            "G,Groupe Valmont SA,,true\nFR,Valmont France,G,\nDE,Valmont GmbH,G,\nX,Xeria Holding,,\n"
            "J,Valmont-Kato JV,,\nJS,JV Services,J,\nK,Kato KK,,\n")
LINKS = "child_id,parent_id,relation,ownership_pct\nJ,FR,joint_venture,50\nJ,K,joint_venture,50\n"


def _bundle(tmp_path: Path, accounts: str = ACCOUNTS) -> str:
    write(tmp_path / "b" / "accounts.csv", accounts)
    write(tmp_path / "b" / "relationships.csv", LINKS)
    return str(tmp_path / "b")


def test_manual_links_win_survive_imports_and_are_audited(workspace, tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    import_bundle(workspace, [bundle])
    build(workspace)
    change = service.link(workspace, "DE", "X", ownership_pct=80, user="alice", note="sold to Xeria in 2026")
    assert hierarchy(workspace)["DE"]["group_head_id"] == "X"
    assert change["changed_by"] == "alice" and change["action"] == "link"
    before, after = json.loads(change["before"]), json.loads(change["after"])
    assert before["parents"] == [{"parent_id": "G", "relation": "subsidiary", "ownership_pct": None,
                                  "source": "crm", "is_control": True}]
    assert after["parents"] == [{"parent_id": "X", "relation": "subsidiary", "ownership_pct": 80.0,
                                 "source": "manual", "is_control": True}]
    service.unlink(workspace, "FR", user="bob")  # FR leaves the group entirely
    import_bundle(workspace, [_bundle(tmp_path, ACCOUNTS.replace("Valmont France", "Valmont France SAS"))])
    build(workspace)
    h = hierarchy(workspace)
    assert (h["DE"]["parent_id"], h["FR"]["parent_id"], h["G"]["descendants"]) == ("X", None, 0)
    history = service.changes(workspace)
    assert [(c["change_id"], c["changed_by"], c["action"], c["child_id"]) for c in history] == [
        (2, "bob", "detach", "FR"), (1, "alice", "link", "DE")]
    service.link(workspace, "FR", "G", user="bob")  # undo the detach
    assert hierarchy(workspace)["FR"]["parent_id"] == "G"


def test_unlink_one_parent_silences_a_bad_crm_link(workspace) -> None:
    put(workspace, [("C", "GONE"), ("P", None)], [("C", "P", "subsidiary", None)])
    build(workspace)
    assert workspace.engine.fetchall("SELECT kind FROM hierarchy_issues") == [("unknown_parent",)]
    assert hierarchy(workspace)["C"]["parent_id"] == "P"  # the known parent is used meanwhile
    service.unlink(workspace, "C", "GONE")
    assert workspace.engine.scalar("SELECT count(*) FROM hierarchy_issues") == 0
    assert hierarchy(workspace)["C"]["parent_id"] == "P"


def test_link_refuses_what_cannot_be_right(workspace) -> None:
    put(workspace, [("G", None), ("S", "G"), ("T", "S")])
    build(workspace)
    with pytest.raises(service.LinkError, match="would make a circle"):
        service.link(workspace, "G", "T")
    with pytest.raises(service.LinkError, match="own parent"):
        service.link(workspace, "S", "S")
    with pytest.raises(service.LinkError, match="--pct"):
        service.link(workspace, "S", "G", ownership_pct=120)
    with pytest.raises(service.LinkError, match="unknown relation"):
        service.link(workspace, "S", "G", relation="cousin")
    with pytest.raises(NotFoundError, match="no account 'NOPE'"):
        service.link(workspace, "S", "NOPE")
    assert service.changes(workspace) == []


def test_group_tree_shows_joint_ventures_kpis_and_issues(workspace, tmp_path: Path) -> None:
    import_bundle(workspace, [_bundle(tmp_path, ACCOUNTS + "O,Orphan,MISSING,\nO2,Orphan child,O,\n")])
    build(workspace)
    workspace.engine.execute("CREATE TABLE account_kpis AS SELECT account_id, 'customer' AS status, "
                             "CAST(1000 AS DOUBLE) AS revenue_cy, CAST(250 AS DOUBLE) AS margin_cy FROM accounts")
    result = service.group_tree(workspace, "FR")
    assert (result["group_head_id"], result["group_size"], result["path"]) == ("G", 3, "G > FR")
    assert result["group_kpis"] is None  # roll-ups not built
    workspace.engine.execute("CREATE TABLE group_kpis AS SELECT 'G' AS account_id, 'customer group' AS group_status, "
                             "3 AS entities, 2 AS customer_entities, CAST(3000 AS DOUBLE) AS revenue_cy, "
                             "CAST(750 AS DOUBLE) AS margin_cy")
    assert service.group_tree(workspace, "FR")["group_kpis"] == {
        "group_status": "customer group", "entities": 3, "customer_entities": 2, "revenue_cy": 3000.0, "margin_cy": 750.0}
    assert result["kpi_columns"] == ["status", "revenue_cy", "margin_cy"]
    tree = result["tree"]
    assert tree["account_id"] == "G" and tree["revenue_cy"] == 1000.0
    fr = next(c for c in tree["children"] if c["account_id"] == "FR")
    (jv,) = fr["children"]
    assert (jv["account_id"], jv["stake"], jv["ownership_pct"]) == ("J", True, 50.0)
    assert [c["account_id"] for c in jv["children"]] == ["JS"]
    jv_tree = service.group_tree(workspace, "JS")
    assert jv_tree["group_head_id"] == "J" and [o["parent_id"] for o in jv_tree["owners"]] == ["FR", "K"]
    orphan = service.group_tree(workspace, "O2")
    assert [i["kind"] for i in orphan["issues"]] == ["unknown_parent"] and result["issues"] == []
    limited = service.group_tree(workspace, "G", max_children=1)
    assert len(limited["tree"]["children"]) == 1 and limited["tree"]["more"] == 1


def test_a_failed_build_leaves_the_previous_hierarchy(workspace, monkeypatch) -> None:
    from accountree.hierarchy import closure

    put(workspace, [("G", None), ("S", "G")])
    build(workspace)
    workspace.engine.execute("UPDATE accounts SET parent_id = NULL WHERE account_id = 'S'")

    def broken(ws, max_depth):
        raise RuntimeError("disk full")

    monkeypatch.setattr(closure, "build_closure", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build(workspace)
    assert hierarchy(workspace)["S"]["parent_id"] == "G"
    monkeypatch.undo()
    assert build(workspace)["groups"] == 0 and hierarchy(workspace)["S"]["parent_id"] is None


def test_exports_keep_their_public_columns(workspace) -> None:
    put(workspace, [("G", None), ("S", "G")])
    build(workspace)
    rows = workspace.engine.fetch_dicts(export_query(workspace, "hierarchy"))
    assert list(rows[0]) == ["account_id", "name", "parent_id", "group_head_id", "level", "path", "relation",
                             "ownership_pct", "is_joint_venture", "descendants"]
    assert [(r["account_id"], r["path"], r["descendants"]) for r in rows] == [("G", "G", 1), ("S", "G > S", 0)]
    for name in ("hierarchy_issues", "hierarchy_changes", "hierarchy_edges"):
        workspace.engine.fetch_dicts(export_query(workspace, name))


def test_commands(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ACCOUNTREE_WORKSPACE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("ACCOUNTREE_USER", "carol")
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    bundle = _bundle(tmp_path, ACCOUNTS + "A,Alpha,B,\nB,Beta,A,\n")
    assert runner.invoke(app, ["import", bundle]).exit_code == 0
    built = runner.invoke(app, ["build", "--stage", "hierarchy", "--json"])
    assert json.loads(built.stdout)["hierarchy"]["issue_kinds"] == {"cycle": 1}
    shown = runner.invoke(app, ["tree", "JS"])
    assert shown.exit_code == 0, shown.output
    assert "joint venture held by FR 50 %, K 50 %" in shown.stdout and "JV Services" in shown.stdout
    cycle = runner.invoke(app, ["tree", "B"])
    assert "1 hierarchy issue(s) in this group" in cycle.stdout and "accountree unlink A B" in cycle.stdout
    linked = runner.invoke(app, ["link", "B", "G", "--relation", "business_unit"])
    assert linked.exit_code == 0 and "change #1 by carol: link B G" in linked.stdout
    assert "B (business_unit" in runner.invoke(app, ["tree", "G"]).stdout.replace("Beta B  business_unit", "B (business_unit")
    assert runner.invoke(app, ["unlink", "B", "G"]).exit_code == 0
    issues = json.loads(runner.invoke(app, ["hierarchy", "issues", "--json"]).stdout)
    assert [i["kind"] for i in issues] == ["cycle"]
    missing = runner.invoke(app, ["tree", "NOPE"])
    assert missing.exit_code == 1 and "no account 'NOPE'" in missing.output
    exported = runner.invoke(app, ["export", "hierarchy"]).stdout.splitlines()
    assert exported[0] == ('"account_id","name","parent_id","group_head_id","level","path","relation",'
                           '"ownership_pct","is_joint_venture","descendants"')
    changes = json.loads(runner.invoke(app, ["hierarchy", "changes", "--json"]).stdout)
    assert [c["action"] for c in changes] == ["unlink", "link"]
    settings = runner.invoke(app, ["hierarchy", "settings", "--precedence", "crm,manual"])
    assert settings.exit_code == 1 and "exactly once" in settings.output
