"""The learned fit model: feature encoding, training, calibrated scores and per-account reasons.

A model is a plain, JSON-serialisable dict (no pickle): the feature encoding learned from the
training data (log-scaled numbers with their mean/std, employee bands, frequent industries,
countries and technologies as 0/1 columns), the coefficients of an L2 logistic regression
(scikit-learn) and a Platt calibration fitted on out-of-fold scores. Its score is a calibrated
probability of being a best customer; each feature's contribution to the log-odds is
`slope × coef × standardised value`, which gives the top positive / negative reasons.
Inference works column by column on Arrow data, so 1M accounts never build a dense matrix.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LOG_NUMERIC = ["employees", "annual_revenue", "pricing_page_visits_30d", "web_visits_30d", "intent_signals_90d",
               "form_fills_90d", "meetings_90d", "engagement_90d", "contacts", "decision_makers"]
EMPLOYEE_BANDS = [(1, 9), (10, 49), (50, 199), (200, 999), (1000, 4999), (5000, None)]
CATEGORICAL = {"industry": 30, "country": 30}
TECH_TOP = 40
MIN_COUNT = 5


def _text(table: pa.Table, name: str) -> list[str | None]:
    return [None if v is None else str(v).strip().lower() for v in table.column(name).to_pylist()]


def _encoding(table: pa.Table) -> list[dict[str, Any]]:
    """Which columns to build, learned from the training rows."""
    spec: list[dict[str, Any]] = []
    for name in LOG_NUMERIC:
        spec.append({"kind": "log", "source": name, "label": f"{name.replace('_', ' ')} (log)"})
        if name in ("employees", "annual_revenue"):
            spec.append({"kind": "missing", "source": name, "label": f"{name.replace('_', ' ')} unknown"})
    for lo, hi in EMPLOYEE_BANDS:
        label = f"employees {lo}–{hi}" if hi else f"employees ≥ {lo}"
        spec.append({"kind": "band", "source": "employees", "lo": lo, "hi": hi, "label": label})
    for name, top in CATEGORICAL.items():
        counts = Counter(v for v in _text(table, name) if v)
        for value, n in counts.most_common(top):
            if n >= MIN_COUNT:
                spec.append({"kind": "equals", "source": name, "value": value, "label": f"{name} = {value}"})
    tokens: Counter[str] = Counter()
    for v in table.column("technologies").to_pylist():
        if v:
            tokens.update(t for t in set(v.strip(";").split(";")) if t)
    for token, n in tokens.most_common(TECH_TOP):
        if n >= MIN_COUNT:
            spec.append({"kind": "uses", "source": "technologies", "value": token, "label": f"uses {token}"})
    return spec


def _column(table: pa.Table, f: dict[str, Any]) -> np.ndarray:
    """The raw (unstandardised) values of one encoded column, float64."""
    col = table.column(f["source"])
    kind = f["kind"]
    if kind == "log":
        values = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        values = np.where(np.isnan(values), np.nan, np.log1p(np.clip(values, 0, None)))
        return values  # NaN filled with the training mean by the caller
    if kind == "missing":
        return pc.is_null(col).to_numpy(zero_copy_only=False).astype(np.float64)
    if kind == "band":
        values = pc.cast(col, pa.float64()).fill_null(-1).to_numpy(zero_copy_only=False)
        inside = values >= f["lo"]
        if f["hi"] is not None:
            inside &= values <= f["hi"]
        return inside.astype(np.float64)
    if kind == "equals":
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(col, pa.string())))
        return pc.fill_null(pc.equal(lowered, f["value"]), False).to_numpy(zero_copy_only=False).astype(np.float64)
    if kind == "uses":
        found = pc.match_substring(pc.cast(col, pa.string()), f";{f['value']};")
        return pc.fill_null(found, False).to_numpy(zero_copy_only=False).astype(np.float64)
    raise ValueError(f"unknown feature kind {kind}")


def _standardised(table: pa.Table, f: dict[str, Any]) -> np.ndarray:
    raw = _column(table, f)
    raw = np.where(np.isnan(raw), f["fill"], raw)
    return (raw - f["mean"]) / f["std"]


def design_matrix(table: pa.Table, spec: list[dict[str, Any]], fit: bool = False) -> np.ndarray:
    """Standardised feature matrix; with fit=True, learn each column's fill, mean and std first."""
    out = np.empty((table.num_rows, len(spec)), dtype=np.float64)
    for j, f in enumerate(spec):
        if fit:
            raw = _column(table, f)
            fill = float(np.nanmean(raw)) if np.isfinite(raw).any() else 0.0
            raw = np.where(np.isnan(raw), fill, raw)
            f["fill"], f["mean"], f["std"] = fill, float(raw.mean()), float(raw.std() or 1.0)
        out[:, j] = _standardised(table, f)
    return out


def _fit_linear(x: np.ndarray, y: np.ndarray, folds: int, seed: int) -> tuple[Any, float, float, list[float]]:
    """L2 logistic regression, Platt calibration on out-of-fold decision values, and each fold's AUC."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    oof = np.zeros(len(y))
    fold_auc = []
    for fit_idx, val_idx in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y):
        fold = LogisticRegression(C=0.5, max_iter=2000).fit(x[fit_idx], y[fit_idx])
        oof[val_idx] = fold.decision_function(x[val_idx])
        fold_auc.append(float(roc_auc_score(y[val_idx], oof[val_idx])))
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(oof.reshape(-1, 1), y)
    base = LogisticRegression(C=0.5, max_iter=2000).fit(x, y)
    return base, float(platt.coef_[0, 0]), float(platt.intercept_[0]), fold_auc


def train(table: pa.Table, y: np.ndarray, seed: int = 7) -> dict[str, Any]:
    """Fit the encoding, the regression and the calibration on all rows of `table`."""
    spec = _encoding(table)
    x = design_matrix(table, spec, fit=True)
    folds = max(2, int(min(5, y.sum(), len(y) - y.sum())))
    base, slope, offset, fold_auc = _fit_linear(x, y, folds, seed)
    return {
        "kind": "logistic_regression+platt",
        "features": spec,
        "coef": [float(c) for c in base.coef_[0]],
        "intercept": float(base.intercept_[0]),
        "calibration": {"slope": slope, "offset": offset},
        "base_rate": float(y.mean()),
        "cv_auc": [round(a, 4) for a in fold_auc],
    }


def predict(model: dict[str, Any], table: pa.Table) -> np.ndarray:
    """Calibrated probability (0-1) per row, column by column."""
    logit = np.full(table.num_rows, model["intercept"], dtype=np.float64)
    for f, w in zip(model["features"], model["coef"], strict=True):
        if w:
            logit += w * _standardised(table, f)
    cal = model["calibration"]
    return 1.0 / (1.0 + np.exp(-(cal["slope"] * logit + cal["offset"])))


_NEGATED = {
    "equals": lambda f: f"{f['source']} is not {f['value']}",
    "uses": lambda f: f"does not use {f['value']}",
    "band": lambda f: f"not {f['label']}",
    "missing": lambda f: f"{f['source'].replace('_', ' ')} known",
}


def explain_row(model: dict[str, Any], table: pa.Table, top: int = 3) -> dict[str, list[dict[str, Any]]]:
    """Top positive and negative features of one account (log-odds points vs the average account)."""
    slope = model["calibration"]["slope"]
    items = []
    for f, w in zip(model["features"], model["coef"], strict=True):
        z = float(_standardised(table, f)[0])
        effect = slope * w * z
        if abs(effect) < 1e-3:
            continue
        raw = _column(table, f)[0]
        label = f["label"]
        if raw == 0 and f["kind"] in _NEGATED:
            label = _NEGATED[f["kind"]](f)
        items.append({"feature": label, "effect": round(effect, 3)})
    items.sort(key=lambda i: i["effect"])
    positives = [i for i in reversed(items) if i["effect"] > 0][:top]
    negatives = [i for i in items if i["effect"] < 0][:top]
    return {"top_positive": positives, "top_negative": negatives}


def roc_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    if y.min() == y.max():
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, np.nan_to_num(score, nan=-1.0)))


def precision_at_top(y: np.ndarray, score: np.ndarray, share: float = 0.1) -> float:
    """Share of positives among the top `share` of rows by score (ties broken by row order)."""
    k = max(1, int(round(len(y) * share)))
    order = np.argsort(-np.nan_to_num(score, nan=-1.0), kind="stable")
    return float(y[order[:k]].mean())


def data_hash(table: pa.Table, y: np.ndarray) -> str:
    digest = hashlib.sha256()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    digest.update(sink.getvalue().to_pybytes())
    digest.update(y.astype(np.int8).tobytes())
    return digest.hexdigest()[:16]


def evaluate(table: pa.Table, y: np.ndarray, grid_score: np.ndarray, seed: int = 7) -> dict[str, Any]:
    """Hold-out (25 %, stratified) comparison of the model and the grid, plus cross-validated AUC on the rest."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    train_idx, test_idx = train_test_split(idx, test_size=0.25, stratify=y, random_state=seed)
    model = train(table.take(train_idx), y[train_idx], seed)
    p = predict(model, table.take(test_idx))
    y_test, grid_test = y[test_idx], grid_score[test_idx]
    cv = np.array(model["cv_auc"])
    return {
        "holdout_rows": int(len(test_idx)),
        "holdout_positives": int(y_test.sum()),
        "base_rate": round(float(y.mean()), 4),
        "auc_model": _r(roc_auc(y_test, p)),
        "auc_grid": _r(roc_auc(y_test, grid_test)),
        "precision_top_decile_model": round(precision_at_top(y_test, p), 4),
        "precision_top_decile_grid": round(precision_at_top(y_test, grid_test), 4),
        "cv_auc_mean": round(float(cv.mean()), 4),
        "cv_auc_std": round(float(cv.std()), 4),
        "cv_folds": len(cv),
        "brier": round(float(np.mean((p - y_test) ** 2)), 4),
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
