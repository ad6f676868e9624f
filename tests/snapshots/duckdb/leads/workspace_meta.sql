UPDATE workspace_meta SET value = ? WHERE key = ? RETURNING key;
