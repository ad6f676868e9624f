"""KAM settings: each declared once (name, default, help), stored per workspace in workspace_meta.

Amounts are in the workspace reporting currency. Change one with
`accountree kam settings NAME VALUE`; the next build uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from accountree.errors import ConfigError
from accountree.store import Workspace

_PREFIX = "kam."
BUILT_AS_OF = "kam_built_as_of"


@dataclass(frozen=True)
class KamSettings:
    tier1_threshold: float = 500_000.0
    """3-year potential above which an account is Tier 1 (dedicated team)."""
    tier2_threshold: float = 100_000.0
    """3-year potential from which an account is Tier 2 (regular reviews); below: Tier 3."""
    achievable_share: float = 0.30
    """Share of a customer's wallet we can reach in 3 years (a strong, not sole, supplier)."""
    achievable_share_pipeline: float = 0.10
    """The same for an account with open deals that is not a customer yet."""
    achievable_share_prospect: float = 0.05
    """The same for any other account: a cold account is a bet, not a plan."""
    tier1_share: float = 0.05
    """At most this share of customer units (groups, standalone customers) is Tier 1: the few the
    dedicated teams can carry (3–5 per AE), whatever the thresholds let through."""
    tier2_share: float = 0.20
    """At most this share of active units (customers and open pipeline) is Tier 2."""
    wallet_quantile: float = 0.8
    """A unit's wallet: this quantile of what comparable units spend with us (Perlich et al., KDD 2007)."""
    wallet_min_peers: float = 8.0
    """Buying units a cell (industry × size band × country) needs; fewer: back off to a coarser cell."""
    reach_pipeline: float = 0.5
    """Share of the gap to the peers' wallet a unit with open deals (not a customer yet) can reach in 3 years."""
    reach_prospect: float = 0.2
    """The same for a unit with no relationship: a cold account is a bet, not a plan."""
    high_potential_threshold: float = 500_000.0
    """3-year potential from which an account is 'high potential' in the potential × effort matrix."""
    high_effort_threshold: float = 0.5
    """Effort score (0–1) above which an account is 'high effort' (0.5 = every part unknown)."""
    long_cycle_days: float = 540.0
    """A sales cycle this long (18 months, the top of key-account cycles) scores full effort."""
    many_open_deals: float = 5.0
    """This many open deals at once scores full effort."""
    strategic_max: float = 5.0
    """Strategic (Tier 1) accounts one AE can carry: 3–5."""
    strategic_min: float = 3.0
    midmarket_max: float = 50.0
    """Mid-market (Tier 2) accounts per AE: 20–50."""
    midmarket_min: float = 20.0
    smb_max: float = 300.0
    """SMB (Tier 3) accounts per AE: '100+' — a cap is needed to call someone overloaded."""
    smb_min: float = 100.0
    no_progress_months: float = 6.0
    """Exit criterion: no stage change nor new deal for this long despite activity."""
    no_progress_min_activities: float = 3.0
    """Activities in that window that count as 'despite effort'."""
    falling_revenue_drop: float = 0.10
    """Revenue down by at least this share year on year raises a 'falling revenue' alert."""
    cross_sell_per_account: float = 1.0
    """Cross-sell targets read per entity (the best ones by the KPI stage's rank) for the alerts."""
    cross_sell_max_tier: float = 2.0
    """Cross-sell alerts (one per key account) for units of this KAM tier or better; 3: every unit."""
    people_alerts_active_only: float = 1.0
    """1: 'new executive' and 'stakeholder left' only on key accounts that buy or have open deals; 0: everywhere."""
    falling_revenue_min: float = 10_000.0
    """A 'falling revenue' alert needs at least this much revenue lost year on year (reporting currency)."""
    event_lookback_days: float = 180.0
    """Org changes dated within this window are alerted even without a previous build to diff."""
    strong_points: float = 6.0
    """Relationship points (activities, recent ones count double) for a 'strong' relationship."""
    medium_points: float = 2.0


SETTING_NAMES = tuple(f.name for f in fields(KamSettings))


def reference_date(ws: Workspace, as_of: date | None = None) -> date:
    """The date live views are computed at: the one asked, else the last KAM build's (the date of
    the tables they amend), else the workspace's one build date (`accountree.build.build_as_of`)."""
    from accountree.build import build_as_of

    if as_of is not None:
        return as_of
    built = ws.meta(BUILT_AS_OF)
    return date.fromisoformat(built) if built else build_as_of(ws)


def load_settings(ws: Workspace) -> KamSettings:
    values = {}
    for name in SETTING_NAMES:
        raw = ws.meta(_PREFIX + name)
        if raw is not None:
            values[name] = float(raw)
    return KamSettings(**values)


def set_setting(ws: Workspace, name: str, value: str) -> KamSettings:
    if name not in SETTING_NAMES:
        raise ConfigError(f"no KAM setting named {name!r}", hint=f"Settings: {', '.join(SETTING_NAMES)}.")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{name} must not be negative")
    previous = ws.meta(_PREFIX + name)
    ws.set_meta(_PREFIX + name, repr(number))
    settings = load_settings(ws)
    if settings.tier2_threshold > settings.tier1_threshold:
        ws.set_meta(_PREFIX + name, previous if previous is not None else repr(getattr(KamSettings(), name)))
        raise ConfigError("tier2_threshold must not exceed tier1_threshold",
                          hint="Tier 1 starts above Tier 2: raise tier1_threshold first.")
    return settings
