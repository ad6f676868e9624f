"""The `leads` build stage: match every lead to its account (`accountree leads match`). Runs after
the hierarchy (which entity of a group) and KAM; routing stays a command of its own, since it
assigns owners."""

from __future__ import annotations

from typing import Any

from accountree.build import BuildOptions, BuildStage
from accountree.leads.match import match
from accountree.store import Workspace


def run(ws: Workspace, options: BuildOptions) -> dict[str, Any]:
    if not ws.engine.scalar("SELECT count(*) FROM leads"):
        return {"leads": 0}
    return match(ws)


STAGE = BuildStage("leads", "inbound leads: lead-to-account match, review list, new-account proposals", run)
