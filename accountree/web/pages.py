"""Dashboard plumbing: templates, formatting filters, the session login and the page context.

Pages are server-rendered with Jinja2 and read through the same `ScopedReader` as the API, so a
page cannot show what the API would hide. Writes from pages (htmx) carry a CSRF token derived
from the session (a new one at each sign-in); the session cookie holds a random secret whose hash
the server keeps (`api_sessions`), HttpOnly and SameSite=Lax.
"""

from __future__ import annotations

import hmac
import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from accountree.api.access import Principal, ScopedReader
from accountree.api.deps import SESSION_COOKIE, Context, EngineDep, identify, make_context, server_of
from accountree.errors import AccountreeError, PermissionDeniedError

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
_STATIC_VERSION = str(int(max(p.stat().st_mtime for p in (HERE / "static").rglob("*") if p.is_file())))


def static(path: str) -> str:
    return f"/static/{path}?v={_STATIC_VERSION}"


_ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def fmt(value: Any) -> str:
    """Numbers with thin grouping, money-like floats rounded, dates ISO, None as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    if isinstance(value, (float, Decimal)):
        value = float(value)
        return f"{value:,.0f}".replace(",", "\u202f") if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)[:300]
    if isinstance(value, str) and _ISO_TIMESTAMP.match(value):  # a timestamp read as JSON (account 360)
        return value[:16].replace("T", " ")
    return str(value)


def money(value: Any, currency: str = "€") -> str:
    """Short money for KPI cards: 1.2 M€, 340 k€."""
    if value is None:
        return "—"
    v = float(value)
    for size, suffix in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if abs(v) >= size:
            return f"{v / size:.1f}{suffix}{currency}".replace(".0 ", " ")
    return f"{v:.0f} {currency}"


def to_json(value: Any) -> Markup:
    """JSON for a <script> block: safe to embed (no `</script>` break-out), not HTML-escaped."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def page_data(value: Any) -> Markup:
    """The page's data for static/pages.js: a JSON block the browser never executes (CSP: no inline script)."""
    return Markup('<script type="application/json" id="page-data">') + to_json(value) + Markup("</script>")


templates.env.globals["static"] = static
templates.env.globals["page_data"] = page_data
templates.env.filters["fmt"] = fmt
templates.env.filters["money"] = money
templates.env.filters["js"] = to_json


class LoginRequired(Exception):
    """The page needs a signed-in user; the handler sends the browser to /login."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def csrf_token(secret: bytes, request: Request, principal: Principal) -> str:
    """The CSRF token of the request's session (a new one at every sign-in); a request signed with
    an API token (never sent by a browser on its own) gets one derived from the user name."""
    from accountree.api.auth import csrf_token as session_csrf

    key = getattr(request.state, "session_key", None) or f"bearer|{principal.username}"
    return session_csrf(secret, key)


@dataclass
class PageContext:
    request: Request
    principal: Principal
    reader: ScopedReader
    ctx: Context

    def render(self, template: str, nav: str, title: str, **data: Any) -> HTMLResponse:
        server = server_of(self.request)
        return templates.TemplateResponse(self.request, template, {
            "user": self.principal, "nav": nav, "title": title, "csrf": csrf_token(server.secret, self.request, self.principal),
            **data})


def page(request: Request, engine: EngineDep) -> PageContext:
    principal = identify(request, engine)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    ctx = make_context(request, engine, principal)
    return PageContext(request, principal, ctx.reader, ctx)


Page = Annotated[PageContext, Depends(page)]


def page_writer(request: Request, pc: Page) -> PageContext:
    """A write from a page: same-origin htmx request with the session's CSRF token."""
    expected = csrf_token(server_of(request).secret, request, pc.principal)
    if not hmac.compare_digest(request.headers.get("x-csrf-token", ""), expected):
        raise PermissionDeniedError("missing or wrong CSRF token", hint="Reload the page and try again.")
    pc.principal.require_write()
    return pc


PageWriter = Annotated[PageContext, Depends(page_writer)]


def login_redirect(err: LoginRequired) -> Response:
    return RedirectResponse(f"/login?next={quote(err.next_url, safe='/')}", status_code=303)


def error_page(request: Request, status: int, body: dict) -> Response:
    """An HTML error for a browser; unauthenticated visitors go to the login page instead."""
    if status == 401:
        return login_redirect(LoginRequired(request.url.path))
    server = server_of(request)
    with server.engine() as engine:
        try:
            principal = identify(request, engine)
        except AccountreeError:
            principal = None
    if principal is None:
        return login_redirect(LoginRequired("/"))
    titles = {403: "Not allowed", 404: "Not found", 409: "Not computed yet", 429: "Slow down"}
    return templates.TemplateResponse(request, "error.html", {
        "user": principal, "nav": "", "title": titles.get(status, "Something went wrong"), "error": body,
        "csrf": csrf_token(server.secret, request, principal)}, status_code=status)


def set_session(response: Response, request: Request, cookie: str) -> None:
    """The session cookie (from `auth.new_session`): HttpOnly, SameSite=Lax, Secure behind HTTPS."""
    from accountree.api.auth import SESSION_SECONDS

    server = server_of(request)
    response.set_cookie(SESSION_COOKIE, cookie, max_age=SESSION_SECONDS,
                        httponly=True, samesite="lax", secure=server.secure_cookies, path="/")
