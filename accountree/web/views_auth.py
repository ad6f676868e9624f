"""Sign in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accountree.api import auth
from accountree.api.deps import SESSION_COOKIE, EngineDep, client_ip, server_of
from accountree.api.server import audit
from accountree.web.pages import set_session, templates

router = APIRouter()


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, engine: EngineDep, next: str = "/") -> Response:
    return templates.TemplateResponse(request, "login.html", {"next": _safe_next(next),
                                                              "no_user": auth.user_count(engine) == 0})


@router.post("/login")
def login(request: Request, engine: EngineDep, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=1000)], next: Annotated[str, Form()] = "/") -> Response:
    server = server_of(request)
    try:
        principal = auth.login(engine, server.limiter, username, password, client_ip(request))
    except (auth.AuthenticationError, auth.TooManyAttemptsError) as err:
        status = err.http_status
        return templates.TemplateResponse(request, "login.html", {"error": err.message, "username": username,
                                                                  "next": _safe_next(next)}, status_code=status)
    audit(engine, principal, "login", "user", principal.username, None, client_ip(request))
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session(response, request, principal.username)
    return response


@router.get("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
