"""A CLI command while `accountree serve` holds a DuckDB workspace: never a traceback, and the
message says exactly what to do (which process, how to stop it, or use the API / PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from accountree.bench.api_bench import _free_port, _start_server
from accountree.store import open_workspace


def test_cli_commands_say_what_to_do_while_serve_holds_the_workspace(tmp_path: Path) -> None:
    location = str(tmp_path / "ws.duckdb")
    open_workspace(location).close()
    server = _start_server(location, _free_port())
    try:
        for args in (["status"], ["build"], ["search", "acme"]):
            run = subprocess.run([sys.executable, "-m", "accountree.cli", *args, "-w", location, "--json"],
                                 capture_output=True, text=True, timeout=120, env={**os.environ})
            assert run.returncode != 0 and "Traceback" not in run.stderr + run.stdout, args
            error = json.loads(run.stdout)
            assert f"`accountree serve` (PID {server.pid})" in error["hint"], error
            assert f"kill {server.pid}" in error["hint"] and "PostgreSQL" in error["hint"]
    finally:
        server.terminate()
        server.wait(timeout=30)
