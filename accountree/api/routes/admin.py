"""Workspace status, exports, users and the audit log; tokens for API clients."""

from __future__ import annotations

import io
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from accountree.api import auth
from accountree.api.deps import AdminCtx, Ctx, EngineDep, client_ip, server_of
from accountree.api.routes.params import PageNo, PageSize

router = APIRouter(tags=["workspace"])


@router.get("/status", summary="What is in the workspace")
def status(ctx: Ctx) -> dict[str, Any]:
    info = {"engine": ctx.engine.name, "computed": {}}
    for table in ("hierarchy", "hierarchy_issues", "account_kpis", "group_kpis", "whitespace", "cross_sell", "scores",
                  "kam", "alerts", "duplicate_candidates"):
        info["computed"][table] = ctx.reader.has(table)
    info["accounts"] = int(ctx.reader.scalar("SELECT count(*) FROM accounts") or 0)
    # account 360s and trees come from the build's read model while it matches the workspace;
    # after an import or edit made outside the server they are read live (slower) until the next build
    info["read_model"] = {"current": ctx.reader.read_model,
                          "hint": None if ctx.reader.read_model else "Run `accountree build` for fast account 360s."}
    info["user"] = {"username": ctx.principal.username, "role": ctx.principal.role, "bu_id": ctx.principal.bu_id}
    return info


@router.get("/exports", summary="Exportable tables")
def exports(ctx: Ctx) -> dict[str, Any]:
    from accountree.exports import all_exports

    return {"items": [{"name": e.name, "description": e.description} for e in all_exports().values()]}


@router.get("/exports/{name}", summary="Export a table as CSV or JSON (BU-scoped like every read)")
def export(name: Annotated[str, Path(min_length=1, max_length=100)], ctx: Ctx,
           format: Literal["csv", "json"] = "csv",
           raw: Annotated[bool, Query(description="CSV: keep text starting with = + - @ as is (machine use); "
                                                  "by default such cells get a leading ' so spreadsheets never run them")] = False,
           ) -> StreamingResponse:
    import pyarrow.csv as pacsv

    from accountree.export_formats import neutralise
    from accountree.exports import export_query

    ws = ctx.server.workspace_for(ctx.engine)
    table = ctx.reader.fetch_arrow(export_query(ws, name))
    if format == "json":
        body = json.dumps(table.to_pylist(), default=str, ensure_ascii=False).encode()
        return StreamingResponse(iter([body]), media_type="application/json")
    buf = io.BytesIO()
    if table.num_columns:
        pacsv.write_csv(table if raw else neutralise(table), buf)
    return StreamingResponse(iter([buf.getvalue()]), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/users", summary="Users (admin)")
def users(ctx: AdminCtx) -> dict[str, Any]:
    return {"items": auth.list_users(ctx.engine)}


@router.get("/audit", summary="Audit log of every write (admin)")
def audit_log(ctx: AdminCtx, page: PageNo = 1, page_size: PageSize = 100) -> dict[str, Any]:
    total = int(ctx.engine.scalar("SELECT count(*) FROM audit_log") or 0)
    rows = ctx.engine.fetch_dicts("SELECT * FROM audit_log ORDER BY occurred_at DESC, audit_id LIMIT ? OFFSET ?",
                                  [page_size, (page - 1) * page_size])
    return {"items": rows, "total": total, "page": page, "page_size": page_size}


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)
    label: str | None = Field(default=None, max_length=200)


@router.post("/auth/token", summary="Exchange a user name and password for a new API token (rate-limited)",
             tags=["auth"])
def token(body: Credentials, request: Request, engine: EngineDep) -> dict[str, Any]:
    server = server_of(request)
    principal = auth.login(engine, server.limiter, body.username, body.password, client_ip(request))
    ws = server.workspace_for(engine)
    secret = auth.new_token(ws, principal.username, body.label)
    from accountree.api.server import audit

    audit(engine, principal, "create_token", "user", principal.username, None, client_ip(request))
    return {"token": secret, "username": principal.username, "role": principal.role}
