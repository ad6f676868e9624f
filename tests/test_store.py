"""The workspace store: locations, migrations, the same behaviour on each engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from accountree.errors import WorkspaceError
from accountree.ingest.contract import TABLES
from accountree.store import open_workspace, resolve_location
from accountree.store.workspace import migrations


def test_location_order(monkeypatch) -> None:
    monkeypatch.delenv("ACCOUNTREE_WORKSPACE", raising=False)
    assert resolve_location(None) == "accountree.duckdb"
    monkeypatch.setenv("ACCOUNTREE_WORKSPACE", "/data/team.duckdb")
    assert resolve_location(None) == "/data/team.duckdb"
    assert resolve_location("other.duckdb") == "other.duckdb"


def test_migrations_apply_once_and_record_versions(engine_location: str) -> None:
    with open_workspace(engine_location) as ws:
        versions = [v for v, _, _ in migrations()]
        assert ws.schema_version == max(versions)
        assert ws.migrate() == []  # nothing left to apply
        recorded = [r[0] for r in ws.engine.fetchall("SELECT version FROM schema_migrations ORDER BY version")]
        assert recorded == versions
        assert ws.reporting_currency == "EUR"
    with open_workspace(engine_location) as again:  # reopening keeps everything
        assert again.schema_version == max(versions)


def test_every_contract_column_is_stored(workspace) -> None:
    for table, spec in TABLES.items():
        stored = set(workspace.engine.table_columns(table))
        missing = set(spec.column_names) - stored
        assert not missing, f"{table} lacks {missing}"
        for converted in spec.money.values():
            assert converted in stored


def test_transaction_rolls_back_everything(workspace) -> None:
    with pytest.raises(RuntimeError), workspace.engine.transaction():
        workspace.engine.execute("INSERT INTO seller_bus (bu_id, name) VALUES (?, ?)", ["bu1", "Software"])
        raise RuntimeError("boom")
    assert workspace.engine.scalar("SELECT count(*) FROM seller_bus") == 0


def test_parameters_are_values_never_sql(workspace) -> None:
    hostile = "x'); DROP TABLE accounts; --"
    workspace.engine.execute("INSERT INTO seller_bus (bu_id, name) VALUES (?, ?)", [hostile, "50 % off"])
    assert workspace.engine.fetchall("SELECT bu_id, name FROM seller_bus WHERE name LIKE '%off'") == [(hostile, "50 % off")]
    assert workspace.engine.table_exists("accounts")


def test_bad_locations_are_clear(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="does not exist"):
        open_workspace(str(tmp_path / "nope" / "w.duckdb"))
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("hello")
    with pytest.raises(WorkspaceError):
        open_workspace(str(not_duckdb))
    with pytest.raises(WorkspaceError, match="unsupported workspace URL"):
        open_workspace("mysql://localhost/db")


@pytest.mark.postgres
def test_postgres_errors_hide_the_password() -> None:
    with pytest.raises(WorkspaceError) as caught:
        open_workspace("postgresql://bob:s3cret@127.0.0.1:1/none")
    assert "s3cret" not in caught.value.message and "***" in caught.value.message


def test_engine_settings_for_a_block_come_back_even_when_its_transaction_fails(tmp_path) -> None:
    """`small_work` / `bulk_work` set DuckDB settings for a block; a failed statement aborts the
    transaction, so the previous values are set again after the rollback, and the error is the original one."""
    import duckdb

    with open_workspace(str(tmp_path / "w.duckdb")) as ws:
        setting = lambda name: ws.engine.scalar("SELECT current_setting(?)", [name])  # noqa: E731
        ws.engine.execute("SET threads = 2")
        with (pytest.raises(duckdb.CatalogException), ws.engine.transaction(), ws.engine.bulk_work(),
              ws.engine.small_work()):
            assert (setting("threads"), setting("preserve_insertion_order")) == (1, False)
            ws.engine.execute("SELECT * FROM no_such_table")
        assert (setting("threads"), setting("preserve_insertion_order")) == (2, True)
        with ws.engine.bulk_work():  # outside a transaction: back at once
            assert setting("preserve_insertion_order") is False
        assert setting("preserve_insertion_order") is True


def test_bulk_work_within_limit_leaves_the_process_room_in_the_memory_limit(tmp_path) -> None:
    """`bulk_work(within_limit=True)`: DuckDB's buffer pool gets the workspace's limit less the
    headroom of the rest of the process (at least half of it), and the limit comes back after the
    block, also after a failed transaction; without the flag, or for a limit that is no size, it stays."""
    import duckdb

    from accountree.store.duckdb_engine import PROCESS_HEADROOM_BYTES, DuckDBEngine, _limit_bytes

    assert (_limit_bytes("2GB"), _limit_bytes("1.5 GiB"), _limit_bytes("900mb"), _limit_bytes("80%")) == (
        2_000_000_000, 1_610_612_736, 900_000_000, None)
    engine = DuckDBEngine(str(tmp_path / "w.duckdb"), memory_limit="2GB")
    limit = lambda: engine.scalar("SELECT current_setting('memory_limit')")  # noqa: E731
    try:
        full = limit()
        with engine.bulk_work():
            assert limit() == full
        with engine.bulk_work(within_limit=True):
            reduced = limit()
            expected = duckdb.connect()
            expected.execute("SET memory_limit = ?", [f"{2_000_000_000 - PROCESS_HEADROOM_BYTES}B"])
            assert reduced == expected.execute("SELECT current_setting('memory_limit')").fetchone()[0] != full
        assert limit() == full
        with pytest.raises(duckdb.CatalogException), engine.transaction(), engine.bulk_work(within_limit=True):
            assert limit() == reduced
            engine.execute("SELECT * FROM no_such_table")
        assert limit() == full
    finally:
        engine.close()
    small = DuckDBEngine(str(tmp_path / "s.duckdb"), memory_limit="500MB")  # at least half of the limit
    try:
        with small.bulk_work(within_limit=True):
            expected = duckdb.connect()
            expected.execute("SET memory_limit = ?", ["250000000B"])
            assert small.scalar("SELECT current_setting('memory_limit')") == expected.execute(
                "SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        small.close()


def test_rows_of_shares_repeated_values_and_equals_to_pylist() -> None:
    """Fetched rows hold one object per distinct repeated value (memory of large fetches, e.g. the
    KAM stage's deals), and are otherwise exactly `to_pylist()`."""
    import datetime as dt

    import pyarrow as pa

    from accountree.store.engine import rows_of

    n = 4000
    table = pa.table({
        "stage": ["won", "lost", None, "proposal"] * (n // 4), "id": [f"D{i}" for i in range(n)],
        "day": [dt.date(2026, 1, 1 + i % 28) for i in range(n)], "amount": [1.5] * n, "none": pa.nulls(n),
        "tags": [["a"]] * n, "meta": [{"k": 1}] * n,
    })
    rows = rows_of(table)
    assert rows == table.to_pylist()
    assert rows[0]["stage"] is rows[4]["stage"] and rows[0]["day"] is rows[28]["day"]  # shared
    assert rows[0]["tags"] is not rows[1]["tags"]  # mutable values stay one per row
    rows[0]["tags"].append("b")
    assert rows[1]["tags"] == ["a"]
    assert rows_of(table.slice(0, 10)) == table.slice(0, 10).to_pylist()  # small: as they come
    assert rows_of(pa.table({"x": pa.array([], pa.string())})) == []
