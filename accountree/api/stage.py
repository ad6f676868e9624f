"""The `api` build stage, last in the build: the read model of the REST API and the dashboard
(`accountree.api.readmodel`) — account 360s, BU records, typed record lists and tree nodes,
indexed by account."""

from __future__ import annotations

from typing import Any

from accountree.api import readmodel
from accountree.build import BuildOptions, BuildStage
from accountree.store import Workspace


def run(ws: Workspace, options: BuildOptions) -> dict[str, Any]:
    return readmodel.build(ws)


# the look-up indexes are made once the build has committed (`readmodel.ensure_indexes`)
STAGE = BuildStage("api", "API read model: account 360s, BU records, record lists and tree nodes, indexed by account",
                   run, after=readmodel.prepare_reads)
