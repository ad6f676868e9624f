"""Registry files into the workspace: records kept as published, then reconciled with the accounts.

`import_registry(ws, "gleif", [paths])` parses each file (`parse_registry`: the layout is
recognised from the header, so a wrong file fails before anything is read), streams its batches
into temporary staging tables, and upserts them into `registry_entities` / `registry_links` by key
— (source, source_id) and (source, child, parent, link_kind) — with a content hash, so importing
the same file twice changes nothing. One `imports` row per file (`table_name` registry_<source>,
file hash, records inserted / updated / unchanged). Then `reconcile` (see `reconcile.py`) attaches
the records to accounts and rebuilds what the registry contributes to the tree.

Everything happens in one transaction: a file that is not the registry it claims to be, a file
unreadable part-way, or (with `strict`) a single bad row, and nothing at all is written.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from accountree.errors import ConfigError, ImportValidationError, Problem
from accountree.ingest.readers import file_sha256
from accountree.registry.parse import FORMATS, parse_registry
from accountree.registry.reconcile import CREATE_MODES, reconcile, save_attach_options
from accountree.registry.schema import ENTITY_SCHEMA, LINK_SCHEMA
from accountree.registry.scratch import drop_table, temp_table
from accountree.store import Workspace, current_user
from accountree.store.engine import Engine

Progress = Callable[[str, int, int], None]
STAGE_ENTITIES, STAGE_LINKS = "_reg_stage_entities", "_reg_stage_links"
_SQL_TYPES = {pa.string(): "VARCHAR", pa.bool_(): "BOOLEAN", pa.date32(): "DATE", pa.float64(): "DOUBLE"}


@dataclass
class RegistryFileReport:
    file: str
    format: str
    rows: int  # rows read from the file
    entities: int = 0  # distinct records staged
    links: int = 0
    inserted: int = 0  # records (entities + links)
    updated: int = 0
    unchanged: int = 0
    older: int = 0  # records older than the stored version of the same key: left alone
    skipped_rows: int = 0  # records the registry itself declares void (GLEIF annulled, duplicate)
    problem_count: int = 0
    seconds: float = 0.0


@dataclass
class RegistryImportResult:
    source: str
    import_id: int
    files: list[RegistryFileReport]
    problems: list[Problem] = field(default_factory=list)
    reconcile: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def _create_stage(engine: Engine, name: str, schema: pa.Schema) -> None:
    drop_table(engine, name)
    columns = [exp.ColumnDef(this=exp.to_identifier(f.name, quoted=True), kind=exp.DataType.build(_SQL_TYPES[f.type]))
               for f in schema]
    create = exp.Create(this=exp.Schema(this=exp.table_(name, quoted=True), expressions=columns), kind="TABLE",
                        properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
    engine.execute(create)


# Latest record per key in the file (a key appearing twice: the most recent), with a content hash.
_NEW_ENTITIES = """
SELECT source, source_id, name, legal_form, country, city, postal_code, lei, duns, siren, siret, naf_code,
       headcount_band, is_head_office, status, as_of,
       md5(concat_ws(chr(31), coalesce(name, chr(30)), coalesce(legal_form, chr(30)), coalesce(country, chr(30)),
                     coalesce(city, chr(30)), coalesce(postal_code, chr(30)), coalesce(lei, chr(30)),
                     coalesce(duns, chr(30)), coalesce(siren, chr(30)), coalesce(siret, chr(30)),
                     coalesce(naf_code, chr(30)), coalesce(headcount_band, chr(30)),
                     coalesce(CAST(is_head_office AS VARCHAR), chr(30)), coalesce(status, chr(30)),
                     coalesce(CAST(as_of AS VARCHAR), chr(30)))) AS row_hash
FROM (SELECT *, row_number() OVER (PARTITION BY source, source_id ORDER BY as_of DESC NULLS LAST) AS rn
      FROM _reg_stage_entities) s
WHERE rn = 1
"""
_NEW_LINKS = """
SELECT source, child_source_id, parent_source_id, coalesce(parent_source_id, '') AS parent_key, relation,
       is_ownership, link_kind, ownership_pct, relationship_status, start_date, end_date, as_of, exception_reason,
       md5(concat_ws(chr(31), relation, CAST(is_ownership AS VARCHAR), coalesce(CAST(ownership_pct AS VARCHAR), chr(30)),
                     coalesce(relationship_status, chr(30)), coalesce(CAST(start_date AS VARCHAR), chr(30)),
                     coalesce(CAST(end_date AS VARCHAR), chr(30)), coalesce(CAST(as_of AS VARCHAR), chr(30)),
                     coalesce(exception_reason, chr(30)))) AS row_hash
FROM (SELECT *, row_number() OVER (PARTITION BY source, child_source_id, coalesce(parent_source_id, ''), link_kind
                                   ORDER BY as_of DESC NULLS LAST) AS rn
      FROM _reg_stage_links) s
WHERE rn = 1
"""
# Upserts: new keys inserted; a changed record replaces the stored one unless that one is more recent
# (an older file imported after a newer one changes nothing).
_ENTITY_COUNTS = """
SELECT count(*),
       count(*) FILTER (WHERE t.row_hash IS NULL),
       count(*) FILTER (WHERE t.row_hash <> n.row_hash AND (n.as_of IS NULL OR t.as_of IS NULL OR n.as_of >= t.as_of)),
       count(*) FILTER (WHERE t.row_hash <> n.row_hash AND n.as_of < t.as_of)
FROM _reg_new_entities n LEFT JOIN registry_entities t ON t.source = n.source AND t.source_id = n.source_id
"""
_ENTITY_UPDATE = """
UPDATE registry_entities t SET name = n.name, legal_form = n.legal_form, country = n.country, city = n.city,
       postal_code = n.postal_code, lei = n.lei, duns = n.duns, siren = n.siren, siret = n.siret,
       naf_code = n.naf_code, headcount_band = n.headcount_band, is_head_office = n.is_head_office,
       status = n.status, as_of = n.as_of, row_hash = n.row_hash, import_id = $import_id, imported_at = $now
FROM _reg_new_entities n
WHERE t.source = n.source AND t.source_id = n.source_id AND t.row_hash <> n.row_hash
  AND (n.as_of IS NULL OR t.as_of IS NULL OR n.as_of >= t.as_of)
"""
_ENTITY_INSERT = """
INSERT INTO registry_entities (source, source_id, name, legal_form, country, city, postal_code, lei, duns, siren,
                               siret, naf_code, headcount_band, is_head_office, status, as_of, row_hash,
                               import_id, imported_at)
SELECT n.source, n.source_id, n.name, n.legal_form, n.country, n.city, n.postal_code, n.lei, n.duns, n.siren,
       n.siret, n.naf_code, n.headcount_band, n.is_head_office, n.status, n.as_of, n.row_hash, $import_id, $now
FROM _reg_new_entities n
WHERE NOT EXISTS (SELECT 1 FROM registry_entities t WHERE t.source = n.source AND t.source_id = n.source_id)
"""
_LINK_COUNTS = """
SELECT count(*),
       count(*) FILTER (WHERE t.row_hash IS NULL),
       count(*) FILTER (WHERE t.row_hash <> n.row_hash AND (n.as_of IS NULL OR t.as_of IS NULL OR n.as_of >= t.as_of)),
       count(*) FILTER (WHERE t.row_hash <> n.row_hash AND n.as_of < t.as_of)
FROM _reg_new_links n
LEFT JOIN registry_links t ON t.source = n.source AND t.child_source_id = n.child_source_id
                          AND t.parent_key = n.parent_key AND t.link_kind = n.link_kind
"""
_LINK_UPDATE = """
UPDATE registry_links t SET relation = n.relation, is_ownership = n.is_ownership, ownership_pct = n.ownership_pct,
       relationship_status = n.relationship_status, start_date = n.start_date, end_date = n.end_date,
       as_of = n.as_of, exception_reason = n.exception_reason, row_hash = n.row_hash, import_id = $import_id,
       imported_at = $now
FROM _reg_new_links n
WHERE t.source = n.source AND t.child_source_id = n.child_source_id AND t.parent_key = n.parent_key
  AND t.link_kind = n.link_kind AND t.row_hash <> n.row_hash
  AND (n.as_of IS NULL OR t.as_of IS NULL OR n.as_of >= t.as_of)
"""
_LINK_INSERT = """
INSERT INTO registry_links (source, child_source_id, parent_source_id, parent_key, relation, is_ownership,
                            link_kind, ownership_pct, relationship_status, start_date, end_date, as_of,
                            exception_reason, row_hash, import_id, imported_at)
SELECT n.source, n.child_source_id, n.parent_source_id, n.parent_key, n.relation, n.is_ownership, n.link_kind,
       n.ownership_pct, n.relationship_status, n.start_date, n.end_date, n.as_of, n.exception_reason, n.row_hash,
       $import_id, $now
FROM _reg_new_links n
WHERE NOT EXISTS (SELECT 1 FROM registry_links t WHERE t.source = n.source AND t.child_source_id = n.child_source_id
                                                   AND t.parent_key = n.parent_key AND t.link_kind = n.link_kind)
"""
_UPSERTS = {"entities": (_ENTITY_COUNTS, _ENTITY_UPDATE, _ENTITY_INSERT),
            "links": (_LINK_COUNTS, _LINK_UPDATE, _LINK_INSERT)}


def _upsert(engine: Engine, what: str, import_id: int, now: dt.datetime) -> dict[str, int]:
    counts_sql, update_sql, insert_sql = _UPSERTS[what]
    total, inserted, updated, older = (int(c or 0) for c in engine.fetchone(counts_sql) or (0, 0, 0, 0))
    stamp = {"import_id": import_id, "now": now}
    if updated:
        engine.execute(update_sql, stamp)
    if inserted:
        engine.execute(insert_sql, stamp)
    return {"total": total, "inserted": inserted, "updated": updated, "older": older}


def _stage_file(engine: Engine, parser, progress: Progress | None, label: str) -> None:
    _create_stage(engine, STAGE_ENTITIES, ENTITY_SCHEMA)
    _create_stage(engine, STAGE_LINKS, LINK_SCHEMA)
    for entities, links in parser:
        engine.insert_arrow(STAGE_ENTITIES, [entities])
        engine.insert_arrow(STAGE_LINKS, [links])
        if progress:
            progress(f"reading {label}", parser.rows_read, 0)


def import_registry(
    ws: Workspace,
    kind: str,
    paths: Sequence[str | Path],
    *,
    as_of: dt.date | str | None = None,
    strict: bool = False,
    create_accounts: str = "groups",
    match_names: bool = False,
    user: str | None = None,
    progress: Progress | None = None,
) -> RegistryImportResult:
    """Import GLEIF / D&B / SIRENE files into the workspace, all or nothing.

    `as_of`: date of the files' records where they carry none (default: a date in the file name).
    `strict`: a bad row aborts the import (default: it is skipped and reported, since registry files
    have millions of rows and one odd record must not cost the others). `create_accounts`: which
    registry entities without an account become registry-only accounts — `groups` (default: the
    members of groups one of your accounts belongs to), `all`, or `none`. `match_names`: also attach
    CRM accounts without the identifier by exact normalised name + country (see `names.py`).
    """
    if kind not in FORMATS:
        raise ConfigError(f"unknown registry {kind!r}", hint=f"Use one of: {', '.join(FORMATS)}.")
    if create_accounts not in CREATE_MODES:
        raise ConfigError(f"--create-accounts must be one of {', '.join(CREATE_MODES)}, not {create_accounts!r}")
    files = list(dict.fromkeys(Path(p) for p in paths))
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise ConfigError(f"no such file: {', '.join(missing)}", hint="Check the paths given.")
    # Every header is checked before anything is written: a wrong file fails at once.
    parsers = [parse_registry(kind, p, as_of=as_of) for p in files]  # type: ignore[arg-type]
    engine, started = ws.engine, time.perf_counter()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    user = user or current_user()
    reports: list[RegistryFileReport] = []
    problems: list[Problem] = []
    with engine.transaction():
        import_id = int(engine.scalar("SELECT coalesce(max(import_id), 0) + 1 FROM imports"))
        for parser in parsers:
            file_started = time.perf_counter()
            _stage_file(engine, parser, progress, parser.path.name)
            report = RegistryFileReport(str(parser.path), parser.format_name, parser.rows_read,
                                        skipped_rows=parser.skipped_rows, problem_count=parser.problem_count)
            problems.extend(parser.problems)
            if strict and parser.problem_count:
                raise ImportValidationError(problems, sum(r.problem_count for r in reports) + parser.problem_count)
            temp_table(engine, "_reg_new_entities", _NEW_ENTITIES)
            temp_table(engine, "_reg_new_links", _NEW_LINKS)
            ent = _upsert(engine, "entities", import_id, now)
            lnk = _upsert(engine, "links", import_id, now)
            report.entities, report.links = ent["total"], lnk["total"]
            report.inserted = ent["inserted"] + lnk["inserted"]
            report.updated = ent["updated"] + lnk["updated"]
            report.older = ent["older"] + lnk["older"]
            report.unchanged = report.entities + report.links - report.inserted - report.updated - report.older
            engine.execute(
                "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [import_id, now, user, ", ".join(str(p) for p in files), str(parser.path), f"registry_{kind}",
                 file_sha256(parser.path), parser.format_name, parser.rows_read, report.inserted, report.updated,
                 report.unchanged + report.older],
            )
            report.seconds = round(time.perf_counter() - file_started, 3)
            reports.append(report)
        for table in (STAGE_ENTITIES, STAGE_LINKS, "_reg_new_entities", "_reg_new_links"):
            drop_table(engine, table)
        if progress:
            progress("attaching to accounts", len(files), len(files))
        save_attach_options(ws, kind, create_accounts, match_names)
        summary = reconcile(ws, kind, import_id=import_id, now=now, user=user, create_accounts=create_accounts,
                            match_names=match_names)
    return RegistryImportResult(kind, import_id, reports, problems, summary, round(time.perf_counter() - started, 3))
