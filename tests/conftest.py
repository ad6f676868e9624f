"""Shared fixtures: one decorator-free way to run a test on every engine.

`engine_location` is parametrised over DuckDB (always) and PostgreSQL (when the server answers on
127.0.0.1:5432; each test gets its own schema, dropped afterwards). Tests that take `workspace`
therefore run on both engines, as the store must behave the same on each.
"""

from __future__ import annotations

import os

# Rich wraps to the terminal width; tests read CLI output as text, so give it room (set before
# accountree.console creates its consoles).
os.environ["COLUMNS"] = "200"
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from accountree.store import Workspace, open_workspace

PG_URL = os.environ.get("ACCOUNTREE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except Exception:
        return False


PG_AVAILABLE = _postgres_answers()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_location(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "duckdb":
        yield str(tmp_path / "ws.duckdb")
        return
    if not PG_AVAILABLE:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL does not answer at {PG_URL} (CI must start it: scripts/ensure-services.sh)")
        pytest.skip(f"PostgreSQL does not answer at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{PG_URL}?schema={schema}"
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def workspace(engine_location: str) -> Iterator[Workspace]:
    ws = open_workspace(engine_location)
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def duckdb_workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        yield ws
    finally:
        ws.close()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write a test file exactly (newlines as given) in the encoding asked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="session")
def session():
    """One local Spark session for the Spark tests (`tests/test_spark.py`, `test_resolve_spark.py`)."""
    pytest.importorskip("pyspark")
    from accountree.store.spark_engine import spark_session

    return spark_session("local[2]", shuffle_partitions=2, config={
        # small data: compiling and re-planning cost more than they save
        "spark.sql.codegen.wholeStage": "false", "spark.sql.adaptive.enabled": "false"})
