"""Scratch tables of one hierarchy build: temporary, so a failed build leaves nothing behind.

Each step of the build is one `CREATE TEMP TABLE … AS SELECT` over the previous steps, so every
step is set-based SQL the engine can run in parallel, and the steps stay readable on their own.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
from sqlglot import exp

from accountree.store.engine import Engine, Params

PREFIX = "_hier_"


def drop(engine: Engine, *tables: str) -> None:
    engine.drop_table(*tables)


def index_name(table: str, column: str) -> str:
    """The name of the b-tree `replace_output` gives a public table's column (`Engine.index_name`)."""
    return Engine.index_name(table, column)


def replace_output(engine: Engine, table: str, select_sql: str, params: Params = None,
                   index: tuple[str, ...] = ()) -> None:
    """`Engine.materialize` for the build's public tables, with statistics.

    Where b-trees help joins (`capabilities.join_indexes`: PostgreSQL) the `index` columns get one
    each: the build's recursive walks join on them, and so do readers (a group's members, an
    account's ancestors). DuckDB needs none.
    """
    engine.materialize(table, select_sql, params=params, analyze=True,
                       indexes=index if engine.capabilities.join_indexes else ())


def create(engine: Engine, table: str, select_sql: str, params: Params = None) -> int:
    """(Re)create a scratch table from a query; returns its row count."""
    assert table.startswith(PREFIX), table
    rows = engine.materialize(table, select_sql, params=params, temporary=True, analyze=True)
    return rows if rows is not None else count(engine, table)


def analyze(engine: Engine, table: str) -> None:
    """PostgreSQL plans the next steps blind on a table it has no statistics for (CREATE TABLE AS
    collects none, and autovacuum never sees temporary tables); DuckDB keeps them as it writes."""
    engine.analyze(table)


def create_empty(engine: Engine, table: str, columns: dict[str, str]) -> None:
    drop(engine, table)
    schema = exp.Schema(this=exp.table_(table, quoted=True), expressions=[
        exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build(t)) for c, t in columns.items()])
    engine.execute(exp.Create(this=schema, kind="TABLE", properties=exp.Properties(expressions=[exp.TemporaryProperty()])))


def insert_rows(engine: Engine, table: str, rows: Iterable[dict], columns: list[str]) -> None:
    data = list(rows)
    if data:
        engine.insert_arrow(table, pa.Table.from_pylist(data, schema=pa.schema([(c, pa.string()) for c in columns])))


def count(engine: Engine, table: str) -> int:
    return int(engine.scalar(exp.select(exp.func("count", exp.Star())).from_(exp.table_(table, quoted=True))) or 0)
