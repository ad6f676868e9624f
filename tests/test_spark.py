"""The same demo built on DuckDB, on PostgreSQL and on Spark local mode (`accountree build --engine
spark`, landed in the workspace and written to a Parquet lake) gives the same tables, table by table."""

from __future__ import annotations

import json
import math
import os
import sys
import uuid
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
from tests.conftest import PG_AVAILABLE, PG_URL

REF = date(2025, 6, 30)
# computed on Spark (and written to the lake)
ON_SPARK = ("hierarchy", "account_kpis", "group_kpis", "cross_sell", "scores")
# KAM runs on the workspace's engine after Spark landed the tables it reads: equal too
COMPARED = (*ON_SPARK, "kam")

pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spark") / "bundle"
    generate_bundle(out, accounts=120, seed=7, reference_date=REF)
    return out


@pytest.fixture(scope="module")
def postgres_url():
    if not PG_AVAILABLE:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL does not answer at {PG_URL}")
        yield None  # DuckDB = Spark is still compared
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{PG_URL}?schema={schema}"
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, bundle: Path, session, postgres_url) -> dict[str, str]:
    """The demo built on DuckDB, PostgreSQL (when it answers) and Spark: landed and in a lake."""
    from accountree.spark_build import build_on_spark

    root = tmp_path_factory.mktemp("built")
    places = {"duckdb": str(root / "duckdb.duckdb"), "spark": str(root / "spark.duckdb")}
    if postgres_url:
        places["postgres"] = postgres_url
    for name, location in places.items():
        with open_workspace(location) as ws:
            import_bundle(ws, [str(bundle)])
            if name == "spark":
                build_on_spark(ws, BuildOptions(as_of=REF), session=session, lake=str(root / "lake"), land=True)
            else:
                build(ws, BuildOptions(as_of=REF))
    places["lake"] = _lake_workspace(root / "lake", root / "lake.duckdb")
    return places


def _lake_workspace(lake: Path, path: Path, names: tuple[str, ...] = ON_SPARK) -> str:
    """A DuckDB workspace whose derived tables are views over the lake's Parquet files."""
    with open_workspace(str(path)) as ws:
        for name in names:
            ws.engine.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{lake / name}/*.parquet')")
    return str(path)


def _normal(value):
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def _rows(location: str, name: str) -> tuple[list[str], list[tuple]]:
    with open_workspace(location) as ws:
        table = ws.engine.fetch_arrow(export_query(ws, name))
    rows = [tuple(_normal(v) for v in row.values()) for row in table.to_pylist()]
    return table.column_names, sorted(rows, key=repr)


@pytest.mark.parametrize("name", COMPARED)
def test_duckdb_postgres_and_spark_build_the_same_tables(built: dict[str, str], name: str) -> None:
    columns, expected = _rows(built["duckdb"], name)
    assert len(expected) > 0
    others = ["spark", "postgres", "lake"] if name in ON_SPARK else ["spark", "postgres"]
    for other in others:
        if other not in built:
            continue
        got_columns, got = _rows(built[other], name)
        assert got_columns == columns, other
        assert len(got) == len(expected), other
        assert got == expected, other


def test_stages_after_spark_read_its_tables(built: dict[str, str]) -> None:
    """KAM runs on the workspace after the Spark stages: it found the KPIs Spark wrote."""
    with open_workspace(built["spark"]) as ws:
        assert ws.engine.scalar("SELECT count(*) FROM account_kpis") == 120
        assert ws.meta("kpi_as_of") == REF.isoformat()


def test_a_lake_only_build_writes_parquet_and_lands_nothing(tmp_path: Path, bundle: Path, session,
                                                            built: dict[str, str]) -> None:
    """`--lake DIR` without `--land`: the hierarchy goes to Parquet (one directory per table, a
    manifest written last), the workspace keeps no derived table and no build metadata."""
    from accountree.spark_build import build_on_spark, read_manifest

    location, lake = str(tmp_path / "ws.duckdb"), tmp_path / "lake"
    with open_workspace(location) as ws:
        import_bundle(ws, [str(bundle)])
        results = build_on_spark(ws, BuildOptions(as_of=REF, stages=["hierarchy"]), session=session,
                                 lake=str(lake), land=False)
        assert not ws.engine.table_exists("hierarchy")
        assert ws.meta("build.as_of") is None
    manifest = read_manifest(str(lake))
    assert manifest is not None and manifest["as_of"] == REF.isoformat() and manifest["landed"] is False
    assert manifest["meta"]["build.as_of"] == REF.isoformat()
    assert manifest["tables"]["hierarchy"]["rows"] == 120 and manifest["tables"]["hierarchy"]["cluster_by"] == "group_head_id"
    assert results["spark"]["lake_tables"] == len(manifest["tables"])
    assert json.loads((lake / "_accountree_build.json").read_text()) == manifest
    assert _rows(_lake_workspace(lake, tmp_path / "lake.duckdb", ("hierarchy",)), "hierarchy") == _rows(built["duckdb"], "hierarchy")


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
