"""The server's state: one open workspace shared by all requests, and how a request gets at it.

DuckDB: one connection, one cursor per request (`con.cursor()` is a second connection to the
same database, so requests run in parallel threads and see each other's commits). PostgreSQL:
one psycopg connection guarded by a lock (a pool is the next step if a team server needs it).
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from starlette.responses import Response

from accountree.api.access import Principal, TableCatalog
from accountree.api.auth import LoginLimiter, TokenCache, server_secret
from accountree.store import Workspace
from accountree.store.engine import Engine


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def to_json_bytes(value: Any) -> bytes:
    return json.dumps(value, default=_json_default, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode()


class ReadCache:
    """Results of the heavy read models (account 360, group view, tree slices), per caller scope.

    Derived data changes only when something is written: through this server (every write clears
    the cache) or, on PostgreSQL, by another process such as `accountree build` — hence the TTL.
    A DuckDB file has a single writer while the server holds it, so its TTL can be long.
    """

    def __init__(self, ttl: float, max_entries: int = 4000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_compute(self, key: tuple, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(key)
            if hit and now - hit[0] < self.ttl:
                self._data.move_to_end(key)
                self.hits += 1
                return hit[1]
        self.misses += 1
        value = compute()
        with self._lock:
            self._data[key] = (now, value)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


@dataclass
class Server:
    ws: Workspace
    catalog: TableCatalog = field(default_factory=TableCatalog)
    tokens: TokenCache = field(default_factory=TokenCache)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    secure_cookies: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.secret = server_secret(self.ws)
        self.cache = ReadCache(ttl=300.0 if self.ws.engine.name == "duckdb" else 15.0)

    def cached(self, principal: Principal, name: str, args: tuple, compute: Callable[[], Any]) -> Any:
        """A read model's result for this caller's BU scope (never shared across scopes)."""
        return self.cache.get_or_compute((name, args, principal.scope_bu), compute)

    def cached_json(self, principal: Principal, name: str, args: tuple, compute: Callable[[], Any]) -> Response:
        """Same, serialised once: a 10,000-entity group's JSON is not re-encoded on every request."""
        body = self.cache.get_or_compute(("json", name, args, principal.scope_bu), lambda: to_json_bytes(compute()))
        return Response(body, media_type="application/json")

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        base = self.ws.engine
        if base.name == "duckdb":
            clone = copy.copy(base)
            clone.con = base.con.cursor()  # type: ignore[attr-defined]
            clone._depth = 0  # type: ignore[attr-defined]
            try:
                yield clone
            finally:
                clone.con.close()  # type: ignore[attr-defined]
        else:
            with self._lock:
                yield base

    def workspace_for(self, engine: Engine) -> Workspace:
        """A Workspace facade on the request's engine, for service functions that take one."""
        ws = copy.copy(self.ws)
        ws.engine = engine
        return ws


def audit(engine: Engine, principal: Principal, action: str, target_type: str | None, target_id: str | None,
          details: dict[str, Any] | None = None, client_ip: str | None = None) -> None:
    """Record a write: every endpoint that changes something calls this in the same transaction."""
    engine.execute(
        "INSERT INTO audit_log (audit_id, occurred_at, username, role, action, target_type, target_id, details, client_ip) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [uuid.uuid4().hex, datetime.now(UTC).replace(tzinfo=None), principal.username, principal.role, action,
         target_type, target_id, json.dumps(details, ensure_ascii=False, default=str) if details else None, client_ip],
    )
