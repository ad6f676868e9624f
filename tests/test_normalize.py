"""Company-name and domain normalisation (accountree.resolve.normalize)."""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path

import pytest

from accountree.resolve.normalize import (
    FREE_MAIL_DOMAINS,
    brand_key,
    is_free_mail_domain,
    legal_form,
    name_tokens,
    normalize_domain,
    normalize_name,
    normalize_names,
)

GLEIF_NAMES = Path(__file__).resolve().parents[2] / "shared" / "data" / "gleif-level1-names-sample" / (
    "gleif_level1_names_sample_1in20.csv"
)
if not GLEIF_NAMES.exists():  # the repository may sit elsewhere than /work/main
    GLEIF_NAMES = Path("/work/shared/data/gleif-level1-names-sample/gleif_level1_names_sample_1in20.csv")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Airbus Defence and Space GmbH", "airbus defence space"),
        ("Airbus Operations SAS", "airbus operations"),
        ("AIRBUS OPERATIONS S.A.S.", "airbus operations"),
        ("Airbus Operations S.A.S", "airbus operations"),
        ("Société Générale S.A.", "ste generale"),
        ("Sté Générale", "ste generale"),
        ("STE GENERALE SA", "ste generale"),
        ("Müller Präzisionstechnik GmbH & Co. KG", "muller prazisionstechnik"),
        ("Müller Präzisionstechnik GmbH und Co KG", "muller prazisionstechnik"),
        # the whole "GmbH u. Co. KG" goes, not just "Co. KG" (u. = und)
        ("Müller Präzisionstechnik GmbH u. Co. KG", "muller prazisionstechnik"),
        ("Kessler GmbH u. Co KG", "kessler"),
        ("Kessler GmbH&Co.KG", "kessler"),
        ("Kessler GmbH + Co. KG", "kessler"),
        ("Kessler AG & Co. KGaA", "kessler"),
        ("Kessler AG u. Co. KGaA", "kessler"),
        ("Kessler SE & Co. KGaA", "kessler"),
        ("Kessler UG (haftungsbeschränkt) & Co. KG", "kessler"),
        ("Kessler GmbH i.L.", "kessler"),  # status notes after the form
        ("Kessler GmbH & Co. KG in Liquidation", "kessler"),
        ("Kessler gGmbH", "kessler"),
        ("Kessler e.K.", "kessler"),
        # French single-shareholder forms and letterheads
        ("Dupont SAS à associé unique", "dupont"),
        ("DUPONT S.A.S. A ASSOCIE UNIQUE", "dupont"),
        ("Dupont SARL unipersonnelle", "dupont"),
        ("Dupont S.à r.l.", "dupont"),
        ("Dupont S.à.r.l.", "dupont"),
        ("Dupont SAS au capital de 10 000 euros", "dupont"),
        ("Au Capital SAS", "au capital"),  # only a trailing "au capital de …" is noise
        # dotted forms
        ("Acme Ltd.", "acme"),
        ("Acme L.t.d.", "acme"),
        ("Acme, Inc.", "acme"),
        ("Acme Co., Ltd.", "acme"),
        ("Acme Pty. Ltd.", "acme"),
        ("Acme S.P.A.", "acme"),
        ("Acme B.V.", "acme"),
        ("Acme S.A. de C.V.", "acme"),
        ("Acme Sp. z o. o.", "acme"),
        ("Procter & Gamble Co.", "procter gamble"),
        ("Procter and Gamble Company", "procter gamble"),
        ("Dupont et Fils SARL", "dupont fils"),
        ("Groupe Renault", "group renault"),
        ("Compagnie de Saint-Gobain", "cie saint gobain"),
        ("Cie de Saint Gobain SA", "cie saint gobain"),
        ("BNP Paribas International Holdings Ltd", "bnp paribas intl holding"),
        ("BNP Paribas Intl Holding Limited", "bnp paribas intl holding"),
        ("L'Oréal S.A.", "loreal"),
        ("AT&T Inc.", "att"),
        ("Amazon.com, Inc.", "amazon"),
        ("The Boeing Company", "boeing"),
        ("Lowe&#8217;s Companies, Inc.", "lowes companies"),
        ("Novo Nordisk A/S", "novo nordisk"),
        ("Volvo AB (publ)", "volvo"),
        ("Banco Santander, S.A.", "banco santander"),
        ("Telefónica de España, S.A.U.", "telefonica espana"),
        ("Enel S.p.A.", "enel"),
        ("Koninklijke Philips N.V.", "philips"),
        ("ASML Holding NV", "asml holding"),
        ("Unilever PLC", "unilever"),
        ("HOTEL SANUS s. r. o.", "hotel sanus"),
        ("PT Bank Mandiri (Persero) Tbk", "bank mandiri"),
        ("LC Packaging TPI Korlátolt Felelősségű Társaság", "lc packaging tpi"),
        ("ΣΠΗΛΑΙΟ SOLAR ΑΝΩΝΥΜΗ ΕΤΑΙΡΕΙΑ", "spelaio solar"),
        ("JOINT STOCK COMPANY \"ROSNEFT\"", "rosneft"),
        ("Vodafone UK Limited", "vodafone uk"),  # a country inside a name distinguishes subsidiaries
        ("Robert Bosch Stiftung GmbH", "robert bosch stiftung"),  # "Stiftung" is not stripped
        ("  Acme   Corp  ", "acme"),
        ("SA", "sa"),  # never normalised to nothing
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_name(name: str | None, expected: str) -> None:
    assert normalize_name(name) == expected


def test_distinguishing_words_survive() -> None:
    assert normalize_name("Airbus Defence and Space GmbH") != normalize_name("Airbus Operations SAS")
    assert normalize_name("Blackstone Fund I LP") != normalize_name("Blackstone Fund II LP")
    assert normalize_name("Deutsche Bank AG") != normalize_name("Deutsche Bahn AG")


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("Airbus Operations S.A.S.", "SAS"),
        ("Airbus Defence and Space GmbH", "GmbH"),
        ("Foo GmbH & Co. KG", "GmbH & Co. KG"),
        ("Foo GmbH und Co. KG", "GmbH & Co. KG"),
        ("Foo GmbH u. Co. KG", "GmbH & Co. KG"),
        ("Foo GmbH & Co. KG i.L.", "GmbH & Co. KG"),
        ("Foo AG u. Co. KGaA", "AG & Co. KGaA"),
        ("Foo SAS à associé unique", "SASU"),
        ("Foo SARL à associé unique", "EURL"),
        ("Foo S.à r.l.", "SARL"),
        ("Foo gGmbH", "GmbH"),
        ("Foo e.K.", "e.K."),
        ("Siemens AG", "AG"),
        ("Danone SA", "SA"),
        ("Petit Bateau SARL", "SARL"),
        ("Dupont SNC", "SNC"),
        ("Tesco PLC", "PLC"),
        ("Acme Ltd.", "Ltd"),
        ("Acme Limited", "Ltd"),
        ("Acme LLP", "LLP"),
        ("Acme Inc", "Inc"),
        ("Acme, LLC", "LLC"),
        ("Acme Corp.", "Corp"),
        ("Acme S.L.", "S.L."),
        ("Acme S.p.A.", "S.p.A."),
        ("Acme S.r.l.", "S.r.l."),
        ("Acme N.V.", "NV"),
        ("Acme B.V.", "BV"),
        ("Allianz SE", "SE"),
        ("Kühn & Weyh Software GmbH", "GmbH"),
        ("F&S SALES INDIA PRIVATE LIMITED", "Pvt Ltd"),
        ("OOO Gazprom Neft", "OOO"),
        ("Acme Group", None),
        ("", None),
        (None, None),
    ],
)
def test_legal_form(name: str | None, form: str | None) -> None:
    assert legal_form(name) == form


def test_tokens_and_brand_key() -> None:
    assert name_tokens("Groupe Renault SAS") == ["group", "renault"]
    assert brand_key("Groupe Renault SAS") == "renault"
    assert brand_key("Société Générale") == "generale"
    assert brand_key("Bank of America Corporation") == "america"
    assert brand_key("Airbus Defence and Space GmbH") == "airbus"
    assert brand_key("Holding Group") == "holding"  # all generic: the first token
    assert brand_key(None) == ""


def test_normalize_names_matches_single_calls() -> None:
    names = ["Airbus SAS", None, "Airbus SAS", "Sté Générale", "", float("nan")]  # NaN: empty pandas cell
    assert normalize_names(names) == [normalize_name(n) for n in names]


@pytest.fixture(scope="module")
def gleif_names() -> list[tuple[str, str]]:
    if not GLEIF_NAMES.exists():
        pytest.skip(f"real GLEIF names not found at {GLEIF_NAMES} (see /work/shared/data/README.md)")
    with GLEIF_NAMES.open(encoding="utf-8", newline="") as fh:
        rows = [(r["Entity.LegalName"], r["Entity.LegalAddress.Country"]) for r in csv.DictReader(fh)]
    return random.Random(20).sample(rows, 400)


def test_real_gleif_names(gleif_names: list[tuple[str, str]]) -> None:
    """On real names of 100+ countries: ASCII, lower case, no punctuation, forms gone, never empty."""
    with_form = 0
    for name, _country in gleif_names:
        key = normalize_name(name)
        assert key, name
        assert key.isascii() and key == key.lower(), (name, key)
        assert all(t.isalnum() for t in key.split()), (name, key)
        assert "  " not in key
        form = legal_form(name)
        if form:
            with_form += 1
            assert normalize_name(f"{name} extra") != key  # stripping stops at the end of the name
    assert with_form / len(gleif_names) > 0.55  # most registered names carry a legal form


def test_real_gleif_forms_are_removed(gleif_names: list[tuple[str, str]]) -> None:
    ends = {"gmbh", "ltd", "limited", "sas", "sarl", "llc", "inc", "plc", "bv", "nv", "spa", "srl", "ag", "llp"}
    for name, _country in gleif_names:
        tokens = name_tokens(name)
        if len(tokens) > 1:
            assert tokens[-1] not in ends, (name, tokens)


def test_throughput(gleif_names: list[tuple[str, str]]) -> None:
    """A floor that catches a regression by half or worse: measured 55-60k distinct names per CPU
    second on a quiet 2-core machine (2026-12, with every ISO 20275 form, register spellings and
    the fixpoint; 150-190k before those), 35-45k beside the suite's other worker. Throughput
    targets live in `accountree bench` (resolve, leads), not here.

    CPU time, not wall time, and the best of three runs, so that a busy shared machine (the suite
    runs two workers on two cores) does not fail the test.
    """
    rates = []
    for run in range(3):
        names = [f"{name} {i}{run}" for i in range(50) for name, _ in gleif_names]  # all distinct, no cache help
        start = time.process_time()
        normalize_names(names)
        rates.append(len(names) / max(time.process_time() - start, 1e-9))
    assert max(rates) > 25_000, f"{max(rates):,.0f} names/s"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.Acme.fr:443/contact?x=1#top", "acme.fr"),
        ("http://acme.fr", "acme.fr"),
        ("www.acme.fr", "acme.fr"),
        ("WWW2.ACME.DE.", "acme.de"),
        ("acme.com/about", "acme.com"),
        ("jane.doe@sales.acme.co.uk", "acme.co.uk"),
        ("Jane Doe <jane@acme.fr>", "acme.fr"),
        ("mailto:bob@Acme.FR", "acme.fr"),
        ("fr.acme.com", "acme.com"),
        ("shop.acme.com.au", "acme.com.au"),
        ("https://user:pw@intranet.acme.io:8080/x", "acme.io"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("gmail.com", None),
        ("john@gmail.com", None),
        ("jean@orange.fr", None),
        ("pierre@wanadoo.fr", None),
        ("x@yahoo.co.uk", None),
        ("y@hotmail.de", None),
        ("z@gmx.de", None),
        ("w@web.de", None),
        ("192.168.1.1", None),
        ("localhost", None),
        ("n/a", None),
        ("-bad-.com", None),
        ("acme", None),
        ("", None),
        ("   ", None),
        (None, None),
        ("http://[oops", None),
    ],
)
def test_normalize_domain(value: str | None, expected: str | None) -> None:
    assert normalize_domain(value) == expected


def test_free_mail_list() -> None:
    for domain in ("gmail.com", "outlook.com", "orange.fr", "free.fr", "wanadoo.fr", "gmx.de", "web.de"):
        assert domain in FREE_MAIL_DOMAINS
    assert is_free_mail_domain("yahoo.es") and is_free_mail_domain("hotmail.it")
    assert not is_free_mail_domain("airbus.com")
