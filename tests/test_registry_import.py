"""Registry imports into a workspace: attach by identifier, registry-only accounts, tree links with
their source, idempotent re-imports, funds kept out of the tree, all-or-nothing on bad files.

GLEIF rows are real (CC0, `tests/fixtures/registry/gleif_rr_sample.csv`); the expected figures
below were worked out by hand from the rows quoted in each test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accountree.errors import ImportValidationError
from accountree.ingest import import_bundle
from accountree.registry import RegistryFormatError
from accountree.registry.importer import import_registry
from accountree.registry.service import reattach, registry_status
from tests.conftest import FIXTURES, write

REG = FIXTURES / "registry"
GLEIF_RR = REG / "gleif_rr_sample.csv"

# Chain in the real sample: 21380065UB1WG9BI9554 -> 21380049EY73WKXG3136 -> 5493003BZYYYCDIO0R13,
# both children declaring 5493003B… as their ultimate parent. 213800IFUE72QYVKXA57 is a fund
# managed by 2138006Q9ECC6FOBPT48.
CHILD, PARENT, ULTIMATE = "21380065UB1WG9BI9554", "21380049EY73WKXG3136", "5493003BZYYYCDIO0R13"
FUND, MANAGER = "213800IFUE72QYVKXA57", "2138006Q9ECC6FOBPT48"


def crm(ws, tmp_path: Path, accounts: str, relationships: str | None = None) -> None:
    write(tmp_path / "crm" / "accounts.csv", accounts)
    if relationships:
        write(tmp_path / "crm" / "relationships.csv", relationships)
    import_bundle(ws, [str(tmp_path / "crm")])


def rows(ws, sql: str, params=None) -> set[tuple]:
    return set(ws.engine.fetchall(sql, params))


def registry_accounts(ws, source: str) -> set[tuple]:
    return rows(ws, "SELECT account_id, name, country FROM accounts WHERE source = ?", [source])


def tree(ws, source: str) -> set[tuple]:
    return rows(ws, "SELECT child_id, parent_id, relation FROM relationships WHERE source = ?", [source])


def gleif_rows(tmp_path: Path, keep) -> Path:
    """A level-2 file of the real sample's header and the rows `keep(child, parent, type)` selects."""
    header, *lines = GLEIF_RR.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if keep(*[line.split(",")[i] for i in (0, 2, 4)])]
    return write(tmp_path / "20260123-gleif-rr-part.csv", "\n".join([header, *kept]) + "\n")


def test_gleif_level2_attaches_by_lei_completes_the_group_and_reimports_as_a_no_op(workspace, tmp_path):
    crm(workspace, tmp_path, f"account_id,name,country,lei\nA,Child Bank,GB,{CHILD}\nM,Fund Manager,GB,{MANAGER}\n"
                             "X,Prospect,FR,\n")
    first = import_registry(workspace, "gleif", [GLEIF_RR])

    assert first.files[0].format == "gleif_level2" and first.files[0].rows == 29
    assert first.files[0].inserted == 29 and first.files[0].problem_count == 0
    # The whole group of A, and nothing of M's funds (fund management is not ownership).
    assert registry_accounts(workspace, "gleif") == {
        (f"LEI:{PARENT}", f"LEI {PARENT}", None), (f"LEI:{ULTIMATE}", f"LEI {ULTIMATE}", None)}
    assert tree(workspace, "gleif") == {("A", f"LEI:{PARENT}", "subsidiary"),
                                       (f"LEI:{PARENT}", f"LEI:{ULTIMATE}", "subsidiary")}
    assert rows(workspace, "SELECT child_account_id, parent_account_id, relation, is_ownership FROM registry_links "
                           "WHERE child_source_id = ?", [FUND]) == {(None, "M", "fund", False)}
    assert rows(workspace, "SELECT count(*) FROM relationships WHERE child_id = 'M' OR parent_id = 'M'") == {(0,)}
    assert rows(workspace, "SELECT count(*) FROM registry_discrepancies") == {(0,)}  # the chain reaches its ultimate
    assert rows(workspace, "SELECT table_name, preset, rows, inserted FROM imports WHERE table_name LIKE 'registry%'") \
        == {("registry_gleif", "gleif_level2", 29, 29)}
    assert first.reconcile["attached"] == {"lei": 2, "created": 2, "unattached": 34}

    second = import_registry(workspace, "gleif", [GLEIF_RR])
    assert (second.files[0].inserted, second.files[0].updated, second.files[0].unchanged) == (0, 0, 29)
    assert second.reconcile["registry_only_created"] == 0 and second.reconcile["registry_only_updated"] == 0
    assert rows(workspace, "SELECT DISTINCT import_id FROM relationships WHERE source = 'gleif'") == {(first.import_id,)}
    assert rows(workspace, "SELECT count(*) FROM accounts") == {(5,)}
    status = registry_status(workspace)
    assert status["sources"][0]["crm_accounts_attached"] == 2 and status["crm_accounts_in_a_registry"] == 2


def test_level1_names_registry_only_accounts_and_everything_is_scoped_to_your_groups(duckdb_workspace, tmp_path):
    ws = duckdb_workspace
    crm(ws, tmp_path, f"account_id,name,lei\nA,Child Bank,{CHILD}\n")
    import_registry(ws, "gleif", [GLEIF_RR])
    level1 = write(tmp_path / "level1.csv", "LEI,Entity.LegalName,Entity.LegalAddress.Country,Entity.LegalAddress.City\n"
                                            f"{PARENT},Parent Holdings Ltd,GB,London\n{FUND},Some Fund,LU,Luxembourg\n")
    result = import_registry(ws, "gleif", [level1], as_of="2026-01-23")
    assert result.reconcile["registry_only_updated"] == 1
    assert registry_accounts(ws, "gleif") == {(f"LEI:{PARENT}", "Parent Holdings Ltd", "GB"),
                                              (f"LEI:{ULTIMATE}", f"LEI {ULTIMATE}", None)}
    # the fund is stored with its date but gets no account: it is no member of A's group
    assert rows(ws, "SELECT source_id, account_id, attach_method, as_of FROM registry_entities") == {
        (PARENT, f"LEI:{PARENT}", "created", __import__("datetime").date(2026, 1, 23)),
        (FUND, None, None, __import__("datetime").date(2026, 1, 23))}
    everything = reattach(ws, ["gleif"], create_accounts="all")["gleif"]
    assert everything["registry_only_created"] == 38 - 1 - 2  # the 38 LEIs of the file but A and the two made


def test_ultimate_parent_completes_a_chain_that_stops_or_is_reported(workspace, tmp_path):
    # Real chain 2138002U29YTPPRF1O03 -> 969500TKFV51RUNNJK56 -> R0MUWSFPU8MPRO8K5P83 with the
    # middle entity's direct link left out: the chain stops at 969500TK…, which has no parent at all.
    part = gleif_rows(tmp_path, lambda child, parent, kind: child in ("2138002U29YTPPRF1O03", "969500TKFV51RUNNJK56")
                      and not (child == "969500TKFV51RUNNJK56" and kind == "IS_DIRECTLY_CONSOLIDATED_BY"))
    crm(workspace, tmp_path, "account_id,name,lei\nA,Sub,2138002U29YTPPRF1O03\n")
    result = import_registry(workspace, "gleif", [part])
    assert result.reconcile["chains_completed"] == 1
    assert tree(workspace, "gleif") == {("A", "LEI:969500TKFV51RUNNJK56", "subsidiary"),
                                       ("LEI:969500TKFV51RUNNJK56", "LEI:R0MUWSFPU8MPRO8K5P83", "subsidiary")}
    assert rows(workspace, "SELECT kind, child_id, declared_ultimate_id, computed_ultimate_id FROM registry_discrepancies") \
        == {("completed", "LEI:969500TKFV51RUNNJK56", "LEI:R0MUWSFPU8MPRO8K5P83", "LEI:969500TKFV51RUNNJK56")}


def test_ultimate_parent_disagreeing_with_a_crm_parent_is_a_discrepancy(duckdb_workspace, tmp_path):
    ws = duckdb_workspace
    part = gleif_rows(tmp_path, lambda child, parent, kind: child == "2138002U29YTPPRF1O03")
    crm(ws, tmp_path, "account_id,name,lei,parent_id\nA,Sub,2138002U29YTPPRF1O03,\n"
                      "B,Mid,969500TKFV51RUNNJK56,P\nP,Crm Parent,,\n")
    result = import_registry(ws, "gleif", [part])
    assert result.reconcile["chains_completed"] == 0 and result.reconcile["discrepancies"] == {"mismatch": 1}
    assert tree(ws, "gleif") == {("A", "B", "subsidiary")}
    (message,) = rows(ws, "SELECT message FROM registry_discrepancies")
    assert "ends at 969500TKFV51RUNNJK56" in message[0]


def test_dnb_family_tree(workspace, tmp_path):
    crm(workspace, tmp_path, "account_id,name,country,duns\nFR1,Acme France,FR,275374108\n")
    result = import_registry(workspace, "dnb", [REG / "dnb_hoovers_family_tree.csv"], as_of="2026-03-01")
    assert result.files[0].problem_count == 1  # the N/A D-U-N-S row: skipped and reported
    assert registry_accounts(workspace, "dnb") == {
        ("DUNS:150483782", "Acme Holdings, Inc.", "US"), ("DUNS:150483790", "Acme Holdings, Inc. - Denver", "US"),
        ("DUNS:381042265", "Acme Industrie SARL", "FR"), ("DUNS:412298723", "Acme France - Lyon", "FR")}
    # Acme UK (out of business) gets no account; its link is inactive anyway.
    assert tree(workspace, "dnb") == {
        ("FR1", "DUNS:150483782", "subsidiary"), ("DUNS:150483790", "DUNS:150483782", "branch"),
        ("DUNS:381042265", "FR1", "subsidiary"), ("DUNS:412298723", "FR1", "branch")}
    assert rows(workspace, "SELECT count(*) FROM registry_discrepancies") == {(0,)}
    again = import_registry(workspace, "dnb", [REG / "dnb_hoovers_family_tree.csv"], as_of="2026-03-01")
    assert again.files[0].inserted == 0 and again.files[0].updated == 0


def test_sirene_units_and_establishments(workspace, tmp_path):
    crm(workspace, tmp_path, "account_id,name,siren,siret\nDAN,Danone,552032534,\nAIR,Airbus Blagnac,,38347481400001\n")
    files = [REG / "sirene_StockUniteLegale_utf8.csv", REG / "sirene_StockEtablissement_utf8.csv"]
    result = import_registry(workspace, "sirene", files)
    assert [f.format for f in result.files] == ["sirene_unite_legale", "sirene_etablissement"]
    assert rows(workspace, "SELECT source_id, account_id, attach_method FROM registry_entities "
                           "WHERE source_id LIKE '552032534%' OR source_id LIKE '383474814%'") == {
        ("552032534", "DAN", "siren"), ("55203253400018", "DAN", "head_office"),  # the siège is Danone itself
        ("55203253400026", None, None),  # a closed site: no account
        ("383474814", "SIREN:383474814", "created"), ("38347481400001", "AIR", "siret"),
        ("38347481400506", "SIRET:38347481400506", "created")}
    assert registry_accounts(workspace, "sirene") == {("SIREN:383474814", "AIRBUS", "FR"),
                                                      ("SIRET:38347481400506", "AIRBUS (HAMBOURG)", None)}
    assert tree(workspace, "sirene") == {("AIR", "SIREN:383474814", "branch"),
                                        ("SIRET:38347481400506", "SIREN:383474814", "branch")}
    # Idempotent, including the identifiers the registry does not fill (AIR's SIREN stays empty).
    again = import_registry(workspace, "sirene", files)
    assert sum(f.inserted + f.updated for f in again.files) == 0
    assert again.reconcile["superseded"] == 0 and tree(workspace, "sirene") == {
        ("AIR", "SIREN:383474814", "branch"), ("SIRET:38347481400506", "SIREN:383474814", "branch")}


def test_crm_account_with_the_same_identifier_supersedes_the_registry_only_account(duckdb_workspace, tmp_path):
    ws = duckdb_workspace
    crm(ws, tmp_path, f"account_id,name,lei\nA,Child Bank,{CHILD}\n")
    import_registry(ws, "gleif", [GLEIF_RR])
    crm(ws, tmp_path, f"account_id,name,lei\nA,Child Bank,{CHILD}\nP,Parent Holdings,{PARENT}\n")
    summary = reattach(ws)["gleif"]
    assert summary["superseded"] == 1
    assert rows(ws, "SELECT old_id, survivor_id FROM account_aliases") == {(f"LEI:{PARENT}", "P")}
    assert tree(ws, "gleif") == {("A", "P", "subsidiary"), ("P", f"LEI:{ULTIMATE}", "subsidiary")}


def test_identifiers_are_filled_only_where_empty_and_recorded(duckdb_workspace, tmp_path):
    ws = duckdb_workspace
    crm(ws, tmp_path, "account_id,name,lei\nA,Child Bank,\n")
    ws.engine.execute("INSERT INTO account_aliases VALUES (?, 'A', NULL, 'resolver', 'merged')", [f"LEI:{CHILD}"])
    import_registry(ws, "gleif", [GLEIF_RR])
    assert rows(ws, "SELECT lei FROM accounts WHERE account_id = 'A'") == {(CHILD,)}
    assert rows(ws, "SELECT account_id, column_name, value, source FROM registry_fills") == {("A", "lei", CHILD, "gleif")}


def test_bad_files_write_nothing(workspace, tmp_path):
    crm(workspace, tmp_path, "account_id,name,duns\nFR1,Acme France,275374108\n")
    before = rows(workspace, "SELECT count(*) FROM imports")
    with pytest.raises(RegistryFormatError) as wrong:
        import_registry(workspace, "sirene", [GLEIF_RR])
    assert wrong.value.exit_code == 2
    with pytest.raises(ImportValidationError):  # --strict: the good file is not written either
        import_registry(workspace, "dnb", [REG / "dnb_direct_plus_family_tree.csv", REG / "dnb_hoovers_family_tree.csv"],
                        strict=True)
    assert rows(workspace, "SELECT count(*) FROM imports") == before
    for table in ("registry_entities", "registry_links", "registry_discrepancies"):
        assert rows(workspace, f"SELECT count(*) FROM {table}") == {(0,)}
    assert rows(workspace, "SELECT count(*) FROM accounts") == {(1,)}


def test_cli_import_status_and_exit_code(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from accountree.cli import app

    monkeypatch.setenv("ACCOUNTREE_WORKSPACE", str(tmp_path / "ws.duckdb"))
    runner = CliRunner()
    done = runner.invoke(app, ["registry", "import", "gleif", str(GLEIF_RR), "--json", "--create-accounts", "none"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["files"][0]["inserted"] == 29
    status = json.loads(runner.invoke(app, ["registry", "status", "--json"]).stdout)
    assert status["sources"][0]["links"] == 29 and status["sources"][0]["registry_only_accounts"] == 0
    bad = runner.invoke(app, ["registry", "import", "dnb", str(GLEIF_RR)])
    assert bad.exit_code == 2


def test_the_hierarchy_build_takes_registry_links_over_the_crm(duckdb_workspace, tmp_path):
    """Default precedence manual > registry > crm: GLEIF's parent replaces the CRM's for A."""
    import datetime

    from accountree.build import BuildOptions, build

    ws = duckdb_workspace
    crm(ws, tmp_path, f"account_id,name,lei,parent_id\nA,Child Bank,{CHILD},X\nX,Crm Parent,,\n")
    import_registry(ws, "gleif", [GLEIF_RR])
    build(ws, BuildOptions(as_of=datetime.date(2026, 11, 23), stages=["hierarchy"]))
    assert rows(ws, "SELECT account_id, parent_id, group_head_id FROM hierarchy WHERE account_id IN ('A', 'X')") == {
        ("A", f"LEI:{PARENT}", f"LEI:{ULTIMATE}"), ("X", None, "X")}


def test_match_names_attaches_unique_name_and_country_only(workspace, tmp_path):
    crm(workspace, tmp_path, "account_id,name,country\nF,ACME FRANCE,FR\nI1,Acme Industrie,FR\nI2,ACME INDUSTRIE SARL,FR\n"
                             "U,Acme UK Limited,US\n")
    result = import_registry(workspace, "dnb", [REG / "dnb_hoovers_family_tree.csv"], as_of="2026-03-01",
                             match_names=True, create_accounts="none")
    assert result.reconcile["attached"]["name"] == 1  # Acme France SAS; Acme Industrie is ambiguous, Acme UK is GB
    assert rows(workspace, "SELECT source_id, account_id, attach_method FROM registry_entities "
                           "WHERE account_id IS NOT NULL") == {("275374108", "F", "name")}
    assert rows(workspace, "SELECT account_id, column_name, value FROM registry_fills") == {("F", "duns", "275374108")}
    again = import_registry(workspace, "dnb", [REG / "dnb_hoovers_family_tree.csv"], as_of="2026-03-01",
                            create_accounts="none")  # the filled D-U-N-S now attaches it without names
    assert again.reconcile["attached"]["duns"] == 1


def test_a_pair_the_crm_rewrote_is_left_to_the_crm(duckdb_workspace, tmp_path):
    ws = duckdb_workspace
    crm(ws, tmp_path, f"account_id,name,lei\nA,Child Bank,{CHILD}\n")
    import_registry(ws, "gleif", [GLEIF_RR])
    crm(ws, tmp_path, f"account_id,name,lei\nA,Child Bank,{CHILD}\n",
        f"child_id,parent_id,ownership_pct\nA,LEI:{PARENT},60\n")  # same pair, the CRM's share
    reattach(ws)
    assert rows(ws, "SELECT child_id, parent_id, ownership_pct FROM relationships WHERE child_id = 'A'") == {
        ("A", f"LEI:{PARENT}", 60.0)}


def test_reporting_exceptions_contradicting_a_crm_parent_are_reported(workspace, tmp_path):
    crm(workspace, tmp_path, "account_id,name,lei,parent_id\nS,Airbus Operations,9845000ACCTREE000167,P\n"
                             "P,Crm Parent,,\nN,Omaheke,9845000ACCTREE000361,\n")
    result = import_registry(workspace, "gleif", [REG / "gleif_repex_sample.csv"])
    assert result.reconcile["discrepancies"] == {"reported_no_parent": 1}  # N has no parent: no contradiction
    assert rows(workspace, "SELECT child_id, computed_ultimate_id, message FROM registry_discrepancies") == {
        ("S", "P", "9845000ACCTREE000167 reports no direct consolidating parent (NATURAL_PERSONS), "
                   "but crm gives it the parent P")}
    assert rows(workspace, "SELECT count(*) FROM relationships WHERE source = 'gleif'") == {(0,)}


def test_attach_and_the_build_stage_keep_the_options_of_the_last_import(duckdb_workspace, tmp_path):
    import datetime

    from accountree.build import BuildOptions
    from accountree.registry.stage import STAGE

    ws = duckdb_workspace
    crm(ws, tmp_path, f"account_id,name,lei\nA,Child Bank,{CHILD}\n")
    import_registry(ws, "gleif", [GLEIF_RR], create_accounts="none")
    assert STAGE.run(ws, BuildOptions(as_of=datetime.date(2026, 11, 23))) == {
        "gleif links": 0, "gleif registry-only accounts new": 0, "gleif discrepancies": 0}
    assert reattach(ws, create_accounts="groups")["gleif"]["registry_only_created"] == 2


def test_exports_run(duckdb_workspace, tmp_path):
    from accountree.registry.exports import EXPORTS

    ws = duckdb_workspace
    crm(ws, tmp_path, f"account_id,name,lei\nA,Child Bank,{CHILD}\n")
    import_registry(ws, "gleif", [GLEIF_RR])
    counts = {e.name: ws.engine.fetch_arrow(e.query(ws)).num_rows for e in EXPORTS}
    assert counts == {"registry_entities": 0, "registry_links": 29, "registry_discrepancies": 0, "registry_fills": 0}
