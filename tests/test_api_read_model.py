"""The build's read model (`accountree.api.readmodel`): the same answers as the live queries, BU
scoping kept by the query layer, fresh after writes, and a fall-back to live reads whenever the
workspace changed behind it. Runs on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient

from accountree.api import create_app, readmodel
from accountree.api.access import Principal, ScopedReader
from accountree.api.reads import accounts, groups
from accountree.api.server import ReadCache, Server, to_json_bytes
from accountree.build import BuildOptions, build
from accountree.ingest import import_bundle
from accountree.kpi import refresh_accounts
from tests import test_api_fixtures as fx
from tests.conftest import write
from tests.test_api_fixtures import PRIVATE, USERS, Api

api = fx.api  # module-scoped: the built two-BU workspace, on both engines

V1 = "/api/v1"
ACCOUNTS = ("G1", "A2", "A3", "A4", "J5", "N1", "S1", "S2")


def _principal(user: str) -> Principal:
    role, bu = USERS[user]
    return Principal(user, role, bu)


def _readers(ws, user: str) -> tuple[ScopedReader, ScopedReader]:
    server = Server(ws)
    live = ScopedReader(ws.engine, _principal(user), server.catalog, read_model=False)
    model = ScopedReader(ws.engine, _principal(user), server.catalog, read_model=True)
    return live, model


def _same_as_live(ws) -> None:
    """Every account 360 and tree slice, for every user, is the live answer (numbers and order)."""
    for user in USERS:
        live, model = _readers(ws, user)
        for account_id in ACCOUNTS:
            expected = json.loads(to_json_bytes(accounts.live_account_360(live, account_id)))
            assert json.loads(accounts.account_360_json(model, account_id)) == expected, (user, account_id)
        for group, roots in (("G1", ("G1", "A2", "A4")), ("N1", ("N1",))):
            for root in roots:
                for depth in (0, 1, 2, 3):
                    assert groups.tree(model, group, root, depth) == json.loads(to_json_bytes(
                        groups.tree(live, group, root, depth))), (user, group, root, depth)
        assert groups.tree(model, "G1", focus="A4", depth=0)["path"] == ["G1", "A2", "A4"]
        for group in ("G1", "N1"):
            assert json.loads(to_json_bytes(groups.group_view(model, group))) == json.loads(to_json_bytes(
                groups.group_view(live, group))), (user, group)


def test_build_writes_a_current_read_model(api: Api) -> None:
    engine = api.ws.engine
    assert readmodel.state(engine)[0]
    assert engine.scalar("SELECT count(*) FROM api_account_360") == engine.scalar("SELECT count(*) FROM accounts") == 8
    # A2: Software and Services records, one row each; J5 (50/50, no controlling parent) a shared leaf under both
    assert sorted(r[0] for r in engine.fetchall("SELECT seller_bu FROM api_account_records WHERE account_id = 'A2'")) \
        == ["bu_serv", "bu_soft"]
    assert engine.fetchall("SELECT shown_under, account_id FROM api_tree_jvs") == [("A2", "J5"), ("N1", "J5")]
    assert api.client.app.state.server.model_state(engine)[0]
    assert api.get(f"{V1}/status", user="viewer").json()["read_model"] == {"current": True, "hint": None}


def test_read_model_answers_exactly_like_the_live_queries(api: Api) -> None:
    # timestamps as Python writes them: six digits of microseconds, or none (engines' JSON trims zeros)
    engine = api.ws.engine
    engine.execute("UPDATE accounts SET updated_at = CAST('2026-11-23 10:00:00.120000' AS TIMESTAMP) WHERE account_id = 'G1'")
    engine.execute("UPDATE accounts SET updated_at = CAST('2026-11-23 10:00:00' AS TIMESTAMP) WHERE account_id = 'A2'")
    readmodel.build(api.ws)
    assert api.get(f"{V1}/accounts/G1").json()["account"]["updated_at"] == "2026-11-23T10:00:00.120000"
    assert api.get(f"{V1}/accounts/A2").json()["account"]["updated_at"] == "2026-11-23T10:00:00"
    _same_as_live(api.ws)


def test_bu_members_read_only_their_bus_rows_of_the_read_model(api: Api) -> None:
    engine = api.ws.engine
    # the shared rows carry no BU's private record (only counts per BU for the summary line)
    shared = "".join(str(r) for t in (readmodel.SHARED, readmodel.CONTACTS, readmodel.SCORE_DETAILS)
                     for r in engine.fetchall(f'SELECT * FROM "{t}"'))
    assert not [s for bu in PRIVATE.values() for s in bu if s in shared]
    for user, other in (("soft", "bu_serv"), ("serv", "bu_soft")):
        _, model = _readers(api.ws, user)
        rows = model.fetchall("SELECT seller_bu, body FROM api_account_records")
        assert {bu for bu, _ in rows} == {USERS[user][1]}
        assert not [s for s in PRIVATE[other] if s in str(rows)]
        for table in (readmodel.DEALS, readmodel.ACTIVITIES, readmodel.MEDDIC):  # the typed lists: scoped alike
            rows = model.fetchall(f'SELECT * FROM "{table}"')
            assert {r[1] for r in rows} <= {USERS[user][1]} and (rows or table != readmodel.DEALS), table
            assert not [s for s in PRIVATE[other] if s in str(rows)], table
    _, corp = _readers(api.ws, "corp")
    assert {bu for bu, _ in corp.fetchall("SELECT seller_bu, body FROM api_account_records")} == {"bu_soft", "bu_serv"}
    body = api.get(f"{V1}/accounts/A2", user="soft").json()
    assert [o["summary"] for o in body["other_bus"]] == ["Services: 1 deals, 2 activities, 1 contacts"]
    assert {p["contact_id"] for p in body["stakeholders"]["data"]} == {"C1", "C2"}


def test_writes_through_the_api_keep_the_read_model_current(api: Api) -> None:
    engine = api.ws.engine
    before = api.get(f"{V1}/accounts/A2").json()  # cached now: the write must make it stale
    assert {p["contact_id"]: p["buying_role"] for p in before["stakeholders"]["data"]}["C2"] == "champion"
    assert api.put(f"{V1}/contacts/C2/buying-role", user="soft", json={"buying_role": "blocker"}).status_code == 200
    assert readmodel.state(engine)[0]  # refreshed in the write's transaction, still in use
    roles = {p["contact_id"]: p["buying_role"] for p in api.get(f"{V1}/accounts/A2", user="soft").json()["stakeholders"]["data"]}
    assert roles["C2"] == "blocker"
    alerts = api.get(f"{V1}/accounts/A2").json()["alerts"]["data"]
    if alerts:
        assert api.post(f"{V1}/alerts/{alerts[0]['alert_id']}/ack", json={}).status_code == 200
        assert alerts[0]["alert_id"] not in {a["alert_id"] for a in api.get(f"{V1}/accounts/A2").json()["alerts"]["data"]}
    # a manual link moves S1 into group G1: its 360, A3's children and G1's tree follow at once
    assert api.post(f"{V1}/accounts/S1/links", json={"parent_id": "A3"}).status_code == 200
    assert readmodel.state(engine)[0]
    assert api.get(f"{V1}/accounts/S1").json()["hierarchy"]["data"]["group_head_id"] == "G1"
    a3 = api.get(f"{V1}/groups/G1/tree", params={"root": "A3", "depth": 1}).json()["root"]
    assert [c["account_id"] for c in a3["children"]] == ["S1"]
    assert "S1" in [c["account_id"] for c in api.get(f"{V1}/accounts/A3").json()["hierarchy"]["data"]["children"]]
    # accepting the duplicate pair merges S2 into S1 (or the reverse): both ids answer with the survivor
    assert api.post(f"{V1}/quality/duplicates/PAIR-1/decision", json={"decision": "accept"}).status_code == 200
    assert readmodel.state(engine)[0]
    assert api.get(f"{V1}/accounts/S2").json()["account"]["account_id"] == \
        api.get(f"{V1}/accounts/S1").json()["account"]["account_id"]
    _same_as_live(api.ws)


def test_changes_behind_the_server_fall_back_to_live_reads(workspace, tmp_path) -> None:
    tokens = fx.build_workspace(workspace, tmp_path / "bundle")
    with TestClient(create_app(workspace), raise_server_exceptions=False) as client:
        client.app.state.server.state_ttl = 0.0  # re-read the stamp on every request
        headers = {"Authorization": f"Bearer {tokens['corp']}"}

        def deals() -> set[str]:
            return {d["deal_id"] for d in client.get(f"{V1}/accounts/A3", headers=headers).json()["deals"]["data"]}

        assert readmodel.state(workspace.engine)[0] and deals() == {"D-SOFT-2"}
        # an import by another process (no build yet): the read model no longer matches, reads go live
        write(tmp_path / "more" / "deals.csv", "deal_id,account_id,seller_bu,product,stage,amount,close_date\n"
                                                 "D-NEW-1,A3,bu_serv,P2,won,7000,2026-10-01\n")
        import_bundle(workspace, [str(tmp_path / "more")])
        assert not readmodel.state(workspace.engine)[0]
        assert deals() == {"D-SOFT-2", "D-NEW-1"}
        status = client.get(f"{V1}/status", headers=headers).json()["read_model"]
        assert not status["current"] and "accountree build" in status["hint"]
        build(workspace, BuildOptions(as_of=fx.AS_OF))
        assert readmodel.state(workspace.engine)[0] and deals() == {"D-SOFT-2", "D-NEW-1"}
        kpis = client.get(f"{V1}/accounts/A3", headers=headers).json()["kpis"]["data"]
        assert (kpis["revenue_cy"], kpis["revenue_py1"]) == (7000, 0)  # D-NEW-1 won in 2026
        # a partial build replaces the KPI tables: their mark goes, the read model is stale again
        build(workspace, BuildOptions(as_of=date(2027, 6, 30), stages=["kpis"]))
        assert not readmodel.state(workspace.engine)[0]
        kpis = client.get(f"{V1}/accounts/A3", headers=headers).json()["kpis"]["data"]
        assert (kpis["revenue_cy"], kpis["revenue_py1"]) == (0, 7000)  # 2026 is last year now
        build(workspace, BuildOptions(as_of=date(2027, 6, 30)))
        assert readmodel.state(workspace.engine)[0]
        _same_as_live(workspace)
        # an incremental KPI refresh rewrites rows in place: it is seen too
        workspace.engine.execute("UPDATE deals SET amount_rc = 9000 WHERE deal_id = 'D-NEW-1'")
        refresh_accounts(workspace, ["A3"])
        assert not readmodel.state(workspace.engine)[0]
        kpis = client.get(f"{V1}/accounts/A3", headers=headers).json()["kpis"]["data"]
        assert kpis["revenue_py1"] == 9000


def test_no_read_model_when_a_shared_source_becomes_bu_owned(duckdb_workspace, tmp_path) -> None:
    """If a table feeding the shared sections ever gains a seller_bu column, the read model is not
    built (it would show one BU's rows to everyone): the API stays on scoped live reads."""
    fx.build_workspace(duckdb_workspace, tmp_path / "bundle")
    duckdb_workspace.engine.execute("ALTER TABLE kam_alerts ADD COLUMN seller_bu VARCHAR")
    summary = readmodel.build(duckdb_workspace)
    assert "not built" in summary["read_model"] and "kam_alerts" in summary["read_model"]
    assert not readmodel.state(duckdb_workspace.engine)[0]
    assert not duckdb_workspace.engine.table_exists("api_account_360")


def test_read_cache_computes_each_key_once_at_a_time() -> None:
    cache = ReadCache(ttl=60)
    calls = []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "value"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute(("k",), slow))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["value"] * 6 and len(calls) == 1
    with pytest.raises(KeyError):  # a failure is not cached: the next caller computes again
        cache.get_or_compute(("bad",), lambda: {}["x"])
    assert cache.get_or_compute(("bad",), lambda: "ok") == "ok"


def test_a_kpi_refresh_from_the_command_line_keeps_the_read_model_current(workspace, tmp_path) -> None:
    """`accountree kpis refresh` recomputes the read model's rows it changes (the account's KPIs,
    its group's tree) and records the stamp: the API stays on the model, with the new numbers."""
    from typer.testing import CliRunner

    from accountree.cli import app

    fx.build_workspace(workspace, tmp_path / "bundle")
    assert readmodel.state(workspace.engine)[0]
    workspace.engine.execute("UPDATE deals SET amount_rc = 9000 WHERE deal_id = 'D-SOFT-2'")  # A3's open deal
    result = CliRunner().invoke(app, ["kpis", "refresh", "A3", "-w", workspace.location])
    assert result.exit_code == 0, result.output
    assert readmodel.state(workspace.engine)[0]
    _, model = _readers(workspace, "corp")
    kpis = json.loads(accounts.account_360_json(model, "A3"))["kpis"]["data"]
    assert kpis["open_pipeline"] == 9000 == workspace.engine.scalar(
        "SELECT open_pipeline FROM account_kpis WHERE account_id = 'A3'")
    _same_as_live(workspace)


def test_a_large_workspace_writes_the_read_model_by_batches_with_the_same_rows(api: Api, monkeypatch) -> None:
    """Above `BUILD_BATCH` accounts the 360 bodies are written a range of ids at a time (bounded
    memory at 1M): the same rows, the records still in account order, reads still the live answer."""
    engine = api.ws.engine

    def rows() -> dict[str, list[tuple]]:
        return {t: sorted(engine.fetchall(f'SELECT * FROM "{t}"'), key=repr)
                for t in (readmodel.SHARED, readmodel.RECORDS, *readmodel.ALL_TABLES[4:])}

    readmodel.build(api.ws)
    whole = rows()
    monkeypatch.setattr(readmodel, "BUILD_BATCH", 3)  # 8 accounts: batches of 3, 3 and 2
    ranges: list[tuple] = []
    shared_sql = readmodel.shared_sql

    def recording(cat, scoped):
        ranges.append(scoped)
        return shared_sql(cat, scoped)

    monkeypatch.setattr(readmodel, "shared_sql", recording)
    readmodel.build(api.ws)
    ids = sorted(ACCOUNTS)  # A2 A3 A4 G1 J5 N1 S1 S2
    assert ranges == [(None, ids[3]), (ids[3], ids[6]), (ids[6], None)]
    assert rows() == whole
    for table in (readmodel.RECORDS, *readmodel.ALL_TABLES[4:]):
        ids = [r[0] for r in engine.fetchall(f'SELECT account_id FROM "{table}"')]
        assert ids == sorted(ids), table  # stored in account order, as one statement writes them
    assert readmodel.state(engine)[0]
    _same_as_live(api.ws)


def test_lookup_indexes_come_after_the_commit_and_reads_do_not_need_them(api: Api) -> None:
    """The build commits the read model without its look-up indexes (DuckDB commits an index on a
    table created in the same transaction slowly); the `api` stage's `after` step makes them.
    In between, reads give the live answers and writes keep the model current, by scans."""
    engine = api.ws.engine
    names = {engine.index_name(table, column) for table, column in readmodel.INDEXES}
    assert len(names) == 9
    build(api.ws, BuildOptions(as_of=fx.AS_OF, stages=["api"]))
    assert names <= engine.index_names()
    assert readmodel.state(engine)[0]
    readmodel.build(api.ws)  # the stage alone: what the build's transaction holds
    assert not names & engine.index_names()
    assert readmodel.state(engine)[0]
    _same_as_live(api.ws)
    assert api.put(f"{V1}/contacts/C2/buying-role", user="soft", json={"buying_role": "influencer"}).status_code == 200
    assert readmodel.state(engine)[0]  # refreshed without the indexes
    roles = {p["contact_id"]: p["buying_role"] for p in api.get(f"{V1}/accounts/A2", user="soft").json()["stakeholders"]["data"]}
    assert roles["C2"] == "influencer"
    assert readmodel.prepare_reads(api.ws) == {"lookup_indexes": 9}
    assert names <= engine.index_names()
    assert readmodel.state(engine)[0]  # making the indexes leaves the stamp as it was
    assert readmodel.prepare_reads(api.ws) == {"lookup_indexes": 0}
    _same_as_live(api.ws)
