"""`accountree bench abm`: the per-step table and a kept workspace reused as generated."""

from __future__ import annotations

import pytest

from accountree.bench.abm_bench import run_abm_bench
from accountree.errors import WorkspaceError


def test_bench_abm_steps_and_reused_workspace(tmp_path):
    path = str(tmp_path / "bench.duckdb")
    first = run_abm_bench(accounts=300, deals_per_account=4, workspace=path)
    assert isinstance(first["generate_s"], float)
    steps = {s["step"]: s for s in first["steps"]}
    for name in ("_abm_bu_account", "abm_accounts", "abm_conflicts", "abm_attribution", "abm_account_teams", "summary"):
        assert steps[name]["seconds"] >= 0 and steps[name]["cpu_s"] >= 0 and steps[name]["peak_mb"] > 0
    assert steps["abm_accounts"]["rows"] == 330  # 300 accounts and 30 groups of ten
    assert steps["abm_attribution"]["rows"] > 0
    # reused: not generated again, reset first, so the same work and the same results
    second = run_abm_bench(accounts=300, deals_per_account=4, workspace=path)
    assert second["generate_s"] == f"reused {path}"
    assert {k: v for k, v in second.items() if k.startswith("stage: ")} == \
        {k: v for k, v in first.items() if k.startswith("stage: ")}
    assert [s["rows"] for s in second["steps"]] == [s["rows"] for s in first["steps"]]
    with pytest.raises(WorkspaceError, match="holds 300 accounts"):
        run_abm_bench(accounts=400, deals_per_account=4, workspace=path)
