"""Users, passwords, API tokens, web sessions and the login limits.

Passwords are argon2id hashes (argon2-cffi), computed by a small worker pool (`Hashing`) so a burst
of logins cannot take every core from the requests of signed-in users. An API token is a random
secret shown once; only its sha256 is stored. A web session is a random secret in an HttpOnly,
SameSite=Lax cookie; the server keeps its sha256 in `api_sessions` and looks it up on every
request: signing out, a password change, disabling or deleting the user end it at once (a restart
too keeps it ended). Failed logins are limited per (user, address), per user, per address and in
total (`LoginLimiter`), and recorded in the audit log.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from accountree.api.access import ROLES, Principal
from accountree.errors import AccountreeError, ConfigError, NotFoundError
from accountree.store import Workspace
from accountree.store.engine import Engine

TOKEN_PREFIX = "act_"
SESSION_SECONDS = 12 * 3600
_hasher = PasswordHasher()


class AuthenticationError(AccountreeError):
    """Missing, wrong or expired credentials."""

    http_status = 401


class TooManyAttemptsError(AccountreeError):
    """Too many failed logins (for this user, from this address, or in total)."""

    http_status = 429


class LastAdminError(AccountreeError):
    """The change would leave the workspace without an enabled admin."""

    http_status = 409


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# -- users ------------------------------------------------------------------------------------
def add_user(ws: Workspace, username: str, role: str, password: str | None, bu_id: str | None = None,
             created_by: str | None = None) -> dict[str, Any]:
    """Create a user; a BU member must name their seller BU, which must exist."""
    username = username.strip()
    if not username or len(username) > 64:
        raise ConfigError("a user name must have 1 to 64 characters")
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}", hint=f"Roles: {', '.join(ROLES)}.")
    if role == "bu_member" and not bu_id:
        raise ConfigError("a bu_member needs --bu BU_ID", hint="List the BUs with `accountree export seller_bus`.")
    if bu_id and not ws.engine.scalar("SELECT count(*) FROM seller_bus WHERE bu_id = ?", [bu_id]):
        raise NotFoundError(f"no seller BU {bu_id!r}", hint="Import seller_bus first (see docs/bundle.md).")
    if password is not None and len(password) < 8:
        raise ConfigError("the password must have at least 8 characters")
    if ws.engine.scalar("SELECT count(*) FROM users WHERE username = ?", [username]):
        raise ConfigError(f"user {username!r} already exists")
    ws.engine.execute(
        "INSERT INTO users (username, password_hash, role, bu_id, created_at, created_by, disabled) "
        "VALUES (?, ?, ?, ?, ?, ?, false)",
        [username, _hasher.hash(password) if password else None, role, bu_id, _now(), created_by],
    )
    return {"username": username, "role": role, "bu_id": bu_id}


def list_users(engine: Engine) -> list[dict[str, Any]]:
    return engine.fetch_dicts(
        "SELECT username, role, bu_id, created_at, created_by, disabled FROM users ORDER BY username")


def user_count(engine: Engine) -> int:
    return int(engine.scalar("SELECT count(*) FROM users") or 0)


def new_token(ws: Workspace, username: str, label: str | None = None) -> str:
    """A new API token for `username`; the secret is returned once and never stored."""
    if not ws.engine.scalar("SELECT count(*) FROM users WHERE username = ?", [username]):
        raise NotFoundError(f"no user {username!r}", hint="Create it with `accountree user add`.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ws.engine.execute(
        "INSERT INTO api_tokens (token_hash, username, label, created_at, revoked) VALUES (?, ?, ?, ?, false)",
        [hash_secret(secret), username, label, _now()],
    )
    return secret


def _principal(engine: Engine, username: str) -> Principal | None:
    row = engine.fetchone("SELECT username, role, bu_id FROM users WHERE username = ? AND NOT disabled", [username])
    return Principal(row[0], row[1], row[2]) if row else None


def _stored_hash(engine: Engine, username: str) -> str | None:
    row = engine.fetchone("SELECT password_hash FROM users WHERE username = ? AND NOT disabled", [username])
    return row[0] if row and row[0] else None


_DUMMY_HASH = _hasher.hash("timing-equaliser")


def _verify(stored: str | None, password: str) -> bool:
    """Same cost whether the user exists or not."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def check_password(engine: Engine, username: str, password: str) -> Principal | None:
    if not _verify(_stored_hash(engine, username), password):
        return None
    return _principal(engine, username)


class Hashing:
    """Argon2 runs here, on `workers` threads (half the cores): 20 concurrent bad logins used to
    take both cores from every signed-in request (p50 3 ms → 1.9 s). Callers wait without holding a
    request thread; beyond `queue` waiting logins the server answers 429 at once."""

    def __init__(self, workers: int | None = None, queue: int = 32) -> None:
        self.workers = workers or max(1, (os.cpu_count() or 2) // 2)
        self.queue = queue
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="argon2")
        self._waiting = 0
        self._lock = threading.Lock()

    async def run(self, fn, *args):
        with self._lock:
            if self._waiting >= self.queue:
                raise TooManyAttemptsError("too many sign-ins at this moment; try again in a few seconds")
            self._waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            with self._lock:
                self._waiting -= 1

    async def verify(self, stored: str | None, password: str) -> bool:
        return await self.run(_verify, stored, password)


class TokenCache:
    """Bearer tokens resolved to principals, cached briefly: the hot path of every API call."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def principal(self, engine: Engine, token: str) -> Principal | None:
        key = hash_secret(token)
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        row = engine.fetchone("SELECT username FROM api_tokens WHERE token_hash = ? AND NOT revoked", [key])
        principal = _principal(engine, row[0]) if row else None
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (time.monotonic(), principal)
        return principal

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


# -- web sessions ----------------------------------------------------------------------------
def server_secret(ws: Workspace) -> bytes:
    """The workspace's secret for values the server derives (the CSRF token of a session)."""
    secret = ws.meta("api_session_secret")
    if secret is None:
        secret = secrets.token_hex(32)
        ws.set_meta("api_session_secret", secret)
    return bytes.fromhex(secret)


SESSION_PREFIX = "ses_"


def new_session(engine: Engine, username: str, ip: str | None = None) -> str:
    """A new session for `username`: the cookie value (only its hash is stored)."""
    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = _now()
    engine.execute("DELETE FROM api_sessions WHERE username = ? AND expires_at < ?", [username, now])
    engine.execute("INSERT INTO api_sessions (session_hash, username, created_at, expires_at, client_ip) "
                   "VALUES (?, ?, ?, ?, ?)",
                   [hash_secret(secret), username, now, now + timedelta(seconds=SESSION_SECONDS), ip])
    return secret


def session_principal(engine: Engine, cookie: str | None) -> tuple[Principal, str] | None:
    """(the user, the session's hash) of a live session cookie, else None: one indexed look-up,
    on every request."""
    if not cookie or not cookie.startswith(SESSION_PREFIX) or len(cookie) > 100:
        return None
    key = hash_secret(cookie)
    row = engine.fetchone(
        "SELECT u.username, u.role, u.bu_id FROM api_sessions s JOIN users u ON u.username = s.username "
        "WHERE s.session_hash = ? AND s.expires_at > ? AND NOT u.disabled", [key, _now()])
    return (Principal(row[0], row[1], row[2]), key) if row else None


def end_session(engine: Engine, cookie: str | None) -> None:
    if cookie:
        engine.execute("DELETE FROM api_sessions WHERE session_hash = ?", [hash_secret(cookie)])


def csrf_token(secret: bytes, session_key: str) -> str:
    """The CSRF token of one session (a new one at every sign-in)."""
    return hmac.new(secret, f"csrf|{session_key}".encode(), hashlib.sha256).hexdigest()[:32]


# -- account management: CLI and admin API ---------------------------------------------------
def _user(engine: Engine, username: str) -> tuple:
    row = engine.fetchone("SELECT username, role, disabled FROM users WHERE username = ?", [username])
    if not row:
        raise NotFoundError(f"no user {username!r}", hint="List them with `accountree user list`.")
    return row


def _keeps_an_admin(engine: Engine, username: str) -> None:
    others = engine.scalar("SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND username <> ?",
                           [username])
    row = _user(engine, username)
    if row[1] == "admin" and not row[2] and not others:
        raise LastAdminError(f"{username!r} is the last enabled admin",
                             hint="Create another admin first (`accountree user add NAME --role admin`).")


def _record(engine: Engine, actor: str, role: str | None, action: str, username: str, ip: str | None,
            details: dict[str, Any] | None = None) -> None:
    engine.execute(
        "INSERT INTO audit_log (audit_id, occurred_at, username, role, action, target_type, target_id, details, "
        "client_ip) VALUES (?, ?, ?, ?, ?, 'user', ?, ?, ?)",
        [uuid.uuid4().hex, _now(), actor, role, action, username,
         json.dumps(details, ensure_ascii=False) if details else None, ip])


def set_password(ws: Workspace, username: str, password: str, actor: str, role: str | None = "admin",
                 ip: str | None = None) -> dict[str, Any]:
    """A new password; every session of the user ends (API tokens stay: `revoke_tokens`)."""
    if len(password) < 8:
        raise ConfigError("the password must have at least 8 characters")
    engine = ws.engine
    _user(engine, username)
    new_hash = _hasher.hash(password)
    with engine.transaction():
        engine.execute("UPDATE users SET password_hash = ? WHERE username = ?", [new_hash, username])
        ended = _end_sessions(engine, username)
        _record(engine, actor, role, "set_password", username, ip, {"sessions_ended": ended})
    return {"username": username, "sessions_ended": ended}


def set_disabled(ws: Workspace, username: str, disabled: bool, actor: str, role: str | None = "admin",
                 ip: str | None = None) -> dict[str, Any]:
    """Disable (sessions end, tokens stop working) or enable a user."""
    engine = ws.engine
    if disabled:
        _keeps_an_admin(engine, username)
    else:
        _user(engine, username)
    with engine.transaction():
        engine.execute("UPDATE users SET disabled = ? WHERE username = ?", [disabled, username])
        ended = _end_sessions(engine, username) if disabled else 0
        _record(engine, actor, role, "disable_user" if disabled else "enable_user", username, ip)
    return {"username": username, "disabled": disabled, "sessions_ended": ended}


def delete_user(ws: Workspace, username: str, actor: str, role: str | None = "admin",
                ip: str | None = None) -> dict[str, Any]:
    """Delete a user with their sessions and tokens; the audit log keeps what they did."""
    engine = ws.engine
    _keeps_an_admin(engine, username)
    with engine.transaction():
        ended = _end_sessions(engine, username)
        tokens = int(engine.scalar("SELECT count(*) FROM api_tokens WHERE username = ?", [username]) or 0)
        engine.execute("DELETE FROM api_tokens WHERE username = ?", [username])
        engine.execute("DELETE FROM users WHERE username = ?", [username])
        _record(engine, actor, role, "delete_user", username, ip, {"sessions_ended": ended, "tokens_deleted": tokens})
    return {"username": username, "deleted": True, "sessions_ended": ended, "tokens_deleted": tokens}


def revoke_tokens(ws: Workspace, username: str, actor: str, role: str | None = "admin",
                  ip: str | None = None) -> dict[str, Any]:
    """Revoke every API token of the user and end their web sessions."""
    engine = ws.engine
    _user(engine, username)
    with engine.transaction():
        revoked = int(engine.scalar("SELECT count(*) FROM api_tokens WHERE username = ? AND NOT revoked",
                                    [username]) or 0)
        engine.execute("UPDATE api_tokens SET revoked = true WHERE username = ? AND NOT revoked", [username])
        ended = _end_sessions(engine, username)
        _record(engine, actor, role, "revoke_tokens", username, ip, {"tokens_revoked": revoked, "sessions_ended": ended})
    return {"username": username, "tokens_revoked": revoked, "sessions_ended": ended}


def _end_sessions(engine: Engine, username: str) -> int:
    n = int(engine.scalar("SELECT count(*) FROM api_sessions WHERE username = ?", [username]) or 0)
    engine.execute("DELETE FROM api_sessions WHERE username = ?", [username])
    return n


def audit_failed_login(engine: Engine, username: str, ip: str | None, reason: str) -> None:
    """A refused sign-in, in the audit log (the name as typed, cut to 64 characters)."""
    _record(engine, username[:64], None, "login_failed", username[:64], ip, {"reason": reason})


# -- login limits ----------------------------------------------------------------------------
class LoginLimiter:
    """Failed sign-ins in a sliding `window` (seconds), counted four ways; any full count refuses
    further attempts (429) before the password is even checked:

    - per (user, address): `limit` (5) — a user mistyping;
    - per user, from anywhere: `per_user` (20) — guesses spread over many addresses;
    - per address, any user: `per_ip` (20) — one address spraying many user names;
    - in total: `total` (200) — a distributed attack; it also slows real users down for the window.
    """

    def __init__(self, limit: int = 5, window: float = 300.0, per_user: int = 20, per_ip: int = 20,
                 total: int = 200) -> None:
        self.limit = limit
        self.window = window
        self.limits = {"pair": limit, "user": per_user, "ip": per_ip, "total": total}
        self._failures: dict[tuple[str, ...], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, ip: str) -> dict[str, tuple[str, ...]]:
        return {"pair": ("pair", username, ip), "user": ("user", username), "ip": ("ip", ip), "total": ("total",)}

    def _recent(self, key: tuple[str, ...]) -> deque[float]:
        q = self._failures[key]
        cutoff = time.monotonic() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def check(self, username: str, ip: str) -> None:
        with self._lock:
            for kind, key in self._keys(username, ip).items():
                q = self._recent(key)
                if len(q) >= self.limits[kind]:
                    wait = int(self.window - (time.monotonic() - q[0])) + 1
                    what = {"pair": f"for {username!r}", "user": f"for {username!r}",
                            "ip": "from this address", "total": "on this server"}[kind]
                    raise TooManyAttemptsError(
                        f"too many failed logins {what}; try again in {wait} s",
                        hint="Ask an admin to reset your password if you have forgotten it.")

    def failed(self, username: str, ip: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 50_000:  # forget empty windows (many names or addresses)
                for key in [k for k in self._failures if not self._recent(k)]:
                    del self._failures[key]
            for key in self._keys(username, ip).values():
                self._recent(key).append(now)

    def succeeded(self, username: str, ip: str) -> None:
        with self._lock:
            self._failures.pop(("pair", username, ip), None)


def login(engine: Engine, limiter: LoginLimiter, username: str, password: str, ip: str) -> Principal:
    """Synchronous sign-in (the CLI, tests); the server uses `login_async`."""
    limiter.check(username, ip)
    principal = check_password(engine, username, password)
    if principal is None:
        limiter.failed(username, ip)
        audit_failed_login(engine, username, ip, "wrong user name or password")
        raise AuthenticationError("wrong user name or password")
    limiter.succeeded(username, ip)
    return principal


async def login_async(server, username: str, password: str, ip: str) -> Principal:
    """Sign-in from a request: limits first, the hash on the hashing pool, the database on the
    request threads; a failure is audited."""
    from starlette.concurrency import run_in_threadpool

    server.limiter.check(username, ip)

    def stored() -> str | None:
        with server.engine() as engine:
            return _stored_hash(engine, username)

    ok = await server.hashing.verify(await run_in_threadpool(stored), password)

    def finish() -> Principal | None:
        with server.engine() as engine:
            principal = _principal(engine, username) if ok else None
            if principal is None:
                audit_failed_login(engine, username, ip, "wrong user name or password")
            return principal

    principal = await run_in_threadpool(finish)
    if principal is None:
        server.limiter.failed(username, ip)
        raise AuthenticationError("wrong user name or password")
    server.limiter.succeeded(username, ip)
    return principal


def principal_of(engine: Engine, username: str) -> Principal | None:
    return _principal(engine, username)
