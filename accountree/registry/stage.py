"""The `registry` build stage: re-attach stored registry records before the hierarchy is built.

A CRM import may have brought accounts with an LEI or a SIREN since the last registry import, and
the resolver may have merged registry-only accounts into CRM accounts: attaching again (no file is
read, the options of each source's last import apply) keeps the registry links on the right
accounts, so the hierarchy stage that follows sees them. Nothing stored: nothing to do.
To run it, `accountree.build.STAGE_MODULES` lists "accountree.registry.stage" before the hierarchy.
"""

from __future__ import annotations

from typing import Any

from accountree.build import BuildOptions, BuildStage
from accountree.registry.service import reattach
from accountree.store import Workspace


def run(ws: Workspace, options: BuildOptions) -> dict[str, Any]:
    results = reattach(ws)
    summary: dict[str, Any] = {}
    for source, result in results.items():
        summary[f"{source} links"] = result["relationships"]
        summary[f"{source} registry-only accounts new"] = result["registry_only_created"]
        summary[f"{source} discrepancies"] = sum(result["discrepancies"].values())
    return summary or {"sources": 0}


STAGE = BuildStage("registry", "attach registry records to the accounts (new CRM accounts, merges) before the "
                   "hierarchy", run)
