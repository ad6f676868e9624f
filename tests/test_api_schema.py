"""Schemathesis against the OpenAPI schema: generated requests never get a server error.

Kept quick (a few examples per operation, DuckDB only); `not_a_server_error` is the contract
(a 5xx or a traceback is a bug), plus the JSON error shape on every 4xx.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from accountree.api import create_app
from accountree.store import open_workspace
from tests.test_api_fixtures import build_workspace

_STATE: dict = {}


def _app():
    """The app on a built two-BU workspace, created once for the schema loader and the tests."""
    if "app" not in _STATE:
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix="accountree_schema_"))
        ws = open_workspace(str(tmp / "ws.duckdb"))
        _STATE["tokens"] = build_workspace(ws, tmp / "bundle")
        _STATE["ws"] = ws
        _STATE["app"] = create_app(ws, web=False)
    return _STATE["app"]


def _check(case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {_STATE['tokens']['admin']}"})
    where = f"{case.method} {case.formatted_path} {case.query or ''}"
    assert response.status_code < 500, (where, response.text[:500])
    assert "Traceback" not in response.text, where
    if 400 <= response.status_code < 500 and "json" in str(response.headers.get("content-type")):
        assert {"error", "message"} <= set(response.json()), (where, response.text)


def test_generated_requests_never_get_a_server_error() -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _app())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            _check(case)

        run()


def test_openapi_documents_every_route() -> None:
    with TestClient(_app()) as client:
        spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "accountree"
    assert len(spec["paths"]) >= 25
    for path, ops in spec["paths"].items():
        for op in ops.values():
            assert op.get("summary"), path
