"""Writing an export as CSV, JSON or Parquet, streamed batch by batch to a file or stdout."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import BinaryIO, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlglot import exp

from accountree.store import Workspace

Format = Literal["csv", "json", "parquet"]


def _json_value(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return value


# CSV and JSON print floating-point figures rounded to this many decimals: a sum of amounts is
# stored as 14901.529999999999 and shown as 14901.53; Parquet keeps the stored values.
DECIMALS = 6


def tidy(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with its float columns rounded to `DECIMALS` (other columns untouched)."""
    floats = [i for i, field in enumerate(batch.schema) if pa.types.is_floating(field.type)]
    if not floats:
        return batch
    columns = list(batch.columns)
    for i in floats:
        columns[i] = pc.round(columns[i], ndigits=DECIMALS)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


# CSV injection (OWASP): a spreadsheet runs a cell starting with = + - @ (or tab / CR before one)
# as a formula. Text cells starting so get a leading apostrophe, which Excel and LibreOffice show
# as text; a text cell that is a plain number ("-12.5", "+33") cannot hold a formula and is kept.
# Numeric columns are never touched. `raw=True` keeps every value as stored (machine use).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = r"^[=+\-@\t\r]"
_NUMBER_RE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def safe_cell(value: object) -> object:
    """One value as a spreadsheet may open it: text that a spreadsheet would run gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not re.match(_NUMBER_RE, value):
        return "'" + value
    return value


def _is_text(field_type: pa.DataType) -> bool:
    return pa.types.is_string(field_type) or pa.types.is_large_string(field_type)


def neutralise(data: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    """`data` with every text cell a spreadsheet would run as a formula prefixed with `'` (see
    `safe_cell`); numbers, dates and other columns as they are."""
    texts = [i for i, field in enumerate(data.schema) if _is_text(field.type)]
    if not texts:
        return data
    columns = list(data.columns)
    for i in texts:
        col = columns[i]
        risky = pc.and_(pc.match_substring_regex(col, _FORMULA_RE),
                        pc.invert(pc.match_substring_regex(col, _NUMBER_RE)))
        prefixed = pc.binary_join_element_wise(pa.scalar("'", col.type), col, pa.scalar("", col.type))
        columns[i] = pc.if_else(pc.fill_null(risky, False), prefixed, col)
    return type(data).from_arrays(columns, schema=data.schema)


def write_export(ws: Workspace, query: exp.Select | str, fmt: Format, out: Path | None, raw: bool = False) -> int:
    """Stream the query's rows to `out` (stdout when None); returns the number of rows. CSV and
    JSON round floating-point figures to `DECIMALS` decimals; Parquet writes them as stored. CSV
    text cells that a spreadsheet would run as formulas get a leading `'` unless `raw`."""
    stream: BinaryIO
    if out is None:
        stream = sys.stdout.buffer
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        stream = out.open("wb")
    rows = 0
    try:
        batches = ws.engine.iter_batches(query)
        if fmt == "csv":
            writer = None
            for batch in batches:
                if writer is None:
                    writer = pacsv.CSVWriter(stream, batch.schema)
                writer.write_batch(tidy(batch) if raw else neutralise(tidy(batch)))
                rows += batch.num_rows
            if writer is None:  # no rows: still a header
                table = ws.engine.fetch_arrow(query)
                pacsv.write_csv(table, stream)
            else:
                writer.close()
        elif fmt == "json":
            stream.write(b"[")
            for batch in batches:
                for record in tidy(batch).to_pylist():
                    stream.write((b",\n" if rows else b"\n") + json.dumps(
                        {k: _json_value(v) for k, v in record.items()}, ensure_ascii=False).encode())
                    rows += 1
            stream.write(b"\n]\n")
        else:
            writer_pq = None
            for batch in batches:
                if writer_pq is None:
                    writer_pq = pq.ParquetWriter(stream, batch.schema)
                writer_pq.write_table(pa.Table.from_batches([batch]))
                rows += batch.num_rows
            if writer_pq is None:
                pq.write_table(ws.engine.fetch_arrow(query), stream)
            else:
                writer_pq.close()
    finally:
        if out is not None:
            stream.close()
        else:
            stream.flush()
    return rows
