"""Raw CRM exports through the presets and a user mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from accountree.errors import ConfigError
from accountree.ingest import ImportOptions, import_bundle
from tests.conftest import write


def test_salesforce_data_loader_export(workspace, tmp_path: Path) -> None:
    write(tmp_path / "Account.csv",
          '"Id","Name","ParentId","Website","BillingCity","BillingCountry","Industry","NumberOfEmployees",'
          '"AnnualRevenue","OwnerId","CreatedDate","Type","Rating"\n'
          '"0015g00000AbCdEAAV","Brightwater Holdings PLC","","https://www.brightwater.co.uk","London",'
          '"United Kingdom","Energy","5400","1250000000","0055g000001XyZ","2021-04-01T09:12:44.000Z","Customer","Hot"\n'
          '"0015g00000AbCdFAAV","Brightwater Energy Ltd","0015g00000AbCdEAAV","brightwater-energy.co.uk","Leeds",'
          '"UK","Energy","800","","0055g000001XyZ","2022-01-15T10:00:00.000Z","Prospect",""\n')
    write(tmp_path / "Opportunity.csv",
          '"Id","AccountId","Name","StageName","Amount","CloseDate","IsClosed","IsWon","CreatedDate"\n'
          '"0065g01","0015g00000AbCdFAAV","Turbines","Closed Won","120000","2025-09-30","true","true","2025-01-10T08:00:00.000Z"\n'
          '"0065g02","0015g00000AbCdFAAV","Grid","Contrat signé","50000","2025-10-30","true","true","2025-02-10T08:00:00.000Z"\n'
          '"0065g03","0015g00000AbCdEAAV","Audit","Closed Lost","9000","2025-05-30","true","false","2025-02-11T08:00:00.000Z"\n'
          '"0065g04","0015g00000AbCdEAAV","Renewal","Negotiation/Review","30000","2026-12-31","false","false","2026-01-11T08:00:00.000Z"\n')
    import_bundle(workspace, [str(tmp_path)], ImportOptions(preset="salesforce"))
    accounts = workspace.engine.fetch_dicts(
        "SELECT account_id, name, parent_id, domain, country, employees, owner, CAST(created_at AS VARCHAR) AS created "
        "FROM accounts ORDER BY account_id")
    assert accounts[0] == {"account_id": "0015g00000AbCdEAAV", "name": "Brightwater Holdings PLC", "parent_id": None,
                           "domain": "brightwater.co.uk", "country": "GB", "employees": 5400,
                           "owner": "0055g000001XyZ", "created": "2021-04-01"}
    assert accounts[1]["parent_id"] == "0015g00000AbCdEAAV" and accounts[1]["country"] == "GB"
    stages = dict(workspace.engine.fetchall("SELECT deal_id, stage FROM deals"))
    # IsWon / IsClosed decide over a custom stage label
    assert stages == {"0065g01": "won", "0065g02": "won", "0065g03": "lost", "0065g04": "Negotiation/Review"}
    attrs = workspace.engine.fetch_dicts("SELECT attributes FROM accounts ORDER BY account_id")
    assert "Rating" in str(attrs[0]["attributes"]) and "Type" in str(attrs[0]["attributes"])


def test_hubspot_export_with_names_for_associations(workspace, tmp_path: Path) -> None:
    write(tmp_path / "hubspot-crm-exports-all-companies-2026-11-20.csv",
          "Record ID,Company name,Company Domain Name,Parent Company,Number of Employees,Annual Revenue,"
          "Country/Region,City,Industry,Create Date,Company owner,Lifecycle Stage\n"
          "9001,Ferrantelli S.p.A.,ferrantelli.it,,2300,450000000,Italy,Milano,Manufacturing,2023-02-01 10:00,Giulia Rossi,Customer\n"
          "9002,Ferrantelli Logistica S.r.l.,ferrantelli-logistica.it,Ferrantelli S.p.A.,210,,Italia,Torino,Logistics,"
          "2023-05-01 10:00,Giulia Rossi,Lead\n")
    write(tmp_path / "hubspot-crm-exports-all-deals-2026-11-20.csv",
          "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Associated Company,Deal owner,Pipeline\n"
          "501,Fleet,Closed Won,\"75,000\",2025-11-03 00:00,2025-06-01 00:00,Ferrantelli Logistica S.r.l.,Giulia Rossi,Sales Pipeline\n"
          "502,Upsell,Appointment Scheduled,20000,2026-12-15 00:00,2026-10-01 00:00,9001,Giulia Rossi,Sales Pipeline\n")
    import_bundle(workspace, [str(tmp_path)], ImportOptions(preset="hubspot"))
    assert workspace.engine.fetchall("SELECT account_id, parent_id, country FROM accounts ORDER BY 1") == [
        ("9001", None, "IT"), ("9002", "9001", "IT")]  # parent given by name, resolved to its id
    assert workspace.engine.fetchall("SELECT deal_id, account_id, stage, amount FROM deals ORDER BY 1") == [
        ("501", "9002", "won", 75000.0), ("502", "9001", "Appointment Scheduled", 20000.0)]


def test_user_mapping_file(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "mapping.yaml", """
tables:
  accounts:
    files: ["export_clients*"]
    columns:
      account_id: Code client
      name: [Raison sociale, Nom]
      country: Pays
    values:
      country: {Hexagone: FR}
""")
    write(tmp_path / "data" / "export_clients_2026.csv", "Code client;Raison sociale;Pays;Secteur\nK1;Durand & Cie;Hexagone;BTP\n")
    import_bundle(duckdb_workspace, [str(tmp_path / "data")], ImportOptions(mapping=tmp_path / "mapping.yaml"))
    assert duckdb_workspace.engine.fetchall("SELECT account_id, name, country FROM accounts") == [("K1", "Durand & Cie", "FR")]


def test_invalid_mapping_lists_every_problem(tmp_path: Path) -> None:
    from accountree.ingest.mapping import load_mapping

    write(tmp_path / "m.yaml", "tables:\n  acounts: {}\n  deals:\n    columns: {montant: Amount}\n    colums: {}\n")
    with pytest.raises(ConfigError) as caught:
        load_mapping(tmp_path / "m.yaml")
    text = " ".join(caught.value.problems)
    assert "acounts" in text and "montant" in text and "colums" in text
