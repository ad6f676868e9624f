"""The sibling guard and the linkage features: pure functions, worked out by hand."""

from __future__ import annotations

import pyarrow as pa

from accountree.resolve.features import _without_common_keys, build_features, domain_stem, name_keys
from accountree.resolve.guard import Record, Verdict, check, extra_words, same_city, same_form, same_word
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
    # a single-shareholder SAS is an SAS; a GmbH is not its GmbH & Co. KG
    assert check("A", rec("Dupont SAS"), "B", rec("Dupont SAS à associé unique")).action == "ok"
    assert check("A", rec("Oak GmbH"), "B", rec("Oak GmbH u. Co. KG")).action == "drop"
    assert check("A", rec("Oak GmbH & Co. KG"), "B", rec("Oak GmbH u. Co. KG")).action == "ok"
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
    assert f[0]["block_country"] == "FR" and f[1]["block_country"] == ""  # unknown countries block together
    assert f[1]["name_norm"] is None and f[1]["tokens"] == []
    assert domain_stem("kessler.de") == "kessler" and domain_stem(None) is None


def test_mistyped_legal_forms_are_no_distinguishing_words() -> None:
    # a trailing word that mistypes the *other* record's legal form, first letter kept or letters swapped
    assert check("A", rec("Thalau GmbH"), "B", rec("THALAU GsBH")).action == "ok"
    assert check("A", rec("Glenhurst Ltd"), "B", rec("Glenhurst Ld")).action == "ok"
    assert check("A", rec("Gruppo Coretti S.p.A."), "B", rec("Gruppo Coretti S.r.A.")).action == "ok"
    assert check("A", rec("Grenmont SAS"), "B", rec("Grenmont SSA")).action == "ok"
    # … but a word is a word: "Gas" is no "SAS", and without a form on the other side nothing is a typo
    assert check("A", rec("Kessler SAS"), "B", rec("Kessler Gas")).action == "review"
    assert check("A", rec("Glenhurst"), "B", rec("Glenhurst Ld")).action == "review"


def test_abbreviations_are_short_and_numbers_exact() -> None:
    assert same_word("distrib", "distribution") and same_word("svcs", "services") and same_word("mgmt", "management")
    assert not same_word("reti", "retail")  # a prefix of 2/3 of the word is another word
    assert not same_word("bremau", "bremhausen")  # a long subsequence not ending like the word
    assert not same_word("intl", "industrial")  # a generic word's spelling abbreviates nothing else
    assert not same_word("2021", "2012") and not same_word("fund2", "fund3")
    assert check("A", rec("Blackstone Fund 2"), "B", rec("Blackstone Fund 3")).action == "drop"
    # "Dtl." (Deutschland) distinguishes an entity; "nIc" is a mistyped "Inc"
    assert check("A", rec("Kirchwerk Cloud Dtl."), "B", rec("Kirchwerk Cloud")).action == "review"
    assert extra_words(["acme", "nic"], ["acme"]) == ([], [])


def test_two_typos_apart_and_places_go_to_review() -> None:
    # two mistyped copies of one name are not "different words" (that would hold their cluster back)
    assert check("A", rec("Balón Indstrial"), "B", rec("Balón Induustrial S.A.")) == Verdict(
        "review", "close words: indstrial / induustrial")
    # a more precise place is the same place; another street is not
    assert same_city("frankfurt", "frankfurt am main") and same_city("1073 w maxwell st", "1073 w maxwell")
    assert not same_city("lyon", "paris") and not same_city("5610 w lake st", "5612 w lake st")


def test_each_domain_spelling_its_own_name_and_two_groups_hold_a_pair_back() -> None:
    left = Record(name_tokens("Lamelle Prime"), {}, None, None, frozenset(), "A", "lamelleprime")
    right = Record(name_tokens("Lavelle Prime"), {}, None, None, frozenset(), "B", "lavelleprime")
    assert check("A", left, "B", right) == Verdict("review", "each domain spells its own name: lamelleprime / lavelleprime")
    # a record that merely uses another TLD or the group's site is no objection
    same_stem = Record(name_tokens("Lamele Prime"), {}, None, None, frozenset(), "B", "lamelleprime")
    assert check("A", left, "B", same_stem).action == "ok"
    a = rec("Calbano Energía S.A.", ancestors=("P1",), top="P1")
    b = rec("Calbano Energia", ancestors=("P2",), top="P2")
    assert check("A", a, "B", b) == Verdict("review", "in two different groups")


def test_name_keys_block_one_typo_one_abbreviation_one_word() -> None:
    def shared(a: str, b: str) -> set[str]:
        return set(name_keys(name_tokens(a))) & set(name_keys(name_tokens(b)))

    assert shared("Kessler Services", "Kessler Svcs") == {"kessler", "^kes|ks"}
    assert "thalau" in shared("Thalau GmbH", "THALAU GsBH")  # a word more (a mistyped form)
    assert "~chamchmp" in shared("Chamchamp GmbH", "Chamcahmp GmbH")  # one-word names: deletions
    assert shared("Fairdale Corporation", "Fairdall") == {"~fairdal"}
    assert "^ash|as" in shared("Ashhaven Solutions Ltd", "Ashhaevn Sol. Ltd")  # a typo and an abbreviation
    assert "boiseau solutions" in shared("Boiseau Solutions SA/NV", "BOISEAU SOLUTIONS SA/V")
    assert not shared("Kessler Services", "Acme Consulting")
    # a key held by too many records of a country blocks nothing there
    keys = [["prime", "acme"], ["prime", "beta"], ["prime", "gamma"], ["prime", "delta"]]
    assert _without_common_keys(keys, ["FR", "FR", "FR", "DE"], limit=2) == [["acme"], ["beta"], ["gamma"], ["prime", "delta"]]
