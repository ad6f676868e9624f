"""Compile a points grid to set-based SQL (sqlglot expressions, run by either engine).

`details_query` gives one row per (account, criterion) with the value seen, the rule that matched,
the points and the contribution to the 0-100 score; `grid_scores_query` sums them per account and
says why an account is left unscored. Values from the grid become quoted literals built by sqlglot.
"""

from __future__ import annotations

from sqlglot import exp

from accountree.scoring.grid import FIELDS, Criterion, Grid, Pillar, Rule

FEATURES = "score_features"


def _col(name: str, table: str = "f") -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _num(value: float) -> exp.Expression:
    return exp.cast(exp.Literal.number(repr(float(value))), "DOUBLE")


def _rule_condition(field: str, rule: Rule) -> exp.Expression:
    column = _col(field)
    kind = FIELDS[field][0]
    if kind == "list":
        tokens = [v.strip().lower() for v in (rule.any_of or rule.in_ or [])]
        return exp.or_(*[exp.Like(this=column, expression=exp.Literal.string(f"%;{t};%")) for t in tokens])
    if rule.kind == "in":
        values = [exp.Literal.string(v.strip().lower()) for v in rule.in_ or []]
        return exp.In(this=exp.Lower(this=exp.Trim(this=column)), expressions=values)
    parts: list[exp.Expression] = []
    if rule.min is not None:
        parts.append(exp.GTE(this=column, expression=_num(rule.min)))
    if rule.max is not None:
        parts.append(exp.LTE(this=column, expression=_num(rule.max)))
    return exp.and_(*parts)


def _points_and_rule(c: Criterion) -> tuple[exp.Case, exp.Case]:
    """Points earned, and which rule gave them: its index, -1 for a missing value, -2 for `else`."""
    missing = 0.0 if c.missing == "required" else float(c.missing)
    is_null = exp.Is(this=_col(c.field), expression=exp.Null())
    points = exp.Case().when(is_null, _num(missing))
    rule_index = exp.Case().when(is_null, exp.Literal.number(-1))
    for i, rule in enumerate(c.rules):
        cond = _rule_condition(c.field, rule)
        points = points.when(cond, _num(rule.points))
        rule_index = rule_index.when(cond, exp.Literal.number(i))
    return points.else_(_num(c.otherwise)), rule_index.else_(exp.Literal.number(-2))


def _rule_label(c: Criterion, index: exp.Expression) -> exp.Case:
    label = exp.Case().when(exp.EQ(this=index, expression=exp.Literal.number(-1)), exp.Literal.string("missing value"))
    for i, rule in enumerate(c.rules):
        label = label.when(exp.EQ(this=index.copy(), expression=exp.Literal.number(i)), exp.Literal.string(rule.describe()))
    return label.else_(exp.Literal.string("other value (else)"))


def _scale(pillar: Pillar) -> float:
    return pillar.weight * 100.0 / pillar.max_points if pillar.max_points else 0.0


def _value_text(field: str) -> exp.Expression:
    column = _col(field)
    if FIELDS[field][0] == "list":  # ';a;b;' -> 'a; b'
        inner = exp.Substring(this=column, start=exp.Literal.number(2),
                              length=exp.Sub(this=exp.Length(this=column), expression=exp.Literal.number(2)))
        return exp.func("replace", inner, exp.Literal.string(";"), exp.Literal.string("; "))
    return exp.cast(column, "VARCHAR")


def details_view(grid: Grid, grid_table: str = "score_grid") -> exp.Expression:
    """One row per account and criterion: value, rule matched, points, contribution (score points).

    A view over the wide `score_grid` table (points and rule index per criterion) and the features,
    so scoring 1M accounts writes 1M rows, not one per criterion.
    """
    selects = []
    for i, (pillar_name, pillar, c) in enumerate(grid.criteria()):
        points = _col(f"p{i}", "g")
        selects.append(
            exp.select(
                _col("account_id", "g"),
                exp.Literal.string(pillar_name).as_("pillar"),
                exp.Literal.string(c.name).as_("criterion"),
                exp.Literal.string(c.field).as_("field"),
                _value_text(c.field).as_("value"),
                _rule_label(c, _col(f"r{i}", "g")).as_("rule"),
                points.as_("points"),
                _num(c.max_points).as_("max_points"),
                _num(pillar.weight).as_("weight"),
                exp.cast(exp.Mul(this=points.copy(), expression=_num(_scale(pillar))), "DOUBLE").as_("contribution"),
            ).from_(exp.table_(grid_table, alias="g", quoted=True)).join(
                exp.table_(FEATURES, alias="f", quoted=True),
                on=exp.EQ(this=_col("account_id", "f"), expression=_col("account_id", "g")))
        )
    query: exp.Expression = selects[0]
    for select in selects[1:]:
        query = exp.union(query, select, distinct=False)
    return query


def _missing_list(fields: list[str]) -> exp.Expression:
    names = [exp.If(this=exp.Is(this=_col(f), expression=exp.Null()), true=exp.Literal.string(f)) for f in fields]
    return exp.func("concat_ws", exp.Literal.string(", "), *names)


def _known_count(fields: list[str]) -> exp.Expression:
    total: exp.Expression = exp.Literal.number(0)
    for f in fields:
        known = exp.If(this=exp.Is(this=_col(f), expression=exp.Null()), true=exp.Literal.number(0),
                       false=exp.Literal.number(1))
        total = exp.Add(this=total, expression=known)
    return total


def reason_expression(grid: Grid) -> exp.Expression:
    """Why the grid cannot score an account (NULL when it can): domain, required fields, too little data."""
    case = exp.Case()
    if grid.require_domain:
        case = case.when(exp.not_(exp.Is(this=_col("domain_issue"), expression=exp.Null())), _col("domain_issue"))
    required = [c.field for _, _, c in grid.criteria() if c.missing == "required"]
    if required:
        any_missing = exp.or_(*[exp.Is(this=_col(f), expression=exp.Null()) for f in dict.fromkeys(required)])
        case = case.when(any_missing, exp.DPipe(this=exp.Literal.string("missing required data: "),
                                                expression=_missing_list(list(dict.fromkeys(required)))))
    for name, pillar in grid.pillars.items():
        fields = _pillar_fields(pillar)
        if pillar.min_known_fields:
            too_few = exp.LT(this=_known_count(fields), expression=exp.Literal.number(pillar.min_known_fields))
            text = exp.DPipe(this=exp.Literal.string(f"not enough {name} data (at least {pillar.min_known_fields} of "
                                                     f"{', '.join(fields)} needed); missing: "),
                             expression=_missing_list(fields))
            case = case.when(too_few, text)
    if not case.args.get("ifs"):
        return exp.cast(exp.Null(), "VARCHAR")
    return case


def _pillar_fields(pillar: Pillar) -> list[str]:
    return list(dict.fromkeys(c.field for c in pillar.criteria))


def grid_scores_query(grid: Grid) -> exp.Select:
    """account_id, grid_score (0-100, NULL when unscored), grid_reason, then p{i} / r{i} per criterion."""
    columns: list[exp.Expression] = [_col("account_id"), exp.cast(reason_expression(grid), "VARCHAR").as_("grid_reason")]
    total: exp.Expression = _num(0)
    for i, (_, pillar, c) in enumerate(grid.criteria()):
        points, rule_index = _points_and_rule(c)
        columns += [exp.cast(points, "DOUBLE").as_(f"p{i}", quoted=True),
                    exp.cast(rule_index, "SMALLINT").as_(f"r{i}", quoted=True)]
        total = exp.Add(this=total, expression=exp.Mul(this=_col(f"p{i}", "w"), expression=_num(_scale(pillar))))
    inner = exp.select(*columns).from_(exp.table_(FEATURES, alias="f", quoted=True))
    rounded = exp.func("round", exp.cast(exp.func("least", _num(100), total), "DECIMAL(18, 6)"), exp.Literal.number(2))
    score = exp.Case().when(exp.Is(this=_col("grid_reason", "w"), expression=exp.Null()), rounded)
    rest = [_col(f"{k}{i}", "w") for i in range(len(grid.criteria())) for k in ("p", "r")]
    return exp.select(_col("account_id", "w"), exp.cast(score, "DOUBLE").as_("grid_score"), _col("grid_reason", "w"),
                      *rest).from_(inner.subquery("w"))
