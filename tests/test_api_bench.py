"""The API benchmark's pieces: the synthetic 10,000-entity group and the percentile arithmetic."""

from __future__ import annotations

import csv
from datetime import date

from accountree.api import readmodel
from accountree.bench.api_bench import BIG_GROUP, _pct, _plan, _write_big_group, ensure_read_model
from accountree.store import open_workspace
from tests import test_api_fixtures as fx


def test_big_group_has_the_asked_size_and_one_head(tmp_path) -> None:
    ids = _write_big_group(tmp_path, 1000, date(2026, 11, 23))
    assert len(ids) == len(set(ids)) == 1000 and ids[0] == BIG_GROUP
    with (tmp_path / "accounts.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    parents = {r["account_id"]: r["parent_id"] for r in rows}
    assert [a for a, p in parents.items() if not p] == [BIG_GROUP]
    assert all(p in parents for p in parents.values() if p)  # every parent is in the group


def test_plan_mixes_views_at_the_asked_rate() -> None:
    plan = _plan([f"BIG{i:06d}" for i in range(300)], rate=200, duration=5, seed=1)
    assert len(plan) == 1000 and plan[1][0] == 1 / 200
    kinds = [k for _, k, _ in plan]
    assert 0.4 < kinds.count("account_360") / len(kinds) < 0.6
    assert _pct([5, 1, 3, 2, 4], 0.5) == 3 and _pct([5, 1, 3, 2, 4], 0.95) == 5


def test_a_reused_bench_workspace_gets_a_current_read_model(tmp_path) -> None:
    """A workspace made before the read model existed (or changed since) is brought up to date."""
    location = str(tmp_path / "bench.duckdb")
    with open_workspace(location) as ws:
        fx.build_workspace(ws, tmp_path / "bundle")
        ws.engine.execute("DELETE FROM workspace_meta WHERE key = ?", [readmodel.STAMP_KEY])
        assert not readmodel.state(ws.engine)[0]
    assert ensure_read_model(location, fx.AS_OF) > 0
    with open_workspace(location) as ws:
        assert readmodel.state(ws.engine)[0]
        assert ws.engine.scalar("SELECT count(*) FROM api_account_360") == 8


def test_the_read_load_counts_answers_latencies_and_errors(tmp_path) -> None:
    """`closed_loop` against a real server on loopback: every answer is counted, a 404 is an error."""
    import threading

    import uvicorn

    from accountree.api import create_app
    from accountree.bench.api_bench import _free_port, closed_loop

    with open_workspace(str(tmp_path / "ws.duckdb")) as ws:
        tokens = fx.build_workspace(ws, tmp_path / "bundle")
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(ws, web=False), host="127.0.0.1", port=port,
                                               log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            while not server.started:
                threading.Event().wait(0.05)
            good = closed_loop(port, tokens["corp"], ["/api/v1/accounts/A2", "/api/v1/accounts/G1"], 4, 1.0, 1)
            assert good["errors"] == 0 and good["answers"] > 4 and good["rps"] > 0
            assert 0 < good["p50_ms"] <= good["p95_ms"] <= good["p99_ms"]
            bad = closed_loop(port, tokens["corp"], ["/api/v1/accounts/NOPE"], 2, 0.5, 1)
            assert bad["answers"] == 0 and bad["errors"] > 0 and bad["first_error"].startswith("HTTP 404")
        finally:
            server.should_exit = True
            thread.join(10)
