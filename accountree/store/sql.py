"""SQL written once, run on every engine.

accountree's SQL is written in DuckDB's dialect as static text (names and values are never pasted
in: values are `?` or `$name` parameters) and transpiled by sqlglot for the engine at hand. Where a
name really is dynamic (an export of a table chosen by the user) it is built as a sqlglot
expression, which quotes it.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

SOURCE_DIALECT = "duckdb"


@lru_cache(maxsize=4096)
def transpile(sql: str, dialect: str) -> tuple[str, ...]:
    """Statements of `sql` (DuckDB dialect) rendered for `dialect`; cached since SQL is static."""
    if dialect == SOURCE_DIALECT:
        if ";" not in sql:  # one statement, already in DuckDB's dialect: run it as written
            return (sql,)
        return tuple(s.sql(dialect=dialect) for s in sqlglot.parse(sql, read=SOURCE_DIALECT) if s)
    fix = _FIXES.get(dialect)
    return tuple((s.transform(fix) if fix else s).sql(dialect=dialect)
                 for s in sqlglot.parse(sql, read=SOURCE_DIALECT) if s)


def _postgres_fix(node: exp.Expression) -> exp.Expression:
    """DuckDB functions sqlglot passes through unchanged that PostgreSQL spells otherwise:
    `bit_count(BIGINT)` (a popcount; PostgreSQL counts the bits of a bit string);
    `string_split(text, sep)` (PostgreSQL: `string_to_array`; sqlglot writes `SPLIT`);
    `arg_max(arg, key)` / `arg_min` (see `_postgres_arg_max`)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "bit_count" and len(node.expressions) == 1:
        return exp.Anonymous(this="bit_count", expressions=[exp.cast(node.expressions[0], _BIT64)])
    if isinstance(node, exp.Split):
        return exp.Anonymous(this="string_to_array", expressions=[node.this, node.expression])
    if isinstance(node, exp.Struct) and node.expressions and all(
            isinstance(e, exp.PropertyEQ) for e in node.expressions):
        return _postgres_row(node)
    if isinstance(node, (exp.ArgMax, exp.ArgMin)) and node.expression is not None:
        return _postgres_arg_max(node)
    return node


def _postgres_arg_max(node: exp.ArgMax | exp.ArgMin) -> exp.Expression:
    """DuckDB's `arg_max(arg, key)` (the `arg` of the row with the greatest `key`, rows with a NULL
    `arg` or `key` skipped; `arg_min` the least) as PostgreSQL's
    `(array_agg(arg ORDER BY key DESC NULLS LAST) FILTER (WHERE arg IS NOT NULL AND NOT key IS NULL))[1]`.
    A tuple `(a, b)` as key compares field by field on both engines; give it no NULL field (DuckDB
    orders a NULL field, PostgreSQL's `NOT (a, b) IS NULL` only skips a key whose fields are all NULL)."""
    arg, key = node.this, node.expression
    ordered = exp.Ordered(this=key.copy(), desc=isinstance(node, exp.ArgMax), nulls_first=False)
    agg = exp.ArrayAgg(this=exp.Order(this=arg.copy(), expressions=[ordered]))
    kept = exp.and_(exp.Not(this=exp.Is(this=arg.copy(), expression=exp.Null())),
                    exp.Not(this=exp.Paren(this=exp.Is(this=key.copy(), expression=exp.Null()))))
    return exp.Bracket(this=exp.Paren(this=exp.Filter(this=agg, expression=exp.Where(this=kept))),
                       expressions=[exp.Literal.number(0)])


def _postgres_row(node: exp.Struct) -> exp.Expression:
    """`struct_pack(a := x, b := y)` (DuckDB) as PostgreSQL's row of named fields: the scalar
    subquery `(SELECT _row FROM (SELECT x AS a, y AS b) _row)`, whose `to_json` is `{"a":…,"b":…}`
    as DuckDB writes the struct's (a row constructor would name its fields f1, f2…)."""
    fields = [exp.alias_(e.expression, exp.to_identifier(e.this.name, quoted=True)) for e in node.expressions]
    inner = exp.select(*fields).subquery("_row")
    return exp.Subquery(this=exp.select(exp.column("_row")).from_(inner))


_BIT64 = exp.DataType.build("BIT(64)", dialect="postgres")
_FIXES = {"postgres": _postgres_fix}


def render_expression(expression: exp.Expression, dialect: str) -> str:
    """A sqlglot expression (built in DuckDB's terms) rendered for `dialect`, with the same fixes
    as `transpile`."""
    fix = _FIXES.get(dialect)
    return (expression.transform(fix) if fix else expression).sql(dialect=dialect)


def select_columns(table: str, columns: list[str], order_by: list[str] | None = None) -> exp.Select:
    """`SELECT cols FROM table [ORDER BY …]` with every identifier quoted."""
    query = exp.select(*[exp.column(c, quoted=True) for c in columns]).from_(exp.table_(table, quoted=True))
    if order_by:
        query = query.order_by(*[exp.column(c, quoted=True) for c in order_by])
    return query


def template(sql: str, dialect: str = SOURCE_DIALECT, **identifiers: str) -> str:
    """Render `sql` with each `:name` placeholder replaced by the quoted identifier given.

    For the few statements whose table or column name is only known at run time: the name is
    substituted as an identifier by sqlglot, so it can never become SQL.
    """
    tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    names = {k: exp.to_identifier(v, quoted=True) for k, v in identifiers.items()}
    return exp.replace_placeholders(tree, **names).sql(dialect=dialect)


# -- what differs between engines, by dialect: capability code asks these instead of branching on
# the engine's name (`engine.dialect` is the argument).
def table_comments_sql(dialect: str) -> str:
    """`SELECT table name, comment` of every table of the current schema (NULL: no comment); run as
    written (PostgreSQL's catalogue has no DuckDB spelling)."""
    if dialect == "postgres":
        return ("--native\nSELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'")
    return ("SELECT table_name, comment FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = current_schema()")

