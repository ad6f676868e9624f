"""Where splink runs: an in-memory DuckDB (default) or Apache Spark (`resolve --engine spark`).

The model (`model.py`: comparisons, levels, blocking, term frequencies, prior, u, m, weights) is
defined once, in DuckDB's SQL dialect, and runs through splink's own database API on either
backend. A backend only gives:

- `db_api`: splink's `DuckDBAPI` or `SparkAPI` (every table and query of the model goes through it);
- `sql(text)`: a statement of the model in the backend's dialect (identity on DuckDB; on Spark,
  sqlglot's DuckDB → Spark rendering, as the Spark build engine does, e.g. `array_length` → `size`);
- the model's SQL functions under the same names: `accountree_within_edits` and
  `accountree_same_words` (the same Python functions, as Arrow UDFs of DuckDB or of the
  SparkSession), and on Spark DuckDB's `jaro_winkler_similarity` as `accountree_jaro_winkler`
  (rapidfuzz's Jaro-Winkler, which is DuckDB's, value for value; Spark 4.3's own
  `jaro_winkler_similarity` and splink's Scala `jaro_winkler` give other values — the latter 5,409
  threshold flips in 400 k name pairs of the demo — and would change the comparison levels).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

ENGINES = ("duckdb", "spark")
# DuckDB's semantics where Spark's default differs, for the model's SQL: size(NULL) is NULL
SPARK_CONFIG = {"spark.sql.legacy.sizeOfNull": "false"}
# Shuffle partitions on a local master (Spark's 200 are for a cluster: on a few cores each of
# splink's steps then costs 200 tasks); on a cluster the session's own setting is kept.
LOCAL_SHUFFLE_PARTITIONS = 8
# Heap of a local-mode driver started here (`$ACCOUNTREE_SPARK_DRIVER_MEMORY`); it only applies when
# the session starts here (a running session keeps its own).
LOCAL_DRIVER_MEMORY = "4g"


@dataclass
class Backend:
    """splink's database API and the model's SQL rendered for it (see the module's doc)."""

    name: str
    db_api: Any
    sql: Callable[[str], str]

    def query(self, text: str) -> pa.Table:
        """A query of the model (DuckDB dialect) run through splink's database API, as Arrow."""
        frame = self.db_api.query_sql(self.sql(text))
        try:
            return frame.as_pyarrow_table()
        finally:
            frame.drop_table_from_database_and_remove_from_cache()

    def register(self, table: pa.Table, name: str):
        return self.db_api.register(table, table_name=name)


def _jaro_winkler_arrow(left: pa.Array, right: pa.Array) -> pa.Array:
    """DuckDB's `jaro_winkler_similarity` (rapidfuzz's algorithm, equal values) over Arrow batches."""
    from rapidfuzz.distance import JaroWinkler

    return pa.array([None if a is None or b is None else JaroWinkler.similarity(a, b)
                     for a, b in zip(left.to_pylist(), right.to_pylist(), strict=True)], pa.float64())


def duckdb_to_spark(text: str) -> str:
    """A statement of the model, DuckDB dialect, rendered for Spark SQL by sqlglot; DuckDB's
    Jaro-Winkler similarity becomes the session's UDF `accountree_jaro_winkler` (`_jaro_winkler_arrow`)."""
    import sqlglot
    from sqlglot import exp

    def keep_name(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.JarowinklerSimilarity):
            return exp.Anonymous(this="accountree_jaro_winkler", expressions=[node.this, node.expression])
        return node

    tree = sqlglot.parse_one(text, read="duckdb").transform(keep_name)
    return tree.sql(dialect="spark")


@contextmanager
def duckdb_backend(memory_limit: str, same_words, within_edits) -> Iterator[Backend]:
    """An in-memory DuckDB of its own (splink's scratch tables stay out of the workspace)."""
    import duckdb
    from splink import DuckDBAPI

    con = duckdb.connect(":memory:")
    try:
        con.execute("SET threads = 2")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET memory_limit = ?", [memory_limit])
        con.create_function("accountree_same_words", same_words,
                            [duckdb.list_type(str), duckdb.list_type(str), str, str], bool, type="arrow",
                            side_effects=False, null_handling="special")
        con.create_function("accountree_within_edits", within_edits, [str, str, int], bool, type="arrow",
                            side_effects=False, null_handling="special")
        yield Backend("duckdb", DuckDBAPI(connection=con), lambda text: text)
    finally:
        con.close()


@contextmanager
def spark_backend(master: str | None, same_words, within_edits) -> Iterator[Backend]:
    """splink's `SparkAPI` on a SparkSession (`local[*]` by default, or `master`). The UDFs run in
    Spark's Python workers: accountree must be importable there (installed on a cluster's nodes).
    splink's intermediate tables are persisted (memory, then disk) and uncached at the end."""
    from accountree.store.spark_engine import spark_session

    try:  # a running session (a build's, a test's) keeps its settings but for SPARK_CONFIG
        from pyspark.sql import SparkSession

        running = SparkSession.getActiveSession() is not None
    except ModuleNotFoundError:
        running = False
    local = not running and (master or os.environ.get("ACCOUNTREE_SPARK_MASTER") or "local").startswith("local")
    config = dict(SPARK_CONFIG)
    if local:  # the driver is the executor: Spark's 1 GB heap ran out at 25 k accounts (a hang, not an error)
        config["spark.driver.memory"] = os.environ.get("ACCOUNTREE_SPARK_DRIVER_MEMORY", LOCAL_DRIVER_MEMORY)
    # first: without pyspark, a MissingDependencyError that says what to install
    session = spark_session(master, shuffle_partitions=LOCAL_SHUFFLE_PARTITIONS if local else None, config=config)
    from pyspark.sql.functions import arrow_udf
    from splink import SparkAPI

    session.udf.register("accountree_same_words", arrow_udf(same_words, "boolean"))
    session.udf.register("accountree_within_edits", arrow_udf(within_edits, "boolean"))
    session.udf.register("accountree_jaro_winkler", arrow_udf(_jaro_winkler_arrow, "double"))
    db_api = SparkAPI(spark_session=session, break_lineage_method="persist", register_udfs_automatically=False)
    try:
        yield Backend("spark", db_api, duckdb_to_spark)
    finally:
        for table in session.catalog.listTables():
            if table.isTemporary and table.name.startswith(("__splink__", "accountree_", "accounts_")):
                session.catalog.dropTempView(table.name)
        session.catalog.clearCache()
