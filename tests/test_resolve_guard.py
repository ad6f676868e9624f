"""The sibling guard and the linkage features: pure functions, worked out by hand."""

from __future__ import annotations

import pyarrow as pa

from accountree.resolve.features import build_features, domain_stem
from accountree.resolve.guard import Record, Verdict, check, extra_words, same_form, same_word
from accountree.resolve.normalize import legal_form, name_tokens


def rec(name: str, ids: dict | None = None, ancestors: tuple = (), top: str = "", city: str | None = None) -> Record:
    return Record(name_tokens(name), ids or {}, legal_form(name), city, frozenset(ancestors), top)


def test_group_siblings_are_never_merged() -> None:
    # The brief's example: one group, shared brand, domain and country, two legal entities.
    verdict = check("A2", rec("Airbus Defence and Space GmbH"), "A3", rec("Airbus Operations SAS"))
    assert verdict == Verdict("drop", "different legal forms: GmbH / SAS")
    verdict = check("A2", rec("Airbus Defence and Space"), "A3", rec("AIRBUS OPERATIONS"))
    assert verdict == Verdict("drop", "different words: defence space / operations")


def test_parent_and_child_are_never_merged() -> None:
    child = rec("Airbus Operations", ancestors=("A1",), top="A1")
    assert check("A1", rec("Airbus", top="A1"), "A3", child).action == "drop"


def test_extra_words_go_to_review_not_auto() -> None:
    assert check("X", rec("Kessler"), "Y", rec("Kessler Énergie")).action == "review"
    # … but inside one known group they are siblings: dropped
    a, b = rec("Kessler", ancestors=("H",), top="H"), rec("Kessler Énergie", ancestors=("H",), top="H")
    assert check("X", a, "Y", b).action == "drop"


def test_conflicting_identifiers_and_legal_forms_drop() -> None:
    site = rec("Dupont", {"siren": "383474814", "siret": "38347481400019"})
    entity = rec("Dupont", {"siren": "383474814", "siret": "38347481400027"})
    assert check("S", site, "E", entity).reason == "different SIRET"
    assert check("A", rec("Oak Deutschland GmbH"), "B", rec("Oak Deutschland GmbH & Co. KG")).action == "drop"
    # bilingual Belgian forms are one form
    assert same_form("SA", "NV") and same_form(None, "GmbH") and not same_form("S.p.A.", "S.r.l.")
    # a shared LEI overrides different words: a human decides
    lei = {"lei": "969500EURTVCD9WACB61"}
    assert check("A", rec("Acme Services", lei), "B", rec("Acme Conseil", lei)).action == "review"


def test_duplicate_spellings_pass() -> None:
    assert check("A", rec("Société Générale S.A."), "B", rec("Sté Generale")).action == "ok"
    assert check("A", rec("Kessler Services GmbH"), "B", rec("KESSLER SVCS")).action == "ok"
    assert check("A", rec("Thornhaven LLC"), "B", rec("Tohrnhaven")).action == "ok"
    assert check("A", rec("Procter & Gamble"), "B", rec("Procter and Gamble")).action == "ok"
    assert check("A", rec("Groupe Rosery"), "B", rec("Groape Rosery")).action == "ok"
    assert check("A", rec("Acme", city="lyon"), "B", rec("Acme", city="paris")).action == "review"


def test_word_matching() -> None:
    assert same_word("svcs", "services") and same_word("tech", "technologies") and same_word("dtl", "deutschland")
    assert same_word("garnds", "grands")  # transposition
    assert not same_word("lyon", "lille") and not same_word("sol", "services")
    assert extra_words(["kessler", "energie"], ["kessler", "cloud"]) == (["energie"], ["cloud"])
    assert extra_words(["data", "ia"], ["dataia"]) == ([], [])


def test_features() -> None:
    accounts = pa.table({
        "account_id": ["1", "2"], "name": ["Acme Group S.A.S.", None],
        "website": ["https://www.acme-group.com/fr", None], "siret": ["383 474 814 00019", None],
        "lei": ["969500eurtvcd9wacb61", "short"], "duns": ["12-345-6789", None], "country": ["fr", None],
        "city": ["Saint-Étienne", None],
    })
    f = build_features(accounts).to_pylist()
    assert f[0]["name_norm"] == "acme group" and f[0]["legal_form"] == "SAS"
    assert f[0]["domain"] == "acme-group.com" and f[0]["domain_stem"] == "acme"
    assert f[0]["siren"] == "383474814" and f[0]["siret"] == "38347481400019"
    assert f[0]["lei"] == "969500EURTVCD9WACB61" and f[1]["lei"] is None
    assert f[0]["duns"] == "123456789" and f[0]["country"] == "FR" and f[0]["city"] == "saint etienne"
    assert f[1]["name_norm"] is None and f[1]["tokens"] == []
    assert domain_stem("kessler.de") == "kessler" and domain_stem(None) is None
