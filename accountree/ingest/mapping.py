"""Mapping raw exports onto the canonical bundle: user YAML files and the built-in presets.

A mapping says, per table, which file names hold it and which header feeds each canonical column
(a list means "the first one present"). Presets are mappings shipped with accountree
(`presets/salesforce.yaml`, `presets/hubspot.yaml`) and use the same model, so anything a preset
does a user can do in their own file. Headers that match a canonical name loosely (`Account ID`
for `account_id`) are taken without being mapped.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from accountree.errors import ConfigError
from accountree.ingest.contract import TABLES

PRESETS = ("salesforce", "hubspot")


class TableMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files: list[str] = Field(default_factory=list, description="file-name patterns (glob, case-insensitive)")
    columns: dict[str, str | list[str]] = Field(default_factory=dict, description="canonical column: header(s)")
    concat: dict[str, list[str]] = Field(default_factory=dict, description="canonical column: headers joined by a space")
    values: dict[str, dict[str, str]] = Field(default_factory=dict, description="canonical column: raw → canonical value")
    lookups: dict[str, Literal["name_or_id"]] = Field(
        default_factory=dict, description="reference columns that may hold an account name instead of an id"
    )
    won_flag: str | None = Field(None, description="deals: header of a true/false 'is won' column")
    closed_flag: str | None = Field(None, description="deals: header of a true/false 'is closed' column")

    @field_validator("columns", "concat")
    @classmethod
    def _lists(cls, value: dict) -> dict:
        return {k: ([v] if isinstance(v, str) else v) for k, v in value.items()}


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "custom"
    decimal: Literal[",", "."] | None = None
    date_order: Literal["dmy", "mdy"] | None = None
    tables: dict[str, TableMapping] = Field(default_factory=dict)

    def table_for_file(self, path: Path) -> str | None:
        name = path.name.lower()
        for table, mapping in self.tables.items():
            if any(fnmatch.fnmatch(name, pattern.lower()) for pattern in mapping.files):
                return table
        return None

    def for_table(self, table: str) -> TableMapping:
        return self.tables.get(table, TableMapping())


def header_key(header: str) -> str:
    """`Account ID`, `account_id` and ` ACCOUNT-ID ` all give `account_id`."""
    folded = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")


def load_mapping(path: Path) -> Mapping:
    if not path.exists():
        raise ConfigError(f"mapping file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from err
    return _validate(data, str(path))


def load_preset(name: str) -> Mapping:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}", hint=f"Presets: {', '.join(PRESETS)}.")
    text = resources.files("accountree.ingest").joinpath("presets", f"{name}.yaml").read_text(encoding="utf-8")
    return _validate(yaml.safe_load(text), f"preset {name}")


def _unknown_names(data: object) -> list[str]:
    """Tables and columns that do not exist — checked beside pydantic so all problems come at once."""
    problems: list[str] = []
    tables = data.get("tables") if isinstance(data, dict) else None
    if not isinstance(tables, dict):
        return problems
    for table, mapping in tables.items():
        if table not in TABLES:
            problems.append(f"tables.{table}: unknown table (expected one of {', '.join(TABLES)})")
            continue
        known = set(TABLES[table].column_names)
        for section in ("columns", "concat", "values", "lookups"):
            entries = mapping.get(section) if isinstance(mapping, dict) else None
            for column in entries or {}:
                if column not in known:
                    problems.append(f"tables.{table}.{section}.{column}: not a column of {table}")
    return problems


def _validate(data: object, origin: str) -> Mapping:
    problems = _unknown_names(data)
    mapping = None
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as err:
        for e in err.errors():
            where = ".".join(str(p) for p in e["loc"])
            problems.append(f"{where}: {e['msg']}")
    if problems or mapping is None:
        raise ConfigError(f"{origin}: invalid mapping", problems)
    return mapping


def resolve_columns(table: str, headers: list[str], mapping: TableMapping) -> tuple[dict[str, str], list[str]]:
    """Canonical column → file header it is read from; and the headers kept as attributes."""
    spec = TABLES[table]
    by_key = {header_key(h): h for h in reversed(headers)}
    used: set[str] = set()
    chosen: dict[str, str] = {}
    for col in spec.column_names:
        candidates = mapping.columns.get(col, [])
        header = next((by_key[header_key(c)] for c in candidates if header_key(c) in by_key), None)
        if header is None and col not in mapping.concat:
            header = by_key.get(col)
        if header is not None:
            chosen[col] = header
            used.add(header)
    for parts in mapping.concat.values():
        used.update(by_key[header_key(p)] for p in parts if header_key(p) in by_key)
    for flag in (mapping.won_flag, mapping.closed_flag):
        if flag and header_key(flag) in by_key:
            used.add(by_key[header_key(flag)])
    extras = [h for h in headers if h not in used]
    return chosen, extras
