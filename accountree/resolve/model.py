"""The probabilistic record-linkage model (splink, Fellegi-Sunter) on an in-memory DuckDB.

`score_pairs(features, seed)` trains the model without labels and returns every blocked pair with
its match probability and the level each comparison fell into (the evidence):

- **Blocking** keeps the work sub-quadratic: a pair is only compared when the two records share
  a normalised name, a registry id (SIREN, LEI, D-U-N-S), a domain, or *within one country* one
  of their name keys (the name with one word left out: a typo or an abbreviation changes one
  word, so the two names still share the key that leaves it out; see `features.name_keys`).
- **Comparisons**: name (exact, same words in another order, one typo, Jaro-Winkler ≥ 0.95 or two
  typos, ≥ 0.88 or most words shared, ≥ 0.80), registry identifiers (one of LEI / SIRET / D-U-N-S equal, SIREN equal,
  conflicting, unknown), domain (equal, same stem on another TLD, different), country, city,
  industry.
- **Training**: u probabilities by random sampling (seeded, so the model is deterministic), m
  probabilities by expectation-maximisation over three blocking passes (brand and country;
  domain; normalised name) so that every comparison is estimated from pairs it did not block on.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from accountree.resolve.guard import extra_words

_NAME_LEVELS = [
    {"sql_condition": "name_norm_l IS NULL OR name_norm_r IS NULL", "label_for_charts": "name missing",
     "is_null_level": True},
    {"sql_condition": "name_norm_l = name_norm_r", "label_for_charts": "same name", "m_probability": 0.55},
    {"sql_condition": "name_sorted_l = name_sorted_r", "label_for_charts": "same words", "m_probability": 0.02},
    {"sql_condition": "levenshtein(name_norm_l, name_norm_r) <= 1", "label_for_charts": "one typo",
     "m_probability": 0.2},
    {"sql_condition": "jaro_winkler_similarity(name_norm_l, name_norm_r) >= 0.85 "
                      "AND accountree_same_words(tokens_l, tokens_r)", "label_for_charts": "same words up to "
     "abbreviations and typos", "m_probability": 0.1},
    {"sql_condition": "jaro_winkler_similarity(name_norm_l, name_norm_r) >= 0.95 OR "
                      "(levenshtein(name_norm_l, name_norm_r) <= 2 AND len(name_norm_l) >= 10)",
     "label_for_charts": "name very similar", "m_probability": 0.06},
    {"sql_condition": "jaro_winkler_similarity(name_norm_l, name_norm_r) >= 0.88 OR "
                      "len(list_intersect(tokens_l, tokens_r)) * 3 >= 2 * greatest(len(tokens_l), len(tokens_r))",
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
BLOCKING_RULES = (("name_norm",), ("siren",), ("lei",), ("duns",), ("domain",))
# Exploding rule: records sharing one of their `name_keys` (the name minus one word) in a country.
NAME_KEY_RULE = ("name_keys", "country")
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
PRIOR_RECALL = 0.6
# Below this many accounts EM has too few pairs to learn from: the documented m defaults are kept.
MIN_EM_RECORDS = 500


@dataclass(frozen=True)
class ModelOptions:
    seed: int = 42
    u_max_pairs: float = 1e6
    prior: float | None = None  # probability two random records match; None: estimated
    floor: float = 0.05  # pairs scored below this probability are not returned
    memory_limit: str = "4GB"  # of the linkage's DuckDB; beyond it DuckDB spills to disk


def _same_words(left: list[str] | None, right: list[str] | None) -> bool:
    """Both names have the same distinguishing words, word by word, abbreviations and typos
    allowed ("kessler svcs" / "kessler services"): the guard's alignment, as a model level."""
    if not left or not right:
        return False
    extra_l, extra_r = extra_words(left, right)
    return not extra_l and not extra_r


def _same_words_arrow(left: pa.Array, right: pa.Array) -> pa.Array:
    """`_same_words` over Arrow batches (one Python call per vector, not per pair)."""
    return pa.array([_same_words(a, b) for a, b in zip(left.to_pylist(), right.to_pylist(), strict=True)], pa.bool_())


def _prior(n: int) -> float:
    """Prior match probability when it cannot be estimated: ~5 % duplicates among n records."""
    return min(0.5, max(1e-9, 0.05 / max(n - 1, 1)))


def score_pairs(features: pa.Table, options: ModelOptions | None = None) -> tuple[pa.Table, dict]:
    """Train the model on `features` and score the blocked pairs.

    Returns (pairs, model_summary): pairs has `unique_id_l, unique_id_r, match_weight,
    match_probability` and one `mw_<comparison>` match weight per comparison; model_summary
    maps each comparison to its level labels and match weights (for the evidence).
    """
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    options = options or ModelOptions()
    empty = pa.table({"unique_id_l": pa.array([], pa.string()), "unique_id_r": pa.array([], pa.string()),
                      "match_weight": pa.array([], pa.float64()), "match_probability": pa.array([], pa.float64())})
    if features.num_rows < 2:
        return empty, {}
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)
    con = duckdb.connect(":memory:")
    con.execute("SET threads = 2")
    con.execute("SET enable_progress_bar = false")
    con.execute("SET memory_limit = ?", [options.memory_limit])
    con.create_function("accountree_same_words", _same_words_arrow, [duckdb.list_type(str), duckdb.list_type(str)],
                        bool, type="arrow", side_effects=False)
    db_api = DuckDBAPI(connection=con)
    data = db_api.register(features, table_name="accounts_features")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=list(COMPARISONS.values()),
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in BLOCKING_RULES]
        + [block_on(*NAME_KEY_RULE, arrays_to_explode=["name_keys"])],
        probability_two_random_records_match=options.prior or _prior(features.num_rows),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
        max_iterations=20,
    )
    linker = Linker(data, settings, log_level=None, validate_settings=False)
    if options.prior is None:
        try:
            linker.training.estimate_probability_two_random_records_match(list(DETERMINISTIC_RULES), recall=PRIOR_RECALL)
        except Exception as err:  # no deterministic match at all: keep the default
            logging.getLogger(__name__).info("prior not estimated: %s", err)
        estimated = linker._settings_obj._probability_two_random_records_match
        if not 0 < estimated < 1:  # nothing matched deterministically (e.g. everything merged already)
            linker._settings_obj._probability_two_random_records_match = _prior(features.num_rows)
    linker.training.estimate_u_using_random_sampling(max_pairs=options.u_max_pairs, seed=options.seed,
                                                     num_chunks=1 if features.num_rows < 20_000 else 10)
    for cols in TRAINING_BLOCKS if features.num_rows >= MIN_EM_RECORDS else ():
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*cols))
        except Exception as err:  # too few pairs in a small workspace: keep the defaults
            logging.getLogger(__name__).info("EM pass %s skipped: %s", cols, err)
    predictions = linker.inference.predict(threshold_match_probability=options.floor, warning_mode="never")
    weights = [f"mw_{c}" for c in COMPARISONS]
    columns = ", ".join(["unique_id_l", "unique_id_r", "match_weight", "match_probability", *weights])
    query = f"SELECT {columns} FROM {predictions.physical_name} ORDER BY unique_id_l, unique_id_r"  # noqa: S608
    result = con.sql(query).to_arrow_table()
    summary = model_summary(linker)
    con.close()
    return result, summary


def model_summary(linker) -> dict[str, list[dict]]:
    """Per comparison, per level index (gamma): its label and trained match weight."""
    out: dict[str, list[dict]] = {}
    for comparison in linker._settings_obj.comparisons:
        levels = []
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            weight = level._log2_bayes_factor if level._has_estimated_values or level._has_estimated_u_values else None
            levels.append({"gamma": level.comparison_vector_value, "label": level.label_for_charts,
                           "weight": None if weight is None or math.isinf(weight) else round(weight, 2)})
        out[comparison.output_column_name] = levels
    return out
