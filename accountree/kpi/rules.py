"""The KPI rules a workspace uses: shipped defaults (`rules.yaml`) plus the workspace's overrides.

Users write YAML with only the keys they change; it is validated with Pydantic, every problem
reported at once, and kept in `workspace_meta` under `kpi_rules` so every build (DuckDB or
PostgreSQL, CLI or API) reads the same rules.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from accountree.errors import ConfigError
from accountree.store import Workspace

STATUSES = ("customer", "opportunity", "mqa", "engaged", "former_customer", "dormant")
LABELS = {"customer": "Customer", "opportunity": "Opportunity", "mqa": "MQA", "engaged": "Engaged",
          "former_customer": "Former customer", "dormant": "Dormant"}
GROUP_LABELS = {k: f"{v.lower()} group" for k, v in LABELS.items()} | {"mqa": "MQA group"}
META_KEY = "kpi_rules"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_precedence(value: list[str]) -> list[str]:
    unknown = [s for s in value if s not in STATUSES]
    if unknown or sorted(value) != sorted(STATUSES):
        raise ValueError(f"must list each of {', '.join(STATUSES)} exactly once (got {value})")
    return value


class Lifecycle(_Strict):
    customer_months: int = Field(ge=1)
    former_customer_months: int = Field(ge=1)
    lapsed_as: Literal["former_customer", "customer"]
    activity_days: int = Field(ge=1)
    mqa_threshold: float = Field(gt=0)
    precedence: list[str]

    _precedence = field_validator("precedence")(_check_precedence)


class GroupStatus(_Strict):
    precedence: list[str]

    _precedence = field_validator("precedence")(_check_precedence)


class Wallet(_Strict):
    attribute: str
    default_share: float = Field(gt=0, le=1)
    industry_share: dict[str, float] = {}


class CrossSellWeights(_Strict):
    adoption: float = Field(ge=0)
    proximity: float = Field(ge=0)
    size: float = Field(ge=0)
    icp: float = Field(ge=0)
    pipeline: float = Field(ge=0)


class CrossSell(_Strict):
    max_per_entity: int = Field(ge=1)
    weights: CrossSellWeights
    size_employees_full: int = Field(ge=2)


class KpiRules(_Strict):
    lifecycle: Lifecycle
    group_status: GroupStatus
    wallet: Wallet
    cross_sell: CrossSell

    def params(self, as_of: date) -> dict[str, Any]:
        """The dates and numbers the KPI SQL reads, as named parameters."""
        life, w = self.lifecycle, self.cross_sell.weights
        rank = {s: i for i, s in enumerate(life.precedence)}
        group_rank = {s: i for i, s in enumerate(self.group_status.precedence)}
        out: dict[str, Any] = {
            "as_of": as_of,
            "cy": as_of.year,
            "py3_start": date(as_of.year - 3, 1, 1),
            "ttm_start": _months_before(as_of, 12),
            "customer_since": _months_before(as_of, life.customer_months),
            "former_before": _months_before(as_of, life.former_customer_months),
            "lapsed_customer": life.lapsed_as == "customer",
            "activity_since": date.fromordinal(as_of.toordinal() - life.activity_days),
            "mqa_threshold": life.mqa_threshold,
            "wallet_attribute": self.wallet.attribute,
            "wallet_share": self.wallet.default_share,
            "max_per_entity": self.cross_sell.max_per_entity,
            "w_adoption": w.adoption, "w_proximity": w.proximity, "w_size": w.size, "w_icp": w.icp,
            "w_pipeline": w.pipeline, "size_full": float(self.cross_sell.size_employees_full),
        }
        out |= {f"rank_{s}": rank[s] for s in STATUSES}
        out |= {f"grank_{s}": group_rank[s] for s in STATUSES}
        return out


def _months_before(day: date, months: int) -> date:
    """The same day `months` earlier (clamped to the month's end): 2026-03-31 - 1 → 2026-02-28."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def default_yaml() -> str:
    return resources.files("accountree.kpi").joinpath("rules.yaml").read_text(encoding="utf-8")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def parse_rules(text: str | None) -> KpiRules:
    """Defaults merged with `text` (YAML with the keys to change); every problem reported at once."""
    return _parse_rules(text).model_copy(deep=True)


@lru_cache(maxsize=16)
def _parse_rules(text: str | None) -> KpiRules:
    """Parsing the YAML took ~12 ms, a tenth of an incremental refresh: cached by text (a copy is
    handed out, so a caller changing its rules changes no one else's)."""
    base = yaml.safe_load(default_yaml())
    try:
        override = yaml.safe_load(text) if text else {}
    except yaml.YAMLError as err:
        raise ConfigError(f"the KPI rules are not valid YAML: {err}") from None
    if override is None:
        override = {}
    if not isinstance(override, dict):
        raise ConfigError("the KPI rules must be a YAML mapping", hint="See accountree/kpi/rules.yaml for the keys.")
    try:
        return KpiRules.model_validate(_merge(base, override))
    except ValidationError as err:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()]
        raise ConfigError("the KPI rules are invalid", problems,
                          hint="Fix the keys listed; accountree/kpi/rules.yaml shows every key with its default.") from None


def load_rules(ws: Workspace) -> KpiRules:
    return parse_rules(ws.meta(META_KEY))


def save_rules(ws: Workspace, text: str) -> KpiRules:
    """Validate and keep the workspace's rule overrides; nothing is written when they are invalid."""
    rules = parse_rules(text)
    ws.set_meta(META_KEY, text)
    return rules
