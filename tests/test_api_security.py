"""Security and reliability of the API (issue 17, items 6–9): concurrent writes, error answers,
sessions and credentials, login abuse, security headers."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accountree.api import create_app
from accountree.store import open_workspace
from tests import test_api_fixtures as fx
from tests.test_api_fixtures import Api

V1 = "/api/v1"
api = fx.api  # module-scoped: the two-BU workspace on both engines
duck_api = fx.duck_api
WIDE = 12  # accounts with one contact each: unrelated records


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def wide_api(request, tmp_path_factory) -> Iterator[Api]:
    """The two-BU workspace plus WIDE unrelated accounts, each with one shared contact."""
    tmp = tmp_path_factory.mktemp(f"wide_{request.param}")
    location, schema = fx._location(request.param, tmp)
    bundle = dict(fx.BUNDLE)
    bundle["accounts.csv"] += "".join(f"W{i},Weit {i} GmbH,,weit{i}.de,DE,Retail,10,1000,,,,\n" for i in range(WIDE))
    bundle["contacts.csv"] += "".join(f"WC{i},W{i},Person {i},CEO,,,2024-01-01,,\n" for i in range(WIDE))
    ws = open_workspace(location)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(fx, "BUNDLE", bundle)
            tokens = fx.build_workspace(ws, tmp / "bundle")
        with TestClient(create_app(ws), raise_server_exceptions=False) as client:
            yield Api(client, tokens, ws)
    finally:
        ws.close()
        fx._drop(schema)


def _concurrently(n: int, job) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = job(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# -- item 8: false write conflicts ------------------------------------------------------------
def test_concurrent_writes_to_unrelated_records_do_not_conflict(wide_api: Api) -> None:
    """Every write re-marked the read model's tables (`COMMENT ON TABLE`) and rewrote one stamp
    row: on DuckDB two writers of different accounts collided (409). Now they all succeed, and the
    read model stays in use with every change in it."""
    roles = ["champion", "economic_buyer", "user", "influencer"]

    def write(i: int):
        return wide_api.put(f"{V1}/contacts/WC{i}/buying-role", json={"buying_role": roles[i % 4]})

    answers = _concurrently(WIDE, write)
    assert Counter(r.status_code for r in answers) == {200: WIDE}, [r.text for r in answers if r.status_code != 200]
    status = wide_api.get(f"{V1}/status").json()
    assert status["read_model"]["current"] is True
    for i in range(WIDE):  # each 360 (from the read model) has its own change
        people = wide_api.get(f"{V1}/accounts/W{i}").json()["stakeholders"]["data"]
        assert [p["buying_role"] for p in people if p["contact_id"] == f"WC{i}"] == [roles[i % 4]]
    audits = wide_api.get(f"{V1}/audit", params={"page_size": 500}).json()["items"]
    assert sum(a["action"] == "set_buying_role" for a in audits) >= WIDE


def test_concurrent_writes_to_the_same_account_wait_for_each_other(wide_api: Api) -> None:
    """Two contacts of one account: both writes rewrite its 360 row; they queue, none answers 409."""
    answers = _concurrently(6, lambda i: wide_api.put(f"{V1}/contacts/{('C1', 'C2', 'C3')[i % 3]}/buying-role",
                                                      json={"buying_role": "champion" if i < 3 else "user"}))
    assert [r.status_code for r in answers] == [200] * 6, [r.text for r in answers]
    assert wide_api.get(f"{V1}/status").json()["read_model"]["current"] is True


def test_an_edit_outside_the_server_still_makes_the_read_model_stale(wide_api: Api) -> None:
    """The recorded edits count only what API writes did: a change made elsewhere is noticed."""
    from accountree.api import readmodel

    engine = wide_api.ws.engine
    assert readmodel.state(engine)[0]
    engine.execute("INSERT INTO kam_contact_roles (contact_id, buying_role, set_by, set_at) "
                   "VALUES ('WC0x', 'coach', 'cli', TIMESTAMP '2026-11-23 10:00:00')")
    try:
        assert not readmodel.state(engine)[0]
    finally:
        engine.execute("DELETE FROM kam_contact_roles WHERE contact_id = 'WC0x'")
    assert readmodel.state(engine)[0]


def test_conflicts_and_crashes_are_answered_without_reaching_the_asgi_server(duck_api: Api, monkeypatch,
                                                                            caplog) -> None:
    """A 409 or 500 used to be re-raised after the answer: the server logged a traceback and
    dropped the keep-alive connection. `raise_server_exceptions=True` fails on such a re-raise."""
    import duckdb

    from accountree.api import writes

    client = TestClient(duck_api.client.app, raise_server_exceptions=True)
    headers = {"Authorization": f"Bearer {duck_api.tokens['admin']}"}
    calls = []

    def conflicting(*args, **kwargs):
        calls.append(1)
        raise duckdb.TransactionException("TransactionContext Error: Conflict on tuple deletion!")

    monkeypatch.setattr("accountree.kam.stakeholders.set_buying_role", conflicting)
    with caplog.at_level(logging.INFO):
        answer = client.put(f"{V1}/contacts/C1/buying-role", json={"buying_role": "user"}, headers=headers)
        assert answer.status_code == 409 and answer.json()["error"] == "WriteConflict"
        assert len(calls) == getattr(writes, "WRITE_ATTEMPTS", 1)  # retried before answering
        monkeypatch.setattr("accountree.api.routes.admin.auth.list_users", lambda engine: 1 / 0)
        broken = client.get(f"{V1}/users", headers=headers)
        assert broken.status_code == 500 and broken.json()["error"] == "InternalError"
        assert "ZeroDivisionError" not in broken.text and "Traceback" not in broken.text
        assert client.get(f"{V1}/status", headers=headers).status_code == 200
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]


# -- item 6: sessions and credentials ---------------------------------------------------------
def _new_user(api: Api, name: str, role: str = "corporate") -> str:
    """A user of this test only (the module's users are shared with the other tests)."""
    from accountree.api.auth import add_user, new_token

    add_user(api.ws, name, role, fx.PASSWORD)
    return new_token(api.ws, name)


def _sign_in(app, name: str, password: str = fx.PASSWORD) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    answer = client.post("/login", data={"username": name, "password": password, "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def _csrf(client: TestClient) -> str:
    import re

    page = client.get("/")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


def _with_cookie(app, cookie: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    client.cookies.set("accountree_session", cookie)
    return client


def _alive(app, cookie: str) -> bool:
    answer = _with_cookie(app, cookie).get("/", follow_redirects=False)
    assert answer.status_code in (200, 303)
    return answer.status_code == 200


def test_a_session_cookie_dies_at_logout_even_replayed_or_after_a_restart(api: Api) -> None:
    app = api.client.app
    _new_user(api, "leaver")
    browser = _sign_in(app, "leaver")
    cookie = browser.cookies["accountree_session"]
    assert _alive(app, cookie)
    assert browser.get("/logout", follow_redirects=False).status_code == 405  # a GET (an <img>) signs nobody out
    assert browser.post("/logout", data={"csrf": "0" * 32}, follow_redirects=False).headers["location"] == "/"
    assert _alive(app, cookie)  # a cross-site POST without the page's token signs nobody out
    out = browser.post("/logout", data={"csrf": _csrf(browser)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert not _alive(app, cookie)  # the kept copy of the cookie is worthless
    restarted = create_app(api.ws)  # a restart brings back no ended session; live ones survive it
    assert not _alive(restarted, cookie)
    other = _sign_in(app, "leaver").cookies["accountree_session"]
    assert _alive(restarted, other)
    actions = [a["action"] for a in api.get(f"{V1}/audit", params={"page_size": 500}).json()["items"]
               if a["target_id"] == "leaver"]
    assert "logout" in actions and "login" in actions


def test_the_csrf_token_is_new_at_each_sign_in(api: Api) -> None:
    app = api.client.app
    _new_user(api, "twice")
    first, second = _sign_in(app, "twice"), _sign_in(app, "twice")
    token_1, token_2 = _csrf(first), _csrf(second)
    assert token_1 != token_2
    # one session's token is refused by the other session, its own is taken
    url = "/ui/contacts/C1/buying-role"
    assert second.post(url, data={"buying_role": "user"}, headers={"X-CSRF-Token": token_1}).status_code == 403
    assert second.post(url, data={"buying_role": "user"}, headers={"X-CSRF-Token": token_2}).status_code == 200


def test_admin_changes_to_a_user_take_effect_on_the_next_request(api: Api) -> None:
    app = api.client.app
    token = _new_user(api, "bob")
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.client.get(f"{V1}/status", headers=bearer).status_code == 200
    cookie = _sign_in(app, "bob").cookies["accountree_session"]

    changed = api.put(f"{V1}/users/bob/password", json={"password": "a-new-password-7"})
    assert changed.status_code == 200 and changed.json()["sessions_ended"] == 1
    assert not _alive(app, cookie)
    bad = api.client.post(f"{V1}/auth/token", json={"username": "bob", "password": fx.PASSWORD})
    assert bad.status_code == 401
    cookie = _sign_in(app, "bob", "a-new-password-7").cookies["accountree_session"]

    assert api.post(f"{V1}/users/bob/disable").json()["disabled"] is True
    assert api.client.get(f"{V1}/status", headers=bearer).status_code == 401  # not after a cache's delay
    assert not _alive(app, cookie)
    assert api.post(f"{V1}/users/bob/enable").status_code == 200
    assert api.client.get(f"{V1}/status", headers=bearer).status_code == 200
    cookie = _sign_in(app, "bob", "a-new-password-7").cookies["accountree_session"]

    revoked = api.post(f"{V1}/users/bob/revoke-tokens").json()
    assert revoked["tokens_revoked"] == 1 and revoked["sessions_ended"] == 1
    assert api.client.get(f"{V1}/status", headers=bearer).status_code == 401
    assert not _alive(app, cookie)

    assert api.post(f"{V1}/users/bob/disable", "corp").status_code == 403  # admins only
    assert api.client.delete(f"{V1}/users/bob").status_code == 401
    assert api.client.delete(f"{V1}/users/bob", headers={"Authorization": f"Bearer {api.tokens['admin']}"}).json()["deleted"]
    assert api.post(f"{V1}/users/bob/disable").status_code == 404
    assert "bob" not in {u["username"] for u in api.get(f"{V1}/users").json()["items"]}
    actions = [a["action"] for a in api.get(f"{V1}/audit", params={"page_size": 500}).json()["items"]
               if a["target_id"] == "bob"]
    for action in ("set_password", "disable_user", "enable_user", "revoke_tokens", "delete_user"):
        assert action in actions
    assert api.ws.engine.scalar("SELECT count(*) FROM users WHERE password_hash LIKE '$argon2%'") >= 1
    assert not api.ws.engine.scalar("SELECT count(*) FROM api_sessions WHERE session_hash LIKE 'ses_%'")


def test_the_last_admin_cannot_be_disabled_or_deleted(tmp_path: Path) -> None:
    from accountree.api.auth import LastAdminError, add_user, delete_user, set_disabled

    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        add_user(ws, "root", "admin", fx.PASSWORD)
        with pytest.raises(LastAdminError):
            set_disabled(ws, "root", True, "cli:test")
        with pytest.raises(LastAdminError):
            delete_user(ws, "root", "cli:test")
        add_user(ws, "second", "admin", fx.PASSWORD)
        assert set_disabled(ws, "root", True, "cli:test")["disabled"] is True
        with pytest.raises(LastAdminError):
            delete_user(ws, "second", "cli:test")
    finally:
        ws.close()


def test_cli_user_passwd_disable_delete_revoke_tokens(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from accountree.api.auth import add_user, check_password, new_session, new_token, session_principal
    from accountree.cli import app

    location = str(tmp_path / "ws.duckdb")
    ws = open_workspace(location)
    add_user(ws, "root", "admin", fx.PASSWORD)
    add_user(ws, "eve", "corporate", fx.PASSWORD)
    new_token(ws, "eve")
    cookie = new_session(ws.engine, "eve")
    ws.close()
    runner = CliRunner()

    def cli(*args: str, stdin: str | None = None):
        result = runner.invoke(app, ["user", *args, "--workspace", location, "--json"], input=stdin)
        return result

    done = cli("passwd", "eve", "--password-stdin", stdin="brand-new-secret\n")
    assert done.exit_code == 0, done.output
    assert cli("passwd", "eve", "--password-stdin", stdin="short\n").exit_code != 0
    assert cli("revoke-tokens", "eve").exit_code == 0
    assert cli("disable", "eve").exit_code == 0
    assert cli("disable", "root").exit_code != 0  # the last admin
    assert cli("disable", "nobody").exit_code != 0
    ws = open_workspace(location)
    try:
        assert session_principal(ws.engine, cookie) is None
        assert ws.engine.scalar("SELECT count(*) FROM api_tokens WHERE username = 'eve' AND NOT revoked") == 0
        assert check_password(ws.engine, "eve", "brand-new-secret") is None  # disabled
        ws.engine.execute("UPDATE users SET disabled = false WHERE username = 'eve'")
        assert check_password(ws.engine, "eve", "brand-new-secret") is not None
        actors = {r[0] for r in ws.engine.fetchall("SELECT username FROM audit_log WHERE target_id = 'eve'")}
        assert actors and all(a.startswith("cli:") for a in actors)
    finally:
        ws.close()
    assert cli("delete", "eve").exit_code == 0
    ws = open_workspace(location)
    try:
        assert not ws.engine.scalar("SELECT count(*) FROM users WHERE username = 'eve'")
        assert not ws.engine.scalar("SELECT count(*) FROM api_tokens WHERE username = 'eve'")
    finally:
        ws.close()


# -- item 7: login abuse ----------------------------------------------------------------------
@pytest.fixture
def fresh_limits(duck_api: Api) -> Iterator[Api]:
    from accountree.api.auth import LoginLimiter

    server = duck_api.client.app.state.server
    server.limiter = LoginLimiter()
    yield duck_api
    server.limiter = LoginLimiter()


def test_one_address_spraying_many_user_names_is_limited(fresh_limits: Api) -> None:
    client = fresh_limits.client
    codes = [client.post(f"{V1}/auth/token", json={"username": f"user{i}", "password": "Winter2026!"}).status_code
             for i in range(100)]
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
    # a real user from that address is refused too while the address is blocked; others are not
    assert client.post(f"{V1}/auth/token", json={"username": "corp", "password": fx.PASSWORD}).status_code == 429
    other = TestClient(client.app, raise_server_exceptions=False, client=("198.51.100.7", 1234))
    assert other.post(f"{V1}/auth/token", json={"username": "corp", "password": fx.PASSWORD}).status_code == 200


def test_guesses_from_many_addresses_are_limited_per_user(fresh_limits: Api) -> None:
    app = fresh_limits.client.app
    codes = []
    for i in range(200):  # 40 addresses, 5 guesses each
        client = TestClient(app, raise_server_exceptions=False, client=(f"203.0.113.{i % 40}", 4000))
        codes.append(client.post("/login", data={"username": "viewer", "password": f"guess-{i}"}).status_code)
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
    failed = fresh_limits.ws.engine.fetchall(
        "SELECT client_ip FROM audit_log WHERE action = 'login_failed' AND username = 'viewer'")
    assert len(failed) == 20 and len({r[0] for r in failed}) == 20  # each refused sign-in is in the audit log


def test_the_total_of_failed_logins_is_limited() -> None:
    from accountree.api.auth import LoginLimiter, TooManyAttemptsError

    limiter = LoginLimiter(total=30)
    for i in range(30):  # 30 users, 30 addresses: no other count is full
        limiter.check(f"u{i}", f"10.0.0.{i}")
        limiter.failed(f"u{i}", f"10.0.0.{i}")
    with pytest.raises(TooManyAttemptsError, match="on this server"):
        limiter.check("someone", "10.9.9.9")


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(duck_api: Api) -> None:
    engine = duck_api.ws.engine

    def failed_from(app, peer: str, forwarded: str) -> str:
        client = TestClient(app, raise_server_exceptions=False, client=(peer, 1))
        name = f"xff-{uuid.uuid4().hex[:8]}"
        assert client.post("/login", data={"username": name, "password": "x"},
                           headers={"X-Forwarded-For": forwarded}).status_code == 401
        return engine.scalar("SELECT client_ip FROM audit_log WHERE action = 'login_failed' AND username = ?", [name])

    assert failed_from(duck_api.client.app, "192.0.2.10", "1.2.3.4") == "192.0.2.10"  # default: ignored
    behind = create_app(duck_api.ws, trusted_proxies=["192.0.2.0/24"])
    assert failed_from(behind, "192.0.2.10", "1.2.3.4") == "1.2.3.4"
    assert failed_from(behind, "192.0.2.10", "6.6.6.6, 1.2.3.5, 192.0.2.11") == "1.2.3.5"  # the proxy's own hop
    assert failed_from(behind, "198.51.100.1", "1.2.3.6") == "198.51.100.1"  # not from the proxy: ignored


def test_password_hashing_runs_on_a_small_pool_not_on_request_threads(duck_api: Api, monkeypatch) -> None:
    """20 concurrent sign-ins with slow hashing: at most `workers` hash at once, and a signed-in
    request is answered meanwhile (the sign-ins used to hold every request thread)."""
    import anyio.to_thread

    from accountree.api import auth

    app = duck_api.client.app
    server = app.state.server
    server.limiter = auth.LoginLimiter(per_ip=1000, per_user=1000, limit=1000, total=1000)
    release, running, peak = threading.Event(), [0], [0]
    lock = threading.Lock()
    real_verify = auth._verify

    def slow_verify(stored, password):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(20)
        with lock:
            running[0] -= 1
        return real_verify(stored, password)

    monkeypatch.setattr(auth, "_verify", slow_verify)
    portal = duck_api.client.portal
    limiter = portal.call(lambda: _thread_limiter(anyio.to_thread))
    before = limiter.total_tokens
    portal.call(lambda: setattr(limiter, "total_tokens", 8))  # `accountree serve --threads 8`
    codes: list[int] = []
    try:
        logins = [threading.Thread(target=lambda: codes.append(duck_api.client.post(
            f"{V1}/auth/token", json={"username": "corp", "password": "wrong-password"}).status_code)) for _ in range(20)]
        for t in logins:
            t.start()
        answer: list = []
        reader = threading.Thread(target=lambda: answer.append(duck_api.get(f"{V1}/status")))
        reader.start()
        reader.join(15)
        assert answer and answer[0].status_code == 200  # not stuck behind the sign-ins
        release.set()
        for t in logins:
            t.join(30)
    finally:
        release.set()
        portal.call(lambda: setattr(limiter, "total_tokens", before))
        server.limiter = auth.LoginLimiter()
    assert peak[0] <= server.hashing.workers
    assert sorted(set(codes)) in ([401], [401, 429])


def _thread_limiter(to_thread):
    return to_thread.current_default_thread_limiter()


# -- item 9: security headers -----------------------------------------------------------------
def test_every_answer_carries_the_security_headers(duck_api: Api) -> None:
    client = duck_api.client
    browser = _sign_in(client.app, "corp")
    answers = {"api": duck_api.get(f"{V1}/accounts/A2"), "page": browser.get("/accounts/A2"),
               "login": client.get("/login"), "401": client.get(f"{V1}/accounts"),
               "404": duck_api.get(f"{V1}/accounts/NOPE"), "static": client.get("/static/app.css")}
    for what, answer in answers.items():
        assert answer.headers["x-frame-options"] == "DENY", what
        assert answer.headers["x-content-type-options"] == "nosniff", what
        assert answer.headers["referrer-policy"] == "same-origin", what
        if what != "static":
            assert answer.headers["cache-control"] == "no-store", what
    assert "no-store" not in answers["static"].headers.get("cache-control", "")
    assert "strict-transport-security" not in answers["api"].headers  # plain HTTP by default


def test_secure_cookies_behind_https(duck_api: Api) -> None:
    app = create_app(duck_api.ws, secure_cookies=True)
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    answer = client.post("/login", data={"username": "corp", "password": fx.PASSWORD}, follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    plain = TestClient(duck_api.client.app, raise_server_exceptions=False)
    assert "Secure" not in plain.post("/login", data={"username": "corp", "password": fx.PASSWORD},
                                      follow_redirects=False).headers["set-cookie"]


def test_the_import_history_hides_server_paths_and_the_os_user_from_non_admins(duck_api: Api) -> None:
    engine = duck_api.ws.engine
    files = [r[0] for r in engine.fetchall("SELECT DISTINCT bundle FROM imports")]
    by = {r[0] for r in engine.fetchall("SELECT DISTINCT imported_by FROM imports")}
    assert any(f and f.startswith("/") for f in files) and by
    for user in ("corp", "soft", "viewer"):
        for fmt in ("csv", "json"):
            text = duck_api.get(f"{V1}/exports/imports", user, params={"format": fmt}).text
            assert "accounts.csv" in text
            for secret in [*(f for f in files if f), *by]:
                assert secret not in text, (user, fmt, secret)
        listed = duck_api.get(f"{V1}/imports", user).json()["items"]
        assert listed and all(i["imported_by"] is None for i in listed)
    admin = duck_api.get(f"{V1}/exports/imports", params={"format": "json"}).json()
    assert {r["imported_by"] for r in admin} == by


def test_only_admins_manage_users(api: Api) -> None:
    """Every user-management endpoint × every other role: 403, and nothing changed."""
    calls = [("PUT", f"{V1}/users/viewer/password", {"password": "another-password-1"}),
             ("POST", f"{V1}/users/viewer/disable", None), ("POST", f"{V1}/users/viewer/enable", None),
             ("POST", f"{V1}/users/viewer/revoke-tokens", None), ("DELETE", f"{V1}/users/viewer", None)]
    for user in ("corp", "soft", "serv", "viewer"):
        for method, path, body in calls:
            answer = api.client.request(method, path, json=body,
                                        headers={"Authorization": f"Bearer {api.tokens[user]}"})
            assert answer.status_code == 403, (user, method, path, answer.text)
    assert api.get(f"{V1}/status", "viewer").status_code == 200  # token intact, user enabled
    assert api.client.post(f"{V1}/auth/token", json={"username": "viewer", "password": fx.PASSWORD}).status_code == 200
