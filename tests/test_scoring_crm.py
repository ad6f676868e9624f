"""Live CRM write-back through the official clients, against a local server (127.0.0.1) that follows
the documented endpoints: HubSpot batch update companies and Salesforce sObject collections."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from accountree.ingest import import_bundle
from accountree.scoring import parse_grid, score_workspace
from accountree.scoring.crm import push_crm
from tests.conftest import write
from tests.test_scoring_grid import ACCOUNTS, ACTIVITIES, grid_text

pytest.importorskip("hubspot")
pytest.importorskip("simple_salesforce")


class FakeCRM(BaseHTTPRequestHandler):
    calls: list[tuple[str, str, dict]] = []
    throttle_first = True

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        FakeCRM.calls.append((self.command, self.path, body))
        if FakeCRM.throttle_first and len(FakeCRM.calls) == 1:
            self._reply(429, [{"message": "rate limited", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
            return
        if self.command == "POST" and self.path == "/crm/v3/objects/companies/batch/update":
            assert self.headers["Authorization"] == "Bearer hs-token"
            now = "2026-11-01T00:00:00Z"
            self._reply(200, {"status": "COMPLETE", "startedAt": now, "completedAt": now, "results": [
                {"id": i["id"], "properties": i["properties"], "createdAt": now, "updatedAt": now, "archived": False}
                for i in body["inputs"]]})
        elif self.command == "PATCH" and self.path == "/services/data/v62.0/composite/sobjects":
            assert self.headers["Authorization"] == "Bearer sf-token"
            self._reply(200, [{"id": r["id"], "success": r["id"] != "Y",
                               "errors": [] if r["id"] != "Y" else [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION"}]}
                              for r in body["records"]])
        else:
            self._reply(404, {"message": f"unknown endpoint {self.command} {self.path}"})

    do_POST = do_PATCH = _handle


@pytest.fixture
def server() -> Iterator[str]:
    FakeCRM.calls = []
    FakeCRM.throttle_first = True
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeCRM)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def scored(duckdb_workspace, tmp_path: Path):
    write(tmp_path / "b" / "accounts.csv", ACCOUNTS)
    write(tmp_path / "b" / "activities.csv", ACTIVITIES)
    import_bundle(duckdb_workspace, [str(tmp_path / "b")])
    score_workspace(duckdb_workspace, date(2026, 11, 1), parse_grid(grid_text()))
    return duckdb_workspace


def test_hubspot_batches_and_retries(scored, server):
    result = push_crm(scored, "hubspot", token="hs-token", base_url=server, batch_size=2, backoff=0.01)
    assert (result["records"], result["batches"], result["updated"], result["failed"]) == (5, 3, 5, 0)
    posts = [c for c in FakeCRM.calls if c[0] == "POST"]
    assert len(posts) == 4  # 3 batches + 1 retry after the 429
    sent = {i["id"]: i["properties"] for c in posts[1:] for i in c[2]["inputs"]}
    assert sent["X"]["accountree_icp_grade"] == "A" and sent["X"]["hs_ideal_customer_profile"] == "tier_1"
    assert sent["X"]["accountree_icp_score"] == "100.0"
    assert sent["NODOMAIN"]["accountree_icp_unscored_reason"] == "no website or domain"


def test_salesforce_collections_report_failures(scored, server):
    result = push_crm(scored, "salesforce", token="sf-token", base_url=server, backoff=0.01)
    assert (result["batches"], result["updated"], result["failed"]) == (1, 4, 1)
    assert result["errors"][0]["id"] == "Y"
    method, path, body = FakeCRM.calls[-1]
    assert (method, path) == ("PATCH", "/services/data/v62.0/composite/sobjects")
    records = {r["id"]: r for r in body["records"]}
    assert body["allOrNone"] is False and records["X"]["attributes"] == {"type": "Account"}
    assert records["X"]["ICP_Grade__c"] == "A" and records["X"]["ICP_Score__c"] == 100.0


def test_dry_run_sends_nothing(scored, server):
    result = push_crm(scored, "salesforce", dry_run=True)
    assert result["dry_run"] and result["records"] == 5 and FakeCRM.calls == []
    assert result["first_payload"]["records"][0]["attributes"] == {"type": "Account"}
