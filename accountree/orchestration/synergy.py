"""Synergy analysis: coordinated accounts (two or more BUs active, with a lead BU) against silo
accounts (one BU active), compared on revenue growth, won deal size, win rate and cycle length,
with Welch's t-test and the Mann-Whitney U test of each difference.

Per-account metrics are one SQL query; the test runs on those per-account numbers. It is an
observational comparison: coordinated accounts are also the larger ones (more BUs buy from them),
so a difference says "goes with", not "is caused by"; the report says so.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from accountree.errors import NotFoundError
from accountree.orchestration.settings import BUILT_AS_OF
from accountree.store import Workspace

METRICS_SQL = """
WITH w AS (
    SELECT d.account_id,
        sum(CASE WHEN d.stage = 'won' AND d.close_date > $year_ago AND d.close_date <= $as_of
                 THEN coalesce(d.amount_rc, d.amount) ELSE 0 END) AS revenue_12m,
        sum(CASE WHEN d.stage = 'won' AND d.close_date > $two_years_ago AND d.close_date <= $year_ago
                 THEN coalesce(d.amount_rc, d.amount) ELSE 0 END) AS revenue_prev_12m,
        avg(CASE WHEN d.stage = 'won' AND d.close_date <= $as_of THEN coalesce(d.amount_rc, d.amount) END) AS deal_size,
        count(*) FILTER (WHERE d.stage = 'won' AND d.close_date > $window_from AND d.close_date <= $as_of) AS won,
        count(*) FILTER (WHERE d.stage = 'lost' AND d.close_date > $window_from AND d.close_date <= $as_of) AS lost,
        avg(CASE WHEN d.stage = 'won' AND d.close_date <= $as_of AND d.created_at IS NOT NULL
                 THEN CAST(d.close_date - d.created_at AS DOUBLE) END) AS cycle_days
    FROM deals d GROUP BY d.account_id
)
SELECT CASE WHEN x.priority_class IN ('group_strategic', 'multi_bu') AND x.lead_bu IS NOT NULL THEN 'coordinated'
            ELSE 'silo' END AS cohort,
    CASE WHEN w.revenue_prev_12m > 0 THEN (w.revenue_12m - w.revenue_prev_12m) / w.revenue_prev_12m END AS revenue_growth,
    w.deal_size,
    CASE WHEN w.won + w.lost > 0 THEN CAST(w.won AS DOUBLE) / (w.won + w.lost) END AS win_rate,
    w.cycle_days,
    w.revenue_12m
FROM abm_accounts x JOIN w ON w.account_id = x.account_id
WHERE x.scope = 'account' AND x.priority_class IN ('group_strategic', 'multi_bu', 'mono_bu')
"""

METRICS = ("revenue_12m", "revenue_growth", "deal_size", "win_rate", "cycle_days")


def _tests(a: list[float], b: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {"welch_t": None, "welch_p": None, "mann_whitney_p": None}
    if len(a) < 2 or len(b) < 2:
        return out
    try:
        from scipy import stats
    except ImportError:  # scipy comes with scikit-learn (the scoring extra)
        return out
    t = stats.ttest_ind(a, b, equal_var=False)
    u = stats.mannwhitneyu(a, b, alternative="two-sided")
    out.update(welch_t=float(t.statistic), welch_p=float(t.pvalue), mann_whitney_p=float(u.pvalue))
    return out


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def synergies(ws: Workspace, alpha: float = 0.05) -> dict[str, Any]:
    if not ws.engine.table_exists("abm_accounts"):
        raise NotFoundError("no ABM classes computed yet", hint="Run `accountree build` (the abm stage).")
    built = ws.meta(BUILT_AS_OF)
    as_of = date.fromisoformat(built) if built else date.today()
    params = {"as_of": as_of, "year_ago": as_of - timedelta(days=365), "two_years_ago": as_of - timedelta(days=730),
              "window_from": as_of - timedelta(days=3 * 365)}
    data = ws.engine.fetch_arrow(METRICS_SQL, params).to_pydict()
    cohorts = data["cohort"]
    rows = []
    for metric in METRICS:
        values = data[metric]
        a = [float(v) for c, v in zip(cohorts, values, strict=True) if c == "coordinated" and v is not None and math.isfinite(v)]
        b = [float(v) for c, v in zip(cohorts, values, strict=True) if c == "silo" and v is not None and math.isfinite(v)]
        mean_a = sum(a) / len(a) if a else None
        mean_b = sum(b) / len(b) if b else None
        lift = (mean_a / mean_b - 1) if mean_a is not None and mean_b not in (None, 0) else None
        tests = _tests(a, b)
        p = tests["mann_whitney_p"]
        if p is None:
            verdict = "too few accounts to test"
        elif p < alpha:
            verdict = f"{'higher' if (mean_a or 0) > (mean_b or 0) else 'lower'} for coordinated accounts (p = {p:.3g})"
        else:
            verdict = f"no significant difference (p = {p:.3g})"
        rows.append({"metric": metric, "coordinated_n": len(a), "silo_n": len(b), "coordinated_mean": mean_a,
                     "silo_mean": mean_b, "coordinated_median": _median(a), "silo_median": _median(b),
                     "lift": lift, **tests, "verdict": verdict})
    return {"as_of": as_of, "coordinated_accounts": cohorts.count("coordinated"), "silo_accounts": cohorts.count("silo"),
            "metrics": rows,
            "note": "Observational: coordinated accounts are multi-BU, hence usually larger; a difference is an "
                    "association, not the effect of coordination. The seed's claim is +50–70 % value."}
