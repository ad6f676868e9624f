"""The benches' fresh-process measurement: a child's peak memory is its own, not its parent's."""

from __future__ import annotations

import pytest

from accountree.bench.measure import measured, peak_mb


def test_a_child_does_not_inherit_the_parents_peak_memory() -> None:
    ballast = b"x" * (400 * 1024 * 1024)  # the parent holds 400 MB, touched, while it starts the child
    assert peak_mb() > 400
    out = measured(sum, [1, 2, 3])
    assert out["result"] == 6
    assert 5 < out["peak_mb"] < 300, out["peak_mb"]  # a bare Python child: tens of MB
    del ballast


def test_build_bench_end_to_end_at_a_small_size(tmp_path) -> None:
    from accountree.bench.build_bench import generate, run_build_bench

    out = run_build_bench(accounts=2000, deals_per_account=5, skip_naive=True, workdir=str(tmp_path))
    assert out["rows"]["account_kpis"] == 2000 and out["rows"]["group_kpis"] > 0
    assert out["ratio_to_floor"] == round(out["full_build_seconds"] / out["floor_seconds"], 2)
    assert out["floor_kept_seconds"] > 0 and len(out["incremental_ms_all"]) == 11
    assert set(out["targets"]) == {"full_build_under_15s", "peak_under_3gb", "within_3x_floor",
                                   "incremental_under_100ms"}
    # the generated deals are stored as an import stores them: by account
    import duckdb

    path = str(tmp_path / "g.duckdb")
    generate(path, 500, 4)
    con = duckdb.connect(path, read_only=True)
    stored = [r[0] for r in con.execute("SELECT account_id FROM deals ORDER BY rowid").fetchall()]
    con.close()
    assert len(stored) == 2000 and stored == sorted(stored)


def _die() -> None:
    import os

    os._exit(3)  # ends without reporting, as the kernel's OOM killer would end it


def test_a_child_that_dies_is_an_error_not_a_hang() -> None:
    with pytest.raises(RuntimeError, match="exit code 3"):
        measured(_die)
