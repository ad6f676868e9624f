"""Which file is which table: a bundle folder, a list of files, `TABLE=PATH` arguments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accountree.errors import AccountreeError
from accountree.ingest.contract import TABLES
from accountree.ingest.mapping import Mapping, header_key
from accountree.ingest.readers import xlsx_sheets

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
        return f"{self.path.name}[{self.sheet}]" if self.sheet else self.path.name


def _table_of(path: Path, mapping: Mapping) -> str | None:
    by_mapping = mapping.table_for_file(path)
    if by_mapping:
        return by_mapping
    key = header_key(path.stem)
    return key if key in TABLES else None


def plan_bundle(arguments: list[str], mapping: Mapping) -> list[BundleFile]:
    """Resolve the user's arguments to (file, table) pairs; every unmatched file is reported at once."""
    files: list[BundleFile] = []
    problems: list[str] = []
    for argument in arguments:
        table, sep, location = argument.partition("=")
        if sep and table in TABLES and not Path(argument).exists():
            files.append(BundleFile(Path(location), table))
            continue
        path = Path(argument)
        if not path.exists():
            problems.append(f"{argument}: no such file or folder")
        elif path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith((".", "~$")))
            if not found:
                problems.append(f"{argument}: no .csv, .xlsx or .parquet file in this folder")
            files.extend(_classify(p, mapping, problems) for p in found)
        else:
            files.append(_classify(path, mapping, problems))
    files = [f for f in files if f.table]
    by_table: dict[str, list[str]] = {}
    for f in files:
        by_table.setdefault(f.table, []).append(f.label)
    for table, labels in by_table.items():
        if len(labels) > 1:
            problems.append(f"{', '.join(labels)}: several files for table {table}; import them one at a time")
    if problems:
        raise BundleError(
            "the bundle cannot be read:\n  - " + "\n  - ".join(problems),
            hint=f"Name each file after its table ({', '.join(TABLES)}), pass TABLE=PATH, or use --preset/--mapping.",
        )
    return files


def _classify(path: Path, mapping: Mapping, problems: list[str]) -> BundleFile:
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        sheets = xlsx_sheets(path)
        named = [s for s in sheets if header_key(s) in TABLES]
        if len(sheets) > 1 and named:
            # A workbook with one sheet per table: each named sheet is a table.
            first, *rest = named
            for sheet in rest:
                problems.append(f"{path.name}: workbooks with several table sheets — save sheet {sheet!r} as its own file")
            return BundleFile(path, header_key(first), first)
    table = _table_of(path, mapping)
    if table is None:
        problems.append(f"{path.name}: not a known table name")
        return BundleFile(path, "")
    return BundleFile(path, table)
