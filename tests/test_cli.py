"""The command line as a user runs it: exit codes, --json, --workspace from the environment."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accountree.cli import app
from tests.conftest import write

runner = CliRunner()


def test_import_status_export_roundtrip(tmp_path: Path, monkeypatch) -> None:
    ws = tmp_path / "w.duckdb"
    monkeypatch.setenv("ACCOUNTREE_WORKSPACE", str(ws))
    write(tmp_path / "b" / "accounts.csv", "account_id,name,country\nA,Alpha SAS,FR\nB,Bêta GmbH,DE\n")
    result = runner.invoke(app, ["import", str(tmp_path / "b"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["inserted"] == 2
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["tables"]["accounts"] == 2 and status["engine"] == "duckdb" and status["imports"] == 1
    exported = runner.invoke(app, ["export", "accounts", "--format", "json"])
    assert [r["name"] for r in json.loads(exported.stdout)] == ["Alpha SAS", "Bêta GmbH"]
    out = tmp_path / "acc.parquet"
    assert runner.invoke(app, ["export", "accounts", "--format", "parquet", "--out", str(out)]).exit_code == 0
    import pyarrow.parquet as pq

    assert pq.read_table(out).num_rows == 2
    listed = runner.invoke(app, ["export", "--list", "--json"])
    assert {"accounts", "relationships", "deals", "contacts", "activities", "imports"} <= {
        e["table"] for e in json.loads(listed.stdout)}


def test_bad_bundle_exits_2_with_a_report(tmp_path: Path) -> None:
    ws = tmp_path / "w.duckdb"
    write(tmp_path / "b" / "deals.csv", "deal_id,account_id,stage,amount\nD1,X,won,abc\n")
    report = tmp_path / "problems.csv"
    result = runner.invoke(app, ["import", str(tmp_path / "b"), "-w", str(ws), "--report", str(report)])
    assert result.exit_code == 2
    assert "nothing was imported" in result.output
    lines = report.read_text().splitlines()
    # the columns of the report before warnings existed come first
    assert lines[0] == "file,row,column,value,expected,level,action,rows" and len(lines) == 3
    as_json = runner.invoke(app, ["import", str(tmp_path / "b"), "-w", str(ws), "--json"])
    assert as_json.exit_code == 2 and json.loads(as_json.stdout)["total"] == 2


def test_unknown_export_and_bad_options_are_clear(tmp_path: Path) -> None:
    ws = str(tmp_path / "w.duckdb")
    result = runner.invoke(app, ["export", "nope", "-w", ws])
    assert result.exit_code == 1 and "no exportable table named 'nope'" in result.output
    result = runner.invoke(app, ["export", "accounts", "--format", "xml", "-w", ws])
    assert result.exit_code == 1 and "--format must be" in result.output
    result = runner.invoke(app, ["status", "-w", str(tmp_path / "missing" / "w.duckdb")])
    assert result.exit_code == 1 and "does not exist" in " ".join(result.output.split())
    for command in (["build", "--as-of", "2026-02-30"], ["kpis", "transitions", "--since", "soon"],
                    ["demo", "--no-build", "--out", str(tmp_path / "demo"), "--reference-date", "05/12/2026"]):
        result = runner.invoke(app, [*command, "-w", ws])
        assert result.exit_code == 1 and "must be a date as YYYY-MM-DD" in result.output, command


def test_export_crm_alias_writes_the_crm_file(tmp_path: Path) -> None:
    ws = str(tmp_path / "w.duckdb")
    write(tmp_path / "b" / "accounts.csv", "account_id,name,domain,industry,employees,country\n"
                                          "0015g01,Alpha SAS,alpha.fr,Software,120,FR\n")
    assert runner.invoke(app, ["import", str(tmp_path / "b"), "-w", ws]).exit_code == 0
    assert runner.invoke(app, ["build", "-w", ws]).exit_code == 0
    out = tmp_path / "sf.csv"
    result = runner.invoke(app, ["export", "crm", "--target", "salesforce", "--out", str(out), "-w", ws, "--json"])
    assert result.exit_code == 0, result.output
    header, row = out.read_text(encoding="utf-8").splitlines()
    assert header.startswith("Id,") and "ICP_Grade__c" in header and row.startswith("0015g01,")
    assert runner.invoke(app, ["export", "crm", "-w", ws]).exit_code == 1


def test_a_build_beyond_the_memory_limit_says_how_to_raise_it_and_writes_nothing(tmp_path: Path,
                                                                                 monkeypatch) -> None:
    ws = str(tmp_path / "w.duckdb")
    made = runner.invoke(app, ["demo", "--accounts", "300", "--no-build", "-w", ws, "--out", str(tmp_path / "demo")])
    assert made.exit_code == 0, made.output
    monkeypatch.setenv("ACCOUNTREE_MEMORY_LIMIT", "10MB")
    result = runner.invoke(app, ["build", "-w", ws])
    text = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert "more memory than DuckDB is allowed; nothing was written" in text and "ACCOUNTREE_MEMORY_LIMIT=4GB" in text
    assert "Possible solutions" not in text and "Traceback" not in text
    monkeypatch.delenv("ACCOUNTREE_MEMORY_LIMIT")
    tables = json.loads(runner.invoke(app, ["status", "-w", ws, "--json"]).stdout)["tables"]
    assert "hierarchy" not in tables and "account_kpis" not in tables  # the failed build left nothing
    assert runner.invoke(app, ["build", "-w", ws]).exit_code == 0


def test_kpis_account_shows_its_products_and_history_with_readable_amounts(tmp_path: Path) -> None:
    ws = str(tmp_path / "w.duckdb")
    write(tmp_path / "b" / "accounts.csv", "account_id,name\nA1,Alpha SAS\n")
    write(tmp_path / "b" / "deals.csv", "deal_id,account_id,product,stage,amount,currency,close_date\n"
                                        "D1,A1,P-ONE,won,88118.4,EUR,2026-02-01\nD2,A1,P-TWO,won,1234.5,EUR,2025-03-01\n")
    assert runner.invoke(app, ["import", str(tmp_path / "b"), "-w", ws]).exit_code == 0
    assert runner.invoke(app, ["build", "-w", ws, "--as-of", "2026-06-30"]).exit_code == 0
    result = runner.invoke(app, ["kpis", "account", "A1", "-w", ws], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "88,118.40" in result.output and "1,234.50" in result.output  # revenue_cy, revenue_py1
    assert "product detail" in result.output and "P-TWO" in result.output and "2025-03-01" in result.output
    assert "status history" in result.output and "Customer" in result.output


def test_an_unknown_build_stage_is_refused_with_the_stage_names(tmp_path: Path) -> None:
    """`--stage kpi` (the stage is `kpis`) used to run nothing and exit 0."""
    from accountree.build import stages

    ws = str(tmp_path / "w.duckdb")
    write(tmp_path / "b" / "accounts.csv", "account_id,name\nA1,Alpha SAS\n")
    assert runner.invoke(app, ["import", str(tmp_path / "b"), "-w", ws]).exit_code == 0
    result = runner.invoke(app, ["build", "--stage", "kpi", "-w", ws])
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and "unknown build stage 'kpi'" in output and "Did you mean kpis?" in output
    names = [s.name for s in stages()]
    assert all(name in output for name in names)
    help_text = " ".join(runner.invoke(app, ["build", "--help"]).output.replace("│", " ").split())
    assert ", ".join(names) in help_text  # the help lists them all, in order
    built = runner.invoke(app, ["build", "--stage", "hierarchy", "--stage", "kpis", "-w", ws, "--json"])
    assert built.exit_code == 0 and list(json.loads(built.stdout)) == ["hierarchy", "kpis", "stages"]


def test_csv_and_json_exports_print_figures_without_float_noise(duckdb_workspace, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from accountree.export_formats import write_export

    query = "SELECT CAST(0.1 AS DOUBLE) + CAST(0.2 AS DOUBLE) AS amount, CAST(1 AS DOUBLE) / 3 AS share, 7 AS n"
    write_export(duckdb_workspace, query, "csv", tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_text().splitlines() == ['"amount","share","n"', "0.3,0.333333,7"]
    write_export(duckdb_workspace, query, "json", tmp_path / "x.json")
    assert json.loads((tmp_path / "x.json").read_text()) == [{"amount": 0.3, "share": 0.333333, "n": 7}]
    write_export(duckdb_workspace, query, "parquet", tmp_path / "x.parquet")  # typed: the stored values
    assert pq.read_table(tmp_path / "x.parquet").to_pylist() == [{"amount": 0.1 + 0.2, "share": 1 / 3, "n": 7}]


def test_import_and_status_say_when_the_build_predates_an_import(tmp_path: Path) -> None:
    ws = str(tmp_path / "w.duckdb")
    write(tmp_path / "b" / "accounts.csv", "account_id,name\nA1,Alpha SAS\n")
    assert runner.invoke(app, ["import", str(tmp_path / "b"), "-w", ws]).exit_code == 0
    assert json.loads(runner.invoke(app, ["status", "-w", ws, "--json"]).stdout)["imports_since_build"] is None
    assert runner.invoke(app, ["build", "-w", ws]).exit_code == 0
    assert json.loads(runner.invoke(app, ["status", "-w", ws, "--json"]).stdout)["imports_since_build"] == 0
    again = runner.invoke(app, ["import", str(tmp_path / "b"), "-w", ws, "--json"])  # nothing changed
    assert json.loads(again.stdout)["stale_hint"] is None
    write(tmp_path / "c" / "deals.csv", "deal_id,account_id,stage,amount,close_date\nD1,A1,won,100,2026-01-05\n")
    changed = runner.invoke(app, ["import", str(tmp_path / "c"), "-w", ws])
    assert changed.exit_code == 0 and "run `accountree build`" in " ".join(changed.output.split())
    status = runner.invoke(app, ["status", "-w", ws])
    assert "1 import(s) since the last `accountree build`" in " ".join(status.output.split())
    assert "no import yet" not in status.output
    assert runner.invoke(app, ["build", "--stage", "kpis", "-w", ws]).exit_code == 0  # a partial build: still behind
    assert json.loads(runner.invoke(app, ["status", "-w", ws, "--json"]).stdout)["imports_since_build"] == 1
    assert runner.invoke(app, ["build", "-w", ws]).exit_code == 0
    assert json.loads(runner.invoke(app, ["status", "-w", ws, "--json"]).stdout)["imports_since_build"] == 0
    current = " ".join(runner.invoke(app, ["status", "-w", ws]).output.split())
    assert "last import #3" in current and "no import yet" not in current and "since the last" not in current


def test_the_home_page_says_when_imports_came_after_the_build(tmp_path: Path) -> None:
    from accountree.api.access import Principal, ScopedReader, TableCatalog
    from accountree.api.reads.portfolio import overview
    from accountree.store import open_workspace

    ws = str(tmp_path / "w.duckdb")
    write(tmp_path / "b" / "accounts.csv", "account_id,name\nA1,Alpha SAS\n")
    assert runner.invoke(app, ["import", str(tmp_path / "b"), "-w", ws]).exit_code == 0

    def since() -> int:
        with open_workspace(ws) as w:
            return overview(ScopedReader(w.engine, Principal("u", "admin"), TableCatalog()))["imports_since_build"]

    assert since() == 0  # never built: the cards say so themselves
    assert runner.invoke(app, ["build", "-w", ws]).exit_code == 0
    write(tmp_path / "c" / "accounts.csv", "account_id,name\nA2,Beta SARL\n")
    assert runner.invoke(app, ["import", str(tmp_path / "c"), "-w", ws]).exit_code == 0
    assert since() == 1
    assert runner.invoke(app, ["build", "-w", ws]).exit_code == 0
    assert since() == 0
