"""Sign in and out."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from accountree.api import auth
from accountree.api.deps import SESSION_COOKIE, EngineDep, client_ip, identify, server_of
from accountree.api.server import audit
from accountree.web.pages import csrf_token, set_session, templates

router = APIRouter()


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, engine: EngineDep, next: str = "/") -> Response:
    return templates.TemplateResponse(request, "login.html", {"next": _safe_next(next),
                                                              "no_user": auth.user_count(engine) == 0})


@router.post("/login")
async def login(request: Request, username: Annotated[str, Form(max_length=64)],
                password: Annotated[str, Form(max_length=1000)], next: Annotated[str, Form()] = "/") -> Response:
    """Async: the password is checked on the hashing pool, not on a request thread."""
    server = server_of(request)
    ip = client_ip(request)
    try:
        principal = await auth.login_async(server, username, password, ip)
    except (auth.AuthenticationError, auth.TooManyAttemptsError) as err:
        return templates.TemplateResponse(request, "login.html", {"error": err.message, "username": username,
                                                                  "next": _safe_next(next)},
                                          status_code=err.http_status)

    def start() -> str:
        with server.engine() as engine, engine.transaction():
            audit(engine, principal, "login", "user", principal.username, None, ip)
            return auth.new_session(engine, principal.username, ip)

    cookie = await run_in_threadpool(start)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session(response, request, cookie)
    return response


@router.post("/logout")
def logout(request: Request, engine: EngineDep, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Ends the session on the server (the cookie is then worthless, even if kept); needs the
    page's CSRF token, so another site cannot sign a user out."""
    principal = identify(request, engine)
    response = RedirectResponse("/login", status_code=303)
    if principal is not None:
        expected = csrf_token(server_of(request).secret, request, principal)
        if not hmac.compare_digest(csrf, expected):
            return RedirectResponse("/", status_code=303)
        with engine.transaction():
            auth.end_session(engine, request.cookies.get(SESSION_COOKIE))
            audit(engine, principal, "logout", "user", principal.username, None, client_ip(request))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
