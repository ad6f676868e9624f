"""Every response: security headers, and no unexpected error left to the ASGI server.

One pure ASGI middleware, inside Starlette's `ServerErrorMiddleware`:

- adds the security headers (`SECURITY_HEADERS`; a page or API answer with data also gets
  `Cache-Control: no-store`, static assets keep their own caching);
- answers an exception no handler took (a write conflict: 409, anything else: 500) itself, as the
  JSON error shape (or the HTML error page), without a traceback in the log. Left to Starlette, the
  exception was re-raised after the answer: the ASGI server logged it as a crash and dropped the
  keep-alive connection without `Connection: close`, so the client's retry met a reset connection.
"""

from __future__ import annotations

import logging
import uuid

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("accountree.api")

# Added to every response unless the endpoint set them. A Content-Security-Policy is one more line.
SECURITY_HEADERS: dict[str, str] = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Paths whose answers hold no workspace data and may be cached by the browser.
CACHEABLE_PREFIXES = ("/static/",)


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts  # behind HTTPS (`--secure-cookies`): tell browsers to stay on HTTPS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        cacheable = scope.get("path", "").startswith(CACHEABLE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if not cacheable:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as err:
            if started:  # part of the answer is out: nothing else can be said on this connection
                log.error("error after the response started on %s: %s", scope.get("path"), type(err).__name__)
                raise
            response = unexpected_response(Request(scope, receive), err)
            await response(scope, receive, send_with_headers)


def unexpected_response(request: Request, err: Exception):
    from accountree.api.app import _error
    from accountree.api.server import is_write_conflict

    if is_write_conflict(err):  # two requests saved the same rows at once: the later one wrote nothing
        log.info("write conflict on %s %s (answered 409)", request.method, request.url.path)
        return _error(request, 409, {
            "error": "WriteConflict",
            "message": "another change to the same records was being saved at the same moment; nothing was written",
            "hint": "Retry the request."})
    ref = uuid.uuid4().hex[:12]
    log.error("unexpected error %s on %s %s: %s: %s", ref, request.method, request.url.path, type(err).__name__, err)
    log.debug("error %s", ref, exc_info=err)  # the traceback only when debugging
    return _error(request, 500, {"error": "InternalError",
                                 "message": f"an unexpected error occurred; it has been logged (ref {ref})",
                                 "hint": "Retry; if it persists, report it with the server log."})
