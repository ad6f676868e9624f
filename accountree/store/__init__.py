"""The workspace store: one database (DuckDB file or PostgreSQL), one small adapter per engine."""

from accountree.store.engine import Engine
from accountree.store.workspace import Workspace, current_user, open_workspace, resolve_location

__all__ = ["Engine", "Workspace", "current_user", "open_workspace", "resolve_location"]
