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
        return lookup("__countries", "key", "iso2", call("at_key_fold", value))
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


NUMERIC_KINDS = ("integer", "number", "percent", "margin")
GUESS_PREFIX = "__guess_"  # the country a misspelt value was read as (`DE (Germany)`), else NULL


def raw_key(column: str) -> str:
    """The attribute that keeps a value an optional column could not read (`country_raw`)."""
    return f"{column}_raw"


def is_strict(spec: TableSpec, column: Column) -> bool:
    """A column whose unreadable value refuses the import: a required one, and the currency of a
    table whose amount is required (converting a deal with an unknown currency would be wrong)."""
    if column.required:
        return True
    return column.kind == "currency" and any(spec.column(a).required for a in spec.money)


def _given(column: Column, value: exp.Expression) -> exp.Expression:
    return call("at_value", value) if column.kind in PLACEHOLDER_KINDS else value


def _present(column: Column, value: exp.Expression) -> exp.Expression:
    given = _given(column, value)
    return exp.and_(given.is_(exp.Null()).not_(), exp.func("trim", given.copy()).neq(""))


def unread(column: Column) -> exp.Expression:
    """On the typed table: the file gives a value the column's parser could not read."""
    if column.kind == "email":  # a doubtful e-mail stays in the column as written
        return exp.and_(_present(column, raw(column.name)), call("at_email", raw(column.name)).is_(exp.Null()))
    return exp.and_(_present(column, raw(column.name)), src(column.name).is_(exp.Null()))


def kept_raw(spec: TableSpec, present: set[str]) -> list[tuple[str, exp.Expression]]:
    """(attribute, value) pairs that keep, per row, what an optional column could not read or read
    only as a guess; NULL when the column read the value."""
    pairs = []
    for column in spec.columns:
        if column.name not in present or column.kind in ("text", "id", "email") or is_strict(spec, column):
            continue
        keep = unread(column)
        if column.kind == "country":
            keep = exp.or_(keep, src(GUESS_PREFIX + column.name).is_(exp.Null()).not_())
        pairs.append((raw_key(column.name), exp.Case().when(keep, raw(column.name)).else_(exp.Null())))
    return pairs


def typed_select(spec: TableSpec, present: set[str], *, decimal_comma: bool, mdy: dict[str, bool],
                 comma_proven: bool = True) -> exp.Select:
    """SELECT of the typed table: `__row`, each raw column kept as `__raw_x`, each typed column.

    With a decimal comma that only the `;` delimiter suggests (`comma_proven` false), `1,234` may be
    1.234 or 1234: it is not read."""
    projections: list[exp.Expression] = [src("__row"), src("__attributes")]
    for column in spec.columns:
        if column.name not in present:
            projections.append(exp.cast(exp.Null(), _sql_type(column)).as_(column.name, quoted=True))
            if column.kind == "country":
                projections.append(exp.cast(exp.Null(), "VARCHAR").as_(GUESS_PREFIX + column.name, quoted=True))
            continue
        projections.append(src(column.name).as_(RAW_PREFIX + column.name, quoted=True))
        if column.kind == "margin":
            amount = parse_expression(spec.column("amount"), src("amount"), decimal_comma=decimal_comma, mdy=False)
            parsed = exp.Case().when(call("at_value", src(column.name)).is_(exp.Null()), exp.Null()).else_(
                call("at_margin", src(column.name), amount, exp.Boolean(this=decimal_comma)))
        else:
            parsed = parse_expression(column, src(column.name), decimal_comma=decimal_comma, mdy=mdy.get(column.name, False))
        if column.kind in NUMERIC_KINDS and decimal_comma and not comma_proven:
            parsed = exp.Case().when(call("at_num_ambiguous", src(column.name)), exp.Null()).else_(parsed)
        if column.kind == "email":
            parsed = exp.Case().when(call("at_value", src(column.name)).is_(exp.Null()), exp.Null()).else_(
                exp.func("coalesce", call("at_email", src(column.name)),
                         call("NULLIF", exp.func("trim", src(column.name)), exp.Literal.string(""))))
        projections.append(parsed.as_(column.name, quoted=True))
        if column.kind == "country":
            guess = exp.Case().when(call("at_value", src(column.name)).is_(exp.Null()), exp.Null()).else_(
                lookup("__countries", "key", "guess", call("at_key_fold", src(column.name))))
            projections.append(guess.as_(GUESS_PREFIX + column.name, quoted=True))
    return exp.select(*projections)


def _sql_type(column: Column) -> str:
    return {
        "integer": "BIGINT", "number": "DOUBLE", "percent": "DOUBLE", "margin": "DOUBLE",
        "date": "DATE", "boolean": "BOOLEAN",
    }.get(column.kind, "VARCHAR")


def problem_queries(spec: TableSpec, present: set[str], table: str) -> list[exp.Select]:
    """One query per check: rows of (`__row`, column, value, expected, level, action); `level` is
    `error` (the import is refused) or `warning` (the row is imported; `action` says how)."""
    queries: list[exp.Select] = []
    source = from_src(table)

    def problem(column: str, value: exp.Expression, expected: str | exp.Expression, where: exp.Expression,
                level: str = "error", action: str | exp.Expression | None = None) -> exp.Select:
        expected_expr = exp.Literal.string(expected) if isinstance(expected, str) else expected
        action_expr = exp.Literal.string(action) if isinstance(action, str) else (action or exp.Null())
        return (
            exp.select(
                src("__row"),
                exp.Literal.string(column).as_("column"),
                exp.cast(value, "VARCHAR").as_("value"),
                exp.cast(expected_expr, "VARCHAR").as_("expected"),
                exp.Literal.string(level).as_("level"),
                exp.cast(action_expr, "VARCHAR").as_("action"),
            )
            .from_(source)
            .where(where)
        )

    for column in spec.columns:
        if column.name not in present:
            continue
        raw_value = raw(column.name)
        if column.required:
            given = _given(column, raw_value)
            queries.append(
                problem(column.name, exp.Null(), f"a value ({column.name} is required)",
                        exp.func("coalesce", exp.func("trim", given), exp.Literal.string("")).eq(""))
            )
        if column.kind in ("text", "id"):
            continue
        expected: str | exp.Expression = EXPECTED[column.kind]
        if column.kind in NUMERIC_KINDS:
            ambiguous = exp.func("concat", exp.Literal.string("an unambiguous number: "), raw_value.copy(),
                                 exp.Literal.string(" may be a decimal or a whole thousand in this file, where no other "
                                                    "value proves the decimal comma; write it without the comma or "
                                                    "import with --decimal ',' or --decimal '.'"))
            expected = exp.Case().when(call("at_num_ambiguous", raw_value.copy()), ambiguous).else_(
                exp.Literal.string(EXPECTED[column.kind]))
        if is_strict(spec, column):
            queries.append(problem(column.name, raw_value, expected, unread(column)))
            continue
        if column.kind == "email":
            action = "imported; the e-mail kept as written"
        else:
            action = f"imported with {column.name} empty; the value kept in attributes as {raw_key(column.name)}"
        queries.append(problem(column.name, raw_value, expected, unread(column), "warning", action))
        if column.kind == "country":
            guess = src(GUESS_PREFIX + column.name)
            queries.append(problem(column.name, raw_value, EXPECTED["country"], guess.is_(exp.Null()).not_(), "warning",
                                   exp.func("concat", exp.Literal.string("read as "), guess.copy(),
                                            exp.Literal.string(f"; the value kept in attributes as {raw_key(column.name)}"))))
    return queries
