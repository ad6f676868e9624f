UPDATE workspace_meta SET value = %s WHERE key = %s RETURNING key;

INSERT INTO workspace_meta VALUES (%s, %s) ON CONFLICT(key) DO UPDATE SET value = excluded.value;
