"""`accountree build --engine spark`: the same SQL on Spark local mode gives the same tables as DuckDB."""

from __future__ import annotations

import math
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from accountree.build import BuildOptions, build
from accountree.demo import generate_bundle
from accountree.errors import MissingDependencyError
from accountree.exports import export_query
from accountree.ingest import import_bundle
from accountree.store import open_workspace

REF = date(2025, 6, 30)
# KAM is left out: its stage works on rows in Python and runs on the workspace's engine in both builds.
COMPARED = ("hierarchy", "account_kpis", "group_kpis", "cross_sell", "scores")

pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def session():
    from accountree.store.spark_engine import spark_session

    return spark_session("local[2]", shuffle_partitions=2, config={
        # small data: compiling and re-planning cost more than they save
        "spark.sql.codegen.wholeStage": "false", "spark.sql.adaptive.enabled": "false"})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, session) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("spark")
    bundle = root / "bundle"
    generate_bundle(bundle, accounts=120, seed=7, reference_date=REF)
    paths = {}
    for name in ("duckdb", "spark"):
        paths[name] = root / f"{name}.duckdb"
        with open_workspace(str(paths[name])) as ws:
            import_bundle(ws, [str(bundle)])
            if name == "spark":
                from accountree.spark_build import build_on_spark

                build_on_spark(ws, BuildOptions(as_of=REF), session=session)
            else:
                build(ws, BuildOptions(as_of=REF))
    return paths


def _normal(value):
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def _rows(path: Path, name: str) -> tuple[list[str], list[tuple]]:
    with open_workspace(str(path)) as ws:
        table = ws.engine.fetch_arrow(export_query(ws, name))
    rows = [tuple(_normal(v) for v in row.values()) for row in table.to_pylist()]
    return table.column_names, sorted(rows, key=repr)


@pytest.mark.parametrize("name", COMPARED)
def test_spark_build_gives_the_duckdb_tables(built: dict[str, Path], name: str) -> None:
    columns, expected = _rows(built["duckdb"], name)
    spark_columns, got = _rows(built["spark"], name)
    assert spark_columns == columns
    assert len(got) == len(expected) > 0
    assert got == expected


def test_stages_after_spark_read_its_tables(built: dict[str, Path]) -> None:
    """KAM runs on the workspace after the Spark stages: it found the KPIs Spark wrote."""
    with open_workspace(str(built["spark"])) as ws:
        assert ws.engine.scalar("SELECT count(*) FROM account_kpis") == 120
        assert ws.meta("kpi_as_of") == REF.isoformat()


def test_dml_is_rewritten_as_queries(session) -> None:
    from accountree.store.spark_engine import SparkEngine

    engine = SparkEngine(session)
    engine.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('b', 2), ('c', 3)) v(k, n)")
    engine.execute("CREATE TEMPORARY TABLE s AS SELECT * FROM (VALUES ('a', 10), ('c', 30)) v(k, n)")
    engine.execute("INSERT INTO t (k) SELECT ?", ["d"])
    engine.execute("UPDATE t SET n = t.n + s.n FROM s WHERE s.k = t.k")
    engine.execute("UPDATE t SET n = 0 WHERE n IS NULL")
    engine.execute("DELETE FROM t WHERE k = $gone", {"gone": "b"})
    assert sorted(engine.fetchall("SELECT k, n FROM t")) == [("a", 11), ("c", 33), ("d", 0)]
    assert engine.fetchall("SELECT count(*) FROM t WHERE k IN (?, ?) AND n > ?", ["a", "d", 5]) == [(1,)]
    assert engine.table_exists("t") and engine.table_columns("t") == ["k", "n"]
    assert engine.changed()["tables"] == ["t"]  # the temporary table is not written back


def test_missing_pyspark_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from accountree.store.spark_engine import spark_session

    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(MissingDependencyError) as err:
        spark_session("local[1]")
    assert "accountree[spark]" in (err.value.hint or "")
