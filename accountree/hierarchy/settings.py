"""The two knobs of the hierarchy rule, declared once and stored in the workspace.

They live in `workspace_meta` (not in a config file) because they change what every later build
computes: a team sharing a workspace must share them too.

- `control_threshold`: a parent whose share is strictly above it consolidates the child (50 by
  default, the IFRS 10 / D&B "majority" rule). Some teams use 50 % *or more*; set 49.99 for that.
  A registry's parent link (GLEIF accounting consolidation, D&B parent, SIRENE establishment)
  consolidates whatever its share: the threshold decides for CRM and manual shares only.
- `max_depth`: how many levels below its head an account may hang (100 by default; real groups
  rarely pass 20). The closure holds one row per ancestor, so a corrupt import chaining every
  account to the previous one would otherwise make it quadratic; deeper links are left out and
  reported (`too_deep`).
- `precedence`: which source of parent links wins for a child when several disagree. Classes are
  `manual` (links made with `accountree link`), `registry` (gleif, dnb, sirene) and `crm`
  (everything else). The child keeps only the links of its best class.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from accountree.errors import ConfigError
from accountree.store import Workspace

SOURCE_CLASSES = ("manual", "registry", "crm")
REGISTRY_SOURCES = ("gleif", "dnb", "sirene")
_KEYS = {"control_threshold": "hierarchy.control_threshold", "precedence": "hierarchy.precedence",
         "max_depth": "hierarchy.max_depth"}


class HierarchySettings(BaseModel):
    control_threshold: float = Field(50.0, ge=0, lt=100, description="share (%) strictly above which a parent consolidates a child")
    max_depth: int = Field(100, ge=1, le=10_000, description="levels an account may hang below its group head")
    precedence: list[str] = Field(default_factory=lambda: list(SOURCE_CLASSES),
                                  description="source classes, best first: manual, registry, crm")

    @field_validator("precedence")
    @classmethod
    def _all_classes_once(cls, value: list[str]) -> list[str]:
        value = [v.strip().lower() for v in value if v.strip()]
        if sorted(value) != sorted(SOURCE_CLASSES):
            raise ValueError(f"must name each of {', '.join(SOURCE_CLASSES)} exactly once, best first")
        return value

    def rank_params(self) -> dict[str, float]:
        """The parameters the edge-selection SQL reads: a rank per source class and the threshold."""
        return {"rank_manual": self.precedence.index("manual"), "rank_registry": self.precedence.index("registry"),
                "rank_crm": self.precedence.index("crm"), "threshold": self.control_threshold}


def load_settings(ws: Workspace) -> HierarchySettings:
    raw: dict[str, object] = {}
    threshold = ws.meta(_KEYS["control_threshold"])
    if threshold is not None:
        raw["control_threshold"] = float(threshold)
    precedence = ws.meta(_KEYS["precedence"])
    if precedence is not None:
        raw["precedence"] = precedence.split(",")
    max_depth = ws.meta(_KEYS["max_depth"])
    if max_depth is not None:
        raw["max_depth"] = int(max_depth)
    return HierarchySettings(**raw)


def save_settings(ws: Workspace, *, control_threshold: float | None = None,
                  precedence: list[str] | str | None = None, max_depth: int | None = None) -> HierarchySettings:
    """Validate and store new values (only those given); every problem is reported at once."""
    current = load_settings(ws).model_dump()
    if control_threshold is not None:
        current["control_threshold"] = control_threshold
    if precedence is not None:
        current["precedence"] = precedence.split(",") if isinstance(precedence, str) else precedence
    if max_depth is not None:
        current["max_depth"] = max_depth
    try:
        settings = HierarchySettings(**current)
    except ValueError as err:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in getattr(err, "errors", lambda: [])()]
        raise ConfigError("invalid hierarchy settings", problems or [str(err)],
                          hint="Example: --control-threshold 50 --precedence manual,registry,crm") from None
    with ws.engine.transaction():
        ws.set_meta(_KEYS["control_threshold"], repr(settings.control_threshold))
        ws.set_meta(_KEYS["precedence"], ",".join(settings.precedence))
        ws.set_meta(_KEYS["max_depth"], str(settings.max_depth))
    return settings
