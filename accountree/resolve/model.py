"""The probabilistic record-linkage model (splink, Fellegi-Sunter) on an in-memory DuckDB or on Spark.

One definition (DuckDB dialect); `linkage.py` gives splink's backend and the model's SQL functions
(`ModelOptions.engine`: "duckdb" or "spark").

`score_pairs(features, options)` trains the model without labels and returns the blocked pairs at
or above `options.floor` with their match probability and the level each comparison fell into
(the evidence):

- **Blocking** keeps the work sub-quadratic: a pair is only compared when the two records share
  a normalised name, a registry id (SIREN, LEI, D-U-N-S), a domain in one country, or *within one
  country* one of their name keys (the name with one word left out, the name itself, first
  letters + initials, one-letter deletions of a one-word name; keys held by more than
  `features.MAX_KEY_RECORDS` records of a country are left out; see `features.name_keys`).
- **Comparisons**: name (exact, same words in another order, one typo, same words up to
  abbreviations and typos, Jaro-Winkler ≥ 0.95 or two typos, ≥ 0.88 or most words shared,
  ≥ 0.80), registry identifiers (conflicting, one of LEI / SIRET / D-U-N-S equal, SIREN equal),
  domain (equal, same stem on another TLD, different), country, city, industry.
- **Training** (`score_pairs`): prior from near-certain rules; u by random sampling (seeded, so
  the model is deterministic), then **u of every level recounted on the blocked pairs**
  (`_blocked_u`) — the levels that matter (same name, one typo, same id…) are rare among random
  pairs, a 1 M-pair sample stops seeing them as the workspace grows, and splink then falls back
  to arbitrary default u: the weights stopped growing while the prior kept shrinking ~1/n, so
  recall fell with the size of the workspace; m by EM on pairs sharing a name, floored at
  `M_FLOOR` (`_floor_m`).
"""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing as mp
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from rapidfuzz.distance import Levenshtein

from accountree.errors import ConfigError
from accountree.resolve.guard import extra_words
from accountree.resolve.linkage import ENGINES, Backend, duckdb_backend, spark_backend

_NAME_LEVELS = [
    {"sql_condition": "name_norm_l IS NULL OR name_norm_r IS NULL", "label_for_charts": "name missing",
     "is_null_level": True},
    # splink's term-frequency adjustment on the normalised name, from `_tf_lookup` (see there)
    {"sql_condition": "name_norm_l = name_norm_r", "label_for_charts": "same name", "m_probability": 0.55,
     "tf_adjustment_column": "name_norm", "tf_adjustment_weight": 1.0},
    # same words in another order, or written together ("Planet Scale" / "planetscale")
    {"sql_condition": "name_sorted_l = name_sorted_r OR replace(name_norm_l, ' ', '') = replace(name_norm_r, ' ', '')",
     "label_for_charts": "same words", "m_probability": 0.02},
    # the length tests cost nothing and spare most pairs the edit distance (which is at least the length gap);
    # `accountree_within_edits(a, b, k)` is levenshtein(a, b) <= k (`_within_edits_arrow`: bounded, ~20x faster)
    # one typo, the first letter kept, in names of 5+ letters ("Burley" / "Hurley", "Dixon" / "Nixon",
    # "SAP" / "SIP": a rhyme or a short name, not a typo — real lists showed these as the wrong merges)
    {"sql_condition": "abs(length(name_norm_l) - length(name_norm_r)) <= 1 AND least(length(name_norm_l), length(name_norm_r)) >= 5 "
                      "AND left(name_norm_l, 1) = left(name_norm_r, 1) AND accountree_within_edits(name_norm_l, name_norm_r, 1)",
     "label_for_charts": "one typo",
     "m_probability": 0.2},
    # (a Python function: the Jaro-Winkler gate keeps it to the few pairs that may pass; 0.85 called
    # it 3.6 times as often for 1 % more of its true pairs, which reach a lower level anyway)
    {"sql_condition": "jaro_winkler_similarity(name_norm_l, name_norm_r) >= 0.9 "
                      "AND accountree_same_words(tokens_l, tokens_r, legal_form_l, legal_form_r)", "label_for_charts": "same words up to "
     "abbreviations and typos", "m_probability": 0.1},
    {"sql_condition": "jaro_winkler_similarity(name_norm_l, name_norm_r) >= 0.95 OR "
                      "(length(name_norm_l) >= 10 AND abs(length(name_norm_l) - length(name_norm_r)) <= 2 "
                      "AND accountree_within_edits(name_norm_l, name_norm_r, 2))",
     "label_for_charts": "name very similar", "m_probability": 0.06},
    {"sql_condition": "jaro_winkler_similarity(name_norm_l, name_norm_r) >= 0.88 OR "
                      "array_length(array_intersect(tokens_l, tokens_r)) * 3 >= 2 * greatest(array_length(tokens_l), array_length(tokens_r))",
     "label_for_charts": "name similar", "m_probability": 0.07},
    {"sql_condition": "jaro_winkler_similarity(name_norm_l, name_norm_r) >= 0.8", "label_for_charts": "name close",
     "m_probability": 0.03},
    {"sql_condition": "ELSE", "label_for_charts": "name different", "m_probability": 0.03},
]
_ID_PRESENT = ("(lei_l IS NOT NULL AND lei_r IS NOT NULL) OR (siren_l IS NOT NULL AND siren_r IS NOT NULL) "
               "OR (duns_l IS NOT NULL AND duns_r IS NOT NULL)")
_ID_CONFLICT = ("lei_l <> lei_r OR siren_l <> siren_r OR siret_l <> siret_r OR duns_l <> duns_r")
_ID_LEVELS = [
    {"sql_condition": f"NOT ({_ID_PRESENT})", "label_for_charts": "no shared kind of id", "is_null_level": True},
    {"sql_condition": f"coalesce({_ID_CONFLICT}, false)", "label_for_charts": "conflicting ids", "m_probability": 0.02},
    {"sql_condition": "lei_l = lei_r OR siret_l = siret_r OR duns_l = duns_r",
     "label_for_charts": "same LEI/SIRET/DUNS", "m_probability": 0.7},
    {"sql_condition": "siren_l = siren_r", "label_for_charts": "same SIREN", "m_probability": 0.2},
    {"sql_condition": "ELSE", "label_for_charts": "ids differ", "m_probability": 0.08},
]
_DOMAIN_LEVELS = [
    {"sql_condition": "domain_l IS NULL OR domain_r IS NULL", "label_for_charts": "domain missing",
     "is_null_level": True},
    {"sql_condition": "domain_l = domain_r", "label_for_charts": "same domain", "m_probability": 0.5},
    {"sql_condition": "domain_stem_l = domain_stem_r", "label_for_charts": "same domain stem", "m_probability": 0.2},
    {"sql_condition": "ELSE", "label_for_charts": "domain different", "m_probability": 0.3},
]


def _simple(column: str, m_same: float, fuzzy: bool = False) -> dict:
    levels = [
        {"sql_condition": f"{column}_l IS NULL OR {column}_r IS NULL", "label_for_charts": f"{column} missing",
         "is_null_level": True},
        {"sql_condition": f"{column}_l = {column}_r", "label_for_charts": f"same {column}", "m_probability": m_same},
    ]
    if fuzzy:
        levels.append({"sql_condition": f"jaro_winkler_similarity({column}_l, {column}_r) >= 0.9",
                       "label_for_charts": f"{column} similar", "m_probability": (1 - m_same) / 2})
    levels.append({"sql_condition": "ELSE", "label_for_charts": f"{column} different",
                   "m_probability": (1 - m_same) / (2 if fuzzy else 1)})
    return {"output_column_name": column, "comparison_levels": levels}


COMPARISONS = {
    "name": {"output_column_name": "name", "comparison_levels": _NAME_LEVELS},
    "ids": {"output_column_name": "ids", "comparison_levels": _ID_LEVELS},
    "domain": {"output_column_name": "domain", "comparison_levels": _DOMAIN_LEVELS},
    "country": _simple("country", 0.97),
    "city": _simple("city", 0.85, fuzzy=True),
    "industry": _simple("industry", 0.85),
}
BLOCKING_RULES = (("name_norm",), ("siren",), ("lei",), ("duns",), ("domain", "block_country"))
# Exploding rule: records sharing one of their `name_keys` (`features.name_keys`) in a country.
NAME_KEY_RULE = ("name_keys", "block_country")  # block_country: the country, "" when unknown
# EM passes. Pairs sharing a normalised name are mostly duplicates, so EM there separates them
# well and estimates every comparison but the name. Passes blocked on brand or domain are not
# used: their pairs are dominated by sibling companies of one group, which EM then learns as
# "matches"; the name's m probabilities keep their documented defaults instead.
TRAINING_BLOCKS = (("name_norm",),)
# Near-certain matches, to estimate the prior (probability that two random records match).
DETERMINISTIC_RULES = (
    "l.name_norm = r.name_norm AND l.country = r.country AND (l.domain = r.domain OR l.city = r.city)",
    "l.lei = r.lei", "l.siret = r.siret",
)
# The same, on the name alone: what every list has (a name-only list has none of the columns above,
# and its prior fell to a guess ~500 times too small: nothing reached a threshold). Counted too.
NAME_RULE = "l.name_norm = r.name_norm AND l.block_country = r.block_country"
# Two records equal on every normalised column (`DUP_COLUMNS`) are one record typed twice: at
# least this match weight (probability 1 - 1e-6), whatever the model's prior.
REPEAT_WEIGHT = 20.0
# Columns of a record's normalised content: two records equal on all of them are exact repeats.
DUP_COLUMNS = ("name_norm", "domain", "country", "city", "industry", "siren", "siret", "lei", "duns")
PRIOR_RECALL = 0.6
# Least m of a level EM trained (see `_floor_m`).
M_FLOOR = 0.02
# A level's sampled u is trusted only when the random sample saw about this many pairs there.
MIN_SAMPLED_PAIRS = 10
# Columns that make each comparison null when missing (a pair is compared when both records have one).
NULL_COLUMNS = {"name": ("name_norm",), "ids": ("lei", "siren", "duns"), "domain": ("domain",),
                "country": ("country",), "city": ("city",), "industry": ("industry",)}
# Below this many accounts EM has too few pairs to learn from: the documented m defaults are kept.
MIN_EM_RECORDS = 500


@dataclass(frozen=True)
class ModelOptions:
    seed: int = 42
    u_max_pairs: float = 1e6
    prior: float | None = None  # probability two random records match; None: estimated
    floor: float = 0.05  # pairs scored below this probability are not returned
    memory_limit: str = "4GB"  # of the linkage's DuckDB; beyond it DuckDB spills to disk
    engine: str = "duckdb"  # where splink runs: "duckdb" (in memory) or "spark" (`linkage.py`)
    spark_master: str | None = None  # with engine "spark": its master URL (default local[*])


def _same_words(left: list[str] | None, right: list[str] | None, form_l: str | None = None,
                form_r: str | None = None) -> bool:
    """Both names have the same distinguishing words, word by word, abbreviations and typos
    allowed ("kessler svcs" / "kessler services"; a trailing word that mistypes the other record's
    legal form is none): the guard's alignment, as a model level."""
    if not left or not right:
        return False
    extra_l, extra_r = extra_words(left, right, form_l, form_r)
    return not extra_l and not extra_r


def _same_words_arrow(left: pa.Array, right: pa.Array, form_l: pa.Array, form_r: pa.Array) -> pa.Array:
    """`_same_words` over Arrow batches (one Python call per vector, not per pair)."""
    return pa.array([_same_words(*row) for row in zip(left.to_pylist(), right.to_pylist(), form_l.to_pylist(),
                                                       form_r.to_pylist(), strict=True)], pa.bool_())


def _same_words_rows(rows: list[tuple]) -> list[bool]:
    return [_same_words(*row) for row in rows]


# Records from which the word alignment of the blocked pairs runs in forked processes (see `_words_pool`).
WORDS_PARALLEL_FROM = 100_000
# Smaller batches are aligned in this process (moving them costs about what they take).
WORDS_MIN_BATCH = 64


@contextmanager
def _words_pool(records: int):
    """The `accountree_same_words` UDF: in this process for a small workspace; else each batch that
    DuckDB's threads hand over goes to one of a forked process per core. The alignment is Python
    (the guard's), ~30 µs a pair, and a Python UDF holds the interpreter lock: DuckDB's threads took
    turns on one core for it (at 1 M accounts ~2 M pairs reach it). A thread waiting for its
    batch releases the lock, so both threads keep a worker busy. Workers are started (forked)
    before the linkage's DuckDB exists, with the parent's objects frozen out of their collections."""
    from accountree.resolve import parallel

    count = parallel.workers()
    if records < WORDS_PARALLEL_FROM or count < 2 or "fork" not in mp.get_all_start_methods():
        yield _same_words_arrow
        return
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(count, mp_context=mp.get_context("fork"))
        for started in [pool.submit(_same_words_rows, []) for _ in range(count)]:
            started.result()
    finally:
        gc.unfreeze()

    def udf(left: pa.Array, right: pa.Array, form_l: pa.Array, form_r: pa.Array) -> pa.Array:
        rows = list(zip(left.to_pylist(), right.to_pylist(), form_l.to_pylist(), form_r.to_pylist(), strict=True))
        found = pool.submit(_same_words_rows, rows).result() if len(rows) >= WORDS_MIN_BATCH else _same_words_rows(rows)
        return pa.array(found, pa.bool_())

    try:
        yield udf
    finally:
        pool.shutdown(cancel_futures=True)


def _within_edits_arrow(left: pa.Array, right: pa.Array, edits: pa.Array) -> pa.Array:
    """`levenshtein(left, right) <= edits` over Arrow batches: rapidfuzz's bit-parallel Levenshtein
    stops at the bound, where DuckDB's `levenshtein` fills the whole matrix (avg. 23-letter names:
    ~6 µs a pair, most of the blocked pairs' comparison time). Null when a side is null, as there."""
    lefts, rights, bounds = left.to_pylist(), right.to_pylist(), edits.to_pylist()
    out: list[bool | None] = []
    for a, b, k in zip(lefts, rights, bounds, strict=True):
        out.append(None if a is None or b is None or k is None
                   else Levenshtein.distance(a, b, score_cutoff=k) <= k)
    return pa.array(out, pa.bool_())


def _prior(n: int) -> float:
    """Prior match probability when it cannot be estimated: ~5 % duplicates among n records."""
    return min(0.5, max(1e-9, 0.05 / max(n - 1, 1)))


def _nonnull_pairs(features: pa.Table, columns: tuple[str, ...]) -> int:
    """Pairs of records for which a comparison is not null: both records have a value in at least
    one of `columns` (exact, from the counts of each presence pattern; no pair is enumerated)."""
    present = [[v is not None for v in features.column(c).to_pylist()] for c in columns]
    patterns = Counter(zip(*present, strict=True))
    total = 0
    items = sorted(patterns.items())
    for i, (a, ca) in enumerate(items):
        for b, cb in items[i:]:
            if any(x and y for x, y in zip(a, b, strict=True)):
                total += ca * (ca - 1) // 2 if a == b else ca * cb
    return total


def dup_keys(features: pa.Table) -> list[str]:
    """Per record, its normalised content (`DUP_COLUMNS`) as one key: exact repeats share it."""
    cols = [features.column(c).to_pylist() for c in DUP_COLUMNS]
    return ["\x1f".join("" if v is None else str(v) for v in row) for row in zip(*cols, strict=True)]


def distinct_records(features: pa.Table) -> pa.Table:
    """One record per `dup_key` (the first): the population the model's u and term frequencies are
    counted on. A company typed 50 times the same way is one company, not 50 that happen to share
    a name: counted per record, exact repeats made a name look common and "same name" look like
    chance (u of "same name" came out as large as the duplicates themselves)."""
    keys = features.column("dup_key").to_pylist()
    seen: dict[str, int] = {}
    for i, k in enumerate(keys):
        seen.setdefault(k, i)
    return features.take(pa.array(sorted(seen.values()), pa.int64()))


def tf_lookup(distinct: pa.Table) -> pa.Table:
    """splink's term-frequency lookup of `name_norm`: for a name carried by k ≥ 3 *different*
    records (distinct `dup_key`: another city, domain, identifier…), tf = (k − 2) / records, the
    share of records carrying it besides the two compared; names carried by one or two distinct
    records are left out (no adjustment: with tf = k / records, splink's own count, the two records
    of a duplicate pair made their own name "common" and the pair improbable — 4 of the demo's
    true pairs fell under the threshold). splink then weighs an exact name log2(m / max(tf, u)) instead of log2(m / u): a
    name held by one company is strong evidence, "Services" held by twelve records of twelve
    cities is not. Exact repeats count once (see `distinct_records`); the adjustment only lowers a
    weight (`_weights_sql`), so a name that is merely rare never outweighs the model's u."""
    counts = Counter(n for n in distinct.column("name_norm").to_pylist() if n)
    total = max(distinct.num_rows, 1)
    common = sorted((n, c) for n, c in counts.items() if c >= 3)
    return pa.table({"name_norm": pa.array([n for n, _ in common], pa.string()),
                     "tf_name_norm": pa.array([(c - 2) / total for _, c in common], pa.float64())})


def _blocked_u(backend: Backend, table: str, linker, features: pa.Table,
               u_max_pairs: float, model=None) -> dict[str, dict[int, float]]:
    """u of every level from the blocked pairs: count(level) / non-null pairs of the comparison.

    Blocking keeps every pair that agrees on a name, a registry id or a domain and nearly every pair
    whose names are one typo or one word apart, so those counts are exact lower bounds of the
    random-pair counts; the random sample only sees such pairs when the workspace is small (a
    level seen in none of 1 M sampled pairs gets an arbitrary default u, which made the model lose
    recall as the workspace grew). A level keeps its sampled u when the sample saw it often enough
    (≥ MIN_SAMPLED_PAIRS times) and that u is the larger: the common levels (different names,
    same country…) are mostly outside the blocks. Counted over `features` = the distinct records
    (pairs of exact repeats are left out: they are duplicates, not chance agreements); a level no
    pair of different records reached gets the u of one pair. Returns, per comparison, level -> u used."""
    used: dict[str, dict[int, float]] = {}
    model = model or linker  # the linker whose prior and m are used (`linker` sampled u)
    prior = model._settings_obj._probability_two_random_records_match
    m_of = {(c.output_column_name, lv.comparison_vector_value): lv._m_probability or 0.0
            for c in model._settings_obj.comparisons for lv in c._comparison_levels_excluding_null}
    for comparison in linker._settings_obj.comparisons:
        name = comparison.output_column_name
        gamma = comparison._gamma_column_name
        found_at = backend.query(f"SELECT {gamma}, count(*) AS pairs FROM (SELECT DISTINCT {gamma}, dup_l, dup_r "  # noqa: S608
                                 f"FROM {table} WHERE NOT is_repeat) v GROUP BY {gamma}")
        counts = dict(zip(found_at.column(0).to_pylist(), found_at.column(1).to_pylist(), strict=True))
        nonnull = _nonnull_pairs(features, NULL_COLUMNS[name])
        sampled_nonnull = min(u_max_pairs, nonnull)
        used[name] = {}
        for level in comparison._comparison_levels_excluding_null:
            if level._is_else_level:
                continue
            # the pairs at this level less the duplicates expected there (prior · pairs · m): u is
            # the chance agreement of *non-matching* records; in a list where one company has
            # hundreds of spellings most one-typo pairs are that company's, not chance
            found = counts.get(level.comparison_vector_value, 0)
            m = m_of.get((name, level.comparison_vector_value), 0.0)
            expected = prior * nonnull * m
            exact = max(found - expected, 0.0) / nonnull if nonnull else 0.0
            sampled = level._u_probability if isinstance(level._u_probability, float) else 0.0
            if sampled * sampled_nonnull < MIN_SAMPLED_PAIRS or level.label_for_charts in NEAR_NAME_LEVELS:
                sampled = 0.0  # the blocks hold every pair at a near-name level: its count is exact
            # a random pair is a duplicate with probability `prior`: P(level) = prior·m + (1 - prior)·u
            sampled = max(sampled - prior * m, 0.0) / (1 - prior)
            # never seen among different records: as if one pair had been (a name shared by none)
            used[name][level.comparison_vector_value] = max(exact, sampled, 1 / max(nonnull, 1))
    _apply_u(linker, used)
    return used


# Name levels that are near-certain when nothing contradicts them (same name, same words in
# another order, one typo, same words up to abbreviations): counted for the prior of any list.
# Below this many pairs in the closure, the name's m keep their defaults (too few to count on).
MIN_CLOSURE_PAIRS = 50
NEAR_NAME_LEVELS = ("same name", "same words", "one typo", "same words up to abbreviations and typos")


def _closure_pairs(left: list, right: list) -> tuple[int, dict]:
    """Pairs of records inside the connected components of the pairs (left[i], right[i]), and the
    component (a member's id) of each record linked."""
    parent: dict = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(left, right, strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
    component = {x: root(x) for x in list(parent)}
    sizes = Counter(component.values())
    return sum(k * (k - 1) // 2 for k in sizes.values()), component


def _near_name_prior(backend: Backend, table: str, linker, records: int) -> float:
    """The prior from the blocked pairs whose names are near-certain (`NEAR_NAME_LEVELS`) and that
    nothing contradicts (no conflicting id, no other country, no other domain): the pairs of records
    that these links put in one cluster (transitive closure: a company written a hundred ways is
    ~5,000 pairs, of which only the one-typo neighbours are linked directly), over all pairs;
    used when it is larger than the estimate of the deterministic rules.

    The rules need a domain, a city or an identifier, or an exact name; a list with a name alone,
    where one company is written a hundred ways, has few exact names and many one-typo ones: its
    prior came out 5 to 500 times too small and no pair reached a threshold. Kept: the larger."""
    settings = linker._settings_obj
    levels = {c.output_column_name: {lv.label_for_charts: lv.comparison_vector_value
                                     for lv in c._comparison_levels_excluding_null} for c in settings.comparisons}
    near = ", ".join(str(int(levels["name"][label])) for label in NEAR_NAME_LEVELS)
    query = (f"SELECT DISTINCT dup_l, dup_r FROM {table} WHERE NOT is_repeat AND gamma_name IN ({near}) "  # noqa: S608
             f"AND gamma_ids <> {int(levels['ids']['conflicting ids'])} "
             f"AND gamma_country <> {int(levels['country']['country different'])} "
             f"AND gamma_domain <> {int(levels['domain']['domain different'])}")
    near_pairs = backend.query(query)
    count, component = _closure_pairs(near_pairs.column(0).to_pylist(), near_pairs.column(1).to_pylist())
    pairs = records * (records - 1) / 2  # records: the distinct ones
    estimate = min(0.5, count / pairs) if pairs else 0.0
    if estimate > settings._probability_two_random_records_match:
        settings._probability_two_random_records_match = estimate
        if count >= MIN_CLOSURE_PAIRS:
            _name_m_from_closure(backend, table, settings, component, count)
    return settings._probability_two_random_records_match


def _name_m_from_closure(backend: Backend, table: str, settings, component: dict, count: int) -> None:
    """m of the name levels = the share of the closure's pairs that the blocks hold at that level.

    The defaults (one typo 0.2, same name 0.55…) describe a list where a company has two or three
    records; where one company has a hundred spellings, its pairs are mostly far apart in spelling
    (only neighbours are one typo apart) and the defaults put 5 to 10 times too many duplicates on
    each near level: u, counted as the pairs there less the expected duplicates, then absorbed
    the duplicates and "one typo" weighed nothing. Levels no closure pair reached keep their default."""
    comp = pa.table({"dup_id": pa.array(list(component), pa.int64()),
                     "comp": pa.array(list(component.values()), pa.int64())})
    backend.register(comp, "accountree_components")
    rows = backend.query(
        f"SELECT gamma_name, count(*) AS pairs FROM (SELECT DISTINCT gamma_name, dup_l, dup_r FROM {table} "  # noqa: S608
        "WHERE NOT is_repeat) v JOIN accountree_components a ON a.dup_id = v.dup_l "
        "JOIN accountree_components b ON b.dup_id = v.dup_r WHERE a.comp = b.comp GROUP BY gamma_name")
    inside = dict(zip(rows.column(0).to_pylist(), rows.column(1).to_pylist(), strict=True))
    for comparison in settings.comparisons:
        if comparison.output_column_name != "name":
            continue
        for level in comparison._comparison_levels_excluding_null:
            if not level._is_else_level and inside.get(level.comparison_vector_value):
                level._m_probability = min(0.95, inside[level.comparison_vector_value] / count)


def _floor_m(linker) -> None:
    """m of every level EM trained, at least M_FLOOR. EM learns from pairs sharing a name; when
    none of them disagrees on, say, the domain, "domain different" is not observed and splink would
    keep its default m (0.3) — in a small workspace — while one such pair in a larger one gives
    m = 0.002 (-9 bits): the same evidence would weigh differently with the workspace size, and a
    duplicate whose rep typed another industry would be lost. The floor bounds that penalty."""
    for comparison in linker._settings_obj.comparisons:
        for level in comparison._comparison_levels_excluding_null:
            if level._trained_m_probabilities:
                trained = level._trained_m_median or 0.0
                level.m_probability = max(trained, M_FLOOR)


def _apply_u(linker, used: dict[str, dict[int, float]]) -> None:
    for comparison in linker._settings_obj.comparisons:
        for level in comparison._comparison_levels_excluding_null:
            u = used.get(comparison.output_column_name, {}).get(level.comparison_vector_value)
            if u is not None:
                level.u_probability = u


def _compare_blocked_pairs(linker):
    """Compare every blocked pair once; returns splink's output and a subquery on it giving each
    pair's comparison levels (gamma_<comparison>), `FROM`-ready (the pairs are stored once).

    splink's predict gives per-comparison match weights, not levels; the weights are set for this
    pass to -(level + 1) (m = 2^-(level+1), u = 1: exact in floating point, 0 for a null level),
    so each weight names its level. The trained m and u are put back afterwards."""
    saved = []
    for comparison in linker._settings_obj.comparisons:
        for level in comparison._comparison_levels_excluding_null:
            saved.append((level, level._m_probability, level._u_probability))
            level._m_probability = 2.0 ** -(level.comparison_vector_value + 1)
            level._u_probability = 1.0
    try:
        compared = linker.inference.predict(warning_mode="never")
    finally:
        for level, m, u in saved:
            level._m_probability, level._u_probability = m, u
    levels = ", ".join(f"CAST(-mw_{c} - 1 AS TINYINT) AS gamma_{c}" for c in COMPARISONS)
    # splink's TF adjustment of this pass (u = 1): -log2(tf) of the name, 0 without adjustment
    return compared, (f"(SELECT p.unique_id_l, p.unique_id_r, {levels}, "  # noqa: S608 - constants
                      f"coalesce(p.mw_tf_adj_name, 0) AS tf_name, least(p.dup_id_l, p.dup_id_r) AS dup_l, "
                      f"greatest(p.dup_id_l, p.dup_id_r) AS dup_r, p.dup_id_l = p.dup_id_r AS is_repeat "
                      f"FROM {compared.physical_name} p) gammas")


def _weights_sql(linker) -> tuple[list[str], str]:
    """Per comparison `CASE gamma … END AS mw_<name>` (trained weights, 0 when null), and the prior weight."""
    settings = linker._settings_obj
    parts = []
    for comparison in settings.comparisons:
        gamma = comparison._gamma_column_name
        whens = []
        for level in comparison._comparison_levels_excluding_null:
            weight = level._log2_bayes_factor
            weight = max(-60.0, min(60.0, weight)) if math.isfinite(weight) else (60.0 if weight > 0 else -60.0)
            whens.append(f"WHEN {int(level.comparison_vector_value)} THEN CAST({weight!r} AS DOUBLE)")
        case = f"CASE {gamma} {' '.join(whens)} ELSE CAST(0 AS DOUBLE) END"
        tf_levels = [lv for lv in comparison._comparison_levels_excluding_null if lv._has_tf_adjustments]
        if tf_levels:  # splink's adjustment log2(u) - log2(tf), applied when it lowers the weight
            adjust = " ".join(f"WHEN {gamma} = {int(lv.comparison_vector_value)} AND tf_{comparison.output_column_name} > 0 THEN "
                              f"least(CAST(0 AS DOUBLE), {lv._tf_adjustment_weight!r} * "
                              f"(CAST({math.log2(lv.u_probability)!r} AS DOUBLE) + tf_{comparison.output_column_name}))"
                              for lv in tf_levels)
            case = f"{case} + CASE {adjust} ELSE CAST(0 AS DOUBLE) END"
        parts.append(f"{case} AS mw_{comparison.output_column_name}")
    prior = settings._probability_two_random_records_match
    return parts, f"CAST({math.log2(prior / (1 - prior))!r} AS DOUBLE)"


@dataclass
class Scored:
    """`pairs`: `unique_id_l, unique_id_r, match_weight, match_probability`, and per comparison its
    level `gamma_<comparison>` (-1: null) and match weight `mw_<comparison>`, for the pairs at or
    above the floor; `model`: per comparison, its levels' labels and weights (for the evidence);
    `compared`: blocked pairs compared; `prior`: probability that two random records match."""

    pairs: pa.Table
    model: dict
    compared: int = 0
    prior: float | None = None


def score_pairs(features: pa.Table, options: ModelOptions | None = None) -> Scored:
    """Train the model on `features` and score the blocked pairs (see `Scored`).

    Steps: prior from near-certain rules; u by random sampling; every blocked pair compared once
    (splink's predict without threshold, kept by the backend: the comparison levels); u of
    the rare levels recounted on those pairs (`_blocked_u`); m by EM; then the weights are summed
    over the stored comparison levels in SQL and the pairs below `floor` left out. The same model
    on splink's DuckDB (`options.engine="duckdb"`) or Spark backend (`"spark"`, `linkage.py`).
    """
    options = options or ModelOptions()
    if options.engine not in ENGINES:
        raise ConfigError(f"the linkage engine must be one of {', '.join(ENGINES)}, not {options.engine!r}")
    if features.num_rows < 2:
        return Scored(pa.table({"unique_id_l": pa.array([], pa.string()), "unique_id_r": pa.array([], pa.string()),
                                "match_weight": pa.array([], pa.float64()),
                                "match_probability": pa.array([], pa.float64())}), {})
    if options.engine == "spark":  # Spark runs the UDFs in its own Python workers
        with spark_backend(options.spark_master, _same_words_arrow, _within_edits_arrow) as backend:
            return _score_pairs(features, options, backend)
    with _words_pool(features.num_rows) as same_words, \
            duckdb_backend(options.memory_limit, same_words, _within_edits_arrow) as backend:
        return _score_pairs(features, options, backend)


def comparisons(backend: Backend) -> list[dict]:
    """`COMPARISONS` with each level's SQL rendered for the backend (the one definition, DuckDB dialect)."""
    return [{**comparison, "comparison_levels": [{**level, "sql_condition": backend.sql(level["sql_condition"])}
                                                  if level["sql_condition"] != "ELSE" else level
                                                  for level in comparison["comparison_levels"]]}
            for comparison in COMPARISONS.values()]


def u_sample(distinct: pa.Table, max_pairs: float, seed: int) -> tuple[pa.Table, float]:
    """The records whose pairs give the sampled u, and the `max_pairs` that makes splink take all
    of their pairs. They are the records splink's random sampling picks on DuckDB (its
    `proportion_sample_sql`: a hash of the id and the seed), on every backend: Spark's hash is
    another function, and the same seed drew other records there (other u, other weights)."""
    from splink.internals.dialects import DuckDBDialect
    from splink.internals.estimate_u import _rows_needed_for_n_pairs
    from splink.internals.input_column import InputColumn

    proportion = _rows_needed_for_n_pairs(max_pairs) / max(distinct.num_rows, 1)
    if proportion >= 1:
        return distinct, max_pairs
    where = DuckDBDialect().proportion_sample_sql(proportion, [InputColumn("unique_id", sqlglot_dialect_str="duckdb")],
                                                  seed=seed)
    ids = pa.table({"unique_id": distinct.column("unique_id"), "row": pa.array(range(distinct.num_rows), pa.int64())})
    con = duckdb.connect(":memory:")
    try:
        con.register("records", ids)
        rows = con.sql(f"SELECT row FROM records WHERE 1=1 {where} ORDER BY row").to_arrow_table()  # noqa: S608
    finally:
        con.close()
    if rows.num_rows < 2:
        return distinct, max_pairs
    return distinct.take(rows.column("row")), rows.num_rows * (rows.num_rows - 1) / 2


def _score_pairs(features: pa.Table, options: ModelOptions, backend: Backend) -> Scored:
    from splink import Linker, SettingsCreator, block_on

    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)
    keys = dup_keys(features)
    ids: dict[str, int] = {}
    features = features.append_column("dup_key", pa.array(keys, pa.string())).append_column(
        "dup_id", pa.array([ids.setdefault(k, len(ids)) for k in keys], pa.int64()))
    distinct = distinct_records(features)
    data = backend.register(features, "accounts_features")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons(backend),
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in BLOCKING_RULES]
        + [block_on(*NAME_KEY_RULE, arrays_to_explode=["name_keys"])],
        probability_two_random_records_match=options.prior or _prior(features.num_rows),
        retain_matching_columns=False,
        additional_columns_to_retain=["dup_id"],
        retain_intermediate_calculation_columns=True,
        max_iterations=20,
    )
    linker = Linker(data, settings, log_level=None, validate_settings=False)
    linker.table_management.register_term_frequency_lookup(
        backend.register(tf_lookup(distinct), "accountree_tf_name_norm"), "name_norm")
    # prior and u counted among the distinct records (exact repeats are not chance agreements)
    sampler = linker if distinct.num_rows >= 0.98 * features.num_rows else Linker(
        backend.register(distinct, "accounts_distinct"), settings, log_level=None, validate_settings=False)
    if options.prior is None:
        try:
            sampler.training.estimate_probability_two_random_records_match(
                [backend.sql(rule) for rule in (*DETERMINISTIC_RULES, NAME_RULE)], recall=PRIOR_RECALL)
        except Exception as err:  # no deterministic match at all: keep the default
            logging.getLogger(__name__).info("prior not estimated: %s", err)
        estimated = sampler._settings_obj._probability_two_random_records_match
        if not 0 < estimated < 1:  # nothing matched deterministically (e.g. everything merged already)
            estimated = _prior(distinct.num_rows)
        linker._settings_obj._probability_two_random_records_match = estimated
    sample, sample_pairs = u_sample(distinct, options.u_max_pairs, options.seed)
    u_linker = sampler if sample is distinct else Linker(
        backend.register(sample, "accounts_u_sample"), settings, log_level=None, validate_settings=False)
    # in one chunk: splink's chunks are drawn by the backend's hash too, and it stops at the first
    # chunk where every level was seen 100 times (the sample's ~1 M pairs fit in memory)
    u_linker.training.estimate_u_using_random_sampling(max_pairs=sample_pairs, seed=options.seed, num_chunks=1)
    if u_linker is not sampler:  # the sampled u belong to the sampler, as if it had drawn the sample itself
        for into, came in zip(sampler._settings_obj.comparisons, u_linker._settings_obj.comparisons, strict=True):
            for level, sampled in zip(into._comparison_levels_excluding_null, came._comparison_levels_excluding_null,
                                      strict=True):
                level._trained_u_probabilities.extend(sampled._trained_u_probabilities)
        sampler._populate_m_u_from_trained_values()
    compared_pairs, gammas = _compare_blocked_pairs(linker)
    if options.prior is None:
        _near_name_prior(backend, gammas, linker, distinct.num_rows)
    u_used = _blocked_u(backend, gammas, sampler, distinct, options.u_max_pairs, linker)
    _apply_u(linker, u_used)
    for cols in TRAINING_BLOCKS if features.num_rows >= MIN_EM_RECORDS else ():
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*cols))
        except Exception as err:  # too few pairs in a small workspace: keep the defaults
            logging.getLogger(__name__).info("EM pass %s skipped: %s", cols, err)
    _apply_u(linker, u_used)  # EM puts the sampled u back when it ends
    _floor_m(linker)
    parts, prior_weight = _weights_sql(linker)
    weights = [f"mw_{c}" for c in COMPARISONS]
    gamma_columns = [f"gamma_{c}" for c in COMPARISONS]
    total = " + ".join([prior_weight, *weights])
    least = min(max(options.floor, 1e-12), 1 - 1e-12)  # a review threshold of 1 keeps what rounds to 1
    # pairs whose names are near-certain come back whatever their probability: the review queue's
    # safety net (a tiny or odd list where the model has little to learn from)
    near = ", ".join(str(lv.comparison_vector_value) for lv in linker._settings_obj.comparisons[0].comparison_levels
                     if lv.label_for_charts in NEAR_NAME_LEVELS)
    floor = math.log2(least / (1 - least))
    total = f"CASE WHEN is_repeat THEN greatest({total}, CAST({REPEAT_WEIGHT!r} AS DOUBLE)) ELSE {total} END"
    query = (f"SELECT unique_id_l, unique_id_r, {total} AS match_weight, "  # noqa: S608 - numbers from the model
             f"1 / (1 + pow(2, -({total}))) AS match_probability, {', '.join(gamma_columns + weights)} "
             f"FROM (SELECT unique_id_l, unique_id_r, is_repeat, {', '.join(gamma_columns + parts)} FROM {gammas}) w "
             f"WHERE {total} >= CAST({floor!r} AS DOUBLE) OR gamma_name IN ({near})")
    result = backend.query(query).sort_by([("unique_id_l", "ascending"), ("unique_id_r", "ascending")])
    compared = backend.query(f"SELECT count(*) AS pairs FROM {gammas}").column(0)[0].as_py()  # noqa: S608
    compared_pairs.drop_table_from_database_and_remove_from_cache()
    prior = linker._settings_obj._probability_two_random_records_match
    summary = model_summary(linker)
    return Scored(result, summary, compared, prior)


def model_summary(linker) -> dict[str, list[dict]]:
    """Per comparison, per level index (gamma): its label and the match weight the model uses."""
    out: dict[str, list[dict]] = {}
    for comparison in linker._settings_obj.comparisons:
        levels = []
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            weight = level._log2_bayes_factor
            levels.append({"gamma": level.comparison_vector_value, "label": level.label_for_charts,
                           "weight": None if weight is None or math.isinf(weight) else round(weight, 2)})
        out[comparison.output_column_name] = levels
    return out
