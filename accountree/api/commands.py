"""`accountree serve` and `accountree user …`: thin commands over the API's service functions."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from accountree.console import (
    JsonOption,
    WorkspaceOption,
    console,
    err_console,
    print_json,
    run,
    run_on,
    table_of,
    workspace,
)

PASSWORD_ENV = "ACCOUNTREE_ADMIN_PASSWORD"
PROXIES_ENV = "ACCOUNTREE_TRUSTED_PROXIES"
user_app = typer.Typer(help="Users of the API and the dashboard: add, list, tokens, passwords, disable, delete.",
                       no_args_is_help=True)


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        return password
    return None


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="admin, corporate, bu_member or read_only.")] = "read_only",
    bu: Annotated[str | None, typer.Option("--bu", help="The seller BU of a bu_member (bu_id).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")] = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a user. Without --password-stdin the password is asked on the terminal."""
    from accountree.api.auth import add_user
    from accountree.store import current_user

    def action() -> None:
        password = _read_password(password_stdin)
        with workspace(workspace_) as ws:
            user = add_user(ws, name, role, password, bu, created_by=current_user())
        if as_json:
            print_json(user)
        else:
            console.print(f"[bold green]✓[/] user {user['username']} ({user['role']}"
                          + (f", BU {user['bu_id']}" if user["bu_id"] else "") + ") created")

    run(as_json, action)


@user_app.command("list")
def user_list(workspace_: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """List the users and their roles."""
    from accountree.api.auth import list_users

    def show(users: list[dict[str, Any]]) -> None:
        console.print(table_of(users, columns=["username", "role", "bu_id", "created_at", "disabled"]))

    run_on(workspace_, as_json, lambda ws: list_users(ws.engine), show)


@user_app.command("token")
def user_token(
    name: Annotated[str, typer.Argument(help="User name.")],
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token for NAME; it is printed once and only its hash is kept."""
    from accountree.api.auth import new_token

    def show(result: dict[str, Any]) -> None:
        sys.stdout.write(result["token"] + "\n")
        err_console.print("[dim]Keep it now: it is not stored and cannot be shown again.[/]")

    run_on(workspace_, as_json, lambda ws: {"username": name, "token": new_token(ws, name, label)}, show)


def _manage(name: str, as_json: bool, workspace_: str | None, change, done: str) -> None:
    """Run one account change as the OS user (recorded in the audit log) and say what it did."""
    from accountree.store import current_user

    def show(result: dict[str, Any]) -> None:
        extra = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items()
                          if k not in ("username", "disabled", "deleted"))
        console.print(f"[bold green]✓[/] {name}: {done}" + (f" ({extra})" if extra else ""))

    run_on(workspace_, as_json, lambda ws: change(ws, f"cli:{current_user()}"), show)


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")] = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set NAME's password (asked on the terminal, or --password-stdin); their web sessions end."""
    from accountree.api.auth import set_password
    from accountree.errors import ConfigError

    def change(ws, actor: str) -> dict[str, Any]:
        password = _read_password(password_stdin)
        if not password:
            raise ConfigError("no password given", hint="Type it at the prompt or pipe it with --password-stdin.")
        return set_password(ws, name, password, actor, role=None)

    _manage(name, as_json, workspace_, change, "password changed, sessions ended")


@user_app.command("disable")
def user_disable(
    name: Annotated[str, typer.Argument(help="User name.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again instead.")] = False,
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Disable NAME: their sessions end and their API tokens stop working (--enable: undo)."""
    from accountree.api.auth import set_disabled

    _manage(name, as_json, workspace_, lambda ws, actor: set_disabled(ws, name, not enable, actor, role=None),
            "enabled" if enable else "disabled")


@user_app.command("delete")
def user_delete(
    name: Annotated[str, typer.Argument(help="User name.")],
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete NAME with their sessions and API tokens (the audit log keeps their actions)."""
    from accountree.api.auth import delete_user

    _manage(name, as_json, workspace_, lambda ws, actor: delete_user(ws, name, actor, role=None), "deleted")


@user_app.command("revoke-tokens")
def user_revoke_tokens(
    name: Annotated[str, typer.Argument(help="User name.")],
    workspace_: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke every API token of NAME and end their web sessions."""
    from accountree.api.auth import revoke_tokens

    _manage(name, as_json, workspace_, lambda ws, actor: revoke_tokens(ws, name, actor, role=None), "tokens revoked")


def ensure_demo_admin(ws) -> str | None:
    """`accountree demo` calls this: with $ACCOUNTREE_ADMIN_PASSWORD set and no user yet, create `admin`."""
    from accountree.api.auth import add_user, user_count

    password = os.environ.get(PASSWORD_ENV)
    if not password or user_count(ws.engine):
        return None
    add_user(ws, "admin", "admin", password, created_by="demo")
    return "admin"


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers_threads: Annotated[int, typer.Option("--threads", help="Request threads.")] = 8,
    secure_cookies: Annotated[bool, typer.Option("--secure-cookies", help="Behind HTTPS: Secure session cookie and HSTS.")] = False,
    trusted_proxy: Annotated[list[str] | None, typer.Option(
        "--trusted-proxy", help="Address or network of a reverse proxy whose X-Forwarded-For is believed "
                                "(repeatable; also $ACCOUNTREE_TRUSTED_PROXIES, comma-separated). None by default.")] = None,
    workspace_: WorkspaceOption = None,
) -> None:
    """Serve the REST API (/api/v1, docs at /api/v1/docs) and the dashboard.

    While it runs, other accountree commands of the same OS user on its DuckDB workspace run
    through it (reads and writes), as they would without it."""
    from accountree.errors import MissingDependencyError

    def action() -> None:
        try:
            import anyio.to_thread
            import uvicorn

            from accountree.api import create_app
            from accountree.api.auth import user_count
            from accountree.store.channel import Sharing
        except ImportError as err:
            raise MissingDependencyError("the server needs the `server` extra",
                                         hint="pip install 'accountree[server]'") from err
        with workspace(workspace_, through_server=False) as ws:
            ensure_demo_admin(ws)
            if not user_count(ws.engine):
                err_console.print("[bold yellow]No user yet.[/] Create the first admin, then reload the page:\n"
                                  f"  accountree user add admin --role admin --workspace {ws.location}\n"
                                  f"  (or non-interactively: echo \"$PASSWORD\" | accountree user add admin --role admin "
                                  "--password-stdin)")
            proxies = [*(trusted_proxy or ()), *(p.strip() for p in os.environ.get(PROXIES_ENV, "").split(",") if p.strip())]
            app = create_app(ws, secure_cookies=secure_cookies, trusted_proxies=proxies)

            async def limit_threads() -> None:
                anyio.to_thread.current_default_thread_limiter().total_tokens = workers_threads

            app.router.on_startup.append(limit_threads)
            console.print(f"accountree on [bold]http://{host}:{port}/[/] (API docs: /api/v1/docs)")
            # CLI commands on this DuckDB file run through this process (accountree.store.channel);
            # a SIGTERM ends the server like Ctrl-C, so the channel's files are removed
            with Sharing(ws.engine, ws.location, on_change=app.state.server.changed), _terminate_cleanly():
                # the client address is the connection's peer; X-Forwarded-For is read by the app, and
                # only from --trusted-proxy addresses (uvicorn's own proxy handling trusts 127.0.0.1)
                uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False)

    run(False, action)


@contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """SIGTERM (`kill PID`) raises SystemExit instead of ending the process on the spot, so the
    blocks around the server close (uvicorn re-sends the signal it caught once it has stopped)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.command("serve")(serve)
