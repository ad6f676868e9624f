UPDATE workspace_meta SET value = ? WHERE key = ? RETURNING key;

INSERT INTO workspace_meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value;
