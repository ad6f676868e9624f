"""The engine seam: one small adapter per database, the same flow on top.

Every query accountree runs is DuckDB-dialect SQL with parameters; an engine transpiles it (see
`accountree.store.sql`) and runs it. Engines add the few things SQL cannot say portably: bulk
loading Arrow data, transactions, and a DuckDB connection for staging imports.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from accountree.store.sql import render_expression, transpile

SHARED_VALUES_FROM = 1000  # rows from which repeated values of a column are shared (`rows_of`)


def _repeats(column: pa.ChunkedArray) -> bool:
    """A column of immutable values (not floats: rarely equal) with ≥ 4 rows per distinct value."""
    kind = column.type
    if pa.types.is_floating(kind) or pa.types.is_nested(kind) or pa.types.is_null(kind):
        return False
    try:
        return pc.count_distinct(column).as_py() * 4 < len(column)
    except pa.ArrowNotImplementedError:  # a type without that kernel: kept as it is
        return False


def rows_of(table: pa.Table) -> list[dict[str, Any]]:
    """`table.to_pylist()`, with one Python object per distinct value of a column that repeats
    (stages, BUs, owners, dates…) instead of one per row: the KAM stage holds millions of such
    rows (the 1M-account demo: 3.8M deals, 2.2M contacts) and each value was its own object."""
    names = table.column_names
    columns = []
    for column in table.columns:
        values = column.to_pylist()
        if len(values) >= SHARED_VALUES_FROM and _repeats(column):
            shared: dict[Any, Any] = {}
            values = [v if v is None else shared.setdefault(v, v) for v in values]
        columns.append(values)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)] if names \
        else [{} for _ in range(table.num_rows)]

Params = Sequence[Any] | Mapping[str, Any] | None

_KEY_LOCKS: dict[tuple[str, str], threading.RLock] = {}
_KEY_LOCKS_GUARD = threading.Lock()


def _key_lock(url: str, key: str) -> threading.RLock:
    with _KEY_LOCKS_GUARD:
        return _KEY_LOCKS.setdefault((url, key), threading.RLock())


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, and what helps it: capability code asks these, never `engine.name`
    (after ibis's backend capability flags and splink's `DatabaseAPI`)."""

    transactions: bool = True
    """DDL and DML commit or roll back together (`Engine.transaction`)."""
    recursive_cte: bool = True
    """`WITH RECURSIVE`; without it a walk expands one level per statement."""
    temp_tables: bool = True
    """`materialize(..., temporary=True)` creates a session-private table; else a plain one."""
    indexes: bool = True
    """`CREATE INDEX` exists: lookups by id (an incremental refresh) can be answered by an index."""
    join_indexes: bool = False
    """b-tree indexes speed up the joins and recursive walks of a build: a derived table gets one
    on the columns it is joined on (PostgreSQL). DuckDB joins by hashing: an index only costs."""
    needs_analyze: bool = False
    """The planner has no statistics for a table written by `CREATE TABLE AS` until `analyze`
    (PostgreSQL; autovacuum never sees temporary tables). `analyze` is a no-op elsewhere."""
    drop_at_commit: bool = False
    """A temporary table can be dropped by the commit (`ON COMMIT DROP`): scratch tables of a
    refresh cost no DROP statements. Else they are replaced in place."""
    jit: bool = False
    """The engine compiles big statements just in time (PostgreSQL): `large_statements()` turns
    it off for a build, where it costs ~0.5 s a statement and gains nothing."""
    shared_writers: bool = False
    """Other processes may write the workspace while a server holds it (PostgreSQL; a DuckDB file is
    locked by the server): a server's caches expire sooner and its writes serialise on the read
    model's bookkeeping."""


class Engine(ABC):
    """A workspace database. Subclasses fill in the `_` methods, `dialect` and `capabilities`."""

    name: str = "engine"
    dialect: str = "duckdb"
    capabilities: Capabilities = Capabilities()
    _recording: list[dict[str, int | None]] | None = None  # see `recording`
    _tracing: list[dict[str, str | None]] | None = None  # see `tracing`

    def __init__(self, url: str) -> None:
        self.url = url

    # -- SQL ------------------------------------------------------------------------------
    def render(self, sql: str | exp.Expression) -> tuple[str, ...]:
        statements = ((render_expression(sql, self.dialect),) if isinstance(sql, exp.Expression)
                      else transpile(sql, self.dialect))
        if self._tracing is not None:
            self._tracing.extend({"table": None, "sql": s} for s in statements)
        return statements

    def execute(self, sql: str | exp.Expression, params: Params = None) -> None:
        """Run one or several statements (several only without parameters)."""
        statements = self.render(sql)
        if params and len(statements) > 1:
            raise ValueError("parameters need a single statement")
        for statement in statements:
            self._execute(statement, params)

    def fetchall(self, sql: str | exp.Expression, params: Params = None) -> list[tuple]:
        (statement,) = self.render(sql)
        return self._fetchall(statement, params)

    def fetchone(self, sql: str | exp.Expression, params: Params = None) -> tuple | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str | exp.Expression, params: Params = None) -> Any:
        row = self.fetchone(sql, params)
        return row[0] if row else None

    def fetch_dicts(self, sql: str | exp.Expression, params: Params = None) -> list[dict[str, Any]]:
        return rows_of(self.fetch_arrow(sql, params))

    def fetch_described(self, sql: str | exp.Expression, params: Params = None) -> tuple[list[str], list[tuple]] | None:
        """Column names and rows of a small result in one execution, on engines where that is cheaper
        than Arrow; None elsewhere (callers use `fetch_arrow`)."""
        return None

    def fetch_arrow(self, sql: str | exp.Expression, params: Params = None) -> pa.Table:
        batches = list(self.iter_batches(sql, params))
        if not batches:
            (statement,) = self.render(sql)
            return self._empty_result(statement, params)
        return pa.Table.from_batches(batches)

    def iter_batches(
        self, sql: str | exp.Expression, params: Params = None, batch_rows: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a result as Arrow batches, so exports of large tables stay in bounded memory."""
        (statement,) = self.render(sql)
        yield from self._iter_batches(statement, params, batch_rows)

    # -- tables ---------------------------------------------------------------------------
    def table_exists(self, table: str) -> bool:
        return bool(
            self.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = ?",
                [table, self.schema],
            )
        )

    def table_columns(self, table: str) -> list[str]:
        rows = self.fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = ? "
            "ORDER BY ordinal_position",
            [table, self.schema],
        )
        return [r[0] for r in rows]

    def index_names(self) -> set[str]:
        """Names of the indexes in the workspace's schema (one catalog query)."""
        return {r[0] for r in self.fetchall(self._index_names_sql(), [self.schema])}

    @abstractmethod
    def _index_names_sql(self) -> str: ...

    # -- create a table from a query: the one way -------------------------------------
    def materialize(self, name: str, query: str | exp.Expression, *, params: Params = None,
                    temporary: bool = False, indexes: Iterable[str] = (), analyze: bool = False,
                    until_commit: bool = False) -> int | None:
        """(Re)create table `name` from `query` (DuckDB-dialect SQL text or a sqlglot expression),
        atomically with the caller's transaction; returns its row count when the engine says it.

        - `temporary`: a session-private scratch table (a plain one where `temp_tables` is off);
        - `indexes`: a b-tree on each of these columns (`index_name(name, column)`); callers
          usually pass them only when `capabilities.join_indexes`;
        - `analyze`: collect planner statistics right away (see `analyze`);
        - `until_commit`: a temporary table the commit may drop (`drop_at_commit`); the next
          `until_commit` one of that name (in a later transaction) replaces it. Saves the DROP
          statement of small, repeated scratch tables (an incremental refresh).
        """
        temporary = temporary and self.capabilities.temp_tables
        (select,) = self.render(query)
        if self._tracing is not None:
            self._tracing[-1]["table"] = name
        target = exp.table_(name, quoted=True).sql(dialect=self.dialect)
        rows = self._create_as(target, select, params, temporary=temporary, until_commit=until_commit and temporary)
        for column in indexes:
            self.create_index(name, column)
        if analyze:
            self.analyze(name)
        if self._recording is not None and not temporary:
            self._recording.append({"table": name, "rows": rows})
        return rows

    def replace_table(self, table: str, select_sql: str | exp.Expression, params: Params = None) -> None:
        """(Re)create a derived table from a query: `materialize` (kept for existing callers)."""
        self.materialize(table, select_sql, params=params)

    def analyze(self, name: str) -> None:
        """Collect the planner statistics of `name` where the engine needs them (`needs_analyze`)."""
        return None

    @staticmethod
    def index_name(table: str, column: str) -> str:
        """The name `materialize(indexes=…)` gives the index of a table's column."""
        return f"ix_{table}_{column}"

    def create_index(self, table: str, column: str, name: str | None = None) -> None:
        """A b-tree on one column (`CREATE INDEX IF NOT EXISTS`)."""
        index = exp.to_identifier(name or self.index_name(table, column), quoted=True).sql(dialect=self.dialect)
        target = exp.table_(table, quoted=True).sql(dialect=self.dialect)
        col = exp.to_identifier(column, quoted=True).sql(dialect=self.dialect)
        self._execute(f"CREATE INDEX IF NOT EXISTS {index} ON {target} ({col})", None)

    def drop_index(self, name: str) -> None:
        """`DROP INDEX IF EXISTS name` (an index `create_index` made)."""
        self._execute(f"DROP INDEX IF EXISTS {exp.to_identifier(name, quoted=True).sql(dialect=self.dialect)}", None)

    def drop_table(self, *names: str) -> None:
        for name in names:
            # `tables=`: sqlglot >= 30 renders `Drop(this=…)` without its name
            self.execute(exp.Drop(tables=[exp.table_(name, quoted=True)], kind="TABLE", exists=True))

    def create_view(self, name: str, query: str | exp.Expression) -> None:
        """`CREATE VIEW name AS query` (a view takes no parameters)."""
        (select,) = self.render(query)
        self._execute(f"CREATE VIEW {exp.table_(name, quoted=True).sql(dialect=self.dialect)} AS {select}", None)

    def _create_as(self, target: str, select: str, params: Params, *, temporary: bool, until_commit: bool) -> int | None:
        """`CREATE [TEMPORARY] TABLE target AS select` after dropping any table of that name;
        the row count when the driver reports it. Adapters may do it in one statement."""
        self._execute(f"DROP TABLE IF EXISTS {target}", None)
        self._execute(f"CREATE {'TEMPORARY ' if temporary else ''}TABLE {target} AS {select}", params)
        return None

    @contextmanager
    def recording(self) -> Iterator[list[dict[str, int | None]]]:
        """The public tables `materialize` writes inside the block, with their row counts (None
        when the engine did not say): what `accountree build` reports per stage."""
        outer, self._recording = self._recording, []
        try:
            yield self._recording
        finally:
            if outer is not None:
                outer.extend(self._recording)
            self._recording = outer

    @contextmanager
    def tracing(self) -> Iterator[list[dict[str, str | None]]]:
        """Every statement rendered inside the block, as sent to the driver (in this engine's
        dialect, before the driver's own escaping): `{table, sql}`, `table` naming the table a
        `materialize` wrote. For SQL snapshot tests and debugging."""
        outer, self._tracing = self._tracing, []
        try:
            yield self._tracing
        finally:
            if outer is not None:
                outer.extend(self._tracing)
            self._tracing = outer

    @contextmanager
    def large_statements(self) -> Iterator[None]:
        """Inside a transaction: settings for the big set-based statements of a build (no JIT,
        more memory per sort) until it ends. Nothing changes where the engine needs none."""
        yield

    def json_keys(self, table: str, column: str) -> list[str]:
        """Distinct keys of a JSON-object column (custom attributes), sorted."""
        rows = self.fetchall(self._json_keys_sql(table, column))
        return sorted(r[0] for r in rows if r[0] is not None)

    @abstractmethod
    def _json_keys_sql(self, table: str, column: str) -> str: ...

    @abstractmethod
    def insert_arrow(self, table: str, data: pa.Table | Iterable[pa.RecordBatch]) -> int:
        """Append Arrow data to an existing table (columns matched by name); returns rows written."""

    @contextmanager
    def small_work(self) -> Iterator[None]:
        """Statements on a handful of rows (an incremental refresh): engines that parallelise every
        statement may run them on one thread, cheaper to set up. Nothing changes elsewhere."""
        yield

    @contextmanager
    def bulk_work(self, within_limit: bool = False) -> Iterator[None]:
        """Statements that write whole derived tables (a build): engines may drop guarantees those
        tables do not need (DuckDB: insertion order, which costs memory). Nothing changes elsewhere.
        `within_limit`: the whole process should stay within the workspace's memory limit (DuckDB:
        its buffer pool leaves room for the rest of the process); engines without one ignore it."""
        yield

    @contextmanager
    def exclusive(self, *keys: str) -> Iterator[None]:
        """Writers of the same keys (`record:ACC1`, `import`) wait for each other for the block:
        in this process here (DuckDB: one process owns the file); PostgreSQL makes it hold across
        every connection to the workspace's schema (advisory locks). Keys are taken in sorted order."""
        locks = [_key_lock(self.url, k) for k in sorted(set(keys))]
        for lock in locks:
            lock.acquire()
        try:
            yield
        finally:
            for lock in reversed(locks):
                lock.release()

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: everything executed inside commits together or not at all."""

    @property
    @abstractmethod
    def schema(self) -> str: ...

    @abstractmethod
    def close(self) -> None: ...

    # -- to implement ---------------------------------------------------------------------
    @abstractmethod
    def _execute(self, statement: str, params: Params) -> None: ...

    @abstractmethod
    def _fetchall(self, statement: str, params: Params) -> list[tuple]: ...

    @abstractmethod
    def _iter_batches(self, statement: str, params: Params, batch_rows: int) -> Iterator[pa.RecordBatch]: ...

    @abstractmethod
    def _empty_result(self, statement: str, params: Params) -> pa.Table: ...

    def staging_connection(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection where imports are parsed and checked before anything is written."""
        con = duckdb.connect(":memory:")
        con.execute("SET preserve_insertion_order = true")
        return con
