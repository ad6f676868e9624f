DELETE FROM kam_snapshot_contacts;

INSERT INTO kam_snapshot_contacts (contact_id, account_id, title, buying_role, end_date, snapshot_at)
SELECT c.contact_id, c.account_id, c.title, coalesce(r.buying_role, c.buying_role), c.end_date, CAST(? AS DATE)
FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id;
