"""The stored model compiled to one SQL expression, so the engine scores 1M accounts in place.

Same arithmetic as `model.predict` (tested to agree): every encoded column is a SQL expression on
`score_features`, standardised with the stored fill/mean/std, weighted by its coefficient; the
calibrated probability is `1 / (1 + exp(-(slope × logit + offset)))` (logit clamped to ±50 so
PostgreSQL's exp never overflows).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp


def _col(name: str) -> exp.Column:
    return exp.column(name, table="f", quoted=True)


def _lit(value: float) -> exp.Expression:
    return exp.cast(exp.Literal.number(repr(float(value))), "DOUBLE")


def _flag(condition: exp.Expression) -> exp.Expression:
    return exp.Case().when(condition, _lit(1)).else_(_lit(0))


def _raw(f: dict[str, Any]) -> exp.Expression:
    """The unstandardised encoded value (NULL -> the training fill for log columns)."""
    column = _col(f["source"])
    kind = f["kind"]
    if kind == "log":
        value = exp.func("ln", exp.Add(this=_lit(1), expression=exp.func("greatest", exp.cast(column, "DOUBLE"), _lit(0))))
        return exp.Case().when(exp.Is(this=column.copy(), expression=exp.Null()), _lit(f["fill"])).else_(value)
    if kind == "missing":
        return _flag(exp.Is(this=column, expression=exp.Null()))
    if kind == "band":
        cond: exp.Expression = exp.GTE(this=column, expression=_lit(f["lo"]))
        if f["hi"] is not None:
            cond = exp.and_(cond, exp.LTE(this=column.copy(), expression=_lit(f["hi"])))
        return _flag(cond)
    if kind == "equals":
        return _flag(exp.EQ(this=exp.Lower(this=exp.Trim(this=column)), expression=exp.Literal.string(f["value"])))
    if kind == "uses":
        return _flag(exp.Like(this=column, expression=exp.Literal.string(f"%;{f['value']};%")))
    raise ValueError(f"unknown feature kind {kind}")


def logit_expression(model: dict[str, Any]) -> exp.Expression:
    total: exp.Expression = _lit(model["intercept"])
    for f, w in zip(model["features"], model["coef"], strict=True):
        if not w:
            continue
        scale = w / f["std"]
        term = exp.Mul(this=exp.paren(exp.Sub(this=_raw(f), expression=_lit(f["mean"]))), expression=_lit(scale))
        total = exp.Add(this=total, expression=term)
    return total


def probability_expression(model: dict[str, Any]) -> exp.Expression:
    cal = model["calibration"]
    z = exp.Add(this=exp.Mul(this=_lit(cal["slope"]), expression=exp.paren(logit_expression(model))),
                expression=_lit(cal["offset"]))
    clamped = exp.func("greatest", _lit(-50), exp.func("least", _lit(50), z))
    denominator = exp.Add(this=_lit(1), expression=exp.func("exp", exp.Neg(this=exp.paren(clamped))))
    return exp.Div(this=_lit(1), expression=exp.paren(denominator))
