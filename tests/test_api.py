"""The REST API on DuckDB and PostgreSQL: authentication, reads, writes with their audit trail."""

from __future__ import annotations

from fastapi.testclient import TestClient

from accountree.api import create_app
from accountree.kpi.exports import WHITESPACE
from accountree.store import open_workspace
from tests import test_api_fixtures as fx
from tests.test_api_fixtures import BUNDLE, PASSWORD, Api

api = fx.api  # module-scoped fixtures: the built two-BU workspace
duck_api = fx.duck_api

V1 = "/api/v1"


def assert_error(response, status: int, error: str | None = None) -> dict:
    """The one error shape: {"error", "message", "hint"?}, never a traceback."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "message"}, body
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.text
    if error:
        assert body["error"] == error
    return body


def test_every_endpoint_needs_credentials(api: Api) -> None:
    assert_error(api.client.get(f"{V1}/accounts"), 401, "AuthenticationError")
    assert_error(api.client.get(f"{V1}/accounts", headers={"Authorization": "Bearer nope"}), 401)
    assert_error(api.client.get(f"{V1}/accounts", headers={"Authorization": "Basic abc"}), 401)
    assert api.client.get(f"{V1}/accounts", headers={"Authorization": "Bearer nope"}).headers["www-authenticate"] == "Bearer"


def test_account_list_filters_and_pagination(api: Api) -> None:
    body = api.get(f"{V1}/accounts", params={"page_size": 3}).json()
    assert body["total"] == 8 and body["pages"] == 3 and len(body["items"]) == 3
    names = [a["name"] for a in api.get(f"{V1}/accounts", params={"country": "de"}).json()["items"]]
    assert names == ["Nordwind AG", "Étoile Deutschland GmbH", "Étoile-Nordwind Offshore JV"]
    group = api.get(f"{V1}/accounts", params={"group": "G1", "page_size": 50}).json()
    assert {a["account_id"] for a in group["items"]} == {"G1", "A2", "A3", "A4"}
    customers = api.get(f"{V1}/accounts", params={"status": "Customer"}).json()["items"]
    assert {a["account_id"] for a in customers} == {"A2"}  # the only account with a won deal this year or last
    for spelled in ("customer", " CUSTOMER "):  # any casing (and the code: former_customer)
        assert [a["account_id"] for a in api.get(f"{V1}/accounts", params={"status": spelled}).json()["items"]] == ["A2"]
    assert api.get(f"{V1}/accounts", params={"status": "former_customer"}).json()["total"] == 0
    assert_error(api.get(f"{V1}/accounts", params={"status": "client"}), 400, "ConfigError")
    assert api.get(f"{V1}/accounts", params={"industry": "ENERGY"}).json()["total"] == 5
    by_bu = api.get(f"{V1}/accounts", params={"bu": "bu_serv"}).json()["items"]
    assert {a["account_id"] for a in by_bu} == {"A2", "G1"}
    assert_error(api.get(f"{V1}/accounts", params={"page": 0}), 422, "ValidationError")


def test_search_ignores_accents_and_finds_identifiers(api: Api) -> None:
    def ids(q: str) -> list[str]:
        return [a["account_id"] for a in api.get(f"{V1}/search", params={"q": q}).json()["items"]]

    assert set(ids("etoile energie")) == {"A2"}
    assert set(ids("ÉTOILE")) >= {"G1", "A2", "A3", "A4", "J5"}
    assert ids("creme")[:2] == ["S1", "S2"] or set(ids("creme")) == {"S1", "S2"}
    assert ids("552 120 222") == ["G1"]  # SIREN with spaces
    assert ids("969500abcdefghijkl12") == ["S1"]  # LEI, any case
    assert ids("123456789") == ["S1"]  # DUNS
    assert ids("nordwind.de")[0] == "N1"


def test_account_360_has_every_section(api: Api) -> None:
    body = api.get(f"{V1}/accounts/A2").json()
    assert body["account"]["name"] == "Étoile Énergie SAS"
    assert body["hierarchy"]["data"]["group_head_id"] == "G1"
    assert body["hierarchy"]["data"]["group_head_name"] == "Groupe Étoile SA"
    assert body["kpis"]["data"]["status"] == "Customer"
    assert body["kpis"]["data"]["revenue_cy"] == 100000  # D-SOFT-1 won in 2026
    assert body["score"]["available"] and body["score"]["data"]["grade"] in "ABCDEF"
    assert {d["deal_id"] for d in body["deals"]["data"]} == {"D-SOFT-1", "D-SERV-1"}
    assert {p["contact_id"] for p in body["stakeholders"]["data"]} == {"C1", "C2", "C3"}
    assert body["other_bus"] == []  # admin sees everything: no summary line needed
    people = api.get(f"{V1}/accounts/A2/stakeholders").json()
    # people in place: C3 left in October (still listed among the stakeholders above)
    assert people["org_chart"][0]["id"] == "C1" and {c["id"] for c in people["org_chart"][0]["children"]} == {"C2"}
    assert any("purchaser" in gap for gap in people["meddic_gaps"])
    assert_error(api.get(f"{V1}/accounts/NOPE"), 404, "NotFoundError")


def test_group_view_tree_and_joint_venture(api: Api) -> None:
    view = api.get(f"{V1}/groups/G1").json()
    assert view["counts"]["entities"] == 4
    assert view["kpis"]["data"]["revenue_cy"] == 100000
    assert {(j["account_id"], j["parent_id"]) for j in view["joint_ventures"]} == {("J5", "A2"), ("J5", "N1")}
    tree = api.get(f"{V1}/groups/G1/tree", params={"depth": 1}).json()["root"]
    assert tree["account_id"] == "G1" and tree["loaded"]
    assert {c["account_id"] for c in tree["children"]} == {"A2", "A3"}
    a2 = next(c for c in tree["children"] if c["account_id"] == "A2")
    assert not a2["loaded"] and a2["descendants"] >= 1
    deeper = api.get(f"{V1}/groups/G1/tree", params={"root": "A2", "depth": 1}).json()["root"]
    kids = {c["account_id"]: c for c in deeper["children"]}
    assert "A4" in kids and kids["J5"]["shared"]  # the JV shows under its other parent too
    focus = api.get(f"{V1}/groups/G1/tree", params={"focus": "A4", "depth": 0}).json()
    assert focus["path"] == ["G1", "A2", "A4"]
    assert_error(api.get(f"{V1}/groups/G1/tree", params={"root": "N1"}), 404)
    listed = api.get(f"{V1}/groups", params={"q": "etoile"}).json()["items"]
    assert [g["account_id"] for g in listed] == ["G1"] and listed[0]["group_entities"] == 4


def test_group_whitespace_matches_the_export(api: Api) -> None:
    """The page's cells come from the product masks (and the shown entities' revenue from the
    products view): the same states and amounts as the whitespace export, which reads the view."""
    cells = api.get(f"{V1}/groups/G1").json()["whitespace"]["data"]
    exported = api.ws.engine.fetch_dicts(
        "SELECT account_id, product, state, revenue_total FROM (" + WHITESPACE + ") w WHERE group_id = 'G1'")
    assert cells and {c["state"] for c in cells} >= {"bought", "never"}
    assert sorted((c["account_id"], c["product"], c["state"], float(c["revenue_total"])) for c in cells) == \
        sorted((e["account_id"], e["product"], e["state"], float(e["revenue_total"])) for e in exported)


def test_scores_key_accounts_imports_and_exports(api: Api) -> None:
    scores = api.get(f"{V1}/scores", params={"page_size": 100}).json()
    assert scores["total"] == 8
    graded = [s for s in scores["items"] if s["grade"]]
    tier = graded[0]["tier"].split()[-1]
    assert all(s["tier"].endswith(tier) for s in api.get(f"{V1}/scores", params={"tier": tier}).json()["items"])
    assert api.get(f"{V1}/accounts/A2/score").json()["explanation"]
    assert api.get(f"{V1}/key-accounts").json()["total"] >= 1
    imports = api.get(f"{V1}/imports").json()["items"]
    assert imports[0]["files"] == len(BUNDLE) and imports[0]["rows"] == sum(t.count("\n") - 1 for t in BUNDLE.values())
    csv_text = api.get(f"{V1}/exports/deals").text
    assert csv_text.splitlines()[0].startswith('"deal_id"') and "D-SERV-1" in csv_text
    assert_error(api.get(f"{V1}/exports/nope"), 404)


def test_writes_are_audited_and_read_only_cannot_write(api: Api) -> None:
    role = api.put(f"{V1}/contacts/C3/buying-role", json={"buying_role": "buyer"})
    assert role.status_code == 200, role.text
    assert {p["contact_id"]: p["buying_role"] for p in api.get(f"{V1}/accounts/A2/stakeholders").json()["items"]}["C3"] == "buyer"
    assert_error(api.put(f"{V1}/contacts/C3/buying-role", user="viewer", json={"buying_role": "user"}), 403)
    assert_error(api.put(f"{V1}/contacts/C3/buying-role", json={"buying_role": "astrologer"}), 422)
    alerts = api.get(f"{V1}/alerts").json()["items"]
    if alerts:
        assert api.post(f"{V1}/alerts/{alerts[0]['alert_id']}/ack", json={"note": "vu"}).status_code == 200
        assert alerts[0]["alert_id"] not in {a["alert_id"] for a in api.get(f"{V1}/alerts").json()["items"]}
    assert_error(api.post(f"{V1}/alerts/nope/ack", json={}), 404)
    audit = api.get(f"{V1}/audit").json()["items"]
    assert {"set_buying_role"} <= {a["action"] for a in audit}
    assert all(a["username"] == "admin" for a in audit if a["action"] == "set_buying_role")
    assert_error(api.get(f"{V1}/audit", user="corp"), 403, "PermissionDeniedError")


def test_duplicate_review_decision_merges(api: Api) -> None:
    queue = api.get(f"{V1}/quality/duplicates", params={"status": "pending"}).json()
    assert [d["pair_id"] for d in queue["items"]] == ["PAIR-1"]
    assert_error(api.post(f"{V1}/quality/duplicates/PAIR-1/decision", user="viewer", json={"decision": "accept"}), 403)
    done = api.post(f"{V1}/quality/duplicates/PAIR-1/decision", json={"decision": "accept"})
    assert done.status_code == 200, done.text
    assert api.get(f"{V1}/quality/duplicates", params={"status": "pending"}).json()["total"] == 0
    # the merged id now answers with its survivor
    survivor = api.get(f"{V1}/accounts/S2").json()["account"]["account_id"]
    assert survivor in {"S1", "S2"}
    assert_error(api.post(f"{V1}/quality/duplicates/PAIR-1/decision", json={"decision": "accept"}), 400)
    assert "duplicate_accept" in {a["action"] for a in api.get(f"{V1}/audit").json()["items"]}


def test_token_endpoint_is_rate_limited(duck_api: Api) -> None:
    url = f"{V1}/auth/token"
    ok = duck_api.client.post(url, json={"username": "corp", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["token"].startswith("act_")
    token = ok.json()["token"]
    assert duck_api.client.get(f"{V1}/status", headers={"Authorization": f"Bearer {token}"}).json()["user"]["role"] == "corporate"
    for _ in range(5):
        assert_error(duck_api.client.post(url, json={"username": "viewer", "password": "wrong"}), 401)
    body = assert_error(duck_api.client.post(url, json={"username": "viewer", "password": PASSWORD}), 429)
    assert "too many failed logins" in body["message"]


def test_sections_say_run_build_on_an_unbuilt_workspace(tmp_path) -> None:
    ws = open_workspace(str(tmp_path / "empty.duckdb"))
    from accountree.api.auth import add_user, new_token

    add_user(ws, "admin", "admin", PASSWORD)
    headers = {"Authorization": f"Bearer {new_token(ws, 'admin')}"}
    with TestClient(create_app(ws), raise_server_exceptions=False) as client:
        body = assert_error(client.get(f"{V1}/groups", headers=headers), 409, "FeatureUnavailableError")
        assert "accountree build" in body["hint"]
        overview = client.get(f"{V1}/overview", headers=headers).json()
        assert overview["grades"] == {"available": False, "hint": body["hint"], "table": "scores"}
        assert_error(client.get(f"{V1}/accounts", params={"grade": "A"}, headers=headers), 409)
        assert_error(client.get(f"{V1}/nothing-here", headers=headers), 404, "NotFoundError")
        assert_error(client.delete(f"{V1}/accounts", headers=headers), 405)
    ws.close()


def test_concurrent_write_conflicts_answer_409_with_a_retry_hint() -> None:
    """Two requests saving the same row at once on DuckDB (a cursor each): the later one fails with
    a real transaction conflict, answered 409 (retry), not 500."""
    import duckdb
    import pytest
    from fastapi import FastAPI

    from accountree.api.app import install_error_handlers, is_write_conflict

    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, v INTEGER)")
    con.execute("INSERT INTO t VALUES (1, 0)")
    first, second = con.cursor(), con.cursor()
    first.execute("BEGIN")
    first.execute("UPDATE t SET v = 1 WHERE i = 1")
    second.execute("BEGIN")
    with pytest.raises(duckdb.TransactionException) as conflict:
        second.execute("UPDATE t SET v = 2 WHERE i = 1")
    assert is_write_conflict(conflict.value) and not is_write_conflict(ValueError("conflict"))

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/v1/conflict")
    def conflicting() -> None:
        raise conflict.value

    @app.get("/api/v1/broken")
    def broken() -> None:
        raise RuntimeError("boom")

    # answered inside the app: an exception re-raised to the ASGI server (a logged traceback, a
    # dropped keep-alive connection) would fail here
    client = TestClient(app, raise_server_exceptions=True)
    body = assert_error(client.get("/api/v1/conflict"), 409, "WriteConflict")
    assert "Retry" in body["hint"]
    assert assert_error(client.get("/api/v1/broken"), 500, "InternalError")["message"].startswith("an unexpected")


def test_the_key_account_matrix_takes_the_largest_accounts_of_each_tier(api: Api) -> None:
    from accountree.api.access import Principal, ScopedReader
    from accountree.api.reads.portfolio import kam_matrix

    reader = ScopedReader(api.ws.engine, Principal("a", "admin"), api.client.app.state.server.catalog)
    every = kam_matrix(reader, per_tier=100)
    one = kam_matrix(reader, per_tier=1)
    tiers = {p["tier"] for p in every}
    assert len(one) == len(tiers) >= 2 and {p["tier"] for p in one} == tiers
    for point in one:  # the largest potential of its tier
        assert point["potential_3y"] == max(p["potential_3y"] for p in every if p["tier"] == point["tier"])


def test_group_cross_sell_carries_each_targets_icp_grade(api: Api) -> None:
    """The group view's targets show the grade their score counts (the page's ICP column)."""
    rows = api.get(f"{V1}/groups/G1").json()["cross_sell"]["data"]
    grades = dict(api.ws.engine.fetchall("SELECT account_id, grade FROM scores"))
    assert rows and all(r["icp_grade"] == grades.get(r["account_id"]) for r in rows)
    assert any(r["icp_grade"] for r in rows)


def test_transitions_are_the_status_changes_of_the_history(api: Api) -> None:
    """Shared KPI data: every role gets the same counts, those of `kpi.transitions`."""
    from datetime import date

    from accountree.kpi import transitions

    expected = [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
                for row in transitions(api.ws, scope="group")]
    for user in ("admin", "soft"):
        got = api.get(f"{V1}/transitions", user, params={"groups": "true", "since": "2000-01-01"})
        assert got.status_code == 200 and got.json() == expected
    assert api.get(f"{V1}/transitions").json() == [
        {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()} for row in transitions(api.ws)]
    assert api.get(f"{V1}/transitions", params={"since": "soon"}).status_code == 422


def test_overview_counts_open_alerts_by_kind(api: Api) -> None:
    for user in ("admin", "soft"):  # a BU member's counts are of the alerts they can see
        view = api.get(f"{V1}/overview", user).json()
        kinds = view["alert_kinds"]["data"]
        # (admin sees some; the Software member may see none: the one left may be about a Services person)
        assert (kinds or user == "soft") and sum(k["n"] for k in kinds) == view["open_alerts"]
        assert view["open_alerts"] == api.get(f"{V1}/alerts", user, params={"limit": 500}).json()["total"]
        assert [k["n"] for k in kinds] == sorted((k["n"] for k in kinds), reverse=True)
