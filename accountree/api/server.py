"""The server's state: one open workspace shared by all requests, and how a request gets at it.

DuckDB: one connection, one cursor per request (`con.cursor()` is a second connection to the
same database, so requests run in parallel threads and see each other's commits). PostgreSQL (the
team server): a connection pool, one connection per request (`accountree.store.pool`); writes to
the same records wait for each other across server processes through advisory locks
(`Engine.exclusive`).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import threading
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from starlette.responses import Response

from accountree.api.access import Principal, TableCatalog
from accountree.api.auth import Hashing, LoginLimiter, TokenCache, server_secret
from accountree.store import Workspace
from accountree.store.engine import Engine
from accountree.store.pool import EnginePool


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def to_json_bytes(value: Any) -> bytes:
    from accountree.numbers import tidy  # money to the cent, no float noise

    return json.dumps(tidy(value), default=_json_default, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode()


class ReadCache:
    """Results of the heavy reads (account 360, group view, tree slices), per caller scope.

    Keys carry the workspace's stamp (`accountree.api.readmodel.current_stamp`), so a build, an
    import or an edit made by another process changes the key within a second; writes through
    this server clear the cache. One computation per key at a time: requests asking for a key
    being computed wait for it instead of running the same queries side by side.
    """

    def __init__(self, ttl: float, max_entries: int = 4000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._running: dict[tuple, threading.Event] = {}
        self.hits = self.misses = 0

    def _get(self, key: tuple, now: float) -> tuple[bool, Any]:
        hit = self._data.get(key)
        if hit and now - hit[0] < self.ttl:
            self._data.move_to_end(key)
            self.hits += 1
            return True, hit[1]
        return False, None

    def get_or_compute(self, key: tuple, compute: Callable[[], Any]) -> Any:
        with self._lock:
            found, value = self._get(key, time.monotonic())
            if found:
                return value
            running = self._running.get(key)
            if running is None:
                running = self._running[key] = threading.Event()
                mine = True
            else:
                mine = False
        if not mine:
            running.wait(timeout=60)
            with self._lock:
                found, value = self._get(key, time.monotonic())
            if found:
                return value
            return compute()  # the first computation failed (e.g. not found): answer for ourselves
        try:
            self.misses += 1
            at = time.monotonic()
            value = compute()
            with self._lock:
                self._data[key] = (at, value)
                while len(self._data) > self.max_entries:
                    self._data.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._running.pop(key, None)
            running.set()

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


RECORD_STRIPES = 64
READ_MODEL_KEY = "*read-model"


@dataclass
class Server:
    ws: Workspace
    catalog: TableCatalog = field(default_factory=TableCatalog)
    tokens: TokenCache = field(default_factory=TokenCache)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    secure_cookies: bool = False
    # Proxies whose X-Forwarded-For is believed (addresses or networks); none by default.
    trusted_proxies: tuple[str, ...] = ()
    hashing: Hashing = field(default_factory=Hashing)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # How long the workspace's stamp is trusted before it is read again (one small query).
    state_ttl: float = 1.0

    def __post_init__(self) -> None:
        self.secret = server_secret(self.ws)
        self._stripes = [threading.Lock() for _ in range(RECORD_STRIPES)]
        self._proxies = [ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies]
        self.cache = ReadCache(ttl=60.0 if self.ws.engine.capabilities.shared_writers else 600.0)
        self._state: tuple[bool, str] = (False, "")
        self._state_at = -1e9
        self._state_lock = threading.Lock()
        self.pool = EnginePool(self.ws.engine)
        self._slots = None

    def request_slots(self):
        """PostgreSQL: how many requests may hold a pooled connection at once (an `anyio.Semaphore`
        made in the event loop on first use; a few connections stay free for sign-ins and pages).
        DuckDB: None (a cursor per request, nothing to wait for)."""
        if not self.pool.size:
            return None
        if self._slots is None:
            import anyio

            self._slots = anyio.Semaphore(max(1, self.pool.size - 4))
        return self._slots

    def close(self) -> None:
        """Close the pool's connections (the workspace itself is closed by whoever opened it)."""
        self.pool.close()

    def trusted(self, address: str) -> bool:
        """Whether `address` is one of the trusted proxies."""
        if not self._proxies:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._proxies)

    def model_state(self, engine: Engine) -> tuple[bool, str]:
        """(the build's read model matches the workspace, the workspace's stamp), re-read each second."""
        from accountree.api import readmodel

        if time.monotonic() - self._state_at < self.state_ttl:
            return self._state
        with self._state_lock:
            if time.monotonic() - self._state_at >= self.state_ttl:
                self._state = readmodel.state(engine)
                self._state_at = time.monotonic()
            return self._state

    def changed(self) -> None:
        """Something was written: forget cached reads and read the stamp again."""
        self._state_at = -1e9
        self.cache.clear()

    def cached(self, principal: Principal, stamp: str, name: str, args: tuple, compute: Callable[[], Any]) -> Any:
        """A read's result for this caller's BU scope (never shared across scopes) and workspace state."""
        return self.cache.get_or_compute((name, args, principal.scope_bu, stamp), compute)

    def cached_json(self, principal: Principal, stamp: str, name: str, args: tuple,
                    compute: Callable[[], Any]) -> Response:
        """Same, serialised once: a 10,000-entity group's JSON is not re-encoded on every request.
        `compute` may return the JSON bytes themselves (the read model's account 360)."""
        def encoded() -> bytes:
            value = compute()
            return value if isinstance(value, bytes) else to_json_bytes(value)

        body = self.cache.get_or_compute(("json", name, args, principal.scope_bu, stamp), encoded)
        return Response(body, media_type="application/json")

    @contextmanager
    def records_locked(self, keys: Iterable[str], engine: Engine | None = None) -> Iterator[None]:
        """Writes to the same records (an account's 360 row) wait for each other in this process
        instead of failing on DuckDB's optimistic transactions; unrelated writes run side by side.
        Taken before the write's transaction starts, in a fixed order (no deadlock). With the
        request's `engine`, also across processes (PostgreSQL advisory locks: several servers or a
        CLI on one team workspace), until the block ends — after the write's commit."""
        keys = sorted({k for k in keys if k})
        stripes = sorted({zlib.crc32(k.encode()) % RECORD_STRIPES for k in keys})
        for i in stripes:
            self._stripes[i].acquire()
        try:
            if engine is not None and keys:
                # PostgreSQL: the read model's bookkeeping (its stamp, the recorded changes) is one
                # set of rows every write rewrites; under READ COMMITTED two writers would each keep
                # their own and the model would go stale, so API writes there take one more key
                # and run one at a time (reads stay parallel on the pool)
                extra = [READ_MODEL_KEY] if engine.capabilities.shared_writers else []
                with engine.exclusive(*(f"record:{k}" for k in keys), *extra):
                    yield
            else:
                yield
        finally:
            for i in reversed(stripes):
                self._stripes[i].release()

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        """The request's engine: its own connection (PostgreSQL pool) or cursor (DuckDB)."""
        with self.pool.engine() as engine:
            yield engine

    def workspace_for(self, engine: Engine) -> Workspace:
        """A Workspace facade on the request's engine, for service functions that take one."""
        ws = copy.copy(self.ws)
        ws.engine = engine
        return ws


def is_retryable(err: BaseException) -> bool:
    """A write conflict, or DuckDB's duplicate key of two transactions inserting the same key at
    once (an upsert that did not see the other's uncommitted row): running it again can succeed."""
    if is_write_conflict(err):
        return True
    try:
        import duckdb

        return isinstance(err, duckdb.ConstraintException) and "duplicate key" in str(err).lower()
    except ImportError:  # pragma: no cover
        return False


def is_write_conflict(err: BaseException) -> bool:
    """A concurrent-write conflict of the engine (DuckDB's optimistic transactions, PostgreSQL's
    serialisation and lock failures): the transaction was rolled back and a retry can succeed."""
    try:
        import duckdb

        if isinstance(err, duckdb.TransactionException) and "conflict" in str(err).lower():
            return True
    except ImportError:  # pragma: no cover - duckdb is a dependency
        pass
    try:
        from psycopg import errors as pg

        return isinstance(err, (pg.SerializationFailure, pg.DeadlockDetected, pg.LockNotAvailable))
    except ImportError:  # pragma: no cover
        return False


def audit(engine: Engine, principal: Principal, action: str, target_type: str | None, target_id: str | None,
          details: dict[str, Any] | None = None, client_ip: str | None = None) -> None:
    """Record a write: every endpoint that changes something calls this in the same transaction."""
    engine.execute(
        "INSERT INTO audit_log (audit_id, occurred_at, username, role, action, target_type, target_id, details, client_ip) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [uuid.uuid4().hex, datetime.now(UTC).replace(tzinfo=None), principal.username, principal.role, action,
         target_type, target_id, json.dumps(details, ensure_ascii=False, default=str) if details else None, client_ip],
    )
