"""`accountree score train`: learn who converts (or who the best customers are), evaluate honestly, store, re-score.

1. Label every account with the chosen target (`target.py`: `won`, `best` or a rule). An account
   without a domain is still a training example; the minimums are counts of positives and negatives.
2. Read every field the user has (`fields.py`): standard columns, extra account columns, attribute
   keys; type them; drop the ones the user excluded, the target rule's own fields, and the leaks
   (fields filled almost only for one class, or predicting the outcome almost alone).
3. Hold-out: time-based by default when `created_at` allows it (train on the earlier 75 % of the
   accounts, test on the later 25 %), else stratified random. On it: the calibrated logistic
   regression and the gradient-boosted trees, the grid, and the best one-field baseline.
4. The learner with the best hold-out AUC is refitted on every labelled account and stored — and
   made current only if it beats the grid and the one-field baseline; otherwise the run is stored
   as `rejected` and the previous model stays in use.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from accountree.build import build_as_of
from accountree.errors import AccountreeError
from accountree.scoring.grid import Grid
from accountree.scoring.target import OUTCOME_COLUMNS, Target, parse_target
from accountree.scoring.versions import add_model, current_grid

TEST_SHARE = 0.25
HORIZON_QUANTILE = 0.8


class NotEnoughLabelsError(AccountreeError):
    """Too few positives or negatives to learn a model worth trusting."""

    exit_code = 3
    http_status = 422


def label(metric: np.ndarray, active_years: np.ndarray, grid: Grid) -> tuple[np.ndarray, dict[str, Any]]:
    """Best customers: 1 for the top share of customers by metric that are retained, 0 for the rest."""
    rule = grid.model.best_customers
    customers = metric > 0
    info: dict[str, Any] = {"customers": int(customers.sum())}
    if not customers.any():
        return np.zeros(len(metric), dtype=np.int8), {**info, "threshold": None}
    threshold = float(np.quantile(metric[customers], 1.0 - rule.top_share))
    y = (customers & (metric >= threshold) & (active_years >= rule.min_active_years)).astype(np.int8)
    info["threshold"] = round(threshold, 2)
    return y, info


def _unprofitable_note(won: np.ndarray, margin: np.ndarray, y: np.ndarray, metric: str) -> str | None:
    customers = won > 0
    if customers.sum() < 10:
        return None
    busy = customers & (won >= np.quantile(won[customers], 0.75))
    thin = margin <= np.median(margin[customers])
    easy = busy & thin
    if metric == "won_deals_3y":
        kept = int((easy & (y == 1)).sum())
        return (f"{kept} best customers win many deals but earn a below-median gross margin: deal count favours "
                "easy-to-convert, unprofitable accounts — consider metric: gross_margin_3y") if kept else None
    left = int((easy & (y == 0)).sum())
    return (f"{left} accounts win many deals but earn a below-median gross margin; they are not counted as best "
            "customers") if left else None


def _numbers(table: pa.Table, name: str) -> np.ndarray:
    return np.nan_to_num(pc.cast(table.column(name), pa.float64()).to_numpy(zero_copy_only=False))


def _days(table: pa.Table, name: str) -> np.ndarray:
    """Days since 1970 (NaN when empty) of a DATE column."""
    col = pc.cast(table.column(name), pa.date32())
    return pc.cast(col, pa.int32()).to_numpy(zero_copy_only=False).astype(float)


def make_labels(target: Target, table: pa.Table, grid: Grid, as_of: date) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(y, labelled mask, facts about the definition) for the fetched accounts."""
    from accountree.scoring import target as targets

    n = table.num_rows
    keep = np.ones(n, dtype=bool)
    created = _days(table, "created_at")
    today = float((as_of - date(1970, 1, 1)).days)
    keep &= ~(created > today)  # created after --as-of: not in the data yet
    if target.kind == "best":
        metric_name = grid.model.best_customers.metric
        y, info = label(_numbers(table, metric_name), _numbers(table, "active_years_3y").astype(int), grid)
        info = {**grid.model.best_customers.model_dump(), **info, "positives": "best customers",
                "negatives": "every other account", "customers": int((_numbers(table, "won_deals_3y") > 0).sum())}
        if info["customers"] and not (_numbers(table, metric_name) > 0).any():
            info["problem"] = f"no won deal of the last 3 years has a {metric_name.removesuffix('_3y').replace('_', ' ')}"
    elif target.kind == "won":
        first_won = _days(table, "__first_won")
        y = (~np.isnan(first_won)).astype(np.int8)
        info = {"positives": "accounts with a won deal closed by --as-of",
                "negatives": "accounts without one, created long enough ago to have converted", "customers": int(y.sum())}
        took = first_won - created
        took = took[(y == 1) & ~np.isnan(took) & (took >= 0)]
        if len(took) >= 20:
            horizon = int(min(365, max(0, np.quantile(took, HORIZON_QUANTILE))))
            recent = (y == 0) & (created > today - horizon)
            keep &= ~recent
            info.update(horizon_days=horizon, too_recent=int(recent.sum()))
    else:
        y = targets.evaluate(target, table)
        info = {"positives": f"accounts where {target.rule}", "negatives": "every other account",
                "customers": int((_numbers(table, "won_deals_3y") > 0).sum())}
    return y, keep, info


def _check_enough(target: Target, positives: int, negatives: int, settings: Any, info: dict[str, Any]) -> None:
    customers = info.get("customers", 0)
    labelled = positives + negatives
    what = {"won": "accounts that became customers", "best": "best customers"}.get(target.kind, f"accounts where {target.rule}")
    if labelled < settings.min_labelled:
        raise NotEnoughLabelsError(
            f"only {labelled} labelled accounts ({positives} positives, {negatives} negatives); "
            f"{settings.min_labelled - labelled} more are needed (at least {settings.min_labelled})",
            hint="Import more accounts with their outcome (won deals, or the field your --target rule reads), "
                 "or keep using the grid (`accountree score --grid icp.yaml`).")
    if positives < settings.min_positives:
        among = f" among {customers} customers" if target.kind == "best" else ""
        hint = ("Import 3 years of won deals with gross margin, or widen model.best_customers (top_share, "
                "min_active_years) in the grid — or learn conversion fit instead: `accountree score train --target won`."
                if target.kind == "best" else "Import the won deals (or the outcome field), or choose another --target.")
        problem = f" ({info['problem']})" if info.get("problem") else ""
        raise NotEnoughLabelsError(
            f"only {positives} {what}{among}{problem}; {settings.min_positives - positives} more are needed "
            f"(at least {settings.min_positives})", hint=hint)
    if negatives < settings.min_negatives:
        raise NotEnoughLabelsError(
            f"only {negatives} accounts that are not {what}; {settings.min_negatives - negatives} more are needed "
            f"(at least {settings.min_negatives})",
            hint="A model needs accounts that did not convert too: import the lost and open ones.")


def _split(table: pa.Table, y: np.ndarray, mode: str, seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Train / test row indices: by created_at (earlier → train, later → test) when dates allow, else random."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    created = _days(table, "created_at")
    dated = ~np.isnan(created)
    why = None
    if mode in ("auto", "time"):
        if dated.mean() < 0.8 or len(np.unique(created[dated])) < 10:
            why = f"only {dated.mean():.0%} of the accounts have a created_at date" if dated.mean() < 0.8 else \
                "created_at has fewer than 10 distinct dates"
        else:
            order = np.lexsort((idx, np.where(dated, created, -np.inf)))
            cut = int(round(len(y) * (1 - TEST_SHARE)))
            train_idx, test_idx = np.sort(order[:cut]), np.sort(order[cut:])
            yt = y[test_idx]
            if yt.sum() >= 5 and (len(yt) - yt.sum()) >= 5 and y[train_idx].sum() >= 5:
                boundary = date.fromordinal(date(1970, 1, 1).toordinal() + int(created[order[cut]]))
                return train_idx, test_idx, {"split": "time", "test_from": boundary.isoformat(),
                                             "note": f"trained on accounts created before {boundary}, tested on the later ones"}
            why = "the later accounts hold fewer than 5 positives or negatives"
        if mode == "time":
            raise NotEnoughLabelsError(f"no time-based hold-out possible: {why}",
                                       hint="Import created_at for the accounts, or use --split random.")
    train_idx, test_idx = train_test_split(idx, test_size=TEST_SHARE, stratify=y, random_state=seed)
    note = "stratified random hold-out" + (f" ({why})" if why else "")
    return np.sort(train_idx), np.sort(test_idx), {"split": "random", "note": note}


def _fetch(ws, fields_: list[Any], kinds: dict[str, str] | None, as_of: date) -> pa.Table:
    from accountree.scoring import fields

    first_won = exp.select(exp.column("account_id"), exp.Min(this=exp.column("close_date")).as_("first_won")).from_(
        "deals").where(exp.and_(exp.EQ(this=exp.column("stage"), expression=exp.Literal.string("won")),
                                exp.LTE(this=exp.column("close_date"), expression=exp.cast(exp.Placeholder(), "DATE")))
                       ).group_by(exp.column("account_id"))
    f = lambda c: exp.column(c, table="f", quoted=True)  # noqa: E731
    query = fields.from_features().select(
        f("account_id"), f("created_at"), exp.column("grid_score", table="g", quoted=True),
        *[f(c) for c in OUTCOME_COLUMNS], exp.column("first_won", table="w", quoted=True).as_("__first_won", quoted=True),
        *fields.select_fields(fields_, kinds),
    ).join(exp.table_("score_grid", alias="g", quoted=True),
           on=exp.EQ(this=exp.column("account_id", table="g", quoted=True), expression=f("account_id"))
           ).join(first_won.subquery("w"), join_type="left",
                  on=exp.EQ(this=exp.column("account_id", table="w"), expression=f("account_id"))
                  ).order_by(f("account_id"))
    return ws.engine.fetch_arrow(query, [as_of])


def train_model(ws, as_of: date | None = None, grid: Grid | None = None, grid_version: int | None = None,
                note: str | None = None, seed: int = 7, target: str | None = None, exclude: tuple[str, ...] = (),
                include: tuple[str, ...] = (), split: str = "auto", learners: tuple[str, ...] = ("linear", "trees"),
                ) -> dict[str, Any]:
    """Label, read every field, guard against leaks, evaluate on a hold-out, store, and re-score if kept.

    scikit-learn runs single-threaded here (threadpoolctl): its OpenMP threads on a shared, busy machine
    made the gradient boosting 50 times slower (134 s instead of 2.5 s on the demo)."""
    try:
        import sklearn  # noqa: F401
        from threadpoolctl import threadpool_limits
    except ImportError as err:
        from accountree.errors import MissingDependencyError

        raise MissingDependencyError("training the fit model needs scikit-learn",
                                     hint="pip install 'accountree[scoring]'") from err
    with threadpool_limits(limits=1):
        return _train(ws, as_of, grid, grid_version, note, seed, target, exclude, include, split, learners)


def _train(ws, as_of, grid, grid_version, note, seed, target, exclude, include, split, learners) -> dict[str, Any]:
    from accountree.scoring import fields
    from accountree.scoring import model as learn
    from accountree.scoring.service import build_features, build_grid_scores, score_workspace
    from accountree.scoring.versions import current_model_version

    as_of = build_as_of(ws, as_of)
    if grid is None:
        grid, grid_version = current_grid(ws)
    settings = grid.model
    chosen_target = parse_target(target, settings.target)
    with ws.engine.transaction():
        build_features(ws, as_of)
        build_grid_scores(ws, grid)
    candidates = fields.discover(ws)
    table = _fetch(ws, candidates, None, as_of)
    if chosen_target.kind == "rule":
        from accountree.scoring.target import resolve

        chosen_target.fields = {resolve(name, table) for name in chosen_target.fields}
    y, keep, info = make_labels(chosen_target, table, grid, as_of)
    positives, negatives = int(y[keep].sum()), int((keep & (y == 0)).sum())
    _check_enough(chosen_target, positives, negatives, settings, info)
    rows = np.flatnonzero(keep)
    if len(rows) > settings.max_training_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows, settings.max_training_rows, replace=False))
    table, y = table.take(rows), y[rows]
    labelled = len(y)

    # fields: typing, user exclusions, the target's own fields, then leakage on the training rows
    fields.infer(table, candidates)
    wanted_out = {e.lower() for e in exclude}
    forced_in = {i.lower() for i in include}
    excluded: list[dict[str, str]] = []
    usable = []
    for f in candidates:
        name = fields.label_of(f.source)
        if name.lower() in wanted_out:
            excluded.append({"field": name, "reason": "excluded with --exclude"})
        elif f.source in chosen_target.fields:
            excluded.append({"field": name, "reason": "defines the target"})
        elif f.note and f.origin != "standard":
            excluded.append({"field": name, "reason": f.note})
        elif not f.note:
            usable.append(f)
    kinds = {f.source: f.kind for f in usable}
    typed = _fetch(ws, usable, kinds, as_of).take(pa.array(rows))
    started = time.perf_counter()
    train_idx, test_idx, split_info = _split(typed, y, split, seed)
    train_t, test_t, ytr, yte = typed.take(train_idx), typed.take(test_idx), y[train_idx], y[test_idx]
    spec = learn.encoding(train_t, usable)
    xtr = learn.fit_design(train_t, spec, ytr, seed)
    single = learn.single_field_auc(xtr, ytr, spec, seed)
    leaks = [leak for leak in fields.leaks(train_t, usable, ytr, single, settings.leak_auc, settings.leak_fill_gap)
             if fields.label_of(leak.field).lower() not in forced_in]
    leaked = {leak.field for leak in leaks}
    excluded += [{"field": fields.label_of(leak.field), "reason": leak.reason} for leak in leaks]
    usable = [f for f in usable if f.source not in leaked]
    cols = [j for j, f in enumerate(spec) if f["source"] not in leaked]
    spec, xtr = [spec[j] for j in cols], xtr[:, cols]
    if not spec:
        raise NotEnoughLabelsError("no usable field left to learn from", hint="Import firmographic data or custom fields, "
                                   "or review the excluded fields (`--include FIELD`).")
    xte = learn.design_matrix(test_t, spec)

    # hold-out: each learner, the grid, the best one-field baseline
    top_share = grid.grades.shares["A"]
    results: dict[str, dict[str, Any]] = {}
    for learner in learners:
        fitted = learn.fit(xtr, ytr, learner, seed, calibrate=False)
        raw = learn.raw_score({**fitted, "features": spec}, xte)
        results[learner] = {"model": {**fitted, "features": spec}, "auc": learn.roc_auc(yte, raw),
                            "precision": learn.precision_at_top(yte, raw, top_share)}
    grid_test = pc.cast(test_t.column("grid_score"), pa.float64()).to_numpy(zero_copy_only=False)
    groups: dict[str, list[int]] = {}
    for j, f in enumerate(spec):
        groups.setdefault(f["source"], []).append(j)
    best_field = max((s for s in single if s in groups), key=lambda s: single[s], default=None)
    baseline_auc = baseline_precision = None
    if best_field is not None:
        one = learn.one_field_model(xtr, ytr, groups[best_field])
        base_raw = learn.raw_score(one, xte)
        baseline_auc, baseline_precision = learn.roc_auc(yte, base_raw), learn.precision_at_top(yte, base_raw, top_share)
    chosen = max(results, key=lambda k: (results[k]["auc"] or 0.0, k == "linear"))
    best = results[chosen]
    auc_grid = learn.roc_auc(yte, grid_test)
    importance = learn.permutation_importance(best["model"], xte, yte, seed)

    # final fit on every labelled account, calibrated
    final_spec = learn.encoding(typed, usable)
    x_all = learn.fit_design(typed, final_spec, y, seed)
    fitted = learn.fit(x_all, y, chosen, seed)
    model = {"format": 2, "fields": {f.source: f.kind for f in usable if any(s["source"] == f.source for s in final_spec)},
             "features": final_spec, **fitted, "base_rate": float(y.mean()), "importance": importance[:20]}
    from accountree.scoring.drift import profile

    model["drift_profile"] = profile(typed, model)
    # Brier on the hold-out: the hold-out model's raw scores through the final model's calibration
    p_test = learn.calibrate(fitted, learn.raw_score(best["model"], xte))
    cv = np.array(fitted["cv_auc"])
    metrics = {
        "target": chosen_target.name, **split_info, "holdout_rows": int(len(test_idx)),
        "holdout_positives": int(yte.sum()), "base_rate": round(float(y.mean()), 4), "learner": chosen,
        "auc_model": _r(best["auc"]), "auc_grid": _r(auc_grid), "auc_baseline": _r(baseline_auc),
        "baseline_field": fields.label_of(best_field) if best_field else None,
        "auc_by_learner": {k: _r(v["auc"]) for k, v in results.items()},
        "top_grade_share": top_share,
        "precision_top_grade_model": round(best["precision"], 4),
        "precision_top_grade_grid": round(learn.precision_at_top(yte, grid_test, top_share), 4),
        "precision_top_grade_baseline": _r(baseline_precision),
        "precision_top_decile_model": round(best["precision"], 4) if top_share == 0.1 else None,
        "precision_top_decile_grid": round(learn.precision_at_top(yte, grid_test, 0.1), 4),
        "cv_auc_mean": round(float(cv.mean()), 4), "cv_auc_std": round(float(cv.std()), 4), "cv_folds": len(cv),
        "brier": round(float(np.mean((p_test - yte) ** 2)), 4),
        "fields_used": len(model["fields"]), "excluded": excluded, "importance": importance[:10],
        "train_seconds": round(time.perf_counter() - started, 3),
    }
    warnings = []
    if positives < 50 or labelled < 500:
        warnings.append(f"small sample ({labelled} labelled, {positives} positives): metrics are uncertain, "
                        "read the cross-validation spread")
    if chosen_target.kind == "best":
        note_ = _unprofitable_note(_numbers(typed, "won_deals_3y"), _numbers(typed, "gross_margin_3y"), y,
                                   settings.best_customers.metric)
        if note_:
            warnings.append(note_)
    if grid.require_domain:
        no_domain = int(ws.engine.scalar("SELECT count(*) FROM score_features WHERE domain_issue IS NOT NULL"))
        total = int(ws.engine.scalar("SELECT count(*) FROM score_features"))
        if total and no_domain > total / 2:
            warnings.append(f"{no_domain:,} of {total:,} accounts have no valid website/domain: they trained the model, "
                            "but the grid's `require_domain: true` leaves them unscored — set `require_domain: false` "
                            "in your grid (`accountree score --grid icp.yaml`) to score them")
    beaten = [name for name, auc in (("the grid", auc_grid), (f"the one-field baseline ({metrics['baseline_field']})",
                                                               baseline_auc)) if auc is not None and (best["auc"] or 0) <= auc]
    kept = not beaten
    previous = current_model_version(ws)
    if not kept:
        warnings.append(f"the model (hold-out AUC {metrics['auc_model']}) does not beat {' nor '.join(beaten)}: it is stored "
                        f"as rejected and {'model v' + str(previous) if previous else 'the grid'} stays in use")
    definition = {"target": chosen_target.name, **info, "labelled": labelled, "positives_count": positives}
    version = add_model(ws, as_of=as_of, grid_version=grid_version, data_hash=learn.data_hash(typed, y),
                        labelled=labelled, positives=int(y.sum()), definition=definition,
                        metrics={**metrics, "warnings": warnings}, model=model, note=note, target=chosen_target.name,
                        status="kept" if kept else "rejected", make_current=kept)
    scored = score_workspace(ws, as_of, grid, grid_version) if kept else None
    return {"model_version": version, "kept": kept, "current_model": version if kept else previous,
            "target": chosen_target.name, "labelled": labelled, "positives": int(y.sum()), "definition": definition,
            "metrics": metrics, "warnings": warnings, "excluded": excluded, "scores": scored}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
