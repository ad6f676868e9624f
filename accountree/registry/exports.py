"""`accountree export registry_entities | registry_links | registry_discrepancies | registry_fills`.

The registry records as published, each with its source, date and the account it attaches to:
the provenance of every registry-only account, filled identifier and registry tree link. Column
lists are public contracts (users' scripts read them by name).

Note: `accountree.exports.CAPABILITY_MODULES` must list "accountree.registry.exports" for these
to appear in `accountree export --list`.
"""

from __future__ import annotations

from accountree.exports import ExportSpec
from accountree.registry.schema import ENTITY_SCHEMA, LINK_SCHEMA
from accountree.store.sql import select_columns

ENTITY_COLUMNS = [*ENTITY_SCHEMA.names, "account_id", "attach_method", "import_id", "imported_at"]
LINK_COLUMNS = [*LINK_SCHEMA.names, "child_account_id", "parent_account_id", "import_id", "imported_at"]
DISCREPANCY_COLUMNS = ["source", "kind", "child_id", "declared_ultimate_id", "computed_ultimate_id", "child_source_id",
                       "declared_source_id", "computed_source_id", "link_kind", "message", "as_of", "import_id"]
FILL_COLUMNS = ["account_id", "column_name", "value", "source", "source_id", "as_of", "import_id", "filled_at"]

EXPORTS = [
    ExportSpec("registry_entities", "GLEIF / D&B / SIRENE records as imported, with their date and the account "
               "each attaches to (attach_method: lei, duns, siren, siret, head_office, alias, created)",
               lambda ws: select_columns("registry_entities", ENTITY_COLUMNS, ["source", "source_id"])),
    ExportSpec("registry_links", "registry parent links (direct, ultimate, branch, fund…) with status, share, dates "
               "and the accounts at both ends",
               lambda ws: select_columns("registry_links", LINK_COLUMNS,
                                         ["source", "child_source_id", "parent_source_id", "link_kind"])),
    ExportSpec("registry_discrepancies", "declared ultimate parents the direct chains do not reach (mismatch, "
               "above_ultimate, cycle) and chains completed to the declared ultimate",
               lambda ws: select_columns("registry_discrepancies", DISCREPANCY_COLUMNS,
                                         ["source", "kind", "child_source_id", "declared_source_id"])),
    ExportSpec("registry_fills", "identifiers a registry filled on accounts that had none: value, record, date",
               lambda ws: select_columns("registry_fills", FILL_COLUMNS, ["account_id", "column_name"])),
]
