"""`accountree bench build --whole` (issue 25): the demo-shaped generator and the whole-build bench,
at 2,000 accounts."""

from __future__ import annotations

import pytest

from accountree.bench import whole_bench


def _fingerprint(path: str) -> dict[str, str]:
    import duckdb

    con = duckdb.connect(path, read_only=True)
    try:
        return {t: con.execute(f"SELECT md5(string_agg(CAST(x AS VARCHAR), '|' ORDER BY CAST(x AS VARCHAR))) "
                               f"FROM (SELECT * FROM {t}) x").fetchone()[0]
                for t in ("accounts", "deals", "contacts", "activities", "leads", "campaign_accounts")}
    finally:
        con.close()


def test_the_generated_workspace_is_deterministic_and_shaped_like_the_demo(tmp_path):
    a, b = str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb")
    first = whole_bench.generate(a, 800, deals_per_account=3)
    whole_bench.generate(b, 800, deals_per_account=3)
    assert _fingerprint(a) == _fingerprint(b)
    rows = first["rows"]
    assert rows["accounts"] == 800 and rows["deals"] == 2400 and rows["contacts"] == 1600
    assert rows["activities"] == 3200 and rows["leads"] == 24 and rows["seller_bus"] == 3 and rows["products"] == 13
    import duckdb

    con = duckdb.connect(a, read_only=True)
    try:
        # every deal's product belongs to its BU, as in the demo's catalogue
        assert con.execute("SELECT count(*) FROM deals d JOIN products p ON p.product_id = d.product "
                           "WHERE p.seller_bu <> d.seller_bu").fetchone()[0] == 0
        # contacts write from their account's domain; activities name contacts of their own account
        assert con.execute("SELECT count(*) FROM contacts c JOIN accounts a USING (account_id) "
                           "WHERE NOT c.email LIKE '%@' || a.domain").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM activities t JOIN contacts c USING (contact_id) "
                           "WHERE c.account_id <> t.account_id").fetchone()[0] == 0
        stages = dict(con.execute("SELECT stage, count(*) FROM deals GROUP BY stage").fetchall())
        assert stages["won"] > 0 and stages["lost"] > 0 and sum(stages.get(s, 0) for s in
                                                                  ("proposal", "negotiation", "discovery")) > 0
    finally:
        con.close()


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return whole_bench.run_whole_bench(2000, deals_per_account=5, workdir=str(tmp_path_factory.mktemp("whole")))


def test_every_stage_is_timed_and_has_real_work(result):
    stages = {s["stage"]: s for s in result["stages"]}
    for name in ("hierarchy", "scores", "kpis", "kam", "abm", "leads", "api"):
        assert stages[name]["seconds"] > 0 and stages[name]["rows"] > 0, name
    assert "commit" in stages
    # the stages, the commit and the work after it make up the build's own time
    assert sum(s["seconds"] for s in result["stages"]) == pytest.approx(
        result["whole_build_seconds"], abs=0.05)
    assert result["whole_build_process_seconds"] >= result["whole_build_seconds"] - 0.01
    assert result["whole_build_peak_mb"] > result["floor_peak_mb"] > 0
    summaries = result["summaries"]
    assert summaries["kam"]["stakeholders"] == 4000 and summaries["kam"]["open deals (MEDDIC)"] > 0
    assert summaries["kam"]["MEDDIC from deals"] > 0 and summaries["leads"]["matched"] > 0
    assert summaries["hierarchy"]["groups"] > 0 and summaries["hierarchy"]["joint_ventures"] > 0


def test_the_floor_finds_what_the_build_finds(result):
    floor, build = result["floor_totals"], result["build_totals"]
    assert floor["revenue_cy"] > 0 and floor["groups"] > 0
    assert floor["heads"] == build["heads"] and floor["groups"] == build["groups"]
    assert floor["revenue_cy"] == pytest.approx(build["revenue_cy"], rel=1e-9)
    assert floor["group_revenue_cy"] == pytest.approx(build["group_revenue_cy"], rel=1e-9)
    assert result["totals_agree"]
    assert result["floor_seconds"] > 0 and set(result["floor_step_seconds"]) == {"heads", "revenue", "closure", "rollup"}
    assert result["ratio_whole_to_floor"] > 1  # (the printed seconds are rounded to 10 ms: 20 % at this size)
    assert result["ratio_whole_to_floor"] == pytest.approx(
        result["whole_build_process_seconds"] / result["floor_process_seconds"], rel=0.2)


def test_the_refresh_is_timed_eleven_times(result):
    assert len(result["refresh_ms_all"]) == whole_bench.REFRESHES and min(result["refresh_ms_all"]) > 0
    assert min(result["refresh_ms_all"]) <= result["refresh_ms_median"] <= max(result["refresh_ms_all"])


def test_the_cli_prints_the_stage_table(result, capsys):
    whole_bench.print_whole(result)
    out = capsys.readouterr().out
    for word in ("kam", "api", "whole build", "where the time goes", "one-deal refresh", "floor totals = build totals: True"):
        assert word in out


def test_a_kept_workspace_is_generated_once_then_copied_as_generated(tmp_path):
    from accountree.errors import WorkspaceError

    kept, run1, run2 = (str(tmp_path / n) for n in ("kept.duckdb", "run1.duckdb", "run2.duckdb"))
    first = whole_bench._prepared(run1, 300, 2, kept)
    assert "reused" not in first and first["rows"]["accounts"] == 300
    again = whole_bench._prepared(run2, 300, 2, kept)
    assert again["reused"] == kept and again["rows"] == first["rows"]
    assert _fingerprint(run2) == _fingerprint(kept) == _fingerprint(run1)
    with pytest.raises(WorkspaceError, match="holds 300 accounts"):
        whole_bench._prepared(str(tmp_path / "run3.duckdb"), 400, 2, kept)
