"""CLI commands while `accountree serve` holds a DuckDB workspace: they run through the server
(`accountree.store.channel`) and print exactly what they print without it; writes (`import`,
`build`, users) land in the server's database, which keeps serving and sees them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from accountree.bench.api_bench import _free_port, _start_server
from accountree.build import BuildOptions, build
from accountree.demo import generate_bundle
from accountree.ingest import import_bundle
from accountree.store import open_workspace
from accountree.store.channel import ChannelEngine, Sharing, _receive, _send, attach, control_path
from accountree.store.duckdb_engine import DuckDBEngine
from tests.conftest import write

AS_OF = date(2026, 11, 23)
pytestmark = pytest.mark.xdist_group("cli_beside_server")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "accountree.cli", *args], capture_output=True, text=True,
                          timeout=300, input=stdin, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("beside")
    demo = generate_bundle(tmp / "demo", accounts=150, seed=3, reference_date=AS_OF)
    path = tmp / "ws.duckdb"
    with open_workspace(str(path)) as ws:
        import_bundle(ws, [str(demo.out_dir)])
        build(ws, BuildOptions(as_of=AS_OF))
        head = ws.engine.scalar("SELECT group_head_id FROM hierarchy GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
        name = ws.engine.scalar("SELECT name FROM accounts WHERE account_id = ?", [head])
    (tmp / "head.json").write_text(json.dumps({"id": head, "name": name}))
    return path


def test_read_commands_print_the_same_through_a_running_server(demo_ws: Path, tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    shutil.copy(demo_ws, path)
    head = json.loads((demo_ws.parent / "head.json").read_text())
    location = str(path)
    commands = [["status"], ["status", "--json"], ["tree", head["id"]], ["kpis", "group", head["id"], "--json"],
                ["search", head["name"].split()[0]], ["export", "accounts"], ["kam", "coverage", "--json"]]
    alone = [cli(*c, "-w", location) for c in commands]
    assert all(r.returncode == 0 for r in alone), [r.stderr for r in alone]
    server = _start_server(location, port := _free_port())
    try:
        control = control_path(location)
        assert stat.S_IMODE(control.stat().st_mode) == 0o600
        for command, expected in zip(commands, alone, strict=True):
            beside = cli(*command, "-w", location)
            assert (beside.returncode, beside.stdout) == (0, expected.stdout), (command, beside.stderr[-2000:])
            assert "Traceback" not in beside.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=30) as page:  # still serving
            assert page.status == 200 and b"<form" in page.read()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert not control.exists()  # removed when the server stops
    assert cli("status", "-w", location).stdout == alone[0].stdout  # and the file opens directly again


def test_writes_through_a_running_server_land_and_the_server_sees_them(demo_ws: Path, tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    shutil.copy(demo_ws, path)
    location = str(path)
    write(tmp_path / "b" / "accounts.csv", "account_id,name,country\nNEW1,Zebulon Beside SAS,FR\n")
    write(tmp_path / "bad" / "deals.csv", "deal_id,account_id,stage,amount\nD1,NEW1,won,abc\n")
    server = _start_server(location, port := _free_port())
    try:
        imported = cli("import", str(tmp_path / "b"), "-w", location, "--json")
        assert imported.returncode == 0, imported.stdout + imported.stderr
        assert json.loads(imported.stdout)["files"][0]["inserted"] == 1
        refused = cli("import", str(tmp_path / "bad"), "-w", location, "--json")  # checked, nothing written
        assert refused.returncode == 2 and json.loads(refused.stdout)["total"] == 1
        built = cli("build", "-w", location, "--json")
        assert built.returncode == 0, built.stderr[-2000:]
        assert {s["name"] for s in json.loads(built.stdout)["stages"]} >= {"hierarchy", "kpis", "api"}
        status = json.loads(cli("status", "-w", location, "--json").stdout)
        assert status["imports"] == 2 and not status.get("imports_since_build")
        assert cli("user", "add", "ops", "--role", "admin", "--password-stdin", "-w", location,
                   stdin="a-long-password-1\n").returncode == 0
        token = cli("user", "token", "ops", "-w", location).stdout.strip()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/accounts/NEW1",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as answer:  # the server reads what the CLI wrote
            assert json.loads(answer.read())["account"]["name"] == "Zebulon Beside SAS"
        assert server.poll() is None
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    with open_workspace(location) as ws:  # the writes are in the file
        assert ws.engine.scalar("SELECT count(*) FROM deals WHERE deal_id = 'D1'") == 0
        assert ws.engine.scalar("SELECT group_head_id FROM hierarchy WHERE account_id = 'NEW1'") == "NEW1"


def test_a_second_server_is_told_what_to_do(demo_ws: Path, tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    shutil.copy(demo_ws, path)
    server = _start_server(str(path), _free_port())
    try:
        second = cli("serve", "-w", str(path), "--port", str(_free_port()))
        assert second.returncode == 1 and "Traceback" not in second.stderr
        message = " ".join(second.stderr.split())
        assert f"`accountree serve` (PID {server.pid}) holds this DuckDB workspace" in message
        assert f"kill {server.pid}" in message and "PostgreSQL" in message
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


# -- the channel itself, in one process ------------------------------------------------------------
@pytest.fixture
def shared(tmp_path: Path):
    location = str(tmp_path / "ws.duckdb")
    engine = DuckDBEngine(location)
    engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, label VARCHAR)")
    changes = []
    with Sharing(engine, location, on_change=lambda: changes.append(1)) as sharing:
        assert sharing.active
        yield engine, location, changes
    engine.close()


def _lock_message(location: str) -> str:
    return f'Could not set lock on file "{location}": Conflicting lock is held in python (PID {os.getpid()})'


def test_results_keep_their_types_and_errors_their_class(shared) -> None:
    engine, location, _ = shared
    remote = attach(location, _lock_message(location))
    assert isinstance(remote, ChannelEngine)
    query = ("SELECT 1::HUGEINT AS h, 2.50::DECIMAL(18,2) AS d, DATE '2026-01-02' AS day, TIMESTAMP '2026-01-02 03:04:05' "
             "AS ts, [1, 2] AS l, {'a': 1} AS s, MAP {'k': 1} AS m, 'x'::BLOB AS b, INTERVAL 3 DAY AS i, NULL AS n, "
             "uuid() IS NOT NULL AS u, 'é' AS txt, 1.5::DOUBLE AS f, ? AS p")
    params = [Decimal("1.25")]
    assert remote.fetchall(query, params) == engine.fetchall(query, params)
    assert remote.fetch_arrow(query, params).equals(engine.fetch_arrow(query, params))
    assert remote.fetch_described(query, params) == engine.fetch_described(query, params)
    assert remote.fetch_arrow("SELECT * FROM t WHERE false").schema == engine.fetch_arrow("SELECT * FROM t WHERE false").schema
    with pytest.raises(duckdb.CatalogException):
        remote.fetchall("SELECT * FROM no_such_table")
    remote.close()


def test_a_failed_or_abandoned_transaction_leaves_nothing_and_commits_are_seen(shared) -> None:
    engine, location, changes = shared
    remote = attach(location, _lock_message(location))
    with pytest.raises(ValueError), remote.transaction():
        remote.execute("INSERT INTO t VALUES (1, 'rolled back')")
        raise ValueError("the command failed")
    assert engine.scalar("SELECT count(*) FROM t") == 0
    with remote.transaction():
        remote.execute("INSERT INTO t VALUES (2, 'kept')")
        import pyarrow as pa

        assert remote.insert_arrow("t", pa.table({"id": [3, 4], "label": ["a", "b"]})) == 2
    assert engine.fetchall("SELECT id FROM t ORDER BY id") == [(2,), (3,), (4,)] and changes
    # a command that dies inside its transaction (its connection closes): the server rolls it back,
    # so the key it wrote is free again (while its transaction were open, the insert would conflict)
    remote._call("enter", block="transaction", args=[])
    remote.execute("INSERT INTO t VALUES (5, 'abandoned')")
    remote._sock.close()
    deadline = time.monotonic() + 10
    while True:
        try:
            engine.execute("INSERT INTO t VALUES (5, 'later')")
            break
        except (duckdb.TransactionException, duckdb.ConstraintException):
            assert time.monotonic() < deadline, "the abandoned transaction was not rolled back"
            time.sleep(0.1)
    assert engine.fetchall("SELECT label FROM t WHERE id = 5") == [("later",)]


def test_a_commands_locks_are_held_in_the_server(shared) -> None:
    engine, location, _ = shared
    remote = attach(location, _lock_message(location))
    taken = threading.Event()
    with remote.exclusive("import"):
        def server_writer() -> None:
            with engine.exclusive("import"):
                taken.set()

        thread = threading.Thread(target=server_writer)
        thread.start()
        assert not taken.wait(0.5)  # the server's own writer waits for the command's lock
    assert taken.wait(10)
    thread.join()
    remote.close()


def test_only_the_token_holder_gets_in(shared, tmp_path: Path) -> None:
    _, location, _ = shared
    info = json.loads(control_path(location).read_text())
    assert stat.S_IMODE(Path(info["socket"]).stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(info["socket"]).parent.stat().st_mode) == 0o700
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(info["socket"])
        _send(sock, {"token": "not-the-token", "protocol": 1})
        assert _receive(sock)["message"] == "wrong token"
    other = tmp_path / "other" / "ws.duckdb"  # another workspace, or another holder's PID: not this server
    assert attach(str(other), _lock_message(str(other))) is None
    assert attach(location, 'Conflicting lock is held in python (PID 1)') is None
