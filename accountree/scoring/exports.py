"""Scoring exports (public contract: column names are read by users' scripts).

- `scores`: one row per account — account_id, grid_score, model_score, grade, tier, model_version,
  unscored_reason (empty when scored), then `icp_tier` (= `tier`, named apart from the KAM tier);
- `score_details`: every grid criterion's contribution per account;
- `score_groups`: best grade and grade distribution per group head (when the hierarchy is built);
- `score_models`: every training run with its metrics (the model itself stays in the workspace).
"""

from __future__ import annotations

from sqlglot import exp

from accountree.exports import ExportSpec
from accountree.store.sql import select_columns

HINT = "Run `accountree score` (or `accountree build`) first."
SCORES = ["account_id", "grid_score", "model_score", "grade", "tier", "model_version", "unscored_reason"]
DETAILS = ["account_id", "pillar", "criterion", "field", "value", "rule", "points", "max_points", "weight", "contribution"]
GROUPS = ["group_head_id", "entities", "scored", "best_grade", "best_fit_score", "grade_a", "grade_b", "grade_c",
          "grade_d", "grade_e", "grade_f", "unscored"]
MODELS = ["version", "trained_at", "trained_by", "as_of", "grid_version", "data_hash", "labelled", "positives",
          "definition", "metrics", "note"]

EXPORTS = [
    ExportSpec("scores", "ICP fit per account: grid and model scores, grade A-F, tier, model version, why unscored",
               lambda ws: select_columns("scores", SCORES, ["account_id"]).select(  # `icp_tier`: the same tier, named
                   exp.alias_(exp.column("tier", quoted=True), "icp_tier", quoted=True)), "scores", HINT),
    ExportSpec("score_details", "per account and grid criterion: value, rule matched, points, contribution to the score",
               lambda ws: select_columns("score_details", DETAILS, ["account_id", "pillar", "criterion"]),
               "score_details", HINT),
    ExportSpec("score_groups", "per group head: best grade and grade distribution of its entities",
               lambda ws: select_columns("score_groups", GROUPS, ["group_head_id"]), "score_groups",
               "Build the hierarchy, then run `accountree score`."),
    ExportSpec("score_models", "every trained fit model: date, data hash, labels, metrics (AUC model vs grid)",
               lambda ws: select_columns("score_models", MODELS, ["version"]), None, None),
]
