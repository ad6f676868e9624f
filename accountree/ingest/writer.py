"""The write step of an import: one transaction, new rows inserted, changed rows updated.

Runs as the same SQL on every engine. With a DuckDB workspace the staged rows are already in the
workspace's connection; with PostgreSQL they are first copied into temporary tables there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
from sqlglot import exp

from accountree.errors import WorkspaceError
from accountree.ingest.contract import TABLES, WRITE_ORDER
from accountree.ingest.report import ImportWarning, warnings_table
from accountree.store import Workspace
from accountree.store.sql import template


def _create_temp(table: str, query: exp.Select, replace: bool = True) -> exp.Create:
    return exp.Create(this=exp.table_(table, quoted=True), kind="TABLE", expression=query, replace=replace,
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))


def write_tables(
    workspace: Workspace,
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, tuple[str, str, Path, object]],
    *,
    bundle: str,
    preset: str | None,
    user: str,
    now: datetime,
    finals: Callable[[str, int, datetime], exp.Select],
    warnings: list[ImportWarning] | None = None,
) -> int:
    engine = workspace.engine
    same_connection = engine.staging_connection() is con
    import_id = int(engine.scalar("SELECT coalesce(max(import_id), 0) + 1 FROM imports"))
    stores: dict[str, str] = {}
    try:
        for table in tables:
            store = f"__store_{table}"
            stores[table] = store
            con.execute(_create_temp(store, finals(table, import_id, now)).sql("duckdb"))
        with engine.transaction():
            if not same_connection:
                for table, store in stores.items():
                    columns = con.table(store).columns
                    _create_like(engine, table, store, columns)
                    reader = con.table(store).to_arrow_reader(50_000)
                    try:
                        engine.insert_arrow(store, reader)
                    finally:
                        reader.close()  # an open result would lock the staging connection
            for table in [t for t in WRITE_ORDER if t in tables]:
                _, file_hash, path, report = tables[table]
                inserted, updated = _merge(engine, table, stores[table], con.table(stores[table]).columns)
                report.inserted, report.updated = inserted, updated  # type: ignore[attr-defined]
                report.unchanged = report.rows - inserted - updated  # type: ignore[attr-defined]
                engine.execute(
                    "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [import_id, now, user, bundle, str(path), table, file_hash, preset, report.rows,  # type: ignore[attr-defined]
                     inserted, updated, report.unchanged],  # type: ignore[attr-defined]
                )
            if warnings:  # beside the `imports` rows of their files, in the same transaction
                paths = {report.file: str(path) for _, _, path, report in tables.values()}  # type: ignore[attr-defined]
                engine.insert_arrow("import_warnings", warnings_table(import_id, warnings, paths))
            if not same_connection:
                for store in stores.values():
                    engine.execute(exp.Drop(tables=[exp.table_(store, quoted=True)], kind="TABLE", exists=True))
    except (duckdb.Error, *_driver_errors()) as err:
        # The transaction was rolled back: nothing of this import is in the workspace.
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise WorkspaceError(f"writing to the workspace failed, nothing was imported: {first}",
                             hint="Check the workspace (disk space, database connection) and run the import again.") from err
    finally:
        for store in stores.values():
            with contextlib.suppress(duckdb.Error):
                con.execute(template("DROP TABLE IF EXISTS :t", t=store))
    return import_id


def _driver_errors() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:
        return ()
    return (psycopg.Error,)


def _create_like(engine, table: str, store: str, columns: list[str]) -> None:
    """A temporary table on the engine with the target's column types, for the staged rows."""
    select = exp.select(*[exp.column(c, quoted=True) for c in columns]).from_(exp.table_(table, quoted=True)).where(exp.false())
    engine.execute(exp.Drop(tables=[exp.table_(store, quoted=True)], kind="TABLE", exists=True))
    engine.execute(_create_temp(store, select, replace=False))


# New rows of a table with this column are written in its order, so an account's deals, activities
# or contacts sit together: reading one account's rows (a KPI refresh, the account page, the
# products view) then touches a few storage blocks instead of one per row — DuckDB reads a whole
# 256 KB block for a row. Measured at 1M accounts / 10M deals: a one-deal KPI refresh 112 → 93 ms
# (median), the KPI build's per-account aggregation 2.0 → 1.5 s; the import of 3M deals 19.2 → 19.5 s.
CLUSTER_BY = "account_id"


def _merge(engine, table: str, store: str, columns: list[str]) -> tuple[int, int]:
    """Insert new keys, update rows whose content hash changed; returns (inserted, updated)."""
    spec = TABLES[table]
    keys = list(spec.key)
    target, source = exp.table_(table, quoted=True), exp.table_(store, quoted=True)

    def key_match(left: str, right: str) -> exp.Expression:
        return exp.and_(*[exp.column(k, table=left, quoted=True).eq(exp.column(k, table=right, quoted=True)) for k in keys])

    existing = exp.select(exp.column("row_hash", table="t", quoted=True)).from_(target.as_("t")).where(key_match("t", "s")).limit(1)
    counts = exp.select(
        exp.func("count_if", exp.Exists(this=existing.copy()).not_()),
        exp.func("count_if", exp.and_(
            exp.Exists(this=existing.copy()),
            exp.NullSafeEQ(this=exp.Subquery(this=existing.copy()), expression=exp.column("row_hash", table="s", quoted=True)).not_(),
        )),
    ).from_(source.as_("s"))
    inserted, updated = engine.fetchone(counts)
    if updated:
        changed = exp.and_(key_match(table, "s"),
                           exp.column("row_hash", table=table, quoted=True).neq(exp.column("row_hash", table="s", quoted=True)))
        sets = [exp.EQ(this=exp.column(c, quoted=True), expression=exp.column(c, table="s", quoted=True))
                for c in columns if c not in keys]
        update = exp.Update(this=target, expressions=sets, from_=exp.From(this=source.as_("s")), where=exp.Where(this=changed))
        engine.execute(update)
    if inserted:
        cols = [exp.column(c, quoted=True) for c in columns]
        new = exp.select(*[exp.column(c, table="s", quoted=True) for c in columns]).from_(source.as_("s")).where(
            exp.Exists(this=existing.copy()).not_())
        if CLUSTER_BY in columns:
            new = new.order_by(exp.column(CLUSTER_BY, table="s", quoted=True))
        engine.execute(exp.insert(new, exp.Schema(this=target, expressions=cols)))
    return int(inserted or 0), int(updated or 0)
