"""The points grid (`icp.yaml`): pillars, weights, criteria, rules, grades and tiers.

A grid is a YAML file agreed by sales and marketing. It is validated on load with pydantic, and
*every* problem is reported at once with its place (`pillars.firmographic.criteria[1].rules[0]`):
unknown keys, unknown fields, rules that do not fit the field's type, overlapping ranges, a value
listed twice, pillar weights not summing to 1, grade cut-offs out of order.

Score of an account = Σ over pillars of `weight × 100 × points in the pillar / max points of the
pillar`; the contribution of each criterion is its share of that sum, so contributions add up to
the score. When pillar weights equal each pillar's share of the max points, this is simply the sum
of the points (DOMAIN.md's worked example: X = 100, Y = 10).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from accountree.errors import ConfigError

GRADES = ("A", "B", "C", "D", "E", "F")

# Fields a criterion can use: columns of the `score_features` table, with their kind.
FIELDS: dict[str, tuple[str, str]] = {
    "industry": ("text", "accounts.industry"),
    "country": ("text", "accounts.country (ISO-2)"),
    "city": ("text", "accounts.city"),
    "domain": ("text", "accounts.domain"),
    "employees": ("number", "accounts.employees"),
    "annual_revenue": ("number", "annual revenue in the reporting currency"),
    "technologies": ("list", "accounts.technologies (';'-separated)"),
    "pricing_page_visits_30d": ("number", "activities of type pricing_page in the last 30 days"),
    "web_visits_30d": ("number", "activities of type web_visit in the last 30 days"),
    "intent_signals_90d": ("number", "activities of type intent_topic in the last 90 days"),
    "form_fills_90d": ("number", "activities of type form_fill in the last 90 days"),
    "meetings_90d": ("number", "meetings and events in the last 90 days"),
    "engagement_90d": ("number", "sum of activity weights in the last 90 days"),
    "contacts": ("number", "contacts in place"),
    "decision_makers": ("number", "contacts in place who are economic buyers or champions"),
    "days_since_last_activity": ("number", "days since the last activity (empty: never)"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Rule(_Strict):
    """One way to earn points; the first rule that matches wins."""

    points: float = Field(ge=0)
    in_: list[str] | None = Field(default=None, alias="in")
    any_of: list[str] | None = None
    range: tuple[float | None, float | None] | None = None  # inclusive [min, max]; null = open
    min: float | None = None
    max: float | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Rule:
        if self.range is not None and (self.min is not None or self.max is not None):
            raise ValueError("use either range: [min, max] or min:/max:, not both")
        if self.range is not None:
            self.min, self.max = self.range
            self.range = None
        tests = [t for t, v in (("in", self.in_), ("any_of", self.any_of)) if v is not None]
        if self.min is not None or self.max is not None:
            tests.append("range")
        if len(tests) != 1:
            raise ValueError(f"a rule needs exactly one test among in / any_of / range (min, max), got {tests or 'none'}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"range min {self.min:g} is above max {self.max:g}")
        return self

    @property
    def kind(self) -> str:
        return "in" if self.in_ is not None else "any_of" if self.any_of is not None else "range"

    def describe(self) -> str:
        if self.label:
            return self.label
        if self.in_ is not None:
            return "in " + ", ".join(self.in_)
        if self.any_of is not None:
            return "uses " + " or ".join(self.any_of)
        if self.max is None:
            return f"≥ {self.min:g}"
        if self.min is None:
            return f"≤ {self.max:g}"
        return f"{self.min:g}–{self.max:g}"


class Criterion(_Strict):
    name: str
    field: str
    rules: list[Rule] = Field(min_length=1)
    missing: float | Literal["required"] = 0.0  # points when the field is empty, or the account is unscored
    otherwise: float = Field(default=0, ge=0, alias="else")  # points when known but no rule matches

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if value not in FIELDS:
            raise ValueError(f"unknown field {value!r}; fields: {', '.join(FIELDS)}")
        return value

    @field_validator("missing", mode="before")
    @classmethod
    def _missing(cls, value: float | str) -> float | str:
        if isinstance(value, bool):
            raise ValueError("missing must be points (a number) or 'required'")
        if isinstance(value, int):
            value = float(value)
        if isinstance(value, float) and value < 0:
            raise ValueError("missing points must be ≥ 0 (or 'required')")
        return value

    @model_validator(mode="after")
    def _fits_field(self) -> Criterion:
        kind = FIELDS[self.field][0]
        allowed = {"text": {"in"}, "number": {"range"}, "list": {"any_of", "in"}}[kind]
        problems = [f"rules[{i}]: {r.kind} does not apply to {kind} field {self.field!r} (use {' or '.join(sorted(allowed))})"
                    for i, r in enumerate(self.rules) if r.kind not in allowed]
        seen: dict[str, int] = {}
        for i, rule in enumerate(self.rules):
            for value in (rule.in_ or []) + (rule.any_of or []):
                key = value.strip().lower()
                if key in seen:
                    problems.append(f"rules[{i}]: {value!r} is already listed in rules[{seen[key]}]")
                seen.setdefault(key, i)
        ranges = [(i, r) for i, r in enumerate(self.rules) if r.kind == "range"]
        for n, (i, a) in enumerate(ranges):
            for j, b in ranges[n + 1:]:
                lo_a, hi_a = a.min if a.min is not None else float("-inf"), a.max if a.max is not None else float("inf")
                lo_b, hi_b = b.min if b.min is not None else float("-inf"), b.max if b.max is not None else float("inf")
                if lo_a <= hi_b and lo_b <= hi_a:
                    problems.append(f"rules[{j}] range {b.describe()} overlaps rules[{i}] range {a.describe()}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def max_points(self) -> float:
        values = [r.points for r in self.rules] + [self.otherwise]
        if self.missing != "required":
            values.append(float(self.missing))
        return max(values)


class Pillar(_Strict):
    weight: float = Field(ge=0, le=1)
    criteria: list[Criterion] = Field(min_length=1)
    min_known_fields: int = Field(default=0, ge=0)  # fewer known fields than this: unscored

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.criteria)


class Grades(_Strict):
    based_on: Literal["auto", "grid", "model"] = "auto"  # auto: the model score when there is one, else the grid
    method: Literal["auto", "thresholds", "quantiles"] = "auto"  # auto: thresholds on the grid, quantiles on the model
    thresholds: dict[Literal["A", "B", "C", "D", "E"], float] = Field(
        default_factory=lambda: {"A": 80, "B": 65, "C": 50, "D": 35, "E": 20})
    shares: dict[Literal["A", "B", "C", "D", "E", "F"], float] = Field(
        default_factory=lambda: {"A": 0.10, "B": 0.15, "C": 0.20, "D": 0.20, "E": 0.15, "F": 0.20})

    @model_validator(mode="after")
    def _ordered(self) -> Grades:
        cut = [self.thresholds.get(g) for g in GRADES[:5]]
        if None in cut:
            raise ValueError("thresholds need A, B, C, D and E (F is everything below E)")
        if any(a <= b for a, b in zip(cut, cut[1:], strict=False)):
            raise ValueError(f"thresholds must decrease from A to E, got {dict(zip(GRADES, cut, strict=False))}")
        if set(self.shares) != set(GRADES) or abs(sum(self.shares.values()) - 1) > 1e-6:
            raise ValueError(f"shares need A to F summing to 1, got {sum(self.shares.values()):g}")
        return self


class BestCustomers(_Strict):
    """Who counts as a best customer for `score train` (the positives)."""

    metric: Literal["gross_margin_3y", "revenue_3y", "won_deals_3y"] = "gross_margin_3y"
    top_share: float = Field(default=0.25, gt=0, le=1)  # of the customers, ranked by metric
    min_active_years: int = Field(default=2, ge=1, le=3)  # retention: won business in N of the last 3 years


class ModelSettings(_Strict):
    target: str = "best"  # what `score train` learns when --target is not given: won, best or a rule
    best_customers: BestCustomers = Field(default_factory=BestCustomers)
    min_labelled: int = Field(default=200, ge=20)  # positives + negatives
    min_positives: int = Field(default=20, ge=5)
    min_negatives: int = Field(default=20, ge=5)
    drift_psi: float = Field(default=0.25, gt=0)  # `score status` warns when a main field's PSI exceeds this
    leak_auc: float = Field(default=0.95, gt=0.5, le=1)  # a field this predictive alone is excluded as a leak
    leak_fill_gap: float = Field(default=0.6, gt=0, le=1)  # filled-share gap positives vs others: a leak
    max_age_months: int = Field(default=6, ge=1)
    max_training_rows: int = Field(default=200_000, ge=1000)
    score_accounts_added_after_training: bool = False  # False: they keep a grid grade and say why


class Grid(_Strict):
    name: str = "ICP grid"
    version: int = 1
    description: str | None = None
    require_domain: bool = True
    pillars: dict[str, Pillar] = Field(min_length=1)
    grades: Grades = Field(default_factory=Grades)
    tiers: dict[Literal["tier_1", "tier_2", "tier_3"], list[Literal["A", "B", "C", "D", "E", "F"]]] = Field(
        default_factory=lambda: {"tier_1": ["A", "B"], "tier_2": ["C", "D"], "tier_3": ["E", "F"]})
    model: ModelSettings = Field(default_factory=ModelSettings)

    @field_validator("tiers")
    @classmethod
    def _tiers_cover(cls, tiers: dict[str, list[str]]) -> dict[str, list[str]]:
        listed = [g for grades in tiers.values() for g in grades]
        missing = [g for g in GRADES if g not in listed]
        twice = sorted({g for g in listed if listed.count(g) > 1})
        if missing or twice:
            raise ValueError(f"every grade must be in exactly one tier (missing: {missing or 'none'}, twice: {twice or 'none'})")
        return tiers

    def criteria(self) -> list[tuple[str, Pillar, Criterion]]:
        return [(name, p, c) for name, p in self.pillars.items() for c in p.criteria]

    def tier_of(self, grade: str) -> str:
        return next(t for t, grades in self.tiers.items() if grade in grades)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(by_alias=True, exclude_none=True), sort_keys=False, allow_unicode=True)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.to_yaml().encode()).hexdigest()[:16]


def _place(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "tagged-union") or str(part).startswith("function-"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top)"


def _raw_checks(raw: Any) -> list[str]:
    """Checks that must run even when pydantic stops early: pillar weights and names."""
    problems = []
    pillars = raw.get("pillars") if isinstance(raw, dict) else None
    if isinstance(pillars, dict):
        weights = [p.get("weight") for p in pillars.values() if isinstance(p, dict)]
        if weights and all(isinstance(w, (int, float)) for w in weights) and abs(sum(weights) - 1) > 1e-6:
            listed = ", ".join(f"{n} {p.get('weight')}" for n, p in pillars.items() if isinstance(p, dict))
            problems.append(f"pillars: weights must sum to 1, they sum to {sum(weights):g} ({listed})")
        names = [c.get("name") for p in pillars.values() if isinstance(p, dict)
                 for c in (p.get("criteria") or []) if isinstance(c, dict)]
        twice = sorted({n for n in names if n is not None and names.count(n) > 1})
        if twice:
            problems.append(f"pillars: criterion names must be unique, repeated: {', '.join(map(str, twice))}")
    return problems


def parse_grid(text: str, source: str = "grid") -> Grid:
    """Validate a grid's YAML text; raise one ConfigError listing every problem with its place."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{source} is not valid YAML", [str(err)], hint="Fix the YAML syntax.") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source} must be a YAML mapping with a 'pillars' key", hint="Run `accountree score init`.")
    problems = _raw_checks(raw)
    grid = None
    try:
        grid = Grid.model_validate(raw)
    except ValidationError as err:
        for e in err.errors():
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = f"unknown key {e['loc'][-1]!r}"
                loc = e["loc"][:-1]
            else:
                loc = e["loc"]
            problems.append(f"{_place(loc)}: {msg}")
    if grid is not None:
        for name, pillar in grid.pillars.items():
            if pillar.weight > 0 and pillar.max_points <= 0:
                problems.append(f"pillars.{name}: weight {pillar.weight:g} but no criterion can give points")
    if problems:
        raise ConfigError(f"{source}: {len(problems)} problem(s) in the grid", problems,
                          hint="Fix every place listed; `accountree score init` writes a commented example.")
    assert grid is not None
    return grid


def load_grid(path: str | Path) -> Grid:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"grid file {path} does not exist", hint="Create one with `accountree score init`.")
    return parse_grid(path.read_text(encoding="utf-8"), str(path))


def default_grid_text() -> str:
    return (Path(__file__).parent / "default_grid.yaml").read_text(encoding="utf-8")


def default_grid() -> Grid:
    return parse_grid(default_grid_text(), "default grid")
