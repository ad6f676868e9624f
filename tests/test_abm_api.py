"""REST endpoints under /api/v1/abm: reads scoped per BU, writes refused per role and BU, audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from accountree.api import create_app
from accountree.api.auth import add_user, new_token
from tests.abm_fixtures import build_abm, load

USERS = {"admin": ("admin", None), "corp": ("corporate", None), "sw": ("bu_member", "sw"), "sv": ("bu_member", "sv"),
         "hw": ("bu_member", "hw"), "viewer": ("read_only", None)}


_CLIENT = {}


@pytest.fixture
def api(workspace, tmp_path):
    load(workspace, tmp_path)
    build_abm(workspace)
    tokens = {}
    for user, (role, bu) in USERS.items():
        add_user(workspace, user, role, "correct-horse-42", bu)
        tokens[user] = new_token(workspace, user)
    with TestClient(create_app(workspace), raise_server_exceptions=False) as client:
        _CLIENT["client"] = client
        def call(method, path, user="admin", **kw):
            return client.request(method, "/api/v1" + path, headers={"Authorization": f"Bearer {tokens[user]}"}, **kw)
        yield call


def test_abm_endpoints(api, workspace):
    assert api("GET", "/abm/accounts", "viewer").status_code == 200
    groups = api("GET", "/abm/accounts?scope=group").json()
    assert [(g["account_id"], g["priority_class"]) for g in groups["items"]] == [("G1", "group_strategic")]
    conflicts = api("GET", "/abm/conflicts?bu=sv").json()["items"]
    assert {c["kind"] for c in conflicts} == {"open_deals", "same_contact", "outside_lead_bu"}
    cid = next(c["conflict_id"] for c in conflicts if c["kind"] == "open_deals")
    # hw is not party to it: refused; sv is
    assert api("POST", f"/abm/conflicts/{cid}/state", "hw", json={"state": "arbitrated"}).status_code == 403
    assert api("POST", f"/abm/conflicts/{cid}/state", "viewer", json={"state": "arbitrated"}).status_code == 403
    assert api("POST", f"/abm/conflicts/{cid}/state", "sv", json={"state": "closed"}).status_code == 422
    ok = api("POST", f"/abm/conflicts/{cid}/state", "sv", json={"state": "arbitrated"})
    assert ok.status_code == 200 and ok.json()["previous_state"] == "open"
    assert api("POST", f"/abm/conflicts/{cid}/notes", "sv", json={"note": "<b>sv</b> secret"}).status_code == 200
    assert api("POST", f"/abm/conflicts/{cid}/notes", "sw", json={"note": "sw secret"}).status_code == 200
    assert api("POST", f"/abm/conflicts/{cid}/notes", "sw", json={"note": "x", "bu": "sv"}).status_code == 403
    # each BU reads its own notes only; corporate reads both
    for user, expected in (("sv", ["<b>sv</b> secret"]), ("sw", ["sw secret"]), ("hw", []),
                           ("corp", ["<b>sv</b> secret", "sw secret"])):
        notes = api("GET", f"/abm/conflicts/{cid}", user).json()["notes"]
        assert sorted(n["note"] for n in notes) == expected, user
    history = api("GET", f"/abm/conflicts/{cid}", "hw").json()["history"]
    assert [(h["previous_state"], h["state"], h["changed_by"]) for h in history] == [("open", "arbitrated", "sv")]
    # lead BU: the committee only
    assert api("POST", "/abm/accounts/A1/lead-bu", "sw", json={"bu": "sw", "why": "mine"}).status_code == 403
    done = api("POST", "/abm/accounts/A1/lead-bu", "corp", json={"bu": "sv", "why": "client asked"})
    assert done.status_code == 200 and done.json()["previous_lead_bu"] == "sw"
    view = api("GET", "/abm/accounts/A1", "sw").json()
    assert [d["why"] for d in view["decisions"]] == ["client asked"]
    assert [o["summary"] for o in view["other_bus"]] == ["Services: 1 deals, 1 activities"]
    calendar = api("GET", "/abm/calendar?from=2026-07-01&bu=sw", "hw").json()
    assert calendar == {"campaigns": [], "collisions": []}  # hw sees neither sw's campaigns nor others' collisions
    calendar = api("GET", "/abm/calendar?from=2026-07-01", "sw").json()
    assert [c["campaign_id"] for c in calendar["campaigns"]] == ["K1"]
    assert [c["campaign_ids"] for c in calendar["collisions"]] == ["K2,K1"]  # a collision it is party to
    assert api("GET", "/abm/conflicts", "hw").json()["items"] == []  # hw is party to no conflict
    assert [r["seller_bu"] for r in api("GET", "/abm/attribution", "sw").json()["items"]] == ["sw"]
    assert {r["seller_bu"] for r in api("GET", "/abm/attribution", "corp").json()["items"]} == {"sw", "sv", "hw"}
    assert api("GET", "/abm/synergies", "sw").status_code == 403
    assert api("GET", "/abm/synergies", "corp").status_code == 200
    actions = [r[0] for r in workspace.engine.fetchall("SELECT action FROM audit_log ORDER BY occurred_at")]
    assert actions == ["abm.conflict_state", "abm.conflict_note", "abm.conflict_note", "abm.lead_bu"]
    page_test(workspace)
    overview = api("GET", "/overview", "corp").json()
    assert overview["conflicts"]["available"] and len(overview["conflicts"]["data"]) == 3


def page_test(workspace) -> None:
    """The ABM page: corporate sees every BU, the calendar with the collision in red, synergies;
    a BU member sees its view, and no other BU's campaign."""
    client = _CLIENT["client"]

    def login(user):
        client.cookies.clear()
        response = client.post("/login", data={"username": user, "password": "correct-horse-42", "next": "/abm"},
                               follow_redirects=False)
        assert response.status_code == 303, response.text

    login("corp")
    html = client.get("/abm").text
    assert "corporate view" in html and "abm-collide" in html and "Webinar" in html and "K2,K1" in html
    assert "coordinated vs" in html and "<script>" not in html.split("</head>")[1]
    # labels, not raw codes: BU names (in lists and in the stage's reason texts), classes, kinds
    tables = html.split('id="abm-calendar"')[0]
    assert "Open deals of several BUs" in tables and ">open_deals<" not in tables.replace("\n", "")
    assert "Hardware, Services" in tables or "Services, Software" in tables or "Hardware, Software" in tables
    assert "group_strategic" not in tables and "of sv (" not in tables and "of Services (" in tables
    login("hw")
    html = client.get("/abm").text
    assert "Hardware&#39;s view" in html or "Hardware's view" in html
    assert "Webinar" not in html and "K2,K1" not in html and "corporate users only" in html


def test_handover_and_coverage_endpoints(api, workspace):
    due = api("GET", "/abm/handovers", "sw").json()["items"]
    assert [(h["deal_id"], h["state"]) for h in due] == [("D6", "missing")]  # D4 is Hardware's
    body = {"to_csm": "Dana", "decision_context": "CFO sponsor", "value_objectives": "3-day close",
            "stakeholders": "C1", "commitments": "SSO", "meeting_at": "2026-06-20T10:00:00", "meeting_customer": "C1"}
    assert api("POST", "/abm/deals/D6/handover", "sv", json=body).status_code == 403  # not Services' deal
    assert api("POST", "/abm/deals/D6/handover", "viewer", json=body).status_code == 403
    assert api("POST", "/abm/deals/D6/handover", "sw", json={"to_csm": ""}).status_code == 422
    done = api("POST", "/abm/deals/D6/handover", "sw", json=body)
    assert done.status_code == 200 and done.json()["from_ae"] == "Ann"
    assert api("GET", "/abm/handovers?state=missing", "hw").json()["items"][0]["deal_id"] == "D4"
    coverage = api("GET", "/abm/coverage", "viewer").json()["items"]
    assert {(r["member"], r["role"]) for r in coverage} >= {("Ann", "ae"), ("Gail", "group_account_manager")}
