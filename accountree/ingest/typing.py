"""From staged text to typed, checked rows — as SQL expressions on the staging connection.

For every canonical column kind there is one parsing expression (a macro of `values.sql`) and the
rule that a value present in the file but unreadable is a problem. The expressions are built with
sqlglot so names coming from users' files are always quoted, never pasted.
"""

from __future__ import annotations

from sqlglot import exp

from accountree.ingest.contract import EXPECTED, Column, TableSpec

RAW_PREFIX = "__raw_"


SRC = "src"  # alias of the table being read, so sub-queries never capture its column names


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def src(name: str) -> exp.Column:
    return col(name, SRC)


def from_src(table: str) -> exp.Expression:
    return exp.table_(table, quoted=True).as_(SRC)


def raw(name: str) -> exp.Column:
    return src(RAW_PREFIX + name)


def call(func: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=func, expressions=list(args))


def lookup(table: str, key_col: str, value_col: str, key: exp.Expression) -> exp.Expression:
    """A scalar sub-query `(SELECT value FROM table WHERE key_col = key LIMIT 1)`."""
    query = exp.select(col(value_col, table)).from_(exp.table_(table)).where(exp.EQ(this=col(key_col, table), expression=key)).limit(1)
    return exp.Subquery(this=query)


# Kinds whose placeholders for "no value" (`N/A`, `-`, `#N/A`, `NaN`, `NC`) read as missing (`at_value`).
PLACEHOLDER_KINDS = {
    "integer", "number", "percent", "margin", "date", "boolean", "country", "currency", "domain", "email", "siren",
    "siret", "lei", "duns", "relation", "buying_role",
}


def parse_expression(column: Column, value: exp.Expression, *, decimal_comma: bool, mdy: bool) -> exp.Expression:
    """The typed value of `value` (raw text) for the column's kind; NULL when unreadable."""
    parsed = _parse(column, value, decimal_comma=decimal_comma, mdy=mdy)
    if column.kind in PLACEHOLDER_KINDS:  # beside the parser, not inside: macros inline their arguments
        return exp.Case().when(call("at_value", value.copy()).is_(exp.Null()), exp.Null()).else_(parsed)
    return parsed


def _parse(column: Column, value: exp.Expression, *, decimal_comma: bool, mdy: bool) -> exp.Expression:
    dc = exp.Boolean(this=decimal_comma)
    kind = column.kind
    if kind in ("text", "id"):
        return call("NULLIF", exp.func("trim", value), exp.Literal.string(""))
    if kind == "integer":
        return call("at_integer", value, dc)
    if kind == "number":
        return call("at_number", value, dc)
    if kind == "percent":
        return call("at_percent", value, dc)
    if kind == "margin":  # needs the parsed amount: resolved by the caller
        return call("at_margin", value, src("amount"), dc)
    if kind == "date":
        return call("at_date", value, exp.Boolean(this=mdy))
    if kind == "boolean":
        return call("at_boolean", value)
    if kind == "country":
        return lookup("__countries", "key", "iso2", call("at_key", value))
    if kind == "currency":
        symbol = lookup("__currency_symbols", "key", "code", exp.func("lower", exp.func("trim", value)))
        code = exp.func("coalesce", symbol, exp.func("upper", exp.func("trim", value)))
        return lookup("__rates", "currency", "currency", code)
    if kind == "domain":
        return call("at_domain", value)
    if kind == "email":
        return call("at_email", value)
    if kind == "siren":
        return call("at_digits", value, exp.Literal.number(9))
    if kind == "siret":
        return call("at_digits", value, exp.Literal.number(14))
    if kind == "duns":
        return call("at_digits", value, exp.Literal.number(9))
    if kind == "lei":
        return call("at_lei", value)
    if kind in ("relation", "stage", "buying_role", "slug"):
        return call(f"at_{kind}", value)
    raise ValueError(f"unknown column kind {kind}")


def typed_select(spec: TableSpec, present: set[str], *, decimal_comma: bool, mdy: dict[str, bool]) -> exp.Select:
    """SELECT of the typed table: `__row`, each raw column kept as `__raw_x`, each typed column."""
    projections: list[exp.Expression] = [src("__row"), src("__attributes")]
    for column in spec.columns:
        if column.name not in present:
            projections.append(exp.cast(exp.Null(), _sql_type(column)).as_(column.name, quoted=True))
            continue
        projections.append(src(column.name).as_(RAW_PREFIX + column.name, quoted=True))
        if column.kind == "margin":
            amount = parse_expression(spec.column("amount"), src("amount"), decimal_comma=decimal_comma, mdy=False)
            parsed = exp.Case().when(call("at_value", src(column.name)).is_(exp.Null()), exp.Null()).else_(
                call("at_margin", src(column.name), amount, exp.Boolean(this=decimal_comma)))
        else:
            parsed = parse_expression(column, src(column.name), decimal_comma=decimal_comma, mdy=mdy.get(column.name, False))
        projections.append(parsed.as_(column.name, quoted=True))
    return exp.select(*projections)


def _sql_type(column: Column) -> str:
    return {
        "integer": "BIGINT", "number": "DOUBLE", "percent": "DOUBLE", "margin": "DOUBLE",
        "date": "DATE", "boolean": "BOOLEAN",
    }.get(column.kind, "VARCHAR")


def problem_queries(spec: TableSpec, present: set[str], table: str) -> list[exp.Select]:
    """One query per check: rows of (`__row`, column, value, expected)."""
    queries: list[exp.Select] = []
    source = from_src(table)

    def problem(column: str, value: exp.Expression, expected: str, where: exp.Expression) -> exp.Select:
        return (
            exp.select(
                src("__row"),
                exp.Literal.string(column).as_("column"),
                exp.cast(value, "VARCHAR").as_("value"),
                exp.Literal.string(expected).as_("expected"),
            )
            .from_(source)
            .where(where)
        )

    for column in spec.columns:
        if column.name not in present:
            continue
        raw_value = raw(column.name)
        given = call("at_value", raw_value) if column.kind in PLACEHOLDER_KINDS else raw_value
        if column.required:
            queries.append(
                problem(column.name, exp.Null(), f"a value ({column.name} is required)",
                        exp.func("coalesce", exp.func("trim", given), exp.Literal.string("")).eq(""))
            )
        if column.kind not in ("text", "id"):
            present_raw = exp.and_(
                given.copy().is_(exp.Null()).not_(), exp.func("trim", given.copy()).neq(""), src(column.name).is_(exp.Null())
            )
            queries.append(problem(column.name, raw_value, EXPECTED[column.kind], present_raw))
    return queries
