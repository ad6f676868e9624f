"""The two canonical tables every registry parser produces (see README.md in this folder).

One shape for GLEIF, D&B and SIRENE so that the hierarchy builder, the matcher and the workspace
writer never need to know where a record came from: `source` + `source_id` identify a record, the
identifier columns (`lei`, `duns`, `siren`, `siret`) are filled whatever the source so that records
of different registries can be joined, and every row carries its own `as_of` date.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

SOURCES = ("gleif", "dnb", "sirene")
RELATIONS = ("subsidiary", "branch", "fund", "other")
LINK_KINDS = (
    "direct", "ultimate", "domestic_ultimate", "global_ultimate", "head_office",
    "fund_manager", "umbrella_fund", "master_fund",
)
# Edges that make the tree: the immediate parent of a legal entity, or the legal entity a branch or
# an establishment belongs to. The ultimate links only check and complete chains.
TREE_LINK_KINDS = frozenset({"direct", "head_office"})

ENTITY_SCHEMA = pa.schema([
    pa.field("source", pa.string(), nullable=False),
    pa.field("source_id", pa.string(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("legal_form", pa.string()),
    pa.field("country", pa.string()),
    pa.field("city", pa.string()),
    pa.field("postal_code", pa.string()),
    pa.field("lei", pa.string()),
    pa.field("duns", pa.string()),
    pa.field("siren", pa.string()),
    pa.field("siret", pa.string()),
    pa.field("naf_code", pa.string()),
    pa.field("headcount_band", pa.string()),
    pa.field("is_head_office", pa.bool_()),
    pa.field("status", pa.string()),
    pa.field("as_of", pa.date32()),
])

LINK_SCHEMA = pa.schema([
    pa.field("source", pa.string(), nullable=False),
    pa.field("child_source_id", pa.string(), nullable=False),
    pa.field("parent_source_id", pa.string()),  # null on a reporting exception: no parent, and why
    pa.field("relation", pa.string(), nullable=False),
    pa.field("is_ownership", pa.bool_(), nullable=False),
    pa.field("link_kind", pa.string(), nullable=False),
    pa.field("ownership_pct", pa.float64()),
    pa.field("relationship_status", pa.string()),
    pa.field("start_date", pa.date32()),
    pa.field("end_date", pa.date32()),
    pa.field("as_of", pa.date32()),
    pa.field("exception_reason", pa.string()),
])

# Headcount bands: INSEE's "tranche d'effectif salarié" scale, used for every source so that a
# D&B employee count and a SIRENE band compare.
INSEE_HEADCOUNT_BANDS: dict[str, str] = {
    # NN: no employee at all during the year; 00: employees during the year but none on 31 December
    "NN": "0", "00": "0", "01": "1-2", "02": "3-5", "03": "6-9", "11": "10-19", "12": "20-49",
    "21": "50-99", "22": "100-199", "31": "200-249", "32": "250-499", "41": "500-999",
    "42": "1000-1999", "51": "2000-4999", "52": "5000-9999", "53": "10000+",
}
_BAND_FLOORS = [
    (10000, "10000+"), (5000, "5000-9999"), (2000, "2000-4999"), (1000, "1000-1999"), (500, "500-999"),
    (250, "250-499"), (200, "200-249"), (100, "100-199"), (50, "50-99"), (20, "20-49"), (10, "10-19"),
    (6, "6-9"), (3, "3-5"), (1, "1-2"), (0, "0"),
]


def headcount_band(employees: int | None) -> str | None:
    """Band of an employee count on the INSEE scale: 35 -> "20-49"."""
    if employees is None or employees < 0:
        return None
    return next(band for floor, band in _BAND_FLOORS if employees >= floor)


def make_batch(schema: pa.Schema, length: int, columns: Mapping[str, Any]) -> pa.RecordBatch:
    """A batch of `schema` from arrays or constants (broadcast); missing columns are null."""
    arrays = []
    for field in schema:
        value = columns.get(field.name)
        if isinstance(value, pa.ChunkedArray):
            value = value.combine_chunks()
        if isinstance(value, pa.Array):
            arrays.append(value if value.type == field.type else value.cast(field.type))
        elif value is None:
            arrays.append(pa.nulls(length, field.type))
        else:
            arrays.append(pa.repeat(pa.scalar(value, field.type), length))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def concat(schema: pa.Schema, batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """One batch from several of the same schema (an empty batch when they hold no row)."""
    rows = pa.Table.from_batches(batches, schema).combine_chunks().to_batches()
    return rows[0] if rows else make_batch(schema, 0, {})


def empty_entities() -> pa.RecordBatch:
    return make_batch(ENTITY_SCHEMA, 0, {})


def empty_links() -> pa.RecordBatch:
    return make_batch(LINK_SCHEMA, 0, {})
