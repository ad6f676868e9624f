"""Scratch tables of a registry import: temporary, so a failure or a rollback leaves nothing behind.

Each step of the import is one `CREATE TEMPORARY TABLE … AS SELECT` over the previous ones: set-based
SQL the engine runs in bulk, and steps that read on their own (as in `accountree.hierarchy`).
"""

from __future__ import annotations

from accountree.store.engine import Engine, Params


def temp_table(engine: Engine, name: str, select_sql: str, params: Params = None) -> None:
    """(Re)create a scratch table of this import: temporary, so a failure leaves nothing behind;
    analysed, since without statistics PostgreSQL picks nested loops over 100k-row joins."""
    engine.materialize(name, select_sql, params=params, temporary=True, analyze=True)


def drop_table(engine: Engine, name: str) -> None:
    engine.drop_table(name)
