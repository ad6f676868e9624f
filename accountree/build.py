"""`accountree build`: the computed stages, run in order on the workspace.

Each capability contributes a stage (hierarchy, KPIs and roll-ups, scores…) by listing it in
`STAGE_MODULES`: a module with `STAGE = BuildStage(...)`. A stage is a function of the workspace
and the build options returning a short summary dict that the CLI prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from difflib import get_close_matches
from typing import Any

from accountree.errors import ConfigError
from accountree.plugins import capability_modules
from accountree.store import Workspace

STAGE_MODULES = (
    # scores before KPIs: the KPIs' cross-sell targets count each entity's ICP grade (scores read
    # the hierarchy, not the KPIs)
    "accountree.registry.stage", "accountree.hierarchy.stage", "accountree.scoring.stage", "accountree.kpi.stage", "accountree.kam.stage",
    "accountree.orchestration.stage", "accountree.leads.stage", "accountree.api.stage",
)


@dataclass
class BuildOptions:
    as_of: date = field(default_factory=date.today)
    stages: list[str] | None = None  # None: all


@dataclass(frozen=True)
class BuildStage:
    name: str
    description: str
    run: Callable[[Workspace, BuildOptions], dict[str, Any]]
    # Run once every stage has committed: work that serves later reads and refreshes (lookup
    # indexes), not the build's results. Its summary joins the stage's.
    after: Callable[[Workspace], dict[str, Any]] | None = None


# the last import a full build saw (workspace meta)
BUILT_IMPORT_KEY = "built_import_id"


def last_import_id(ws: Workspace) -> int:
    return int(ws.engine.scalar("SELECT coalesce(max(import_id), 0) FROM imports") or 0)


# imports that changed rows after the last full build (0 when nothing was ever built); parameter:
# BUILT_IMPORT_KEY. Also read by the API's overview.
IMPORTS_SINCE_BUILD = ("SELECT count(DISTINCT import_id) FROM imports WHERE (inserted > 0 OR updated > 0) "
                       "AND import_id > (SELECT CAST(value AS INTEGER) FROM workspace_meta WHERE key = ?)")


def imports_since_build(ws: Workspace) -> int | None:
    """How many imports that changed rows came after the last full build; None when nothing was
    ever built."""
    if ws.meta(BUILT_IMPORT_KEY) is None:
        return None
    return int(ws.engine.scalar(IMPORTS_SINCE_BUILD, [BUILT_IMPORT_KEY]) or 0)


def stages() -> list[BuildStage]:
    return [module.STAGE for module in capability_modules(STAGE_MODULES)]


def build(ws: Workspace, options: BuildOptions | None = None,
          progress: Callable[[str, int, int], None] | None = None) -> dict[str, dict[str, Any]]:
    options = options or BuildOptions()
    available = stages()
    names = [s.name for s in available]
    unknown = [n for n in options.stages or [] if n not in names]
    if unknown:  # a typo used to run nothing and report success
        close = [m for n in unknown for m in get_close_matches(n, names, n=1)]
        raise ConfigError(f"unknown build stage {', '.join(map(repr, unknown))}; the stages are {', '.join(names)}",
                          hint=f"Did you mean {', '.join(close)}?" if close else "Omit --stage to run them all.")
    selected = [s for s in available if options.stages is None or s.name in options.stages]
    results: dict[str, dict[str, Any]] = {}
    # One transaction for every stage: a build that fails at any stage leaves the workspace as it
    # was (never a new hierarchy under the old KPIs), and DuckDB writes the tables once, at the end.
    with ws.engine.transaction():
        if options.stages is None:  # `accountree status` / `import` say when imports came after it
            # (written first: the API read model's stamp, recorded by the last stage, covers the meta)
            ws.set_meta(BUILT_IMPORT_KEY, str(last_import_id(ws)))
        for i, stage in enumerate(selected):
            if progress:
                progress(stage.name, i, len(selected))
            results[stage.name] = stage.run(ws, options)
    for stage in selected:
        if stage.after is not None:
            if progress:
                progress(f"{stage.name}: preparing refreshes", len(selected), len(selected))
            results[stage.name].update(stage.after(ws))
    return results
