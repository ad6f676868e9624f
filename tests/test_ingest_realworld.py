"""Importing files as users really have them: broken CSVs, Excel oddities, real exports.

Each test locks a fix found by trying the importer on real and hand-made nasty files. Files under
/work/shared/data (Fortune 1000, X Education leads: no clear licence) are used in place and the
tests skip when the folder is absent; the GLEIF (CC0) and Chicago (MIT) samples are committed in
tests/fixtures/ingest (see SOURCE.md there).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accountree.cli import app
from accountree.errors import ImportValidationError
from accountree.ingest import ImportOptions, import_bundle
from accountree.ingest.bundle import BundleError
from accountree.ingest.readers import FileReadError
from tests.conftest import FIXTURES, SHARED_DATA, write

SAMPLES = FIXTURES / "ingest"
runner = CliRunner()


def rows(ws, sql: str) -> list[tuple]:
    return ws.engine.fetchall(sql)


def problems_of(call) -> list[tuple]:
    with pytest.raises(ImportValidationError) as caught:
        call()
    return [(p.row, p.column, p.value, p.expected) for p in caught.value.problems]


def xlsx(path: Path, sheets: dict[str, list[list]], formats: dict[str, str] | None = None) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    for i, (title, data) in enumerate(sheets.items()):
        sheet = book.active if i == 0 else book.create_sheet()
        sheet.title = title
        for row in data:
            sheet.append(row)
        for ref, fmt in (formats or {}).items():
            if i == 0:
                sheet[ref].number_format = fmt
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


# -- CSV structure ------------------------------------------------------------------------------

def test_quoted_line_breaks_crlf_and_short_rows(duckdb_workspace, tmp_path: Path) -> None:
    workspace = duckdb_workspace
    # DuckDB's parallel reader refused quoted line breaks together with short rows (null padding).
    write(tmp_path / "accounts.csv", 'account_id,name,city\r\nA,"Alpha\r\nCorp",Paris\r\nB,"Beta ""the best""",Lyon\r\n'
                                     'C,Gamma\r\n')
    import_bundle(workspace, [str(tmp_path)])
    assert rows(workspace, "SELECT account_id, name, city FROM accounts ORDER BY 1") == [
        ("A", "Alpha\r\nCorp", "Paris"), ("B", 'Beta "the best"', "Lyon"), ("C", "Gamma", None)]


def test_real_chicago_sample_with_multiline_cells(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", "tables:\n  accounts:\n    files: ['chicago*']\n    columns: {account_id: Id, name: Site name}\n")
    result = import_bundle(duckdb_workspace, [str(SAMPLES / "chicago_ece_sites_sample.csv")],
                           ImportOptions(mapping=tmp_path / "m.yaml"))
    assert result.files[0].rows == 40
    names = dict(rows(duckdb_workspace, "SELECT account_id, name FROM accounts"))
    assert names["1958"] == "Chicago Commons\nAssociation St Catherine's - St. Lucy School"
    # `Website` holds "No" on some rows: the domain derived from it stays empty, it is not an error
    assert "Column" in result.files[0].attributes and "Website" not in result.files[0].attributes


def test_rows_with_too_many_fields_are_each_reported(duckdb_workspace, tmp_path: Path) -> None:
    # They used to be imported, the extra values landing in `column3`/`column4` attributes.
    write(tmp_path / "accounts.csv", "account_id,name,country\nA,Alpha,FR\nB,Beta, Inc,DE\nC,Gamma,IT\nD,Delta,ES,x,y\n")
    found = problems_of(lambda: import_bundle(duckdb_workspace, [str(tmp_path)]))
    assert [(r, v) for r, _, v, _ in found] == [(3, "B,Beta, Inc,DE"), (5, "D,Delta,ES,x,y")]
    assert "3 fields, as in the header row (found 4)" in found[0][3] and "double quotes" in found[0][3]
    assert rows(duckdb_workspace, "SELECT count(*) FROM accounts") == [(0,)]


def test_unclosed_quote_is_reported_on_its_line(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", 'account_id,name\nA,Alpha\nB,"Beta\nC,Gamma\n')
    found = problems_of(lambda: import_bundle(duckdb_workspace, [str(tmp_path)]))
    assert found[0][0] == 3 and "closing double quote" in found[0][3]


def test_leading_blank_lines_and_trailing_delimiters(duckdb_workspace, tmp_path: Path) -> None:
    # X Education's Leads.csv ends every line with a comma: no empty `column_N` attribute from it.
    write(tmp_path / "accounts.csv", "\n\naccount_id,name,,\nA,Alpha,,\nB,,note,\n,,,\n")
    found = problems_of(lambda: import_bundle(duckdb_workspace, [str(tmp_path)]))
    assert found == [(5, "name", None, "a value (name is required)")]  # the header is on line 3
    write(tmp_path / "accounts.csv", "\n\naccount_id,name,,\nA,Alpha,,\nB,Beta,note,\n,,,\n")
    result = import_bundle(duckdb_workspace, [str(tmp_path)])
    assert result.files[0].rows == 2 and result.files[0].attributes == ["column_3"]  # `,,,` is no record


def test_duplicate_headers_for_one_column_are_an_error(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "account_id,Name,name,Segment,Segment\nA,Alpha,Beta,S1,S2\n")
    found = problems_of(lambda: import_bundle(duckdb_workspace, [str(tmp_path)]))
    assert found == [(1, "name", "Name, name", "one column for name, found 2 (B 'Name', C 'name'): rename or delete the others")]
    write(tmp_path / "accounts.csv", "account_id,name,Segment,Segment\nA,Alpha,S1,S2\n")  # extra columns: kept both
    assert import_bundle(duckdb_workspace, [str(tmp_path)]).files[0].attributes == ["Segment", "Segment_1"]


def test_header_with_bom_quotes_and_spaces(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", '\ufeff"Account ID " ,  "Name"  ,"  Country",Note\r\nA,Alpha,FR,x\r\n')
    result = import_bundle(duckdb_workspace, [str(tmp_path)])
    assert rows(duckdb_workspace, "SELECT account_id, name, country FROM accounts") == [("A", "Alpha", "FR")]
    assert result.files[0].attributes == ["Note"]


def test_missing_column_names_the_headers_found_and_the_closest(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "acount_id,name\nA,Alpha\n")
    found = problems_of(lambda: import_bundle(duckdb_workspace, [str(tmp_path)]))
    assert found[0][1] == "account_id" and "has: acount_id, name" in found[0][3] and "'acount_id' is close" in found[0][3]


def test_nul_bytes_are_a_clear_read_error(workspace, tmp_path: Path) -> None:
    # PostgreSQL refuses NUL in text: it used to fail in the middle of the write, with a traceback.
    write(tmp_path / "accounts.csv", "account_id,name\nA,Alpha\nB,Be\x00ta\n")
    with pytest.raises(FileReadError, match="line 3 holds a NUL byte"):
        import_bundle(workspace, [str(tmp_path)])


def test_empty_header_only_and_blank_files(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "e" / "accounts.csv", "")
    with pytest.raises(FileReadError, match="empty"):
        import_bundle(duckdb_workspace, [str(tmp_path / "e")])
    write(tmp_path / "b" / "accounts.csv", "\ufeff\r\n\r\n")
    with pytest.raises(FileReadError, match="no header row"):
        import_bundle(duckdb_workspace, [str(tmp_path / "b")])
    write(tmp_path / "h" / "accounts.csv", "account_id,name")
    assert import_bundle(duckdb_workspace, [str(tmp_path / "h")]).files[0].rows == 0


# -- encodings and numbers ------------------------------------------------------------------------

def test_utf16_excel_unicode_text_with_and_without_bom(duckdb_workspace, tmp_path: Path) -> None:
    text = "account_id\tname\tcountry\tannual_revenue\r\nA\tZürich AG\tSuisse\t1 234,5\r\nB\tŁódź Sp. z o.o.\tPologne\t99\r\n"
    write(tmp_path / "a" / "accounts.txt", text, encoding="utf-16")  # what Excel's "Unicode text" writes
    write(tmp_path / "b" / "accounts.txt", text, encoding="utf-16-le")
    for folder in ("a", "b"):
        import_bundle(duckdb_workspace, [str(tmp_path / folder)])
        assert rows(duckdb_workspace, "SELECT name, country, annual_revenue FROM accounts ORDER BY 1") == [
            ("Zürich AG", "CH", 1234.5), ("Łódź Sp. z o.o.", "PL", 99.0)]


def test_semicolon_file_with_decimal_points(duckdb_workspace, tmp_path: Path) -> None:
    # `12.345` was read as 12 345 in every `;` file; the file's other values prove the decimal point.
    write(tmp_path / "accounts.csv", "account_id;name\nA;Alpha\n")
    write(tmp_path / "deals.csv", "deal_id;account_id;stage;amount\nD1;A;won;1234.56\nD2;A;won;12.345\nD3;A;won;0.5\n")
    import_bundle(duckdb_workspace, [str(tmp_path)])
    assert rows(duckdb_workspace, "SELECT amount FROM deals ORDER BY deal_id") == [(1234.56,), (12.345,), (0.5,)]
    write(tmp_path / "deals.csv", "deal_id;account_id;stage;amount\nD1;A;won;1.234\nD2;A;won;12,5\n")  # commas prove it
    import_bundle(duckdb_workspace, [str(tmp_path)])
    assert rows(duckdb_workspace, "SELECT amount FROM deals ORDER BY deal_id") == [(1234.0,), (12.5,), (0.5,)]


def test_placeholders_for_no_value_in_typed_columns(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "account_id,name,country,employees,created_at\n"
                                     "A,Alpha,unknown,N/A,#N/A\nB,Beta,NC,-,\nC,Gamma,NA,nan,2024-01-02\n")
    import_bundle(duckdb_workspace, [str(tmp_path)])
    assert rows(duckdb_workspace, "SELECT account_id, country, employees, created_at FROM accounts ORDER BY 1") == [
        ("A", None, None, None), ("B", None, None, None), ("C", "NA", None, dt.date(2024, 1, 2))]  # NA: Namibia
    write(tmp_path / "deals.csv", "deal_id,account_id,stage,amount\nD1,A,won,N/A\n")
    assert problems_of(lambda: import_bundle(duckdb_workspace, [str(tmp_path)])) == [
        (2, "amount", None, "a value (amount is required)")]


def test_kosovo_and_a_website_that_is_no_domain(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "account_id,name,country,website\nA,Alpha,XK,No\nB,Beta,Kosovo,www.beta.com\n")
    import_bundle(duckdb_workspace, [str(tmp_path)])
    assert rows(duckdb_workspace, "SELECT country, domain, website FROM accounts ORDER BY account_id") == [
        ("XK", None, "No"), ("XK", "beta.com", "www.beta.com")]


def test_real_gleif_sample_as_accounts_with_leis(duckdb_workspace, tmp_path: Path) -> None:
    workspace = duckdb_workspace
    write(tmp_path / "m.yaml", "tables:\n  accounts:\n    files: ['gleif*']\n    columns: {account_id: LEI, lei: LEI, "
                               "name: Entity.LegalName, country: Entity.LegalAddress.Country}\n")
    result = import_bundle(workspace, [str(SAMPLES / "gleif_level1_names_sample.csv")], ImportOptions(mapping=tmp_path / "m.yaml"))
    assert result.files[0].rows == 56
    assert rows(workspace, "SELECT count(*), count(DISTINCT lei), count(*) FILTER (WHERE country = 'XK') FROM accounts") == [(56, 56, 1)]


# -- Excel ----------------------------------------------------------------------------------------

def test_xlsx_serial_dates_percent_cells_and_text_dates(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "account_id,name\nA,Alpha\n")
    xlsx(tmp_path / "deals.xlsx", {"Sheet1": [["deal_id", "account_id", "stage", "amount", "close_date", "gross_margin"],
                                              ["D1", "A", "won", 100, 45000, 0.32],
                                              ["D2", "A", "won", "1 234,50", "23/11/2026", None]]}, {"F2": "0%"})
    import_bundle(duckdb_workspace, [str(tmp_path)])
    assert rows(duckdb_workspace, "SELECT amount, close_date, gross_margin FROM deals ORDER BY deal_id") == [
        (100.0, dt.date(2023, 3, 15), pytest.approx(32.0)), (1234.5, dt.date(2026, 11, 23), None)]


def test_xlsx_title_rows_empty_rows_and_cells_outside_the_table(duckdb_workspace, tmp_path: Path) -> None:
    xlsx(tmp_path / "accounts.xlsx", {"Report": [["Accounts — generated 2026-11-23"], [None], ["account_id", "name"],
                                                 ["A", "Alpha"], [None, None], ["B", None], ["C", "Gamma", "stray note"]]})
    found = problems_of(lambda: import_bundle(duckdb_workspace, [str(tmp_path)]))
    assert [(r, c) for r, c, _, _ in found] == [(6, "name"), (7, "column C")]  # spreadsheet rows, header on row 3
    assert "column C has no header in row 3" in found[1][3]


def test_xlsx_duplicate_headers_and_several_table_sheets(duckdb_workspace, tmp_path: Path) -> None:
    xlsx(tmp_path / "a" / "accounts.xlsx", {"Sheet1": [["account_id", "name", "name"], ["A", "Alpha", "Beta"]]})
    found = problems_of(lambda: import_bundle(duckdb_workspace, [str(tmp_path / "a")]))
    assert found[0][:3] == (1, "name", "name, name")  # the last one silently won before
    xlsx(tmp_path / "b" / "crm.xlsx", {"accounts": [["account_id", "name"], ["A", "Alpha"]],
                                       "deals": [["deal_id", "account_id", "stage", "amount"], ["D", "A", "won", 5]],
                                       "notes": [["anything"]]})
    result = import_bundle(duckdb_workspace, [str(tmp_path / "b")])
    assert [(f.file, f.table) for f in result.files] == [("crm.xlsx (sheet accounts)", "accounts"),
                                                         ("crm.xlsx (sheet deals)", "deals")]


def test_unreadable_workbooks_and_parquet_are_clear_errors(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "a" / "accounts.xlsx", "account_id,name\nA,Alpha\n")  # a CSV renamed .xlsx
    with pytest.raises(BundleError, match="not a readable XLSX workbook"):
        import_bundle(duckdb_workspace, [str(tmp_path / "a")])
    write(tmp_path / "b" / "accounts.parquet", "not parquet")
    with pytest.raises(FileReadError, match="not a readable Parquet file"):
        import_bundle(duckdb_workspace, [str(tmp_path / "b")])


# -- the bundle ---------------------------------------------------------------------------------

def test_downloaded_copies_and_table_arguments(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "Accounts (1).csv", "account_id,name\nA,Alpha\n")
    write(tmp_path / "Copy of deals - Copy.csv", "deal_id,account_id,stage,amount\nD,A,won,5\n")
    assert {f.table for f in import_bundle(duckdb_workspace, [str(tmp_path)]).files} == {"accounts", "deals"}
    with pytest.raises(BundleError, match="'account' is not a table"):
        import_bundle(duckdb_workspace, [f"account={tmp_path / 'x.csv'}"])
    write(tmp_path / "two" / "accounts.csv", "account_id,name\nA,Alpha\n")
    write(tmp_path / "two" / "Accounts (2).csv", "account_id,name\nB,Beta\n")
    with pytest.raises(BundleError, match="several files for table accounts"):
        import_bundle(duckdb_workspace, [str(tmp_path / "two")])


def test_interrupted_write_leaves_nothing_and_no_staging(workspace, tmp_path: Path, monkeypatch) -> None:
    from accountree.ingest import writer

    write(tmp_path / "accounts.csv", "account_id,name\nA,Alpha\n")
    write(tmp_path / "deals.csv", "deal_id,account_id,stage,amount\nD,A,won,5\n")
    real = writer._merge
    calls = []

    def merge_then_ctrl_c(engine, table, store, columns):
        calls.append(table)
        result = real(engine, table, store, columns)
        if table == "deals":
            raise KeyboardInterrupt  # Ctrl-C after accounts and deals were merged, before the commit
        return result

    monkeypatch.setattr(writer, "_merge", merge_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        import_bundle(workspace, [str(tmp_path)])
    assert calls == ["accounts", "deals"]
    assert rows(workspace, "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM deals), "
                           "(SELECT count(*) FROM imports)") == [(0, 0, 0)]
    monkeypatch.setattr(writer, "_merge", real)
    assert import_bundle(workspace, [str(tmp_path)]).import_id == 1  # the workspace is usable again
    if workspace.engine.name == "duckdb":
        left = workspace.engine.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary "
                                            "UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall()
        staging = ("__stage", "__mapped", "__typed", "__final", "__store", "__problems", "__bundle")
        assert [t for (t,) in left if t.startswith(staging)] == []  # lookups (__rates…) are kept for reuse


def test_progress_reports_each_file_and_the_write(duckdb_workspace, tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "account_id,name\nA,Alpha\n")
    seen: list[str] = []
    import_bundle(duckdb_workspace, [str(tmp_path)], progress=lambda stage, done, total: seen.append(stage))
    assert [s for s in seen if "%" not in s] == ["reading accounts.csv", "checking accounts.csv", "writing"]
    # the workspace keeps DuckDB's own progress printing off (it would land in --json and exports)
    assert duckdb_workspace.engine.con.execute("SELECT current_setting('enable_progress_bar_print')").fetchall() == [(False,)]


# -- the command line -----------------------------------------------------------------------------

def test_cli_json_on_every_path_and_never_a_traceback(tmp_path: Path) -> None:
    ws = str(tmp_path / "w.duckdb")
    write(tmp_path / "ok" / "accounts.csv", "account_id,name\nA,Alpha\n")
    write(tmp_path / "bad" / "accounts.csv", "account_id,name\nA,\n")
    write(tmp_path / "empty" / "accounts.csv", "")
    write(tmp_path / "zip" / "accounts.xlsx", "not a workbook")
    write(tmp_path / "unknown" / "notes.csv", "a,b\n1,2\n")
    cases = {"ok": 0, "bad": 2, "empty": 2, "zip": 2, "unknown": 2}
    for folder, code in cases.items():
        result = runner.invoke(app, ["import", str(tmp_path / folder), "-w", ws, "--json"])
        assert result.exit_code == code, (folder, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (folder, result.exception)
        data = json.loads(result.stdout)
        assert ("import_id" in data) if code == 0 else (data["error"] and data["message"]), (folder, data)
    dry = json.loads(runner.invoke(app, ["import", str(tmp_path / "ok"), "-w", ws, "--json", "--dry-run"]).stdout)
    assert dry["dry_run"] is True and dry["import_id"] is None and dry["files"][0]["rows"] == 1


# -- real exports from ../shared/data beside the checkout (no licence to commit them) ---------------

def _shared(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} is not here: the real-data tests need shared/data beside the checkout (not committable)")
    return path


def test_real_fortune_1000_as_accounts(duckdb_workspace, tmp_path: Path) -> None:
    path = _shared("fortune-1000-2021/Fortune_1000.csv")
    write(tmp_path / "m.yaml", "tables:\n  accounts:\n    files: ['Fortune_1000*']\n    columns: {account_id: company, "
                               "name: company, annual_revenue: revenue, employees: num. of employees, industry: sector, "
                               "website: Website}\n")
    result = import_bundle(duckdb_workspace, [str(path)], ImportOptions(mapping=tmp_path / "m.yaml"))
    assert (result.files[0].rows, result.files[0].inserted) == (1000, 1000)
    assert rows(duckdb_workspace, "SELECT domain, employees, annual_revenue FROM accounts WHERE account_id = 'Walmart'") == [
        ("stock.walmart.com", 2200000, 523964.0)]


def test_real_x_education_leads(duckdb_workspace, tmp_path: Path) -> None:
    path = _shared("x-education-lead-scoring/Leads.csv")
    write(tmp_path / "m.yaml", "tables:\n  leads:\n    files: ['Leads*']\n    columns: {lead_id: Prospect ID, country: Country, "
                               "source: Lead Source}\n    values:\n      country: {'Asia/Pacific Region': ''}\n")
    result = import_bundle(duckdb_workspace, [str(path)], ImportOptions(mapping=tmp_path / "m.yaml"))
    assert result.files[0].rows == 9240 and not any(a.startswith("column_") for a in result.files[0].attributes)
    # `unknown` is no country: read as missing, not a problem
    assert rows(duckdb_workspace, "SELECT count(*) FILTER (WHERE country = 'IN') FROM leads")[0][0] > 6000


def test_ctrl_c_inside_a_duckdb_statement_is_an_interrupt(duckdb_workspace, tmp_path: Path, monkeypatch) -> None:
    # DuckDB turns Ctrl-C into `RuntimeError: Query interrupted`: the CLI printed a traceback, exit 1.
    from accountree.ingest import pipeline

    def interrupted(*args, **kwargs):
        raise RuntimeError("Query interrupted")

    write(tmp_path / "accounts.csv", "account_id,name\nA,Alpha\n")
    monkeypatch.setattr(pipeline, "stage_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_bundle(duckdb_workspace, [str(tmp_path)])
    assert rows(duckdb_workspace, "SELECT count(*) FROM imports") == [(0,)]
