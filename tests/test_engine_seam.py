"""The engine seam holds: outside `accountree/store/`, code never branches on the engine's name,
never calls the private `_execute`, never reaches for the driver's connection (`.con`).

It asks `engine.capabilities` and calls the public Engine API instead (see docs/architecture.md).
`ALLOWED` lists what other parts still do, file by file, with exact counts: it may only shrink.
When a file gets rid of one, lower (or remove) its entry.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "accountree"
ENGINE_NAMES = {"duckdb", "postgres", "postgresql", "spark"}

# file (relative to accountree/) -> {kind: count}; kinds: "name" (engine.name compared),
# "_execute", ".con". To shrink after each merge; never to grow.
ALLOWED: dict[str, dict[str, int]] = {}


def _is_engine_name(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in ENGINE_NAMES


def _is_name_attribute(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in {"name", "dialect"}


def findings(tree: ast.AST) -> Counter[str]:
    found: Counter[str] = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_name_attribute(s) for s in sides) and any(
                    _is_engine_name(s) or (isinstance(s, (ast.Set, ast.Tuple, ast.List))
                                           and any(_is_engine_name(e) for e in s.elts)) for s in sides):
                found["name"] += 1
        elif isinstance(node, ast.Attribute):
            if node.attr == "_execute":
                found["_execute"] += 1
            elif node.attr == "con":
                found[".con"] += 1
    return found


def seam_leaks() -> dict[str, dict[str, int]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("store/"):
            continue
        found = findings(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        if found:
            out[relative] = dict(found)
    return out


def test_no_engine_branches_private_calls_or_connections_outside_the_store():
    leaks = seam_leaks()
    new = {f: k for f, k in leaks.items() if any(n > ALLOWED.get(f, {}).get(kind, 0) for kind, n in k.items())}
    assert not new, (f"outside accountree/store/: {new}. Ask `engine.capabilities` instead of the engine's name, "
                     "and use the public Engine API (materialize, analyze, execute, fetch_*, create_index, "
                     "large_statements) instead of `_execute` or the driver's `.con`.")
    shrunk = {f: (allowed, leaks.get(f, {})) for f, allowed in ALLOWED.items() if leaks.get(f, {}) != allowed}
    assert not shrunk, f"the seam improved: lower ALLOWED in tests/test_engine_seam.py to what is left: {shrunk}"


@pytest.mark.parametrize(("source", "kind"), [
    ("if ws.engine.name == 'postgres': pass", "name"),
    ("x = 1 if engine.name in ('duckdb', 'spark') else 2", "name"),
    ("engine._execute('SELECT 1', None)", "_execute"),
    ("cursor = self.engine.con.cursor()", ".con"),
])
def test_the_check_sees_each_kind_of_leak(source, kind):
    assert findings(ast.parse(source))[kind] == 1


def test_displaying_the_name_is_fine():
    assert not findings(ast.parse("info = {'engine': ws.engine.name}\nif spec.name == 'accounts': pass"))


def test_materialize_reports_rows_records_public_tables_and_replaces(workspace):
    engine = workspace.engine
    with engine.transaction(), engine.recording() as written:
        rows = engine.materialize("seam_t", "SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) v(n, s) "
                                  "WHERE n >= $low", params={"low": 2}, indexes=("n",), analyze=True)
        engine.materialize("_seam_scratch", "SELECT 1 AS x", temporary=True)
        assert engine.scalar("SELECT count(*) FROM _seam_scratch") == 1
    for n in (2, 3):  # a scratch table of a refresh: replaced by the next one (or dropped at commit)
        with engine.transaction():
            engine.materialize("_seam_once", f"SELECT * FROM range({n})", temporary=True, until_commit=True)
            assert engine.scalar("SELECT count(*) FROM _seam_once") == n
    assert rows == 2  # the driver's count (both of ours report it)
    assert written == [{"table": "seam_t", "rows": rows}]  # scratch tables are not reported
    assert engine.fetchall("SELECT n, s FROM seam_t ORDER BY n") == [(2, "b"), (3, "c")]
    assert engine.index_name("seam_t", "n") in engine.index_names()
    engine.replace_table("seam_t", "SELECT 7 AS n")  # the old name, a thin wrapper: replaces it
    assert engine.fetchall("SELECT * FROM seam_t") == [(7,)]
    caps = engine.capabilities
    assert caps.transactions and caps.recursive_cte and caps.temp_tables and caps.indexes
    assert caps.join_indexes == caps.needs_analyze  # PostgreSQL needs both, DuckDB neither

