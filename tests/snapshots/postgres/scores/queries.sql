SELECT version, grid_yaml FROM score_grids ORDER BY version DESC NULLS LAST LIMIT 1;

SELECT value FROM workspace_meta WHERE key = %s;

SELECT CURRENT_SCHEMA;

SELECT COUNT(*) FROM score_groups;

SELECT COUNT(*), COUNT(grade), COUNT(*) FILTER(WHERE unscored_reason <> ''), AVG(grid_score) FROM scores;
