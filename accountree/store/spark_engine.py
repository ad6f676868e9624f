"""Apache Spark as a build engine: the same SQL as DuckDB and PostgreSQL, run on a SparkSession.

`SparkEngine` implements the engine seam (`execute`, `fetch*`, `replace_table`, `insert_arrow`,
`transaction`) over a SparkSession, so the build stages run unchanged: their DuckDB-dialect SQL
is parsed with sqlglot and rendered for Spark SQL. It is not a workspace: it sits in front of one.

- Tables are Spark DataFrames registered as temporary views. The workspace's tables (accounts,
  relationships, deals, …) are read into Spark the first time a statement names them (streamed as
  Arrow batches through a Parquet file, so memory stays bounded).
- `CREATE TABLE … AS` materialises the query (a local checkpoint: each step starts from its data,
  not from the plans of every step before it). `INSERT`, `UPDATE` and `DELETE`, which Spark's
  temporary views do not take, are rewritten as queries over the table and replace it:
  `DELETE` keeps `t EXCEPT ALL (rows matched)`, `UPDATE` unions the matched rows with their new
  values and the others.
- Transactions are no-ops (`capabilities` says so): nothing reaches the workspace until
  `write_back`, which the caller runs inside the workspace's own transaction.
- `write_back` lands every table the Spark run changed in the workspace: tables the run created
  are dropped and recreated there, tables created by migrations (user state the run appended to)
  are emptied and refilled (their constraints stay), views are created again from their SQL.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from accountree.errors import AccountreeError
from accountree.store.engine import Capabilities, Engine, Params

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SOURCE = "duckdb"
SCHEMA = "main"
WRITE_BATCH_ROWS = 100_000
LAKE_FILE_ROWS = 1_000_000  # rows per Parquet file of a lake table (`write_lake`)
# a lake table's files are split and sorted by the first of these columns it has
LAKE_CLUSTER_COLUMNS = ("group_head_id", "group_id", "account_id")
LOCAL_ROWS = 50_000  # workspace tables up to this size go to Spark in memory, larger ones as Parquet
# Spark session settings: DuckDB's semantics where Spark's default differs (timestamps without
# a time zone, NULL on a division by zero), and deep recursive walks (the hierarchy's levels).
SESSION_CONFIG = {
    "spark.sql.ansi.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.cteRecursionLevelLimit": "10000",
    "spark.sql.cteRecursionRowLimit": "-1",
    "spark.sql.caseSensitive": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


class SparkSqlError(AccountreeError):
    """A statement the Spark engine cannot run."""


def spark_session(master: str | None = None, shuffle_partitions: int | None = None,
                  config: dict[str, str] | None = None) -> SparkSession:
    """A SparkSession on `master` (default `local[*]`, or `$ACCOUNTREE_SPARK_MASTER`)."""
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError as err:
        from accountree.errors import MissingDependencyError

        raise MissingDependencyError("the Spark engine needs pyspark (and Java 17 or later)",
                                     hint="pip install 'accountree[spark]'") from err
    master = master or os.environ.get("ACCOUNTREE_SPARK_MASTER") or "local[*]"
    if master.startswith("local"):  # Python UDFs (duplicate resolution) run in this interpreter's environment
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("accountree").master(master)
    settings = {**SESSION_CONFIG, **(config or {})}
    if shuffle_partitions:
        settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    for key, value in settings.items():  # a session that already ran: the SQL settings still apply
        if key.startswith("spark.sql."):
            session.conf.set(key, value)
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine(Engine):
    """Runs accountree's SQL on Spark, reading from and writing back to a workspace engine."""

    name = "spark"
    dialect = SOURCE  # statements arrive in DuckDB's dialect; `_spark_sql` renders them for Spark
    # no transactions (nothing is written until `write_back`), no indexes (a workspace matter)
    capabilities = Capabilities(transactions=False, recursive_cte=True, temp_tables=True, indexes=False,
                                join_indexes=False, needs_analyze=False, drop_at_commit=False, jit=False)

    def __init__(self, session: SparkSession, source: Engine | None = None) -> None:
        super().__init__("spark")
        self.spark = session
        self.source = source  # the workspace engine tables are read from (None: Spark only)
        self._tables: dict[str, DataFrame] = {}
        self._temporary: set[str] = set()
        self._views: dict[str, str] = {}  # name → the view's SELECT, DuckDB dialect
        self._created: set[str] = set()  # (re)created by a statement run here
        self._modified: set[str] = set()  # written by INSERT / UPDATE / DELETE
        self._dropped: set[str] = set()
        self._source_tables: dict[str, str] | None = None
        self._tmp = tempfile.mkdtemp(prefix="accountree-spark-")
        self.statements = 0

    # -- the seam -------------------------------------------------------------------------
    @property
    def schema(self) -> str:
        return SCHEMA

    def _index_names_sql(self) -> str:
        return "SELECT CAST(NULL AS VARCHAR) AS name WHERE FALSE"

    def index_names(self) -> set[str]:
        return set()

    def _json_keys_sql(self, table: str, column: str) -> str:
        raise SparkSqlError("JSON keys are read on the workspace, not on Spark")

    def json_keys(self, table: str, column: str) -> list[str]:
        if self.source is None:
            raise SparkSqlError("JSON keys are read on the workspace, not on Spark")
        return self.source.json_keys(table, column)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield  # nothing is written anywhere until `write_back`, run in the workspace's transaction

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)

    def table_exists(self, table: str) -> bool:
        return table.lower() in self._catalog()

    def table_columns(self, table: str) -> list[str]:
        name = table.lower()
        if name in self._tables or name in self._views:
            return list(self._frame(name).columns)
        if name in self._catalog():
            return self._source().table_columns(table)
        return []

    def materialize(self, name: str, query: str | exp.Expression, *, params: Params = None,
                    temporary: bool = False, indexes: Iterable[str] = (), analyze: bool = False,
                    until_commit: bool = False) -> int | None:
        """A derived table from a query (indexes and statistics are a workspace matter: none on
        Spark); the row count is not known without running the job: None."""
        (select,) = self.render(query)
        self._create_table(name.lower(), _parse(select)[0], _args(params), temporary)
        if self._recording is not None and not temporary:
            self._recording.append({"table": name, "rows": None})
        return None

    def insert_arrow(self, table: str, data: pa.Table | Iterable[pa.RecordBatch]) -> int:
        data = data if isinstance(data, pa.Table) else pa.Table.from_batches(list(data))
        if data.num_rows == 0:
            return 0
        name = table.lower()
        self._require(name)
        frame = self.spark.createDataFrame(_sparkable(data))
        self._append(name, frame, list(data.column_names))
        return data.num_rows

    # -- running statements ---------------------------------------------------------------
    def _execute(self, statement: str, params: Params) -> None:
        args = _args(params)
        for node in _parse(statement):
            try:
                self._run(node, args)
            except AccountreeError:
                raise
            except Exception as err:  # Spark's own errors: say which statement
                first = str(err).strip().splitlines()[0][:500] if str(err).strip() else type(err).__name__
                raise SparkSqlError(f"Spark could not run {node.sql(SOURCE)[:1500]}: {first}",
                                    hint="Report it with the statement: the SQL runs on DuckDB and PostgreSQL.") from err

    def _fetchall(self, statement: str, params: Params) -> list[tuple]:
        return [tuple(row) for row in self._query(_parse(statement)[0], _args(params)).collect()]

    def _iter_batches(self, statement: str, params: Params, batch_rows: int) -> Iterator[pa.RecordBatch]:
        table = self._query(_parse(statement)[0], _args(params)).toArrow()
        yield from table.to_batches(batch_rows)

    def _empty_result(self, statement: str, params: Params) -> pa.Table:
        return self._query(_parse(statement)[0], _args(params)).limit(0).toArrow()

    def _run(self, node: exp.Expression, args: dict[str, Any]) -> None:
        self.statements += 1
        if isinstance(node, exp.Create):
            kind = (node.args.get("kind") or "").upper()
            if kind == "INDEX":
                return
            target = node.this.this if isinstance(node.this, exp.Schema) else node.this
            name = target.name.lower()
            if node.args.get("exists") and self.table_exists(name):
                return
            if kind == "VIEW":
                self._create_view(name, node.expression)
            elif kind == "TABLE" and node.expression is not None:
                self._create_table(name, node.expression, args, _is_temporary(node))
            elif kind == "TABLE" and isinstance(node.this, exp.Schema):
                self._create_empty(name, node.this, _is_temporary(node))
            else:
                raise SparkSqlError(f"the Spark engine cannot run: {node.sql(SOURCE)[:200]}")
        elif isinstance(node, exp.Drop):
            self._drop(node)
        elif isinstance(node, exp.Insert):
            self._insert(node, args)
        elif isinstance(node, exp.Delete):
            self._delete(node, args)
        elif isinstance(node, exp.Update):
            self._update(node, args)
        elif isinstance(node, exp.Query):
            self._query(node, args).collect()
        elif isinstance(node, (exp.Command, exp.Set, exp.Analyze)) or type(node).__name__ in ("Analyze",):
            return  # engine tuning (ANALYZE, SET): nothing to do on Spark
        else:
            raise SparkSqlError(f"the Spark engine cannot run: {node.sql(SOURCE)[:200]}")

    def _query(self, node: exp.Expression, args: dict[str, Any]) -> DataFrame:
        node = self._prepare(node)
        used = {p.name for p in node.find_all(exp.Placeholder)}
        return self.spark.sql(node.sql(dialect="spark"), args={k: v for k, v in args.items() if k in used} or None)

    def _prepare(self, node: exp.Expression) -> exp.Expression:
        """Load the tables `node` reads; point `information_schema` at this engine's catalog."""
        node = node.copy().transform(_distinct_string_agg).transform(_date_difference).transform(_unordered_row_number)
        ctes = {cte.alias_or_name.lower() for cte in node.find_all(exp.CTE)}
        for table in list(node.find_all(exp.Table)):
            db = table.db.lower()
            if db == "information_schema":
                view = f"_information_schema_{table.name.lower()}"
                self._register_information_schema(table.name.lower(), view)
                table.set("db", None)
                table.set("this", exp.to_identifier(view))
                if not table.alias:
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
            elif not db and table.name and table.name.lower() not in ctes:
                self._frame(table.name.lower(), missing_ok=True)
        return node

    # -- tables ---------------------------------------------------------------------------
    def _source(self) -> Engine:
        if self.source is None:
            raise SparkSqlError("this Spark engine reads no workspace")
        return self.source

    def _catalog(self) -> dict[str, str]:
        """Every table and view visible here: the workspace's (unless dropped) and Spark's."""
        if self._source_tables is None:
            self._source_tables = {} if self.source is None else {
                name.lower(): kind for name, kind in self.source.fetchall(
                    "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = ?",
                    [self.source.schema])}
        out = {n: k for n, k in self._source_tables.items() if n not in self._dropped}
        out.update(dict.fromkeys(self._tables, "BASE TABLE"))
        out.update(dict.fromkeys(self._views, "VIEW"))
        return out

    def _frame(self, name: str, missing_ok: bool = False) -> DataFrame | None:
        if name in self._tables:
            return self._tables[name]
        if name in self._views:
            return self.spark.table(name)
        if self.source is not None and name not in self._dropped and name in self._catalog():
            frame = self._load(name)
            self._register(name, frame)
            return frame
        if missing_ok:
            return None  # Spark reports the unknown table
        raise SparkSqlError(f"no table {name} on Spark")

    def _require(self, name: str) -> DataFrame:
        frame = self._frame(name)
        if frame is None:
            raise SparkSqlError(f"no table {name} on Spark")
        return frame

    def _load(self, name: str) -> DataFrame:
        """A workspace table (or view, as its rows) read into Spark through a Parquet file."""
        query = exp.select("*").from_(exp.table_(name, quoted=True))
        rows = self._source().scalar(exp.select(exp.func("count", exp.Star())).from_(exp.table_(name, quoted=True)))
        if int(rows or 0) <= LOCAL_ROWS:  # small: handed over in memory, no job to run
            return self.spark.createDataFrame(_sparkable(self._source().fetch_arrow(query)))
        path = os.path.join(self._tmp, f"in_{name}.parquet")
        writer = None
        try:
            for batch in self._source().iter_batches(query, batch_rows=WRITE_BATCH_ROWS):
                table = _sparkable(pa.Table.from_batches([batch]))
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                writer.write_table(table.cast(writer.schema))
        finally:
            if writer is not None:
                writer.close()
        if writer is None:  # no rows: the columns and types of an empty result
            return self.spark.createDataFrame(_sparkable(self._source().fetch_arrow(query)))
        return self.spark.read.parquet(path).localCheckpoint(eager=True)

    def _register(self, name: str, frame: DataFrame) -> None:
        self._tables[name] = frame
        self._views.pop(name, None)
        frame.createOrReplaceTempView(name)

    def _store(self, name: str, frame: DataFrame, temporary: bool, local: bool = False) -> None:
        self._register(name, frame if local else frame.localCheckpoint(eager=True))
        self._dropped.discard(name)
        if temporary:
            self._temporary.add(name)
        else:
            self._temporary.discard(name)

    def _create_table(self, name: str, query: exp.Expression, args: dict[str, Any], temporary: bool) -> None:
        self._store(name, self._query(query, args), temporary)
        self._created.add(name)

    def _create_empty(self, name: str, schema: exp.Schema, temporary: bool) -> None:
        columns = ", ".join(f"{exp.to_identifier(c.name, quoted=True).sql('spark')} {c.args['kind'].sql('spark')}"
                            for c in schema.expressions if isinstance(c, exp.ColumnDef))
        self._store(name, self.spark.createDataFrame([], schema=columns), temporary, local=True)
        self._created.add(name)

    def _create_view(self, name: str, query: exp.Expression) -> None:
        prepared = self._prepare(query)
        self._tables.pop(name, None)
        self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {exp.to_identifier(name, quoted=True).sql('spark')} AS "
                       f"{prepared.sql(dialect='spark')}")
        self._views[name] = query.sql(dialect=SOURCE)
        self._dropped.discard(name)
        self._created.add(name)

    def _drop(self, node: exp.Drop) -> None:
        kind = (node.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW"):
            return  # indexes: none on Spark
        for table in node.args.get("tables") or node.expressions or [node.this]:
            name = table.name.lower()
            if name not in self._catalog():
                if node.args.get("exists"):
                    continue
                raise SparkSqlError(f"cannot drop {name}: no such {kind.lower()}")
            self._tables.pop(name, None)
            self._views.pop(name, None)
            self.spark.catalog.dropTempView(name)
            self._dropped.add(name)
            self._created.discard(name)
            self._modified.discard(name)

    def _append(self, name: str, rows: DataFrame, columns: list[str]) -> None:
        from pyspark.sql import functions as F

        target = self._require(name)
        rows = rows.toDF(*columns)
        given = {c.lower() for c in columns}
        typed = rows.select(*[
            (F.col(f"`{f.name}`") if f.name.lower() in given else F.lit(None)).cast(f.dataType).alias(f.name)
            for f in target.schema.fields])
        self._replace_rows(name, target.unionByName(typed))

    def _replace_rows(self, name: str, frame: DataFrame) -> None:
        self._store(name, frame, name in self._temporary)
        if name not in self._created:
            self._modified.add(name)

    def _insert(self, node: exp.Insert, args: dict[str, Any]) -> None:
        if node.args.get("conflict") or node.args.get("returning"):
            raise SparkSqlError("the Spark engine runs no INSERT … ON CONFLICT / RETURNING")
        target = node.this
        columns = None
        if isinstance(target, exp.Schema):
            columns = [c.name for c in target.expressions]
            target = target.this
        name = target.name.lower()
        frame = self._require(name)
        rows = self._query(node.expression, args)
        self._append(name, rows, columns or list(frame.columns[:len(rows.columns)]))

    def _delete(self, node: exp.Delete, args: dict[str, Any]) -> None:
        name = node.this.name.lower()
        table = exp.table_(name, quoted=True)
        self._require(name)
        where = node.args.get("where")
        if where is None:
            self._replace_rows(name, self._require(name).limit(0))
            return
        matched = exp.select("*").from_(table.copy()).where(where.this.copy())
        kept = exp.Except(this=exp.select("*").from_(table.copy()), expression=matched, distinct=False)
        self._replace_rows(name, self._query(kept, args))

    def _update(self, node: exp.Update, args: dict[str, Any]) -> None:
        name = node.this.name.lower()
        frame = self._require(name)
        table = exp.table_(name, quoted=True)
        sets = {eq.this.name.lower(): eq.expression for eq in node.expressions}
        where = node.args.get("where")
        source = node.args.get("from_") or node.args.get("from")
        condition = where.this.copy() if where is not None else exp.true()
        new_values = [
            exp.alias_(sets[c.lower()].copy(), c, quoted=True) if c.lower() in sets
            else exp.column(c, table=name, quoted=True)
            for c in frame.columns]
        matched_new = exp.select(*new_values).from_(table.copy())
        matched_old = exp.select(exp.Star() if source is None else exp.column(exp.Star(), table=name)).from_(table.copy())
        if source is not None:  # UPDATE … FROM s: one matching row of s per row updated (as written here)
            for query in (matched_new, matched_old):
                query.join(source.this.copy(), on=condition.copy(), copy=False)
        else:
            matched_new = matched_new.where(condition.copy())
            matched_old = matched_old.where(condition.copy())
        kept = exp.Except(this=exp.select("*").from_(table.copy()), expression=matched_old, distinct=False)
        result = exp.Union(this=exp.select("*").from_(kept.subquery("kept")), expression=matched_new, distinct=False)
        self._replace_rows(name, self._query(result, args))

    def _register_information_schema(self, kind: str, view: str) -> None:
        if kind == "tables":
            rows = [(name, kind_, SCHEMA) for name, kind_ in sorted(self._catalog().items())]
            frame = self.spark.createDataFrame(rows, "table_name STRING, table_type STRING, table_schema STRING")
        elif kind == "columns":
            rows = [(name, column, i + 1, SCHEMA) for name in sorted(self._catalog())
                    for i, column in enumerate(self.table_columns(name))]
            frame = self.spark.createDataFrame(
                rows, "table_name STRING, column_name STRING, ordinal_position INT, table_schema STRING")
        else:
            raise SparkSqlError(f"information_schema.{kind} is not available on Spark")
        frame.createOrReplaceTempView(view)

    # -- results back to the workspace ----------------------------------------------------
    def changed(self) -> dict[str, list[str]]:
        """What `write_back` would write: created tables, modified tables, views, dropped names."""
        persistent = lambda names: sorted(n for n in names if n not in self._temporary)  # noqa: E731
        return {"tables": persistent(n for n in self._created if n in self._tables),
                "modified": persistent(n for n in self._modified if n in self._tables),
                "views": sorted(n for n in self._created if n in self._views),
                "dropped": sorted(n for n in self._dropped if n in (self._source_tables or {}))}

    def write_back(self, target: Engine | None = None) -> dict[str, int]:
        """Land the tables this run changed in the workspace (inside the caller's transaction);
        returns rows written per table. Then this engine reads the workspace afresh."""
        target = target or self._source()
        plan = self.changed()
        existing = {n.lower(): k for n, k in target.fetchall(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = ?", [target.schema])}

        def drop(name: str) -> None:
            kind = existing.pop(name, None)
            if kind is not None:
                target.execute(exp.Drop(tables=[exp.table_(name, quoted=True)],
                                        kind="VIEW" if kind == "VIEW" else "TABLE", exists=True))

        for name in (*plan["views"], *plan["dropped"]):  # views first: PostgreSQL drops no table under a view
            drop(name)
        for view in [v for v, k in existing.items() if k == "VIEW" and v in self._views]:
            drop(view)  # views over a table recreated here are recreated after it
        written: dict[str, int] = {}
        for name in plan["tables"]:
            drop(name)
            frame = self._tables[name]
            target.execute(exp.Create(this=exp.Schema(this=exp.table_(name, quoted=True), expressions=[
                exp.ColumnDef(this=exp.to_identifier(f.name, quoted=True), kind=_sql_type(f.dataType))
                for f in frame.schema.fields]), kind="TABLE"))
            written[name] = self._copy_rows(frame, target, name)
        for name in plan["modified"]:
            target.execute(exp.delete(exp.table_(name, quoted=True)))
            written[name] = self._copy_rows(self._tables[name], target, name)
        for name in plan["views"]:
            target.execute(exp.Create(this=exp.table_(name, quoted=True), kind="VIEW",
                                      expression=sqlglot.parse_one(self._views[name], read=SOURCE)))
        self.reset()
        return written

    def write_lake(self, path: str) -> dict[str, dict[str, Any]]:
        """Write every table this run derived (and the rows of its views) to `path` as Parquet
        datasets, one directory per table (`path/<table>/part-*.parquet`, replaced whole). A lake
        is read by Spark, DuckDB, pandas… without the workspace: nothing lands there.

        Files are not Hive-partitioned by a column (the keys are accounts and groups: millions of
        directories); each table is hash-partitioned on its group (else account) column into files
        of about `LAKE_FILE_ROWS` rows, sorted by it, so a group's rows sit in one file and
        row-group statistics prune by it. Returns per table: rows, columns, cluster column, files."""
        plan = self.changed()
        names = sorted({*plan["tables"], *plan["modified"], *plan["views"]})
        out: dict[str, dict[str, Any]] = {}
        for name in names:
            frame = self._frame(name)
            assert frame is not None
            rows = frame.count()
            files = max(1, -(-rows // LAKE_FILE_ROWS))
            key = next((c for c in LAKE_CLUSTER_COLUMNS if c in frame.columns), None)
            data = frame.repartition(files, key).sortWithinPartitions(key) if key else frame.repartition(files)
            data.write.mode("overwrite").parquet(_lake_path(path, name))
            out[name] = {"rows": rows, "columns": list(frame.columns), "cluster_by": key, "files": files}
        return out

    def _copy_rows(self, frame: DataFrame, target: Engine, name: str) -> int:
        path = os.path.join(self._tmp, f"out_{name}")
        frame.write.mode("overwrite").parquet(path)
        import pyarrow.dataset as ds

        batches = (batch.select(frame.columns)
                   for batch in ds.dataset(path, format="parquet").to_batches(batch_size=WRITE_BATCH_ROWS)
                   if batch.num_rows)
        written = target.insert_arrow(name, batches)
        shutil.rmtree(path, ignore_errors=True)
        return written

    def forget(self, name: str) -> None:
        """Drop Spark's copy of a workspace table it did not change (read again when next named)."""
        name = name.lower()
        if name in self._tables and name not in self._created | self._modified:
            del self._tables[name]
            self.spark.catalog.dropTempView(name)

    def reset(self) -> None:
        """Forget every table: the next statements read the workspace afresh."""
        for name in [*self._tables, *self._views]:
            self.spark.catalog.dropTempView(name)
        self._tables.clear()
        self._views.clear()
        self._temporary.clear()
        self._created.clear()
        self._modified.clear()
        self._dropped.clear()
        self._source_tables = None


def _lake_path(root: str, name: str) -> str:
    return f"{root.rstrip('/')}/{name}"


def _distinct_string_agg(node: exp.Expression) -> exp.Expression:
    """`string_agg(DISTINCT x, sep ORDER BY x)` as `array_join(array_sort(collect_set(x)), sep)`:
    the same text, and Spark 4 fails on a DISTINCT `listagg` next to other aggregates."""
    if not isinstance(node, exp.GroupConcat) or not isinstance(node.this, exp.Order):
        return node
    order, separator = node.this, node.args.get("separator")
    inner = order.this
    keys = order.expressions
    if (not isinstance(inner, exp.Distinct) or len(inner.expressions) != 1 or len(keys) != 1
            or keys[0].args.get("desc") or keys[0].this != inner.expressions[0] or separator is None):
        return node
    values = exp.Anonymous(this="collect_set", expressions=[inner.expressions[0].copy()])
    joined = exp.Anonymous(this="array_join", expressions=[exp.Anonymous(this="array_sort", expressions=[values]),
                                                           separator.copy()])
    empty = exp.EQ(this=exp.Anonymous(this="size", expressions=[values.copy()]), expression=exp.Literal.number(0))
    return exp.Case().when(empty, exp.Null()).else_(joined)


def _is_date(node: exp.Expression) -> bool:
    node = node.unnest()
    return (isinstance(node, exp.Cast) and node.to.is_type("date")) or isinstance(node, (exp.CurrentDate, exp.Date))


def _date_difference(node: exp.Expression) -> exp.Expression:
    """`DATE - date` is a number of days in DuckDB and PostgreSQL, an interval in Spark:
    `datediff` when one side is a date for sure (a cast to DATE) and the other is no interval."""
    if not isinstance(node, exp.Sub):
        return node
    left, right = node.this, node.expression
    if isinstance(left.unnest(), exp.Interval) or isinstance(right.unnest(), exp.Interval):
        return node
    if (_is_date(left) or _is_date(right)) and not isinstance(right.unnest(), exp.Literal):
        return exp.Anonymous(this="datediff", expressions=[left.copy(), right.copy()])
    return node


def _unordered_row_number(node: exp.Expression) -> exp.Expression:
    """`row_number() OVER ()` (a statement-local key) needs an order on Spark: the rows' own
    order, `monotonically_increasing_id()`, which also makes Spark compute a CTE that holds it
    once however often it is read (a non-deterministic CTE is not inlined), so keys agree."""
    if (isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber) and not node.args.get("order")
            and not node.args.get("partition_by")):
        node = node.copy()
        node.set("order", exp.Order(expressions=[exp.Ordered(this=exp.Anonymous(this="monotonically_increasing_id"))]))
    return node


def _is_temporary(node: exp.Create) -> bool:
    props = node.args.get("properties")
    return bool(props and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions))


def _args(params: Params) -> dict[str, Any]:
    """Parameters by name: `?` markers are renamed `_p0`, `_p1`… in `_named` (see `_prepare`)."""
    if params is None:
        return {}
    if isinstance(params, dict):
        return dict(params)
    return {f"_p{i}": v for i, v in enumerate(params)}


def _parse(statement: str) -> list[exp.Expression]:
    """Statements of `statement`, with its `?` markers named `$_p0`, `$_p1`… in the order written
    (the names `_args` gives positional parameters), so a rewrite may repeat them."""
    if "?" in statement:
        from sqlglot.tokens import TokenType

        tokens = sqlglot.Dialect.get_or_raise(SOURCE).tokenize(statement)
        marks = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
        for i, token in reversed(list(enumerate(marks))):
            statement = f"{statement[:token.start]}$_p{i}{statement[token.end + 1:]}"
    return [node for node in sqlglot.parse(statement, read=SOURCE) if node is not None]


def _sparkable(table: pa.Table) -> pa.Table:
    """Arrow columns Spark reads: untyped (all-NULL) columns as text, big integers as decimals."""
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_null(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
            kind = pa.string()
        elif pa.types.is_timestamp(kind) and (kind.tz is not None or kind.unit == "ns"):
            kind = pa.timestamp("us")
        elif pa.types.is_dictionary(kind):
            kind = kind.value_type
        elif pa.types.is_uint64(kind):
            kind = pa.int64()
        fields.append(pa.field(field.name, kind))
    schema = pa.schema(fields)
    return table if schema == table.schema else table.cast(schema)


def _sql_type(spark_type: Any) -> exp.DataType:
    """The workspace column type for a Spark type (DuckDB spelling; PostgreSQL's engine transpiles)."""
    from pyspark.sql import types as T

    simple = {T.StringType: "VARCHAR", T.LongType: "BIGINT", T.IntegerType: "INTEGER", T.ShortType: "SMALLINT",
              T.ByteType: "TINYINT", T.DoubleType: "DOUBLE", T.FloatType: "REAL", T.BooleanType: "BOOLEAN",
              T.DateType: "DATE", T.TimestampType: "TIMESTAMP", T.TimestampNTZType: "TIMESTAMP"}
    for kind, name in simple.items():
        if isinstance(spark_type, kind):
            return exp.DataType.build(name)
    if isinstance(spark_type, T.DecimalType):
        return exp.DataType.build(f"DECIMAL({spark_type.precision}, {spark_type.scale})")
    return exp.DataType.build("VARCHAR")
