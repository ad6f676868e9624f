"""Scratch tables of a registry import: temporary, so a failure or a rollback leaves nothing behind.

Each step of the import is one `CREATE TEMPORARY TABLE … AS SELECT` over the previous ones: set-based
SQL the engine runs in bulk, and steps that read on their own (as in `accountree.hierarchy`).
"""

from __future__ import annotations

from sqlglot import exp

from accountree.store.engine import Engine, Params


def temp_table(engine: Engine, name: str, select_sql: str, params: Params = None) -> None:
    """(Re)create a scratch table of this import: temporary, so a failure leaves nothing behind."""
    drop_table(engine, name)
    (query,) = engine.render(select_sql)
    table = exp.table_(name, quoted=True).sql(dialect=engine.dialect)
    engine._execute(f"CREATE TEMPORARY TABLE {table} AS {query}", params)
    if engine.name == "postgres":  # autovacuum never analyses temporary tables: without statistics
        engine._execute(f"ANALYZE {table}", None)  # the planner picks nested loops over 100k-row joins


def drop_table(engine: Engine, name: str) -> None:
    engine.execute(exp.Drop(tables=[exp.table_(name, quoted=True)], kind="TABLE", exists=True))
