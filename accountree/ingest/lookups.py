"""Reference tables the checks join against: countries, currencies and rates.

Loaded into the staging connection once per import. Country names come from pycountry in
English, French and German, plus the aliases CRM users really type (UK, USA, Deutschland…).
"""

from __future__ import annotations

import csv
import gettext
import unicodedata
from functools import lru_cache
from importlib import resources

import duckdb
import pyarrow as pa

COUNTRY_ALIASES = {
    "uk": "GB", "u k": "GB", "england": "GB", "great britain": "GB", "scotland": "GB", "wales": "GB",
    "united kingdom": "GB", "royaume uni": "GB", "grande bretagne": "GB", "angleterre": "GB",
    "usa": "US", "u s a": "US", "us": "US", "u s": "US", "united states": "US", "america": "US",
    "etats unis": "US", "etats unis d amerique": "US", "vereinigte staaten": "US",
    "deutschland": "DE", "allemagne": "DE", "germany": "DE", "suisse": "CH", "schweiz": "CH",
    "svizzera": "CH", "belgique": "BE", "belgie": "BE", "belgien": "BE", "espana": "ES", "espagne": "ES",
    "italia": "IT", "italie": "IT", "nederland": "NL", "pays bas": "NL", "holland": "NL",
    "osterreich": "AT", "autriche": "AT", "luxembourg": "LU", "luxemburg": "LU", "portugal": "PT",
    "russia": "RU", "south korea": "KR", "korea": "KR", "czech republic": "CZ", "turkey": "TR",
    "ivory coast": "CI", "cote d ivoire": "CI", "north korea": "KP", "korea north": "KP",
    # user-assigned codes in real use (GLEIF, the EU): not in ISO 3166-1 itself, so not in pycountry
    "xk": "XK", "kosovo": "XK",
}
CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "us$": "USD", "£": "GBP", "¥": "JPY", "fr": "CHF", "chf": "CHF", "sfr": "CHF"}


def fold(text: str) -> str:
    """The key a name is matched on: lower case, no accents, separators as single spaces."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """Every folded name of every country -> ISO-2: pycountry's codes, names, official and common
    names in English with their French, German, Spanish and Italian translations (pycountry's
    gettext catalogues), `Korea, Republic of` also as `Republic of Korea` and, when only one
    country has it, `Korea`-style heads; then the aliases CRM users type."""
    import pycountry

    translations = []
    for lang in ("fr", "de", "es", "it"):
        try:
            translations.append(gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]))
        except OSError:
            continue
    names_of: dict[str, set[str]] = {}
    for country in pycountry.countries:
        names = {country.name}
        names.update(getattr(country, attr) for attr in ("official_name", "common_name") if hasattr(country, attr))
        names.update(t.gettext(n) for t in translations for n in list(names))
        names_of[country.alpha_2] = names
    heads: dict[str, set[str]] = {}
    for code, names in names_of.items():
        for name in list(names):
            head, sep, tail = name.partition(", ")
            if sep:
                names.add(f"{tail} {head}")
                heads.setdefault(fold(head), set()).add(code)
    keys: dict[str, str] = {}
    for country in pycountry.countries:
        for name in (country.alpha_2, country.alpha_3, *sorted(names_of[country.alpha_2])):
            keys.setdefault(fold(name), country.alpha_2)
    for head, codes in heads.items():
        if len(codes) == 1:
            keys.setdefault(head, next(iter(codes)))
    for alias, code in COUNTRY_ALIASES.items():
        keys[fold(alias)] = code
    return keys


@lru_cache(maxsize=1)
def country_keys() -> pa.Table:
    keys = country_names()
    return pa.table({"key": list(keys), "iso2": list(keys.values()), "guess": pa.nulls(len(keys), pa.string())})


# A misspelt country is read as the closest name only when it is close (similarity >= GUESS_SCORE,
# rapidfuzz token-sort and token-set ratios on folded names, 0-100) and clearly closer than any other country's
# name (by GUESS_MARGIN points). Measured in tests/test_ingest_warnings.py on misspellings and on
# values that are no country (cities, regions, `Asia/Pacific Region`).
GUESS_SCORE = 85.0
GUESS_MARGIN = 8.0
GUESS_MIN_LENGTH = 4


def country_name(code: str) -> str:
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def guess_country(text: str) -> tuple[str, str] | None:
    """(ISO-2, `Germany`) when `text` is clearly a misspelling of one country's name, else None."""
    from rapidfuzz import fuzz, process

    key = fold(text)
    if len(key.replace(" ", "")) < GUESS_MIN_LENGTH:
        return None
    names = country_names()
    choices = [k for k in names if len(k) >= GUESS_MIN_LENGTH]
    cutoff = GUESS_SCORE - GUESS_MARGIN
    close: dict[str, float] = {}  # token-sort: the same words, misspelt or reordered
    for name, score, _ in process.extract(key, choices, scorer=fuzz.token_sort_ratio, limit=40, score_cutoff=cutoff):
        close[names[name]] = max(close.get(names[name], 0.0), score)
    rivals = dict(close)  # token-set also: a word of another country's name (`Dominican`) competes
    for name, score, _ in process.extract(key, choices, scorer=fuzz.token_set_ratio, limit=40, score_cutoff=cutoff):
        rivals[names[name]] = max(rivals.get(names[name], 0.0), score)
    if not close:
        return None
    code, score = max(close.items(), key=lambda kv: kv[1])
    if score < GUESS_SCORE or any(s > score - GUESS_MARGIN for c, s in rivals.items() if c != code):
        return None
    return code, country_name(code)


def add_country_guesses(con: duckdb.DuckDBPyConnection, values: list[str]) -> None:
    """Extend the staging `__countries` with the clear guesses for these unknown keys."""
    rows = []
    for key in values:
        found = guess_country(key)
        if found:
            rows.append((key, found[0], f"{found[0]} ({found[1]})"))
    if not rows:
        return
    table = pa.table({"key": [r[0] for r in rows], "iso2": [r[1] for r in rows], "guess": [r[2] for r in rows]})
    con.register("__guess_src", table)
    try:
        con.execute("INSERT INTO __countries SELECT key, iso2, guess FROM __guess_src")
    finally:
        con.unregister("__guess_src")


@lru_cache(maxsize=1)
def builtin_rates() -> dict[str, float]:
    """Units of EUR for one unit of each currency (see fx_rates.csv for the date and source)."""
    text = resources.files("accountree.ingest").joinpath("fx_rates.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {r["currency"]: float(r["eur_per_unit"]) for r in rows}


def rates_in(reporting_currency: str, overrides: dict[str, float]) -> dict[str, float]:
    """Units of the reporting currency for one unit of each currency; user rates win."""
    eur = builtin_rates()
    base = eur.get(reporting_currency)
    rates = {cur: value / base for cur, value in eur.items()} if base else {}
    rates[reporting_currency] = 1.0
    rates.update(overrides)
    return rates


def load_lookups(con: duckdb.DuckDBPyConnection, rates: dict[str, float]) -> None:
    con.register("__country_src", country_keys())
    con.execute("CREATE OR REPLACE TEMP TABLE __countries AS SELECT * FROM __country_src")
    con.unregister("__country_src")
    symbols = pa.table({"key": list(CURRENCY_SYMBOLS), "code": list(CURRENCY_SYMBOLS.values())})
    con.register("__symbols_src", symbols)
    con.execute("CREATE OR REPLACE TEMP TABLE __currency_symbols AS SELECT * FROM __symbols_src")
    con.unregister("__symbols_src")
    table = pa.table({"currency": list(rates), "rate": list(rates.values())})
    con.register("__rates_src", table)
    con.execute("CREATE OR REPLACE TEMP TABLE __rates AS SELECT * FROM __rates_src")
    con.unregister("__rates_src")
