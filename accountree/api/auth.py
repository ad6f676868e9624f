"""Users, passwords, API tokens, session cookies and the login rate limit.

Passwords are argon2id hashes (argon2-cffi). An API token is a random secret shown once; only its
sha256 is stored. The web session is a stateless cookie `username|expiry|hmac`, signed with the
workspace's server secret (kept in `workspace_meta`), HttpOnly and SameSite=Lax.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime
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
    """Too many failed logins for this user from this address."""

    http_status = 429


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


def check_password(engine: Engine, username: str, password: str) -> Principal | None:
    row = engine.fetchone("SELECT password_hash FROM users WHERE username = ? AND NOT disabled", [username])
    if not row or not row[0]:
        _hasher.hash("timing-equaliser")  # same cost whether the user exists or not
        return None
    try:
        _hasher.verify(row[0], password)
    except (VerificationError, InvalidHashError):
        return None
    return _principal(engine, username)


class TokenCache:
    """Bearer tokens resolved to principals, cached briefly: the hot path of every API call."""

    def __init__(self, ttl: float = 30.0) -> None:
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


# -- session cookie ---------------------------------------------------------------------------
def server_secret(ws: Workspace) -> bytes:
    secret = ws.meta("api_session_secret")
    if secret is None:
        secret = secrets.token_hex(32)
        ws.set_meta("api_session_secret", secret)
    return bytes.fromhex(secret)


def sign_session(secret: bytes, username: str, now: float | None = None) -> str:
    expiry = int((now or time.time()) + SESSION_SECONDS)
    payload = f"{username}|{expiry}"
    mac = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}|{mac}"


def read_session(secret: bytes, cookie: str | None) -> str | None:
    """The user name of a valid, unexpired session cookie, else None."""
    if not cookie or cookie.count("|") != 2:
        return None
    username, expiry, mac = cookie.split("|")
    expected = hmac.new(secret, f"{username}|{expiry}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected) or not expiry.isdigit() or int(expiry) < time.time():
        return None
    return username


# -- login rate limit -------------------------------------------------------------------------
class LoginLimiter:
    """At most `limit` failed logins per (user, client address) in a sliding `window` of seconds."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        q = self._failures[key]
        cutoff = time.monotonic() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def check(self, username: str, ip: str) -> None:
        with self._lock:
            q = self._recent((username, ip))
            if len(q) >= self.limit:
                wait = int(self.window - (time.monotonic() - q[0])) + 1
                raise TooManyAttemptsError(
                    f"too many failed logins for {username!r}; try again in {wait} s",
                    hint="Ask an admin to reset your password if you have forgotten it.")

    def failed(self, username: str, ip: str) -> None:
        with self._lock:
            self._recent((username, ip)).append(time.monotonic())

    def succeeded(self, username: str, ip: str) -> None:
        with self._lock:
            self._failures.pop((username, ip), None)


def login(engine: Engine, limiter: LoginLimiter, username: str, password: str, ip: str) -> Principal:
    limiter.check(username, ip)
    principal = check_password(engine, username, password)
    if principal is None:
        limiter.failed(username, ip)
        raise AuthenticationError("wrong user name or password")
    limiter.succeeded(username, ip)
    return principal


def principal_of(engine: Engine, username: str) -> Principal | None:
    return _principal(engine, username)
