"""One as-of date for the whole build: stored by `accountree build`, read by every stage and by
refreshes and re-scoring; and the per-stage report (time, rows) of `build`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from accountree.build import AS_OF_KEY, BuildOptions, build, build_as_of
from accountree.ingest import import_bundle
from tests.conftest import write

AS_OF = date(2026, 6, 30)


def _bundle(ws, tmp_path: Path) -> None:
    write(tmp_path / "b" / "accounts.csv", "account_id,name,parent_id\nG,Group SA,\nF,Filiale SAS,G\nS,Solo SARL,\n")
    write(tmp_path / "b" / "deals.csv", "deal_id,account_id,product,stage,amount,currency,close_date\n"
                                        "D1,F,P1,won,1000,EUR,2026-03-01\nD2,S,P1,won,500,EUR,2026-12-01\n")
    write(tmp_path / "b" / "activities.csv", "activity_id,account_id,date,type\nA1,S,2026-06-20,web_visit\n")
    import_bundle(ws, [str(tmp_path / "b")])


def test_the_build_date_is_stored_and_read_by_stages_refreshes_and_rescoring(workspace, tmp_path: Path) -> None:
    from accountree.kpi.pipeline import refresh_accounts
    from accountree.scoring import score_workspace

    _bundle(workspace, tmp_path)
    assert build_as_of(workspace) == date.today()  # never built: today
    build(workspace, BuildOptions(as_of=AS_OF, stages=["hierarchy", "scores", "kpis"]))
    assert workspace.meta(AS_OF_KEY) == "2026-06-30" and build_as_of(workspace) == AS_OF
    assert build_as_of(workspace, date(2026, 1, 1)) == date(2026, 1, 1)  # asked: that one
    visits = "SELECT web_visits_30d FROM score_features WHERE account_id = 'S'"
    assert workspace.engine.scalar(visits) == 1  # the visit of 20 June is within 30 days of 30 June
    score_workspace(workspace)  # no date: the build's, not today's (when the visit is months old)
    assert workspace.engine.scalar(visits) == 1
    # a stage rebuilt alone, without a date, computes at the build's date too
    build(workspace, BuildOptions(stages=["kpis"]))
    assert workspace.meta("kpi_as_of") == "2026-06-30"
    # D2 closes after the as-of date: not revenue at the build's date (it would be today)
    refresh_accounts(workspace, ["S"])
    assert workspace.engine.scalar("SELECT revenue_cy FROM account_kpis WHERE account_id = 'S'") in (0, None)
    assert workspace.engine.scalar("SELECT revenue_cy FROM account_kpis WHERE account_id = 'F'") == 1000


def test_build_reports_each_stage_time_and_the_rows_it_wrote(workspace, tmp_path: Path) -> None:
    _bundle(workspace, tmp_path)
    timings: list[dict] = []
    started: list[str] = []
    build(workspace, BuildOptions(as_of=AS_OF, stages=["hierarchy", "kpis"]),
          lambda name, i, n: started.append(name), timings)
    assert [t["name"] for t in timings] == ["hierarchy", "kpis"] == started[:2]
    hierarchy = timings[0]
    assert hierarchy["seconds"] > 0 and hierarchy["tables"]["hierarchy"] == 3  # one row per account
    for t in timings:  # rows: the sum of the rows of the tables the stage wrote, each counted by the engine
        assert t["rows"] == sum(t["tables"].values())
        for table, rows in t["tables"].items():
            assert workspace.engine.scalar(f'SELECT count(*) FROM "{table}"') == rows
    assert not any(name.startswith("_hier_") for name in hierarchy["tables"])  # scratch tables are not reported
