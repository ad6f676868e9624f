"""`accountree bench leads --keep DIR`: the demo workspace is generated once and reused by the next
run with the same sizes and seed (name keys cleared: the first match stays cold), with the same scores."""

from __future__ import annotations

from accountree.bench.leads_bench import run_demo


def test_kept_demo_workspace_is_reused(tmp_path):
    first = run_demo(200, 60, seed=3, keep=tmp_path)
    made = (tmp_path / "demo" / "accounts.csv").stat().st_mtime_ns
    again = run_demo(200, 60, seed=3, keep=tmp_path)
    assert isinstance(first["hierarchy build seconds (not counted)"], float)
    assert again["hierarchy build seconds (not counted)"] == "reused (--keep)"
    assert (tmp_path / "demo" / "accounts.csv").stat().st_mtime_ns == made  # not generated again
    for key in ("leads", "right % of matchable", "wrong % of all leads", "by method"):
        assert again[key] == first[key]
    other = run_demo(200, 60, seed=4, keep=tmp_path)  # another seed: generated again
    assert isinstance(other["hierarchy build seconds (not counted)"], float)
