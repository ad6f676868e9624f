"""Duplicate resolution scored on Spark (splink's `SparkAPI`, local mode) gives what the in-memory
DuckDB gives: the same scored pairs (same comparison levels, match weights within 1e-6) and the
same merges (`accountree resolve --engine spark`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from accountree.demo import generate_bundle
from accountree.ingest import import_bundle
from accountree.resolve.features import build_features
from accountree.resolve.model import ModelOptions, score_pairs
from accountree.resolve.pipeline import ResolveOptions, load_accounts
from accountree.resolve.service import resolve
from accountree.store import open_workspace

pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark

FIXTURE = Path(__file__).parent / "fixtures" / "resolve" / "register_names.tsv"
# a 1e5-pair u sample: 447 of the demo's 600 records, so the sampled path is the one compared
U_MAX_PAIRS = 1e5


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("resolve_spark")
    generate_bundle(out / "bundle", accounts=600, seed=7, reference_date=date(2026, 11, 1))
    return out / "bundle"


def _register_names() -> pa.Table:
    names = [line.split("\t")[0] for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return pa.table({"account_id": [f"R{i}" for i in range(len(names))], "name": names})


def _same_scores(features: pa.Table, options: ModelOptions) -> None:
    on_duckdb = score_pairs(features, options)
    on_spark = score_pairs(features, ModelOptions(**{**options.__dict__, "engine": "spark"}))
    assert on_spark.compared == on_duckdb.compared > 0
    assert on_spark.prior == pytest.approx(on_duckdb.prior, rel=1e-9)
    assert on_spark.model.keys() == on_duckdb.model.keys()
    left, right = on_duckdb.pairs.to_pylist(), on_spark.pairs.to_pylist()
    assert [(r["unique_id_l"], r["unique_id_r"]) for r in right] == [(r["unique_id_l"], r["unique_id_r"]) for r in left]
    assert left, "nothing scored"
    for a, b in zip(left, right, strict=True):
        assert {k: v for k, v in a.items() if k.startswith("gamma_")} == {k: v for k, v in b.items() if k.startswith("gamma_")}
        for column in a:
            if column.startswith("mw_") or column == "match_weight":
                assert b[column] == pytest.approx(a[column], abs=1e-6), (a, b)
        assert b["match_probability"] == pytest.approx(a["match_probability"], abs=1e-9)


def test_demo_scores_the_same_on_spark(session, demo: Path, tmp_path: Path) -> None:
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        import_bundle(ws, [str(demo)])
        features = build_features(load_accounts(ws))
    finally:
        ws.close()
    _same_scores(features, ModelOptions(floor=0.05, u_max_pairs=U_MAX_PAIRS))


def test_name_only_list_scores_the_same_on_spark(session) -> None:
    """A name-only list: the prior and the name's m from the near-name closure, term frequencies."""
    _same_scores(build_features(_register_names()), ModelOptions(floor=0.05))


def test_resolve_merges_the_same_on_spark(session, demo: Path, tmp_path: Path) -> None:
    merged = {}
    for engine in ("duckdb", "spark"):
        ws = open_workspace(str(tmp_path / f"{engine}.duckdb"))
        try:
            import_bundle(ws, [str(demo)])
            summary = resolve(ws, ResolveOptions(engine=engine, u_max_pairs=U_MAX_PAIRS), user="test")
            aliases = sorted(ws.engine.fetchall("SELECT old_id, survivor_id FROM account_aliases"))
            queue = sorted(ws.engine.fetchall(
                "SELECT account_id_l, account_id_r, round(match_probability, 9) FROM duplicate_candidates "
                "WHERE status = 'pending'"))
        finally:
            ws.close()
        merged[engine] = (summary["merged_records"], aliases, queue)
    assert merged["duckdb"][0] > 0
    assert merged["spark"] == merged["duckdb"]


def test_cli_takes_the_engine(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from accountree.cli import app

    out = CliRunner().invoke(app, ["resolve", "--auto", "--engine", "sparky", "-w", str(tmp_path / "w.duckdb")])
    assert out.exit_code != 0 and "--engine must be duckdb or spark" in out.output
    out = CliRunner().invoke(app, ["resolve", "--auto", "--spark-master", "local[1]", "-w", str(tmp_path / "w.duckdb")])
    assert out.exit_code != 0 and "--spark-master needs --engine spark" in out.output
