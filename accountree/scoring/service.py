"""Scoring a workspace: features, grid scores, model scores, grades, tiers, groups — and reading them back.

Tables written (derived, rebuilt on every run, inside one transaction):
- `score_features` — one row per account (see features.sql);
- `score_grid`     — grid score, the reason when the grid cannot score, points and rule per criterion;
- `score_details`  — a VIEW: one row per account and criterion (value, rule, points, contribution);
- `score_model`    — calibrated model score (0-100) when a model is in use;
- `scores`         — the public result: grid_score, model_score, fit_score, grade, tier, versions, reason;
- `score_groups`   — best grade and grade distribution per group head (when `hierarchy` exists).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

from sqlglot import exp

from accountree.build import build_as_of
from accountree.changes import changed
from accountree.errors import NotFoundError
from accountree.scoring.grid import GRADES, Grid
from accountree.scoring.gridsql import details_view, grid_scores_query
from accountree.scoring.versions import current_grid, current_model
from accountree.store import Workspace

FEATURES_SQL = resources.files("accountree.scoring").joinpath("features.sql").read_text(encoding="utf-8")


def replace_table(ws: Workspace, table: str, select: str | exp.Expression, params: Any = None) -> None:
    """`Engine.materialize` (kept for callers of this module)."""
    ws.engine.materialize(table, select, params=params)


def build_features(ws: Workspace, as_of: date) -> None:
    ws.engine.execute(exp.Drop(tables=[exp.table_("score_details", quoted=True)], kind="VIEW", exists=True))
    replace_table(ws, "score_features", FEATURES_SQL, {"as_of": as_of})


def build_grid_scores(ws: Workspace, grid: Grid) -> None:
    ws.engine.execute(exp.Drop(tables=[exp.table_("score_details", quoted=True)], kind="VIEW", exists=True))
    replace_table(ws, "score_grid", grid_scores_query(grid))
    ws.engine.execute(exp.Create(this=exp.table_("score_details", quoted=True), kind="VIEW", expression=details_view(grid)))


def _model_scores(ws: Workspace, grid: Grid, model_row: dict[str, Any]) -> None:
    """`score_model`: the model's score with the reason when it cannot score.

    The linear model is compiled to SQL and run by the engine (set-based); the tree model scores
    in Arrow batches (`_tree_scores`) and is joined back here."""
    from accountree.scoring.fields import from_features
    from accountree.scoring.modelsql import probability_expression

    trained_day = _day(model_row["trained_at"])
    reason = exp.Case()
    if grid.require_domain:
        issue = exp.column("domain_issue", table="f", quoted=True)
        reason = reason.when(exp.not_(exp.Is(this=issue, expression=exp.Null())), issue.copy())
    if not grid.model.score_accounts_added_after_training:
        created = exp.column("created_at", table="f", quoted=True)
        late = exp.GT(this=created, expression=exp.cast(exp.Literal.string(trained_day.isoformat()), "DATE"))
        reason = reason.when(late, exp.Literal.string(f"added after the last model training ({trained_day.isoformat()}); "
                                                      "run `accountree score train` to include it"))
    reason_sql: exp.Expression = reason if reason.args.get("ifs") else exp.Null()
    model = model_row["model"]
    inner = from_features()
    if "trees" in model:
        _tree_scores(ws, model)
        probability: exp.Expression = exp.column("probability", table="t", quoted=True)
        inner = inner.join(exp.table_("score_model_raw", alias="t", quoted=True), join_type="left",
                           on=exp.EQ(this=exp.column("account_id", table="t", quoted=True),
                                     expression=exp.column("account_id", table="f", quoted=True)))
    else:
        probability = probability_expression(model)
    score = exp.func("round", exp.cast(exp.Mul(this=exp.paren(probability), expression=exp.Literal.number(100)),
                                       "DECIMAL(18, 6)"), exp.Literal.number(2))
    inner = inner.select(exp.column("account_id", table="f", quoted=True),
                         exp.cast(reason_sql, "VARCHAR").as_("model_reason"),
                         exp.cast(score, "DOUBLE").as_("raw_score"))
    query = exp.select(
        exp.column("account_id", quoted=True),
        exp.Case().when(exp.Is(this=exp.column("model_reason", quoted=True), expression=exp.Null()),
                        exp.column("raw_score", quoted=True)).as_("model_score"),
        exp.column("model_reason", quoted=True)).from_(inner.subquery("m"))
    replace_table(ws, "score_model", query)
    if "trees" in model:
        ws.engine.execute(exp.Drop(tables=[exp.table_("score_model_raw", quoted=True)], kind="TABLE", exists=True))


TREE_BATCH_ROWS = 50_000


def model_inputs_query(model: dict[str, Any]) -> exp.Select:
    """`account_id` and every field the model reads, typed as in training."""
    from accountree.scoring.fields import field_sql, from_features
    from accountree.scoring.modelsql import field_kinds

    columns = [exp.column("account_id", table="f", quoted=True)]
    columns += [exp.alias_(field_sql(source, kind), source, quoted=True) for source, kind in field_kinds(model).items()]
    return from_features().select(*columns)


def _tree_scores(ws: Workspace, model: dict[str, Any]) -> None:
    """`score_model_raw` (account_id, probability) for the tree model: the inputs streamed in Arrow
    batches (`iter_batches`, TREE_BATCH_ROWS rows each), scored in numpy, the (id, probability)
    pairs kept (about 30 bytes an account) and inserted once the stream is read."""
    import pyarrow as pa

    from accountree.scoring.model import predict

    ids, scores = [], []
    for batch in ws.engine.iter_batches(model_inputs_query(model), batch_rows=TREE_BATCH_ROWS):
        table = pa.Table.from_batches([batch])
        ids.append(table.column("account_id").combine_chunks().cast(pa.string()))
        scores.append(pa.array(predict(model, table), pa.float64()))
    replace_table(ws, "score_model_raw", "SELECT CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS DOUBLE) AS probability "
                                         "WHERE 1 = 0")
    if ids:
        ws.engine.insert_arrow("score_model_raw", pa.table({"account_id": pa.concat_arrays(ids),
                                                            "probability": pa.concat_arrays(scores)}))


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _cutoffs(ws: Workspace, grid: Grid, column: str) -> list[float]:
    """Score cut-offs of grades A..E for the quantile method (shares of the scored accounts)."""
    shares = grid.grades.shares
    cum, qs = 0.0, []
    for g in GRADES[:5]:
        cum += shares[g]
        qs.append(max(0.0, min(1.0, 1.0 - cum)))
    col = exp.column(column, quoted=True)
    query = exp.select(*[exp.PercentileCont(this=col, expression=exp.Literal.number(q)) for q in qs]).from_(
        exp.table_("score_model", quoted=True)).where(exp.not_(exp.Is(this=col, expression=exp.Null())))
    row = ws.engine.fetchone(query)
    return [float(v) if v is not None else 0.0 for v in (row or [None] * 5)]


def _grade_case(score: exp.Expression, cuts: list[float]) -> exp.Expression:
    case = exp.Case()
    for grade, cut in zip(GRADES[:5], cuts, strict=True):
        case = case.when(exp.GTE(this=score, expression=exp.Literal.number(repr(float(cut)))), exp.Literal.string(grade))
    return case.else_(exp.Literal.string("F"))


def _scores_query(ws: Workspace, grid: Grid, grid_version: int | None, model_version: int | None) -> exp.Select:
    g, m = "g", "m"
    grid_score = exp.column("grid_score", table=g, quoted=True)
    model_score = exp.column("model_score", table=m, quoted=True) if model_version else exp.cast(exp.Null(), "DOUBLE")
    use_model = model_version is not None and grid.grades.based_on in ("auto", "model")
    graded_on = exp.Case()
    if use_model:
        graded_on = graded_on.when(exp.not_(exp.Is(this=model_score, expression=exp.Null())), exp.Literal.string("model"))
    if grid.grades.based_on != "model" or not use_model:
        graded_on = graded_on.when(exp.not_(exp.Is(this=grid_score, expression=exp.Null())), exp.Literal.string("grid"))
    method = grid.grades.method
    grid_cuts = [grid.grades.thresholds[x] for x in GRADES[:5]]
    if method == "quantiles":
        grid_cuts = _grid_quantiles(ws, grid)
    grade = exp.Case()
    if use_model:
        model_cuts = grid_cuts if method == "thresholds" else _cutoffs(ws, grid, "model_score")
        grade = grade.when(exp.not_(exp.Is(this=model_score, expression=exp.Null())), _grade_case(model_score, model_cuts))
    if grid.grades.based_on != "model" or not use_model:
        grade = grade.when(exp.not_(exp.Is(this=grid_score, expression=exp.Null())), _grade_case(grid_score, grid_cuts))
    fit = exp.func("coalesce", model_score, grid_score) if use_model else grid_score
    if grid.grades.based_on == "model" and use_model:
        fit = model_score
    tier = exp.Case()
    for name, grades in grid.tiers.items():
        tier = tier.when(exp.In(this=exp.column("grade", quoted=True), expressions=[exp.Literal.string(x) for x in grades]),
                         exp.Literal.string(name.replace("_", " ").capitalize()))
    reason = exp.Case().when(exp.not_(exp.Is(this=exp.column("grid_reason", table=g, quoted=True), expression=exp.Null())),
                             exp.column("grid_reason", table=g, quoted=True))
    if model_version:
        model_reason = exp.column("model_reason", table=m, quoted=True)
        reason = reason.when(exp.not_(exp.Is(this=model_reason, expression=exp.Null())),
                             exp.DPipe(this=exp.Literal.string("no model score: "), expression=model_reason))
    reason = reason.else_(exp.Literal.string(""))
    inner = exp.select(
        exp.column("account_id", table=g, quoted=True), grid_score.as_("grid_score"),
        exp.cast(model_score, "DOUBLE").as_("model_score"), exp.cast(fit, "DOUBLE").as_("fit_score"),
        graded_on.as_("graded_on"), grade.as_("grade"),
        exp.cast(exp.Literal.number(model_version) if model_version else exp.Null(), "INTEGER").as_("model_version"),
        exp.cast(exp.Literal.number(grid_version) if grid_version else exp.Null(), "INTEGER").as_("grid_version"),
        reason.as_("unscored_reason"),
    ).from_(exp.table_("score_grid", alias=g, quoted=True))
    if model_version:
        inner = inner.join(exp.table_("score_model", alias=m, quoted=True), join_type="LEFT",
                           on=exp.EQ(this=exp.column("account_id", table=m, quoted=True),
                                     expression=exp.column("account_id", table=g, quoted=True)))
    # when the scores were computed: the statement's one parameter (`scored_now`), never pasted in
    now = exp.cast(exp.Placeholder(), "TIMESTAMP")
    return exp.select(exp.Star(), tier.as_("tier"), now.as_("scored_at")).from_(inner.subquery("s"))


def scored_now() -> datetime:
    """The `scored_at` of scores computed now (UTC, to the second): `_scores_query`'s parameter."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _grid_quantiles(ws: Workspace, grid: Grid) -> list[float]:
    shares, cum, qs = grid.grades.shares, 0.0, []
    for g in GRADES[:5]:
        cum += shares[g]
        qs.append(max(0.0, min(1.0, 1.0 - cum)))
    col = exp.column("grid_score", quoted=True)
    row = ws.engine.fetchone(exp.select(*[exp.PercentileCont(this=col, expression=exp.Literal.number(q)) for q in qs])
                             .from_(exp.table_("score_grid", quoted=True)))
    return [float(v) if v is not None else 0.0 for v in (row or [None] * 5)]


def _build_groups(ws: Workspace) -> int | None:
    if not ws.engine.table_exists("hierarchy") or "group_head_id" not in ws.engine.table_columns("hierarchy"):
        ws.engine.execute("DROP TABLE IF EXISTS score_groups")
        return None
    counts = ", ".join(f"count(*) FILTER (WHERE s.grade = '{g}') AS grade_{g.lower()}" for g in GRADES)
    replace_table(ws, "score_groups", (
        "SELECT h.group_head_id, count(*) AS entities, count(s.grade) AS scored, min(s.grade) AS best_grade, "  # noqa: S608 - grade letters are constants
        f"max(s.fit_score) AS best_fit_score, {counts}, count(*) - count(s.grade) AS unscored "
        "FROM hierarchy h JOIN scores s ON s.account_id = h.account_id "
        "WHERE h.group_head_id IS NOT NULL GROUP BY h.group_head_id"))
    return int(ws.engine.scalar("SELECT count(*) FROM score_groups"))


def score_workspace(ws: Workspace, as_of: date | None = None, grid: Grid | None = None,
                    grid_version: int | None = None, regrade: bool = True) -> dict[str, Any]:
    """Rebuild every score table with the given (or saved/default) grid and the current model.

    `regrade` (outside a build): the KPIs' cross-sell targets, whose score counts the entity's ICP
    grade, are recomputed with the new grades (the `grades` change's reaction, `accountree.kpi.reactions`), in
    the same transaction. A build scores before its KPIs and passes False."""
    as_of = build_as_of(ws, as_of)  # the build's date: scores grade at the KPIs' and KAM's
    if grid is None:
        grid, grid_version = current_grid(ws)
    model_row = current_model(ws)
    model_version = model_row["version"] if model_row else None
    with ws.engine.transaction():
        build_features(ws, as_of)
        build_grid_scores(ws, grid)
        if model_row:
            _model_scores(ws, grid, model_row)
        replace_table(ws, "scores", _scores_query(ws, grid, grid_version, model_version), [scored_now()])
        groups = _build_groups(ws)
        # new grades announced: the KPIs' cross-sell targets react (`accountree.changes`)
        regraded = changed(ws, [], what="grades", by="scores").get("cross_sell") if regrade else None
    summary = ws.engine.fetchone(
        "SELECT count(*), count(grade), count(*) FILTER (WHERE unscored_reason <> ''), avg(grid_score) FROM scores")
    assert summary is not None
    out = {"accounts": summary[0], "graded": summary[1], "with_reason": summary[2],
           "mean_grid_score": round(summary[3], 2) if summary[3] is not None else None,
           "grid_version": grid_version, "model_version": model_version}
    if groups is not None:
        out["groups"] = groups
    if regraded is not None:
        out["cross_sell_regraded"] = regraded
    return out


# -- reading back (CLI, API, dashboard) -----------------------------------------------------
def _need_scores(ws: Workspace) -> None:
    if not ws.engine.table_exists("scores"):
        raise NotFoundError("no scores in this workspace yet", hint="Run `accountree score` or `accountree build`.")


def explain(ws: Workspace, account_id: str, top: int = 3) -> dict[str, Any]:
    """Why an account has its score: every grid criterion's contribution and the model's top reasons."""
    _need_scores(ws)
    rows = ws.engine.fetch_dicts("SELECT * FROM scores WHERE account_id = ?", [account_id])
    if not rows:
        raise NotFoundError(f"no account {account_id!r} in the scores", hint="Check the id, or re-run `accountree score`.")
    out: dict[str, Any] = dict(rows[0])
    out["criteria"] = ws.engine.fetch_dicts(
        "SELECT pillar, criterion, field, value, rule, points, max_points, weight, CAST(round(CAST(contribution AS DECIMAL(18, 6)), 2) AS DOUBLE) AS contribution "
        "FROM score_details WHERE account_id = ? ORDER BY pillar, criterion", [account_id])
    model_row = current_model(ws)
    if model_row and out.get("model_score") is not None:
        from accountree.scoring.model import explain_row

        query = model_inputs_query(model_row["model"]).where(
            exp.EQ(this=exp.column("account_id", table="f", quoted=True), expression=exp.Placeholder()))
        features = ws.engine.fetch_arrow(query, [account_id])
        out["model"] = {"version": model_row["version"], "trained_at": model_row["trained_at"],
                        **explain_row(model_row["model"], features, top)}
    return out


def grade_distribution(ws: Workspace) -> list[dict[str, Any]]:
    _need_scores(ws)
    return ws.engine.fetch_dicts(
        "SELECT coalesce(grade, '-') AS grade, coalesce(tier, 'unscored') AS tier, count(*) AS accounts, "
        "CAST(round(CAST(avg(fit_score) AS DECIMAL(18, 6)), 2) AS DOUBLE) AS mean_fit_score FROM scores GROUP BY 1, 2 ORDER BY 1")


def unscored(ws: Workspace, limit: int = 1000) -> dict[str, Any]:
    """Accounts with a reason, grouped by reason kind, with examples."""
    _need_scores(ws)
    rows = ws.engine.fetch_dicts(
        "SELECT account_id, grade, unscored_reason FROM scores WHERE unscored_reason <> '' "
        "ORDER BY account_id LIMIT ?", [limit])
    kinds = ws.engine.fetch_dicts(
        "SELECT CASE WHEN unscored_reason LIKE 'no model score%' THEN 'no model score' "
        "WHEN unscored_reason LIKE 'not enough%' THEN split_part(unscored_reason, ' (', 1) "
        "WHEN unscored_reason LIKE 'missing required%' THEN 'missing required data' "
        "ELSE 'no valid website/domain' END AS reason, count(*) AS accounts "
        "FROM scores WHERE unscored_reason <> '' GROUP BY 1 ORDER BY 2 DESC")
    return {"by_reason": kinds, "accounts": rows}


def groups(ws: Workspace, limit: int = 100) -> list[dict[str, Any]] | None:
    if not ws.engine.table_exists("score_groups"):
        return None
    return ws.engine.fetch_dicts("SELECT * FROM score_groups ORDER BY best_grade, best_fit_score DESC LIMIT ?", [limit])
