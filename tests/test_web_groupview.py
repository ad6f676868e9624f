"""The group is the customer (issue 20), server-side: consolidated figures on the Groups list and
key accounts, KAM units, the Alerts page (filters, names, bulk acknowledgement with CSRF), money to
the cent in JSON, sortable lists."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests import test_api_fixtures as fx
from tests.test_api_fixtures import PASSWORD, Api

duck_api = fx.duck_api
api = fx.api


def signed_in(api: Api, user: str) -> tuple[TestClient, str]:
    client = TestClient(api.client.app, raise_server_exceptions=False)
    assert client.post("/login", data={"username": user, "password": PASSWORD, "next": "/"},
                       follow_redirects=False).status_code == 303
    token = re.search(r'"X-CSRF-Token": "([0-9a-f]+)"', client.get("/").text).group(1)
    return client, token


def test_groups_list_shows_the_groups_consolidated_figures(duck_api: Api) -> None:
    engine = duck_api.ws.engine
    gk = engine.fetch_dicts("SELECT * FROM group_kpis WHERE account_id = 'G1'")[0]
    own = engine.scalar("SELECT revenue_cy FROM account_kpis WHERE account_id = 'G1'")
    assert gk["revenue_py1"] != own  # the head's own figure is not the group's (what the page showed before)
    client, _ = signed_in(duck_api, "corp")
    page = client.get("/groups").text
    row = re.search(r'<tr data-group="G1">(.*?)</tr>', page, re.S).group(1)
    cells = dict(re.findall(r'data-sort="([^"]*)" data-col="(revenue_\w+)"', row)[i][::-1] for i in range(4))
    for year in ("cy", "py1", "py2", "py3"):
        assert float(cells[f"revenue_{year}"] or 0) == pytest.approx(gk[f"revenue_{year}"] or 0), year
    assert "customer" in row and str(gk["entities"]) in row
    assert ">2026<" not in page and "Rev. 2026" in page and "Rev. 2023" in page  # calendar years, not Y-3
    assert re.search(r"showing \d+ of \d+", page)
    assert 'aria-sort="ascending"' in client.get("/groups?sort=name&desc=false").text
    assert client.get("/groups?sort=revenue_cy;drop").status_code == 200  # unknown keys fall back, never reach SQL


def test_groups_api_sorts_and_rounds_money_to_the_cent(api: Api) -> None:
    api.ws.engine.execute("UPDATE group_kpis SET revenue_cy = 3805256.1900000004 WHERE account_id = 'G1'")
    body = api.get("/api/v1/groups?sort=revenue_cy").json()
    g1 = next(g for g in body["items"] if g["account_id"] == "G1")
    assert g1["group_revenue_cy"] == 3805256.19 and body["sort"] == "revenue_cy"
    assert "3805256.1900000004" not in api.get("/api/v1/groups").text
    names = [g["name"] for g in api.get("/api/v1/groups?sort=name&desc=false").json()["items"]]
    assert names == sorted(names)


def test_key_accounts_are_units_with_group_figures(duck_api: Api) -> None:
    engine = duck_api.ws.engine
    client, _ = signed_in(duck_api, "corp")
    body = duck_api.get("/api/v1/key-accounts", user="corp").json()
    ids = {k["account_id"] for k in body["items"]}
    assert "G1" in ids and not ids & {"A2", "A3", "A4"}  # the group is the key account, not its entities
    g1 = next(k for k in body["items"] if k["account_id"] == "G1")
    assert g1["scope"] == "group" and g1["revenue_cy"] == pytest.approx(
        engine.scalar("SELECT revenue_cy FROM group_kpis WHERE account_id = 'G1'"))
    tiers = dict(engine.fetchall("SELECT account_id, tier FROM kam_accounts WHERE scope = 'account'"))
    assert tiers["A2"] == tiers["A4"] == g1["tier"]  # entities show their group's tier
    page = client.get("/key-accounts").text
    assert "KAM tier" in page and 'data-unit="G1"' in page
    account = client.get("/accounts/A2").text
    assert "KAM tier" in account and "ICP" in account


def test_alerts_page_filters_names_and_bulk_acknowledgement(duck_api: Api) -> None:
    client, token = signed_in(duck_api, "admin")
    items = duck_api.get("/api/v1/alerts").json()["items"]
    assert items and all("account_name" in a and "severity" in a for a in items)
    assert [a["priority"] for a in items] == sorted((a["priority"] for a in items), reverse=True)
    page = client.get("/alerts").text
    first = items[0]
    assert first["account_name"] in page and first["account_id"] in page
    kind = client.get(f"/alerts?kind={first['kind']}").text
    assert all(k == first["kind"].replace("_", " ").capitalize() for k in
               re.findall(r"<td>([A-Z][a-z ]+)</td>\n<td class=\"name\"><a href=\"/accounts/", kind))
    assert "No open alert matches" in client.get("/alerts?owner=nobody-at-all").text
    ids = [a["alert_id"] for a in items]
    assert client.post("/ui/alerts/ack", data={"alert_id": ids}).status_code == 403  # no CSRF token
    viewer, viewer_token = signed_in(duck_api, "viewer")
    assert viewer.post("/ui/alerts/ack", data={"alert_id": ids}, headers={"X-CSRF-Token": viewer_token}).status_code == 403
    done = client.post("/ui/alerts/ack", data={"alert_id": ids}, headers={"X-CSRF-Token": token})
    assert done.status_code == 200 and done.headers.get("hx-refresh") == "true"
    assert duck_api.get("/api/v1/alerts").json()["items"] == []
    assert len(duck_api.get("/api/v1/alerts?include_acknowledged=true").json()["items"]) == len(ids)
