"""Property: the attribution shares of every won deal sum to exactly 100 % — cents by the
largest-remainder method — whatever the amounts, BUs, touches and rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accountree.orchestration import sql
from accountree.orchestration.settings import ATTRIBUTION_RULES, AbmSettings
from accountree.orchestration.stage import _step, parameters

AS_OF = date(2026, 6, 30)
BUS = ["a", "b", "c", "d", "e"]

deal = st.tuples(
    st.decimals(min_value=-100_000, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(BUS + [None]),
    st.lists(st.tuples(st.sampled_from(BUS), st.integers(0, 400)), max_size=8),  # (BU, days before close)
)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    from accountree.store import open_workspace

    workspace = open_workspace(str(tmp_path_factory.mktemp("abm") / "p.duckdb"))
    workspace.engine.execute("INSERT INTO accounts (account_id, name) VALUES ('ACC', 'Acc')")
    yield workspace
    workspace.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deals=st.lists(deal, min_size=1, max_size=6), rule=st.sampled_from(ATTRIBUTION_RULES),
       lead=st.sampled_from(BUS + [None]), bonus=st.one_of(st.floats(0, 5), st.integers(0, 3)))
def test_shares_sum_to_exactly_one(ws, deals, rule, lead, bonus):
    engine = ws.engine
    for table in ("deals", "activities"):
        engine.execute(f"DELETE FROM {table}")
    engine.replace_table("abm_accounts", "SELECT 'account' AS scope, 'ACC' AS account_id, CAST(? AS VARCHAR) AS lead_bu",
                         [lead])
    n = 0
    for i, (amount, bu, touches) in enumerate(deals):
        engine.execute("INSERT INTO deals (deal_id, account_id, seller_bu, stage, amount, amount_rc, created_at, close_date) "
                       "VALUES (?, 'ACC', ?, 'won', ?, ?, ?, ?)",
                       [f"D{i}", bu, float(amount), float(amount), AS_OF - timedelta(days=500), AS_OF - timedelta(days=i)])
        for t_bu, days in touches:
            n += 1
            engine.execute("INSERT INTO activities (activity_id, account_id, \"date\", type, seller_bu) "
                           "VALUES (?, 'ACC', ?, 'meeting', ?)", [f"X{n}", AS_OF - timedelta(days=i + days), t_bu])
    params = parameters(AbmSettings(attribution_rule=rule, lead_bu_bonus=bonus), AS_OF)
    _step(ws, "_abm_bu_rank", sql.BU_RANK, params)
    n_bus = int(engine.scalar("SELECT count(*) FROM _abm_bu_rank"))
    # the window version (for many BUs) and the pivoted one (up to PIVOT_MAX_BUS) give the same rows
    # (when the weights are whole numbers: a fractional bonus summed in another order may move a
    # quota by one unit in the last place)
    _step(ws, "abm_attribution", sql.ATTRIBUTION_WINDOWS, params)
    by_windows = sorted(engine.fetchall("SELECT * FROM abm_attribution"), key=repr)
    assert sql.attribution(n_bus) != sql.ATTRIBUTION_WINDOWS
    _step(ws, "abm_attribution", sql.attribution(n_bus), params)
    if rule != "lead_bu_bonus" or float(bonus).is_integer():
        assert sorted(engine.fetchall("SELECT * FROM abm_attribution"), key=repr) == by_windows
    rows = engine.fetch_dicts("SELECT deal_id, seller_bu, share, amount_cents, deal_cents FROM abm_attribution")
    by_deal: dict[str, list[dict]] = {}
    for r in rows:
        by_deal.setdefault(r["deal_id"], []).append(r)
    assert set(by_deal) == {f"D{i}" for i in range(len(deals))}  # every won deal attributed
    for i, (amount, bu, _touches) in enumerate(deals):
        parts = by_deal[f"D{i}"]
        cents = int(round(amount * 100))
        assert sum(p["amount_cents"] for p in parts) == cents  # exactly, to the cent
        assert sum(p["share"] for p in parts) == pytest.approx(1.0, abs=1e-9)
        assert len({p["seller_bu"] for p in parts}) == len(parts)  # one row per deal and BU
        assert bu in {p["seller_bu"] for p in parts}  # the closing BU always has a share
        close = AS_OF - timedelta(days=i)
        touching = {t for j, (_, _, ts) in enumerate(deals) for t, d in ts
                    if close - timedelta(days=365) <= AS_OF - timedelta(days=j + d) <= close}
        assert {p["seller_bu"] for p in parts} == {bu} | touching
        # largest remainder: no part is more than one cent from its exact quota
        if rule == "equal":
            for p in parts:
                assert abs(p["amount_cents"] - cents / len(parts)) < 1
