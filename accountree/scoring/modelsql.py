"""The stored linear model compiled to one SQL expression, so the engine scores 1M accounts in place.

Same arithmetic as `model.predict` (tested to agree on both engines): every encoded column is a
SQL expression on `score_features f LEFT JOIN accounts a` (each field read by `fields.field_sql`,
the expression training read it with), standardised with the stored fill/mean/std, weighted by its
coefficient; a target-encoded field is a `CASE` over its levels; the calibrated probability is
`1 / (1 + exp(-(slope × logit + offset)))` (clamped to ±50 so PostgreSQL's exp never overflows).
The tree model is not compiled (hundreds of nested CASEs): it scores in Arrow batches
(`service._tree_scores`).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from accountree.scoring.fields import STANDARD_MULTI, STANDARD_NUMERIC, field_sql
from accountree.scoring.model import MISSING

_NUMERIC_KINDS = {"num", "log", "band"}


def field_kinds(model: dict[str, Any]) -> dict[str, str]:
    """source -> numeric | text | multi, for every field the model reads (older models: standard fields)."""
    if "fields" in model:
        return dict(model["fields"])
    out = {}
    for f in model["features"]:
        s = f["source"]
        out[s] = "numeric" if s in STANDARD_NUMERIC else "multi" if s in STANDARD_MULTI else "text"
    return out


def _lit(value: float) -> exp.Expression:
    return exp.cast(exp.Literal.number(repr(float(value))), "DOUBLE")


def _flag(condition: exp.Expression) -> exp.Expression:
    return exp.Case().when(condition, _lit(1)).else_(_lit(0))


def _raw(f: dict[str, Any], kinds: dict[str, str]) -> exp.Expression:
    """The unstandardised encoded value (NULL -> the training fill for numbers)."""
    column = field_sql(f["source"], kinds[f["source"]])
    kind = f["kind"]
    if kind in ("log", "num"):
        value: exp.Expression = column
        if kind == "log" or f.get("log"):
            value = exp.func("ln", exp.Add(this=_lit(1), expression=exp.func("greatest", column, _lit(0))))
        return exp.Case().when(exp.Is(this=column.copy(), expression=exp.Null()), _lit(f["fill"])).else_(value)
    if kind == "missing":
        return _flag(exp.Is(this=column, expression=exp.Null()))
    if kind == "band":
        cond: exp.Expression = exp.GTE(this=column, expression=_lit(f["lo"]))
        if f["hi"] is not None:
            cond = exp.and_(cond, exp.LTE(this=column.copy(), expression=_lit(f["hi"])))
        return _flag(cond)
    if kind == "equals":
        return _flag(exp.EQ(this=column, expression=exp.Literal.string(f["value"])))
    if kind == "uses":
        return _flag(exp.Like(this=column, expression=exp.Literal.string(f"%;{f['value']};%")))
    if kind == "te":
        key = exp.func("coalesce", column, exp.Literal.string(MISSING))
        case = exp.Case(this=key)
        for level, value in f["map"].items():
            case = case.when(exp.Literal.string(level), _lit(value))
        return case.else_(_lit(f["default"]))
    raise ValueError(f"unknown feature kind {kind}")


def logit_expression(model: dict[str, Any]) -> exp.Expression:
    kinds = field_kinds(model)
    total: exp.Expression = _lit(model["intercept"])
    for f, w in zip(model["features"], model["coef"], strict=True):
        if not w:
            continue
        scale = w / f["std"]
        term = exp.Mul(this=exp.paren(exp.Sub(this=_raw(f, kinds), expression=_lit(f["mean"]))), expression=_lit(scale))
        total = exp.Add(this=total, expression=term)
    return total


def probability_expression(model: dict[str, Any]) -> exp.Expression:
    cal = model["calibration"]
    z = exp.Add(this=exp.Mul(this=_lit(cal["slope"]), expression=exp.paren(logit_expression(model))),
                expression=_lit(cal["offset"]))
    clamped = exp.func("greatest", _lit(-50), exp.func("least", _lit(50), z))
    denominator = exp.Add(this=_lit(1), expression=exp.func("exp", exp.Neg(this=exp.paren(clamped))))
    return exp.Div(this=_lit(1), expression=exp.paren(denominator))
