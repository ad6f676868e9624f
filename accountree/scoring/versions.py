"""Saved grids and trained models: versioned, reversible, never overwritten.

Every grid a user scores with is saved (`score_grids`, a new version only when its content
changes); every training run is kept (`score_models`: data snapshot hash, metrics, date, who, the
best-customer definition, the model as JSON). The current model is a pointer in `workspace_meta`
(`scoring.model_version`), so going back to an earlier model is one command (`score use-model N`).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from accountree.errors import NotFoundError
from accountree.scoring.grid import Grid, default_grid, parse_grid
from accountree.store import Workspace, current_user

MODEL_META = "scoring.model_version"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def save_grid(ws: Workspace, grid: Grid, text: str | None = None) -> int:
    """Store the grid as the workspace's grid; returns its version (unchanged grid: same version)."""
    text = text if text is not None else grid.to_yaml()
    latest = ws.engine.fetchone("SELECT version, grid_hash FROM score_grids ORDER BY version DESC LIMIT 1")
    if latest and latest[1] == grid.digest:
        return int(latest[0])
    version = (int(latest[0]) if latest else 0) + 1
    ws.engine.execute(
        "INSERT INTO score_grids (version, saved_at, saved_by, name, grid_hash, grid_yaml) VALUES (?, ?, ?, ?, ?, ?)",
        [version, _now(), current_user(), grid.name, grid.digest, text],
    )
    return version


def current_grid(ws: Workspace) -> tuple[Grid, int | None]:
    """The workspace's latest saved grid, or the packaged default (version None)."""
    row = ws.engine.fetchone("SELECT version, grid_yaml FROM score_grids ORDER BY version DESC LIMIT 1")
    if row is None:
        return default_grid(), None
    return parse_grid(row[1], f"saved grid v{row[0]}"), int(row[0])


def grid_summary(ws: Workspace) -> dict[str, Any]:
    """The grid in use, for the API and the dashboard: version, YAML, pillars with max points, criteria."""
    grid, version = current_grid(ws)
    return {
        "version": version, "name": grid.name, "is_default": version is None, "yaml": grid.to_yaml(),
        "pillars": [{"name": name, "weight": p.weight, "max_points": p.max_points, "min_known_fields": p.min_known_fields,
                     "criteria": [{"name": c.name, "field": c.field, "max_points": c.max_points, "missing": c.missing,
                                   "else": c.otherwise, "rules": [{"rule": r.describe(), "points": r.points} for r in c.rules]}
                                  for c in p.criteria]} for name, p in grid.pillars.items()],
        "grades": grid.grades.model_dump(), "tiers": grid.tiers,
    }


def grid_versions(ws: Workspace) -> list[dict[str, Any]]:
    return ws.engine.fetch_dicts(
        "SELECT version, saved_at, saved_by, name, grid_hash FROM score_grids ORDER BY version DESC")


def add_model(ws: Workspace, *, as_of: date, grid_version: int | None, data_hash: str, labelled: int,
              positives: int, definition: dict[str, Any], metrics: dict[str, Any], model: dict[str, Any],
              note: str | None = None, target: str = "best", status: str = "kept", make_current: bool = True) -> int:
    """Store a training run; `make_current` points the scores at it (a rejected run is kept for the record)."""
    version = int(ws.engine.scalar("SELECT coalesce(max(version), 0) FROM score_models")) + 1
    ws.engine.execute(
        "INSERT INTO score_models (version, trained_at, trained_by, as_of, grid_version, data_hash, labelled, positives, "
        "definition, metrics, model, note, target, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [version, _now(), current_user(), as_of, grid_version, data_hash, labelled, positives,
         json.dumps(definition), json.dumps(metrics), json.dumps(model), note, target, status],
    )
    if make_current:
        ws.set_meta(MODEL_META, str(version))
    return version


def _model_row(row: dict[str, Any], with_model: bool) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "model"}
    out["definition"] = _json(out["definition"])
    out["metrics"] = _json(out["metrics"])
    if with_model:
        out["model"] = _json(row["model"])
    return out


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def model_versions(ws: Workspace) -> list[dict[str, Any]]:
    """Every training run, newest first, with metrics; `current` marks the one scores use."""
    current = current_model_version(ws)
    rows = ws.engine.fetch_dicts(
        "SELECT version, trained_at, trained_by, as_of, grid_version, data_hash, labelled, positives, definition, "
        "metrics, note, coalesce(target, 'best') AS target, coalesce(status, 'kept') AS status "
        "FROM score_models ORDER BY version DESC")
    return [{**_model_row(r, False), "current": r["version"] == current} for r in rows]


def current_model_version(ws: Workspace) -> int | None:
    value = ws.meta(MODEL_META)
    return int(value) if value not in (None, "", "none") else None


def get_model(ws: Workspace, version: int) -> dict[str, Any]:
    rows = ws.engine.fetch_dicts("SELECT * FROM score_models WHERE version = ?", [version])
    if not rows:
        raise NotFoundError(f"no model version {version}", hint="List them with `accountree score models`.")
    return _model_row(rows[0], True)


def current_model(ws: Workspace) -> dict[str, Any] | None:
    version = current_model_version(ws)
    return get_model(ws, version) if version is not None else None


def use_model(ws: Workspace, version: int | None) -> int | None:
    """Make an earlier (or later) model current; None goes back to the grid only."""
    if version is not None:
        get_model(ws, version)
    ws.set_meta(MODEL_META, "none" if version is None else str(version))
    return version


def model_status(ws: Workspace, today: date | None = None, max_age_months: int | None = None) -> dict[str, Any]:
    """When the current model was trained, and a warning once it is older than the configured age."""
    today = today or date.today()
    if max_age_months is None:
        max_age_months = current_grid(ws)[0].model.max_age_months
    model = current_model(ws)
    if model is None:
        trained = int(ws.engine.scalar("SELECT count(*) FROM score_models"))
        return {"model_version": None, "trained_at": None, "age_days": None, "stale": False,
                "warning": "no model in use; scores come from the grid" + (
                    f" ({trained} trained model(s) stored)" if trained else " — train one with `accountree score train`")}
    trained_at = model["trained_at"]
    trained_day = trained_at.date() if isinstance(trained_at, datetime) else date.fromisoformat(str(trained_at)[:10])
    age = (today - trained_day).days
    limit_days = round(max_age_months * 30.44)
    stale = age > limit_days
    from accountree.scoring.drift import drift

    settings = current_grid(ws)[0].model
    drifted = drift(ws, model["model"])
    moved = [d for d in drifted if d["psi"] > settings.drift_psi]
    warnings = []
    if stale:
        warnings.append(f"model v{model['version']} was trained {age} days ago, more than {max_age_months} months: "
                        "retrain with `accountree score train`")
    if moved:
        warnings.append("the data drifted since training (population stability index above "
                        f"{settings.drift_psi:g}: " + ", ".join(f"{d['field']} {d['psi']:.2f}" for d in moved)
                        + "): retrain with `accountree score train`")
    metrics = model["metrics"]
    return {
        "model_version": model["version"], "trained_at": trained_at, "age_days": age, "max_age_months": max_age_months,
        "stale": stale, "drifted": bool(moved), "drift": drifted, "target": model.get("target") or "best",
        "auc_model": metrics.get("auc_model"), "auc_grid": metrics.get("auc_grid"),
        "auc_baseline": metrics.get("auc_baseline"),
        "warning": "; ".join(warnings) or None,
    }
