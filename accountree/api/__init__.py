"""REST API and dashboard server: `create_app(workspace)`; see accountree/api/README.md."""

from accountree.api.app import create_app

__all__ = ["create_app"]
