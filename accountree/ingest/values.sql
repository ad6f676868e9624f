-- Parsing of raw text values, as DuckDB macros on the staging connection (imports always stage in
-- DuckDB, whatever the workspace engine). Each macro returns NULL when the value cannot be read;
-- the checker reports a raw value that is present but parses to NULL.

-- What exports write for "no value" in a typed column (Excel's #N/A, pandas' NaN, French 'NC'…):
-- missing, like an empty cell. Text columns keep whatever was written.
CREATE OR REPLACE TEMP MACRO at_value(s) AS CASE
    WHEN lower(trim(s)) IN ('', '-', '--', '—', 'n/a', '#n/a', 'null', 'nan', 'unknown', 'inconnu', 'nc', 'n.c.', 'n/c',
                           'nd', 'n.d.', 'n/d') THEN NULL
    ELSE s END;

-- Numbers: currency signs and every kind of space out, then the separators decided by shape.
-- `dc` is true when the file uses a decimal comma (semicolon-delimited French/European exports).
CREATE OR REPLACE TEMP MACRO at_num_clean(s) AS
    regexp_replace(regexp_replace(trim(s), '[\s\x{00A0}\x{202F}€$£¥\x{2019}'']', '', 'g'), '(?i)^(eur|usd|gbp|chf)|(eur|usd|gbp|chf)$', '');

-- A plain number as digits write it: sign, digits, one decimal point, an exponent. What DuckDB's
-- casts also accept is refused here, as docs/bundle.md says: `inf`, `Infinity`, `nan`, hexadecimal
-- `0x10`, binary `0b11`, `1_000` with underscores.
CREATE OR REPLACE TEMP MACRO at_num_plain(c) AS regexp_full_match(c, '[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?');

CREATE OR REPLACE TEMP MACRO at_num_text(c, dc) AS CASE
    WHEN c = '' THEN NULL
    WHEN NOT contains(c, ',') AND at_num_plain(c) AND NOT (dc AND regexp_full_match(c, '[+-]?\d{1,3}(\.\d{3})+')) THEN c
    WHEN regexp_full_match(c, '[+-]?\d{1,3}(\.\d{3})+,\d*') THEN replace(replace(c, '.', ''), ',', '.')
    WHEN regexp_full_match(c, '[+-]?\d{1,3}(,\d{3})+\.\d*') THEN replace(c, ',', '')
    WHEN dc AND regexp_full_match(c, '[+-]?\d{1,3}(\.\d{3})+') THEN replace(c, '.', '')
    WHEN NOT dc AND regexp_full_match(c, '[+-]?\d{1,3}(,\d{3})+') THEN replace(c, ',', '')
    WHEN regexp_full_match(c, '[+-]?\d*,\d+') THEN replace(c, ',', '.')
    ELSE NULL END;

-- A finite number of a sane size, or NULL: amounts of 1e18 and more (or inf) would overflow the
-- sums and conversions of the KPIs.
CREATE OR REPLACE TEMP MACRO at_finite(x) AS CASE WHEN abs(x) < 1e18 THEN x END;

-- `1,234` in a decimal-comma file whose other values do not prove the comma: 1.234 or 1234?
CREATE OR REPLACE TEMP MACRO at_num_ambiguous(s) AS
    regexp_full_match(at_num_clean(s), '[+-]?[1-9]\d{0,2},\d{3}');

-- The decimal separator a value proves: '.' for 1234.5, 0.125, 1,234.5 or 1,234,567; ',' for 1234,5,
-- 0,125, 1.234,5 or 1.234.567; NULL when it proves nothing (1.234 and 1,234 may be either).
CREATE OR REPLACE TEMP MACRO at_decimal_mark(s) AS CASE
    WHEN NOT contains(s, '.') AND NOT contains(s, ',') THEN NULL
    WHEN regexp_full_match(at_num_clean(replace(s, '%', '')), '[+-]?\d{1,3}(,\d{3}){2,}|[+-]?(\d{1,3}(,\d{3})+|\d*)\.\d+') AND NOT
         regexp_full_match(at_num_clean(replace(s, '%', '')), '[+-]?[1-9]\d{0,2}\.\d{3}') THEN '.'
    WHEN regexp_full_match(at_num_clean(replace(s, '%', '')), '[+-]?\d{1,3}(\.\d{3}){2,}|[+-]?(\d{1,3}(\.\d{3})+|\d*),\d+') AND NOT
         regexp_full_match(at_num_clean(replace(s, '%', '')), '[+-]?[1-9]\d{0,2},\d{3}') THEN ','
    END;

-- Fast paths first: most cells are plain integers or dot decimals and skip the cleaning.
CREATE OR REPLACE TEMP MACRO at_number(s, dc) AS CASE
    WHEN regexp_full_match(s, '[+-]?\d{1,15}') THEN CAST(s AS BIGINT)
    WHEN NOT dc AND at_num_plain(s) THEN at_finite(TRY_CAST(s AS DOUBLE))
    WHEN dc AND regexp_full_match(s, '-?\d+,\d+') THEN at_finite(CAST(replace(s, ',', '.') AS DOUBLE))
    ELSE at_finite(TRY_CAST(at_num_text(at_num_clean(s), dc) AS DOUBLE)) END;

CREATE OR REPLACE TEMP MACRO at_integer(s, dc) AS CASE
    WHEN at_number(s, dc) = round(at_number(s, dc)) AND abs(at_number(s, dc)) < 9e15
    THEN CAST(at_number(s, dc) AS BIGINT) END;

CREATE OR REPLACE TEMP MACRO at_percent(s, dc) AS CASE
    WHEN at_number(replace(s, '%', ''), dc) BETWEEN 0 AND 100 THEN at_number(replace(s, '%', ''), dc) END;

-- A margin is an amount, or a share of the deal amount when written with `%`.
CREATE OR REPLACE TEMP MACRO at_margin(s, amount, dc) AS CASE
    WHEN contains(s, '%') THEN at_percent(s, dc) * amount / 100
    ELSE at_number(s, dc) END;

-- Dates: ISO first (fast path), then day-first or month-first (`mdy`) with / . or - separators.
CREATE OR REPLACE TEMP MACRO at_date_parts(s) AS
    regexp_extract(trim(s), '^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T].*)?$', ['a', 'b', 'y']);

CREATE OR REPLACE TEMP MACRO at_year(y) AS CASE
    WHEN length(y) = 2 THEN CASE WHEN CAST(y AS INTEGER) < 70 THEN 2000 ELSE 1900 END + CAST(y AS INTEGER)
    ELSE TRY_CAST(y AS INTEGER) END;

CREATE OR REPLACE TEMP MACRO at_date(s, mdy) AS CASE
    WHEN trim(s) = '' THEN NULL
    WHEN regexp_matches(trim(s), '^\d{4}-\d{1,2}-\d{1,2}') THEN
        TRY_CAST(TRY_STRPTIME(regexp_extract(trim(s), '^\d{4}-\d{1,2}-\d{1,2}'), '%Y-%m-%d') AS DATE)
    WHEN regexp_matches(trim(s), '^\d{4}/\d{1,2}/\d{1,2}') THEN
        TRY_CAST(TRY_STRPTIME(regexp_extract(trim(s), '^\d{4}/\d{1,2}/\d{1,2}'), '%Y/%m/%d') AS DATE)
    -- an Excel serial day number (a date cell saved without its date format): 1954-10-03 .. 2119-01-09
    WHEN regexp_full_match(trim(s), '[2-7]\d{4}(\.0+)?') THEN DATE '1899-12-30' + CAST(TRY_CAST(trim(s) AS DOUBLE) AS INTEGER)
    WHEN at_date_parts(s).y <> '' THEN TRY_CAST(TRY_STRPTIME(
        CAST(at_year(at_date_parts(s).y) AS VARCHAR) || '-' ||
        CASE WHEN mdy THEN at_date_parts(s).a ELSE at_date_parts(s).b END || '-' ||
        CASE WHEN mdy THEN at_date_parts(s).b ELSE at_date_parts(s).a END, '%Y-%m-%d') AS DATE)
    ELSE NULL END;

CREATE OR REPLACE TEMP MACRO at_boolean(s) AS CASE
    WHEN lower(trim(s)) IN ('true', '1', 'yes', 'y', 'oui', 'o', 'vrai', 'x', 't', 'ja', 'si', 'sí', 'wahr') THEN TRUE
    WHEN lower(trim(s)) IN ('false', '0', 'no', 'n', 'non', 'faux', 'f', 'nein', 'falsch') THEN FALSE
    END;

CREATE OR REPLACE TEMP MACRO at_key(s) AS lower(strip_accents(regexp_replace(trim(s), '[\s._\-/]+', ' ', 'g')));

CREATE OR REPLACE TEMP MACRO at_slug(s) AS
    NULLIF(trim(regexp_replace(lower(strip_accents(trim(s))), '[^a-z0-9]+', '_', 'g'), '_'), '');

-- Domains: scheme, e-mail local part, `www.`, port, path and trailing dot removed.
CREATE OR REPLACE TEMP MACRO at_domain_text(s) AS
    rtrim(regexp_replace(regexp_replace(regexp_replace(lower(trim(s)),
        '^[a-z][a-z0-9+.\-]*://', ''), '^[^@/]*@', ''), '^www\d*\.', ''), '.');

CREATE OR REPLACE TEMP MACRO at_domain(s) AS CASE
    WHEN regexp_full_match(regexp_extract(at_domain_text(s), '^[^/:?#\s]+'), '([\w\-]+\.)+[\w\-]{2,}')
    THEN regexp_extract(at_domain_text(s), '^[^/:?#\s]+') END;

CREATE OR REPLACE TEMP MACRO at_email(s) AS CASE
    WHEN regexp_full_match(trim(s), '[^@\s]+@([\w\-]+\.)+[\w\-]{2,}') THEN lower(trim(s)) END;

CREATE OR REPLACE TEMP MACRO at_digits(s, n) AS CASE
    WHEN regexp_full_match(regexp_replace(trim(s), '[\s.\-]', '', 'g'), '\d{' || CAST(n AS VARCHAR) || '}')
    THEN regexp_replace(trim(s), '[\s.\-]', '', 'g') END;

CREATE OR REPLACE TEMP MACRO at_lei(s) AS CASE
    WHEN regexp_full_match(upper(replace(trim(s), ' ', '')), '[A-Z0-9]{18}\d{2}') THEN upper(replace(trim(s), ' ', '')) END;

CREATE OR REPLACE TEMP MACRO at_relation(s) AS CASE at_key(s)
    WHEN 'subsidiary' THEN 'subsidiary' WHEN 'filiale' THEN 'subsidiary' WHEN 'sub' THEN 'subsidiary'
    WHEN 'tochtergesellschaft' THEN 'subsidiary' WHEN 'parent' THEN 'subsidiary'
    WHEN 'business unit' THEN 'business_unit' WHEN 'bu' THEN 'business_unit' WHEN 'division' THEN 'business_unit'
    WHEN 'branch' THEN 'branch' WHEN 'country entity' THEN 'branch' WHEN 'succursale' THEN 'branch'
    WHEN 'etablissement' THEN 'branch' WHEN 'niederlassung' THEN 'branch'
    WHEN 'joint venture' THEN 'joint_venture' WHEN 'jv' THEN 'joint_venture' WHEN 'coentreprise' THEN 'joint_venture'
    END;

CREATE OR REPLACE TEMP MACRO at_stage(s) AS CASE
    WHEN at_key(s) IN ('won', 'closed won', 'closedwon', 'gagne', 'win', 'signed', 'signe', 'gewonnen') THEN 'won'
    WHEN at_key(s) IN ('lost', 'closed lost', 'closedlost', 'perdu', 'verloren', 'loss') THEN 'lost'
    WHEN trim(s) = '' THEN NULL
    ELSE trim(s) END;

CREATE OR REPLACE TEMP MACRO at_buying_role(s) AS CASE
    WHEN at_key(s) IN ('economic buyer', 'decision maker', 'eb', 'budget holder', 'decideur') THEN 'economic_buyer'
    WHEN at_key(s) IN ('champion', 'sponsor', 'coach') THEN 'champion'
    WHEN at_key(s) IN ('influencer', 'technical influencer', 'evaluator', 'prescripteur') THEN 'influencer'
    WHEN at_key(s) IN ('user', 'end user', 'utilisateur') THEN 'user'
    WHEN at_key(s) IN ('buyer', 'purchaser', 'procurement', 'purchasing', 'acheteur', 'achats') THEN 'buyer'
    WHEN at_key(s) IN ('blocker', 'detractor', 'bloqueur') THEN 'blocker'
    WHEN at_key(s) IN ('other', 'autre', 'none') THEN 'other'
    END;

-- The key a name is matched on (same as accountree.ingest.lookups.fold).
CREATE OR REPLACE TEMP MACRO at_key_fold(s) AS
    trim(regexp_replace(lower(strip_accents(s)), '[^a-z0-9]+', ' ', 'g'));
