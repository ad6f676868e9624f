"""Importing a bundle: stage every file, check every row, then write everything or nothing.

1. Each file is staged as text in DuckDB (`readers`), its headers mapped onto the canonical
   columns (`mapping`), its values parsed and checked (`typing`).
2. Every problem of every file is collected; if there is one, an `ImportValidationError` carries
   them all and the workspace is untouched.
3. Otherwise the typed rows are written in one transaction: rows whose content hash changed are
   replaced, new rows inserted, unchanged rows left alone — so importing twice changes nothing.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from accountree.errors import ImportValidationError, Problem
from accountree.ingest.bundle import BundleFile, plan_bundle
from accountree.ingest.contract import TABLES, WRITE_ORDER, TableSpec
from accountree.ingest.lookups import add_country_guesses, load_lookups, rates_in
from accountree.ingest.mapping import (
    Mapping,
    TableMapping,
    header_key,
    load_mapping,
    load_preset,
    resolve_columns,
)
from accountree.ingest.readers import StagedFile, column_letter, new_workdir, stage_file
from accountree.ingest.report import MAX_WARNINGS, ImportWarning
from accountree.ingest.typing import (
    call,
    col,
    country_values_table,
    from_src,
    kept_raw,
    problem_queries,
    src,
    typed_select,
)
from accountree.ingest.writer import write_tables
from accountree.store import Workspace, current_user
from accountree.store.duckdb_engine import DEFAULT_MEMORY_LIMIT

MAX_PROBLEMS = 10_000
Progress = Callable[[str, int, int], None]


@dataclass
class ImportOptions:
    preset: str | None = None
    mapping: Path | None = None
    date_order: str | None = None  # 'dmy' | 'mdy' | None (inferred per column)
    decimal: str | None = None  # ',' | '.' | None (inferred per file)
    dry_run: bool = False
    user: str | None = None
    strict: bool = False  # warnings (values an optional column could not read) refuse the import too
    bu: str | None = None  # `import --bu`: the seller BU of rows without one (accountree.orchestration)


@dataclass
class FileReport:
    file: str
    table: str
    rows: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    encoding: str = ""
    delimiter: str | None = None
    attributes: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # canonical columns the file provides
    warnings: int = 0  # rows imported with a value an optional column could not read (see `ImportResult.warnings`)


@dataclass
class ImportResult:
    import_id: int | None
    files: list[FileReport]
    dry_run: bool = False
    warnings: list[ImportWarning] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def _create_temp(con: duckdb.DuckDBPyConnection, table: str, query: exp.Select, view: bool = False) -> None:
    create = exp.Create(this=exp.table_(table, quoted=True), kind="VIEW" if view else "TABLE", expression=query,
                        replace=True, properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
    con.execute(create.sql("duckdb"))


def import_bundle(
    workspace: Workspace, arguments: list[str], options: ImportOptions | None = None, progress: Progress | None = None
) -> ImportResult:
    options = options or ImportOptions()
    mapping = _mapping(options)
    files = sorted(plan_bundle(arguments, mapping), key=lambda f: WRITE_ORDER.index(f.table))
    engine = workspace.engine
    con = engine.staging_connection()
    own_connection = con is not engine.staging_connection()
    workdir = new_workdir()
    if own_connection:  # a private in-memory DuckDB: bound its memory and spill to our work folder
        con.execute("SET memory_limit = ?", [os.environ.get("ACCOUNTREE_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT])
        con.execute("SET temp_directory = ?", [str(workdir / "spill")])
    created: list[str] = []
    try:
        with _progress_reporting(con, progress):
            return _import(workspace, con, files, mapping, options, arguments, progress, workdir, created)
    except (RuntimeError, duckdb.Error) as err:
        if "interrupted" in str(err).lower():  # Ctrl-C inside a DuckDB statement: DuckDB's own error
            raise KeyboardInterrupt from err
        raise
    finally:
        _cleanup(con, created)
        if own_connection:
            con.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _import(workspace: Workspace, con: duckdb.DuckDBPyConnection, files: list[BundleFile], mapping: Mapping,
            options: ImportOptions, arguments: list[str], progress: Progress | None, workdir: Path,
            created: list[str]) -> ImportResult:
    engine = workspace.engine
    con.execute(resources.files("accountree.ingest").joinpath("values.sql").read_text(encoding="utf-8"))
    _load_known(workspace, con, created)
    typed: dict[str, tuple[BundleFile, StagedFile, FileReport]] = {}
    problems: list[Problem] = []
    warnings: list[ImportWarning] = []
    total = 0
    for i, bundle_file in enumerate(files):
        if i == 0:
            load_lookups(con, rates_in(workspace.reporting_currency, _rates(con, engine, typed)))
        created.append(f"__stage_{i}")  # before staging, so a file failing half-way is cleaned up too
        with _watching(con, progress, f"reading {bundle_file.label}", i, len(files)):
            staged = stage_file(con, bundle_file.path, f"__stage_{i}", workdir, bundle_file.sheet)
        report = FileReport(bundle_file.label, bundle_file.table, staged.rows, encoding=staged.encoding,
                            delimiter=staged.delimiter)
        with _watching(con, progress, f"checking {bundle_file.label}", i, len(files)):
            file_problems, n, file_warnings = _type_and_check(con, bundle_file, staged, mapping, options, report, created)
        file_warnings = [ImportWarning(bundle_file.label, bundle_file.table, r, c, v, e, a, k)
                         for r, c, v, e, a, k in staged.warnings] + file_warnings
        report.warnings = sum(w.rows for w in file_warnings)
        warnings.extend(file_warnings)
        if staged.problem_total:
            # Lines the CSV reader rejected are not staged: the rows after them are numbered from
            # the records read, so only the structure problems are reported for this file.
            structure = [Problem(bundle_file.label, r, c, v, e) for r, c, v, e in staged.problems]
            if staged.encoding != "xlsx":
                file_problems = [p for p in file_problems if p.row is None or p.row == staged.header_row]
                n = len(file_problems)
            file_problems, n = structure + file_problems, n + staged.problem_total
        problems.extend(file_problems)
        total += n
        typed[bundle_file.table] = (bundle_file, staged, report)
        if bundle_file.table == "accounts":  # even with problems, so deals are not also flagged
            _add_bundle_accounts(con)
        if bundle_file.table in KNOWN:
            _add_bundle_known(con, bundle_file.table)
        if bundle_file.table == "fx_rates" and not n:  # the bundle's own rates apply to its other files
            load_lookups(con, rates_in(workspace.reporting_currency, _rates(con, engine, typed)))
    if options.strict and warnings:
        problems.extend(w.as_problem() for w in warnings)
        total += len(warnings)
    if total:
        raise ImportValidationError(sorted(problems, key=lambda p: (p.file, p.row or 0))[:MAX_PROBLEMS], total)
    reports = [r for (_, _, r) in typed.values()]
    if options.bu:
        tag_seller_bu(con, {t: r for t, (_, _, r) in typed.items()}, options.bu, created)
    if options.dry_run:
        return ImportResult(None, reports, dry_run=True, warnings=warnings)
    # Imports by several BUs at once (a team workspace on PostgreSQL) are written one at a time:
    # each gets its own import id and merges against the rows the previous one committed.
    with _watching(con, progress, "writing", len(files), len(files)), workspace.engine.exclusive("import"):
        import_id = write_tables(
            workspace, con, {t: (f"__final_{t}", s.file_hash, f.path, r) for t, (f, s, r) in typed.items()},
            bundle=", ".join(arguments), preset=options.preset or (str(options.mapping) if options.mapping else None),
            user=options.user or current_user(), now=datetime.now(UTC).replace(tzinfo=None),
            finals=lambda t, import_id, now: _final_select(TABLES[t], typed[t][2].columns, import_id, now),
            warnings=warnings,
        )
    return ImportResult(import_id, reports, warnings=warnings)


def _cleanup(con: duckdb.DuckDBPyConnection, created: list[str]) -> None:
    """Drop the staging tables; never hides the error that ended the import."""
    names = [n for t in reversed(created) for n in ((t, t + "__data") if t.startswith("__stage_") else (t,))]
    for kind in ("VIEW", "TABLE"):
        for name in names:
            # a table dropped as a view (or the reverse) fails: the other pass drops it
            with contextlib.suppress(duckdb.Error):
                con.execute(exp.Drop(tables=[exp.table_(name, quoted=True)], kind=kind, exists=True).sql("duckdb"))


@contextmanager
def _progress_reporting(con: duckdb.DuckDBPyConnection, progress: Progress | None) -> Iterator[None]:
    """DuckDB measures how far its running statement is: on while an import shows progress. Its own
    bar, printed on standard output after two seconds, is never shown: it would garble `--json`."""
    before = con.execute("SELECT current_setting('enable_progress_bar'), current_setting('enable_progress_bar_print')").fetchall()[0]
    con.execute("SET enable_progress_bar = ?", [progress is not None])
    con.execute("SET enable_progress_bar_print = false")
    try:
        yield
    finally:
        try:
            con.execute("SET enable_progress_bar = ?", [bool(before[0])])
            con.execute("SET enable_progress_bar_print = ?", [bool(before[1])])
        except duckdb.Error:
            pass


@contextmanager
def _watching(con: duckdb.DuckDBPyConnection, progress: Progress | None, stage: str, done: int, total: int) -> Iterator[None]:
    """Report `stage` now, then the running statement's percentage every half second (long files)."""
    if progress is None:
        yield
        return
    progress(stage, done, total)
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.5):
            try:
                pct = con.query_progress()
            except Exception:
                continue
            if pct is not None and 0 <= pct <= 100:
                progress(f"{stage} ({pct:.0f} %)", done, total)

    thread = threading.Thread(target=poll, name="accountree-import-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1)


def _mapping(options: ImportOptions) -> Mapping:
    if options.preset and options.mapping:
        mapping = load_preset(options.preset)
        extra = load_mapping(options.mapping)
        mapping.tables.update(extra.tables)
        return mapping
    if options.preset:
        return load_preset(options.preset)
    if options.mapping:
        return load_mapping(options.mapping)
    return Mapping()


def _rates(con: duckdb.DuckDBPyConnection, engine, typed: dict) -> dict[str, float]:
    rows = engine.fetchall("SELECT currency, rate FROM fx_rates")
    rates = {c: float(r) for c, r in rows}
    if "fx_rates" in typed:
        rates.update({c: float(r) for c, r in con.execute("SELECT currency, rate FROM __final_fx_rates").fetchall()})
    return rates


KNOWN_ACCOUNTS = "SELECT account_id, name FROM accounts UNION ALL SELECT old_id, NULL FROM account_aliases"
# What else a bundle's rows name, for warnings: business units, products (id or name), campaigns.
# table -> (staging table, query of the workspace's keys, query of the bundle's typed keys)
KNOWN = {
    "seller_bus": ("__known_bus", "SELECT bu_id AS key FROM seller_bus",
                   "SELECT bu_id FROM __typed_seller_bus WHERE bu_id IS NOT NULL"),
    "products": ("__known_products",
                 "SELECT product_id AS key FROM products UNION ALL SELECT name FROM products WHERE name IS NOT NULL",
                 "SELECT product_id FROM __typed_products WHERE product_id IS NOT NULL "
                 "UNION ALL SELECT name FROM __typed_products WHERE name IS NOT NULL"),
    "campaigns": ("__known_campaigns", "SELECT campaign_id AS key FROM campaigns",
                  "SELECT campaign_id FROM __typed_campaigns WHERE campaign_id IS NOT NULL"),
}


def _load_known(workspace: Workspace, con: duckdb.DuckDBPyConnection, created: list[str]) -> None:
    """Accounts already in the workspace (and merged ids), for reference checks and name lookups;
    business units, products and campaigns, for warnings.

    Streamed in batches into the staging database, never whole into Python: an import's memory
    stays within DuckDB's limit (ACCOUNTREE_MEMORY_LIMIT), which spills to disk beyond it."""
    engine = workspace.engine
    con.execute("CREATE OR REPLACE TEMP TABLE __known_accounts (account_id VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE __known_names (key VARCHAR, account_id VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE __aliases (old_id VARCHAR, survivor_id VARCHAR)")
    created.extend(["__known_accounts", "__known_names", "__aliases"])
    for name, _, _ in KNOWN.values():
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (key VARCHAR)")  # names: the constants above
        created.append(name)
    known = [("__known_src", KNOWN_ACCOUNTS, [
        "INSERT INTO __known_accounts SELECT account_id FROM __known_src",
        "INSERT INTO __known_names SELECT at_key_fold(name), account_id FROM __known_src "
        "WHERE name IS NOT NULL AND at_key_fold(name) <> ''"]),
        ("__known_src", "SELECT old_id, survivor_id FROM account_aliases", ["INSERT INTO __aliases SELECT * FROM __known_src"])]
    for table, (name, query, _) in KNOWN.items():
        if engine.table_exists(table):
            known.append(("__known_src", query, [f"INSERT INTO {name} SELECT key FROM __known_src"]))  # noqa: S608
    for source, query, inserts in known:
        if engine.staging_connection() is con:  # the workspace is the staging database: no copy
            con.execute(f"CREATE OR REPLACE TEMP VIEW {source} AS {query}")
            try:
                for insert in inserts:
                    con.execute(insert)
            finally:
                con.execute(f"DROP VIEW IF EXISTS {source}")
            continue
        for batch in engine.iter_batches(query, batch_rows=50_000):
            con.register(source, pa.Table.from_batches([batch]))
            try:
                for insert in inserts:
                    con.execute(insert)
            finally:
                con.unregister(source)


def _add_bundle_accounts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO __known_accounts SELECT account_id FROM __typed_accounts WHERE account_id IS NOT NULL")
    con.execute("INSERT INTO __known_names SELECT at_key_fold(name), account_id FROM __typed_accounts "
                "WHERE name IS NOT NULL AND account_id IS NOT NULL AND at_key_fold(name) <> ''")


def _add_bundle_known(con: duckdb.DuckDBPyConnection, table: str) -> None:
    name, _, bundle_query = KNOWN[table]
    con.execute(f"INSERT INTO {name} {bundle_query}")


def _mapped_select(spec: TableSpec, staged: StagedFile, mapping: TableMapping) -> tuple[exp.Select, set[str], list[str]]:
    chosen, extras = resolve_columns(spec.name, staged.columns, mapping)
    projections: list[exp.Expression] = [src("__row")]
    present: set[str] = set()
    for column in spec.column_names:
        value: exp.Expression | None = None
        if column in chosen:
            value = src(chosen[column])
        elif column in mapping.concat:
            parts = [src(h) for h in staged.columns if h in {p for p in mapping.concat[column]} or
                     any(h.strip().lower() == p.strip().lower() for p in mapping.concat[column])]
            if parts:
                value = call("NULLIF", exp.func("trim", exp.func("concat_ws", exp.Literal.string(" "), *parts)),
                             exp.Literal.string(""))
        if value is None:
            continue
        if column in mapping.values:
            case = exp.Case()
            for raw_value, canonical in mapping.values[column].items():
                case = case.when(call("at_key", value).eq(call("at_key", exp.Literal.string(raw_value))),
                                 exp.Literal.string(canonical))
            value = case.else_(value)
        if column in mapping.lookups:
            first = exp.func("trim", exp.func("split_part", value, exp.Literal.string(";"), exp.Literal.number(1)))
            by_id = exp.select(col("account_id", "k")).from_(exp.table_("__known_accounts").as_("k")).where(
                col("account_id", "k").eq(first)).limit(1)
            by_name = exp.select(col("account_id", "n")).from_(exp.table_("__known_names").as_("n")).where(
                col("key", "n").eq(call("at_key_fold", first))).limit(1)
            lookups: list[exp.Expression] = [exp.Subquery(this=by_id), exp.Subquery(this=by_name)]
            if spec.name == "accounts" and {"account_id", "name"} <= chosen.keys():
                # a parent named in the same file: look it up among the file's own rows
                own_id, own_name = col(chosen["account_id"], "o"), col(chosen["name"], "o")
                lookups.append(exp.Subquery(this=exp.select(own_id).from_(exp.table_(staged.table, quoted=True).as_("o"))
                                            .where(call("at_key_fold", own_name).eq(call("at_key_fold", first))).limit(1)))
            value = exp.func("coalesce", *lookups, first)
        projections.append(value.as_(column, quoted=True))
        present.add(column)
    if spec.name == "deals" and (mapping.won_flag or mapping.closed_flag):
        projections = _with_flags(projections, staged, mapping)
        present.add("stage")
    if spec.name == "accounts" and "domain" not in present and "website" in present:
        # best effort: a website that names no domain (`No`, `n/a`) leaves the domain empty, unreported
        projections.append(exp.Case().when(call("at_domain", src(chosen["website"])).is_(exp.Null()).not_(),
                                           src(chosen["website"])).as_("domain", quoted=True))
        present.add("domain")
    pairs = []
    for header in extras:
        pairs.extend([exp.Literal.string(header), src(header)])
    attributes = exp.func("json_object", *pairs) if pairs else exp.cast(exp.Null(), "JSON")
    projections.append(attributes.as_("__attributes", quoted=True))
    query = exp.select(*projections).from_(from_src(staged.table))
    if staged.columns:  # a row with no value at all (`,,,` or formatted empty cells) is not a record
        query = query.where(exp.func("coalesce", *[src(h) for h in staged.columns]).is_(exp.Null()).not_())
    return query, present, extras


def _with_flags(projections: list[exp.Expression], staged: StagedFile, mapping: TableMapping) -> list[exp.Expression]:
    headers = {h.strip().lower(): h for h in staged.columns}
    won = headers.get((mapping.won_flag or "").lower())
    closed = headers.get((mapping.closed_flag or "").lower())
    stage_expr = next((p.this for p in projections if isinstance(p, exp.Alias) and p.alias == "stage"), exp.Null())
    case = exp.Case()
    if won:
        case = case.when(call("at_boolean", src(won)).is_(exp.true()), exp.Literal.string("won"))
    if won and closed:
        case = case.when(exp.and_(call("at_boolean", src(closed)).is_(exp.true()),
                                  call("at_boolean", src(won)).is_(exp.false())), exp.Literal.string("lost"))
    case = case.else_(stage_expr)
    kept = [p for p in projections if not (isinstance(p, exp.Alias) and p.alias == "stage")]
    return [*kept, case.as_("stage", quoted=True)]


def _date_orders(con: duckdb.DuckDBPyConnection, table: str, spec: TableSpec, present: set[str], forced: str | None) -> dict[str, bool]:
    """Month-first only when the column's values prove it (a second part above 12, never a first)."""
    orders = {}
    for column in spec.columns:
        if column.kind != "date" or column.name not in present:
            continue
        if forced:
            orders[column.name] = forced == "mdy"
            continue
        parts = call("at_date_parts", col(column.name))
        query = exp.select(
            exp.func("count_if", exp.TryCast(this=exp.Dot(this=parts, expression=exp.to_identifier("a")),
                                             to=exp.DataType.build("INTEGER")) > 12),
            exp.func("count_if", exp.TryCast(this=exp.Dot(this=parts, expression=exp.to_identifier("b")),
                                             to=exp.DataType.build("INTEGER")) > 12),
        ).from_(exp.table_(table, quoted=True))
        day_first, month_first = con.execute(query.sql("duckdb")).fetchall()[0]
        orders[column.name] = bool(month_first) and not day_first
    return orders


def _type_and_check(
    con: duckdb.DuckDBPyConnection, bundle_file: BundleFile, staged: StagedFile, mapping: Mapping,
    options: ImportOptions, report: FileReport, created: list[str],
) -> tuple[list[Problem], int, list[ImportWarning]]:
    """The file's rows typed and checked: its errors (listed, and how many) and its warnings."""
    spec = TABLES[bundle_file.table]
    label = bundle_file.label
    table_mapping = mapping.for_table(spec.name)
    mapped_sql, present, extras = _mapped_select(spec, staged, table_mapping)
    report.attributes = extras
    report.columns = [c for c in spec.column_names if c in present or c in spec.key]
    mapped, typed = f"__mapped_{spec.name}", f"__typed_{spec.name}"
    _create_temp(con, mapped, mapped_sql, view=True)
    created.append(mapped)
    report.rows = con.execute(exp.select(exp.func("count", exp.Star())).from_(exp.table_(mapped, quoted=True)).sql("duckdb")).fetchall()[0][0]
    problems = _header_problems(spec, staged, table_mapping, present, label)
    forced = options.decimal or mapping.decimal
    if forced:
        decimal_comma, proven = forced == ",", True
    else:
        decimal_comma, proven = _decimal_comma(con, mapped, spec, present, staged.decimal_comma)
    orders = _date_orders(con, mapped, spec, present, options.date_order or mapping.date_order)
    countries = _read_countries(con, mapped, spec, present, created)
    select = typed_select(spec, present, decimal_comma=decimal_comma, mdy=orders, comma_proven=proven,
                          country_values=countries).from_(from_src(mapped))
    _create_temp(con, typed, select)
    created.append(typed)
    queries = problem_queries(spec, present, typed)
    queries.extend(_reference_checks(spec, present, typed))
    queries.extend(_duplicate_checks(spec, present, typed))
    queries.extend(_soft_reference_checks(spec, present, typed))
    total = len(problems)
    warnings: list[ImportWarning] = []
    if queries:
        union = queries[0]
        for q in queries[1:]:
            union = exp.union(union, q, distinct=False)
        # One pass over the checks: the problems found (few, on a good file) are kept, then counted and listed.
        found = f"__problems_{spec.name}"
        _create_temp(con, found, exp.select(exp.Star()).from_(union.subquery("p")))
        created.append(found)
        errors, warned = con.execute(f"SELECT coalesce(count_if(level = 'error'), 0), "  # noqa: S608
                                     f"coalesce(count_if(level = 'warning'), 0) FROM {found}").fetchall()[0]
        total += errors
        if errors:
            rows = con.execute(f"SELECT __row, \"column\", value, expected FROM {found} WHERE level = 'error' "  # noqa: S608
                               "ORDER BY __row LIMIT ?", [MAX_PROBLEMS]).fetchall()
            problems.extend(Problem(label, r[0], r[1], r[2], r[3]) for r in rows)
        if warned:
            warnings = _warnings(con, found, label, spec.name)
    if not total:
        final = f"__final_{spec.name}"
        patch = _attribute_patch(con, spec, typed, present, f"__problems_{spec.name}" if queries else None, created)
        # merged ids (any alias) can make two rows one key: collapsed, and warned when they disagree
        merged = bool(con.execute("SELECT EXISTS (SELECT 1 FROM __aliases)").fetchall()[0][0])
        _create_temp(con, final, _aliased(spec, typed, present, patch, collapse=merged), view=True)
        created.append(final)
        if merged:
            warnings.extend(_collapsed_warnings(con, spec, typed, present, patch, label))
    return problems, total, warnings


def _warnings(con: duckdb.DuckDBPyConnection, found: str, label: str, table: str) -> list[ImportWarning]:
    """The file's warnings, one per column, value and action: its first row and how many rows."""
    grouped = (f"SELECT min(__row) AS first_row, \"column\", value, expected, action, count(*) AS n FROM {found} "  # noqa: S608
               "WHERE level = 'warning' GROUP BY \"column\", value, expected, action")
    rows = con.execute(f"SELECT * FROM ({grouped}) ORDER BY first_row, \"column\" LIMIT ?", [MAX_WARNINGS + 1]).fetchall()  # noqa: S608
    out = [ImportWarning(label, table, r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in rows[:MAX_WARNINGS]]
    if len(rows) > MAX_WARNINGS:
        groups, first, more = con.execute(f"SELECT count(*), min(first_row), sum(n) FROM (SELECT * FROM ({grouped}) "  # noqa: S608
                                          "ORDER BY first_row, \"column\" OFFSET ?)", [MAX_WARNINGS]).fetchall()[0]
        out.append(ImportWarning(label, table, first, None, None, "(more warnings)",
                                 f"{groups:,} more distinct warnings not listed; imported like the others", int(more)))
    return out


def _read_countries(con: duckdb.DuckDBPyConnection, table: str, spec: TableSpec, present: set[str],
                    created: list[str]) -> dict[str, str]:
    """Each country column's DISTINCT values, read once each into a small staging table
    (raw, iso2, guess) that the typed table joins: the names no key matches exactly are guessed in
    Python (`lookups.guess_country`, a handful of values) and the clear misspellings join
    `__countries` as guesses, so later files reuse them. Returns column -> table."""
    tables = {}
    for column in spec.columns:
        if column.kind != "country" or column.name not in present:
            continue
        value = col(column.name)
        distinct, name = f"__country_distinct_{spec.name}_{column.name}", country_values_table(spec.name, column.name)
        created.extend([distinct, name])
        _create_temp(con, distinct, exp.select(col("raw", "d"), call("at_key_fold", col("raw", "d")).as_("key")).from_(
            exp.select(value.as_("raw")).distinct().from_(exp.table_(table, quoted=True))
            .where(call("at_value", value.copy()).is_(exp.Null()).not_()).subquery("d")))
        known = exp.select(exp.Literal.number(1)).from_(exp.table_("__countries").as_("c")).where(
            col("key", "c").eq(col("key", "d")))
        query = (exp.select(col("key", "d")).distinct().from_(exp.table_(distinct, quoted=True).as_("d"))
                 .where(exp.Exists(this=known).not_()).limit(MAX_WARNINGS))
        unknown = [r[0] for r in con.execute(query.sql("duckdb")).fetchall() if r[0]]
        add_country_guesses(con, unknown)
        joined = (exp.select(col("raw", "d"), exp.func("min", col("iso2", "c")).as_("iso2"),
                             exp.func("min", col("guess", "c")).as_("guess"))
                  .from_(exp.table_(distinct, quoted=True).as_("d"))
                  .join(exp.table_("__countries").as_("c"), on=col("key", "c").eq(col("key", "d")), join_type="left")
                  .group_by(col("raw", "d")))
        _create_temp(con, name, joined)
        tables[column.name] = name
    return tables


def _header_problems(spec: TableSpec, staged: StagedFile, mapping: TableMapping, present: set[str],
                     label: str) -> list[Problem]:
    """Required columns missing (with the headers found, and the closest one), and canonical columns
    given twice (`Country` and `country`): which one to read would be a guess."""
    headers = staged.headers or staged.columns
    problems = []
    found = ", ".join(headers[:12]) + (f", … ({len(headers)} columns)" if len(headers) > 12 else "")
    for column in spec.columns:
        if not column.required or column.name in present or (spec.derived_key and column.name in spec.key):
            continue
        close = difflib.get_close_matches(column.name, [header_key(h) for h in headers], n=1, cutoff=0.75)
        near = next((h for h in headers if close and header_key(h) == close[0]), None)
        hint = f"; {near!r} is close: rename it or map it (--mapping)" if near else ""
        problems.append(Problem(label, None, column.name, None,
                                f"a column named {column.name!r} (required); the header row (row {staged.header_row}) "
                                f"has: {found or 'no names'}{hint}"))
    chosen, _ = resolve_columns(spec.name, staged.columns, mapping)
    for column, name in chosen.items():
        if name not in staged.columns or not staged.headers:
            continue
        index = staged.columns.index(name)
        key = header_key(staged.headers[index])
        same = [i for i, h in enumerate(staged.headers) if header_key(h) == key]
        if len(same) > 1:
            where = ", ".join(f"{column_letter(i)} {staged.headers[i]!r}" for i in same)
            problems.append(Problem(label, staged.header_row, column, ", ".join(staged.headers[i] for i in same),
                                    f"one column for {column}, found {len(same)} ({where}): rename or delete the others"))
    return problems


def _decimal_comma(con: duckdb.DuckDBPyConnection, table: str, spec: TableSpec, present: set[str],
                   default: bool) -> tuple[bool, bool]:
    """The file's decimal separator, from the values that prove one (`1234.5`, `0,25`, `1.234,5`)
    in its number columns; when none does, or both do, the delimiter decides (`;`: comma).
    Returns (decimal comma, proven by the values)."""
    numeric = [c.name for c in spec.columns if c.name in present and c.kind in ("integer", "number", "percent", "margin")]
    if not numeric:
        return default, False
    marks = [call("at_decimal_mark", col(c)) for c in numeric]
    query = exp.select(
        exp.func("count_if", exp.or_(*[m.eq(exp.Literal.string(".")) for m in marks])),
        exp.func("count_if", exp.or_(*[m.copy().eq(exp.Literal.string(",")) for m in marks])),
    ).from_(exp.table_(table, quoted=True))
    dots, commas = con.execute(query.sql("duckdb")).fetchall()[0]
    if dots and not commas:
        return False, True
    if commas and not dots:
        return True, True
    return default, False


def _reference_checks(spec: TableSpec, present: set[str], table: str) -> list[exp.Select]:
    queries = []
    for ref in spec.account_refs:
        if ref not in present:
            continue
        known = exp.select(col("account_id", "k")).from_(exp.table_("__known_accounts").as_("k")).where(
            col("account_id", "k").eq(src(ref)))
        queries.append(
            exp.select(src("__row"), exp.Literal.string(ref), src(ref),
                       exp.Literal.string("an account_id present in the bundle's accounts or in the workspace"),
                       exp.Literal.string("error"), exp.cast(exp.Null(), "VARCHAR"))
            .from_(from_src(table))
            .where(exp.and_(src(ref).is_(exp.Null()).not_(), exp.Exists(this=known).not_()))
        )
    return queries


def _duplicate_checks(spec: TableSpec, present: set[str], table: str) -> list[exp.Select]:
    if not set(spec.key) <= present:
        return []
    keys = [col(k) for k in spec.key]
    first_row = exp.Window(this=exp.func("min", col("__row")), partition_by=keys)
    inner = exp.select(col("__row"), *keys, first_row.as_("__first")).from_(exp.table_(table, quoted=True)).where(
        exp.and_(*[k.is_(exp.Null()).not_() for k in keys]))
    label = " + ".join(spec.key)
    value = exp.func("concat_ws", exp.Literal.string(" / "), *keys) if len(keys) > 1 else keys[0]
    expected = exp.func("concat", exp.Literal.string(f"a unique {label} (already on row "),
                        exp.cast(col("__first"), "VARCHAR"), exp.Literal.string(")"))
    return [
        exp.select(col("__row"), exp.Literal.string(spec.key[0]), value, expected, exp.Literal.string("error"),
                   exp.cast(exp.Null(), "VARCHAR"))
        .from_(exp.Subquery(this=inner, alias="d"))
        .where(col("__row").neq(col("__first")))
    ]


# (table, column) -> (staging table of known keys, also matched on folded names, what was expected, what it means)
SOFT_REFERENCES = {
    "seller_bu": ("__known_bus", False, "a bu_id of seller_bus (in the bundle or the workspace)",
                  "imported; a record of an unknown business unit is seen only by users who see every BU "
                  "(admins, corporate): add the BU to seller_bus or correct the value"),
    "product": ("__known_products", True, "a product_id or product name of products (in the bundle or the workspace)",
                "imported as written; linked to no known product"),
    "campaign_id": ("__known_campaigns", False, "a campaign_id of campaigns (in the bundle or the workspace)",
                    "imported; the link points to no known campaign"),
}


def _soft_reference_checks(spec: TableSpec, present: set[str], table: str) -> list[exp.Select]:
    """Warnings for values naming a business unit, product or campaign nobody declared."""
    queries = []
    for column, (known, by_name, expected, action) in SOFT_REFERENCES.items():
        if column not in present or (spec.name, column) in (("seller_bus", "bu_id"), ("campaigns", "campaign_id")):
            continue
        match = col("key", "k").eq(src(column))
        if by_name:
            match = exp.or_(match, call("at_key_fold", col("key", "k")).eq(call("at_key_fold", src(column))))
        exists = exp.Exists(this=exp.select(exp.Literal.number(1)).from_(exp.table_(known).as_("k")).where(match))
        queries.append(
            exp.select(src("__row"), exp.Literal.string(column), src(column), exp.Literal.string(expected),
                       exp.Literal.string("warning"), exp.Literal.string(action))
            .from_(from_src(table))
            .where(exp.and_(src(column).is_(exp.Null()).not_(), exists.not_()))
        )
    return queries


UNREAD_CURRENCY = "__currency_unread"


PATCH = "__patch"  # alias of a file's attribute patches in `_aliased`


def _attribute_patch(con: duckdb.DuckDBPyConnection, spec: TableSpec, typed: str, present: set[str],
                     found: str | None, created: list[str]) -> str | None:
    """The rows whose optional columns kept a value they could not read (or read as a guess): their
    patch of `attributes` (`{"country_raw": "Germnay"}`) and whether their currency was unread.
    Only the rows with such a warning (`found`, the file's problems) are read, so a clean file
    costs one empty join. None when the file has no such column."""
    kept = kept_raw(spec, present)
    if not kept:
        return None
    name = f"__patch_{spec.name}"
    created.append(name)
    currency = next((v for k, v in kept if k == "currency_raw"), None)
    columns = [key[: -len("_raw")] for key, _ in kept]
    warned = exp.select(col("__row", "w")).from_(exp.table_(found, quoted=True).as_("w")).where(exp.and_(
        col("level", "w").eq(exp.Literal.string("warning")),
        col("column", "w").isin(*[exp.Literal.string(c) for c in columns]))) if found else None
    patch = exp.func("json_object", *[e for key, value in kept for e in (exp.Literal.string(key), value)])
    query = exp.select(src("__row"), patch.as_("patch"),
                       (currency.copy().is_(exp.Null()).not_() if currency is not None else exp.false()).as_("currency_unread")
                       ).from_(from_src(typed))
    query = query.where(src("__row").isin(query=warned) if warned is not None else exp.false())
    _create_temp(con, name, query)
    return name


def _aliased(spec: TableSpec, typed: str, present: set[str], patch: str | None = None,
             collapse: bool = True) -> exp.Select:
    """Typed rows with merged account ids replaced by their survivors, and the values optional
    columns could not read kept in their attributes (`country_raw`): the `patch` table of
    `_attribute_patch`, joined on the row. With `collapse`, rows of a table keyed on account ids
    (relationships, campaign_accounts) that land on the same key once mapped are one row."""
    projections: list[exp.Expression] = [src("__row")]
    refs = {*spec.account_refs, *spec.soft_account_refs}
    for column in spec.column_names:
        if column in refs:
            survivor = exp.select(col("survivor_id", "a")).from_(exp.table_("__aliases").as_("a")).where(
                col("old_id", "a").eq(src(column))).limit(1)
            projections.append(exp.func("coalesce", exp.Subquery(this=survivor), src(column)).as_(column, quoted=True))
        else:
            projections.append(src(column).as_(column, quoted=True))
    attributes: exp.Expression = src("__attributes")
    unread: exp.Expression = exp.false()
    if patch:
        empty = exp.cast(exp.Literal.string("{}"), "JSON")
        attributes = exp.Case().when(col("__row", PATCH).is_(exp.Null()), attributes).else_(
            exp.func("json_merge_patch", exp.func("coalesce", attributes.copy(), empty), col("patch", PATCH)))
        unread = exp.func("coalesce", col("currency_unread", PATCH), exp.false())
    projections.append(attributes.as_("__attributes", quoted=True))
    projections.append(unread.as_(UNREAD_CURRENCY, quoted=True))
    query = exp.select(*projections).from_(from_src(typed))
    if patch:
        query = query.join(exp.table_(patch, quoted=True).as_(PATCH), on=col("__row", PATCH).eq(src("__row")), join_type="left")
    if spec.name == "accounts":  # a merged id re-imported lands on its survivor: the old record stays merged
        merged = exp.select(col("old_id", "a")).from_(exp.table_("__aliases").as_("a")).where(
            col("old_id", "a").eq(src("account_id")))
        query = query.where(exp.Exists(this=merged).not_())
    if collapse and set(spec.key) & refs:
        # Two rows naming a merged id and its survivor (C1/OLD and C1/S) are one fact once mapped:
        # the row with the most values is kept (the first in the file among equals).
        informed = sum((exp.Case().when(col(c).is_(exp.Null()), exp.Literal.number(0)).else_(exp.Literal.number(1))
                        for c in spec.column_names if c not in spec.key), start=exp.Literal.number(0))
        rank = exp.Window(this=exp.func("row_number"), partition_by=[col(k) for k in spec.key],
                          order=exp.Order(expressions=[exp.Ordered(this=informed, desc=True), exp.Ordered(this=col("__row"))]))
        query = exp.select(exp.Star()).from_(query.subquery("m")).qualify(rank.eq(1))
    return query


def _collapsed_warnings(con: duckdb.DuckDBPyConnection, spec: TableSpec, typed: str, present: set[str],
                        patch: str | None, label: str) -> list[ImportWarning]:
    """Rows that land on the same key once merged ids are read as their survivors and disagree on
    another column (`subsidiary` vs `branch`): one warning per key; the row kept is the one with the
    most values (see `_aliased`)."""
    others = [c for c in spec.column_names if c not in spec.key and c in present]
    refs = {*spec.account_refs, *spec.soft_account_refs}
    if not others or not set(spec.key) & refs:
        return []
    mapped = _aliased(spec, typed, present, patch, collapse=False).subquery("m")
    disagree = exp.or_(*[exp.GT(this=exp.Count(this=exp.Distinct(expressions=[col(c)])), expression=exp.Literal.number(1)) for c in others])
    value = exp.func("concat_ws", exp.Literal.string(" / "), *[col(k) for k in spec.key])
    query = (exp.select(exp.func("min", col("__row")), value.as_("value"), exp.func("count", exp.Star()))
             .from_(mapped).group_by(*[col(k) for k in spec.key])
             .having(exp.and_(exp.GT(this=exp.func("count", exp.Star()), expression=exp.Literal.number(1)), disagree))
             .order_by(exp.func("min", col("__row"))).limit(MAX_WARNINGS))
    label_key = " + ".join(spec.key)
    return [ImportWarning(label, spec.name, first, spec.key[0], key,
                          f"one row per {label_key} once merged account ids are read as their survivors",
                          f"{n} rows name the same {label_key} (a merged id and its survivor) with different "
                          f"{', '.join(others)}: the row with the most values was kept, the others dropped", int(n))
            for first, key, n in con.execute(query.sql("duckdb")).fetchall()]


def _final_select(spec: TableSpec, present: list[str], import_id: int, now: datetime) -> exp.Select:
    """Columns as stored: typed values, converted amounts, attributes, content hash, provenance.

    Only the columns the file provides are written, so a file without `parent_id` does not erase
    the parents an earlier import set."""
    projections: list[exp.Expression] = [src(c).as_(c, quoted=True) for c in present]
    if spec.derived_key:
        key = spec.key[0]
        content = [c for c in present if c != key]
        digest = exp.func("md5", exp.func("concat_ws", exp.Literal.string("\x1f"),
                                          *[exp.func("coalesce", exp.cast(src(c), "VARCHAR"), exp.Literal.string("\x1e"))
                                            for c in content]))
        # Identical rows are repeated events (two calls the same day): the 2nd, 3rd… get `-2`, `-3`,
        # in file order, so importing the file again derives the same ids.
        occurrence = exp.Window(this=exp.func("row_number"), partition_by=[digest.copy(), src(key).is_(exp.Null())],
                                order=exp.Order(expressions=[exp.Ordered(this=src("__row"))]))
        derived = exp.Case().when(occurrence.eq(1), digest.copy()).else_(
            exp.func("concat", digest.copy(), exp.Literal.string("-"), exp.cast(occurrence.copy(), "VARCHAR")))
        projections[present.index(key)] = exp.func("coalesce", src(key), derived).as_(key, quoted=True)
    for amount, converted in spec.money.items():
        if amount not in present:
            continue
        currency = exp.func("coalesce", src("currency"), exp.Literal.string("__rc"))
        rate = exp.select(col("rate", "r")).from_(exp.table_("__rates").as_("r")).where(col("currency", "r").eq(currency)).limit(1)
        value = src(amount) * exp.func("coalesce", exp.Subquery(this=rate), exp.Literal.number(1))
        # an unknown currency (a warning where the amount is optional): no conversion, never rate 1
        projections.append(exp.Case().when(src(UNREAD_CURRENCY), exp.Null()).else_(value).as_(converted, quoted=True))
    if spec.name in ("accounts", "relationships"):
        # A CRM import owns what it writes: a row a registry created becomes the CRM's.
        projections.append(exp.Literal.string("crm").as_("source", quoted=True))
    projections.append(src("__attributes").as_("attributes", quoted=True))
    hashed = [*present, "__attributes"]
    row_hash = exp.func("md5", exp.func("concat_ws", exp.Literal.string("\x1f"),
                                        *[exp.func("coalesce", exp.cast(src(c), "VARCHAR"), exp.Literal.string("\x1e"))
                                          for c in hashed]))
    projections.append(row_hash.as_("row_hash", quoted=True))
    projections.append(exp.Literal.number(import_id).as_("import_id", quoted=True))
    projections.append(exp.cast(exp.Literal.string(now.isoformat(sep=" ")), "TIMESTAMP").as_("updated_at", quoted=True))
    return exp.select(*projections).from_(from_src(f"__final_{spec.name}"))


# `import --bu`: the BU-owned records of a BU's own CRM export (products stay a catalogue).
BU_TAGGED_TABLES = ("deals", "contacts", "activities", "campaigns", "leads")


def tag_seller_bu(con: duckdb.DuckDBPyConnection, reports: dict[str, FileReport], bu: str, created: list[str]) -> None:
    """Give `bu` to every row of the BU-owned tables whose `seller_bu` is empty (a value in the file
    wins): each checked table's final view is wrapped in one that fills the column."""
    from accountree.store.sql import template

    con.execute("SET VARIABLE accountree_import_bu = ?", [bu])
    for table, report in reports.items():
        if table not in BU_TAGGED_TABLES:
            continue
        names = {"final": f"__final_{table}", "untagged": f"__final_{table}__untagged"}
        con.execute(template("ALTER VIEW :final RENAME TO :untagged", **names))
        created.append(names["untagged"])
        con.execute(template("CREATE TEMPORARY VIEW :final AS SELECT * REPLACE "
                             "(coalesce(seller_bu, getvariable('accountree_import_bu')) AS seller_bu) FROM :untagged", **names))
        if "seller_bu" not in report.columns:
            report.columns.append("seller_bu")
