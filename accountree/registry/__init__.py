"""Registry file parsers: GLEIF, D&B family trees and INSEE SIRENE into two canonical Arrow tables.

    parser = parse_registry("gleif", "20260123-0800-gleif-goldencopy-rr-golden-copy.csv.zip")
    for entities, links in parser:      # pyarrow RecordBatches, ENTITY_SCHEMA / LINK_SCHEMA
        ...
    parser.problems                     # bad rows: file, row, column, value, expected

See README.md in this folder for the tables and the mapping decisions.
"""

from accountree.registry.errors import RegistryFormatError, RegistryReadError
from accountree.registry.gleif import detect_gleif_level
from accountree.registry.parse import (
    FORMATS,
    RegistryBatch,
    RegistryKind,
    RegistryParser,
    RegistryTables,
    parse_registry,
    read_registry,
)
from accountree.registry.schema import (
    ENTITY_SCHEMA,
    LINK_KINDS,
    LINK_SCHEMA,
    RELATIONS,
    SOURCES,
    TREE_LINK_KINDS,
    headcount_band,
)

__all__ = [
    "ENTITY_SCHEMA",
    "FORMATS",
    "LINK_KINDS",
    "LINK_SCHEMA",
    "RELATIONS",
    "SOURCES",
    "TREE_LINK_KINDS",
    "RegistryBatch",
    "RegistryFormatError",
    "RegistryKind",
    "RegistryParser",
    "RegistryReadError",
    "RegistryTables",
    "detect_gleif_level",
    "headcount_band",
    "parse_registry",
    "read_registry",
]
