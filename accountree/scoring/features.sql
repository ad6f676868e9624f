-- score_features: one row per account, the firmographic, technographic and intent features the
-- grid and the model use, plus the 3-year customer outcomes the model learns from (never features).
WITH act AS (
    SELECT account_id,
        count(*) FILTER (WHERE type = 'pricing_page' AND "date" > CAST($as_of AS DATE) - INTERVAL 30 DAY) AS pricing_page_visits_30d,
        count(*) FILTER (WHERE type = 'web_visit' AND "date" > CAST($as_of AS DATE) - INTERVAL 30 DAY) AS web_visits_30d,
        count(*) FILTER (WHERE type = 'intent_topic' AND "date" > CAST($as_of AS DATE) - INTERVAL 90 DAY) AS intent_signals_90d,
        count(*) FILTER (WHERE type = 'form_fill' AND "date" > CAST($as_of AS DATE) - INTERVAL 90 DAY) AS form_fills_90d,
        count(*) FILTER (WHERE type IN ('meeting', 'event') AND "date" > CAST($as_of AS DATE) - INTERVAL 90 DAY) AS meetings_90d,
        sum(coalesce(weight, 1)) FILTER (WHERE "date" > CAST($as_of AS DATE) - INTERVAL 90 DAY) AS engagement_90d,
        max("date") AS last_activity
    FROM activities
    WHERE "date" <= CAST($as_of AS DATE)
    GROUP BY account_id
),
con AS (
    SELECT account_id, count(*) AS contacts,
        count(*) FILTER (WHERE buying_role IN ('economic_buyer', 'champion')) AS decision_makers
    FROM contacts
    WHERE end_date IS NULL OR end_date > CAST($as_of AS DATE)
    GROUP BY account_id
),
won AS (
    SELECT account_id,
        sum(coalesce(gross_margin_rc, 0)) AS gross_margin_3y,
        sum(coalesce(amount_rc, 0)) AS revenue_3y,
        count(*) AS won_deals_3y,
        count(DISTINCT floor((CAST($as_of AS DATE) - close_date) / 365.0)) AS active_years_3y
    FROM deals
    WHERE stage = 'won' AND close_date <= CAST($as_of AS DATE)
        AND close_date > CAST($as_of AS DATE) - INTERVAL 3 YEAR
    GROUP BY account_id
),
base AS (
    SELECT account_id, lower(trim(coalesce(domain, website))) AS web, industry, country, city, domain,
        employees, annual_revenue_rc AS annual_revenue, created_at,
        CASE WHEN technologies IS NULL OR trim(technologies) = '' THEN NULL
             ELSE ';' || lower(replace(replace(replace(replace(trim(technologies), ',', ';'), ' ;', ';'), '; ', ';'), '|', ';')) || ';'
        END AS technologies
    FROM accounts
)
SELECT b.account_id, b.domain, b.industry, b.country, b.city, b.employees, b.annual_revenue, b.technologies,
    b.created_at,
    CASE WHEN b.web IS NULL OR b.web = '' THEN 'no website or domain'
         WHEN b.web LIKE '% %' OR b.web NOT LIKE '%_._%' THEN 'invalid website/domain ' || b.web
         WHEN b.web IN ('gmail.com', 'googlemail.com', 'hotmail.com', 'outlook.com', 'yahoo.com', 'yahoo.fr',
                        'orange.fr', 'free.fr', 'wanadoo.fr', 'gmx.de', 'web.de', 'icloud.com', 'live.com')
             THEN 'free e-mail domain ' || b.web || ' is not a company website'
    END AS domain_issue,
    coalesce(act.pricing_page_visits_30d, 0) AS pricing_page_visits_30d,
    coalesce(act.web_visits_30d, 0) AS web_visits_30d,
    coalesce(act.intent_signals_90d, 0) AS intent_signals_90d,
    coalesce(act.form_fills_90d, 0) AS form_fills_90d,
    coalesce(act.meetings_90d, 0) AS meetings_90d,
    CAST(coalesce(act.engagement_90d, 0) AS DOUBLE) AS engagement_90d,
    CAST(CAST($as_of AS DATE) - act.last_activity AS BIGINT) AS days_since_last_activity,
    coalesce(con.contacts, 0) AS contacts,
    coalesce(con.decision_makers, 0) AS decision_makers,
    CAST(coalesce(won.gross_margin_3y, 0) AS DOUBLE) AS gross_margin_3y,
    CAST(coalesce(won.revenue_3y, 0) AS DOUBLE) AS revenue_3y,
    coalesce(won.won_deals_3y, 0) AS won_deals_3y,
    coalesce(won.active_years_3y, 0) AS active_years_3y
FROM base b
LEFT JOIN act ON act.account_id = b.account_id
LEFT JOIN con ON con.account_id = b.account_id
LEFT JOIN won ON won.account_id = b.account_id
