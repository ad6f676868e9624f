"""What an endpoint receives: the caller, a scoped reader, and the request's engine for writes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from accountree.api.access import Principal, ScopedReader
from accountree.api.auth import AuthenticationError, session_principal
from accountree.api.reads.common import FeatureUnavailableError, needs_build
from accountree.api.server import Server, audit
from accountree.store.engine import Engine

__all__ = ["AdminCtx", "Context", "Ctx", "EngineDep", "FeatureUnavailableError", "WriterCtx", "needs_build"]

SESSION_COOKIE = "accountree_session"


def server_of(request: Request) -> Server:
    return request.app.state.server


async def request_engine(request: Request) -> AsyncIterator[Engine]:
    """The request's engine. On PostgreSQL a request first waits for one of the pool's connections
    in the event loop (`Server.request_slots`), then borrows it on a thread: a request holding a
    connection and waiting for a thread never meets all threads blocked waiting for connections."""
    server = server_of(request)
    slots = server.request_slots()
    async with slots if slots is not None else contextlib.nullcontext():
        cm = server.engine()
        engine = await run_in_threadpool(cm.__enter__)
        try:
            yield engine
        except BaseException as err:
            await _exit(cm, err)
            raise
        else:
            await _exit(cm, None)


async def _exit(cm, err: BaseException | None) -> None:
    # without the request threads' limit: giving a connection back never waits for a thread
    await anyio.to_thread.run_sync(cm.__exit__, type(err) if err else None, err, err.__traceback__ if err else None,
                                   limiter=anyio.CapacityLimiter(1))


EngineDep = Annotated[Engine, Depends(request_engine)]


def client_ip(request: Request) -> str:
    """The caller's address: the connection's peer; behind a trusted proxy (`serve
    --trusted-proxy`, none by default) the last address of `X-Forwarded-For` that is not a trusted
    proxy. Anyone else's `X-Forwarded-For` is ignored: it could be forged."""
    peer = request.client.host if request.client else "unknown"
    server = server_of(request)
    if not server.trusted(peer):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not server.trusted(hop):
            return hop[:64]
    return peer


def identify(request: Request, engine: Engine) -> Principal | None:
    """The caller from `Authorization: Bearer <token>`, else from the session cookie."""
    server = server_of(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be `Bearer <token>`")
        principal = server.tokens.principal(engine, token.strip())
        if principal is None:
            raise AuthenticationError("unknown or revoked API token",
                                      hint="Create one with `accountree user token NAME`.")
        return principal
    found = session_principal(engine, request.cookies.get(SESSION_COOKIE))
    if found is None:
        return None
    request.state.session_key = found[1]  # the page's CSRF token is derived from it
    return found[0]


@dataclass
class Context:
    """One request: who calls, what they may read, and how to write (with an audit record)."""

    principal: Principal
    reader: ScopedReader
    engine: Engine
    server: Server
    ip: str
    stamp: str = ""  # the workspace's state when the request started: part of every cache key

    @property
    def ws(self):
        """A Workspace on this request's engine, for capability service functions."""
        return self.server.workspace_for(self.engine)

    def audit(self, action: str, target_type: str | None, target_id: str | None, details: dict | None = None) -> None:
        """Record a write; a write also makes every cached read stale."""
        audit(self.engine, self.principal, action, target_type, target_id, details, self.ip)
        self.server.changed()

    def cached(self, name: str, args: tuple, compute):
        return self.server.cached(self.principal, self.stamp, name, args, compute)

    def cached_json(self, name: str, args: tuple, compute):
        return self.server.cached_json(self.principal, self.stamp, name, args, compute)


def make_context(request: Request, engine: Engine, principal: Principal) -> Context:
    """The request's context: the reader uses the build's read model while it matches the workspace."""
    server = server_of(request)
    fresh, stamp = server.model_state(engine)
    reader = ScopedReader(engine, principal, server.catalog, read_model=fresh)
    return Context(principal, reader, engine, server, client_ip(request), stamp)


def context(request: Request, engine: EngineDep) -> Context:
    principal = identify(request, engine)
    if principal is None:
        raise AuthenticationError("authentication required",
                                  hint="Send `Authorization: Bearer <token>` (create one with `accountree user token NAME`).")
    return make_context(request, engine, principal)


Ctx = Annotated[Context, Depends(context)]


def writer(ctx: Ctx) -> Context:
    ctx.principal.require_write()
    return ctx


def admin(ctx: Ctx) -> Context:
    ctx.principal.require_admin()
    return ctx


WriterCtx = Annotated[Context, Depends(writer)]
AdminCtx = Annotated[Context, Depends(admin)]
