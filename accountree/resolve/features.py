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

from accountree.resolve.normalize import looks_like_legal_form, normalize_domain
from accountree.resolve.parallel import normalize_names_and_forms

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


def build_features(accounts: pa.Table) -> pa.Table:
    """The linkage table (`FEATURE_SCHEMA`) of an Arrow table of accounts (`ACCOUNT_FIELDS`)."""
    cols = {c: (accounts.column(c).to_pylist() if c in accounts.column_names else [None] * accounts.num_rows)
            for c in ACCOUNT_FIELDS}
    names, forms = normalize_names_and_forms(cols["name"])
    out: dict[str, list] = {f.name: [] for f in FEATURE_SCHEMA}
    domains: dict[object, str | None] = {}  # a group's domain, a city, an industry: computed once each
    texts: dict[object, str | None] = {}

    def domain_of(value: str | None) -> str | None:
        if value not in domains:
            domains[value] = normalize_domain(value)
        return domains[value]

    def text_of(value: str | None) -> str | None:
        if value not in texts:
            texts[value] = _text(value)
        return texts[value]

    for i, norm in enumerate(names):
        tokens = norm.split()
        domain = domain_of(cols["domain"][i]) or domain_of(cols["website"][i])
        siret = _digits(cols["siret"][i], 14)
        siren = _digits(cols["siren"][i], 9) or (siret[:9] if siret else None)
        country = cols["country"][i]
        out["unique_id"].append(str(cols["account_id"][i]))
        out["name_norm"].append(norm or None)
        out["name_sorted"].append(" ".join(sorted(tokens)) or None)
        out["tokens"].append(tokens)
        out["name_keys"].append(name_keys(tokens))
        out["legal_form"].append(forms[i])
        out["domain"].append(domain)
        out["domain_stem"].append(domain_stem(domain))
        out["country"].append(str(country).upper() if country else None)
        out["block_country"].append(str(country).upper() if country else "")  # name keys block within it
        out["city"].append(text_of(cols["city"][i]))
        out["industry"].append(text_of(cols["industry"][i]))
        out["siren"].append(siren)
        out["siret"].append(siret)
        out["lei"].append(_lei(cols["lei"][i]))
        out["duns"].append(_digits(cols["duns"][i], 9))
    out["name_keys"] = _common_keys_left_out(pa.array(out["name_keys"], type=pa.list_(pa.string())),
                                             out["block_country"], MAX_KEY_RECORDS, out["name_norm"])
    return pa.table(out, schema=FEATURE_SCHEMA)


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


def _common_keys_left_out(lists: pa.ListArray, countries: list[str], limit: int,
                          names: list[str | None] | None) -> pa.ListArray:
    """`_without_common_keys` on an Arrow list array (the same array when no key is common)."""
    parents = pc.list_parent_indices(lists)
    flat = pc.binary_join_element_wise(pc.list_flatten(lists),
                                       pc.take(pa.array(countries, pa.string()), parents), "\x00")
    holders = pc.take(pa.array(names, pa.string()), parents) if names is not None else parents
    counts = pa.table({"key": flat, "holder": holders}).group_by("key").aggregate(
        [("holder", "count_distinct", pc.CountOptions(mode="all"))])
    common = counts.filter(pc.greater(counts["holder_count_distinct"], limit))["key"]
    if len(common) == 0:
        return lists
    kept = pc.invert(pc.is_in(flat, value_set=common))
    per_record = np.bincount(parents.filter(kept).to_numpy(), minlength=len(lists))
    offsets = pa.array(np.concatenate([[0], np.cumsum(per_record)]), pa.int32())
    return pa.ListArray.from_arrays(offsets, pc.list_flatten(lists).filter(kept))
