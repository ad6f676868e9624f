"""ICP fit scoring: the points grid, the learned fit model, grades, tiers and CRM write-back.

Service functions for the CLI, the API and the dashboard (see README.md in this folder).
"""

from accountree.scoring.grid import Grid, default_grid, load_grid, parse_grid
from accountree.scoring.service import explain, grade_distribution, groups, score_workspace, unscored
from accountree.scoring.versions import (
    current_grid,
    current_model,
    grid_summary,
    grid_versions,
    model_status,
    model_versions,
    save_grid,
    use_model,
)

__all__ = [
    "Grid", "current_grid", "current_model", "default_grid", "explain", "grade_distribution", "grid_summary", "grid_versions",
    "groups", "load_grid", "model_status", "model_versions", "parse_grid", "save_grid", "score_workspace",
    "unscored", "use_model",
]
