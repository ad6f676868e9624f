"""`accountree search NAME`, and names accepted where an id is (tree, map, kpis) when unique."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accountree.build import BuildOptions, build
from accountree.cli import app
from accountree.ingest import import_bundle
from accountree.search import AmbiguousNameError, resolve, search
from accountree.store import open_workspace
from tests.conftest import write

ACCOUNTS = """account_id,name,parent_id,country,domain,siren
H1,Groupe Éclair SA,,FR,eclair.fr,552120222
H2,Éclair Services,H1,FR,,
H3,Éclair Logistique,H1,FR,,
Z1,Zèbre & Co,,BE,zebre.be,
"""
DEALS = "deal_id,account_id,stage,amount,close_date\nD1,H2,won,1000.10,2026-03-01\nD2,H3,won,2000.20,2026-04-01\n"


def _load(ws, tmp_path: Path) -> None:
    write(tmp_path / "b" / "accounts.csv", ACCOUNTS)
    write(tmp_path / "b" / "deals.csv", DEALS)
    import_bundle(ws, [str(tmp_path / "b")])
    build(ws, BuildOptions(as_of=date(2026, 11, 23)))


@pytest.fixture
def built(workspace, tmp_path: Path):
    _load(workspace, tmp_path)
    return workspace


def test_search_and_resolve_names(built) -> None:
    rows = search(built, "eclair")
    assert [r["account_id"] for r in rows] == ["H3", "H2", "H1"]  # names starting with it first, then by name
    assert all(r["group_head_id"] == "H1" and r["group_revenue_cy"] == pytest.approx(3000.30) for r in rows)
    assert search(built, "552120222")[0]["account_id"] == "H1"  # a SIREN
    assert resolve(built, "zebre") == "Z1" and resolve(built, "ÉCLAIR SERVICES") == "H2" and resolve(built, "H3") == "H3"
    with pytest.raises(AmbiguousNameError) as err:
        resolve(built, "éclair ")  # three accounts start with it
    assert "Éclair Services (H2)" in str(err.value) and err.value.hint


def test_cli_search_and_names_for_ids(engine_location: str, tmp_path: Path) -> None:
    ws = open_workspace(engine_location)
    try:
        _load(ws, tmp_path)
    finally:
        ws.close()
    location = engine_location
    runner = CliRunner()
    found = json.loads(runner.invoke(app, ["search", "eclair", "-w", location, "--json"]).output)
    assert found[-1]["name"] == "Groupe Éclair SA" and found[-1]["group_revenue_cy"] == 3000.3
    tree = runner.invoke(app, ["tree", "Groupe Eclair", "-w", location, "--json"])
    assert tree.exit_code == 0 and json.loads(tree.output)["group_head_id"] == "H1"
    kpis = runner.invoke(app, ["kpis", "group", "groupe éclair sa", "-w", location, "--json"])
    assert kpis.exit_code == 0 and json.loads(kpis.output)["account_id"] == "H1"
    ambiguous = runner.invoke(app, ["kpis", "account", "eclair", "-w", location, "--json"])
    assert ambiguous.exit_code != 0 and "H2" in ambiguous.output
