"""The `kpis` build stage: account KPIs, roll-ups to every ancestor, cross-sell targets."""

from __future__ import annotations

from typing import Any

from accountree.build import BuildOptions, BuildStage
from accountree.kpi.pipeline import build_kpis, prepare_refreshes
from accountree.store import Workspace


def run(ws: Workspace, options: BuildOptions) -> dict[str, Any]:
    return build_kpis(ws, options.as_of)


STAGE = BuildStage("kpis", "account KPIs and lifecycle status, group roll-ups, whitespace and cross-sell targets", run,
                   after=prepare_refreshes)
