"""`accountree dump` / `accountree restore`: a workspace moved between engines without loss.

A dump is a folder: one Parquet file per table of the workspace (user-edited state, imported data,
derived tables, users with their password hashes, `schema_migrations`, `workspace_meta`) and
`manifest.json`:

    {"format": "accountree-dump", "format_version": 1, "schema_version": 700, "engine": "duckdb",
     "created_at": "…", "tables": [{"name": "accounts", "file": "accounts.parquet", "rows": 2000,
     "sha256": "…", "columns": [{"name": "account_id", "type": "VARCHAR"}, …]}, …]}

Column types are written in DuckDB's spelling (`VARCHAR`, `BIGINT`, `DOUBLE`, `DECIMAL(18,2)`,
`TIMESTAMP`, `JSON`…), whatever engine the dump came from; JSON columns are kept as their text.
`restore` checks the whole dump (format, schema version, files, checksums, row counts) before it
writes anything, then writes every table in one transaction into an empty workspace.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from accountree.errors import ConfigError, WorkspaceError
from accountree.store.workspace import Workspace, migrations

FORMAT = "accountree-dump"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

# PostgreSQL's information_schema names → DuckDB's (the dump's spelling)
_PG_TYPES = {"character varying": "VARCHAR", "text": "VARCHAR", "character": "VARCHAR", "bigint": "BIGINT",
             "integer": "INTEGER", "smallint": "SMALLINT", "double precision": "DOUBLE", "real": "FLOAT",
             "boolean": "BOOLEAN", "date": "DATE", "timestamp without time zone": "TIMESTAMP",
             "timestamp with time zone": "TIMESTAMP WITH TIME ZONE", "json": "JSON", "jsonb": "JSON",
             "uuid": "UUID", "bytea": "BLOB", "time without time zone": "TIME"}
_ARROW = {"VARCHAR": pa.string(), "JSON": pa.string(), "UUID": pa.string(), "BIGINT": pa.int64(),
          "INTEGER": pa.int32(), "SMALLINT": pa.int16(), "TINYINT": pa.int8(), "UBIGINT": pa.uint64(),
          "UINTEGER": pa.uint32(), "DOUBLE": pa.float64(), "FLOAT": pa.float32(), "BOOLEAN": pa.bool_(),
          "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"), "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", "UTC"),
          "HUGEINT": pa.decimal128(38, 0), "BLOB": pa.binary()}
# read as text then converted in Arrow: exact on every engine (psycopg gives floats for numerics)
_AS_TEXT = ("JSON", "UUID", "HUGEINT")
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
# DuckDB types PostgreSQL has not: created as the closest type, the DuckDB name kept in the column's
# comment (`accountree:HUGEINT`), so a dump of the PostgreSQL workspace spells them as before
_PG_STAND_INS = {"HUGEINT": "NUMERIC(38,0)", "UBIGINT": "NUMERIC(20,0)", "UINTEGER": "BIGINT",
                 "USMALLINT": "INTEGER", "UTINYINT": "SMALLINT", "TINYINT": "SMALLINT"}
_COMMENT = "accountree:"


class DumpError(WorkspaceError):
    """A dump that cannot be restored (newer schema, damaged file, non-empty target)."""


def _arrow_type(kind: str) -> pa.DataType:
    found = _DECIMAL.match(kind)
    if found:
        return pa.decimal128(int(found.group(1)), int(found.group(2)))
    return _ARROW.get(kind, pa.string())


def _columns(ws: Workspace, table: str) -> list[dict[str, str]]:
    engine = ws.engine
    rows = engine.fetchall(
        "SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = ? ORDER BY ordinal_position", [table, engine.schema])
    out = []
    noted: dict[str, str] = {}
    if engine.name == "postgres":
        noted = {n: c[len(_COMMENT):] for n, c in engine.fetchall(
            "--native\nSELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident(%s)) "
            "AND a.attnum > 0 AND NOT a.attisdropped", [table]) if c and c.startswith(_COMMENT)}
    for name, kind, precision, scale in rows:
        if name in noted and noted[name] in _PG_STAND_INS:
            kind = noted[name]
        elif engine.name == "postgres":
            if kind == "numeric":
                kind = f"DECIMAL({precision},{scale})" if precision is not None else "DECIMAL(38,10)"
            else:
                kind = _PG_TYPES.get(kind, "VARCHAR")
        else:
            kind = str(kind).upper().replace(", ", ",")
        out.append({"name": name, "type": kind})
    return out


def _tables(ws: Workspace) -> list[str]:
    rows = ws.engine.fetchall("SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                              "AND table_type = 'BASE TABLE' ORDER BY table_name", [ws.engine.schema])
    return [r[0] for r in rows]


def _select(table: str, columns: list[dict[str, str]]) -> exp.Select:
    items = []
    for c in columns:
        col = exp.column(c["name"], quoted=True)
        text = c["type"] in _AS_TEXT or bool(_DECIMAL.match(c["type"])) or c["type"] not in _ARROW
        items.append(exp.cast(col, "VARCHAR").as_(c["name"], quoted=True) if text else col)
    return exp.select(*items).from_(exp.table_(table, quoted=True))


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def dump_workspace(ws: Workspace, folder: str | Path) -> dict[str, Any]:
    """Write every table of the workspace into `folder` (created; must be empty); returns the manifest."""
    out = Path(folder)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} is not empty", hint="Dump into a new folder.")
    out.mkdir(parents=True, exist_ok=True)
    tables = []
    for table in _tables(ws):
        columns = _columns(ws, table)
        schema = pa.schema([(c["name"], _arrow_type(c["type"])) for c in columns])
        path = out / f"{table}.parquet"
        rows = 0
        with pq.ParquetWriter(path, schema) as writer:
            for batch in ws.engine.iter_batches(_select(table, columns)):
                data = pa.Table.from_batches([batch])
                data = pa.table([data.column(i).cast(schema.field(i).type) for i in range(len(columns))], schema=schema)
                writer.write_table(data)
                rows += data.num_rows
        tables.append({"name": table, "file": path.name, "rows": rows, "sha256": _sha256(path), "columns": columns})
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "schema_version": ws.schema_version,
                "engine": ws.engine.name, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "tables": tables}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The dump's manifest, checked against its files (checksums, row counts) and this version of accountree."""
    root = Path(folder)
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DumpError(f"{root} is not an accountree dump: no {MANIFEST}",
                        hint="Give the folder written by `accountree dump`.") from None
    except json.JSONDecodeError as err:
        raise DumpError(f"{root / MANIFEST} is damaged: {err}") from err
    if manifest.get("format") != FORMAT or manifest.get("format_version", 0) > FORMAT_VERSION:
        raise DumpError(f"{root} is not a dump this accountree reads (format {manifest.get('format')!r} "
                        f"version {manifest.get('format_version')})", hint="Update accountree.")
    latest = migrations()[-1][0]
    if int(manifest.get("schema_version") or 0) > latest:
        raise DumpError(f"the dump comes from a newer workspace schema ({manifest['schema_version']}) than this "
                        f"accountree knows ({latest}); nothing was restored",
                        hint="Update accountree (pip install -U accountree) and restore again.")
    for table in manifest["tables"]:
        path = root / table["file"]
        if not path.is_file() or Path(table["file"]).name != table["file"]:
            raise DumpError(f"the dump misses {table['file']}; nothing was restored")
        if _sha256(path) != table["sha256"]:
            raise DumpError(f"{path} does not match its checksum (damaged or edited); nothing was restored")
        if pq.ParquetFile(path).metadata.num_rows != table["rows"]:
            raise DumpError(f"{path} does not hold the {table['rows']} rows of the manifest; nothing was restored")
    return manifest


def _create(ws: Workspace, table: str, columns: list[dict[str, str]]) -> None:
    postgres = ws.engine.name == "postgres"

    def kind(c: dict[str, str]) -> exp.DataType:
        stand_in = _PG_STAND_INS.get(c["type"]) if postgres else None
        return exp.DataType.build(stand_in, dialect="postgres") if stand_in else \
            exp.DataType.build(c["type"], dialect="duckdb")

    schema = exp.Schema(this=exp.table_(table, quoted=True), expressions=[
        exp.ColumnDef(this=exp.to_identifier(c["name"], quoted=True), kind=kind(c)) for c in columns])
    ws.engine.execute(exp.Create(this=schema, kind="TABLE"))
    for c in columns:
        if postgres and c["type"] in _PG_STAND_INS:  # the type's name is one of ours, never user input
            t, n = (exp.to_identifier(x, quoted=True).sql("postgres") for x in (table, c["name"]))
            ws.engine.execute(f"--native\nCOMMENT ON COLUMN {t}.{n} IS '{_COMMENT}{c['type']}'")


def restore_workspace(ws: Workspace, folder: str | Path) -> dict[str, Any]:
    """Restore the dump in `folder` into `ws` (a new, empty workspace); all tables or none."""
    root = Path(folder)
    manifest = read_manifest(root)
    engine = ws.engine
    if engine.table_exists("accounts") and engine.scalar("SELECT count(*) FROM accounts"):
        raise DumpError(f"{ws.display_location} already holds accounts; nothing was restored",
                        hint="Restore into a new workspace (a new DuckDB path or a new ?schema=).")
    existing = set(_tables(ws))
    restored = {}
    with engine.transaction():
        for table in manifest["tables"]:
            name, columns = table["name"], table["columns"]
            if name in existing:
                if name == "schema_migrations":  # the dump's versions replace the new workspace's rows of them
                    versions = pq.read_table(root / table["file"], columns=["version"]).column(0).to_pylist()
                    for version in versions:
                        engine.execute("DELETE FROM schema_migrations WHERE version = ?", [version])
                else:
                    engine.execute(exp.delete(exp.table_(name, quoted=True)))
                have = {c["name"] for c in _columns(ws, name)}
                missing = [c["name"] for c in columns if c["name"] not in have]
                if missing:
                    raise DumpError(f"table {name} of this workspace has no column {missing[0]!r}; nothing was restored")
            else:
                _create(ws, name, columns)
            data = pq.read_table(root / table["file"])
            engine.insert_arrow(name, data.to_batches(50_000))
            restored[name] = data.num_rows
    return {"tables": len(restored), "rows": sum(restored.values()), "schema_version": manifest["schema_version"],
            "from_engine": manifest["engine"]}
