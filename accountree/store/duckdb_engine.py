"""The embedded default: a DuckDB file, zero set-up."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from accountree.errors import WorkspaceError
from accountree.store.engine import Capabilities, Engine, Params
from accountree.store.sql import template

# Measured at 1M accounts / 10M deals: a full build peaks at ~2.1 GB of RSS with 2GB and ~2.5 GB with
# 3GB, in the same time (DuckDB fills its buffers up to the limit); an import of 3M deals likewise.
DEFAULT_MEMORY_LIMIT = "2GB"
# What a build process holds outside DuckDB's buffer pool (Python and its modules, DuckDB's own
# allocations beside the pool): the abm stage at 1M accounts peaked at ~2.2 GB of RSS with a 2GB
# limit, ~1.86 GB with 1.6GB. `bulk_work(within_limit=True)` leaves it out of the pool.
PROCESS_HEADROOM_BYTES = 384 * 1024 * 1024
_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def _limit_bytes(text: str) -> int | None:
    """`2GB`, `1.5 GiB`, `900MB` as bytes; None for what is not a size (a percentage)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b)\s*", text.lower())
    return int(float(found.group(1)) * _UNITS[found.group(2)]) if found and found.group(2) in _UNITS else None


def _lock_hint(message: str, path: str) -> str:
    """What to do when another process holds the DuckDB file (one process at a time may open it to write)."""
    found = re.search(r"\(PID (\d+)\)", message)
    if not found:
        return "Is another accountree process using it? DuckDB allows one writer at a time."
    pid = found.group(1)
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        command = ""
    if "serve" in command.split():
        return (f"`accountree serve` (PID {pid}) holds this DuckDB workspace, and this command cannot run through it "
                f"(a server runs CLI commands for its own OS user, through the channel it names in {path}.serve; a "
                "second server cannot share it). Use the running server, or stop it (Ctrl-C, or `kill " + pid + "`), "
                f"run this command, and start `accountree serve -w {path}` again. For several servers on one "
                "workspace, use PostgreSQL (`--workspace postgresql://…`).")
    return (f"Another process (PID {pid}{': ' + command[:120] if command else ''}) has this DuckDB workspace open; "
            "DuckDB lets one process at a time open a file to write. Wait for it to finish (or stop it) and run the "
            "command again.")


class DuckDBEngine(Engine):
    name = "duckdb"
    dialect = "duckdb"
    # joins hash, statistics are kept as tables are written, no JIT
    capabilities = Capabilities(join_indexes=False, needs_analyze=False, drop_at_commit=False, jit=False)

    def __init__(self, path: str, *, read_only: bool = False, memory_limit: str | None = None) -> None:
        super().__init__(path)
        if path != ":memory:":
            parent = Path(path).expanduser().resolve().parent
            if not parent.exists():
                raise WorkspaceError(
                    f"cannot create workspace {path}: folder {parent} does not exist",
                    hint="Create the folder or pass another --workspace path.",
                )
        try:
            self.con = duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as err:
            raise WorkspaceError(f"cannot open workspace {path}: {err}", hint=_lock_hint(str(err), path)) from err
        except duckdb.Error as err:
            raise WorkspaceError(f"{path} is not a DuckDB workspace: {err}") from err
        self.con.execute("SET preserve_insertion_order = true")
        # DuckDB's own progress bar prints to standard output, into --json and exported CSV.
        self.con.execute("SET enable_progress_bar_print = false")
        # Bounded memory: beyond the limit DuckDB spills to its temp directory, so a 1 GB import
        # or a 1M-account build runs on a small machine. ACCOUNTREE_MEMORY_LIMIT overrides it.
        limit = memory_limit or os.environ.get("ACCOUNTREE_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
        self.con.execute("SET memory_limit = ?", [limit])
        self._memory_limit = limit
        # DuckDB 2's default string compression (dict_fsst) costs ~3× the CPU of dictionary or
        # FSST alone when a table is written: 1.4 s instead of 0.45 s for 6M account ids, 4–5 s
        # of a 1M-account build. Without it the file is ~1/3 larger (measured: README of accountree.kpi).
        self.con.execute("SET disabled_compression_methods = 'dict_fsst'")
        self._depth = 0
        self._after_rollback: list[str] = []  # settings to restore once a failed transaction is rolled back

    @property
    def schema(self) -> str:
        return "main"

    def _execute(self, statement: str, params: Params) -> None:
        self.con.execute(statement, params).fetchall()  # DuckDB 2 wants every result consumed

    def _fetchall(self, statement: str, params: Params) -> list[tuple]:
        return self.con.execute(statement, params).fetchall()

    def fetch_described(self, sql: str | exp.Expression, params: Params = None) -> tuple[list[str], list[tuple]]:
        # the small results of a page: one execution, no Arrow round trip (`fetch_arrow` runs an
        # empty query twice to learn its schema)
        (statement,) = self.render(sql)
        cursor = self.con.execute(statement, params)
        return [d[0] for d in cursor.description], cursor.fetchall()

    def _create_as(self, target: str, select: str, params: Params, *, temporary: bool, until_commit: bool) -> int | None:
        if until_commit:  # replaced in place by the next one: no DROP statement
            rows = self.con.execute(f"CREATE OR REPLACE TEMPORARY TABLE {target} AS {select}", params).fetchall()
        else:
            self._execute(f"DROP TABLE IF EXISTS {target}", None)
            rows = self.con.execute(f"CREATE {'TEMPORARY ' if temporary else ''}TABLE {target} AS {select}",
                                    params).fetchall()
        return int(rows[0][0]) if rows and rows[0] and isinstance(rows[0][0], int) else None

    def _iter_batches(self, statement: str, params: Params, batch_rows: int) -> Iterator[pa.RecordBatch]:
        reader = self.con.sql(statement, params=params).to_arrow_reader(batch_rows)
        yield from reader

    def _empty_result(self, statement: str, params: Params) -> pa.Table:
        return self.con.sql(statement, params=params).to_arrow_table()

    def _index_names_sql(self) -> str:
        return "SELECT index_name FROM duckdb_indexes() WHERE schema_name = ? AND database_name = current_database()"

    def _json_keys_sql(self, table: str, column: str) -> str:
        return template("SELECT DISTINCT unnest(json_keys(:c)) FROM :t WHERE :c IS NOT NULL", t=table, c=column)

    def insert_arrow(self, table: str, data: pa.Table | Iterable[pa.RecordBatch]) -> int:
        tables = [data] if isinstance(data, pa.Table) else [pa.Table.from_batches([b]) for b in data]
        written = 0
        for chunk in tables:
            if chunk.num_rows == 0:
                continue
            cols = [exp.column(c, quoted=True) for c in chunk.column_names]
            insert = exp.insert(
                exp.select(*cols).from_("__arrow_chunk"),
                exp.Schema(this=exp.table_(table, quoted=True), expressions=cols),
            )
            self.con.register("__arrow_chunk", chunk)
            try:
                self.con.execute(insert.sql(dialect="duckdb"))
            finally:
                self.con.unregister("__arrow_chunk")
            written += chunk.num_rows
        return written

    @contextmanager
    def small_work(self) -> Iterator[None]:
        # One thread: each operator's parallel set-up (hash tables partitioned per thread, task
        # scheduling) costs more than a few rows do. A one-deal refresh at 1M accounts, 200
        # refreshes alternating in one process: ~8 % faster (median 215 vs 231 ms).
        with self._setting("threads", 1):
            yield

    @contextmanager
    def bulk_work(self, within_limit: bool = False) -> Iterator[None]:
        # derived tables need no insertion order, which costs memory on large builds
        with self._setting("preserve_insertion_order", False), self._process_limit(within_limit):
            yield

    @contextmanager
    def _process_limit(self, on: bool) -> Iterator[None]:
        """With `on`: the buffer pool gets the workspace's memory limit less PROCESS_HEADROOM_BYTES
        (at least half of it), so that the whole process stays within the limit, not its pool alone."""
        limit = _limit_bytes(self._memory_limit) if on else None
        if limit is None:
            yield
            return
        self.con.execute("SET memory_limit = ?", [f"{max(limit - PROCESS_HEADROOM_BYTES, limit // 2)}B"])
        restore = "SET memory_limit = '" + self._memory_limit.replace("'", "") + "'"
        try:
            yield
        finally:
            try:
                self.con.execute(restore)
            except duckdb.TransactionException:
                self._after_rollback.append(restore)

    @contextmanager
    def _setting(self, name: str, value: bool | int) -> Iterator[None]:
        """`SET name = value` for the block, then the previous value back — after the rollback
        when the block failed inside a transaction (DuckDB refuses statements until then)."""
        def literal(v: bool | int) -> str:
            return str(v).lower() if isinstance(v, bool) else str(int(v))

        previous = self.con.execute("SELECT current_setting(?)", [name]).fetchone()[0]
        self.con.execute(f"SET {name} = {literal(value)}")  # name and value: ours, never user input
        restore = f"SET {name} = {literal(previous)}"
        try:
            yield
        finally:
            try:
                self.con.execute(restore)
            except duckdb.TransactionException:
                self._after_rollback.append(restore)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:  # nested: the outer transaction decides
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.con.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            for restore in self._after_rollback:
                self.con.execute(restore)
            raise
        else:
            self.con.execute("COMMIT")
        finally:
            self._depth = 0
            self._after_rollback.clear()

    def staging_connection(self) -> duckdb.DuckDBPyConnection:
        # Imports into a DuckDB workspace stage in the same database (temp tables), so the
        # final write is one INSERT … SELECT inside the workspace's own transaction.
        return self.con

    def close(self) -> None:
        self.con.close()
