"""Account KPIs, roll-ups to every group level, whitespace and cross-sell (see README.md)."""

from accountree.kpi.pipeline import build_kpis, refresh_accounts
from accountree.kpi.service import account_kpis, cross_sell, group_rollup, transitions, whitespace

__all__ = ["account_kpis", "build_kpis", "cross_sell", "group_rollup", "refresh_accounts", "transitions", "whitespace"]
