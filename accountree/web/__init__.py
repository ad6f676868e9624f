"""The dashboard: server-rendered pages over the API's read models, ECharts and htmx vendored."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>accountree API</title>
<link rel="stylesheet" href="{css}"><link rel="icon" href="{icon}" type="image/svg+xml"></head>
<body><div id="swagger-ui" data-spec="{spec}"></div>
<script src="{bundle}"></script><script src="{init}"></script></body></html>
"""
REDOC_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>accountree API reference</title>
<link rel="icon" href="{icon}" type="image/svg+xml"></head>
<body><div id="redoc-container" data-spec="{spec}"></div><script type="module" src="{init}"></script></body></html>
"""


def install(app: FastAPI) -> None:
    from accountree.web import (
        csp,
        views_accounts,
        views_auth,
        views_groups,
        views_leads,
        views_portfolio,
        views_quality,
    )
    from accountree.web.pages import LoginRequired, login_redirect, static

    csp.install(app)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")

    @app.get("/api/v1/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:  # Swagger UI vendored under /static: renders offline, under the CSP
        return HTMLResponse(DOCS_PAGE.format(
            css=static("vendor/swagger-ui/swagger-ui.css"), icon=static("favicon.svg"), spec=app.openapi_url,
            bundle=static("vendor/swagger-ui/swagger-ui-bundle.js"), init=static("api_docs.js")))

    @app.get("/api/v1/redoc", include_in_schema=False)
    def api_reference() -> HTMLResponse:  # ReDoc vendored under /static likewise
        return HTMLResponse(REDOC_PAGE.format(icon=static("favicon.svg"), spec=app.openapi_url,
                                              init=static("api_redoc.js")))

    @app.get("/redoc", include_in_schema=False)
    def redoc_redirect() -> RedirectResponse:
        return RedirectResponse("/api/v1/redoc")

    for module in (views_auth, views_portfolio, views_groups, views_accounts, views_quality, views_leads):
        app.include_router(module.router, include_in_schema=False)
    from accountree.web import views_abm  # the ABM page (accountree.orchestration)
    app.include_router(views_abm.router, include_in_schema=False)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, err: LoginRequired):
        return login_redirect(err)
