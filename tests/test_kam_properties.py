"""Invariants of the KAM rules, with hypothesis (pure functions, no database)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from accountree.kam.inputs import parse_amount
from accountree.kam.portfolio import COMMITTEE_ROLES, coverage_report, effort, potential_3y, quadrant, tier
from accountree.kam.settings import KamSettings
from accountree.kam.stakeholders import tree

money = st.floats(min_value=0, max_value=1e9, allow_nan=False)
thresholds = st.tuples(money, money).map(sorted)  # (tier 2, tier 1)


@given(money, money, thresholds)
def test_tiers_are_monotone_in_potential(a: float, b: float, bounds: list[float]) -> None:
    settings = KamSettings(tier2_threshold=bounds[0], tier1_threshold=bounds[1])
    low, high = sorted((a, b))
    assert tier(low, settings) >= tier(high, settings)


@given(money, thresholds, st.floats(min_value=0, max_value=1e6))
def test_raising_thresholds_never_raises_a_tier(p: float, bounds: list[float], bump: float) -> None:
    before = KamSettings(tier2_threshold=bounds[0], tier1_threshold=bounds[1])
    after = KamSettings(tier2_threshold=bounds[0] + bump, tier1_threshold=bounds[1] + bump)
    assert tier(p, after) >= tier(p, before)


@given(money)
def test_default_tier_boundaries(p: float) -> None:
    expected = 1 if p > 500_000 else 2 if p >= 100_000 else 3
    assert tier(p, KamSettings()) == expected


def test_boundaries_exactly() -> None:
    s = KamSettings()
    assert [tier(v, s) for v in (500_000.01, 500_000, 100_000, 99_999.99)] == [1, 2, 2, 3]


@given(st.none() | money, st.none() | money, money, st.floats(min_value=0, max_value=1))
def test_potential_is_at_least_three_years_of_today(field, wallet, revenue, share) -> None:
    value, source = potential_3y(field, wallet, revenue, share)
    if field is None:
        assert value >= 3 * revenue - 1e-6
        assert source == ("wallet" if wallet else "run_rate")
    else:
        assert (value, source) == (field, "field")


@given(st.none() | st.floats(min_value=0, max_value=5000), st.integers(0, 50), st.integers(0, len(COMMITTEE_ROLES)),
       st.none() | st.floats(min_value=-1, max_value=2))
def test_effort_is_a_bounded_mean(cycle, open_deals, missing, icp) -> None:
    settings = KamSettings()
    score, parts = effort(cycle, open_deals, missing, icp, settings)
    assert 0 <= score <= 1 and all(0 <= v <= 1 for v in parts.values())
    more, _ = effort(cycle, open_deals + 1, min(missing + 1, len(COMMITTEE_ROLES)), icp, settings)
    assert more >= score
    name, _ = quadrant(1e9, score, settings)
    assert name in ("priority", "reinforce")


rows = st.lists(st.fixed_dictionaries({
    "scope": st.sampled_from(["account", "account", "group"]),
    "account_id": st.text(min_size=1, max_size=4),
    "owner": st.none() | st.sampled_from(["ann", "bob", "cyd"]),
    "tier": st.integers(1, 3),
    "relationship": st.sampled_from(["customer", "pipeline", "prospect"]),
}), max_size=80)


@given(rows)
def test_coverage_counts_add_up(portfolio) -> None:
    settings = KamSettings()
    report = coverage_report(portfolio, settings)
    accounts = [r for r in portfolio if r["scope"] == "account"]
    active = [r for r in accounts if r["relationship"] != "prospect"]
    owned = sum(o["accounts"] for o in report["owners"])
    assert owned + report["uncovered"]["accounts"] == len(active)
    assert sum(o["prospects"] for o in report["owners"]) == sum(1 for r in accounts if r not in active and r["owner"])
    for seg, t in (("strategic", 1), ("midmarket", 2), ("smb", 3)):
        total = sum(o[seg] for o in report["owners"]) + report["uncovered"][seg]
        assert total == sum(1 for r in active if r["tier"] == t)
    for o in report["owners"]:
        assert o["accounts"] == o["strategic"] + o["midmarket"] + o["smb"]
        assert (o["owner"] in report["overloaded"]) == (o["load"] > 1)


people = st.lists(st.tuples(st.integers(0, 15), st.none() | st.integers(0, 20)), max_size=16,
                  unique_by=lambda t: t[0])


def _count(nodes) -> list[str]:
    return [n["contact_id"] for n in nodes] + [c for n in nodes for c in _count(n["reports"])]


@given(people)
def test_org_chart_keeps_everyone_once_whatever_the_reporting_lines(pairs) -> None:
    rows_ = [{"contact_id": f"C{a}", "reports_to": None if b is None else f"C{b}"} for a, b in pairs]
    seen = _count(tree(rows_))
    assert sorted(seen) == sorted(r["contact_id"] for r in rows_)


@given(st.integers(0, 10**9), st.integers(0, 99))
def test_amounts_typed_by_people(units: int, cents: int) -> None:
    value = float(f"{units}.{cents:02d}")
    for text in (f"{value:.2f}", f"{units:,}.{cents:02d}", f"{units:,}.{cents:02d}".replace(",", " ") + " €",
                 f"{units:,}.{cents:02d}".replace(",", "X").replace(".", ",").replace("X", ".")):
        assert parse_amount(text) == value, text
    assert parse_amount("n/a") is None and parse_amount(None) is None and parse_amount(12) == 12.0
