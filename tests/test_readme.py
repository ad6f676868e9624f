"""The README is a contract: its commands and its Python example run as written."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from accountree.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
runner = CliRunner()


def test_two_commands_are_the_makefile_targets() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo: ", makefile, re.M) and re.search(r"^test: ", makefile, re.M)
    assert "make test" in (README.parent / ".ci" / "run").read_text(encoding="utf-8")


def test_python_example_runs(tmp_path: Path, monkeypatch) -> None:
    block = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "accounts.csv").write_text("account_id,name\nA,Alpha SAS\n", encoding="utf-8")
    exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "accountree.duckdb").exists()


def test_demo_command_generates_imports_and_reports(tmp_path: Path) -> None:
    ws = tmp_path / "demo.duckdb"
    result = runner.invoke(app, ["demo", "--accounts", "300", "--out", str(tmp_path / "bundle"), "--no-build",
                                 "--reference-date", "2026-11-23", "-w", str(ws), "--json"])
    assert result.exit_code == 0, result.output
    import json

    info = json.loads(result.stdout)
    assert info["status"]["tables"]["accounts"] == 300
    assert info["status"]["tables"]["deals"] > 300
    assert (tmp_path / "bundle" / "truth" / "duplicates.csv").exists()
