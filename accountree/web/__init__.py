"""The dashboard: server-rendered pages over the API's read models, ECharts and htmx vendored."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles


def install(app: FastAPI) -> None:
    from accountree.web import (
        views_accounts,
        views_auth,
        views_groups,
        views_leads,
        views_portfolio,
        views_quality,
    )
    from accountree.web.pages import LoginRequired, login_redirect

    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    for module in (views_auth, views_portfolio, views_groups, views_accounts, views_quality, views_leads):
        app.include_router(module.router, include_in_schema=False)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, err: LoginRequired):
        return login_redirect(err)
