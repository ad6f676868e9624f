"""ABM settings: each declared once (name, default, help), stored per workspace in workspace_meta
(`abm.` prefix). Change one with `accountree abm settings NAME VALUE`; the next build uses it.
Amounts are in the reporting currency; windows in days."""

from __future__ import annotations

from dataclasses import dataclass, fields

from accountree.errors import ConfigError
from accountree.store import Workspace

_PREFIX = "abm."
ATTRIBUTION_RULES = ("equal", "lead_bu_bonus", "touch_weighted")
BUILT_AS_OF = "abm_built_as_of"


@dataclass(frozen=True)
class AbmSettings:
    active_window_days: float = 365.0
    """A BU is active on an account with an open deal, or a deal, activity or campaign target in this window."""
    conflict_window_days: float = 90.0
    """Activities of several BUs on one contact, or deals opened outside the lead BU, within this window conflict."""
    collision_days: float = 30.0
    """Campaigns of different BUs on one account collide when their periods come within this many days."""
    revenue_years: float = 3.0
    """Won revenue over this many years counts in the lead-BU rule."""
    weight_revenue: float = 0.5
    """Lead-BU rule: weight of the BU's share of the account's won revenue over `revenue_years`."""
    weight_pipeline: float = 0.3
    """Lead-BU rule: weight of the BU's share of the open pipeline."""
    weight_history: float = 0.2
    """Lead-BU rule: weight of the BU's share of the relationship history (deals + activities, all time)."""
    strategic_min_bus: float = 3.0
    """This many active BUs make an account or group group_strategic."""
    strategic_potential: float = 500_000.0
    """A multi-BU account or group with a 3-year potential (KAM) from this amount is group_strategic."""
    strategic_grades: str = "A"
    """ICP grades that make a multi-BU account group_strategic (comma-separated)."""
    strategic_kam_tier: float = 1.0
    """A multi-BU account at this KAM tier or better is group_strategic."""
    attribution_rule: str = "lead_bu_bonus"
    """equal | lead_bu_bonus | touch_weighted."""
    lead_bu_bonus: float = 1.0
    """lead_bu_bonus rule: extra weight of the lead BU (1 = the lead BU counts double)."""
    touch_window_days: float = 365.0
    """Touches (activities, campaign targets) of a BU up to this long before the close count in attribution."""
    handover_window_days: float = 180.0
    """Deals won this recently need an AE → CSM handover (`abm_handovers_due` lists them with their state)."""
    coverage_min: float = 3.0
    """An AE should carry at least this many group_strategic accounts (abm_coverage)."""
    coverage_max: float = 5.0
    """An AE should carry at most this many group_strategic accounts (abm_coverage)."""


SETTING_NAMES = tuple(f.name for f in fields(AbmSettings))
_TEXT = {"strategic_grades", "attribution_rule"}


def load_settings(ws: Workspace) -> AbmSettings:
    values: dict[str, object] = {}
    for name in SETTING_NAMES:
        raw = ws.meta(_PREFIX + name)
        if raw is not None:
            values[name] = raw if name in _TEXT else float(raw)
    return AbmSettings(**values)  # type: ignore[arg-type]


def set_setting(ws: Workspace, name: str, value: str) -> AbmSettings:
    if name not in SETTING_NAMES:
        raise ConfigError(f"no ABM setting named {name!r}", hint=f"Settings: {', '.join(SETTING_NAMES)}.")
    if name == "attribution_rule":
        if value not in ATTRIBUTION_RULES:
            raise ConfigError(f"attribution_rule must be one of {', '.join(ATTRIBUTION_RULES)}, not {value!r}")
        ws.set_meta(_PREFIX + name, value)
    elif name == "strategic_grades":
        grades = [g.strip().upper() for g in value.split(",") if g.strip()]
        if any(g not in "ABCDE" or len(g) != 1 for g in grades):
            raise ConfigError(f"strategic_grades must be ICP grades A–E separated by commas, not {value!r}")
        ws.set_meta(_PREFIX + name, ",".join(grades))
    else:
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {value!r}") from None
        if number < 0:
            raise ConfigError(f"{name} must not be negative")
        ws.set_meta(_PREFIX + name, repr(number))
    return load_settings(ws)


def grade_list(settings: AbmSettings) -> list[str]:
    return [g for g in settings.strategic_grades.split(",") if g]
