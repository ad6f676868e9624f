"""Every field the user has, as a model input: discovery, automatic typing, leakage guards.

Candidates are the standard account columns of `score_features` (firmographic, technographic,
intent), any extra column of `accounts`, and every key of `accounts.attributes` (the headers an
import kept as custom attributes: lead source, segment, landing page, partner, region…).

Each field is read by ONE SQL expression (`field_sql`), used alike to train (fetched as Arrow) and
to score (the linear model compiled into SQL, or the tree model fed in Arrow batches):
- text: `lower(trim(value))`, with placeholder answers (`''`, `select`, `n/a`, `unknown`…) read as missing;
- numbers: attribute text that looks like a number is cast to DOUBLE (anything else is missing);
- lists: `;`-separated values normalised to `;a;b;` (like `technologies`).

Typing (`infer`) decides per field, from the training rows: numeric (≥ 95 % of the filled values are
numbers), multi-valued (≥ 10 % contain `;`), categorical, or skipped with the reason (empty, one
value, identifier-like, dates, free text). Leakage guards (`leaks`) exclude, with a message, the
fields that only exist for the positives (filled after the outcome, e.g. by sales after a win) and
the fields that predict the outcome almost alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

STANDARD_NUMERIC = ["employees", "annual_revenue", "pricing_page_visits_30d", "web_visits_30d", "intent_signals_90d",
                    "form_fills_90d", "meetings_90d", "engagement_90d", "contacts", "decision_makers",
                    "days_since_last_activity"]
STANDARD_TEXT = ["industry", "country", "city"]
STANDARD_MULTI = ["technologies"]
STANDARD = set(STANDARD_NUMERIC) | set(STANDARD_TEXT) | set(STANDARD_MULTI)
# accounts columns that are identifiers, bookkeeping or outcomes: never features
NOT_FEATURES = {"account_id", "name", "parent_id", "domain", "website", "currency", "annual_revenue_rc", "siren",
                "siret", "lei", "duns", "is_group_head", "owner", "created_at", "source", "attributes", "row_hash",
                "import_id", "updated_at"}
PLACEHOLDERS = ("", "select", "n/a", "na", "null", "none", "-", "?", "unknown", "not provided", "not specified", "nan")
NUMBER_PATTERN = r"^ *[-+]?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)? *$"
DATE_PATTERN = r"^ *[0-9]{4}-[0-9]{2}-[0-9]{2}"
MAX_ATTRIBUTE_FIELDS = 200


@dataclass
class Field:
    """One candidate field: its name as the user knows it and where it is read from."""

    name: str
    origin: str  # standard | column | attribute
    kind: str = "text"  # text | numeric | multi (after typing)
    note: str | None = None  # why it is skipped / excluded

    @property
    def source(self) -> str:
        """Key of the field in fetched tables and stored models (`@key` for an attribute)."""
        return f"@{self.name}" if self.origin == "attribute" else self.name


def _quoted(name: str, table: str) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def raw_sql(source: str) -> exp.Expression:
    """The stored value of a field: `f.col` (score_features), `a.col` (accounts) or the attribute's text."""
    if source.startswith("@"):
        return exp.JSONExtractScalar(this=_quoted("attributes", "a"), expression=exp.Literal.string(source[1:]))
    if source.startswith("a."):
        return _quoted(source[2:], "a")
    return _quoted(source, "f")


def _text(value: exp.Expression) -> exp.Expression:
    cleaned = exp.Lower(this=exp.Trim(this=exp.cast(value, "VARCHAR")))
    placeholder = exp.In(this=cleaned.copy(), expressions=[exp.Literal.string(p) for p in PLACEHOLDERS])
    return exp.Case().when(placeholder, exp.Null()).else_(cleaned)


def field_sql(source: str, kind: str) -> exp.Expression:
    """SQL for one field, typed: DOUBLE for numbers, normalised text, `;a;b;` lists."""
    value = raw_sql(source)
    standard = not source.startswith(("@", "a."))
    if kind == "numeric":
        if standard:
            return exp.cast(value, "DOUBLE")
        text = exp.Trim(this=exp.cast(value, "VARCHAR"))
        return exp.Case().when(exp.RegexpLike(this=text, expression=exp.Literal.string(NUMBER_PATTERN)),
                               exp.cast(text.copy(), "DOUBLE"))
    if kind == "multi":
        if standard:  # technologies: already `;a;b;` in score_features
            return value
        text = _text(value)
        spaced = exp.func("replace", exp.func("replace", text, exp.Literal.string("; "), exp.Literal.string(";")),
                          exp.Literal.string(" ;"), exp.Literal.string(";"))
        return exp.DPipe(this=exp.DPipe(this=exp.Literal.string(";"), expression=spaced),
                         expression=exp.Literal.string(";"))
    return _text(value)


def discover(ws, extra_columns: bool = True) -> list[Field]:
    """Every candidate field of the workspace (standard columns, extra accounts columns, attribute keys)."""
    found = [Field(n, "standard", "numeric") for n in STANDARD_NUMERIC]
    found += [Field(n, "standard", "text") for n in STANDARD_TEXT]
    found += [Field(n, "standard", "multi") for n in STANDARD_MULTI]
    taken = {f.name.lower() for f in found} | NOT_FEATURES
    if extra_columns:
        for column in ws.engine.table_columns("accounts"):
            if column.lower() not in taken:
                found.append(Field(f"a.{column}", "column"))
                taken.add(column.lower())
    keys = sorted(ws.engine.json_keys("accounts", "attributes"))
    for key in keys[:MAX_ATTRIBUTE_FIELDS]:
        if key.lower() not in taken:
            found.append(Field(key, "attribute"))
            taken.add(key.lower())
    return found


def label_of(source: str) -> str:
    """The field's name as the user knows it (`@Lead Source` -> `Lead Source`)."""
    return source[1:] if source.startswith("@") else source[2:] if source.startswith("a.") else source


def select_fields(fields: list[Field], kinds: dict[str, str] | None = None) -> list[exp.Expression]:
    """Projections `<typed field> AS "<source>"` (raw text for not-yet-typed custom fields)."""
    out = []
    for f in fields:
        kind = (kinds or {}).get(f.source, f.kind if f.origin == "standard" else "text")
        expression = field_sql(f.source, kind) if (kinds or f.origin == "standard") else _text(raw_sql(f.source))
        out.append(exp.alias_(expression, f.source, quoted=True))
    return out


def from_features() -> exp.Select:
    """`score_features f LEFT JOIN accounts a` — where every field is read from."""
    return exp.select().from_(exp.table_("score_features", alias="f", quoted=True)).join(
        exp.table_("accounts", alias="a", quoted=True), join_type="left",
        on=exp.EQ(this=_quoted("account_id", "a"), expression=_quoted("account_id", "f")))


# -- typing -------------------------------------------------------------------------------------
def infer(table: pa.Table, fields: list[Field], min_count: int = 5) -> list[Field]:
    """Type each custom field from its (text) values in `table`; notes say why a field is skipped."""
    for f in fields:
        if f.origin == "standard":
            col = table.column(f.source)
            if pc.count(col).as_py() == 0:
                f.note = "empty"
            elif pc.count_distinct(col).as_py() < 2:
                f.note = "one value only"
            continue
        col = pc.cast(table.column(f.source), pa.string())
        filled = col.filter(pc.is_valid(col))
        n = len(filled)
        if n < min_count:
            f.note = "empty" if n == 0 else f"only {n} filled values"
            continue
        numbers = pc.sum(pc.match_substring_regex(filled, NUMBER_PATTERN)).as_py() or 0
        distinct = pc.count_distinct(filled).as_py()
        if distinct < 2:
            f.note = "one value only"
        elif numbers >= 0.95 * n:
            f.kind = "numeric"
        elif (pc.sum(pc.match_substring_regex(filled, DATE_PATTERN)).as_py() or 0) >= 0.9 * n:
            f.note = "dates are not used as features (a date is often filled after the outcome)"
        elif (pc.sum(pc.match_substring(filled, ";")).as_py() or 0) >= 0.1 * n:
            f.kind = "multi"
        elif distinct > 0.5 * n and n > 50:
            f.note = f"looks like an identifier ({distinct:,} distinct values for {n:,} filled)"
        elif pc.mean(pc.utf8_length(filled)).as_py() > 60:
            f.note = "free text"
        else:
            f.kind = "text"
    return fields


# -- leakage ------------------------------------------------------------------------------------
@dataclass
class Leak:
    field: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return f"{label_of(self.field)}: {self.reason}"


def filled(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.is_valid(col).to_numpy(zero_copy_only=False).astype(bool)


def missingness_leak(is_filled: np.ndarray, y: np.ndarray, gap: float = 0.6) -> tuple[float, float] | None:
    """(filled share among positives, among the others) when they differ by `gap` or more."""
    pos, neg = y == 1, y == 0
    if not pos.any() or not neg.any():
        return None
    p1, p0 = float(is_filled[pos].mean()), float(is_filled[neg].mean())
    return (p1, p0) if abs(p1 - p0) >= gap else None


def leaks(table: pa.Table, fields: list[Field], y: np.ndarray, single_auc: dict[str, float],
          too_good: float = 0.95, gap: float = 0.6) -> list[Leak]:
    """Fields to exclude: filled only for one class (after the outcome), or predicting it almost alone."""
    found = []
    for f in fields:
        if f.note:
            continue
        shares = missingness_leak(filled(table.column(f.source)), y, gap)
        if shares:
            p1, p0 = shares
            who = "the positives" if p1 > p0 else "the negatives"
            found.append(Leak(f.source, (
                f"filled for {p1:.0%} of the positives but {p0:.0%} of the others — it exists almost only for {who}, "
                "as when a field is filled by sales after the outcome; excluded (keep it with --include)"),
                {"filled_positives": round(p1, 3), "filled_negatives": round(p0, 3)}))
            continue
        auc = single_auc.get(f.source)
        if auc is not None and auc >= too_good:
            found.append(Leak(f.source, (
                f"predicts the outcome almost alone (AUC {auc:.3f} by itself) — typical of a field filled after the "
                "outcome; excluded (keep it with --include)"), {"auc_alone": round(auc, 4)}))
    return found
