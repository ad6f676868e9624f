"""The streaming driver: one registry file in, canonical (entities, links) batches out.

`parse_registry` recognises the layout from the header *before* reading any data, so a wrong file
fails at once with `RegistryFormatError`; then iterating reads the file block by block and yields
one `RegistryBatch` per block. Bad rows are skipped and listed in `parser.problems` (file, row,
column, value, what was expected) — the caller decides whether they block an import.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import pyarrow as pa

from accountree.errors import Problem
from accountree.registry._base import Format, ParseContext, resolve_columns
from accountree.registry.dnb import DNB_FORMATS
from accountree.registry.errors import RegistryFormatError
from accountree.registry.gleif import GLEIF_FORMATS
from accountree.registry.reader import open_raw
from accountree.registry.schema import ENTITY_SCHEMA, LINK_SCHEMA
from accountree.registry.sirene import SIRENE_FORMATS

RegistryKind = Literal["gleif", "dnb", "sirene"]

FORMATS: dict[str, tuple[Format, ...]] = {"gleif": GLEIF_FORMATS, "dnb": DNB_FORMATS, "sirene": SIRENE_FORMATS}

# GLEIF names its files 20260123-0800-gleif-goldencopy-…: the publication date is the records' age.
_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)")


class RegistryBatch(NamedTuple):
    entities: pa.RecordBatch  # ENTITY_SCHEMA
    links: pa.RecordBatch  # LINK_SCHEMA


def _date_in_name(name: str) -> dt.date | None:
    match = _DATE_IN_NAME.search(name)
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


class RegistryParser:
    """Iterable of `RegistryBatch` for one file; `format`, `problems` and counters describe the run."""

    def __init__(
        self,
        kind: RegistryKind,
        path: str | Path,
        *,
        as_of: dt.date | str | None = None,
        block_size: int = 16 << 20,
        max_problems: int = 1000,
    ) -> None:
        if kind not in FORMATS:
            raise ValueError(f"unknown registry kind {kind!r}: expected one of {', '.join(FORMATS)}")
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such file")
        formats = FORMATS[kind]
        self._raw = open_raw(self.path, lambda header: any(f.is_header(header) for f in formats))
        if not self._raw.matched:
            raise RegistryFormatError(self.path, kind, {f.name: f.expected for f in formats}, self._raw.header)
        self.kind = kind
        self.format: Format = next(f for f in formats if f.is_header(self._raw.header))
        columns = resolve_columns(self._raw.header, self.format.aliases)
        self._read = self.format.columns_to_read(self._raw.header, columns)
        default_as_of = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
        self.context = ParseContext(
            str(self.path), columns, default_as_of or _date_in_name(self.path.name), max_problems
        )
        self.block_size = block_size
        self.rows_read = 0

    @property
    def format_name(self) -> str:
        return self.format.name

    @property
    def problems(self) -> list[Problem]:
        """Bad rows seen so far (the first `max_problems`); `problem_count` counts them all."""
        return self.context.problems

    @property
    def problem_count(self) -> int:
        return self.context.problem_count

    @property
    def skipped_rows(self) -> int:
        """Rows dropped on purpose, not errors (GLEIF records annulled or duplicates)."""
        return self.context.skipped_rows

    def __iter__(self) -> Iterator[RegistryBatch]:
        for first_row, batch in self._raw.batches(self._read, block_size=self.block_size):
            self.rows_read += batch.num_rows
            entities, links = self.format.transform(self.context, batch, first_row)
            for problem in self._raw.problems:  # rows the CSV parser could not split
                self.context.add(problem)
            self._raw.problems.clear()
            yield RegistryBatch(entities, links)
        for problem in self._raw.problems:
            self.context.add(problem)
        self._raw.problems.clear()


def parse_registry(kind: RegistryKind, path: str | Path, **options: object) -> RegistryParser:
    """Stream a GLEIF, D&B or SIRENE file as canonical (entities, links) batches.

    Raises `RegistryFormatError` at once when the header fits none of the kind's layouts. Options:
    `as_of` (date of the file, used when a record has none; default: a date in the file name),
    `block_size` (bytes per batch, 16 MiB), `max_problems` (bad rows kept for the report, 1000).
    """
    return RegistryParser(kind, path, **options)  # type: ignore[arg-type]


@dataclass
class RegistryTables:
    """A whole (small) file in memory: for tests, previews and files of a few hundred thousand rows."""

    format: str
    entities: pa.Table
    links: pa.Table
    problems: list[Problem]
    problem_count: int
    rows_read: int
    skipped_rows: int


def read_registry(kind: RegistryKind, path: str | Path, **options: object) -> RegistryTables:
    """`parse_registry` collected into two tables."""
    parser = parse_registry(kind, path, **options)
    entities, links = [], []
    for batch in parser:
        entities.append(batch.entities)
        links.append(batch.links)
    return RegistryTables(
        parser.format_name,
        pa.Table.from_batches(entities, schema=ENTITY_SCHEMA),
        pa.Table.from_batches(links, schema=LINK_SCHEMA),
        parser.problems, parser.problem_count, parser.rows_read, parser.skipped_rows,
    )
