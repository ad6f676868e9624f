"""The learned fit model: encoding of the user's fields, two learners, calibration, reasons.

A model is a plain, JSON-serialisable dict (no pickle):
- `features`: the encoded columns, each read from one field (`source`): numbers (log-scaled when
  skewed, missing → training mean, plus a missing indicator), categories (one 0/1 column per
  frequent level; rare levels grouped into the all-zero "other" group; a missing indicator),
  high-cardinality categories target-encoded (scikit-learn's `TargetEncoder`, cross-fitted: each
  training row gets the encoding learned on the other folds, so a level's own label never leaks
  into its value), `;` lists (one column per frequent token). Every column is standardised.
- the learner: an L2 logistic regression (`coef`, `intercept`) or a histogram gradient-boosted
  tree ensemble (`trees`: each tree's split feature, threshold, children and leaf values, copied
  from scikit-learn's `HistGradientBoostingClassifier`);
- `calibration`: Platt scaling (slope, offset) fitted on out-of-fold raw scores.

Reasons (`explain_row`): for each field, `slope × (raw score − raw score with the field's columns
set to the training average)` — field occlusion against the average account. For the linear model
this is exactly the field's share of the log-odds; for the trees it is the local effect of the
field given the account's other values (documented method: leave-one-field-out occlusion).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EMPLOYEE_BANDS = [(1, 9), (10, 49), (50, 199), (200, 999), (1000, 4999), (5000, None)]
TOP_LEVELS = 30  # one-hot at most this many levels; more frequent levels than that: target encoding
TECH_TOP = 40
MIN_COUNT = 5
MISSING = "__missing__"


# -- encoding -----------------------------------------------------------------------------------
def _label(source: str) -> str:
    from accountree.scoring.fields import label_of

    return label_of(source).replace("_", " ") if not source.startswith(("@", "a.")) else label_of(source)


def _texts(table: pa.Table, source: str) -> list[str | None]:
    return pc.cast(table.column(source), pa.string()).to_pylist()


def _numbers(table: pa.Table, source: str) -> np.ndarray:
    return pc.cast(table.column(source), pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)


def encoding(table: pa.Table, fields: list[Any]) -> list[dict[str, Any]]:
    """Which columns to build, learned from the training rows (target encodings are fitted later)."""
    spec: list[dict[str, Any]] = []
    for f in fields:
        source, label = f.source, _label(f.source)
        if f.kind == "numeric":
            values = _numbers(table, source)
            known = values[~np.isnan(values)]
            if not len(known):
                continue
            skewed = bool(known.min() >= 0 and np.quantile(known, 0.99) > 10 * (np.median(known) + 1))
            spec.append({"kind": "num", "source": source, "log": skewed, "label": label + (" (log)" if skewed else "")})
            if 0 < len(known) < len(values):
                spec.append({"kind": "missing", "source": source, "label": f"{label} unknown"})
            if source == "employees":
                for lo, hi in EMPLOYEE_BANDS:
                    band = f"employees {lo}–{hi}" if hi else f"employees ≥ {lo}"
                    spec.append({"kind": "band", "source": source, "lo": lo, "hi": hi, "label": band})
        elif f.kind == "multi":
            tokens: Counter[str] = Counter()
            for v in _texts(table, source):
                if v:
                    tokens.update(t for t in set(v.strip(";").split(";")) if t)
            for token, n in tokens.most_common(TECH_TOP):
                if n >= MIN_COUNT:
                    spec.append({"kind": "uses", "source": source, "value": token, "label": f"{label}: {token}"})
        else:
            values = _texts(table, source)
            counts = Counter(v for v in values if v is not None)
            frequent = [(v, n) for v, n in counts.most_common() if n >= MIN_COUNT]
            if len(frequent) > TOP_LEVELS:
                spec.append({"kind": "te", "source": source, "label": f"{label} (target-encoded)",
                             "levels": len(counts)})
            else:
                for value, _ in frequent:
                    spec.append({"kind": "equals", "source": source, "value": value, "label": f"{label} = {value}"})
            missing = sum(v is None for v in values)
            if 0 < missing < len(values) and not (len(frequent) > TOP_LEVELS):
                spec.append({"kind": "missing", "source": source, "label": f"{label} unknown"})
    return spec


def _te_keys(table: pa.Table, source: str) -> np.ndarray:
    return np.array([MISSING if v is None else v for v in _texts(table, source)], dtype=object)


def _column(table: pa.Table, f: dict[str, Any]) -> np.ndarray:
    """The raw (unstandardised) values of one encoded column, float64 (NaN: filled by the caller)."""
    kind, source = f["kind"], f["source"]
    if kind in ("log", "num"):
        values = _numbers(table, source)
        if kind == "log" or f.get("log"):
            values = np.where(np.isnan(values), np.nan, np.log1p(np.clip(values, 0, None)))
        return values
    col = table.column(source)
    if kind == "missing":
        return pc.is_null(col).to_numpy(zero_copy_only=False).astype(np.float64)
    if kind == "band":
        values = np.nan_to_num(_numbers(table, source), nan=-1.0)
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
    if kind == "te":
        keys = pc.fill_null(pc.cast(col, pa.string()), MISSING)
        index = pc.index_in(keys, value_set=pa.array(list(f["map"]), pa.string()))
        values = np.append(np.asarray(list(f["map"].values()), dtype=np.float64), f["default"])
        return values[pc.fill_null(index, len(f["map"])).to_numpy(zero_copy_only=False)]
    raise ValueError(f"unknown feature kind {kind}")


def _standardised(table: pa.Table, f: dict[str, Any]) -> np.ndarray:
    raw = _column(table, f)
    raw = np.where(np.isnan(raw), f["fill"], raw)
    return (raw - f["mean"]) / f["std"]


def _set_scale(f: dict[str, Any], raw: np.ndarray) -> np.ndarray:
    fill = float(np.nanmean(raw)) if np.isfinite(raw).any() else 0.0
    raw = np.where(np.isnan(raw), fill, raw)
    f["fill"], f["mean"], f["std"] = fill, float(raw.mean()), float(raw.std() or 1.0)
    return (raw - f["mean"]) / f["std"]


def fit_design(table: pa.Table, spec: list[dict[str, Any]], y: np.ndarray, seed: int = 7) -> np.ndarray:
    """Learn every column's encoding (target maps, fill, mean, std) and return the training matrix.

    Target-encoded columns hold cross-fitted values (scikit-learn `TargetEncoder.fit_transform`)."""
    out = np.empty((table.num_rows, len(spec)), dtype=np.float64)
    for j, f in enumerate(spec):
        if f["kind"] == "te":
            from sklearn.model_selection import StratifiedKFold
            from sklearn.preprocessing import TargetEncoder

            keys = _te_keys(table, f["source"]).reshape(-1, 1)
            folds = StratifiedKFold(n_splits=_folds(y, 5), shuffle=True, random_state=seed)
            encoder = TargetEncoder(target_type="binary", cv=folds)
            raw = encoder.fit_transform(keys, y)[:, 0]
            f["map"] = {str(k): float(v) for k, v in zip(encoder.categories_[0], encoder.encodings_[0], strict=True)}
            f["default"] = float(encoder.target_mean_)
        else:
            raw = _column(table, f)
        out[:, j] = _set_scale(f, raw)
    return out


def design_matrix(table: pa.Table, spec: list[dict[str, Any]], fit: bool = False) -> np.ndarray:
    """Standardised feature matrix with the stored encoding (fit=True: learn fill/mean/std, no target maps)."""
    out = np.empty((table.num_rows, len(spec)), dtype=np.float64)
    for j, f in enumerate(spec):
        out[:, j] = _set_scale(f, _column(table, f)) if fit else _standardised(table, f)
    return out


# -- learners -----------------------------------------------------------------------------------
def _folds(y: np.ndarray, wanted: int = 5) -> int:
    return max(2, int(min(wanted, y.sum(), len(y) - y.sum())))


def _platt(oof: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    platt = LogisticRegression(C=1e6, max_iter=1000).fit(oof.reshape(-1, 1), y)
    return float(platt.coef_[0, 0]), float(platt.intercept_[0])


def _oof(make, x: np.ndarray, y: np.ndarray, folds: int, seed: int) -> tuple[np.ndarray, list[float]]:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    oof, fold_auc = np.zeros(len(y)), []
    for fit_idx, val_idx in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y):
        oof[val_idx] = make().fit(x[fit_idx], y[fit_idx]).decision_function(x[val_idx])
        fold_auc.append(float(roc_auc_score(y[val_idx], oof[val_idx])))
    return oof, fold_auc


def _linear():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=0.5, max_iter=2000)


def _boosted(seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(learning_rate=0.06, max_iter=200, max_leaf_nodes=15, min_samples_leaf=20,
                                          l2_regularization=1.0, early_stopping=True, validation_fraction=0.15,
                                          n_iter_no_change=15, random_state=seed)


def _trees_json(fitted) -> dict[str, Any]:
    trees = []
    for (predictor,) in fitted._predictors:
        nodes = predictor.nodes
        trees.append({
            "feature": nodes["feature_idx"].astype(int).tolist(),
            "threshold": [float(t) for t in nodes["num_threshold"]],
            "left": nodes["left"].astype(int).tolist(),
            "right": nodes["right"].astype(int).tolist(),
            "leaf": nodes["is_leaf"].astype(int).tolist(),
            "value": [float(v) for v in nodes["value"]],
        })
    return {"baseline": float(np.ravel(fitted._baseline_prediction)[0]), "trees": trees}


def fit(x: np.ndarray, y: np.ndarray, learner: str, seed: int = 7, folds: int | None = None,
        calibrate: bool = True) -> dict[str, Any]:
    """Fit one learner (`linear` or `trees`) on all rows; with Platt calibration on out-of-fold raw scores."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # OpenMP threads on a shared machine: far slower, see training.py
        return _fit(x, y, learner, seed, folds, calibrate)


def _fit(x: np.ndarray, y: np.ndarray, learner: str, seed: int, folds: int | None, calibrate: bool) -> dict[str, Any]:
    make = _linear if learner == "linear" else (lambda: _boosted(seed))
    out: dict[str, Any] = {"calibration": {"slope": 1.0, "offset": 0.0}, "cv_auc": []}
    if calibrate:
        oof, fold_auc = _oof(make, x, y, folds or _folds(y, 5 if learner == "linear" else 3), seed)
        slope, offset = _platt(oof, y)
        out = {"calibration": {"slope": slope, "offset": offset}, "cv_auc": [round(a, 4) for a in fold_auc]}
    final = make().fit(x, y)
    if learner == "linear":
        out.update(kind="logistic_regression+platt", coef=[float(c) for c in final.coef_[0]],
                   intercept=float(final.intercept_[0]))
    else:
        out.update(kind="hist_gradient_boosting+platt", trees=_trees_json(final))
    return out


def _tree_raw(trees: dict[str, Any], x: np.ndarray) -> np.ndarray:
    total = np.full(x.shape[0], trees["baseline"], dtype=np.float64)
    rows = np.arange(x.shape[0])
    for t in trees["trees"]:
        feature, threshold = np.asarray(t["feature"]), np.asarray(t["threshold"])
        left, right = np.asarray(t["left"]), np.asarray(t["right"])
        leaf, value = np.asarray(t["leaf"], dtype=bool), np.asarray(t["value"])
        node = np.zeros(x.shape[0], dtype=np.int64)
        active = ~leaf[node]
        while active.any():
            idx = rows[active]
            n = node[idx]
            go_left = x[idx, feature[n]] <= threshold[n]
            node[idx] = np.where(go_left, left[n], right[n])
            active[idx] = ~leaf[node[idx]]
        total += value[node]
    return total


def raw_score(model: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """Uncalibrated score (log-odds scale) from the standardised matrix."""
    if "trees" in model:
        return _tree_raw(model["trees"], x)
    return model["intercept"] + x @ np.asarray(model["coef"], dtype=np.float64)


def calibrate(model: dict[str, Any], raw: np.ndarray) -> np.ndarray:
    cal = model["calibration"]
    z = np.clip(cal["slope"] * raw + cal["offset"], -50, 50)
    return 1.0 / (1.0 + np.exp(-z))


def predict(model: dict[str, Any], table: pa.Table) -> np.ndarray:
    """Calibrated probability (0-1) per row."""
    return calibrate(model, raw_score(model, design_matrix(table, model["features"])))


# -- explanations -------------------------------------------------------------------------------
def _groups(spec: list[dict[str, Any]]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for j, f in enumerate(spec):
        groups.setdefault(f["source"], []).append(j)
    return groups


def _shown(table: pa.Table, source: str, kinds: set[str]) -> str:
    label = _label(source)
    value = table.column(source)[0].as_py()
    if value is None:
        return f"{label} unknown"
    if "uses" in kinds:
        tokens = [t for t in str(value).strip(";").split(";") if t]
        return f"{label}: {', '.join(tokens[:4])}{'…' if len(tokens) > 4 else ''}"
    if isinstance(value, float):
        return f"{label} = {value:,.10g}"
    return f"{label} = {value}"


def explain_row(model: dict[str, Any], table: pa.Table, top: int = 3) -> dict[str, list[dict[str, Any]]]:
    """Top positive and negative fields of one account (log-odds points vs the average account)."""
    spec = model["features"]
    x = design_matrix(table, spec)
    slope = model["calibration"]["slope"]
    base = raw_score(model, x)[0]
    items = []
    for source, cols in _groups(spec).items():
        occluded = x.copy()
        occluded[:, cols] = 0.0  # the training average of every standardised column
        effect = float(slope * (base - raw_score(model, occluded)[0]))
        if abs(effect) < 1e-3:
            continue
        items.append({"feature": _shown(table, source, {spec[j]["kind"] for j in cols}), "field": _label(source),
                      "effect": round(effect, 3)})
    items.sort(key=lambda i: i["effect"])
    positives = [i for i in reversed(items) if i["effect"] > 0][:top]
    negatives = [i for i in items if i["effect"] < 0][:top]
    return {"top_positive": positives, "top_negative": negatives,
            "method": "linear contributions" if "coef" in model else "field occlusion (leave-one-field-out)"}


def permutation_importance(model: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int = 7,
                           repeats: int = 3) -> list[dict[str, Any]]:
    """AUC lost when a field's columns are shuffled together across rows (scikit-learn's method, by field)."""
    if y.min() == y.max():
        return []
    base = roc_auc(y, raw_score(model, x)) or 0.5
    rng = np.random.default_rng(seed)
    out = []
    for source, cols in _groups(model["features"]).items():
        drops = []
        for _ in range(repeats):
            shuffled = x.copy()
            shuffled[:, cols] = x[rng.permutation(len(y))][:, cols]
            drops.append(base - (roc_auc(y, raw_score(model, shuffled)) or 0.5))
        out.append({"field": _label(source), "source": source, "auc_drop": round(float(np.mean(drops)), 4)})
    out.sort(key=lambda r: -r["auc_drop"])
    return out


# -- metrics ------------------------------------------------------------------------------------
def roc_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    if len(y) == 0 or y.min() == y.max():
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


def single_field_auc(x: np.ndarray, y: np.ndarray, spec: list[dict[str, Any]], seed: int = 7) -> dict[str, float]:
    """Cross-validated AUC of a logistic regression on each field's columns alone (training rows only)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if y.min() == y.max():
        return {}
    cv = StratifiedKFold(n_splits=_folds(y, 3), shuffle=True, random_state=seed)
    out = {}
    for source, cols in _groups(spec).items():
        scores = cross_val_predict(LogisticRegression(C=1.0, max_iter=1000), x[:, cols], y, cv=cv,
                                   method="decision_function")
        out[source] = float(roc_auc(y, scores) or 0.5)
    return out


def one_field_model(x: np.ndarray, y: np.ndarray, cols: list[int]) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=1.0, max_iter=1000).fit(x[:, cols], y)
    coef = np.zeros(x.shape[1])
    coef[cols] = fitted.coef_[0]
    return {"coef": coef.tolist(), "intercept": float(fitted.intercept_[0])}
