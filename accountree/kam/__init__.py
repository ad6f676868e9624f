"""Key-account management: potential and tiers, the potential × effort matrix, coverage, account
mapping (org charts, buying committees), MEDDIC and alerts. See `accountree/kam/README.md`."""

from accountree.kam.alerts import acknowledge, alerts
from accountree.kam.meddic import meddic, update_meddic
from accountree.kam.settings import KamSettings, load_settings, set_setting
from accountree.kam.stakeholders import buying_committee, org_chart, set_buying_role
from accountree.kam.views import coverage, kam_view, matrix

__all__ = [
    "KamSettings", "acknowledge", "alerts", "buying_committee", "coverage", "kam_view", "load_settings", "matrix",
    "meddic", "org_chart", "set_buying_role", "set_setting", "update_meddic",
]
