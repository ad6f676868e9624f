"""Per-request engines for a server: a connection pool on PostgreSQL, a cursor on DuckDB.

`accountree serve` on a PostgreSQL workspace is the team server: each request borrows one
connection of a `psycopg_pool.ConnectionPool` (opened on the workspace's URL and schema) for its
whole life and gives it back, so requests run side by side instead of queueing behind one
connection. On DuckDB a request gets a cursor of the workspace's connection (DuckDB allows one
process per file; its cursors run in parallel threads and see each other's commits).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from contextlib import contextmanager

from accountree.errors import WorkspaceError
from accountree.store.engine import Engine

POOL_SIZE_ENV = "ACCOUNTREE_PG_POOL"
DEFAULT_POOL_SIZE = 16  # connections at most; PostgreSQL's default max_connections is 100
POOL_TIMEOUT_S = 30.0   # a request waiting this long for a connection fails (503-like) instead of hanging


class EnginePool:
    """Engines for concurrent requests on one open workspace engine (`base`)."""

    def __init__(self, base: Engine, max_size: int | None = None) -> None:
        self.base = base
        self._pool = None
        if base.name == "postgres":
            self._pool = _pg_pool(base, max_size or int(os.environ.get(POOL_SIZE_ENV) or DEFAULT_POOL_SIZE))

    @property
    def size(self) -> int:
        return self._pool.max_size if self._pool is not None else 0

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        base = self.base
        if self._pool is not None:
            import psycopg_pool

            try:
                con_cm = self._pool.connection(timeout=POOL_TIMEOUT_S)
                con = con_cm.__enter__()
            except psycopg_pool.PoolTimeout as err:
                raise WorkspaceError("the server is busy: no database connection came free in time",
                                     hint=f"Try again; an admin may raise ${POOL_SIZE_ENV} (now {self.size}).") from err
            clone = copy.copy(base)
            clone.con = con  # type: ignore[attr-defined]
            clone._tx_depth = 0  # type: ignore[attr-defined]
            try:
                yield clone
            except BaseException as err:
                con_cm.__exit__(type(err), err, err.__traceback__)
                raise
            else:
                con_cm.__exit__(None, None, None)
            return
        if base.name == "duckdb":
            clone = copy.copy(base)
            clone.con = base.con.cursor()  # type: ignore[attr-defined]
            clone._depth = 0  # type: ignore[attr-defined]
            try:
                yield clone
            finally:
                clone.con.close()  # type: ignore[attr-defined]
            return
        yield base  # pragma: no cover - an engine without concurrency support: one at a time

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def _pg_pool(base: Engine, max_size: int):
    """A pool on the base engine's URL; every connection gets the workspace's search_path."""
    try:
        from psycopg_pool import ConnectionPool
    except ImportError as err:  # pragma: no cover - a core dependency
        from accountree.errors import MissingDependencyError

        raise MissingDependencyError("the team server needs psycopg-pool", hint="pip install psycopg-pool") from err
    from psycopg import sql

    schema = base.schema

    def configure(con) -> None:
        con.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

    pool = ConnectionPool(base.url, min_size=min(2, max_size), max_size=max_size, kwargs={"autocommit": True},
                          configure=configure, open=False, name="accountree")
    try:
        pool.open(wait=True, timeout=POOL_TIMEOUT_S)
    except Exception as err:
        pool.close()
        raise WorkspaceError(f"cannot open a connection pool on {getattr(base, 'safe_url', base.url)}: {err}",
                             hint="Check the server's max_connections, or lower $" + POOL_SIZE_ENV + ".") from err
    return pool
