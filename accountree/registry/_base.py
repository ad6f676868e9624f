"""What every registry format plugs into the streaming driver (`accountree.registry.parse`).

A format says how to recognise its header, which columns it reads (with the spellings it accepts)
and how to turn one batch of raw text columns into canonical entity and link batches. Row-level
problems go through `ParseContext.report`, which keeps the first `max_problems` for the user and
counts the rest, so a wholly wrong file cannot fill memory with messages.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from accountree.errors import Problem
from accountree.registry._arrow import invalid_rows, text

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def norm_key(name: str) -> str:
    """Header spelling-insensitive key: "D-U-N-S® Number" -> "dunsnumber"."""
    return _NON_ALNUM.sub("", name.lower())


def resolve_columns(header: Sequence[str], aliases: Mapping[str, Sequence[str]]) -> dict[str, str | None]:
    """Canonical field -> the header's column for it (first alias present wins), or None."""
    by_key: dict[str, str] = {}
    for name in header:
        by_key.setdefault(norm_key(name), name)
    return {f: next((by_key[norm_key(a)] for a in names if norm_key(a) in by_key), None) for f, names in aliases.items()}


@dataclass
class ParseContext:
    """Per-file state handed to a format's `transform`."""

    path: str
    columns: dict[str, str | None]
    as_of: dt.date | None
    max_problems: int = 1000
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    skipped_rows: int = 0  # rows dropped without being a problem (GLEIF annulled records…)

    def col(self, batch: pa.RecordBatch, name: str) -> pa.Array:
        return text(batch, self.columns.get(name))

    def header_of(self, name: str) -> str | None:
        return self.columns.get(name)

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(problem)

    def check(self, valid: pa.Array, first_row: int, name: str, values: pa.Array, expected: str) -> None:
        """Report every row where `valid` is false: file, row number, column, value."""
        for pos in invalid_rows(valid):
            value = values[pos].as_py()
            self.add(Problem(self.path, first_row + pos, self.header_of(name) or name, value, expected))

    def dated(self, record_date: pa.Array) -> pa.Array:
        """The record's own date, else the file's `as_of`."""
        if self.as_of is None:
            return record_date
        return pc.coalesce(record_date, pa.scalar(self.as_of, pa.date32()))


Transform = Callable[[ParseContext, pa.RecordBatch, int], tuple[pa.RecordBatch, pa.RecordBatch]]


@dataclass(frozen=True)
class Format:
    """One concrete file layout (GLEIF level 1, SIRENE établissements, a D&B family tree…)."""

    name: str
    source: str
    expected: tuple[str, ...]  # shown when no format matches
    is_header: Callable[[list[str]], bool]
    aliases: Mapping[str, Sequence[str]]
    transform: Transform
    extra_columns: Callable[[list[str]], list[str]] = lambda header: []  # e.g. numbered GLEIF columns

    def columns_to_read(self, header: list[str], resolved: Mapping[str, str | None]) -> list[str]:
        return [c for c in resolved.values() if c] + self.extra_columns(header)
