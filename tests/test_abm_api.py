"""REST endpoints under /api/v1/abm: reads scoped per BU, writes refused per role and BU, audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from accountree.api import create_app
from accountree.api.auth import add_user, new_token
from tests.abm_fixtures import build_abm, load

USERS = {"admin": ("admin", None), "corp": ("corporate", None), "sw": ("bu_member", "sw"), "sv": ("bu_member", "sv"),
         "hw": ("bu_member", "hw"), "viewer": ("read_only", None)}


@pytest.fixture
def api(workspace, tmp_path):
    load(workspace, tmp_path)
    build_abm(workspace)
    tokens = {}
    for user, (role, bu) in USERS.items():
        add_user(workspace, user, role, "correct-horse-42", bu)
        tokens[user] = new_token(workspace, user)
    with TestClient(create_app(workspace, web=False), raise_server_exceptions=False) as client:
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
    assert [c["campaign_id"] for c in calendar["campaigns"]] == []  # hw does not see sw's campaigns
    assert [c["campaign_ids"] for c in calendar["collisions"]] == ["K2,K1"]  # the collision itself is shared
    assert [r["seller_bu"] for r in api("GET", "/abm/attribution", "sw").json()["items"]] == ["sw"]
    assert {r["seller_bu"] for r in api("GET", "/abm/attribution", "corp").json()["items"]} == {"sw", "sv", "hw"}
    assert api("GET", "/abm/synergies", "sw").status_code == 403
    assert api("GET", "/abm/synergies", "corp").status_code == 200
    actions = [r[0] for r in workspace.engine.fetchall("SELECT action FROM audit_log ORDER BY occurred_at")]
    assert actions == ["abm.conflict_state", "abm.conflict_note", "abm.conflict_note", "abm.lead_bu"]
    overview = api("GET", "/overview", "corp").json()
    assert overview["conflicts"]["available"] and len(overview["conflicts"]["data"]) == 3
