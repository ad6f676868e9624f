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


def _name(engine: Engine, table: str) -> str:
    assert table.startswith(PREFIX), table
    return exp.table_(table, quoted=True).sql(dialect=engine.dialect)


def drop(engine: Engine, *tables: str) -> None:
    for table in tables:
        # `tables=`: sqlglot >= 30 renders `Drop(this=…)` without its name (see Engine.replace_table).
        engine.execute(exp.Drop(tables=[exp.table_(table, quoted=True)], kind="TABLE", exists=True))


def index_name(table: str, column: str) -> str:
    """The name of the b-tree `replace_output` gives a public table's column on PostgreSQL."""
    return f"ix_{table}_{column}"


def replace_output(engine: Engine, table: str, select_sql: str, params: Params = None,
                   index: tuple[str, ...] = ()) -> None:
    """`Engine.replace_table` for the build's public tables (same statements, portable DROP).

    On PostgreSQL the `index` columns get a b-tree each: the build's recursive walks join on them,
    and so do readers (a group's members, an account's ancestors). DuckDB needs none.
    """
    engine.execute(exp.Drop(tables=[exp.table_(table, quoted=True)], kind="TABLE", exists=True))
    (query,) = engine.render(select_sql)
    engine._execute(f"CREATE TABLE {exp.table_(table, quoted=True).sql(dialect=engine.dialect)} AS {query}", params)
    if engine.name == "postgres":
        for column in index:
            name = exp.to_identifier(index_name(table, column), quoted=True).sql(dialect=engine.dialect)
            target = exp.table_(table, quoted=True).sql(dialect=engine.dialect)
            col = exp.to_identifier(column, quoted=True).sql(dialect=engine.dialect)
            engine._execute(f"CREATE INDEX {name} ON {target} ({col})", None)
    analyze(engine, table)


def create(engine: Engine, table: str, select_sql: str, params: Params = None) -> int:
    """(Re)create a scratch table from a query; returns its row count."""
    drop(engine, table)
    (query,) = engine.render(select_sql)
    engine._execute(f"CREATE TEMPORARY TABLE {_name(engine, table)} AS {query}", params)
    analyze(engine, table)
    return count(engine, table)


def analyze(engine: Engine, table: str) -> None:
    """PostgreSQL plans the next steps blind on a table it has no statistics for (CREATE TABLE AS
    collects none, and autovacuum never sees temporary tables); DuckDB keeps them as it writes."""
    if engine.name == "postgres":
        engine._execute(f"ANALYZE {exp.table_(table, quoted=True).sql(dialect=engine.dialect)}", None)


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
