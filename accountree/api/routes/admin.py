"""Workspace status, exports, users and the audit log; tokens for API clients."""

from __future__ import annotations

import io
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from accountree.api import auth
from accountree.api.deps import AdminCtx, Ctx, client_ip, server_of
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
    if name == "imports" and ctx.principal.role != "admin":
        table = _without_server_details(table)
    if format == "json":
        body = json.dumps(table.to_pylist(), default=str, ensure_ascii=False).encode()
        return StreamingResponse(iter([body]), media_type="application/json")
    buf = io.BytesIO()
    if table.num_columns:
        pacsv.write_csv(table if raw else neutralise(table), buf)
    return StreamingResponse(iter([buf.getvalue()]), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _without_server_details(table):
    """The import history for non-admins: file names without the server's folders, no OS user."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for column in ("bundle", "file"):
        if column in table.column_names:
            i = table.column_names.index(column)
            table = table.set_column(i, column, pc.replace_substring_regex(
                table[column].cast(pa.string()), pattern=r"^.*[/\\]", replacement=""))
    if "imported_by" in table.column_names:
        i = table.column_names.index("imported_by")
        table = table.set_column(i, "imported_by", pa.nulls(table.num_rows, pa.string()))
    return table


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
async def token(body: Credentials, request: Request) -> dict[str, Any]:
    server = server_of(request)
    ip = client_ip(request)
    principal = await auth.login_async(server, body.username, body.password, ip)

    def create() -> str:
        from accountree.api.server import audit

        with server.engine() as engine, engine.transaction():
            secret = auth.new_token(server.workspace_for(engine), principal.username, body.label)
            audit(engine, principal, "create_token", "user", principal.username, None, ip)
            return secret

    return {"token": await run_in_threadpool(create), "username": principal.username, "role": principal.role}


# -- user management (admin) ------------------------------------------------------------------
UserName = Annotated[str, Path(min_length=1, max_length=64)]


class NewPassword(BaseModel):
    password: str = Field(min_length=8, max_length=1000)


def _managed(ctx: AdminCtx, result: dict[str, Any]) -> dict[str, Any]:
    ctx.server.tokens.clear()  # a revoked token or a disabled user stops working at once
    return result


@router.put("/users/{username}/password", summary="Set a user's password; their sessions end (admin)",
            tags=["users"])
def user_password(username: UserName, body: NewPassword, ctx: AdminCtx) -> dict[str, Any]:
    return _managed(ctx, auth.set_password(ctx.ws, username, body.password, ctx.principal.username,
                                           ctx.principal.role, ctx.ip))


@router.post("/users/{username}/disable", summary="Disable a user: sessions end, tokens stop working (admin)",
             tags=["users"])
def user_disable(username: UserName, ctx: AdminCtx) -> dict[str, Any]:
    return _managed(ctx, auth.set_disabled(ctx.ws, username, True, ctx.principal.username, ctx.principal.role, ctx.ip))


@router.post("/users/{username}/enable", summary="Enable a disabled user (admin)", tags=["users"])
def user_enable(username: UserName, ctx: AdminCtx) -> dict[str, Any]:
    return _managed(ctx, auth.set_disabled(ctx.ws, username, False, ctx.principal.username, ctx.principal.role, ctx.ip))


@router.post("/users/{username}/revoke-tokens", summary="Revoke a user's API tokens and end their sessions (admin)",
             tags=["users"])
def user_revoke_tokens(username: UserName, ctx: AdminCtx) -> dict[str, Any]:
    return _managed(ctx, auth.revoke_tokens(ctx.ws, username, ctx.principal.username, ctx.principal.role, ctx.ip))


@router.delete("/users/{username}", summary="Delete a user, their sessions and tokens (admin)", tags=["users"])
def user_delete(username: UserName, ctx: AdminCtx) -> dict[str, Any]:
    return _managed(ctx, auth.delete_user(ctx.ws, username, ctx.principal.username, ctx.principal.role, ctx.ip))
