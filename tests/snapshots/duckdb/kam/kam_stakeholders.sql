DROP TABLE IF EXISTS "kam_stakeholders";

CREATE TABLE "kam_stakeholders" ("contact_id" TEXT, "account_id" TEXT, "name" TEXT, "title" TEXT, "buying_role" TEXT, "reports_to" TEXT, "strength" TEXT, "last_interaction" DATE, "interactions" BIGINT, "sentiment" TEXT, "start_date" DATE, "end_date" DATE, "left_company" BOOLEAN);

INSERT INTO kam_stakeholders
WITH activity AS (
    SELECT contact_id, max("date") AS last_interaction, count(*) AS interactions,
           coalesce(sum(coalesce(weight, 1)) FILTER (WHERE "date" > CAST(? AS DATE)), 0)
           + coalesce(sum(coalesce(weight, 1)) FILTER (WHERE "date" > CAST(? AS DATE)), 0) AS points
    FROM activities WHERE contact_id IS NOT NULL AND "date" <= CAST(? AS DATE) GROUP BY contact_id
)
SELECT c.contact_id, c.account_id, c.name, c.title, coalesce(r.buying_role, c.buying_role) AS buying_role,
       c.reports_to,
       CASE WHEN coalesce(a.points, 0) >= ? THEN 'strong' WHEN coalesce(a.points, 0) >= ? THEN 'medium'
            WHEN coalesce(a.points, 0) > 0 THEN 'weak' ELSE 'none' END AS strength,
       a.last_interaction, coalesce(a.interactions, 0) AS interactions, s.sentiment, c.start_date, c.end_date,
       coalesce(c.end_date <= CAST(? AS DATE), FALSE) AS left_company
FROM contacts c LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id
LEFT JOIN activity a ON a.contact_id = c.contact_id
LEFT JOIN kam_sentiment_step s ON s.contact_id = c.contact_id;
