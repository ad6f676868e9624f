SELECT version, grid_yaml FROM score_grids ORDER BY version DESC LIMIT 1;

SELECT value FROM workspace_meta WHERE key = ?;

SELECT count(*) FROM score_groups;

SELECT count(*), count(grade), count(*) FILTER (WHERE unscored_reason <> ''), avg(grid_score) FROM scores;
