"""`accountree serve` and `accountree user …`: thin commands over the API's service functions."""

from __future__ import annotations

import os
import sys
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
user_app = typer.Typer(help="Users of the API and the dashboard: add, list, create API tokens.", no_args_is_help=True)


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
    secure_cookies: Annotated[bool, typer.Option("--secure-cookies", help="Mark the session cookie Secure (behind HTTPS).")] = False,
    workspace_: WorkspaceOption = None,
) -> None:
    """Serve the REST API (/api/v1, docs at /api/v1/docs) and the dashboard."""
    from accountree.errors import MissingDependencyError

    def action() -> None:
        try:
            import anyio.to_thread
            import uvicorn

            from accountree.api import create_app
            from accountree.api.auth import user_count
        except ImportError as err:
            raise MissingDependencyError("the server needs the `server` extra",
                                         hint="pip install 'accountree[server]'") from err
        with workspace(workspace_) as ws:
            ensure_demo_admin(ws)
            if not user_count(ws.engine):
                err_console.print("[bold yellow]No user yet.[/] Create the first admin, then reload the page:\n"
                                  f"  accountree user add admin --role admin --workspace {ws.location}\n"
                                  f"  (or non-interactively: echo \"$PASSWORD\" | accountree user add admin --role admin "
                                  "--password-stdin)")
            app = create_app(ws, secure_cookies=secure_cookies)

            async def limit_threads() -> None:
                anyio.to_thread.current_default_thread_limiter().total_tokens = workers_threads

            app.router.on_startup.append(limit_threads)
            console.print(f"accountree on [bold]http://{host}:{port}/[/] (API docs: /api/v1/docs)")
            uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)

    run(False, action)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.command("serve")(serve)
