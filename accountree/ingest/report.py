"""What an import did with the values it could only partly read: warnings, kept with the import.

An error refuses the whole import (a missing required column, a duplicate key, an unknown account,
a required amount or date that cannot be read). A *warning* is a value an optional column did not
recognise: the row is imported, the raw value is kept (in `attributes` as `<column>_raw`, or in the
column itself for free text such as an e-mail), and the warning says where it was and what was done.
Warnings of one file with the same column, value and action are one line (`rows`: how many, `row`:
the first); they are stored in `import_warnings` beside the `imports` row of their file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from accountree.errors import Problem

# Warnings kept per file (the total is always counted); the rest is one summary line.
MAX_WARNINGS = 10_000


@dataclass(frozen=True)
class ImportWarning:
    file: str
    table: str
    row: int | None
    column: str | None
    value: str | None
    expected: str
    action: str
    rows: int = 1

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row is not None else "")
        more = f" (and {self.rows - 1:,} more rows)" if self.rows > 1 else ""
        col = f", column {self.column!r}" if self.column else ""
        val = f": {self.value!r}" if self.value is not None else ""
        return f"{where}{more}{col}{val} — {self.action}"

    def as_problem(self) -> Problem:
        """The same finding as an error (`--strict`)."""
        more = f" (and {self.rows - 1:,} more rows with this value)" if self.rows > 1 else ""
        return Problem(self.file, self.row, self.column, self.value, self.expected + more)


def warnings_table(import_id: int, warnings: list[ImportWarning], paths: dict[str, str]) -> pa.Table:
    """The rows of `import_warnings` for one import (`paths`: file label -> stored file)."""
    return pa.table({
        "import_id": pa.array([import_id] * len(warnings), pa.int64()),
        "file": pa.array([paths.get(w.file, w.file) for w in warnings], pa.string()),
        "table_name": pa.array([w.table for w in warnings], pa.string()),
        "row": pa.array([w.row for w in warnings], pa.int64()),
        "column": pa.array([w.column for w in warnings], pa.string()),
        "value": pa.array([w.value for w in warnings], pa.string()),
        "expected": pa.array([w.expected for w in warnings], pa.string()),
        "action": pa.array([w.action for w in warnings], pa.string()),
        "rows": pa.array([w.rows for w in warnings], pa.int64()),
    })


# The first five columns are those of the problem report before warnings existed.
REPORT_COLUMNS = ["file", "row", "column", "value", "expected", "level", "action", "rows"]


def write_report(path: Path, problems: list[Problem], warnings: list[ImportWarning]) -> None:
    """`--report`: every problem (level `error`) and every warning of an import, as CSV."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(REPORT_COLUMNS)
        for p in problems:
            writer.writerow([p.file, p.row or "", p.column or "", p.value or "", p.expected, "error",
                             "refused: nothing was imported", 1])
        for w in warnings:
            writer.writerow([w.file, w.row or "", w.column or "", w.value or "", w.expected, "warning", w.action, w.rows])


SHOWN = 50  # warnings printed after the import table; `--report` and `export import_warnings` have all


def print_warnings(console, warnings: list[ImportWarning]) -> None:
    """The warnings as a table under the import's: where, the value, what was done."""
    from rich.markup import escape
    from rich.table import Table

    total = sum(w.rows for w in warnings)
    table = Table("file", "row", "column", "value", "what was done",
                  title=f"{total:,} row(s) imported with a warning: values not recognised, kept")
    for w in warnings[:SHOWN]:
        row = "" if w.row is None else f"{w.row}" + (f" (+{w.rows - 1:,})" if w.rows > 1 else "")
        table.add_row(escape(w.file), row, escape(w.column or ""), escape(w.value or ""), escape(w.action))
    console.print(table)
    if len(warnings) > SHOWN:
        console.print(f"… and {len(warnings) - SHOWN:,} more: --report FILE, or `accountree export import_warnings`")
