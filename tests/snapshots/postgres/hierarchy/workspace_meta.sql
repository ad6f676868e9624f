UPDATE workspace_meta SET value = %s WHERE key = %s RETURNING key;
