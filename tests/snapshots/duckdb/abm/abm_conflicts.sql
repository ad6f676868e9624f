SELECT f.conflict_id, f.account_id, f.kind, f.bus, coalesce(st.state, 'open') AS state, f.reason,
    seen.first_seen AS detected_at, f.contact_id, x.lead_bu,
    CASE WHEN x.lead_bu IS NULL OR ',' || f.bus || ',' LIKE '%,' || x.lead_bu || ',%' THEN f.bus
         ELSE f.bus || ',' || x.lead_bu END AS notify_bus,
    x.priority_class, st.changed_by AS state_changed_by, st.changed_at AS state_changed_at
FROM _abm_conflicts_found f
LEFT JOIN abm_conflict_states st ON st.conflict_id = f.conflict_id
LEFT JOIN abm_conflict_seen seen ON seen.conflict_id = f.conflict_id
LEFT JOIN abm_accounts x ON x.scope = 'account' AND x.account_id = f.account_id;
