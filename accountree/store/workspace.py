"""Opening a workspace: where it is, which engine, which schema version.

A workspace is one database. `open_workspace(None)` follows the documented order:
`--workspace`, then `$ACCOUNTREE_WORKSPACE`, then `./accountree.duckdb`. A `postgresql://` URL
is the team server (add `?schema=NAME` to keep several workspaces in one database); anything
else is a DuckDB file path.
"""

from __future__ import annotations

import getpass
import os
import re
from datetime import UTC, datetime
from importlib import resources
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import duckdb
from sqlglot import exp

from accountree.errors import WorkspaceError
from accountree.store.duckdb_engine import DuckDBEngine
from accountree.store.engine import Engine

DEFAULT_WORKSPACE = "accountree.duckdb"
ENV_VAR = "ACCOUNTREE_WORKSPACE"
DEFAULT_REPORTING_CURRENCY = "EUR"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def resolve_location(location: str | None) -> str:
    return location or os.environ.get(ENV_VAR) or DEFAULT_WORKSPACE


def _is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def _connect(location: str, through_server: bool = True) -> Engine:
    if _is_postgres(location):
        try:
            from accountree.store.postgres_engine import PostgresEngine
        except ImportError as err:  # pragma: no cover - psycopg is a core dependency
            from accountree.errors import MissingDependencyError

            raise MissingDependencyError(
                "the PostgreSQL workspace needs psycopg", hint="pip install 'psycopg[binary]'"
            ) from err
        parts = urlsplit(location)
        query = dict(parse_qsl(parts.query))
        schema = query.pop("schema", None)
        engine = PostgresEngine(urlunsplit(parts._replace(query=urlencode(query))))
        if schema:
            ident = exp.to_identifier(schema, quoted=True).sql(dialect="postgres")
            engine.execute(f"CREATE SCHEMA IF NOT EXISTS {ident}")
            engine._execute(f"SET search_path TO {ident}", None)
        return engine
    if "://" in location:
        raise WorkspaceError(
            f"unsupported workspace URL {location!r}",
            hint="Use a DuckDB file path (default) or a postgresql://user@host:port/database URL.",
        )
    try:
        return DuckDBEngine(location)
    except WorkspaceError as err:
        # `accountree serve` holds the file: run through its channel (accountree.store.channel)
        cause = err.__cause__
        if through_server and isinstance(cause, duckdb.IOException) and "lock" in str(cause).lower():
            from accountree.store.channel import attach

            engine = attach(location, str(cause))
            if engine is not None:
                return engine
        raise


def migrations() -> list[tuple[int, str, str]]:
    """Every migration shipped with the package, in version order."""
    found = []
    for item in resources.files("accountree.store.migrations").iterdir():
        match = _MIGRATION_NAME.match(item.name)
        if match:
            found.append((int(match.group(1)), match.group(2), item.read_text(encoding="utf-8")))
    return sorted(found)


class Workspace:
    """An open workspace: its engine plus the few facts every capability needs."""

    def __init__(self, engine: Engine, location: str) -> None:
        self.engine = engine
        self.location = location

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.close()

    @property
    def display_location(self) -> str:
        return getattr(self.engine, "safe_url", self.location)

    # -- schema ---------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply the migrations this workspace has not seen yet; returns their versions."""
        engine = self.engine
        engine.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        done = {row[0] for row in engine.fetchall("SELECT version FROM schema_migrations")}
        applied = []
        for version, name, sql in migrations():
            if version in done:
                continue
            with engine.transaction():
                engine.execute(sql)
                engine.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, datetime.now(UTC).replace(tzinfo=None)]
                )
            applied.append(version)
        if self.meta("reporting_currency") is None:
            self.set_meta("reporting_currency", DEFAULT_REPORTING_CURRENCY)
            self.set_meta("created_at", datetime.now(UTC).isoformat(timespec="seconds"))
        return applied

    @property
    def schema_version(self) -> int:
        return int(self.engine.scalar("SELECT max(version) FROM schema_migrations") or 0)

    # -- metadata -------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        return self.engine.scalar("SELECT value FROM workspace_meta WHERE key = ?", [key])

    def metas(self, *keys: str) -> dict[str, str]:
        """Several keys in one query (the keys that are set)."""
        marks = ", ".join("?" * len(keys))
        return dict(self.engine.fetchall(f"SELECT key, value FROM workspace_meta WHERE key IN ({marks})", list(keys)))  # noqa: S608 - placeholders only

    def set_meta(self, key: str, value: str) -> None:
        # an UPDATE first: the key is usually there, and DuckDB's upsert costs ~3× an update (~1 ms
        # of every KPI refresh, which stamps `kpi_refreshed_at`)
        if not self.engine.fetchall("UPDATE workspace_meta SET value = ? WHERE key = ? RETURNING key", [value, key]):
            self.engine.execute("INSERT INTO workspace_meta VALUES (?, ?) "
                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])

    @property
    def reporting_currency(self) -> str:
        return self.meta("reporting_currency") or DEFAULT_REPORTING_CURRENCY


def open_workspace(location: str | None = None, *, through_server: bool = True) -> Workspace:
    """Open (creating and migrating if needed) the workspace at `location`.

    A DuckDB file that a running `accountree serve` holds is reached through that server
    (`accountree.store.channel`) unless `through_server` is False (the server itself)."""
    resolved = resolve_location(location)
    workspace = Workspace(_connect(resolved, through_server), resolved)
    try:
        workspace.migrate()
    except Exception:
        workspace.close()
        raise
    return workspace


def current_user() -> str:
    """Who is acting, for audit trails: $ACCOUNTREE_USER, else the OS user."""
    try:
        return os.environ.get("ACCOUNTREE_USER") or getpass.getuser()
    except OSError:  # no passwd entry in some containers
        return "unknown"
