"""The dashboard in-process: sign-in, session cookie, every page, BU scoping, CSRF on writes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from accountree.api.auth import LoginLimiter
from tests import test_api_fixtures as fx
from tests.test_api_fixtures import PASSWORD, Api

duck_api = fx.duck_api


def signed_in(api: Api, user: str) -> TestClient:
    client = TestClient(api.client.app, raise_server_exceptions=False)
    response = client.post("/login", data={"username": user, "password": PASSWORD, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def test_pages_need_a_session_and_login_sets_a_safe_cookie(duck_api: Api) -> None:
    client = TestClient(duck_api.client.app, raise_server_exceptions=False)
    page = client.get("/groups/G1", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/groups/G1"
    assert "Sign in" in client.get("/login").text
    bad = client.post("/login", data={"username": "corp", "password": "nope"})
    assert bad.status_code == 401 and "wrong user name or password" in bad.text
    ok = client.post("/login", data={"username": "corp", "password": PASSWORD, "next": "/groups/G1"},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/groups/G1"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert client.get("/groups/G1").status_code == 200
    real = client.cookies["accountree_session"]
    for forged in (real[:-3] + ("xyz" if real[-3:] != "xyz" else "abc"), "admin|9999999999|" + "0" * 64, ""):
        client.cookies.set("accountree_session", forged)
        assert client.get("/", follow_redirects=False).status_code == 303  # a tampered cookie is no session
    client.cookies.set("accountree_session", real)
    evil = client.post("/login", data={"username": "corp", "password": PASSWORD, "next": "//evil.example"},
                       follow_redirects=False)
    assert evil.headers["location"] == "/"


def test_login_is_rate_limited_per_user_and_address(duck_api: Api) -> None:
    client = TestClient(duck_api.client.app, raise_server_exceptions=False)
    for _ in range(5):
        assert client.post("/login", data={"username": "soft", "password": "bad"}).status_code == 401
    blocked = client.post("/login", data={"username": "soft", "password": PASSWORD})
    assert blocked.status_code == 429 and "too many failed logins" in blocked.text
    assert client.post("/login", data={"username": "serv", "password": PASSWORD}, follow_redirects=False).status_code == 303
    duck_api.client.app.state.server.limiter = LoginLimiter()  # the other tests sign in as soft


@pytest.mark.parametrize("path, expected", [
    ("/", "Groups by status"), ("/", "No account has changed status between builds yet"), ("/groups", "Groupe Étoile SA"), ("/groups/G1", "Étoile-Nordwind Offshore JV"),
    ("/accounts", "Étoile Énergie SAS"), ("/accounts/A2", "MEDDIC"), ("/accounts/A2", "Amélie Décideur"),
    ("/key-accounts", "KAM tier"), ("/scoring", "Grade distribution"), ("/quality", "Accept — merge"),
    ("/search?q=etoile%20energie", "Étoile Énergie SAS"), ("/campaigns", "Printemps SaaS"),
    ("/campaigns/CMP-SERV", "Automne Services"), ("/accounts?grade=Z", "No account matches"),
])
def test_every_page_renders_for_corporate(duck_api: Api, path: str, expected: str) -> None:
    page = signed_in(duck_api, "corp").get(path)
    assert page.status_code == 200, page.text[:500]
    assert expected in page.text
    assert "Traceback" not in page.text


def test_bu_member_pages_show_own_records_and_a_summary_of_others(duck_api: Api) -> None:
    client = signed_in(duck_api, "soft")
    account = client.get("/accounts/A2").text
    assert "Charlotte Logiciel" in account and "Sébastien Servicier" not in account
    assert "Services: 1 deals, 2 activities, 1 contacts" in account
    assert "D-SERV-1" not in account and "serv-secret-topic" not in account
    denied = client.get("/campaigns/CMP-SERV", headers={"Accept": "text/html"})
    assert denied.status_code == 404 and "Automne Services" not in denied.text
    assert "Automne Services" not in client.get("/campaigns").text


def test_page_writes_need_the_csrf_token(duck_api: Api) -> None:
    client = signed_in(duck_api, "soft")
    page = client.get("/accounts/A2").text
    token = re.search(r'"X-CSRF-Token": "([0-9a-f]+)"', page).group(1)
    url = "/ui/contacts/C2/buying-role"
    assert client.post(url, data={"buying_role": "champion"}).status_code == 403
    saved = client.post(url, data={"buying_role": "champion"}, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200 and "saved" in saved.text
    other_bu = client.post("/ui/contacts/C3/buying-role", data={"buying_role": "blocker"}, headers={"X-CSRF-Token": token})
    assert other_bu.status_code == 404
    viewer = signed_in(duck_api, "viewer")
    viewer_token = re.search(r'"X-CSRF-Token": "([0-9a-f]+)"', viewer.get("/").text).group(1)
    assert viewer.post(url, data={"buying_role": "user"}, headers={"X-CSRF-Token": viewer_token}).status_code == 403


def test_static_assets_are_vendored(duck_api: Api) -> None:
    client = TestClient(duck_api.client.app)
    for asset in ("vendor/echarts.min.js", "vendor/htmx.min.js", "app.css", "charts.js", "group_tree.js"):
        assert client.get(f"/static/{asset}").status_code == 200, asset


def test_an_entitys_group_page_opens_its_group_on_it(duck_api: Api) -> None:
    client = signed_in(duck_api, "corp")
    moved = client.get("/groups/A4", follow_redirects=False)  # A4: under A2, in group G1
    assert moved.status_code == 303 and moved.headers["location"] == "/groups/G1?focus=A4"
    page = client.get("/groups/A4")
    assert page.status_code == 200 and "Groupe Étoile SA" in page.text
    assert '"focus": "A4"' in page.text and "<script>" not in page.text  # page data, no inline script
    assert client.get("/groups/G1", follow_redirects=False).status_code == 200  # a head stays where it is
    assert client.get("/groups/NOPE", headers={"Accept": "text/html"}).status_code == 404


def test_an_unscored_account_says_not_scored_not_none(duck_api: Api) -> None:
    client = signed_in(duck_api, "corp")
    for account in ("A4", "J5"):  # too few firmographics to be graded
        page = client.get(f"/accounts/{account}").text
        assert "not scored" in page and "None ·" not in page, account
