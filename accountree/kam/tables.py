"""The KAM derived tables: their columns (a public contract for exports and the API) and how a
build rewrites them (from SQL steps, `steps.py`, or from rows computed in Python)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from accountree.store import Workspace

_TYPES = {"text": (pa.string(), "VARCHAR"), "num": (pa.float64(), "DOUBLE"), "int": (pa.int64(), "BIGINT"),
          "date": (pa.date32(), "DATE"), "bool": (pa.bool_(), "BOOLEAN")}

TABLES: dict[str, dict[str, str]] = {
    "kam_accounts": {
        "scope": "text", "account_id": "text", "name": "text", "owner": "text", "group_head_id": "text",
        "potential_3y": "num", "potential_source": "text", "relationship": "text", "upside_3y": "num", "tier": "int",
        "revenue_cy": "num", "revenue_py1": "num", "revenue_12m": "num", "wallet": "num", "share_of_wallet": "num", "nrr": "num",
        "retention": "num", "nrr_now": "num", "nrr_prev": "num", "nrr_period": "text", "entities_penetrated": "int", "entities_total": "int", "effort": "num",
        "cycle_days": "num", "open_deals": "int", "roles_missing": "text", "icp_distance": "num",
        "effort_cycle": "num", "effort_open_deals": "num", "effort_stakeholders": "num", "effort_icp": "num",
        "quadrant": "text", "recommendation": "text",
        "kam_unit": "bool", "kam_unit_id": "text", "kam_tier": "int", "wallet_cell": "text", "wallet_peers": "int",
    },
    "kam_stakeholders": {
        "contact_id": "text", "account_id": "text", "name": "text", "title": "text", "buying_role": "text",
        "reports_to": "text", "strength": "text", "last_interaction": "date", "interactions": "int",
        "sentiment": "text", "start_date": "date", "end_date": "date", "left_company": "bool",
    },
    "kam_meddic": {
        "deal_id": "text", "account_id": "text", "stage": "text", "amount_rc": "num", "owner": "text",
        "metrics": "text", "economic_buyer": "text", "decision_criteria": "text", "decision_process": "text",
        "identify_pain": "text", "champion": "text", "economic_buyer_source": "text", "champion_source": "text",
        "completeness": "int", "gaps": "text",
    },
    "kam_alerts": {
        "alert_id": "text", "account_id": "text", "kind": "text", "subject": "text", "reason": "text",
        "created_at": "date", "owner": "text", "detected_at": "date", "contact_id": "text",
        "severity": "text", "unit_id": "text", "unit_tier": "int", "value": "num", "priority": "num",
    },
}


def create_table(ws: Workspace, name: str) -> None:
    """Drop and recreate `name`, empty, with its declared columns (inside the caller's transaction)."""
    columns = TABLES[name]
    table = exp.table_(name, quoted=True)
    ws.engine.execute(exp.Drop(tables=[table], kind="TABLE", exists=True))
    defs = [exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build(_TYPES[t][1]))
            for c, t in columns.items()]
    ws.engine.execute(exp.Create(this=exp.Schema(this=table, expressions=defs), kind="TABLE"))


def cast_select(name: str, query: str) -> exp.Select:
    """`SELECT CAST(c AS type) AS c, …` of `query` (DuckDB-dialect text) in the declared columns of
    `name`: a table built by the engine has the same columns and types as one written from rows."""
    inner = sqlglot.parse_one(query, read="duckdb").subquery("q")
    return exp.select(*[exp.cast(exp.column(c, table="q", quoted=True), exp.DataType.build(_TYPES[t][1])).as_(c, quoted=True)
                        for c, t in TABLES[name].items()]).from_(inner)


def write_table(ws: Workspace, name: str, rows: list[dict[str, Any]]) -> int:
    """Drop and recreate `name` with its declared columns, then load `rows` (inside the caller's transaction)."""
    columns = TABLES[name]
    create_table(ws, name)
    schema = pa.schema([(c, _TYPES[t][0]) for c, t in columns.items()])
    data = pa.Table.from_arrays([pa.array([r.get(c) for r in rows], type=_TYPES[t][0]) for c, t in columns.items()],
                                schema=schema)  # column by column: no dict per row
    return ws.engine.insert_arrow(name, data)
