"""The team server: PostgreSQL through psycopg 3."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlglot import exp

from accountree.errors import WorkspaceError
from accountree.store.engine import Capabilities, Engine, Params

_BATCH = 50_000


def _pg_params(params: Params) -> Params:
    # psycopg reads `%` in the query as a placeholder marker whenever parameters are passed.
    return params if params is not None else ()


class PostgresEngine(Engine):
    name = "postgres"
    dialect = "postgres"
    capabilities = Capabilities(join_indexes=True, needs_analyze=True, drop_at_commit=True, jit=True,
                                 shared_writers=True)

    def __init__(self, url: str) -> None:
        super().__init__(url)
        import psycopg

        try:
            self.con = psycopg.connect(url, autocommit=True)
        except psycopg.OperationalError as err:
            raise WorkspaceError(
                f"cannot connect to PostgreSQL workspace {self.safe_url}: {str(err).strip()}",
                hint="Check that the server runs and the URL (host, port, database, user) is right.",
            ) from err
        self._tx_depth = 0

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages and logs."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
        return self.url

    @property
    def schema(self) -> str:
        return str(self.scalar("SELECT current_schema()"))

    def _execute(self, statement: str, params: Params) -> None:
        with self.con.cursor() as cur:
            cur.execute(statement, _pg_params(params))

    def _create_as(self, target: str, select: str, params: Params, *, temporary: bool, until_commit: bool) -> int | None:
        with self.con.cursor() as cur:
            if until_commit and self._tx_depth:  # gone with the transaction: no DROP statement
                cur.execute(f"CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS {select}", _pg_params(params))
            else:
                cur.execute(f"DROP TABLE IF EXISTS {target}")
                cur.execute(f"CREATE {'TEMPORARY ' if temporary else ''}TABLE {target} AS {select}", _pg_params(params))
            return cur.rowcount if cur.rowcount >= 0 else None

    def analyze(self, name: str) -> None:
        self._execute(f"ANALYZE {exp.table_(name, quoted=True).sql(dialect='postgres')}", None)

    @contextmanager
    def large_statements(self) -> Iterator[None]:
        # JIT compiles each big statement for ~0.5 s and gains nothing on a build's; SET LOCAL: until the transaction ends
        if self._tx_depth:
            self._execute("SET LOCAL jit = off", None)
            self._execute("SET LOCAL work_mem = '64MB'", None)
        yield

    def _fetchall(self, statement: str, params: Params) -> list[tuple]:
        with self.con.cursor() as cur:
            cur.execute(statement, _pg_params(params))
            return cur.fetchall() if cur.description else []

    def _iter_batches(self, statement: str, params: Params, batch_rows: int) -> Iterator[pa.RecordBatch]:
        with self.con.cursor() as cur:
            cur.execute(statement, _pg_params(params))
            names = [d.name for d in cur.description or []]
            while True:
                rows = cur.fetchmany(batch_rows)
                if not rows:
                    break
                cols = list(zip(*rows, strict=True))
                yield pa.RecordBatch.from_arrays([_to_arrow(c) for c in cols], names=names)

    def _empty_result(self, statement: str, params: Params) -> pa.Table:
        with self.con.cursor() as cur:
            cur.execute(statement, _pg_params(params))
            names = [d.name for d in cur.description or []]
        return pa.table({n: pa.array([], pa.null()) for n in names})

    def render(self, sql):  # type: ignore[override]
        if isinstance(sql, str) and sql.startswith("--native\n"):
            return (sql,)
        statements = super().render(sql)
        return tuple(_escape_percent(s) for s in statements)

    def _index_names_sql(self) -> str:
        return "--native\nSELECT indexname FROM pg_indexes WHERE schemaname = %s"

    def _json_keys_sql(self, table: str, column: str) -> str:
        t, c = exp.to_identifier(table, quoted=True).sql("postgres"), exp.to_identifier(column, quoted=True).sql("postgres")
        return f"--native\nSELECT DISTINCT json_object_keys({c}) FROM {t} WHERE json_typeof({c}) = 'object'"

    def insert_arrow(self, table: str, data: pa.Table | Iterable[pa.RecordBatch]) -> int:
        batches = data.to_batches(_BATCH) if isinstance(data, pa.Table) else data
        target = exp.table_(table, quoted=True).sql(dialect="postgres")
        written = 0
        for batch in batches:
            if batch.num_rows == 0:
                continue
            cols = ", ".join(exp.to_identifier(c, quoted=True).sql(dialect="postgres") for c in batch.schema.names)
            buf = io.BytesIO()
            pacsv.write_csv(
                pa.Table.from_batches([batch]), buf, pacsv.WriteOptions(include_header=False, quoting_style="needed")
            )
            with self.con.cursor() as cur, cur.copy(f"COPY {target} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buf.getvalue())
            written += batch.num_rows
        return written

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.con.transaction():
            self._tx_depth += 1
            try:
                yield
            finally:
                self._tx_depth -= 1

    @contextmanager
    def exclusive(self, *keys: str) -> Iterator[None]:
        # Advisory locks named after the workspace's schema and the key: every connection, every
        # process on this workspace waits. Inside a transaction: held until it ends (commit or
        # rollback); outside: for the block (session locks, released at its end).
        names = sorted(set(keys))
        if not names:
            yield
            return
        key_sql = "hashtextextended(current_schema() || ':' || %s, 0)"
        if self._tx_depth:
            for name in names:
                self._execute(f"SELECT pg_advisory_xact_lock({key_sql})", [name])
            yield
            return
        taken: list[str] = []
        try:
            for name in names:
                self._execute(f"SELECT pg_advisory_lock({key_sql})", [name])
                taken.append(name)
            yield
        finally:
            import psycopg

            for name in reversed(taken):
                try:
                    self._execute(f"SELECT pg_advisory_unlock({key_sql})", [name])
                except psycopg.Error:  # a broken connection: its session, and its locks, are gone
                    break

    def close(self) -> None:
        self.con.close()


def _escape_percent(statement: str) -> str:
    """Double the `%` of literals so psycopg does not read them as placeholders."""
    if "%" not in statement.replace("%s", "").replace("%(", ""):
        return statement
    import re

    return re.sub(r"%(?!s\b|\()", "%%", statement)


def _to_arrow(values: tuple) -> pa.Array:
    from decimal import Decimal

    if any(isinstance(v, Decimal) for v in values):
        return pa.array([float(v) if v is not None else None for v in values], pa.float64())
    if any(isinstance(v, (dict, list)) for v in values):
        import json

        return pa.array([json.dumps(v) if v is not None else None for v in values], pa.string())
    return pa.array(values)
