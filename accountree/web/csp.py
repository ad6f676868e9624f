"""The Content-Security-Policy of every response the server sends (pages, API, static files).

Scripts only from this server's /static (vendored ECharts, htmx, Swagger UI, ReDoc; no inline script, no
inline event handler, no eval), nothing embeddable (`object-src 'none'`), no `<base>` rewriting,
no framing. Styles allow inline `style` attributes: ECharts draws its tooltips with them. Page
data reaches the scripts as `<script type="application/json">` blocks, which are not executed.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
          "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
          "frame-ancestors 'none'; form-action 'self'")


class ContentSecurityPolicy:
    """ASGI middleware: adds the header unless the response already set one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_policy)


def install(app: FastAPI) -> None:
    app.add_middleware(ContentSecurityPolicy)
