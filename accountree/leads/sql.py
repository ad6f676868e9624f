"""The set-based part of lead matching: static SQL over the whole `leads` table (DuckDB dialect,
transpiled for PostgreSQL by the engine). Work tables are named `leads_w_*` and dropped after a run.

Steps: account domain keys (domain, `domains`, website host) → each lead's hosts (e-mail host, typed
domain) and their parent domains → the free-mail flag → key statistics (holders, groups, explicit)
→ the owner of each key (the holder every other holder sits under) → each lead's best key.
"""

from __future__ import annotations

# A domain text as typed (`https://www.Acme.fr/x`, `jane@acme.fr`, ` ACME.FR. `) -> `acme.fr`.
_NORM = ("rtrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(lower(trim({x})), "
         "'^[a-z][a-z0-9+.-]*://', ''), '^[^@/]*@', ''), '^www[0-9]*\\.', ''), '[/:?#].*$', ''), '.')")


def norm(x: str) -> str:
    return _NORM.format(x=x)


# (account_id, key, via, via_rank): every domain an account is known by that some lead's host
# could be (so only those are kept). via: domain | domains | website. The import already
# normalised `domain`; the `domains` list and websites (when they add something) are normalised here.
KEYS = f"""
WITH RECURSIVE n(i) AS (
    SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < (SELECT coalesce(max(length(domains) - length(replace(domains, ';', ''))), 0) + 1 FROM accounts)
), normed AS (
    SELECT account_id, lower(trim(domain)) AS key, 'domain' AS via, 1 AS via_rank FROM accounts WHERE domain IS NOT NULL
    UNION ALL
    SELECT a.account_id, {norm("split_part(a.domains, ';', n.i)")}, 'domains', 2 FROM accounts a
    JOIN n ON n.i <= length(a.domains) - length(replace(a.domains, ';', '')) + 1 WHERE a.domains IS NOT NULL
    UNION ALL
    SELECT account_id, {norm('website')}, 'website', 3 FROM accounts
    WHERE website IS NOT NULL AND (domain IS NULL OR strpos(lower(website), lower(domain)) = 0)
), ranked AS (
    SELECT account_id, key, via, via_rank,
           row_number() OVER (PARTITION BY account_id, key ORDER BY via_rank) AS rn
    FROM normed WHERE key IN (SELECT suffix FROM leads_w_suffixes)
)
SELECT account_id, key, via, via_rank FROM ranked WHERE rn = 1
"""  # noqa: S608 - a constant expression, no value

# Group of each account: from the hierarchy build when there is one, else every account alone.
GROUPS_FROM_HIERARCHY = """
SELECT a.account_id, coalesce(h.group_head_id, a.account_id) AS group_head_id, coalesce(h.level, 0) AS level,
       coalesce(h.descendants, 0) AS descendants, a.name, a.country, a.domain
FROM accounts a LEFT JOIN hierarchy h ON h.account_id = a.account_id
"""
GROUPS_ALONE = """
SELECT account_id, account_id AS group_head_id, 0 AS level, 0 AS descendants, name, country, domain FROM accounts
"""
# Only the closure rows below the accounts a decision can start from: the holders of the keys
# leads use and their groups' heads.
CLOSURE_FROM_HIERARCHY = """
WITH tops AS (SELECT account_id FROM leads_w_holders UNION SELECT head FROM leads_w_keystats)
SELECT c.ancestor_id, c.descendant_id FROM hierarchy_closure c
WHERE c.consolidated AND c.ancestor_id IN (SELECT account_id FROM tops)
UNION SELECT account_id, account_id FROM tops
"""
CLOSURE_ALONE = """
SELECT account_id AS ancestor_id, account_id AS descendant_id FROM leads_w_holders
UNION SELECT head, head FROM leads_w_keystats
"""

# (lead_id, email, host, email_problem, company, country, seller_bu, crm_account_id)
SOURCE = f"""
WITH l AS (
    SELECT lead_id, nullif(lower(trim(email)), '') AS email, nullif(trim(company), '') AS company,
           nullif(trim(domain), '') AS domain, nullif(trim(country), '') AS country, account_id
    FROM leads
)
SELECT lead_id, email, company, country, account_id AS crm_account_id,
       CASE WHEN email IS NOT NULL AND regexp_matches(email, '^[^@ ]+@([a-z0-9-]+\\.)+[a-z0-9-]{{2,}}$')
            THEN split_part(email, '@', 2) END AS host,
       CASE WHEN email IS NULL THEN 'no e-mail'
            WHEN NOT regexp_matches(email, '^[^@ ]+@([a-z0-9-]+\\.)+[a-z0-9-]{{2,}}$') THEN 'malformed e-mail'
       END AS email_problem,
       CASE WHEN domain IS NOT NULL THEN {norm('domain')} END AS typed_domain
FROM l
"""  # noqa: S608 - a constant expression, no value

# Every parent domain of each lead host: a.us.ibm.com -> a.us.ibm.com, us.ibm.com, ibm.com.
SUFFIXES = """
WITH RECURSIVE h AS (
    SELECT lead_id, 'email' AS via, host FROM leads_w_src WHERE host IS NOT NULL
    UNION ALL
    SELECT lead_id, 'lead_domain', typed_domain FROM leads_w_src
    WHERE typed_domain LIKE '%_._%' AND (host IS NULL OR typed_domain <> host)
), s(lead_id, via, host, suffix, depth) AS (
    SELECT lead_id, via, host, host, 0 FROM h
    UNION ALL
    SELECT lead_id, via, host, substr(suffix, strpos(suffix, '.') + 1), depth + 1 FROM s
    WHERE strpos(substr(suffix, strpos(suffix, '.') + 1), '.') > 0 AND depth < 8
)
SELECT lead_id, via, host, suffix, depth FROM s
"""

# The free-mail / disposable kind of each lead host (any of its parent domains listed).
HOST_KINDS = """
SELECT s.lead_id, s.via, s.host, min(f.kind) AS kind
FROM leads_w_suffixes s JOIN leads_free_mail f ON f.domain = s.suffix
GROUP BY s.lead_id, s.via, s.host
"""

# Holders of the keys some lead uses, of the key's best kind only: an account whose own `domain`
# it is beats one that lists it among its `domains` (the head listing its subsidiary's site).
HOLDERS = """
WITH used AS (
    SELECT k.key, k.account_id, k.via_rank, min(k.via_rank) OVER (PARTITION BY k.key) AS best
    FROM leads_w_keys k WHERE k.key IN (SELECT suffix FROM leads_w_suffixes)
)
SELECT key, account_id, via_rank FROM used WHERE via_rank = best
"""

# Per key: holders, groups, whether it was given explicitly (domain or `domains`, not a website).
KEY_STATS = """
SELECT k.key, count(*) AS n_holders, count(DISTINCT g.group_head_id) AS n_groups, min(g.group_head_id) AS head,
       max(CASE WHEN k.via_rank <= 2 THEN 1 ELSE 0 END) AS explicit, min(k.via_rank) AS via_rank
FROM leads_w_holders k JOIN leads_w_groups g ON g.account_id = k.account_id
GROUP BY k.key
"""

# The holder of a key (within one group) that every other holder of the key sits under.
KEY_OWNERS = """
SELECT h.key, h.account_id AS owner
FROM leads_w_holders h
JOIN leads_w_keystats s ON s.key = h.key AND s.n_groups = 1
JOIN leads_w_closure c ON c.ancestor_id = h.account_id
JOIN leads_w_holders h2 ON h2.key = h.key AND h2.account_id = c.descendant_id
GROUP BY h.key, h.account_id, s.n_holders
HAVING count(*) = s.n_holders
"""

# Each lead's best key: the e-mail before the typed domain, then the longest (most specific).
# Free-mail and disposable hosts never match, unless an account of a single group holds the key
# explicitly (its domain or `domains`).
PICK = """
WITH m AS (
    SELECT s.lead_id, s.via, s.host, s.suffix AS key, ks.n_holders, ks.n_groups, ks.head, ks.via_rank,
           row_number() OVER (PARTITION BY s.lead_id
                              ORDER BY CASE s.via WHEN 'email' THEN 0 ELSE 1 END, length(s.suffix) DESC) AS rn
    FROM leads_w_suffixes s
    JOIN leads_w_keystats ks ON ks.key = s.suffix
    LEFT JOIN leads_w_hostkinds hk ON hk.lead_id = s.lead_id AND hk.via = s.via
    WHERE hk.kind IS NULL OR (ks.explicit = 1 AND ks.n_groups = 1)
)
SELECT m.lead_id, m.via, m.host, m.key, m.n_holders, m.n_groups, m.via_rank,
       coalesce(o.owner, CASE WHEN m.n_groups = 1 THEN m.head END) AS account_id,
       CASE WHEN o.owner IS NOT NULL THEN 'owner' WHEN m.n_groups = 1 THEN 'group_head' END AS pick
FROM m LEFT JOIN leads_w_keyowners o ON o.key = m.key
WHERE m.rn = 1
"""

# The person is a known contact: the current one (no end date) first, then the latest start.
CONTACT = """
WITH c AS (
    SELECT s.lead_id, c.account_id, c.contact_id,
           row_number() OVER (PARTITION BY s.lead_id
                              ORDER BY CASE WHEN c.end_date IS NULL THEN 0 ELSE 1 END, c.start_date DESC NULLS LAST,
                                       c.contact_id) AS rn
    FROM leads_w_src s
    JOIN contacts c ON lower(trim(c.email)) = s.email
    JOIN accounts a ON a.account_id = c.account_id
    WHERE s.email IS NOT NULL
)
SELECT lead_id, account_id, contact_id FROM c WHERE rn = 1
"""

# Leads that SQL decides alone; the others (a name to read) go to the Python pass: a typed
# company other than the domain's account name may name another entity.
# evidence text: what was seen, in words.
DECIDED = """
SELECT * FROM (
SELECT s.lead_id,
    CASE WHEN d.account_id IS NOT NULL THEN d.account_id
         WHEN s.crm_account_id IS NOT NULL AND ca.account_id IS NOT NULL THEN s.crm_account_id
         WHEN c.account_id IS NOT NULL THEN c.account_id
         ELSE p.account_id END AS account_id,
    CASE WHEN d.account_id IS NOT NULL THEN 'manual'
         WHEN s.crm_account_id IS NOT NULL AND ca.account_id IS NOT NULL THEN 'crm'
         WHEN c.account_id IS NOT NULL THEN 'contact'
         WHEN p.via_rank = 3 THEN 'website'
         WHEN p.pick = 'owner' AND p.n_holders = 1 THEN 'domain'
         WHEN p.pick = 'owner' THEN 'domain_group'
         ELSE 'domain_group_head' END AS method,
    CASE WHEN d.account_id IS NOT NULL THEN 'accepted by ' || coalesce(d.decided_by, '?') || ' in review'
         WHEN s.crm_account_id IS NOT NULL AND ca.account_id IS NOT NULL THEN 'account given by the CRM on the lead'
         WHEN c.account_id IS NOT NULL THEN 'the e-mail ' || s.email || ' is contact ' || c.contact_id
         ELSE (CASE p.via WHEN 'email' THEN 'e-mail domain ' ELSE 'typed domain ' END) || p.host
              || (CASE WHEN p.key <> p.host THEN ' (parent domain ' || p.key || ')' ELSE '' END)
              || (CASE p.via_rank WHEN 1 THEN ' is the domain of ' WHEN 2 THEN ' is listed in the domains of '
                                  ELSE ' is the website of ' END)
              || (CASE WHEN p.n_holders = 1 THEN p.account_id
                       WHEN p.pick = 'owner' THEN p.n_holders || ' accounts of one group, all under ' || p.account_id
                       ELSE p.n_holders || ' accounts of one group; its head ' || p.account_id END)
    END AS evidence
FROM leads_w_src s
LEFT JOIN leads_w_accepted d ON d.lead_id = s.lead_id
LEFT JOIN accounts ca ON ca.account_id = s.crm_account_id
LEFT JOIN leads_w_contact c ON c.lead_id = s.lead_id
LEFT JOIN leads_w_pick p ON p.lead_id = s.lead_id AND p.account_id IS NOT NULL
LEFT JOIN leads_w_groups g ON g.account_id = p.account_id
WHERE d.account_id IS NOT NULL OR ca.account_id IS NOT NULL OR c.account_id IS NOT NULL
   OR (p.account_id IS NOT NULL AND (s.company IS NULL OR (g.descendants = 0 AND lower(g.name) = lower(s.company))))
) q
WHERE NOT EXISTS (SELECT 1 FROM lead_match_decisions x
                  WHERE x.lead_id = q.lead_id AND x.account_id = q.account_id AND x.decision = 'reject')
"""

# What the Python pass reads: every lead SQL did not decide, with its domain evidence if any.
UNDECIDED = """
SELECT s.lead_id, s.email, s.host, s.email_problem, s.company, s.country, s.typed_domain,
       p.via, p.key, p.n_holders, p.n_groups, p.account_id AS domain_account, p.pick, p.via_rank,
       hk.kind AS host_kind
FROM leads_w_src s
LEFT JOIN leads_w_decided d ON d.lead_id = s.lead_id
LEFT JOIN leads_w_pick p ON p.lead_id = s.lead_id
LEFT JOIN leads_w_hostkinds hk ON hk.lead_id = s.lead_id AND hk.via = 'email'
WHERE d.lead_id IS NULL
ORDER BY s.lead_id
"""

# Holders of the keys left ambiguous (several groups): the Python pass picks among them.
AMBIGUOUS_HOLDERS = """
SELECT k.key, k.account_id, g.group_head_id, g.name, g.country
FROM leads_w_holders k JOIN leads_w_groups g ON g.account_id = k.account_id
WHERE k.key IN (SELECT key FROM leads_w_pick WHERE account_id IS NULL)
ORDER BY k.key, k.account_id
"""

# Is the name candidate under the domain's account (or the same)? Pairs checked in one join.
UNDER = """
SELECT p.lead_id, p.ancestor_id, p.descendant_id
FROM leads_w_pairs p JOIN leads_w_closure c ON c.ancestor_id = p.ancestor_id AND c.descendant_id = p.descendant_id
"""

FINAL = """
SELECT s.lead_id, r.account_id, coalesce(r.method, 'unmatched') AS method, coalesce(r.confidence, 0.0) AS confidence,
       concat_ws('; ', nullif(r.evidence, ''), CASE WHEN s.email_problem IS NOT NULL OR s.company IS NULL OR hk.kind IS NOT NULL
           THEN 'lead: ' || concat_ws(', ', s.email_problem,
                CASE WHEN hk.kind = 'free' THEN 'personal address (' || s.host || ')'
                     WHEN hk.kind = 'disposable' THEN 'disposable address (' || s.host || ')' END,
                CASE WHEN s.company IS NULL THEN 'no company name' END) END) AS evidence,
       coalesce(r.review, FALSE) AS review, r.candidates,
       s.host AS email_domain, hk.kind AS email_kind, s.company, s.country
FROM leads_w_src s
LEFT JOIN leads_w_result r ON r.lead_id = s.lead_id
LEFT JOIN leads_w_hostkinds hk ON hk.lead_id = s.lead_id AND hk.via = 'email'
"""

WORK_TABLES = ("leads_w_keys", "leads_w_groups", "leads_w_closure", "leads_w_src", "leads_w_suffixes",
               "leads_w_hostkinds", "leads_w_holders", "leads_w_keystats", "leads_w_keyowners", "leads_w_pick", "leads_w_contact",
               "leads_w_accepted", "leads_w_decided", "leads_w_pairs", "leads_w_result", "leads_free_mail")
