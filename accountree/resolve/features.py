"""The linkage input: one row per account, every field normalised the way the model compares it.

Pure functions of an Arrow table of accounts (no I/O). Names go through
`accountree.resolve.normalize`; identifiers are reduced to their digits / upper-case form and
checked for shape (a SIRET gives its SIREN); a domain keeps its registrable part and its *stem*
(`acme-group.com` and `acme.fr` share the stem `acme`), because a rep typing another TLD or the
group site is the most common way one company gets two domains.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from unidecode import unidecode

from accountree.resolve.normalize import looks_like_legal_form, normalize_domain, normalize_names_and_forms
from accountree.resolve.parallel import map_distinct

# Columns read from `accounts` (all optional except account_id and name).
ACCOUNT_FIELDS = (
    "account_id", "name", "parent_id", "domain", "website", "country", "city", "industry",
    "siren", "siret", "lei", "duns",
)
FEATURE_SCHEMA = pa.schema([
    ("unique_id", pa.string()), ("name_norm", pa.string()), ("name_sorted", pa.string()),
    ("tokens", pa.list_(pa.string())), ("name_keys", pa.list_(pa.string())),
    ("legal_form", pa.string()), ("domain", pa.string()), ("domain_stem", pa.string()),
    ("country", pa.string()), ("block_country", pa.string()), ("city", pa.string()), ("industry", pa.string()),
    ("siren", pa.string()), ("siret", pa.string()), ("lei", pa.string()), ("duns", pa.string()),
])
_DIGITS = re.compile(r"\D+")
# A name key held by more records of one country than this blocks nothing (see `_without_common_keys`).
MAX_KEY_RECORDS = 100
_STEM_SUFFIX = re.compile(r"-(?:group|groupe|gruppe|grupo|gruppo|holding|corp|inc|intl|international)$")


def _digits(value: str | None, size: int) -> str | None:
    if not value:
        return None
    digits = _DIGITS.sub("", str(value))
    if len(digits) < size - 2 or len(digits) > size:
        return None
    return digits.zfill(size)


def _lei(value: str | None) -> str | None:
    if not value:
        return None
    text = re.sub(r"[^0-9A-Za-z]", "", str(value)).upper()
    return text if len(text) == 20 else None


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(unidecode(str(value)).lower().replace("-", " ").split())
    return text or None


def domain_stem(domain: str | None) -> str | None:
    """`acme-group.com` -> `acme`: the label a company's domains share across TLDs."""
    if not domain:
        return None
    return _STEM_SUFFIX.sub("", domain.split(".", 1)[0]) or None


def _core(tokens: list[str]) -> list[str]:
    """The name without trailing single letters and mistyped legal forms ("boiseau solutions sa v",
    "clairard asrl" -> "boiseau solutions", "clairard"): for blocking only, where a word too many
    costs a comparison, never a merge."""
    core = list(tokens)
    while len(core) > 1 and not core[-1].isdigit() and (len(core[-1]) == 1 or looks_like_legal_form(core[-1])):
        core.pop()
    return core


def name_keys(tokens: list[str]) -> list[str]:
    """Blocking keys (records sharing one are compared, within a country), robust to one typo, one
    abbreviation, one word more or less:

    - a name of several words: the name itself and the name with one word left out, for each word
      (a typo or an abbreviation changes one word, so both names keep the key that leaves it out;
      a name with one more word has the shorter name as a key: "kessler svcs" -> "kessler svcs",
      "svcs", "kessler"); and `^` + its first three letters + the initials of its words, for a typo
      *and* an abbreviation ("ashhaven solutions" / "ashhaevn sol" -> "^ash|as");
    - a one-word name: itself, and `~` + itself and its one-letter deletions (two words one typo
      apart share one of them: "thornhaven" / "tohrnhaven" -> "~thrnhaven"), from 5 letters;
    - the same for the name without trailing legal-form debris (`_core`).
    """
    keys: set[str] = set()
    if len(tokens) > 1 and len("".join(tokens)) >= 6:  # "mentor graphics" / "mentorgraphics"
        keys.add("=" + "".join(tokens))
    elif len(tokens) == 1 and len(tokens[0]) >= 6:
        keys.add("=" + tokens[0])
    for words in (tokens, _core(tokens)):
        if len(words) == 1:
            word = words[0]
            keys.add(word)
            if len(word) >= 5:
                keys.add("~" + word)
                keys.update("~" + word[:i] + word[i + 1:] for i in range(len(word)))
        elif words:
            keys.add(" ".join(words))
            keys.update(" ".join(words[:i] + words[i + 1:]) for i in range(len(words)))
            keys.add(f"^{words[0][:3]}|{''.join(w[0] for w in words)}")
    return sorted(keys)


def _name_rows(names: list[str | None]) -> pa.Table:
    """The name's columns of the features, one row per name given (run in `parallel.map_distinct`)."""
    norms, forms = normalize_names_and_forms(names)
    tokens = [norm.split() for norm in norms]
    return pa.table({
        "name_norm": pa.array([norm or None for norm in norms], pa.string()),
        "name_sorted": pa.array([" ".join(sorted(t)) or None for t in tokens], pa.string()),
        "tokens": pa.array(tokens, pa.list_(pa.string())),
        "name_keys": pa.array([name_keys(t) for t in tokens], pa.list_(pa.string())),
        "legal_form": pa.array(forms, pa.string()),
    })


def _domain_rows(values: list[str | None]) -> pa.Table:
    """Normalised domain and its stem, one row per domain / website given."""
    domains = [normalize_domain(v) or None for v in values]
    return pa.table({"domain": pa.array(domains, pa.string()),
                     "stem": pa.array([domain_stem(d) for d in domains], pa.string())})


def _text_rows(values: list[str | None]) -> pa.Table:
    return pa.table({"text": pa.array([_text(v) for v in values], pa.string())})


def _strings(accounts: pa.Table, column: str) -> pa.Array:
    """A column as strings (`str()` of each value, as typed), all null when absent."""
    if column not in accounts.column_names:
        return pa.nulls(accounts.num_rows, pa.string())
    values = accounts.column(column).combine_chunks()
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values.cast(pa.string())
    return pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())


def _blank_to_null(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _digit_ids(values: pa.Array, size: int) -> pa.Array:
    """`_digits` over a column (vectorised for ASCII values, which is every real identifier)."""
    if not pc.all(pc.fill_null(pc.string_is_ascii(values), True)).as_py():
        return pa.array([_digits(v, size) for v in values.to_pylist()], pa.string())
    digits = pc.replace_substring_regex(_blank_to_null(values), r"[^0-9]+", "")
    length = pc.utf8_length(digits)
    ok = pc.and_(pc.greater_equal(length, size - 2), pc.less_equal(length, size))
    return pc.if_else(ok, pc.utf8_lpad(digits, size, "0"), pa.scalar(None, pa.string()))


def _lei_ids(values: pa.Array) -> pa.Array:
    text = pc.utf8_upper(pc.replace_substring_regex(_blank_to_null(values), r"[^0-9A-Za-z]", ""))
    return pc.if_else(pc.equal(pc.utf8_length(text), 20), text, pa.scalar(None, pa.string()))


def build_features(accounts: pa.Table) -> pa.Table:
    """The linkage table (`FEATURE_SCHEMA`) of an Arrow table of accounts (`ACCOUNT_FIELDS`).

    Column-wise: what depends on the name (normalised name, legal form, words, name keys) is
    computed once per distinct name — in one forked process per core for a large workspace
    (`parallel.map_distinct`) —, domains, cities and industries once per distinct value, the
    identifiers and the country by Arrow kernels."""
    names = map_distinct(_name_rows, _strings(accounts, "name").to_pylist())
    domain = map_distinct(_domain_rows, _strings(accounts, "domain").to_pylist())
    website = map_distinct(_domain_rows, _strings(accounts, "website").to_pylist())
    has_domain = pc.is_valid(domain.column("domain"))
    siret = _digit_ids(_strings(accounts, "siret"), 14)
    countries = _strings(accounts, "country")
    country = (pc.utf8_upper(_blank_to_null(countries)) if pc.all(pc.fill_null(pc.string_is_ascii(countries), True)).as_py()
               else pa.array([v.upper() if v else None for v in countries.to_pylist()], pa.string()))
    block_country = pc.fill_null(country, "")  # name keys block within it
    out = {
        "unique_id": _strings(accounts, "account_id"),
        "name_norm": names.column("name_norm"), "name_sorted": names.column("name_sorted"),
        "tokens": names.column("tokens"),
        "name_keys": _common_keys_left_out(names.column("name_keys").combine_chunks(), block_country,
                                           MAX_KEY_RECORDS, names.column("name_norm")),
        "legal_form": names.column("legal_form"),
        "domain": pc.if_else(has_domain, domain.column("domain"), website.column("domain")),
        "domain_stem": pc.if_else(has_domain, domain.column("stem"), website.column("stem")),
        "country": country, "block_country": block_country,
        "city": map_distinct(_text_rows, _strings(accounts, "city").to_pylist()).column("text"),
        "industry": map_distinct(_text_rows, _strings(accounts, "industry").to_pylist()).column("text"),
        "siren": pc.coalesce(_digit_ids(_strings(accounts, "siren"), 9), pc.utf8_slice_codeunits(siret, 0, 9)),
        "siret": siret,
        "lei": _lei_ids(_strings(accounts, "lei")),
        "duns": _digit_ids(_strings(accounts, "duns"), 9),
    }
    return pa.table({f.name: out[f.name] for f in FEATURE_SCHEMA}, schema=FEATURE_SCHEMA)


def _array(values: list[str | None] | pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    return values if isinstance(values, pa.Array) else pa.array(values, pa.string())


def _without_common_keys(keys: list[list[str]], countries: list[str], limit: int | None = None,
                         names: list[str | None] | None = None) -> list[list[str]]:
    """Name keys held by more than `limit` (MAX_KEY_RECORDS) distinct names of one country left out: a
    generic word ("prime", "group", "services" — what remains of "Acme Services" without its
    brand) would block every such pair of the country, a cost growing with the square of the
    workspace; the pairs it alone would find are found by another key (measured on the demo: 0.2 %
    of the true pairs lost at 50 k and 200 k accounts, 55 % fewer name-key pairs)."""
    limit = MAX_KEY_RECORDS if limit is None else limit
    # counted over distinct names: a company typed 150 times (exact repeats, "N.V." / "NV") is one
    # name, not a generic word; before, its own keys were dropped and its spellings never compared.
    # Arrow kernels, not Python sets: one (key, country, holder) row per key of each record.
    lists = pa.array(keys, type=pa.list_(pa.string()))
    kept = _common_keys_left_out(lists, countries, limit, names)
    return keys if kept is lists else kept.to_pylist()


def _common_keys_left_out(lists: pa.ListArray, countries: list[str] | pa.Array, limit: int,
                          names: list[str | None] | pa.Array | pa.ChunkedArray | None) -> pa.ListArray:
    """`_without_common_keys` on an Arrow list array (the same array when no key is common)."""
    parents = pc.list_parent_indices(lists)
    flat = pc.binary_join_element_wise(pc.list_flatten(lists), pc.take(_array(countries), parents), "\x00")
    holders = pc.take(_array(names), parents) if names is not None else parents
    counts = pa.table({"key": flat, "holder": holders}).group_by("key").aggregate(
        [("holder", "count_distinct", pc.CountOptions(mode="all"))])
    common = counts.filter(pc.greater(counts["holder_count_distinct"], limit))["key"]
    if len(common) == 0:
        return lists
    kept = pc.invert(pc.is_in(flat, value_set=common))
    per_record = np.bincount(parents.filter(kept).to_numpy(), minlength=len(lists))
    offsets = pa.array(np.concatenate([[0], np.cumsum(per_record)]), pa.int32())
    return pa.ListArray.from_arrays(offsets, pc.list_flatten(lists).filter(kept))
