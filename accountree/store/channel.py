"""A DuckDB workspace held by `accountree serve`, used by CLI commands through the server.

DuckDB lets one process open a file to write (or many to read only, none writing); `accountree
serve` keeps its workspace open for its whole life. So that every command still works beside it,
the server opens a **local channel** and the CLI's engine runs its SQL through it:

- on start, the server listens on a Unix socket in a private folder (`0700`, socket `0600`) and
  writes a *control file* beside the workspace, `<workspace>.serve` (`0600`): its PID, the
  socket's path and a random token. It removes both when it stops.
- when a command meets the file lock of that PID, `open_workspace` connects to the socket, proves
  it holds the token (compared in constant time; the server also checks that the peer runs as
  its own OS user) and gets a `ChannelEngine`: an `Engine` whose statements, results, Arrow
  inserts, transactions and locks run on a cursor of the server's own connection, one per
  command, in a thread of the server.

Everything else of the command runs in the CLI's process as usual (its options, files, output,
`--json`): a command prints exactly what it prints without a server. Writes (`build`, `import`,
`resolve`, …) run in the server's database under the same transactions and `Engine.exclusive`
locks as the server's own writes; a command that fails or is interrupted leaves nothing written
(its transaction is rolled back when its connection ends), and the server stays up. The server's
read cache is cleared after a command's writes.

Nothing is reachable from the network: the socket is a file only the server's user can open.
Messages are pickles of plain values read with an unpickler that accepts no class but dates,
decimals and UUIDs (Arrow data travels as Arrow IPC bytes inside them).
"""

from __future__ import annotations

import contextlib
import hmac
import io
import json
import os
import pickle
import re
import secrets
import select
import shutil
import socket
import stat
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from accountree.errors import WorkspaceError
from accountree.store.duckdb_engine import DuckDBEngine
from accountree.store.engine import Engine, Params

PROTOCOL = 1
CONTROL_SUFFIX = ".serve"
INSERT_CHUNK_ROWS = 100_000
_HELLO_LIMIT = 64 * 1024          # bytes a message may have before the token is checked
_MESSAGE_LIMIT = 4 * 1024 ** 3    # an Arrow chunk of an import stays far below
_HEADER = struct.Struct("!Q")
# Context managers a command may open on the server's side, by name (`Engine` methods).
_BLOCKS = ("transaction", "bulk_work", "small_work", "large_statements", "exclusive")
_READS = ("SELECT", "WITH", "FROM", "DESCRIBE", "SHOW", "SUMMARIZE", "PRAGMA", "EXPLAIN", "(")


# -- messages ------------------------------------------------------------------------------------
class _Values(pickle.Unpickler):
    """Plain values only: no class can be named but these (the pickle module's own advice)."""

    ALLOWED = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta"),
               ("datetime", "timezone"), ("decimal", "Decimal"), ("uuid", "UUID"), ("zoneinfo", "ZoneInfo._unpickle"),
               ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"), ("builtins", "bytearray")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a value this channel carries")


def _plain(value: Any) -> Any:
    """Parameters as plain Python values (a NumPy or Arrow scalar becomes its Python value)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, pa.Scalar):
        return value.as_py()
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


def _send(sock: socket.socket, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(data)) + data)


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:], size - got)
        if not n:
            raise ConnectionError("the channel was closed")
        got += n
    return bytes(buffer)


def _receive(sock: socket.socket, limit: int = _MESSAGE_LIMIT) -> Any:
    (size,) = _HEADER.unpack(_receive_exactly(sock, _HEADER.size))
    if size > limit:
        raise ConnectionError(f"a message of {size} bytes is over the channel's limit")
    return _Values(io.BytesIO(_receive_exactly(sock, size))).load()


def _ipc(data: pa.Table | pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write(data)
    return sink.getvalue().to_pybytes()


def _table(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(data).read_all()


def control_path(location: str) -> Path:
    """`<workspace>.serve`: where a server holding the DuckDB file `location` says how to reach it."""
    path = Path(location).expanduser().resolve()
    return path.with_name(path.name + CONTROL_SUFFIX)


def _error_reply(err: BaseException) -> dict[str, str]:
    kind = type(err)
    return {"error": f"{kind.__module__}.{kind.__qualname__}", "message": str(err)}


def _raise_reply(reply: dict[str, str]) -> None:
    """The server's error as the same exception class where it is DuckDB's (callers tell a write
    conflict or a missing table apart by class), else a `ChannelError`."""
    module, _, name = reply["error"].rpartition(".")
    if module.lstrip("_").startswith("duckdb"):
        kind = getattr(duckdb, name, None)
        if isinstance(kind, type) and issubclass(kind, duckdb.Error):
            raise kind(reply["message"])
    raise ChannelError(f"the server could not run a statement of this command: {reply['error']}: {reply['message']}")


class ChannelError(WorkspaceError):
    """The running server's channel failed (it stopped, or refused this command)."""


# -- the server's side ---------------------------------------------------------------------------
class _Session:
    """One command's connection: a cursor of the server's connection and what the command opened."""

    def __init__(self, engine: DuckDBEngine, sock: socket.socket) -> None:
        self.engine = engine
        self.sock = sock
        self.blocks: list[Any] = []  # open context managers, innermost last
        self.reader: pa.RecordBatchReader | None = None
        self.wrote = False
        self.busy = threading.Event()
        self.done = threading.Event()

    def _close_reader(self) -> None:
        if self.reader is not None:
            with contextlib.suppress(Exception):
                self.reader.close()
            self.reader = None

    def handle(self, request: dict[str, Any]) -> Any:
        op = request["op"]
        engine = self.engine
        if op not in ("next_batch", "close_batches"):
            self._close_reader()  # any other statement ends a streamed result, as on one connection
        params = request.get("params")
        if op == "execute":
            self.wrote = True
            engine._execute(request["sql"], params)
            return None
        if op == "fetchall":
            if not request["sql"].lstrip().upper().startswith(_READS):  # an UPDATE … RETURNING
                self.wrote = True
            return engine._fetchall(request["sql"], params)
        if op == "described":
            cursor = engine.con.execute(request["sql"], params)
            return [d[0] for d in cursor.description], cursor.fetchall()
        if op == "create_as":
            self.wrote = True
            return engine._create_as(request["target"], request["sql"], params, temporary=request["temporary"],
                                     until_commit=request["until_commit"])
        if op == "insert":
            self.wrote = True
            return engine.insert_arrow(request["table"], _table(request["ipc"]))
        if op == "empty_result":
            return _ipc(engine._empty_result(request["sql"], params))
        if op == "open_batches":
            self.reader = engine.con.sql(request["sql"], params=params).to_arrow_reader(request["batch_rows"])
            return None
        if op == "next_batch":
            if self.reader is None:
                raise WorkspaceError("no result is being read")
            try:
                return _ipc(self.reader.read_next_batch())
            except StopIteration:
                self._close_reader()
                return None
        if op == "close_batches":
            self._close_reader()
            return None
        if op == "enter":
            name = request["block"]
            if name not in _BLOCKS:
                raise WorkspaceError(f"unknown block {name!r}")
            block = getattr(engine, name)(*request.get("args", ()))
            block.__enter__()
            self.blocks.append(block)
            return None
        if op == "exit":
            self._exit(failed=request["failed"])
            return None
        if op == "ping":
            return "pong"
        raise WorkspaceError(f"unknown operation {op!r}")

    def _exit(self, failed: bool) -> None:
        block = self.blocks.pop()
        if not failed:
            block.__exit__(None, None, None)
            return
        error = _CommandFailed("the command failed or stopped")
        with contextlib.suppress(_CommandFailed):
            block.__exit__(_CommandFailed, error, None)  # a transaction rolls back, a lock is released

    def unwind(self) -> None:
        """The command went away: roll back what it left open, release its locks."""
        self._close_reader()
        while self.blocks:
            with contextlib.suppress(Exception):
                self._exit(failed=True)

    def watch(self) -> None:
        """While a statement runs, a command that disconnects (Ctrl-C) interrupts it."""
        while not self.done.is_set():
            if not self.busy.wait(timeout=0.5):
                continue
            try:
                readable, _, _ = select.select([self.sock], [], [], 0.5)
                if readable and self.busy.is_set():
                    if not self.sock.recv(1, socket.MSG_PEEK):
                        if self.busy.is_set() and not self.done.is_set():
                            with contextlib.suppress(Exception):  # the statement may just have ended
                                self.engine.con.interrupt()
                        return
                    self.done.wait(0.5)  # data ahead of its turn: not a disconnection
            except (OSError, ValueError):  # the socket was closed
                return


class _CommandFailed(Exception):
    pass


class Sharing:
    """The channel of a serving process (see the module's docstring). `start()` does nothing where
    it does not apply (PostgreSQL: every process opens the workspace itself; an in-memory DuckDB;
    no Unix sockets)."""

    def __init__(self, engine: Engine, location: str, on_change: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.location = location
        self.on_change = on_change
        self.control: Path | None = None
        self._folder: str | None = None
        self._listener: socket.socket | None = None
        self._token = secrets.token_urlsafe(32)
        self._sessions: dict[socket.socket, _Session | None] = {}
        self._threads: set[threading.Thread] = set()
        self._guard = threading.Lock()
        self._stopping = False

    @property
    def active(self) -> bool:
        return self._listener is not None

    def start(self) -> Sharing:
        if not isinstance(self.engine, DuckDBEngine) or self.location == ":memory:" or not hasattr(socket, "AF_UNIX"):
            return self
        self._folder = tempfile.mkdtemp(prefix="accountree-")  # 0700: only this user can reach the socket
        path = os.path.join(self._folder, "cli.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(path)
            os.chmod(path, 0o600)
            listener.listen(16)
            self.control = control_path(self.location)
            _write_private(self.control, {"pid": os.getpid(), "socket": path, "token": self._token,
                                          "protocol": PROTOCOL, "workspace": str(Path(self.location).resolve())})
        except OSError:
            listener.close()
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = self.control = None
            return self  # a read-only folder: commands beside the server get the lock's message instead
        self._listener = listener
        threading.Thread(target=self._accept, name="accountree-cli-channel", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping = True
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        if self.control is not None:
            with contextlib.suppress(OSError, ValueError):
                if json.loads(self.control.read_text(encoding="utf-8")).get("token") == self._token:
                    self.control.unlink()
            self.control = None
        with self._guard:  # commands under way: their statements stop, their transactions roll back
            for sock, session in list(self._sessions.items()):
                if session is not None and session.busy.is_set():
                    with contextlib.suppress(Exception):
                        session.engine.con.interrupt()
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            threads = list(self._threads)
        for thread in threads:  # before the workspace's connection closes
            thread.join(timeout=10)
        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> Sharing:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        listener = self._listener
        while not self._stopping and listener is not None:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            if not _same_user(sock):
                sock.close()
                continue
            thread = threading.Thread(target=self._serve, args=(sock,), name="accountree-cli-command", daemon=True)
            with self._guard:
                self._threads.add(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        with self._guard:
            self._sessions[sock] = None
        try:
            sock.settimeout(10)
            hello = _receive(sock, limit=_HELLO_LIMIT)
            token = hello.get("token") if isinstance(hello, dict) else None
            if not isinstance(token, str) or not hmac.compare_digest(token.encode(), self._token.encode()):
                _send(sock, {"error": "accountree.Refused", "message": "wrong token"})
                return
            if hello.get("protocol") != PROTOCOL:
                _send(sock, {"error": "accountree.Refused",
                             "message": f"this server speaks protocol {PROTOCOL}, the command {hello.get('protocol')}"})
                return
            sock.settimeout(None)
            _send(sock, {"ok": {"pid": os.getpid()}})
            from accountree.store.pool import EnginePool

            with EnginePool(self.engine).engine() as engine:  # a cursor: its own transactions
                session = _Session(engine, sock)  # type: ignore[arg-type]
                with self._guard:
                    if self._stopping:
                        return
                    self._sessions[sock] = session
                self._session(session)
        except (ConnectionError, OSError, pickle.UnpicklingError, EOFError):
            pass
        finally:
            with self._guard:
                self._sessions.pop(sock, None)
                self._threads.discard(threading.current_thread())
            with contextlib.suppress(OSError):
                sock.close()

    def _session(self, session: _Session) -> None:
        watcher = threading.Thread(target=session.watch, daemon=True)
        watcher.start()
        try:
            while True:
                request = _receive(session.sock)
                if not isinstance(request, dict) or request.get("op") == "close":
                    return
                session.busy.set()
                try:
                    reply = {"ok": session.handle(request)}
                except Exception as err:  # the command's own error: it gets it and decides
                    reply = _error_reply(err)
                finally:
                    session.busy.clear()
                _send(session.sock, reply)
                if session.wrote and not session.blocks:  # committed: the server's cached reads are stale
                    session.wrote = False
                    self._changed()
        finally:
            session.done.set()
            session.unwind()
            if session.wrote:
                self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            with contextlib.suppress(Exception):
                self.on_change()


def _same_user(sock: socket.socket) -> bool:
    """The peer runs as this process's user (Linux: SO_PEERCRED; elsewhere the socket's folder
    (0700) and the token decide)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    try:
        _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))
    except OSError:
        return False
    return uid == os.getuid()


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write `path` readable by this user only, replacing it atomically."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out)
    os.replace(temporary, path)


# -- the command's side --------------------------------------------------------------------------
def attach(location: str, lock_message: str) -> ChannelEngine | None:
    """A `ChannelEngine` on the server holding `location`, when the process named in DuckDB's lock
    message is an accountree server that opened a channel; None otherwise."""
    if not hasattr(socket, "AF_UNIX"):
        return None
    control = control_path(location)
    try:
        found = control.lstat()  # a file of this user's, not a link someone else placed
        if not stat.S_ISREG(found.st_mode) or found.st_uid != os.getuid():
            return None
        info = json.loads(control.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    holder = re.search(r"\(PID (\d+)\)", lock_message)
    if not isinstance(info, dict) or (holder and str(info.get("pid")) != holder.group(1)):
        return None
    if info.get("protocol") != PROTOCOL:
        raise WorkspaceError(
            f"`accountree serve` (PID {info.get('pid')}) holds {location} but runs another version of accountree",
            hint="Run this command with the server's accountree, or restart the server with this one.")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(10)
        sock.connect(str(info["socket"]))
        _send(sock, {"token": str(info.get("token")), "protocol": PROTOCOL})
        reply = _receive(sock)
        sock.settimeout(None)
    except (OSError, KeyError, ConnectionError, pickle.UnpicklingError, EOFError):
        sock.close()
        return None
    if "error" in reply:
        sock.close()
        return None
    return ChannelEngine(location, sock, int(info["pid"]))


class ChannelEngine(Engine):
    """The workspace of a running `accountree serve`, reached through its channel: DuckDB's SQL,
    results and capabilities, run by the server on a cursor of its connection."""

    name = "duckdb"
    dialect = "duckdb"
    capabilities = DuckDBEngine.capabilities
    _index_names_sql = DuckDBEngine._index_names_sql
    _json_keys_sql = DuckDBEngine._json_keys_sql

    def __init__(self, path: str, sock: socket.socket, server_pid: int) -> None:
        super().__init__(path)
        self.server_pid = server_pid
        self._sock: socket.socket | None = sock
        self._lock = threading.Lock()

    @property
    def schema(self) -> str:
        return "main"

    def _call(self, op: str, **fields: Any) -> Any:
        if "params" in fields:
            fields["params"] = _plain(fields["params"])
        with self._lock:
            if self._sock is None:
                raise ChannelError("this workspace was closed")
            try:
                _send(self._sock, {"op": op, **fields})
                reply = _receive(self._sock)
            except (ConnectionError, OSError, EOFError) as err:
                self._sock.close()
                self._sock = None
                raise ChannelError(
                    f"`accountree serve` (PID {self.server_pid}) stopped while this command ran; it holds "
                    f"{self.url}", hint="Nothing of an unfinished write was kept. Run the command again (with or "
                                        "without the server).") from err
            except BaseException:  # Ctrl-C while the server works: hang up; it interrupts and rolls back
                self._sock.close()
                self._sock = None
                raise
        if "error" in reply:
            _raise_reply(reply)
        return reply["ok"]

    def _execute(self, statement: str, params: Params) -> None:
        self._call("execute", sql=statement, params=params)

    def _fetchall(self, statement: str, params: Params) -> list[tuple]:
        return self._call("fetchall", sql=statement, params=params)

    def fetch_described(self, sql, params: Params = None) -> tuple[list[str], list[tuple]]:
        (statement,) = self.render(sql)
        return self._call("described", sql=statement, params=params)

    def _create_as(self, target: str, select: str, params: Params, *, temporary: bool, until_commit: bool) -> int | None:
        return self._call("create_as", target=target, sql=select, params=params, temporary=temporary,
                          until_commit=until_commit)

    def _iter_batches(self, statement: str, params: Params, batch_rows: int) -> Iterator[pa.RecordBatch]:
        self._call("open_batches", sql=statement, params=params, batch_rows=batch_rows)
        finished = False
        try:
            while True:
                data = self._call("next_batch")
                if data is None:
                    finished = True
                    return
                yield from _table(data).to_batches()
        finally:
            if not finished and self._sock is not None:
                with contextlib.suppress(ChannelError):
                    self._call("close_batches")

    def _empty_result(self, statement: str, params: Params) -> pa.Table:
        return _table(self._call("empty_result", sql=statement, params=params))

    def insert_arrow(self, table: str, data: pa.Table | Iterable[pa.RecordBatch]) -> int:
        batches = data.to_batches(INSERT_CHUNK_ROWS) if isinstance(data, pa.Table) else data
        written = 0
        for batch in batches:
            if batch.num_rows:
                written += self._call("insert", table=table, ipc=_ipc(batch))
        return written

    @contextmanager
    def _block(self, name: str, *args: Any) -> Iterator[None]:
        self._call("enter", block=name, args=list(args))
        try:
            yield
        except BaseException:
            if self._sock is not None:
                with contextlib.suppress(Exception):  # the command's own error is the one to report
                    self._call("exit", failed=True)
            raise
        self._call("exit", failed=False)

    def transaction(self):
        return self._block("transaction")

    def bulk_work(self, within_limit: bool = False):
        return self._block("bulk_work", within_limit)

    def small_work(self):
        return self._block("small_work")

    def large_statements(self):
        return self._block("large_statements")

    def exclusive(self, *keys: str):
        """Held in the server's process: the command's writers and the server's wait for each other."""
        return self._block("exclusive", *keys)

    def close(self) -> None:
        with self._lock:
            if self._sock is None:
                return
            with contextlib.suppress(OSError):
                _send(self._sock, {"op": "close"})
            self._sock.close()
            self._sock = None
