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
import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
    # The header as written (whitespace collapsed), aligned with `columns` (the staged names:
    # unique, never empty); the spreadsheet row of the header; problems of the file's structure
    # (rows with too many fields, unclosed quotes, values beyond the header) as
    # (row, column, value, expected), and how many there are in all.
    headers: list[str] = field(default_factory=list)
    header_row: int = 1
    problems: list[tuple[int | None, str | None, str | None, str]] = field(default_factory=list)
    problem_total: int = 0
    # what reading the file had to repair: (row, column, value, expected, action, rows)
    warnings: list[tuple[int | None, str | None, str | None, str, str, int]] = field(default_factory=list)


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


@dataclass
class _Scan:
    sha256: str
    encoding: str
    nul_line: int | None  # the first line holding a NUL byte (never in a text CSV)


def _scan(path: Path) -> _Scan:
    """One pass over the bytes: the hash, the encoding and NUL bytes (a binary or mis-encoded file)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, lines, nul_line = True, 0, None
    with path.open("rb") as fh:
        head = fh.read(4096)
        bom = _bom_encoding(head)
        chunk = head
        while chunk:
            digest.update(chunk)
            if bom is None:
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
                if nul_line is None:
                    at = chunk.find(b"\x00")
                    if at >= 0:
                        nul_line = lines + chunk.count(b"\n", 0, at) + 1
                    else:
                        lines += chunk.count(b"\n")
            chunk = fh.read(CHUNK)
    if bom is None and utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    encoding = bom or _utf16_without_bom(head) or ("utf-8" if utf8 else "cp1252")
    return _Scan(digest.hexdigest(), encoding, nul_line if encoding in ("utf-8", "cp1252") else None)


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM: mostly-ASCII text has a NUL in every other byte."""
    pairs = len(head) // 2
    if pairs < 4:
        return None
    odd = sum(1 for b in head[1 : 2 * pairs : 2] if b == 0)
    even = sum(1 for b in head[0 : 2 * pairs : 2] if b == 0)
    if odd > 0.6 * pairs and even == 0:
        return "utf-16-le"
    if even > 0.6 * pairs and odd == 0:
        return "utf-16-be"
    return None


def detect_encoding(path: Path) -> str:
    """'utf-8', 'utf-8-sig', 'utf-16', 'utf-16-le/be' or 'cp1252', by BOM, then by a strict UTF-8 pass."""
    return _scan(path).encoding


@dataclass
class _Legacy:
    """A file that is not valid UTF-8: its single-byte encoding, and whether it is in fact UTF-8
    with a few lines holding bytes of that encoding (a Windows-1252 `é` pasted into a UTF-8 file)."""

    encoding: str
    mixed: bool
    bad_lines: list[int]  # the first lines that are not UTF-8 (1-based)
    bad_total: int
    sample: str  # the first of them, decoded


LEGACY_DEFAULT = "cp1252"  # French / Western European Excel


def _legacy(path: Path) -> _Legacy:
    """Line by line: lines that are valid UTF-8 with non-ASCII text prove a UTF-8 file; the other
    lines' bytes go to charset-normalizer for their encoding (Windows-1252 when it is one of the
    encodings that decode them alike: cp1250 and cp1252 share é, ü, ß…)."""
    utf8_lines, bad, total, sample, first = 0, [], 0, bytearray(), b""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8_lines += 1
            except UnicodeDecodeError:
                total += 1
                if len(bad) < 20:
                    bad.append(number)
                if not first:
                    first = line
                if len(sample) < 1 << 18:
                    sample.extend(line)
    encoding = LEGACY_DEFAULT
    try:
        from charset_normalizer import from_bytes

        results = list(from_bytes(bytes(sample)))
    except Exception:  # a detector failure is no reason to refuse a file: the default stands
        results = []
    if results:
        best = min(results, key=lambda r: r.chaos)
        # as likely as the best: Windows-1252 wins (cp1250 or cp1257 decode French text alike)
        alike = {c for r in results if r.chaos <= best.chaos + 0.01 for c in (r.encoding, *r.could_be_from_charset)}
        if LEGACY_DEFAULT not in alike and not best.encoding.startswith("utf"):
            encoding = best.encoding
    text = first.decode("utf-8", errors=_legacy_handler(encoding)).strip()[:200]
    return _Legacy(encoding, utf8_lines > 0, bad, total, text)


def _legacy_handler(encoding: str) -> str:
    """A codecs error handler: bytes that are not UTF-8 decoded with `encoding` instead."""
    name = f"accountree-{encoding}"
    try:
        codecs.lookup_error(name)
    except LookupError:
        def handler(err: UnicodeError) -> tuple[str, int]:
            assert isinstance(err, UnicodeDecodeError)
            return err.object[err.start:err.end].decode(encoding, errors="replace"), err.end

        codecs.register_error(name, handler)
    return name


def _repair(path: Path, legacy: _Legacy, workdir: Path) -> Path:
    """A UTF-8 copy of a UTF-8 file whose odd lines hold bytes of a legacy encoding."""
    out = workdir / (path.stem + ".utf8.csv")
    errors = _legacy_handler(legacy.encoding)
    with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            # whole lines only, so a UTF-8 character is never split between two chunks
            chunk += src.readline()
            dst.write(chunk.decode("utf-8", errors=errors))
    return out


def _mixed_warning(legacy: _Legacy) -> tuple[int | None, str | None, str | None, str, str, int]:
    lines = ", ".join(str(n) for n in legacy.bad_lines) + (" …" if legacy.bad_total > len(legacy.bad_lines) else "")
    name = ENCODING_NAMES.get(legacy.encoding, legacy.encoding)
    return (legacy.bad_lines[0] if legacy.bad_lines else None, None, legacy.sample, "UTF-8 text throughout",
            f"the file is UTF-8 but {legacy.bad_total:,} line(s) hold {name} bytes (lines {lines}): those bytes were "
            f"read as {name}; check these rows", legacy.bad_total)


ENCODING_NAMES = {"cp1252": "Windows-1252", "cp1250": "Windows-1250", "cp1251": "Windows-1251", "latin_1": "Latin-1"}


def _transcode(path: Path, encoding: str, workdir: Path) -> Path:
    out = workdir / (path.stem + ".utf8.csv")
    errors = "replace" if not encoding.startswith("utf") else "strict"
    try:
        with path.open("r", encoding=encoding, errors=errors, newline="") as src, \
                out.open("w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
    except UnicodeError as err:
        raise FileReadError(f"{path}: not readable as {encoding.upper()} text ({err.reason})",
                            hint="Save it again as “CSV UTF-8” (Excel) or UTF-8 text.") from err
    return out


def detect_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most fields (quotes respected)."""
    best, best_n = ",", 0
    for delim in DELIMITERS:
        n = len(next(csv.reader([header_line], delimiter=delim), []))
        if n > best_n:
            best, best_n = delim, n
    return best


RESERVED = {"__row", "__attributes"}


def column_names(headers: list[str]) -> list[str]:
    """Staging names for a header row: unique (case-insensitively, as SQL names are), never empty.

    An empty header becomes `column_N` (N: its position, 1 for A); a repeated one gets `_1`, `_2`."""
    names: list[str] = []
    seen: set[str] = set()
    for i, header in enumerate(headers):
        base = header or f"column_{i + 1}"
        name, k = base, 1
        while name.lower() in seen or name.lower() in RESERVED:
            name, k = f"{base}_{k}", k + 1
        seen.add(name.lower())
        names.append(name)
    return names


def clean_header(value: object) -> str:
    """A header cell as matched and kept: whitespace (newlines included) collapsed, BOM dropped."""
    return " ".join(str(value).replace("\ufeff", "").split()) if value is not None else ""


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, table: str, workdir: Path, sheet: str | None = None,
               progress: Callable[[float], None] | None = None) -> StagedFile:
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileReadError(f"{path}: no such file")
    if path.is_dir():
        raise FileReadError(f"{path}: is a folder, not a file")
    if path.stat().st_size == 0:
        raise FileReadError(f"{path}: the file is empty (0 bytes)", hint="Export the table again with its header row.")
    if suffix in {".csv", ".txt", ".tsv"}:
        return _stage_csv(con, path, table, workdir)
    file_hash = file_sha256(path)
    if suffix in {".xlsx", ".xlsm"}:
        return _stage_xlsx(con, path, table, file_hash, sheet)
    if suffix == ".parquet":
        try:
            rel = con.read_parquet(str(path))
            names = column_names([clean_header(c) for c in rel.columns])
            casts = [exp.cast(exp.column(c, quoted=True), "VARCHAR").as_(n, quoted=True) for c, n in zip(rel.columns, names, strict=True)]
            rel = rel.project(", ".join(e.sql("duckdb") for e in casts))
            con.register("__stage_src", rel)
            try:
                con.execute(template("CREATE OR REPLACE TEMP TABLE :t AS SELECT * FROM __stage_src", t=table + "__data"))
            finally:
                con.unregister("__stage_src")
        except duckdb.Error as err:
            raise FileReadError(f"{path}: not a readable Parquet file ({_reason(err)})") from err
        _number_rows(con, table, 1)
        return StagedFile(path, table, names, _count(con, table), "parquet", None, False, file_hash,
                          headers=[clean_header(c) for c in rel.columns])
    raise FileReadError(
        f"{path}: unsupported file type {suffix or '(none)'}", hint="Use .csv, .xlsx or .parquet files."
    )


def _number_rows(con: duckdb.DuckDBPyConnection, table: str, header_row: int) -> None:
    """`__row`: the spreadsheet row of each record. Insertion order is preserved, so a view over
    `rowid` gives it without rewriting the staged table (`table__data`)."""
    row = (exp.column("rowid") + exp.Literal.number(header_row + 1)).as_("__row")
    view = exp.Create(this=exp.table_(table, quoted=True), kind="VIEW", replace=True,
                      expression=exp.select(exp.Star(), row).from_(exp.table_(table + "__data", quoted=True)),
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
    con.execute(view.sql("duckdb"))


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.table(table).count("*").fetchall()[0][0]


def _reason(err: Exception) -> str:
    """DuckDB's own reason for a read error, without its dump of reader options and advice."""
    lines = []
    for line in str(err).splitlines():
        text = line.strip()
        if not text or text.startswith(("Possible fixes", "* ", "file =", "delimiter =", "The search space")):
            if lines:
                break
            continue
        lines.append(text.replace("Invalid Input Error: ", "").replace("Invalid Error: ", ""))
    return " ".join(lines)[:300] or type(err).__name__


def _read_header(source: Path) -> tuple[list[str], int, str]:
    """The header fields, the blank lines above the header, and the delimiter."""
    blank = 0
    with source.open("r", encoding="utf-8-sig", newline="") as fh:
        while True:
            line = fh.readline()
            if not line:
                return [], blank, ","
            if line.strip().strip("\ufeff"):
                break
            blank += 1
        delimiter = detect_delimiter(line)
        rest = line
        # a header cell may itself hold a quoted line break
        while rest.count('"') % 2 and (more := fh.readline()):
            rest += more
    fields = next(csv.reader([rest], delimiter=delimiter), [])
    return fields, blank, delimiter


REJECTS = {
    "TOO MANY COLUMNS": "{n} fields, as in the header row (found {m}): a value containing {d!r} must be in double quotes",
    "UNQUOTED VALUE": "a closing double quote: a \" inside a quoted value must be doubled (\"\")",
    "LINE SIZE OVER MAXIMUM": "a line shorter than 8 MB",
    "INVALID ENCODING": "UTF-8 text",
    "INVALID UNICODE": "UTF-8 text",
}


def _rejected(con: duckdb.DuckDBPyConnection, rejects: str, blank: int, width: int,
              delimiter: str) -> list[tuple[int | None, str | None, str | None, str]]:
    """The lines DuckDB's reader rejected, one problem per line, with what was expected there."""
    problems: list[tuple[int | None, str | None, str | None, str]] = []
    seen: set[int] = set()
    query = template("SELECT line + ?, column_name, error_type, csv_line, error_message FROM :r ORDER BY line, column_idx",
                     r=rejects)
    for line, column, kind, text, reason in con.execute(query, [blank]).fetchall():
        if line in seen:
            continue
        seen.add(line)
        found = len(next(csv.reader([text or ""], delimiter=delimiter), []))
        expected = REJECTS.get(kind, reason or kind).format(n=width, m=found, d=delimiter)
        problems.append((line, column if kind != "TOO MANY COLUMNS" else None, (text or "").strip()[:200], expected))
    return problems


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str, workdir: Path) -> StagedFile:
    scan = _scan(path)
    if scan.nul_line is not None:
        raise FileReadError(
            f"{path}: line {scan.nul_line} holds a NUL byte (\\x00): this is not a text CSV file",
            hint="Export the table again as CSV (UTF-8 or your system's encoding), not as a binary or UTF-16 file without BOM.",
        )
    encoding = scan.encoding
    warnings = []
    if encoding == LEGACY_DEFAULT:  # not UTF-8 and no BOM: which legacy encoding, or UTF-8 with odd bytes?
        legacy = _legacy(path)
        if legacy.mixed:
            source = _repair(path, legacy, workdir)
            encoding = f"utf-8+{legacy.encoding}"
            warnings.append(_mixed_warning(legacy))
        else:
            encoding = legacy.encoding
            source = _transcode(path, encoding, workdir)
    else:
        source = path if encoding == "utf-8" else _transcode(path, encoding, workdir)
    raw, blank, delimiter = _read_header(source)
    if not any(h.strip() for h in raw):
        raise FileReadError(f"{path}: no header row (the file holds only empty lines)",
                            hint="The first line must name the columns, e.g. account_id,name,country.")
    if path.suffix.lower() == ".tsv":
        delimiter = "\t"
        raw = next(csv.reader([delimiter.join(raw)], delimiter="\t"))
    headers = [clean_header(h) for h in raw]
    names = column_names(headers)
    rejects, scans = table + "__rejects", table + "__rejects_scan"

    def read(parallel: bool) -> None:
        rel = con.read_csv(
            str(source), header=True, auto_detect=False, columns={n: "VARCHAR" for n in names}, skiprows=blank,
            delimiter=delimiter, quotechar='"', escapechar='"', null_padding=True, encoding="utf-8",
            parallel=parallel, max_line_size=8 << 20, ignore_errors=True, store_rejects=True,
            rejects_table=rejects, rejects_scan=scans, rejects_limit=1000,
        )
        con.register("__stage_src", rel)
        try:
            con.execute(template("CREATE OR REPLACE TEMP TABLE :t AS SELECT * FROM __stage_src", t=table + "__data"))
        finally:
            con.unregister("__stage_src")

    try:
        try:
            read(parallel=True)
        except duckdb.Error as err:
            if "parallel" not in str(err):
                raise
            read(parallel=False)  # quoted line breaks with short rows: only the serial reader copes
        problems = _rejected(con, rejects, blank, len(names), delimiter)
    except duckdb.Error as err:
        raise FileReadError(f"{path}: cannot be read as CSV: {_reason(err)}",
                            hint="Check its quotes and the number of fields on the line named.") from err
    finally:
        for t in (rejects, scans):
            con.execute(template("DROP TABLE IF EXISTS :t", t=t))
    _number_rows(con, table, 1 + blank)
    keep = _non_empty_columns(con, table, names, headers)
    return StagedFile(path, table, keep, _count(con, table), encoding, delimiter, delimiter == ";", scan.sha256,
                      headers=[h for h, n in zip(headers, names, strict=True) if n in keep], header_row=1 + blank,
                      problems=problems, problem_total=len(problems), warnings=warnings)


def _non_empty_columns(con: duckdb.DuckDBPyConnection, table: str, names: list[str], headers: list[str]) -> list[str]:
    """The staged columns, less those without a header and without a value (a trailing delimiter)."""
    nameless = [n for n, h in zip(names, headers, strict=True) if not h]
    if not nameless:
        return names
    counts = exp.select(*[exp.func("count", exp.column(n, quoted=True)) for n in nameless]).from_(exp.table_(table, quoted=True))
    filled = con.execute(counts.sql("duckdb")).fetchall()[0]
    empty = {n for n, c in zip(nameless, filled, strict=True) if not c}
    return [n for n in names if n not in empty]


def _xlsx_text(value: object, number_format: str | None = None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and number_format and "%" in number_format:
        return _number_text(round(value * 100, 9)) + " %"  # Excel shows 0.32 as 32 %
    if isinstance(value, (int, float)):
        return _number_text(value)
    text = str(value)
    return text if text.strip() else None


def _number_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def _open_workbook(path: Path):
    import zipfile

    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        hint = "An .xls or .csv renamed .xlsx? Open it in Excel and save it as .xlsx or CSV UTF-8."
        raise FileReadError(f"{path}: not a readable XLSX workbook ({err or type(err).__name__})", hint=hint) from err
    except Exception as err:  # openpyxl raises many kinds for a broken file
        raise FileReadError(f"{path}: not a readable XLSX workbook ({type(err).__name__}: {err})") from err


def _find_header(rows: Iterator[tuple]) -> tuple[int, tuple | None, list[tuple]]:
    """The header row, its number, and the rows read past it. The header is the first row with two
    cells filled or more: rows above it (empty, a report title, a 'generated on' line) are not data;
    every table but `leads` has two required columns, and a one-column sheet takes its first row."""
    read: list[tuple] = []
    for cells in rows:
        read.append(cells)
        if sum(1 for c in cells if _xlsx_text(c.value) is not None) >= 2:
            return len(read), cells, []
        if len(read) >= 20:
            break
    first = next((i for i, cells in enumerate(read) if any(_xlsx_text(c.value) is not None for c in cells)), None)
    if first is None:
        return len(read), None, []
    return first + 1, read[first], read[first + 1:]


def _stage_xlsx(con: duckdb.DuckDBPyConnection, path: Path, table: str, file_hash: str, sheet: str | None) -> StagedFile:
    book = _open_workbook(path)
    problems: list[tuple[int | None, str | None, str | None, str]] = []
    total = 0
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # some writers store a wrong sheet size: read every cell there is
        rows = ws.iter_rows()
        header_row, header_cells, pending = _find_header(rows)
        if header_cells is None:
            where = f" (sheet {sheet})" if sheet else ""
            raise FileReadError(f"{path}{where}: the sheet is empty; expected a header row with column names")
        headers = [clean_header(_xlsx_text(c.value)) for c in header_cells]
        while headers and not headers[-1]:
            headers.pop()  # formatted but empty cells at the end of the header row
        names = column_names(headers)
        width = len(names)
        schema = pa.schema([("__row", pa.int64()), *[(n, pa.string()) for n in names]])
        first = True
        batch: list[list[object]] = []

        def flush() -> None:
            nonlocal first, batch
            data = pa.Table.from_arrays([pa.array(col, type=f.type) for col, f in zip(zip(*batch, strict=True), schema, strict=True)]
                                        if batch else [pa.array([], type=f.type) for f in schema], schema=schema)
            con.register("__xlsx_batch", data)
            try:
                if first:
                    con.execute(template("CREATE OR REPLACE TEMP TABLE :t AS SELECT * FROM __xlsx_batch", t=table + "__data"))
                    first = False
                else:
                    con.execute(template("INSERT INTO :t SELECT * FROM __xlsx_batch", t=table + "__data"))
            finally:
                con.unregister("__xlsx_batch")
            batch = []

        row_number = header_row
        for cells in itertools.chain(pending, rows):
            row_number += 1
            values = [_xlsx_text(c.value, getattr(c, "number_format", None)) for c in cells]
            if all(v is None for v in values):
                continue  # empty (often formatted) rows are not records
            for i, value in enumerate(values[width:], start=width):
                if value is not None:
                    total += 1
                    if len(problems) < 1000:
                        problems.append((row_number, f"column {column_letter(i)}", value[:200],
                                         f"no value outside the table: column {column_letter(i)} has no header in "
                                         f"row {header_row}; add a header there or delete the value"))
            values = values[:width]
            batch.append([row_number, *values, *[None] * (width - len(values))])
            if len(batch) >= 50_000:
                flush()
        flush()
    finally:
        book.close()
    view = exp.Create(this=exp.table_(table, quoted=True), kind="VIEW", replace=True,
                      expression=exp.select(exp.Star()).from_(exp.table_(table + "__data", quoted=True)),
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
    con.execute(view.sql("duckdb"))
    keep = _non_empty_columns(con, table, names, headers)
    return StagedFile(path, table, keep, _count(con, table), "xlsx", None, False, file_hash,
                      headers=[h for h, n in zip(headers, names, strict=True) if n in keep], header_row=header_row,
                      problems=problems, problem_total=total)


def xlsx_sheets(path: Path) -> list[str]:
    book = _open_workbook(path)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="accountree-import-", dir=os.environ.get("ACCOUNTREE_TMP")))
