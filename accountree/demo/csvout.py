"""Streaming CSV output: one file per table, appended chunk by chunk, byte-reproducible.

pyarrow's own CSV writer quotes every string (``"ACC0000001","Valmont SA"``), which is valid but
unlike any CRM export; Python's ``csv`` module is too slow for tens of millions of rows. So each
chunk is rendered column-wise with pyarrow compute (minimal RFC 4180 quoting, ISO dates,
``true``/``false``, ``.`` decimals, empty for missing) and joined into one buffer per chunk.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NEEDS_QUOTES = r'[",\r\n]'


def _render(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One column as CSV cell text, never null."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    t = col.type
    if pa.types.is_floating(t):
        col = pc.round(col, 2)
    if not pa.types.is_string(t):
        return pc.cast(col, pa.string()).fill_null("")
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
    return pc.if_else(pc.match_substring_regex(col, _NEEDS_QUOTES), quoted, col).fill_null("")


def render_csv(table: pa.Table) -> memoryview:
    """The CSV lines of ``table`` (no header), as one contiguous UTF-8 buffer."""
    cols = [_render(table.column(i)) for i in range(table.num_columns)]
    rows = pc.binary_join_element_wise(*cols, ",") if len(cols) > 1 else cols[0]
    lines = pc.binary_join_element_wise(rows, pa.scalar("\n"), "")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    data = memoryview(lines.buffers()[2])
    return data[offsets[0]: offsets[-1]]


class CsvTable:
    """An output CSV file: header written on open, chunks appended, closed at the end."""

    def __init__(self, path: Path, columns: tuple[str, ...] | list[str]) -> None:
        self.path = path
        self.columns = list(columns)
        self.rows = 0
        self._fh = path.open("wb")
        self._fh.write((",".join(self.columns) + "\n").encode())

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if table.column_names != self.columns:
            raise ValueError(f"{self.path.name}: columns {table.column_names} != {self.columns}")
        self._fh.write(render_csv(table))
        self.rows += table.num_rows

    def close(self) -> None:
        self._fh.close()


class CsvBundle:
    """The set of output files of a run; closes them all, even when generation fails."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.tables: dict[str, CsvTable] = {}

    def open(self, name: str, columns: tuple[str, ...] | list[str]) -> CsvTable:
        self.tables[name] = CsvTable(self.directory / f"{name}.csv", columns)
        return self.tables[name]

    def __getitem__(self, name: str) -> CsvTable:
        return self.tables[name]

    def __enter__(self) -> CsvBundle:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for t in self.tables.values():
            t.close()
