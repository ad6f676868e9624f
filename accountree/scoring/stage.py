"""Build stage `scores`: grid (saved, or the packaged default) and current model, grades, tiers, groups."""

from __future__ import annotations

from typing import Any

from accountree.build import BuildOptions, BuildStage
from accountree.store import Workspace


def run(ws: Workspace, options: BuildOptions) -> dict[str, Any]:
    from accountree.scoring.service import score_workspace

    return score_workspace(ws, options.as_of, regrade=False)  # the KPI stage runs next, with these grades


STAGE = BuildStage("scores", "ICP fit: points grid, learned model, grades A-F, tiers, unscored reasons", run)
