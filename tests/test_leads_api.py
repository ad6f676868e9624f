"""Leads over REST and on the Leads page (both engines): inbox with evidence, review decisions
(remembered), routing log, proposals — and BU spaces: a BU member sees their BU's leads only."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from accountree.leads.match import match
from accountree.leads.route import route
from tests import test_api_fixtures as fx
from tests.test_api_fixtures import PASSWORD, Api

api = fx.api  # module-scoped: the built two-BU workspace
V1 = "/api/v1"


@pytest.fixture(scope="module")
def leads_api(api: Api) -> Api:
    e = api.ws.engine
    # `accountree build` ran the leads stage: the CRM's own links, explained
    assert dict(e.fetchall("SELECT lead_id, method FROM lead_matches")) == {"L-SOFT": "crm", "L-SERV": "crm"}
    e.execute("INSERT INTO leads (lead_id, name, email, company, country, seller_bu) VALUES "
              "('L-AMB', 'Zoé Ambiguë', 'zoe@cremefils.fr', NULL, 'FR', 'bu_soft'), "
              "('L-NEW', 'Nina Neuve', 'nina@newco.io', 'NewCo', 'FR', 'bu_soft'), "
              "('L-SRV2', 'Serge Deux', 'serge@etoile.de', NULL, 'DE', 'bu_serv'), "
              "('L-SRV3', 'Sylvie Trois', 'sylvie@gmail.com', NULL, 'DE', 'bu_serv')")
    match(api.ws)
    route(api.ws)
    return api


def test_inbox_is_scoped_to_the_bu(leads_api: Api) -> None:
    admin = leads_api.get(f"{V1}/leads").json()
    assert {r["lead_id"] for r in admin["items"]} == {"L-SOFT", "L-SERV", "L-AMB", "L-NEW", "L-SRV2", "L-SRV3"}
    soft = leads_api.get(f"{V1}/leads", "soft").json()
    # L-SERV and L-SRV2 came in through Services; their group has Software's open deal (D-SOFT-2 at
    # A3): routed to Software too, so Software sees them and their match; never L-SRV3, not routed to it
    assert {r["lead_id"] for r in soft["items"]} == {"L-SOFT", "L-AMB", "L-NEW", "L-SERV", "L-SRV2"}
    srv2 = leads_api.get(f"{V1}/leads/L-SRV2", "soft").json()
    assert srv2["account_id"] == "A3" and [r["seller_bu"] for r in srv2["routes"]] == ["bu_soft"]
    serv = {r["lead_id"]: r for r in leads_api.get(f"{V1}/leads", "serv").json()["items"]}
    assert set(serv) == {"L-SERV", "L-SRV2", "L-SRV3"}
    assert (serv["L-SRV2"]["account_id"], serv["L-SRV2"]["method"]) == ("A3", "domain")
    assert "etoile.de" in serv["L-SRV2"]["evidence"]
    assert leads_api.get(f"{V1}/leads/L-SOFT", "serv").status_code == 404
    assert leads_api.get(f"{V1}/leads/L-SRV3", "soft").status_code == 404
    one = leads_api.get(f"{V1}/leads/L-SOFT", "soft").json()
    assert one["method"] == "crm" and one["routes"][0]["seller_bu"] == "bu_soft"


def test_routing_log_and_proposals_are_scoped(leads_api: Api) -> None:
    routes = leads_api.get(f"{V1}/leads/routing", "soft").json()["items"]
    assert routes and {r["seller_bu"] for r in routes} == {"bu_soft"}
    assert all(r["rule"] and r["reason"] for r in routes)
    assert not any(r["sla_overdue"] for r in routes)  # routed just now, due in hours
    leads_api.ws.engine.execute("UPDATE lead_routing SET sla_due_at = TIMESTAMP '2020-01-01 00:00:00' "
                                "WHERE lead_id = 'L-SOFT'")
    late = {r["lead_id"]: r["sla_overdue"] for r in leads_api.get(f"{V1}/leads/routing", "soft").json()["items"]}
    assert late["L-SOFT"] is True and late["L-NEW"] is False
    proposals = leads_api.get(f"{V1}/leads/proposals").json()["items"]
    assert [(p["domain"], p["leads"]) for p in proposals] == [("newco.io", 1)]
    assert leads_api.get(f"{V1}/leads/proposals", "soft").json()["items"] == []  # mixes every BU's leads


def test_review_decision_is_remembered(leads_api: Api) -> None:
    review = leads_api.get(f"{V1}/leads?review=true", "soft").json()["items"]
    amb = next(r for r in review if r["lead_id"] == "L-AMB")
    assert amb["method"] == "domain_duplicates" and amb["account_id"] in ("S1", "S2")
    body = {"account_id": "S2", "decision": "accept"}
    assert leads_api.post(f"{V1}/leads/L-AMB/decision", "viewer", json=body).status_code == 403
    assert leads_api.post(f"{V1}/leads/L-AMB/decision", "serv", json=body).status_code == 404  # not their lead
    assert leads_api.post(f"{V1}/leads/L-AMB/decision", "soft", json=body).status_code == 200
    match(leads_api.ws)  # a later run keeps the decision
    after = leads_api.get(f"{V1}/leads/L-AMB", "soft").json()
    assert (after["account_id"], after["method"], after["review"]) == ("S2", "manual", False)
    assert after["decisions"][0]["decided_by"] == "soft"


def test_leads_page(leads_api: Api) -> None:
    client = TestClient(leads_api.client.app, raise_server_exceptions=False)
    assert client.post("/login", data={"username": "soft", "password": PASSWORD, "next": "/"},
                       follow_redirects=False).status_code == 303
    page = client.get("/leads")
    assert page.status_code == 200
    assert "Jean Lead" in page.text and "Nina Neuve" in page.text and "Sylvie Trois" not in page.text
    assert "<script" not in page.text.split("<main", 1)[-1].split("</main>")[0]
    token = re.search(r'"X-CSRF-Token": "([0-9a-f]+)"', page.text).group(1)
    url = "/ui/leads/L-NEW/S1/reject"
    assert client.post(url).status_code == 403
    done = client.post(url, headers={"X-CSRF-Token": token})
    assert done.status_code == 200 and "rejected" in done.text
    assert client.post("/ui/leads/L-SRV3/A2/reject", headers={"X-CSRF-Token": token}).status_code == 404
