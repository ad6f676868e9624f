"""What the model learns to predict: `--target won | best | CUSTOM_RULE`.

- `won`  (conversion fit): accounts that became customers (a won deal closed by `--as-of`) vs the
  accounts that did not within the data's horizon. Accounts created too recently to have had the
  time most customers needed to convert (the 80th percentile of days from `created_at` to the first
  won deal) and not won yet are left out of training: their outcome is not known yet.
- `best` (value fit): today's definition, the grid's `model.best_customers` (top share of the
  customers by 3-year gross margin / revenue / deal count, active in N of the last 3 years).
- a rule: a boolean expression over the account's fields and attributes, SQL-like, e.g.
  `"Converted = 1"`, `"lifecycle_stage in ('customer', 'evangelist')"`,
  `"won_deals_3y >= 2 and revenue_3y > 50000"`. Text compares without case; field names with
  spaces are double-quoted (`"Lead Quality" = 'High'`). The rule's own fields are never features.

The rule is parsed with sqlglot and evaluated on Arrow columns with pyarrow.compute (vectorised,
no SQL text built from user input).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from accountree.errors import ConfigError

OUTCOME_COLUMNS = ("gross_margin_3y", "revenue_3y", "won_deals_3y", "active_years_3y")


@dataclass
class Target:
    kind: str  # won | best | rule
    rule: str | None = None
    fields: set[str] = field(default_factory=set)  # sources the rule reads (excluded from features)

    @property
    def name(self) -> str:
        return self.rule if self.kind == "rule" else self.kind


def parse_target(text: str | None, default: str = "best") -> Target:
    text = (text or default).strip()
    if text.lower() in ("won", "best"):
        return Target(text.lower())
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError as err:
        raise ConfigError(f"--target {text!r} is neither won, best nor a rule I can read ({err.errors[0]['description']})",
                          hint="Examples: --target won, --target best, --target \"Converted = 1\", "
                               "--target \"lifecycle_stage in ('customer')\"") from err
    return Target("rule", text, {c.name for c in tree.find_all(exp.Column)})


def resolve(name: str, table: pa.Table) -> str:
    """The fetched column a rule's field name refers to (standard column, outcome, or attribute)."""
    by_lower = {}
    for column in table.column_names:
        plain = column[1:] if column.startswith("@") else column[2:] if column.startswith("a.") else column
        by_lower.setdefault(plain.lower(), column)
    found = by_lower.get(name.lower())
    if found is None:
        known = sorted(k for k in by_lower if not k.startswith("__"))
        raise ConfigError(f"the target rule names an unknown field {name!r}",
                          hint=f"Fields: {', '.join(known[:60])}{'…' if len(known) > 60 else ''}.")
    return found


_COMPARE = {exp.EQ: pc.equal, exp.NEQ: pc.not_equal, exp.GT: pc.greater, exp.GTE: pc.greater_equal,
            exp.LT: pc.less, exp.LTE: pc.less_equal}
_FLIP = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ, exp.NEQ: exp.NEQ}
_NUMBER = r"^ *[-+]?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)? *$"


def _literal(node: exp.Expression) -> str | float | bool:
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return -float(node.this.this)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else float(node.this)
    raise ConfigError(f"the target rule compares with {node.sql()!r}, which is not a value",
                      hint="Compare a field with a number, a 'text' or a list: field in ('a', 'b').")


def _as(column: pa.ChunkedArray, value: str | float | bool) -> tuple[pa.ChunkedArray, pa.Scalar]:
    if isinstance(value, bool):
        value = 1.0 if value else 0.0
    if isinstance(value, float):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            ok = pc.match_substring_regex(column, _NUMBER)
            column = pc.if_else(ok, pc.cast(pc.if_else(ok, column, "0"), pa.float64()), None)
        elif pa.types.is_boolean(column.type):
            column = pc.cast(column, pa.float64())
        return pc.cast(column, pa.float64()), pa.scalar(value, pa.float64())
    return pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(column, pa.string()))), pa.scalar(value.strip().lower())


def evaluate(target: Target, table: pa.Table) -> np.ndarray:
    """1 where the rule holds, 0 elsewhere (a missing value never satisfies a comparison)."""
    assert target.rule is not None
    mask = _eval(sqlglot.parse_one(target.rule, read="duckdb"), table)
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False).astype(np.int8)


def _eval(node: exp.Expression, table: pa.Table):
    if isinstance(node, exp.Paren):
        return _eval(node.this, table)
    if isinstance(node, exp.And):
        return pc.and_kleene(_eval(node.this, table), _eval(node.expression, table))
    if isinstance(node, exp.Or):
        return pc.or_kleene(_eval(node.this, table), _eval(node.expression, table))
    if isinstance(node, exp.Not):
        inner = _eval(node.this, table)
        return pc.invert(pc.fill_null(inner, False)) if isinstance(node.this, exp.Is) else pc.invert(inner)
    if isinstance(node, exp.Is) and isinstance(node.this, exp.Column) and isinstance(node.expression, exp.Null):
        return pc.is_null(table.column(resolve(node.this.name, table)))
    if isinstance(node, exp.In) and isinstance(node.this, exp.Column):
        values = [_literal(v) for v in node.expressions]
        column = table.column(resolve(node.this.name, table))
        out = None
        for v in values:
            col, scalar = _as(column, v)
            hit = pc.equal(col, scalar)
            out = hit if out is None else pc.or_kleene(out, hit)
        return out
    op = type(node)
    if op in _COMPARE:
        left, right = node.this, node.expression
        if isinstance(right, exp.Column) and not isinstance(left, exp.Column):
            left, right, op = right, left, _FLIP[op]
        if isinstance(left, exp.Column):
            col, scalar = _as(table.column(resolve(left.name, table)), _literal(right))
            return _COMPARE[op](col, scalar)
    raise ConfigError(f"the target rule part {node.sql()!r} is not supported",
                      hint="Use comparisons (= <> < <= > >=), IN (…), IS [NOT] NULL, AND, OR, NOT and parentheses.")
