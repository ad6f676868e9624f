"""Every table a user can export, by name: the core bundle tables and what capabilities compute.

Column names are public contracts (users' scripts read them). Core tables come back with the
bundle's column names, custom attributes expanded into their own columns, so an export can be
imported again. Capabilities add their own exports by listing `EXPORTS` in an `exports` module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from accountree.errors import NotFoundError
from accountree.ingest.contract import TABLES
from accountree.plugins import capability_modules
from accountree.store import Workspace

CAPABILITY_MODULES = (
    "accountree.hierarchy.exports", "accountree.registry.exports", "accountree.resolve.exports", "accountree.kpi.exports",
    "accountree.scoring.exports", "accountree.kam.exports", "accountree.orchestration.exports",
    "accountree.leads.exports",
)


@dataclass(frozen=True)
class ExportSpec:
    name: str
    description: str
    query: Callable[[Workspace], exp.Select | str]
    needs: str | None = None  # table that must exist, with the command that builds it
    needs_hint: str | None = None


def _core_query(table: str) -> Callable[[Workspace], exp.Select]:
    spec = TABLES[table]

    def query(ws: Workspace) -> exp.Select:
        columns: list[exp.Expression] = [exp.column(c, quoted=True) for c in spec.column_names]
        if table == "accounts":
            columns.append(exp.column("source", quoted=True))
        for key in ws.engine.json_keys(table, "attributes"):
            if key in spec.column_names or key == "source":
                continue
            extract = exp.JSONExtractScalar(this=exp.column("attributes", quoted=True), expression=exp.Literal.string(key))
            columns.append(extract.as_(key, quoted=True))
        return exp.select(*columns).from_(exp.table_(table, quoted=True)).order_by(*[exp.column(k, quoted=True) for k in spec.key])

    return query


def _imports_query(ws: Workspace) -> exp.Select:
    cols = ["import_id", "imported_at", "imported_by", "bundle", "file", "table_name", "file_hash", "preset",
            "rows", "inserted", "updated", "unchanged"]
    warnings = exp.select(exp.func("coalesce", exp.func("sum", exp.column("rows", "w", quoted=True)), exp.Literal.number(0))).from_(
        exp.table_("import_warnings").as_("w")).where(exp.and_(*[exp.column(c, "w", quoted=True).eq(exp.column(c, "i", quoted=True))
                                                                for c in ("import_id", "file", "table_name")]))
    return exp.select(*[exp.column(c, "i", quoted=True) for c in cols], exp.Subquery(this=warnings).as_("warnings")).from_(
        exp.table_("imports").as_("i")).order_by(exp.column("import_id", "i"), exp.column("table_name", "i"))


def _import_warnings_query(ws: Workspace) -> exp.Select:
    cols = ["import_id", "file", "table_name", "row", "rows", "column", "value", "expected", "action"]
    return exp.select(*[exp.column(c, quoted=True) for c in cols]).from_("import_warnings").order_by(
        "import_id", "file", exp.column("row", quoted=True))


CORE_EXPORTS = [
    *[ExportSpec(t, f"the {t} table, bundle columns plus custom attributes", _core_query(t)) for t in TABLES],
    ExportSpec("imports", "history of imports: who, when, file, file hash, rows read, inserted, updated, unchanged, warnings",
               _imports_query),
    ExportSpec("import_warnings", "values imports kept without recognising them: import, file, row, column, value, "
               "what was done", _import_warnings_query),
]


def all_exports() -> dict[str, ExportSpec]:
    found = {e.name: e for e in CORE_EXPORTS}
    for module in capability_modules(CAPABILITY_MODULES):
        for spec in module.EXPORTS:
            found[spec.name] = spec
    return found


def export_query(ws: Workspace, name: str) -> exp.Select | str:
    exports = all_exports()
    if name not in exports:
        raise NotFoundError(f"no exportable table named {name!r}", hint=f"Tables: {', '.join(sorted(exports))}.")
    spec = exports[name]
    if spec.needs and not ws.engine.table_exists(spec.needs):
        raise NotFoundError(f"{name} has not been computed in this workspace yet", hint=spec.needs_hint)
    return spec.query(ws)
