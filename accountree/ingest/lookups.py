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
    # user-assigned codes in real use (GLEIF, the EU): not in ISO 3166-1 itself, so not in pycountry
    "xk": "XK", "kosovo": "XK",
}
CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "us$": "USD", "£": "GBP", "¥": "JPY", "fr": "CHF", "chf": "CHF", "sfr": "CHF"}


def fold(text: str) -> str:
    """The key a name is matched on: lower case, no accents, separators as single spaces."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


@lru_cache(maxsize=1)
def country_keys() -> pa.Table:
    import pycountry

    keys: dict[str, str] = {}
    translations = []
    for lang in ("fr", "de", "es", "it"):
        try:
            translations.append(gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]))
        except OSError:
            continue
    for country in pycountry.countries:
        names = {country.alpha_2, country.alpha_3, country.name}
        names.update(getattr(country, attr) for attr in ("official_name", "common_name") if hasattr(country, attr))
        for t in translations:
            names.add(t.gettext(country.name))
        for name in names:
            keys.setdefault(fold(name), country.alpha_2)
    for alias, code in COUNTRY_ALIASES.items():
        keys[fold(alias)] = code
    return pa.table({"key": list(keys), "iso2": list(keys.values())})


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
