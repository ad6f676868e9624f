"""The FastAPI application: routers under /api/v1, the dashboard, one JSON error shape.

Errors are `{"error": ..., "message": ..., "hint"?: ...}` with the status of the
`AccountreeError` subclass; anything unexpected is logged and answered as a 500 without a trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from accountree.api.middleware import SecurityMiddleware
from accountree.api.routes import abm as abm_routes
from accountree.api.routes import accounts, admin, groups, leads, portfolio, quality
from accountree.api.server import Server, is_write_conflict  # noqa: F401 - re-exported
from accountree.errors import AccountreeError
from accountree.store import Workspace

log = logging.getLogger("accountree.api")
API_PREFIX = "/api/v1"
HTTP_ERRORS = {401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError",
               405: "MethodNotAllowed", 413: "PayloadTooLarge"}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _error(request: Request, status: int, body: dict) -> Response:
    if _wants_html(request):
        from accountree.web.pages import error_page

        return error_page(request, status, body)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI, hsts: bool = False) -> None:
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

    # Anything else (a write conflict, an unexpected error) is answered by the middleware, before
    # Starlette's last-resort handler would re-raise it to the ASGI server.
    app.add_middleware(SecurityMiddleware, hsts=hsts)


class TidyJSONResponse(JSONResponse):
    """JSON with money rounded to the cent and without float noise (`accountree.numbers.tidy`)."""

    def render(self, content: Any) -> bytes:
        from accountree.numbers import tidy

        return super().render(tidy(content))


def create_app(ws: Workspace, *, secure_cookies: bool = False, web: bool = True,
               trusted_proxies: tuple[str, ...] | list[str] = ()) -> FastAPI:
    """The application serving one open workspace (kept open for the server's life)."""
    app = FastAPI(
        title="accountree",
        version="1",
        summary="B2B account intelligence: hierarchies, KPI roll-ups, ICP scores, key accounts.",
        description="Authenticate with `Authorization: Bearer <token>` (`accountree user token NAME`). "
                    "Every read is scoped to the caller's seller business unit. Errors are "
                    '`{"error", "message", "hint"?}`.',
        openapi_url=f"{API_PREFIX}/openapi.json", redoc_url=None, default_response_class=TidyJSONResponse,
        docs_url=None if web else f"{API_PREFIX}/docs",  # the dashboard serves a vendored Swagger UI there
    )
    try:
        app.state.server = Server(ws, secure_cookies=secure_cookies, trusted_proxies=tuple(trusted_proxies))
    except ValueError as err:
        from accountree.errors import ConfigError

        raise ConfigError(f"a trusted proxy is not an address or network: {err}",
                          hint="Give addresses or networks, e.g. --trusted-proxy 10.0.0.5 or 10.0.0.0/24.") from err
    app.router.on_shutdown.append(app.state.server.close)  # the PostgreSQL pool's connections
    install_error_handlers(app, hsts=secure_cookies)
    for module in (accounts, groups, portfolio, quality, admin, leads):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(abm_routes.router, prefix=API_PREFIX)  # multi-BU ABM (accountree.orchestration)
    if web:
        from accountree.web import install

        install(app)
    return app
