"""The PostgreSQL team server: a connection pool, concurrent writers, imports one at a time.

Two applications on one PostgreSQL schema stand for two `accountree serve` processes (or a server
and a CLI): the in-process record locks do not span them, so only the database can keep their
writes from overwriting each other.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accountree.api import create_app
from accountree.ingest import import_bundle
from accountree.store import open_workspace
from tests.conftest import PG_AVAILABLE, PG_URL, write
from tests.test_api_fixtures import build_workspace

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG_AVAILABLE, reason=f"PostgreSQL does not answer at {PG_URL}")]


@pytest.fixture
def pg_location() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{PG_URL}?schema={schema}"
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Iterator[tuple]:
    """The two-BU workspace served by two applications (two server processes' worth)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    location = f"{PG_URL}?schema={schema}"
    ws1, ws2 = open_workspace(location), None
    try:
        tokens = build_workspace(ws1, tmp_path_factory.mktemp("team") / "bundle")
        ws2 = open_workspace(location)
        with TestClient(create_app(ws1), raise_server_exceptions=False) as c1, \
                TestClient(create_app(ws2), raise_server_exceptions=False) as c2:
            yield c1, c2, tokens, ws1
    finally:
        ws1.close()
        if ws2 is not None:
            ws2.close()
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_requests_hold_their_own_connections_side_by_side(team) -> None:
    c1, _, _, _ = team
    server = c1.app.state.server
    assert server.pool.size >= 4
    barrier = threading.Barrier(4, timeout=10)  # one connection behind a lock would never get 4 in

    def borrow(_: int) -> int:
        with server.engine() as engine:
            barrier.wait()
            return int(engine.scalar("SELECT pg_backend_pid()"))

    with ThreadPoolExecutor(4) as pool:
        pids = list(pool.map(borrow, range(4)))
    assert len(set(pids)) == 4
    # every pooled connection works in the workspace's schema
    with server.engine() as engine:
        assert engine.scalar("SELECT count(*) FROM accounts") == 8


def test_exclusive_makes_other_connections_wait(pg_location: str) -> None:
    ws1, ws2 = open_workspace(pg_location), open_workspace(pg_location)
    try:
        order: list[str] = []
        entered = threading.Event()

        def second() -> None:
            entered.wait(5)
            with ws2.engine.exclusive("import"):
                order.append("second in")

        t = threading.Thread(target=second)
        t.start()
        with ws1.engine.exclusive("import"):
            entered.set()
            time.sleep(0.5)  # the other connection asks now and must wait
            order.append("first out")
        t.join(10)
        assert order == ["first out", "second in"]
        # inside a transaction the lock is held until the commit
        with ws1.engine.transaction(), ws1.engine.exclusive("k"):
            held = ws2.engine.scalar("SELECT pg_try_advisory_lock(hashtextextended(current_schema() || ':k', 0))")
            assert held is False
        assert ws2.engine.scalar("SELECT pg_try_advisory_lock(hashtextextended(current_schema() || ':k', 0))") is True
    finally:
        ws1.close()
        ws2.close()


def _headers(tokens: dict[str, str], user: str = "admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[user]}"}


def test_concurrent_links_from_two_servers_are_all_kept(team) -> None:
    """Manual links rebuild the whole hierarchy: two servers at once must not lose each other's."""
    c1, c2, tokens, ws = team
    links = [(c1, "S1", "G1"), (c2, "S2", "G1"), (c1, "N1", "A3"), (c2, "A4", "A3")]

    def post(job) -> int:
        client, child, parent = job
        return client.post(f"/api/v1/accounts/{child}/links", json={"parent_id": parent},
                           headers=_headers(tokens)).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(post, links))
    assert statuses == [200, 200, 200, 200]
    e = ws.engine
    assert e.fetchall("SELECT child_id, parent_id FROM manual_links WHERE action = 'link' ORDER BY child_id") == \
        [("A4", "A3"), ("N1", "A3"), ("S1", "G1"), ("S2", "G1")]
    # the derived hierarchy saw every link (no rebuild from a snapshot that missed another's)
    heads = dict(e.fetchall("SELECT account_id, group_head_id FROM hierarchy WHERE account_id IN ('S1', 'S2', 'N1', 'A4')"))
    assert heads == {"S1": "G1", "S2": "G1", "N1": "G1", "A4": "G1"}
    assert e.fetchall("SELECT parent_id FROM hierarchy WHERE account_id = 'A4'") == [("A3",)]
    assert e.scalar("SELECT count(DISTINCT change_id) FROM hierarchy_changes") == 4
    assert e.scalar("SELECT count(*) FROM audit_log WHERE action = 'add_link'") == 4


def test_concurrent_edits_of_one_contact_are_each_recorded(team) -> None:
    c1, c2, tokens, ws = team
    roles = ["champion", "influencer", "user", "buyer", "blocker", "other"] * 2

    def put(k: int) -> int:
        client = (c1, c2)[k % 2]
        return client.put("/api/v1/contacts/C1/buying-role", json={"buying_role": roles[k]},
                          headers=_headers(tokens)).status_code

    before = ws.engine.scalar("SELECT count(*) FROM audit_log WHERE action = 'set_buying_role'")
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(put, range(len(roles))))
    assert statuses == [200] * len(roles)
    assert ws.engine.scalar("SELECT count(*) FROM audit_log WHERE action = 'set_buying_role'") - before == len(roles)
    # the contact ends with the role of the last audited write: writes applied one after the other
    last = ws.engine.scalar("SELECT details FROM audit_log WHERE action = 'set_buying_role' "
                            "ORDER BY occurred_at DESC, audit_id LIMIT 1")
    # one role row, never two (a delete + insert racing another would leave both or fail on the key)
    rows = ws.engine.fetchall("SELECT buying_role FROM kam_contact_roles WHERE contact_id = 'C1'")
    assert len(rows) == 1 and rows[0][0] in last


ACCOUNTS = ("account_id,name,country\n" + "".join(f"A{i},Account {i},FR\n" for i in range(300)))


def _bu_bundle(folder: Path, bu: str) -> Path:
    write(folder / "accounts.csv", ACCOUNTS)  # both BUs send the same accounts: their keys race
    write(folder / "seller_bus.csv", f"bu_id,name\n{bu},{bu}\n")
    write(folder / "deals.csv", "deal_id,account_id,seller_bu,stage,amount,close_date\n"
          + "".join(f"{bu}-D{i},A{i},{bu},won,{1000 + i},2026-01-15\n" for i in range(300)))
    return folder


def test_imports_by_several_bus_at_once_are_written_one_at_a_time(pg_location: str, tmp_path: Path) -> None:
    open_workspace(pg_location).close()  # migrated once, before the race
    bus = ["bu_a", "bu_b", "bu_c"]
    folders = [_bu_bundle(tmp_path / bu, bu) for bu in bus]
    start = threading.Barrier(len(bus), timeout=30)

    def run(folder: Path) -> None:
        with open_workspace(pg_location) as ws:
            start.wait()
            import_bundle(ws, [str(folder)])

    with ThreadPoolExecutor(len(bus)) as pool:
        for future in [pool.submit(run, f) for f in folders]:
            future.result()  # no duplicate key, no failed import
    with open_workspace(pg_location) as ws:
        e = ws.engine
        assert e.scalar("SELECT count(*) FROM accounts") == 300
        assert e.fetchall("SELECT seller_bu, count(*) FROM deals GROUP BY seller_bu ORDER BY 1") == \
            [(bu, 300) for bu in bus]
        assert e.scalar("SELECT count(DISTINCT import_id) FROM imports") == 3
        # the first import inserted the accounts; the others found them unchanged
        assert e.scalar("SELECT sum(inserted) FROM imports WHERE table_name = 'accounts'") == 300


def test_more_concurrent_requests_than_connections_do_not_starve(team, monkeypatch) -> None:
    """40 requests at once on a pool of 6: requests wait for a connection in the event loop, not on
    the request threads (a request holding a connection then always finds a thread to finish)."""
    _, _, tokens, ws = team
    monkeypatch.setenv("ACCOUNTREE_PG_POOL", "6")
    paths = ["/api/v1/accounts/A2", "/api/v1/groups/G1", "/api/v1/accounts/N1", "/api/v1/accounts?q=Etoile"]
    app = create_app(ws)

    async def serve_threads() -> None:  # as `accountree serve --threads 8`
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = 8

    app.router.on_startup.append(serve_threads)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.app.state.server.pool.size == 6
        started = time.monotonic()
        with ThreadPoolExecutor(40) as pool:
            statuses = list(pool.map(lambda k: client.get(paths[k % 4], headers=_headers(tokens)).status_code,
                                     range(80)))
        assert statuses == [200] * 80
        assert time.monotonic() - started < 25  # a starved pool waits 30 s, then fails


def test_concurrent_meddic_edits_of_one_deal_each_keep_their_element(pg_location: str, tmp_path: Path) -> None:
    """Six users (six connections: six server processes) each fill one MEDDIC element of one deal at
    once: the row is read and rewritten under the deal's lock, so all six elements are kept."""
    from accountree.kam import update_meddic
    from accountree.kam.meddic import ELEMENTS

    write(tmp_path / "b" / "accounts.csv", "account_id,name\nA1,Alpha SAS\n")
    write(tmp_path / "b" / "deals.csv", "deal_id,account_id,stage,amount,close_date\nD1,A1,negotiation,1000,2026-09-30\n")
    with open_workspace(pg_location) as ws:
        import_bundle(ws, [str(tmp_path / "b")])
    start = threading.Barrier(len(ELEMENTS), timeout=30)

    def edit(element: str) -> None:
        with open_workspace(pg_location) as ws:
            start.wait()
            update_meddic(ws, "D1", {element: f"set by {element}"}, user=element)

    with ThreadPoolExecutor(len(ELEMENTS)) as pool:
        for future in [pool.submit(edit, e) for e in ELEMENTS]:
            future.result()
    with open_workspace(pg_location) as ws:
        row = ws.engine.fetch_dicts("SELECT * FROM meddic WHERE deal_id = 'D1'")
    assert len(row) == 1
    assert {e: row[0][e] for e in ELEMENTS} == {e: f"set by {e}" for e in ELEMENTS}
