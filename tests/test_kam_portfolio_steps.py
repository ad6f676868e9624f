"""The portfolio as SQL steps (`accountree.kam.portfolio_steps`, what the build runs) gives the rows
the row-at-a-time rules of `accountree.kam.portfolio` give, on the hand-made bundle, on DuckDB and
PostgreSQL (without the hierarchy stage: units are the groups; with it: the wallet path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from accountree.build import BuildOptions
from accountree.build import build as build_all
from accountree.kam import steps, wallet
from accountree.kam.inputs import load_inputs
from accountree.kam.portfolio import portfolio_rows
from accountree.kam.settings import load_settings
from tests.test_kam_fixtures import AS_OF, build, load


def _python_rows(ws) -> dict:
    settings = load_settings(ws)
    inputs = load_inputs(ws, AS_OF)
    facts = steps.account_facts(ws, inputs)
    if wallet.available(ws):
        rows = portfolio_rows(inputs, settings, facts,
                              wallet.unit_wallets(ws, settings.wallet_quantile, int(settings.wallet_min_peers)),
                              wallet.units_of(ws))
    else:
        rows = portfolio_rows(inputs, settings, facts)
    return {(r["scope"], r["account_id"]): r for r in rows}


@pytest.mark.parametrize("whole", [False, True])
def test_sql_portfolio_gives_the_python_rules(workspace, tmp_path: Path, whole: bool) -> None:
    load(workspace, tmp_path / "bundle")
    if whole:
        build_all(workspace, BuildOptions(as_of=AS_OF, stages=["hierarchy", "kpis", "scores", "kam"]))
    else:
        build(workspace)
    got = {(r["scope"], r["account_id"]): r for r in workspace.engine.fetch_dicts("SELECT * FROM kam_accounts")}
    expected = _python_rows(workspace)
    assert got.keys() == expected.keys()
    for key, row in got.items():
        for column, value in row.items():
            want = expected[key].get(column)
            if isinstance(value, float) and want is not None:
                assert value == pytest.approx(float(want), abs=1e-9), (key, column)
            else:
                assert value == want, (key, column, value, want)
