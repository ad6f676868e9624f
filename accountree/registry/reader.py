"""Streaming reader of registry exports: CSV (plain, .zip or .gz) and XLSX, as string batches.

Everything downstream is vectorised, so this module only turns a file into Arrow record batches of
text columns, with the row number of each batch's first record for error messages. It never holds
a whole file: pyarrow's CSV reader parses block by block (16 MiB by default), openpyxl's read-only
mode walks a workbook row by row.

What users actually hand over varies, so the reader sniffs rather than assumes: UTF-8 (with or
without BOM), UTF-16 or Windows-1252; comma, semicolon, tab or pipe separators; and title lines
above the header (D&B exports) — the header is the first of the first 30 rows that the caller's
`is_header` accepts. Row numbers are the file's line numbers (title lines and header included),
exact unless a quoted value spans several lines.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pacsv

from accountree.errors import Problem
from accountree.registry.errors import RegistryReadError

HeaderTest = Callable[[list[str]], bool]

_SCAN_ROWS = 30
_SAMPLE_BYTES = 512 * 1024
_DELIMITERS = (",", ";", "\t", "|")


def _open_binary(path: Path) -> IO[bytes]:
    """The file's bytes; a .zip holds the export as its (first) CSV member, as GLEIF and INSEE ship."""
    name = path.name.lower()
    if name.endswith(".zip"):
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.infolist() if not m.is_dir()]
        csvs = [m for m in members if m.filename.lower().endswith((".csv", ".txt"))] or members
        if not csvs:
            raise ValueError(f"{path}: empty zip archive")
        return archive.open(csvs[0])
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _decode_sample(sample: bytes) -> tuple[str, str]:
    """(text, encoding name for pyarrow) of the file's first bytes."""
    if sample.startswith(codecs.BOM_UTF8):
        return sample[3:].decode("utf-8", errors="ignore"), "utf8"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return sample.decode("utf-16", errors="ignore"), "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        return decoder.decode(sample, final=False), "utf8"
    except UnicodeDecodeError:
        return sample.decode("cp1252", errors="replace"), "cp1252"


def _clean_header(row: Sequence[Any]) -> list[str]:
    """Header cells as text, BOM and spaces removed, duplicates made unique ("City", "City_2")."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(row):
        name = str(cell).replace("\ufeff", "").strip() if cell is not None else ""
        name = name or f"column_{i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _find_header(rows: Sequence[Sequence[Any]], is_header: HeaderTest) -> int | None:
    for i, row in enumerate(rows[:_SCAN_ROWS]):
        if any(c not in (None, "") for c in row) and is_header(_clean_header(row)):
            return i
    return None


def _first_nonempty(rows: Sequence[Sequence[Any]]) -> int:
    return next((i for i, row in enumerate(rows) if any(c not in (None, "") for c in row)), 0)


@dataclass
class RawFile:
    """An opened export: its header, where the header is, and how to stream the rest."""

    path: Path
    header: list[str]
    header_index: int  # rows above the header (0: the header is the first row)
    matched: bool  # whether `is_header` accepted the header
    _delimiter: str = ","
    _encoding: str = "utf8"
    _xlsx_sheet: str | None = None
    problems: list[Problem] = field(default_factory=list)  # rows the CSV parser could not split

    def batches(self, columns: Sequence[str], *, block_size: int = 16 << 20) -> Iterator[tuple[int, pa.RecordBatch]]:
        """(row number of the first record, batch of string columns) for `columns` of the header."""
        wanted = [c for c in self.header if c in set(columns)]
        if self._xlsx_sheet is not None:
            yield from self._xlsx_batches(wanted, rows_per_batch=max(1000, block_size // 512))
        else:
            yield from self._csv_batches(wanted, block_size)

    def _csv_batches(self, wanted: list[str], block_size: int) -> Iterator[tuple[int, pa.RecordBatch]]:
        first_data_row = self.header_index + 2

        bad_rows = 0

        def on_bad_row(row: pacsv.InvalidRow) -> str:
            nonlocal bad_rows
            bad_rows += 1
            # pyarrow knows the line only when no value may hold a line break; the text locates it.
            where = None if row.number is None else row.number + self.header_index + 1
            self.problems.append(Problem(
                str(self.path), where, None, row.text[:80],
                f"{row.expected_columns} fields like the header (found {row.actual_columns})",
            ))
            return "skip"

        stream = _open_binary(self.path)
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=self.header, skip_rows=self.header_index + 1, block_size=block_size,
                    encoding=self._encoding,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self._delimiter, newlines_in_values=True, invalid_row_handler=on_bad_row,
                ),
                convert_options=pacsv.ConvertOptions(
                    include_columns=wanted, column_types=dict.fromkeys(wanted, pa.string()),
                    null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True,
                ),
            )
        except pa.ArrowInvalid as exc:
            stream.close()
            if "Empty CSV file" in str(exc):
                return
            raise
        yielded = skipped_before = 0
        try:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (pa.ArrowInvalid, UnicodeDecodeError) as exc:  # e.g. cp1252 bytes deep in a UTF-8 file
                    raise RegistryReadError(self.path, first_data_row + yielded + bad_rows, str(exc)) from exc
                if batch.num_rows:  # numbering counts the bad rows of earlier blocks
                    yield first_data_row + yielded + skipped_before, batch
                    yielded += batch.num_rows
                skipped_before = bad_rows
        finally:
            stream.close()

    def _xlsx_batches(self, wanted: list[str], rows_per_batch: int) -> Iterator[tuple[int, pa.RecordBatch]]:
        import openpyxl

        book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        try:
            sheet = book[self._xlsx_sheet]
            positions = [self.header.index(c) for c in wanted]
            buffer: list[list[str | None]] = [[] for _ in wanted]
            first = row = self.header_index + 2
            for values in sheet.iter_rows(min_row=self.header_index + 2, values_only=True):
                if all(v is None or v == "" for v in values):
                    row += 1
                    continue
                for column, pos in zip(buffer, positions, strict=True):
                    column.append(_cell_text(values[pos]) if pos < len(values) else None)
                row += 1
                if len(buffer[0]) >= rows_per_batch:
                    yield first, _string_batch(wanted, buffer)
                    buffer, first = [[] for _ in wanted], row
            if buffer and buffer[0]:
                yield first, _string_batch(wanted, buffer)
        finally:
            book.close()


def _string_batch(names: list[str], columns: list[list[str | None]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names=names)


def _cell_text(value: Any) -> str | None:
    """An XLSX cell as the text a CSV export would hold (12345.0 -> "12345", dates ISO)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def open_raw(path: str | Path, is_header: HeaderTest) -> RawFile:
    """Sniff `path` (format, encoding, separator, header row) without reading it all."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _open_xlsx(path, is_header)
    with _open_binary(path) as stream:
        sample = stream.read(_SAMPLE_BYTES)
    text, encoding = _decode_sample(sample)
    lines = text.splitlines()[:_SCAN_ROWS]
    counts = {d: sum(line.count(d) for line in lines) for d in _DELIMITERS}
    by_use = sorted(_DELIMITERS, key=lambda d: -counts[d])
    for delimiter in by_use:
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
        index = _find_header(rows, is_header)
        if index is not None:
            return RawFile(path, _clean_header(rows[index]), index, True, delimiter, encoding)
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=by_use[0]))
    index = _first_nonempty(rows)
    header = _clean_header(rows[index]) if rows else []
    return RawFile(path, header, index, False, by_use[0], encoding)


def _open_xlsx(path: Path, is_header: HeaderTest) -> RawFile:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        fallback: RawFile | None = None
        for sheet in book.worksheets:
            rows = [list(r) for r in sheet.iter_rows(max_row=_SCAN_ROWS, values_only=True)]
            index = _find_header(rows, is_header)
            if index is not None:
                return RawFile(path, _clean_header(rows[index]), index, True, _xlsx_sheet=sheet.title)
            if fallback is None and rows:
                first = _first_nonempty(rows)
                fallback = RawFile(path, _clean_header(rows[first]), first, False, _xlsx_sheet=sheet.title)
        return fallback or RawFile(path, [], 0, False, _xlsx_sheet=book.worksheets[0].title)
    finally:
        book.close()
