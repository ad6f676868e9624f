"""Duplicate resolution on a workspace (DuckDB and PostgreSQL): auto merges, review queue,
survivor rule, moves, undo, remembered decisions, exports and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accountree.exports import export_query
from accountree.ingest import import_bundle
from accountree.resolve.pipeline import ResolveOptions, pair_id
from accountree.resolve.service import candidates, decide, merge, resolve
from accountree.resolve.undo import undo_merge
from accountree.store import Workspace
from tests.conftest import write

ACCOUNTS = """account_id,name,parent_id,domain,country,city,industry,siren,lei,created_at
A1,Airbus SE,,airbus.com,FR,Toulouse,Aerospace,383474814,969500EURTVCD9WACB61,2015-01-01
A2,Airbus Defence and Space GmbH,A1,airbus.com,DE,Munich,Aerospace,,,2016-01-01
A3,Airbus Operations SAS,A1,airbus.com,FR,Toulouse,Aerospace,,,2016-02-01
A4,AIRBUS OPERATIONS,,airbus.com,FR,Toulouse,Aerospace,,,2020-03-01
B1,Société Générale S.A.,,societegenerale.com,FR,Paris,Banking,552120222,,2010-01-01
B2,Ste Generale,,societegenerale.fr,FR,Paris,Banking,552120222,,2019-01-01
D1,Procter & Gamble Company,,pg.com,US,Cincinnati,Consumer,,,2011-01-01
D2,Procter and Gamble,,,US,,Consumer,,,2022-01-01
E1,Dupont Logistique SARL,,dupont-log.fr,FR,Lyon,Logistics,,,2013-01-01
E2,Durand Logistique SARL,,durand-log.fr,FR,Lyon,Logistics,,,2013-01-01
"""
DEALS = """deal_id,account_id,stage,amount,close_date
X1,A3,won,1000,2024-01-01
X2,A4,won,500,2024-02-01
X3,B2,won,700,2024-02-01
X4,B2,lost,100,2024-02-01
"""
CONTACTS = "contact_id,account_id,name\nK1,A4,Jane\nK2,D2,Bob\n"
RELATIONSHIPS = "child_id,parent_id,relation,ownership_pct\nA3,A1,subsidiary,100\nD2,A1,subsidiary,10\nD1,A1,subsidiary,20\n"
CAMPAIGNS = "campaign_id,name\nC1,Spring\n"
CAMPAIGN_ACCOUNTS = "campaign_id,account_id\nC1,D1\nC1,D2\n"


@pytest.fixture
def loaded(workspace: Workspace, tmp_path: Path) -> Workspace:
    for name, text in (("accounts", ACCOUNTS), ("deals", DEALS), ("contacts", CONTACTS),
                       ("relationships", RELATIONSHIPS), ("campaigns", CAMPAIGNS),
                       ("campaign_accounts", CAMPAIGN_ACCOUNTS)):
        write(tmp_path / "bundle" / f"{name}.csv", text)
    import_bundle(workspace, [str(tmp_path / "bundle")])
    return workspace


def _survivors(ws: Workspace) -> dict[str, str]:
    rows = ws.engine.fetchall(export_query(ws, "resolution"))
    return {r[0]: r[1] for r in rows}


def test_resolve_merges_duplicates_and_keeps_siblings_apart(loaded: Workspace) -> None:
    ws = loaded
    summary = resolve(ws, ResolveOptions(), user="tester")
    assert summary["merged_records"] == 3
    survivors = _survivors(ws)
    assert len(survivors) == 10  # one row per imported id, merged ones included
    # A4 has a deal and a contact, A3 one deal: A4 survives; B2 has two deals; D2 a contact
    assert survivors["A3"] == "A4" and survivors["B1"] == "B2" and survivors["D1"] == "D2"
    # siblings of one group and two look-alike companies stay apart
    assert {survivors[i] for i in ("A1", "A2", "E1", "E2")} == {"A1", "A2", "E1", "E2"}
    rows = {r[0]: r for r in ws.engine.fetchall(export_query(ws, "resolution"))}
    assert rows["A4"][2] is None and rows["A3"][2] > 0.95
    # the merged record's deal moved, its parent filled the survivor's empty parent_id
    assert ws.engine.scalar("SELECT account_id FROM deals WHERE deal_id = 'X1'") == "A4"
    assert ws.engine.scalar("SELECT parent_id FROM accounts WHERE account_id = 'A4'") == "A1"
    assert ws.engine.scalar("SELECT count(*) FROM accounts WHERE account_id IN ('A3', 'B1')") == 0
    # its relationship moved too
    assert ws.engine.fetchall("SELECT child_id, parent_id FROM relationships WHERE child_id LIKE 'A%'") == [("A4", "A1")]
    alias = ws.engine.fetchone("SELECT survivor_id, merged_by FROM account_aliases WHERE old_id = 'A3'")
    assert alias == ("A4", "tester")
    # same name, country and industry, nothing against: merged at the default threshold (0.75)
    pg = ws.engine.fetchone("SELECT match_probability, method FROM duplicate_candidates WHERE pair_id = ?",
                            [pair_id("D1", "D2")])
    assert pg[1] == "auto" and 0.75 <= pg[0] < 0.995
    # the review queue: the group head and its subsidiary's look-alike ("Airbus" / "AIRBUS OPERATIONS")
    queue = [(c["account_id_l"], c["account_id_r"], c["guard"]) for c in candidates(ws)]
    assert queue == [("A1", "A4", "extra words: operations")]


def test_a_stricter_auto_threshold_queues_the_less_sure_pairs(loaded: Workspace) -> None:
    summary = resolve(loaded, ResolveOptions(auto_threshold=0.995))
    assert summary["merged_records"] == 2
    assert ("D1", "D2") in {(c["account_id_l"], c["account_id_r"]) for c in candidates(loaded)}


def test_undo_restores_everything_and_the_pair_never_comes_back(loaded: Workspace) -> None:
    ws = loaded
    resolve(ws)
    merge_id = ws.engine.scalar("SELECT merge_id FROM merges WHERE merged_id = 'A3'")
    result = undo_merge(ws, merge_id, user="tester")
    assert result["restored"] == "A3" and result["emptied"] == ["parent_id"]
    row = ws.engine.fetchone("SELECT name, parent_id, siren, CAST(created_at AS VARCHAR) FROM accounts WHERE account_id = 'A3'")
    assert row == ("Airbus Operations SAS", "A1", None, "2016-02-01")
    assert ws.engine.scalar("SELECT account_id FROM deals WHERE deal_id = 'X1'") == "A3"
    assert ws.engine.scalar("SELECT parent_id FROM accounts WHERE account_id = 'A4'") is None
    assert ws.engine.fetchall("SELECT child_id FROM relationships WHERE parent_id = 'A1' AND child_id LIKE 'A%'") == [("A3",)]
    assert ws.engine.scalar("SELECT count(*) FROM account_aliases WHERE old_id = 'A3'") == 0
    assert _survivors(ws)["A3"] == "A3"
    with pytest.raises(Exception, match="already undone"):
        undo_merge(ws, merge_id)
    # undone = rejected: resolving again does not merge the pair again
    resolve(ws)
    assert _survivors(ws)["A3"] == "A3"
    status = ws.engine.scalar("SELECT status FROM duplicate_candidates WHERE pair_id = ?", [pair_id("A3", "A4")])
    assert status == "rejected"


def test_review_decisions_are_remembered(loaded: Workspace) -> None:
    ws = loaded
    strict = ResolveOptions(auto_threshold=0.995)  # so that the P&G pair waits for a reviewer
    resolve(ws, strict)
    queue = {(c["account_id_l"], c["account_id_r"]): c for c in candidates(ws)}
    pg = queue[("D1", "D2")]
    assert pg["left"]["name"] == "Procter & Gamble Company" and pg["evidence"]["name"]["level"]
    others = [c for k, c in queue.items() if k != ("D1", "D2")]
    for c in others:
        decide(ws, c["pair_id"], "reject", user="rev")
    decide(ws, pg["pair_id"], "skip")
    assert candidates(ws, "skipped")[0]["pair_id"] == pg["pair_id"]
    resolve(ws, strict)  # skipped pairs come back, rejected ones never
    pending = {c["pair_id"] for c in candidates(ws)}
    assert pending == {pg["pair_id"]}
    result = decide(ws, pg["pair_id"], "accept", user="rev")
    assert len(result["merge_ids"]) == 1
    # D2 (one contact) survives; D1's relationship re-points, its campaign membership was a duplicate
    assert _survivors(ws)["D1"] == "D2"
    assert ws.engine.fetchall("SELECT campaign_id, account_id FROM campaign_accounts") == [("C1", "D2")]
    assert ws.engine.fetchall("SELECT ownership_pct FROM relationships WHERE child_id = 'D2'") == [(10.0,)]
    with pytest.raises(Exception, match="already decided"):
        decide(ws, pg["pair_id"], "reject")
    undo_merge(ws, result["merge_ids"][0])
    assert sorted(ws.engine.fetchall("SELECT campaign_id, account_id FROM campaign_accounts")) == [("C1", "D1"), ("C1", "D2")]
    assert sorted(ws.engine.fetchall("SELECT child_id, ownership_pct FROM relationships WHERE child_id LIKE 'D%'")) == [
        ("D1", 20.0), ("D2", 10.0)]


def test_manual_merge_chain_and_undo_order(loaded: Workspace) -> None:
    ws = loaded
    (m1,) = merge(ws, ["E1", "E2"], survivor_id="E1", user="me")
    (m2,) = merge(ws, ["D1", "E1"], survivor_id="D1", user="me")
    # aliases are flattened: E2 now points at D1
    assert _survivors(ws)["E2"] == "D1"
    with pytest.raises(Exception, match="merged away since"):
        undo_merge(ws, m1)
    undo_merge(ws, m2)
    undo_merge(ws, m1)
    assert ws.engine.scalar("SELECT count(*) FROM accounts") == 10
    assert ws.engine.scalar("SELECT count(*) FROM account_aliases") == 0
    exported = ws.engine.fetch_dicts(export_query(ws, "merges"))
    assert [m["undone_at"] is not None for m in exported] == [True, True]


def test_cli_resolve_auto_and_exports(loaded: Workspace, engine_location: str) -> None:
    from accountree.cli import app

    location = engine_location
    loaded.close()
    runner = CliRunner()
    out = runner.invoke(app, ["resolve", "--auto", "--json", "-w", location])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["merged_records"] == 3
    out = runner.invoke(app, ["export", "resolution", "-w", location])
    assert out.stdout.splitlines()[0] == '"account_id","survivor_id","match_probability"'
    out = runner.invoke(app, ["review", "--json", "-w", location])
    assert len(json.loads(out.stdout)) == 1
    out = runner.invoke(app, ["resolve", "undo", "1", "-w", location])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["resolve", "undo", "99", "-w", location])
    assert out.exit_code == 1 and "no merge #99" in out.output


def test_interactive_review_loop(loaded: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.prompt import Prompt

    from accountree.resolve.commands import _review_loop

    ws = loaded
    resolve(ws, ResolveOptions(auto_threshold=0.995))  # two pairs to review
    answers = iter(["r", "a", "q"])
    monkeypatch.setattr(Prompt, "ask", lambda *a, **k: next(answers))
    counts = _review_loop(ws, limit=None)
    assert counts == {"accept": 1, "reject": 1, "skip": 0}
    assert candidates(ws) == []
    statuses = sorted(r[0] for r in ws.engine.fetchall(
        "SELECT status FROM duplicate_candidates WHERE method = 'review'"))
    assert statuses == ["merged", "rejected"]
