"""`accountree build`: the computed stages, run in order on the workspace.

Each capability contributes a stage (hierarchy, KPIs and roll-ups, scores…) by listing it in
`STAGE_MODULES`: a module with `STAGE = BuildStage(...)`. A stage is a function of the workspace
and the build options returning a short summary dict that the CLI prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
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
    # the date every stage computes at; None: today for a full build, the last build's
    # (`build_as_of`) for `--stage` (so a stage rebuilt alone matches the others). `build` fills it in.
    as_of: date | None = None
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
# the date the last build computed every stage at (workspace meta): refreshes and live views use it
AS_OF_KEY = "build.as_of"
# what workspaces built before `build.as_of` existed recorded (the KPIs' date)
_LEGACY_AS_OF_KEY = "kpi_as_of"


def build_as_of(ws: Workspace, as_of: date | None = None) -> date:
    """The one as-of date: `as_of` when given, else the last build's (`build.as_of`), else today.

    Every stage reads it from `BuildOptions.as_of`; refreshes, re-scoring and live views (KPIs,
    scores, key-account views) call this, so they all grade at the date of the tables they amend."""
    if as_of is not None:
        return as_of
    meta = ws.metas(AS_OF_KEY, _LEGACY_AS_OF_KEY)
    stored = meta.get(AS_OF_KEY) or meta.get(_LEGACY_AS_OF_KEY)
    return date.fromisoformat(stored) if stored else date.today()


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


def plan_build(ws: Workspace, options: BuildOptions | None) -> tuple[list[BuildStage], BuildOptions]:
    """The stages a build runs (unknown names refused with the closest one) and its options with
    the as-of date filled in: today for a full build, the last build's for `--stage`."""
    options = options or BuildOptions()
    available = stages()
    names = [s.name for s in available]
    unknown = [n for n in options.stages or [] if n not in names]
    if unknown:  # a typo used to run nothing and report success
        close = [m for n in unknown for m in get_close_matches(n, names, n=1)]
        raise ConfigError(f"unknown build stage {', '.join(map(repr, unknown))}; the stages are {', '.join(names)}",
                          hint=f"Did you mean {', '.join(close)}?" if close else "Omit --stage to run them all.")
    selected = [s for s in available if options.stages is None or s.name in options.stages]
    as_of = options.as_of or (date.today() if options.stages is None else build_as_of(ws))
    return selected, replace(options, as_of=as_of)


def build(ws: Workspace, options: BuildOptions | None = None,
          progress: Callable[[str, int, int], None] | None = None,
          timings: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Run the selected stages in one transaction; returns each stage's summary. `progress(name,
    i, n)` is called as stage i of n starts; `timings`, when given, receives one
    `{name, seconds, rows, tables}` per stage: its time (with its `after` work) and the rows of
    the tables it wrote through `Engine.materialize`."""
    selected, options = plan_build(ws, options)
    as_of = options.as_of
    results: dict[str, dict[str, Any]] = {}
    clock: dict[str, dict[str, Any]] = {}
    # One transaction for every stage: a build that fails at any stage leaves the workspace as it
    # was (never a new hierarchy under the old KPIs), and DuckDB writes the tables once, at the end.
    with ws.engine.transaction():
        if options.stages is None:  # `accountree status` / `import` say when imports came after it
            # (written first: the API read model's stamp, recorded by the last stage, covers the meta)
            ws.set_meta(BUILT_IMPORT_KEY, str(last_import_id(ws)))
        ws.set_meta(AS_OF_KEY, as_of.isoformat())
        for i, stage in enumerate(selected):
            if progress:
                progress(stage.name, i, len(selected))
            start = time.perf_counter()
            with ws.engine.recording() as written:
                results[stage.name] = stage.run(ws, options)
            tables = {w["table"]: w["rows"] for w in written}  # a table written twice: its last rows
            clock[stage.name] = {"name": stage.name, "seconds": time.perf_counter() - start,
                                 "rows": sum(n for n in tables.values() if n is not None), "tables": tables}
    for stage in selected:
        if stage.after is not None:
            if progress:
                progress(f"{stage.name}: preparing refreshes", len(selected), len(selected))
            start = time.perf_counter()
            results[stage.name].update(stage.after(ws))
            clock[stage.name]["seconds"] += time.perf_counter() - start
    if timings is not None:
        timings.extend({**c, "seconds": round(c["seconds"], 3)} for c in clock.values())
    return results
