"""Import guarantees, on DuckDB and PostgreSQL: real-world files, atomicity, idempotence."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accountree.errors import ImportValidationError
from accountree.ingest import ImportOptions, import_bundle
from accountree.ingest.bundle import BundleError
from tests.conftest import write

ACCOUNTS = """account_id,name,parent_id,domain,country,employees,annual_revenue,currency,is_group_head
A1,Groupe Valmont SA,,https://www.valmont.fr/contact,France,12000,1000000,EUR,true
A2,Valmont Énergie France SAS,A1,valmont.fr,FR,800,,EUR,
A3,Valmont Services GmbH,A1,valmont.de,Allemagne,120,5000000,CHF,no
"""


def rows(ws, sql: str, params=None) -> list[tuple]:
    return ws.engine.fetchall(sql, params)


def test_french_excel_csv_cp1252_semicolons_decimal_commas(workspace, tmp_path: Path) -> None:
    # What "CSV (séparateur : point-virgule)" in a French Excel writes: Windows-1252, CRLF, `;`,
    # decimal commas, spaces as thousands separators, dd/mm/yyyy dates, the € sign.
    bundle = tmp_path / "b"
    write(bundle / "accounts.csv",
          "account_id;name;country;employees;annual_revenue;currency;created_at\r\n"
          "C1;Société Générale d'Équipements SARL;France;1 250;12 345 678,90;€;05/03/2021\r\n"
          "C2;Crème & Fils SAS;Belgique;45;98 765,4;EUR;31/12/2020\r\n", encoding="cp1252")
    write(bundle / "deals.csv",
          "deal_id;account_id;stage;amount;gross_margin;close_date\r\n"
          "D1;C1;Gagné;1 234,56;25 %;15/07/2025\r\n"
          "D2;C2;Négociation;10 000;2 500,5;01/02/2026\r\n", encoding="cp1252")
    result = import_bundle(workspace, [str(bundle)])
    assert {f.encoding for f in result.files} == {"cp1252"}
    assert rows(workspace, "SELECT account_id, name, country, employees, annual_revenue, currency, created_at "
                           "FROM accounts ORDER BY account_id") == [
        ("C1", "Société Générale d'Équipements SARL", "FR", 1250, 12345678.90, "EUR",
         __import__("datetime").date(2021, 3, 5)),
        ("C2", "Crème & Fils SAS", "BE", 45, 98765.4, "EUR", __import__("datetime").date(2020, 12, 31)),
    ]
    deals = rows(workspace, "SELECT deal_id, stage, amount, gross_margin, close_date FROM deals ORDER BY deal_id")
    assert deals[0][:3] == ("D1", "won", 1234.56)
    assert deals[0][3] == pytest.approx(308.64)  # 25 % of 1 234,56
    assert deals[1][1:4] == ("Négociation", 10000.0, 2500.5)
    assert str(deals[1][4]) == "2026-02-01"


def test_utf8_bom_tab_delimited_and_xlsx_and_parquet(workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.tsv", "\ufeffaccount_id\tname\tcountry\nT1\tZürich Versicherung AG\tCH\n")
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["deal_id", "account_id", "stage", "amount", "close_date"])
    sheet.append(["X1", "T1", "won", 1500.5, __import__("datetime").datetime(2025, 6, 30)])
    book.save(tmp_path / "deals.xlsx")
    pq.write_table(pa.table({"contact_id": ["K1"], "account_id": ["T1"], "name": ["Jürgen Weiß"],
                             "buying_role": ["Economic Buyer"]}), tmp_path / "contacts.parquet")
    import_bundle(workspace, [str(tmp_path / "accounts.tsv"), str(tmp_path / "deals.xlsx"),
                              str(tmp_path / "contacts.parquet")])
    assert rows(workspace, "SELECT name, country FROM accounts") == [("Zürich Versicherung AG", "CH")]
    assert rows(workspace, "SELECT amount, CAST(close_date AS VARCHAR) FROM deals") == [(1500.5, "2025-06-30")]
    assert rows(workspace, "SELECT name, buying_role FROM contacts") == [("Jürgen Weiß", "economic_buyer")]


def test_five_bad_rows_give_one_report_and_write_nothing(workspace, tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    write(bundle / "accounts.csv", ACCOUNTS)
    write(bundle / "deals.csv",
          "deal_id,account_id,stage,amount,currency,close_date\n"
          "D1,A2,won,100,EUR,2025-01-01\n"
          "D2,,won,100,EUR,2025-01-01\n"  # missing account_id
          "D3,A404,won,100,EUR,2025-01-01\n"  # unknown account
          "D4,A2,won,douze,EUR,2025-01-01\n"  # not a number
          "D5,A2,won,100,EUR,31/02/2025\n"  # impossible date, in an optional column: a warning only
          "D1,A3,won,100,EUR,2025-01-01\n")  # duplicate id
    with pytest.raises(ImportValidationError) as caught:
        import_bundle(workspace, [str(bundle)])
    err = caught.value
    assert err.total == 4
    assert [(p.row, p.column, p.value) for p in err.problems] == [
        (3, "account_id", None), (4, "account_id", "A404"), (5, "amount", "douze"), (7, "deal_id", "D1"),
    ]
    assert all(p.file == "deals.csv" and p.expected for p in err.problems)
    # atomic: the valid accounts file of the same bundle was not written either
    assert rows(workspace, "SELECT count(*) FROM accounts") == [(0,)]
    assert rows(workspace, "SELECT count(*) FROM imports") == [(0,)]


def test_import_twice_is_idempotent_and_changes_update(workspace, tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    write(bundle / "accounts.csv", ACCOUNTS)
    first = import_bundle(workspace, [str(bundle)])
    second = import_bundle(workspace, [str(bundle)])
    assert [(f.inserted, f.updated, f.unchanged) for f in first.files] == [(3, 0, 0)]
    assert [(f.inserted, f.updated, f.unchanged) for f in second.files] == [(0, 0, 3)]
    write(bundle / "accounts.csv", ACCOUNTS.replace("Valmont Services GmbH", "Valmont Dienste GmbH")
          + "A4,Nouvelle Entité SAS,A1,,FR,,,,\n")
    third = import_bundle(workspace, [str(bundle)])
    assert [(f.inserted, f.updated, f.unchanged) for f in third.files] == [(1, 1, 2)]
    assert rows(workspace, "SELECT name FROM accounts WHERE account_id = 'A3'") == [("Valmont Dienste GmbH",)]
    history = rows(workspace, "SELECT import_id, table_name, rows, inserted, updated, unchanged FROM imports ORDER BY import_id")
    assert history == [(1, "accounts", 3, 3, 0, 0), (2, "accounts", 3, 0, 0, 3), (3, "accounts", 4, 1, 1, 2)]
    hashes = rows(workspace, "SELECT DISTINCT file_hash FROM imports")
    assert len(hashes) == 2 and all(len(h[0]) == 64 for h in hashes)


def test_ingest_order_and_partial_columns(workspace, tmp_path: Path) -> None:
    # A later file without parent_id must not erase the parents an earlier import set.
    write(tmp_path / "full" / "accounts.csv", ACCOUNTS)
    write(tmp_path / "partial" / "accounts.csv", "account_id,name,city\nA2,Valmont Énergie France SAS,Lyon\n")
    import_bundle(workspace, [str(tmp_path / "full")])
    import_bundle(workspace, [str(tmp_path / "partial")])
    assert rows(workspace, "SELECT parent_id, city, employees FROM accounts WHERE account_id = 'A2'") == [("A1", "Lyon", 800)]


def test_unknown_parent_is_kept_but_unknown_deal_account_is_an_error(workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "account_id,name,parent_id\nP1,Orphan Sub Ltd,NOT_IN_EXPORT\n")
    import_bundle(workspace, [str(tmp_path / "accounts.csv")])
    assert rows(workspace, "SELECT parent_id FROM accounts") == [("NOT_IN_EXPORT",)]
    # a deal referencing an account imported earlier is fine; an unknown one is not
    write(tmp_path / "d" / "deals.csv", "deal_id,account_id,stage,amount\nQ1,P1,open,10\nQ2,ZZ,open,10\n")
    with pytest.raises(ImportValidationError) as caught:
        import_bundle(workspace, [str(tmp_path / "d")])
    assert [(p.row, p.value) for p in caught.value.problems] == [(3, "ZZ")]


def test_currencies_are_converted_to_the_reporting_currency(workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "account_id,name\nA,Alpha Inc\n")
    write(tmp_path / "deals.csv", "deal_id,account_id,stage,amount,gross_margin,currency\n"
                                  "E,A,won,100,40,EUR\nU,A,won,100,40,$\nG,A,won,100,40,GBP\n")
    write(tmp_path / "fx_rates.csv", "currency,rate\nGBP,1.2\n")  # user rate overrides the built-in one
    import_bundle(workspace, [str(tmp_path)])
    got = dict((r[0], r[1:]) for r in rows(workspace, "SELECT deal_id, currency, amount_rc, gross_margin_rc FROM deals"))
    assert got["E"] == ("EUR", 100.0, 40.0)
    assert got["U"][0] == "USD" and got["U"][1] == pytest.approx(86.2) and got["U"][2] == pytest.approx(34.48)
    assert got["G"] == ("GBP", pytest.approx(120.0), pytest.approx(48.0))


def test_extra_columns_are_kept_as_attributes_and_exported(workspace, tmp_path: Path) -> None:
    from accountree.export_formats import write_export
    from accountree.exports import export_query

    write(tmp_path / "accounts.csv", "account_id,name,Segment ABM,Note interne\nA,Alpha SAS,Tier 1,à rappeler\n")
    import_bundle(workspace, [str(tmp_path)])
    out = tmp_path / "out.csv"
    write_export(workspace, export_query(workspace, "accounts"), "csv", out)
    header, line = out.read_text(encoding="utf-8").splitlines()
    assert header.endswith('"source","Note interne","Segment ABM"')
    assert line.endswith('"crm","à rappeler","Tier 1"')


def test_merged_ids_land_on_their_survivor(workspace, tmp_path: Path) -> None:
    write(tmp_path / "a" / "accounts.csv", "account_id,name\nS,Survivor SA\nOLD,Survivor\n")
    import_bundle(workspace, [str(tmp_path / "a")])
    workspace.engine.execute("DELETE FROM accounts WHERE account_id = 'OLD'")
    workspace.engine.execute("INSERT INTO account_aliases (old_id, survivor_id) VALUES ('OLD', 'S')")
    write(tmp_path / "b" / "accounts.csv", "account_id,name\nOLD,Survivor (old record)\n")
    write(tmp_path / "b" / "deals.csv", "deal_id,account_id,stage,amount\nD,OLD,won,5\n")
    import_bundle(workspace, [str(tmp_path / "b")])
    assert rows(workspace, "SELECT account_id FROM accounts") == [("S",)]
    assert rows(workspace, "SELECT account_id FROM deals") == [("S",)]


def test_month_first_dates_are_recognised_from_the_column(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "account_id,name,created_at\nA,A Inc,03/04/2024\nB,B Inc,12/31/2024\n")
    import_bundle(duckdb_workspace, [str(tmp_path)])
    got = rows(duckdb_workspace, "SELECT account_id, CAST(created_at AS VARCHAR) FROM accounts ORDER BY 1")
    assert got == [("A", "2024-03-04"), ("B", "2024-12-31")]  # 12/31 proves month-first for the column


def test_dry_run_writes_nothing(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", ACCOUNTS)
    result = import_bundle(duckdb_workspace, [str(tmp_path)], ImportOptions(dry_run=True))
    assert result.dry_run and result.files[0].rows == 3
    assert rows(duckdb_workspace, "SELECT count(*) FROM accounts") == [(0,)]


def test_unknown_files_are_all_reported(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", ACCOUNTS)
    write(tmp_path / "notes.csv", "a,b\n1,2\n")
    write(tmp_path / "stuff.csv", "a,b\n1,2\n")
    with pytest.raises(BundleError) as caught:
        import_bundle(duckdb_workspace, [str(tmp_path)])
    assert "notes.csv" in caught.value.message and "stuff.csv" in caught.value.message
    assert rows(duckdb_workspace, "SELECT count(*) FROM accounts") == [(0,)]


def test_missing_required_column_is_reported(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "deals.csv", "deal_id,stage,amount\nD,won,1\n")
    with pytest.raises(ImportValidationError) as caught:
        import_bundle(duckdb_workspace, [str(tmp_path)])
    assert [(p.row, p.column) for p in caught.value.problems] == [(None, "account_id")]


def test_new_deals_are_stored_in_account_order(duckdb_workspace, tmp_path: Path) -> None:
    """An account's deals sit together in storage (reading one account's deals touches a few
    blocks): the import writes new rows by account, whatever the file's order."""
    write(tmp_path / "accounts.csv", ACCOUNTS)
    lines = ["deal_id,account_id,stage,amount,currency,close_date"]
    lines += [f"D{i},A{1 + (i * 7) % 3},won,{100 + i},EUR,2025-0{1 + i % 9}-01" for i in range(30)]
    write(tmp_path / "deals.csv", "\n".join(lines) + "\n")
    import_bundle(duckdb_workspace, [str(tmp_path)])
    stored = [r[0] for r in rows(duckdb_workspace, "SELECT account_id FROM deals ORDER BY rowid")]
    assert len(stored) == 30 and stored == sorted(stored)
    assert [r[0] for r in rows(duckdb_workspace, "SELECT deal_id FROM deals ORDER BY rowid")][:3] != ["D0", "D1", "D2"]
