"""`accountree dump` / `restore`: DuckDB → PostgreSQL → DuckDB gives the same workspace."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accountree.api.auth import add_user
from accountree.build import BuildOptions, build
from accountree.cli import app
from accountree.demo import generate_bundle
from accountree.ingest import import_bundle
from accountree.store import open_workspace
from accountree.store.dump import DumpError, dump_workspace, read_manifest, restore_workspace
from tests.conftest import PG_AVAILABLE, PG_URL

AS_OF = date(2026, 11, 23)


def _tables(ws) -> dict[str, tuple[list[tuple[str, str]], list[tuple]]]:
    """Every table: its (column, type) list and its rows, sorted (floats compared as written)."""
    out = {}
    for (table,) in ws.engine.fetchall("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                                       "AND table_type = 'BASE TABLE'"):
        columns = ws.engine.fetchall("SELECT column_name, data_type FROM information_schema.columns "
                                     "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position", [table])
        rows = ws.engine.fetchall(f'SELECT * FROM "{table}"')
        out[table] = (columns, sorted(rows, key=repr))
    return out


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("dump")
    demo = generate_bundle(tmp / "demo", accounts=150, seed=3, reference_date=AS_OF)
    path = tmp / "source.duckdb"
    with open_workspace(str(path)) as ws:
        import_bundle(ws, [str(demo.out_dir)])
        build(ws, BuildOptions(as_of=AS_OF))
        add_user(ws, "alice", "admin", "a-long-password-1")
        ws.engine.execute("UPDATE accounts SET attributes = ? WHERE account_id = (SELECT min(account_id) FROM accounts)",
                          ['{"tier": "A", "tags": ["x", "é"], "n": 1.5}'])
    return path


def test_duckdb_to_postgres_to_duckdb_keeps_every_table(demo_ws: Path, tmp_path: Path) -> None:
    if not PG_AVAILABLE:
        pytest.skip(f"PostgreSQL does not answer at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with open_workspace(str(demo_ws)) as ws:
            first = dump_workspace(ws, tmp_path / "d1")
            before = _tables(ws)
        with open_workspace(f"{PG_URL}?schema={schema}") as pg:
            summary = restore_workspace(pg, tmp_path / "d1")
            assert summary["rows"] == sum(t["rows"] for t in first["tables"])
            second = dump_workspace(pg, tmp_path / "d2")
        assert second["engine"] == "postgres" and second["schema_version"] == first["schema_version"]
        # the same tables, columns, types and row counts came out of PostgreSQL
        assert [(t["name"], t["columns"], t["rows"]) for t in second["tables"]] == \
            [(t["name"], t["columns"], t["rows"]) for t in first["tables"]]
        with open_workspace(str(tmp_path / "back.duckdb")) as back:
            restore_workspace(back, tmp_path / "d2")
            after = _tables(back)
            assert back.schema_version == first["schema_version"]
            hashes = back.engine.fetchall("SELECT username, password_hash FROM users")
    finally:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    assert sorted(after) == sorted(before)
    for table in before:
        assert after[table][0] == before[table][0], table  # columns and their types
        assert after[table][1] == before[table][1], table  # every row
    assert {"accounts", "hierarchy", "account_kpis", "users", "schema_migrations", "workspace_meta"} <= set(before)
    assert ("alice",) in [(u,) for u, _ in hashes] and all(h.startswith("$argon2") for _, h in hashes)
    # the JSON attributes came back as the very text written, through PostgreSQL's json column
    at = after["accounts"][0].index(("attributes", "JSON"))
    assert '{"tier": "A", "tags": ["x", "é"], "n": 1.5}' in [row[at] for row in after["accounts"][1]]


def test_restore_refuses_a_newer_schema_and_writes_nothing(demo_ws: Path, tmp_path: Path) -> None:
    with open_workspace(str(demo_ws)) as ws:
        dump_workspace(ws, tmp_path / "d")
    manifest_path = tmp_path / "d" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["schema_version"] = 9999
    manifest_path.write_text(json.dumps(manifest))
    target = tmp_path / "new.duckdb"
    result = CliRunner().invoke(app, ["restore", str(tmp_path / "d"), "--workspace", str(target)])
    assert result.exit_code != 0
    assert "newer workspace schema (9999)" in result.output
    assert not target.exists()  # refused before the workspace was even created


def test_restore_refuses_a_damaged_file_and_a_workspace_with_accounts(demo_ws: Path, tmp_path: Path) -> None:
    with open_workspace(str(demo_ws)) as ws:
        manifest = dump_workspace(ws, tmp_path / "d")
        with pytest.raises(DumpError, match="already holds accounts"):
            restore_workspace(ws, tmp_path / "d")
    deals = tmp_path / "d" / "deals.parquet"
    deals.write_bytes(deals.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(DumpError, match="checksum"):
        read_manifest(tmp_path / "d")
    with open_workspace(str(tmp_path / "new.duckdb")) as ws:
        with pytest.raises(DumpError, match="checksum"):
            restore_workspace(ws, tmp_path / "d")
        assert ws.engine.scalar("SELECT count(*) FROM accounts") == 0
        assert not ws.engine.table_exists("hierarchy")
    assert manifest["tables"] and all(len(t["sha256"]) == 64 for t in manifest["tables"])


def test_dump_and_restore_commands(demo_ws: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["dump", str(tmp_path / "d"), "--workspace", str(demo_ws), "--json"])
    assert out.exit_code == 0, out.output
    dumped = json.loads(out.output)
    back = runner.invoke(app, ["restore", str(tmp_path / "d"), "--workspace", str(tmp_path / "b.duckdb"), "--json"])
    assert back.exit_code == 0, back.output
    assert json.loads(back.output)["rows"] == dumped["rows"] > 0
