"""The linkage input: one row per account, every field normalised the way the model compares it.

Pure functions of an Arrow table of accounts (no I/O). Names go through
`accountree.resolve.normalize`; identifiers are reduced to their digits / upper-case form and
checked for shape (a SIRET gives its SIREN); a domain keeps its registrable part and its *stem*
(`acme-group.com` and `acme.fr` share the stem `acme`), because a rep typing another TLD or the
group site is the most common way one company gets two domains.
"""

from __future__ import annotations

import re

import pyarrow as pa
from unidecode import unidecode

from accountree.resolve.normalize import legal_form, normalize_domain, normalize_names

# Columns read from `accounts` (all optional except account_id and name).
ACCOUNT_FIELDS = (
    "account_id", "name", "parent_id", "domain", "website", "country", "city", "industry",
    "siren", "siret", "lei", "duns",
)
FEATURE_SCHEMA = pa.schema([
    ("unique_id", pa.string()), ("name_norm", pa.string()), ("name_sorted", pa.string()),
    ("tokens", pa.list_(pa.string())), ("name_keys", pa.list_(pa.string())),
    ("legal_form", pa.string()), ("domain", pa.string()), ("domain_stem", pa.string()),
    ("country", pa.string()), ("city", pa.string()), ("industry", pa.string()),
    ("siren", pa.string()), ("siret", pa.string()), ("lei", pa.string()), ("duns", pa.string()),
])
_DIGITS = re.compile(r"\D+")
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


def name_keys(tokens: list[str]) -> list[str]:
    """Blocking keys robust to one typo or abbreviation: the name with one word left out, for each
    word ("kessler svcs" -> "svcs", "kessler"); a one-word name gives its first letter and last three
    letters ("thornhaven" / "tohrnhaven" -> "t~ven")."""
    if len(tokens) == 1:
        word = tokens[0]
        return [f"{word[0]}~{word[-3:]}"] if len(word) >= 4 else []
    return sorted({" ".join(tokens[:i] + tokens[i + 1:]) for i in range(len(tokens))})


def build_features(accounts: pa.Table) -> pa.Table:
    """The linkage table (`FEATURE_SCHEMA`) of an Arrow table of accounts (`ACCOUNT_FIELDS`)."""
    cols = {c: (accounts.column(c).to_pylist() if c in accounts.column_names else [None] * accounts.num_rows)
            for c in ACCOUNT_FIELDS}
    names = normalize_names(cols["name"])
    out: dict[str, list] = {f.name: [] for f in FEATURE_SCHEMA}
    for i, norm in enumerate(names):
        tokens = norm.split()
        raw_name = cols["name"][i]
        domain = normalize_domain(cols["domain"][i]) or normalize_domain(cols["website"][i])
        siret = _digits(cols["siret"][i], 14)
        siren = _digits(cols["siren"][i], 9) or (siret[:9] if siret else None)
        country = cols["country"][i]
        out["unique_id"].append(str(cols["account_id"][i]))
        out["name_norm"].append(norm or None)
        out["name_sorted"].append(" ".join(sorted(tokens)) or None)
        out["tokens"].append(tokens)
        out["name_keys"].append(name_keys(tokens))
        out["legal_form"].append(legal_form(raw_name))
        out["domain"].append(domain)
        out["domain_stem"].append(domain_stem(domain))
        out["country"].append(str(country).upper() if country else None)
        out["city"].append(_text(cols["city"][i]))
        out["industry"].append(_text(cols["industry"][i]))
        out["siren"].append(siren)
        out["siret"].append(siret)
        out["lei"].append(_lei(cols["lei"][i]))
        out["duns"].append(_digits(cols["duns"][i], 9))
    return pa.table(out, schema=FEATURE_SCHEMA)
