"""SQL snapshot tests: every statement each build stage sends to the engine, per dialect, compared
with the files under `tests/snapshots/<dialect>/<stage>/<step>.sql` (after ibis's snapshot tests:
one file per dialect per query). A change of the SQL a build runs shows in review as a diff of
these files.

A step is the table a statement writes (`materialize`, `INSERT`, `DELETE`, `UPDATE`, `CREATE`,
`DROP`) or `queries` for what a stage reads; a step's file holds its statements in the order they
ran (repeats once). Catalog look-ups (`table_exists`, columns) are left out.

Regenerate after an intended change: `ACCOUNTREE_SNAPSHOT_UPDATE=1 pytest tests/test_sql_snapshots.py`
(on both engines: PostgreSQL must answer), then review `git diff tests/snapshots`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from accountree.build import BuildOptions, build, stages
from tests.test_kam_fixtures import AS_OF, load

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("ACCOUNTREE_SNAPSHOT_UPDATE") == "1"

_CATALOG = re.compile(r"information_schema\.|duckdb_(tables|columns|indexes|constraints)\(|pg_(catalog|indexes|class)|"
                      r"current_setting|^\s*(SET|RESET|PRAGMA|CHECKPOINT|SHOW|SELECT pg_advisory|ANALYZE)", re.IGNORECASE)
_TARGET = re.compile(r"^\s*(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE|CREATE\s+(?:TEMPORARY\s+|TEMP\s+)?(?:TABLE|VIEW)"
                     r"(?:\s+IF\s+NOT\s+EXISTS)?|DROP\s+(?:TABLE|VIEW)(?:\s+IF\s+EXISTS)?|"
                     r"CREATE\s+(?:UNIQUE\s+)?INDEX(?:\s+IF\s+NOT\s+EXISTS)?\s+\S+\s+ON)\s+\"?([\w.]+)\"?",
                     re.IGNORECASE)
_VARYING = re.compile(r"\b[0-9a-f]{12,}\b")  # generated names (hashes, uuids), if any


def _step(entry: dict) -> str:
    if entry["table"]:
        return entry["table"]
    match = _TARGET.match(entry["sql"])
    return match.group(1).split(".")[-1] if match else "queries"


def stage_sql(ws) -> dict[str, dict[str, list[str]]]:
    """{stage: {step: [statements]}} for a build of every stage, one stage at a time."""
    out: dict[str, dict[str, list[str]]] = {}
    for stage in stages():
        with ws.engine.tracing() as traced:
            build(ws, BuildOptions(as_of=AS_OF, stages=[stage.name]))
        steps: dict[str, list[str]] = {}
        for entry in traced:
            if _CATALOG.search(entry["sql"]):
                continue
            # (no clock is normalised: a time pasted into SQL instead of a parameter fails the test)
            text = _VARYING.sub("<id>", entry["sql"].strip())
            statements = steps.setdefault(_step(entry), [])
            if text not in statements:
                statements.append(text)
        out[stage.name] = steps
    return out


def _file_text(statements: list[str]) -> str:
    return "".join(s + ";\n\n" for s in statements).rstrip("\n") + "\n"


def test_build_sql_matches_the_snapshots(workspace, tmp_path: Path) -> None:
    load(workspace, tmp_path / "bundle")
    got = stage_sql(workspace)
    root = SNAPSHOTS / workspace.engine.dialect
    expected_files = {root / stage / f"{step}.sql": _file_text(statements)
                      for stage, steps in got.items() for step, statements in steps.items()}
    if UPDATE:
        for path in root.rglob("*.sql") if root.exists() else []:
            if path not in expected_files:
                path.unlink()
        for path, text in expected_files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return
    if not root.exists():
        pytest.fail(f"no snapshots for {workspace.engine.dialect}: run with ACCOUNTREE_SNAPSHOT_UPDATE=1")
    stored = {p: p.read_text(encoding="utf-8") for p in root.rglob("*.sql")}
    missing = sorted(str(p.relative_to(SNAPSHOTS)) for p in expected_files.keys() - stored.keys())
    stale = sorted(str(p.relative_to(SNAPSHOTS)) for p in stored.keys() - expected_files.keys())
    changed = sorted(str(p.relative_to(SNAPSHOTS)) for p in expected_files.keys() & stored.keys()
                     if expected_files[p] != stored[p])
    assert not (missing or stale or changed), (
        f"SQL differs from tests/snapshots (new: {missing}, gone: {stale}, changed: {changed}); if intended, "
        "regenerate with ACCOUNTREE_SNAPSHOT_UPDATE=1 and review the diff")


def test_kam_steps_are_snapshotted_per_dialect() -> None:
    """The KAM rules are SQL steps: each has its own file on both engines."""
    for dialect in ("duckdb", "postgres"):
        kam = {p.stem for p in (SNAPSHOTS / dialect / "kam").glob("*.sql")}
        assert {"kam_base_step", "kam_unit_step", "kam_rows_step", "kam_accounts", "kam_stakeholders"} <= kam, dialect
