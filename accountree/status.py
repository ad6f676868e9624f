"""What is in a workspace: the answer of `accountree status` and of the API's status endpoint."""

from __future__ import annotations

from typing import Any

from accountree.build import imports_since_build
from accountree.ingest.contract import TABLES
from accountree.store import Workspace

COMPUTED_TABLES = ("hierarchy", "hierarchy_issues", "account_kpis", "group_kpis", "scores", "kam")


def workspace_status(ws: Workspace) -> dict[str, Any]:
    engine = ws.engine
    tables = {t: int(engine.scalar(f"SELECT count(*) FROM {t}")) for t in TABLES}  # noqa: S608 - names from the contract
    computed = {t: int(engine.scalar(f"SELECT count(*) FROM {t}")) for t in COMPUTED_TABLES if engine.table_exists(t)}  # noqa: S608
    last = engine.fetch_dicts(
        "SELECT import_id, max(imported_at) AS imported_at, max(imported_by) AS imported_by, sum(rows) AS rows, "
        "sum(inserted) AS inserted, sum(updated) AS updated, count(*) AS files FROM imports "
        "GROUP BY import_id ORDER BY import_id DESC LIMIT 1"
    )
    return {
        "workspace": ws.display_location,
        "engine": engine.name,
        "schema_version": ws.schema_version,
        "reporting_currency": ws.reporting_currency,
        "tables": tables,
        "computed": computed,
        "imports": int(engine.scalar("SELECT count(DISTINCT import_id) FROM imports") or 0),
        "last_import": last[0] if last else None,
        # imports after the last full `accountree build` (None: never built): the computed tables predate them
        "imports_since_build": imports_since_build(ws),
    }
