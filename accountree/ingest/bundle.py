"""Which file is which table: a bundle folder, a list of files, `TABLE=PATH` arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from accountree.errors import AccountreeError
from accountree.ingest.contract import TABLES
from accountree.ingest.mapping import Mapping, header_key
from accountree.ingest.readers import FileReadError, xlsx_sheets

SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet"}


class BundleError(AccountreeError):
    """The bundle's files cannot be matched to tables."""

    exit_code = 2


@dataclass(frozen=True)
class BundleFile:
    path: Path
    table: str
    sheet: str | None = None

    @property
    def label(self) -> str:
        return f"{self.path.name} (sheet {self.sheet})" if self.sheet else self.path.name


# What browsers and file managers add to a name: `Accounts (1).csv`, `accounts - Copy.csv`, `Copy of deals.xlsx`.
_COPY_MARKS = re.compile(r"^(copy of |copie de )|( ?\(\d+\)| - copy( \(\d+\))?| - copie( \(\d+\))?| copy)$", re.IGNORECASE)


def _table_of(path: Path, mapping: Mapping) -> str | None:
    by_mapping = mapping.table_for_file(path)
    if by_mapping:
        return by_mapping
    stem = path.stem.strip()
    while (plain := _COPY_MARKS.sub("", stem).strip()) != stem:
        stem = plain
    key = header_key(stem)
    return key if key in TABLES else None


def plan_bundle(arguments: list[str], mapping: Mapping) -> list[BundleFile]:
    """Resolve the user's arguments to (file, table) pairs; every unmatched file is reported at once."""
    files: list[BundleFile] = []
    problems: list[str] = []
    for argument in arguments:
        table, sep, location = argument.partition("=")
        if sep and table in TABLES and not Path(argument).exists():
            if not Path(location).is_file():
                problems.append(f"{location}: no such file" + (" (a folder: name one file with TABLE=PATH)"
                                                               if Path(location).is_dir() else ""))
            else:
                files.append(BundleFile(Path(location), table))
            continue
        path = Path(argument)
        if not path.exists():
            if sep and re.fullmatch(r"\w+", table):
                problems.append(f"{argument}: {table!r} is not a table (expected one of {', '.join(TABLES)})")
            else:
                problems.append(f"{argument}: no such file or folder")
        elif path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith((".", "~$")))
            if not found:
                problems.append(f"{argument}: no .csv, .xlsx or .parquet file in this folder")
            for p in found:
                files.extend(_classify(p, mapping, problems))
        else:
            files.extend(_classify(path, mapping, problems))
    files = [f for f in files if f.table]
    by_table: dict[str, list[str]] = {}
    for f in files:
        by_table.setdefault(f.table, []).append(f.label)
    for table, labels in by_table.items():
        if len(labels) > 1:
            problems.append(f"{', '.join(labels)}: several files for table {table}; import them one at a time "
                            "(or join them into one file)")
    if problems:
        raise BundleError(
            "the bundle cannot be read:\n  - " + "\n  - ".join(problems),
            hint=f"Name each file after its table ({', '.join(TABLES)}), pass TABLE=PATH, or use --preset/--mapping.",
        )
    return files


def _classify(path: Path, mapping: Mapping, problems: list[str]) -> list[BundleFile]:
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        try:
            sheets = xlsx_sheets(path)
        except FileReadError as err:
            problems.append(err.message)
            return []
        named = [s for s in sheets if header_key(s) in TABLES]
        if len(sheets) > 1 and named:
            # A workbook with one sheet per table: each sheet named after a table is that table.
            return [BundleFile(path, header_key(sheet), sheet) for sheet in named]
    table = _table_of(path, mapping)
    if table is None:
        problems.append(f"{path.name}: not a known table name — rename it after its table or pass "
                        f"TABLE={path.name} (e.g. accounts={path.name})")
        return []
    return [BundleFile(path, table)]
