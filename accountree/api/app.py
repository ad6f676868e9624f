"""The FastAPI application: routers under /api/v1, the dashboard, one JSON error shape.

Errors are `{"error": ..., "message": ..., "hint"?: ...}` with the status of the
`AccountreeError` subclass; anything unexpected is logged and answered as a 500 without a trace.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from accountree.api.routes import accounts, admin, groups, leads, portfolio, quality
from accountree.api.server import Server
from accountree.errors import AccountreeError
from accountree.store import Workspace

log = logging.getLogger("accountree.api")
API_PREFIX = "/api/v1"
HTTP_ERRORS = {401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError",
               405: "MethodNotAllowed", 413: "PayloadTooLarge"}


def is_write_conflict(err: BaseException) -> bool:
    """A concurrent-write conflict of the engine (DuckDB's optimistic transactions, PostgreSQL's
    serialisation and lock failures): the transaction was rolled back and a retry can succeed."""
    try:
        import duckdb

        if isinstance(err, duckdb.TransactionException) and "conflict" in str(err).lower():
            return True
    except ImportError:  # pragma: no cover - duckdb is a dependency
        pass
    try:
        from psycopg import errors as pg

        return isinstance(err, (pg.SerializationFailure, pg.DeadlockDetected, pg.LockNotAvailable))
    except ImportError:  # pragma: no cover
        return False


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _error(request: Request, status: int, body: dict) -> Response:
    if _wants_html(request):
        from accountree.web.pages import error_page

        return error_page(request, status, body)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AccountreeError)
    async def user_error(request: Request, err: AccountreeError) -> Response:
        return _error(request, err.http_status, err.to_dict())

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in err.errors()]
        return _error(request, 422, {"error": "ValidationError", "message": "the request is invalid: " + "; ".join(problems),
                                     "problems": problems})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> Response:
        name = HTTP_ERRORS.get(err.status_code, "HTTPError")
        message = err.detail if isinstance(err.detail, str) else "request failed"
        if err.status_code == 404:
            message = f"nothing at {request.url.path}"
        return _error(request, err.status_code, {"error": name, "message": message})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> Response:
        if is_write_conflict(err):  # two requests saved the same rows at once: the later one wrote nothing
            return _error(request, 409, {
                "error": "WriteConflict",
                "message": "another change to the same records was being saved at the same moment; nothing was written",
                "hint": "Retry the request."})
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(request, 500, {"error": "InternalError",
                                     "message": "an unexpected error occurred; it has been logged",
                                     "hint": "Retry; if it persists, report it with the server log."})


def create_app(ws: Workspace, *, secure_cookies: bool = False, web: bool = True) -> FastAPI:
    """The application serving one open workspace (kept open for the server's life)."""
    app = FastAPI(
        title="accountree",
        version="1",
        summary="B2B account intelligence: hierarchies, KPI roll-ups, ICP scores, key accounts.",
        description="Authenticate with `Authorization: Bearer <token>` (`accountree user token NAME`). "
                    "Every read is scoped to the caller's seller business unit. Errors are "
                    '`{"error", "message", "hint"?}`.',
        openapi_url=f"{API_PREFIX}/openapi.json", docs_url=f"{API_PREFIX}/docs", redoc_url=None,
    )
    app.state.server = Server(ws, secure_cookies=secure_cookies)
    install_error_handlers(app)
    for module in (accounts, groups, portfolio, quality, admin, leads):
        app.include_router(module.router, prefix=API_PREFIX)
    if web:
        from accountree.web import install

        install(app)
    return app
