SELECT c.contact_id, c.account_id, c.title, coalesce(r.buying_role, c.buying_role) AS buying_role, c.end_date,
       CAST(? AS DATE) AS snapshot_at
FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id;
