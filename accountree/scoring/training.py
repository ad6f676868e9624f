"""`accountree score train`: learn who the best customers are, store the run, re-score.

Best customers (the positives) are defined in the grid's `model.best_customers`: by default the top
quarter of customers by 3-year gross margin that also won business in at least 2 of the last 3
years (retention). Everyone else with a valid domain is a negative. Deal count alone is a poor
definition: it favours accounts that convert easily but earn little; the report says how many
such accounts the definition keeps out (or lets in).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from accountree.errors import AccountreeError
from accountree.scoring.grid import Grid
from accountree.scoring.versions import add_model, current_grid

FEATURE_COLUMNS = (
    "account_id", "industry", "country", "employees", "annual_revenue", "technologies", "pricing_page_visits_30d",
    "web_visits_30d", "intent_signals_90d", "form_fills_90d", "meetings_90d", "engagement_90d", "contacts",
    "decision_makers",
)
OUTCOME_COLUMNS = ("gross_margin_3y", "revenue_3y", "won_deals_3y", "active_years_3y")
TRAINING_SQL = (
    "SELECT " + ", ".join(f"f.{c}" for c in FEATURE_COLUMNS + OUTCOME_COLUMNS) + ", g.grid_score "
    "FROM score_features f JOIN score_grid g ON g.account_id = f.account_id"
)


class NotEnoughLabelsError(AccountreeError):
    """Too few labelled accounts (or best customers) to learn a model worth trusting."""

    exit_code = 3
    http_status = 422


def label(metric: np.ndarray, active_years: np.ndarray, grid: Grid) -> tuple[np.ndarray, dict[str, Any]]:
    """1 for best customers, 0 for the rest; plus facts about the definition for the report."""
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


def train_model(ws, as_of: date | None = None, grid: Grid | None = None, grid_version: int | None = None,
                note: str | None = None, seed: int = 7) -> dict[str, Any]:
    """Build features, label, check there is enough data, evaluate on a hold-out, store and re-score."""
    try:
        import sklearn  # noqa: F401
    except ImportError as err:
        from accountree.errors import MissingDependencyError

        raise MissingDependencyError("training the fit model needs scikit-learn",
                                     hint="pip install 'accountree[scoring]'") from err
    from accountree.scoring import model as learn
    from accountree.scoring.service import build_features, build_grid_scores, score_workspace

    as_of = as_of or date.today()
    if grid is None:
        grid, grid_version = current_grid(ws)
    settings = grid.model
    with ws.engine.transaction():
        build_features(ws, as_of)
        build_grid_scores(ws, grid)
    where = " WHERE f.domain_issue IS NULL" if grid.require_domain else ""
    table = ws.engine.fetch_arrow(TRAINING_SQL + where + " ORDER BY f.account_id")
    metric_name = settings.best_customers.metric
    metric = np.nan_to_num(table.column(metric_name).to_numpy(zero_copy_only=False).astype(float))
    active = table.column("active_years_3y").to_numpy(zero_copy_only=False).astype(int)
    y, info = label(metric, active, grid)
    labelled, positives = int(len(y)), int(y.sum())
    _check_enough(labelled, positives, settings.min_labelled, settings.min_positives, info["customers"])
    if labelled > settings.max_training_rows:
        keep = np.sort(np.random.default_rng(seed).choice(labelled, settings.max_training_rows, replace=False))
        table, y = table.take(keep), y[keep]
    grid_score = table.column("grid_score").to_numpy(zero_copy_only=False).astype(float)
    features = table.drop_columns([*OUTCOME_COLUMNS, "grid_score"])
    warnings = []
    if positives < 50 or labelled < 500:
        warnings.append(f"small sample ({labelled} labelled, {positives} best customers): metrics are uncertain, "
                        "read the cross-validation spread")
    unprofitable = _unprofitable_note(table.column("won_deals_3y").to_numpy(zero_copy_only=False).astype(float),
                                      np.nan_to_num(table.column("gross_margin_3y").to_numpy(zero_copy_only=False).astype(float)),
                                      y, metric_name)
    if unprofitable:
        warnings.append(unprofitable)
    import time

    started = time.perf_counter()
    metrics = learn.evaluate(features, y, grid_score, seed)
    fitted = learn.train(features, y, seed)
    metrics["train_seconds"] = round(time.perf_counter() - started, 3)
    if metrics["auc_model"] is not None and metrics["auc_grid"] is not None and metrics["auc_model"] < metrics["auc_grid"]:
        warnings.append("the model ranks the hold-out worse than the grid: keep the grid (`accountree score use-model none`)")
    definition = {**grid.model.best_customers.model_dump(), **info, "negatives": "every other account with a valid domain"}
    version = add_model(ws, as_of=as_of, grid_version=grid_version, data_hash=learn.data_hash(table, y),
                        labelled=labelled, positives=positives, definition=definition,
                        metrics={**metrics, "warnings": warnings}, model=fitted, note=note)
    scored = score_workspace(ws, as_of, grid, grid_version)
    return {"model_version": version, "labelled": labelled, "positives": positives, "definition": definition,
            "metrics": metrics, "warnings": warnings, "scores": scored}


def _check_enough(labelled: int, positives: int, min_labelled: int, min_positives: int, customers: int) -> None:
    if labelled < min_labelled:
        raise NotEnoughLabelsError(
            f"only {labelled} labelled accounts with a valid domain; {min_labelled - labelled} more are needed "
            f"(at least {min_labelled})",
            hint="Import more accounts (with website/domain) and their won deals, or keep using the grid "
                 "(`accountree score --grid icp.yaml`).")
    if positives < min_positives:
        raise NotEnoughLabelsError(
            f"only {positives} best customers among {customers} customers; {min_positives - positives} more are needed "
            f"(at least {min_positives})",
            hint="Import 3 years of won deals with gross margin, or widen model.best_customers "
                 "(top_share, min_active_years) in the grid.")
