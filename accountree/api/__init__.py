"""REST API and dashboard server: `create_app(workspace)`; see accountree/api/README.md.

`create_app` is imported on first use, so the build's `api` stage (`accountree.api.stage`) runs on
an installation without the `server` extra."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from accountree.api.app import create_app

        return create_app
    raise AttributeError(f"module 'accountree.api' has no attribute {name!r}")
