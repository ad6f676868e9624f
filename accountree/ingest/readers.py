"""Reading a user's file into a staging table of text columns, in bounded memory.

Every format lands the same way: a DuckDB table whose columns are the file's headers as text, plus
`__row`, the spreadsheet row number (the header is row 1), so every problem can point at its row.
CSVs are read by DuckDB's streaming reader; files that are not UTF-8 are first transcoded, in
chunks, to a temporary UTF-8 copy (French Excel writes Windows-1252).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from accountree.errors import AccountreeError
from accountree.store.sql import template

CHUNK = 1 << 22
DELIMITERS = [",", ";", "\t", "|"]
Progress = Callable[[int], None]


class FileReadError(AccountreeError):
    """A file cannot be read at all (not a table, empty, unknown format)."""

    exit_code = 2


@dataclass
class StagedFile:
    path: Path
    table: str  # staging table name
    columns: list[str]  # headers as found in the file
    rows: int
    encoding: str
    delimiter: str | None
    decimal_comma: bool
    file_hash: str


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


def detect_encoding(path: Path) -> str:
    """'utf-8', 'utf-8-sig', 'utf-16' or 'cp1252', by BOM, then by a strict UTF-8 pass."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _transcode(path: Path, encoding: str, workdir: Path) -> Path:
    out = workdir / (path.stem + ".utf8.csv")
    errors = "replace" if encoding == "cp1252" else "strict"
    with path.open("r", encoding=encoding, errors=errors, newline="") as src, out.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk)
    return out


def detect_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most fields (quotes respected)."""
    best, best_n = ",", 0
    for delim in DELIMITERS:
        n = len(next(csv.reader([header_line], delimiter=delim), []))
        if n > best_n:
            best, best_n = delim, n
    return best


def _stage_relation(con: duckdb.DuckDBPyConnection, rel: duckdb.DuckDBPyRelation, table: str) -> list[str]:
    """Materialise `rel` as `table` with text columns and the spreadsheet row number."""
    con.register("__stage_src", rel)
    try:
        con.execute(template("CREATE OR REPLACE TEMP TABLE :t AS SELECT * FROM __stage_src", t=table))
        _number_rows(con, table)
    finally:
        con.unregister("__stage_src")
    return [c for c in con.table(table).columns if c != "__row"]


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, table: str, workdir: Path, sheet: str | None = None) -> StagedFile:
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileReadError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise FileReadError(f"{path}: the file is empty", hint="Export the table again with its header row.")
    file_hash = file_sha256(path)
    if suffix in {".csv", ".txt", ".tsv"}:
        return _stage_csv(con, path, table, workdir, file_hash)
    if suffix in {".xlsx", ".xlsm"}:
        return _stage_xlsx(con, path, table, file_hash, sheet)
    if suffix == ".parquet":
        rel = con.read_parquet(str(path))
        casts = [exp.cast(exp.column(c, quoted=True), "VARCHAR").as_(c, quoted=True) for c in rel.columns]
        rel = rel.project(", ".join(e.sql("duckdb") for e in casts))
        columns = _stage_relation(con, rel, table)
        return StagedFile(path, table, columns, _count(con, table), "parquet", None, False, file_hash)
    raise FileReadError(
        f"{path}: unsupported file type {suffix or '(none)'}", hint="Use .csv, .xlsx or .parquet files."
    )


def _number_rows(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """`__row`: the spreadsheet row of each record (header = row 1). Insertion order is preserved,
    so a view over `rowid` gives it without rewriting the staged table."""
    con.execute(template("ALTER TABLE :t RENAME TO :r", t=table, r=table + "__data"))
    con.execute(template("CREATE OR REPLACE TEMP VIEW :t AS SELECT *, rowid + 2 AS __row FROM :r", t=table, r=table + "__data"))


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.table(table).count("*").fetchall()[0][0]


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str, workdir: Path, file_hash: str) -> StagedFile:
    encoding = detect_encoding(path)
    source = path if encoding == "utf-8" else _transcode(path, encoding, workdir)
    with source.open("r", encoding="utf-8-sig", newline="") as fh:
        header = fh.readline()
    if not header.strip():
        raise FileReadError(f"{path}: the first line is empty; expected a header row with column names")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else detect_delimiter(header)
    try:
        rel = con.read_csv(
            str(source), header=True, all_varchar=True, delimiter=delimiter, quotechar='"', escapechar='"',
            null_padding=True, encoding="utf-8", sample_size=-1 if source.stat().st_size < 50_000_000 else 20_480,
        )
    except duckdb.Error as err:
        raise FileReadError(f"{path}: cannot be read as CSV: {err}") from err
    try:
        columns = _stage_relation(con, rel, table)
    except duckdb.Error as err:
        raise FileReadError(
            f"{path}: malformed CSV: {str(err).splitlines()[0]}",
            hint="Check quotes and the number of fields on the line named.",
        ) from err
    return StagedFile(path, table, columns, _count(con, table), encoding, delimiter, delimiter == ";", file_hash)


def _xlsx_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _stage_xlsx(con: duckdb.DuckDBPyConnection, path: Path, table: str, file_hash: str, sheet: str | None) -> StagedFile:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a broken file
        raise FileReadError(f"{path}: not a readable XLSX workbook ({err})") from err
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_row = next(rows, None)
        if not header_row or all(h is None for h in header_row):
            raise FileReadError(f"{path}: the first row is empty; expected a header row with column names")
        headers = [str(h).strip() if h is not None else f"column_{i + 1}" for i, h in enumerate(header_row)]
        schema = pa.schema([(h, pa.string()) for h in headers])
        first = True
        batch: list[list[str | None]] = []

        def flush() -> None:
            nonlocal first, batch
            data = pa.Table.from_pylist([dict(zip(headers, r, strict=False)) for r in batch], schema=schema)
            con.register("__xlsx_batch", data)
            try:
                if first:
                    con.execute(template("CREATE OR REPLACE TEMP TABLE :t AS SELECT * FROM __xlsx_batch", t=table))
                    first = False
                else:
                    con.execute(template("INSERT INTO :t SELECT * FROM __xlsx_batch", t=table))
            finally:
                con.unregister("__xlsx_batch")
            batch = []

        for values in rows:
            batch.append([_xlsx_text(v) for v in values[: len(headers)]])
            if len(batch) >= 50_000:
                flush()
        flush()
    finally:
        book.close()
    _number_rows(con, table)
    return StagedFile(path, table, headers, _count(con, table), "xlsx", None, False, file_hash)


def xlsx_sheets(path: Path) -> list[str]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="accountree-import-", dir=os.environ.get("ACCOUNTREE_TMP")))
