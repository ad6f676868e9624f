"""Company-name and web-domain normalisation for record linkage.

The duplicate resolver and the lead/registry matchers compare names written by different people
in different systems ("Airbus Operations S.A.S." in a registry, "airbus operations" in a CRM,
"AIRBUS OPERATIONS SAS" in GLEIF). They only agree once the noise is gone: case, accents, legal
forms, punctuation, connectors and a few spelling variants of generic words. What must survive is
what tells two companies of a group apart ("airbus defence space" vs "airbus operations"), so the
rules below remove words only when they carry no identity.

Everything here is a pure function of its argument (no I/O): legal-form terms come from cleanco's
vocabulary plus a curated list, prepared once at import into dictionaries so a name costs a few
dictionary look-ups instead of cleanco's scan of its 300 terms: ~150-190k distinct names per CPU
second on real GLEIF names, about 4-5 times cleanco's own `basename` (see tests/test_normalize.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from cleanco.clean import get_unique_terms
from rapidfuzz.distance import OSA
from unidecode import unidecode

__all__ = [
    "normalize_name", "normalize_names", "normalize_names_and_forms", "legal_form", "form_words",
    "looks_like_legal_form", "name_tokens", "brand_key", "GENERIC_WORDS",
    "normalize_domain", "is_free_mail_domain", "FREE_MAIL_DOMAINS",
]

# ---------------------------------------------------------------------------------------------
# Tokenising: one function for names and for legal-form terms, so both sides always agree.
# ---------------------------------------------------------------------------------------------

# "Amazon.com, Inc." is Amazon: a web suffix glued to a name is not part of the name.
_WEB_SUFFIX_RE = re.compile(r"\.(?:com|net|org|io|co\.uk|de|fr)\b")
# A dot after a lone letter is an abbreviation dot ("S.A.S.", "E.ON"): join the letters;
# any other dot separates words ("Co.Ltd", "3.5").
_ABBREV_DOT_RE = re.compile(r"(?<![a-z0-9])([a-z])\.")
_NON_WORD_RE = re.compile(r"[^a-z0-9&]+")
_UND_RE = re.compile(r"(?<=[a-z]{2}) u\. ")

# Connectors are unified by dropping them: "Procter & Gamble" == "Procter and Gamble".
_CONNECTORS = frozenset({"&", "and", "et", "und", "y", "e", "en", "og", "och", "the"})
# "AT&T", "H&M", "P&G": an ampersand inside a short acronym is part of it.
_ACRONYM_AMP_RE = re.compile(r"\b([a-z]{1,2})&([a-z]{1,2})\b")


# A legal form glued to a name in CamelCase ("CanonicalLtd", "FortnoxAB", "ThoughtWorksInc"): split.
_GLUED_FORM_RE = re.compile(r"(?<=[a-z])(Ltd|Inc|LLC|GmbH|Corp|AB|AG|ASA|SA|SAS|SARL|NV|BV|PLC|Plc|Oy|Oyj|SpA|Srl|SRL|KG)"
                            r"(?=[\W_]|$)")
# Apostrophes and their look-alikes ("L’Oréal", "L´Atelier", "Lowe`s", "McDonaldʼs"): removed.
_APOSTROPHES = dict.fromkeys(map(ord, "'`\u2018\u2019\u201b\u00b4\u02bc\u02b9\u2032"))  # str.translate: removed


# A web address's scheme and "www.", and @handles ("Google @kubernetes", "Amazon Web Services (@aws)").
_URL_HANDLE_RE = re.compile(r"(?i)\bhttps?://|\bwww\.|(?<![\w.])@[\w-]+")


def _tokens(text: str) -> list[str]:
    """Lower-case ASCII word tokens of `text`, connectors removed, spelled-out letters joined."""
    if "&" in text and ";" in text:
        text = html.unescape(text)  # "Lowe&#8217;s" exports
    if "@" in text or "/" in text or "www" in text.lower():
        text = _URL_HANDLE_RE.sub(" ", text)
    text = text.translate(_APOSTROPHES)
    if not text.isascii():
        text = unidecode(text)
    text = _GLUED_FORM_RE.sub(r" \1", text)
    text = text.lower()
    if " l " in text or " d " in text or text[:2] in ("l ", "d "):
        text = _elision_join(text)
    if "." in text:
        if " u. " in text:  # "Forschung u. Entwicklung", "GmbH u. Co. KG": u. = und
            text = _UND_RE.sub(" und ", text)
        text = _ABBREV_DOT_RE.sub(r"\1", _WEB_SUFFIX_RE.sub(" ", text))
    if "'" in text:  # what unidecode made an apostrophe: "L'Oréal" -> "loreal", "Lowe's" -> "lowes"
        text = text.replace("'", "")
    if "&" in text:
        text = _ACRONYM_AMP_RE.sub(r"\1\2", text).replace("&", " & ")
    tokens = [t for t in _NON_WORD_RE.sub(" ", text).split() if t != "&"]
    # "s. r. o.", "P L C", "U S Bancorp", "E I du Pont": a run of single letters is one word (before
    # the connectors go: the "e" of "E I" is a letter there; after a word, "Fabio e C.", it is "and").
    if len(tokens) > 1 and 1 in map(len, tokens):
        merged: list[str] = []
        run = False
        for t in tokens:
            single = len(t) == 1 and t.isalpha()
            if single and t in _CONNECTORS and merged and len(merged[-1]) > 1 and not run:
                continue
            if single and run:
                merged[-1] += t
            else:
                merged.append(t)
            run = single
        tokens = merged
    return [t for t in tokens if t not in _CONNECTORS]


# French elision written with a space for the apostrophe ("L OREAL", "Banque d Affaires"): joined as
# the apostrophe spelling is ("loreal", "daffaires"); only after a word or at the start, never an
# initial in a run of letters ("K D Electronics", "C. S. D. Express") nor before a form ("D AB").
_ELISION_START_RE = re.compile(r"^([ld]) +(?=[aeiouh][a-z]{2})")
_ELISION_RE = re.compile(r"(?<=[a-z]{2} )([ld]) +(?=[aeiouh][a-z]{2})")


def _elision_join(text: str) -> str:
    return _ELISION_RE.sub(r"\1", _ELISION_START_RE.sub(r"\1", text))


# ---------------------------------------------------------------------------------------------
# Legal forms
# ---------------------------------------------------------------------------------------------

# Canonical label of the common forms; keys are written as a user would and tokenised below.
_CANONICAL_FORMS: dict[str, tuple[str, ...]] = {
    # France
    "SAS": ("SAS", "S.A.S.", "société par actions simplifiée"),
    "SASU": ("SASU", "S.A.S.U.", "société par actions simplifiée unipersonnelle", "SAS à associé unique",
             "SAS associé unique", "SAS unipersonnelle", "société par actions simplifiée à associé unique"),
    "SA": ("SA", "S.A.", "société anonyme", "sociedad anónima", "sociedade anónima", "S/A", "Spółka Akcyjna"),
    "SARL": ("SARL", "S.A.R.L.", "S.à r.l.", "société à responsabilité limitée"),
    "EURL": ("EURL", "E.U.R.L.", "SARL à associé unique", "SARL associé unique", "SARL unipersonnelle",
             "entreprise unipersonnelle à responsabilité limitée"), "SNC": ("SNC", "S.N.C.", "société en nom collectif"),
    "SCA": ("SCA", "S.C.A."), "SCS": ("SCS",), "SCI": ("SCI", "société civile immobilière"),
    "SCOP": ("SCOP",), "SELARL": ("SELARL",), "SELAS": ("SELAS",), "GIE": ("GIE",),
    "SEM": ("SEM", "SAEM"),
    # Germany, Austria, Switzerland
    "GmbH": ("GmbH", "G.m.b.H.", "GesmbH", "Ges.m.b.H.", "mbH", "Gesellschaft mit beschränkter Haftung", "gGmbH"),
    "GmbH & Co. KG": ("GmbH & Co. KG", "GmbH und Co. KG", "GmbH & Co KG", "GmbH & Co", "GmbH & Cie KG",
                      "GmbH & Co. Kommanditgesellschaft"),
    "GmbH & Co. KGaA": ("GmbH & Co. KGaA",), "GmbH & Co. OHG": ("GmbH & Co. OHG",),
    "AG & Co. KG": ("AG & Co. KG",), "AG & Co. KGaA": ("AG & Co. KGaA",), "SE & Co. KG": ("SE & Co. KG",),
    "SE & Co. KGaA": ("SE & Co. KGaA",), "UG & Co. KG": ("UG (haftungsbeschränkt) & Co. KG", "UG & Co. KG"),
    "AG": ("AG", "A.G.", "Aktiengesellschaft"), "KG": ("KG", "Kommanditgesellschaft"),
    "KGaA": ("KGaA", "Kommanditgesellschaft auf Aktien"), "OHG": ("OHG",), "GbR": ("GbR",),
    "UG": ("UG", "UG (haftungsbeschränkt)"), "e.V.": ("e.V.", "eingetragener Verein"), "eG": ("eG",),
    "e.K.": ("e.K.", "e.Kfm.", "e.Kfr.", "eingetragener Kaufmann", "eingetragene Kauffrau"), "Sagl": ("Sagl",), "PartG": ("PartG", "PartG mbB"),
    # Europe-wide
    "SE": ("SE", "Societas Europaea"),
    # English-speaking countries and Asia
    "Ltd": ("Ltd", "Limited", "Ltd."), "Co. Ltd": ("Co. Ltd", "Co., Ltd.", "Company Limited", "Co Limited"),
    "PLC": ("PLC", "P.L.C.", "public limited company", "plc ltd"), "LLP": ("LLP", "limited liability partnership"),
    "LP": ("LP", "L.P.", "limited partnership"), "LLLP": ("LLLP",), "GP": ("general partnership",),
    "LLC": ("LLC", "L.L.C.", "limited liability company"), "PLLC": ("PLLC",),
    "Inc": ("Inc", "Inc.", "Incorporated"), "Corp": ("Corp", "Corp.", "Corporation"),
    "Co": ("Co", "Co.", "Company", "& Co", "and Company"),
    "Pty Ltd": ("Pty Ltd", "Pty. Ltd.", "Proprietary Limited", "Pty Limited", "(Pty) Ltd"),
    "Pvt Ltd": ("Pvt Ltd", "Pvt. Ltd.", "Private Limited", "(P) Ltd", "Pvt Limited", "Private Ltd"),
    "Pte Ltd": ("Pte Ltd", "Pte. Ltd.", "Private Limited Company", "Pte Limited"),
    "Pty": ("Pty",), "Pvt": ("Pvt",), "Pte": ("Pte",),
    "Sdn Bhd": ("Sdn Bhd", "Sdn. Bhd."), "Bhd": ("Bhd", "Berhad"), "K.K.": ("K.K.", "Kabushiki Kaisha"),
    "Tbk": ("Tbk",), "Persero": ("Persero", "(Persero) Tbk"),
    # Spain, Portugal, Latin America, Italy
    "S.L.": ("S.L.", "SL", "sociedad limitada", "sociedad de responsabilidad limitada"),
    "S.L.U.": ("S.L.U.", "SLU"), "S.A.U.": ("S.A.U.", "SAU"), "S.A. de C.V.": ("S.A. de C.V.", "SA de CV"),
    "S. de R.L.": ("S. de R.L.", "S. de R.L. de C.V."), "S.A.B. de C.V.": ("S.A.B. de C.V.",),
    "Ltda": ("Ltda", "Ltda."), "Lda": ("Lda", "Lda."), "S.p.A.": ("S.p.A.", "SpA", "società per azioni"),
    "S.r.l.": ("S.r.l.", "Srl", "società a responsabilità limitata", "S.R.L.S.", "Srls",
              "S.r.l. unipersonale"),
    "S.a.p.a.": ("S.a.p.a.",), "S.c.a.r.l.": ("S.c.a.r.l.", "Scarl", "S.C.R.L.", "SCRL"),
    # Benelux
    "NV": ("NV", "N.V.", "naamloze vennootschap"), "BV": ("BV", "B.V.", "besloten vennootschap"),
    "BVBA": ("BVBA",), "CVBA": ("CVBA",), "SPRL": ("SPRL",), "VOF": ("VOF", "V.O.F."),
    "CV": ("C.V.",), "VZW": ("VZW",), "ASBL": ("ASBL",),
    # Nordics and Baltics
    "AB": ("AB", "Aktiebolag", "Aktiebolaget"), "AB (publ)": ("AB (publ)", "AB publ"), "publ": ("(publ)",),
    "AS": ("AS", "A.S."), "ASA": ("ASA",), "A/S": ("A/S",), "ApS": ("ApS",), "Oy": ("Oy",),
    "Oyj": ("Oyj",), "hf.": ("hf",), "ehf.": ("ehf",), "UAB": ("UAB",), "SIA": ("SIA",), "OÜ": ("OÜ", "OU"),
    # Central and Eastern Europe
    "a.s.": ("akciová společnost", "akciová spoločnosť"),
    "Sp. z o.o.": ("Sp. z o.o.", "Sp. z.o.o.", "Sp. zo.o.", "Sp. z o. o.", "Spółka z ograniczoną odpowiedzialnością"),
    "Sp.k.": ("Sp.k.", "Sp. k."), "Sp.j.": ("Sp.j.", "Sp. j."), "S.K.A.": ("S.K.A.",),
    "Nyrt.": ("Nyrt", "Nyilvánosan Működő Részvénytársaság"), "Bt.": ("Bt", "Betéti Társaság"),
    "Kft.": ("Kft", "Korlátolt Felelősségű Társaság"), "Zrt.": ("Zrt", "Zártkörűen Működő Részvénytársaság"),
    "Rt.": ("Részvénytársaság",), "s.r.o.": ("s.r.o.", "s. r. o.", "spol. s r.o.", "spol. s r. o."),
    "d.o.o.": ("d.o.o.",), "d.d.": ("d.d.",), "OOO": ("OOO",), "AO": ("AO",),
    "PAO": ("PAO",), "OAO": ("OAO",), "ZAO": ("ZAO",), "A.Ş.": ("Anonim Sirketi",),
    "Ltd. Şti.": ("Ltd. Sti.", "Limited Sirketi"),
    # Greece
    "AE": ("ΑΝΩΝΥΜΗ ΕΤΑΙΡΕΙΑ", "ΜΟΝΟΠΡΟΣΩΠΗ ΑΝΩΝΥΜΗ ΕΤΑΙΡΕΙΑ", "Anonymi Etaireia", "Anonymos Etaireia", "A.E."),
    "EPE": ("ΕΤΑΙΡΕΙΑ ΠΕΡΙΟΡΙΣΜΕΝΗΣ ΕΥΘΥΝΗΣ", "E.P.E."),
    "IKE": ("ΙΔΙΩΤΙΚΗ ΚΕΦΑΛΑΙΟΥΧΙΚΗ ΕΤΑΙΡΕΙΑ", "ΜΟΝΟΠΡΟΣΩΠΗ ΙΔΙΩΤΙΚΗ ΚΕΦΑΛΑΙΟΥΧΙΚΗ ΕΤΑΙΡΕΙΑ", "I.K.E."),
    # Luxembourg and fund vehicles
    "SCSp": ("SCSp", "S.C.Sp.", "société en commandite spéciale"), "SICAV": ("SICAV", "SICAV-SIF", "SICAV-RAIF"),
    "SICAF": ("SICAF",), "ICAV": ("ICAV",), "FCP": ("FCP",), "SCA SICAV-RAIF": ("SCA SICAV-RAIF",),
}

# Legal forms that open the name ("PT Bank Mandiri", "OOO Gazprom Neft", "Joint Stock Company X");
# only removed at the start: "pt", "cv" at the end of a name are more often a country or a word.
_PREFIX_SPELLINGS: dict[str, tuple[str, ...]] = {
    "PT": ("PT",), "CV": ("CV",), "OOO": ("OOO", "Общество с ограниченной ответственностью"),
    "AO": ("AO", "Акционерное общество", "joint stock company", "joint-stock company", "JSC"),
    "PAO": ("PAO", "Публичное акционерное общество", "public joint stock company", "PJSC"),
    "OAO": ("OAO", "Открытое акционерное общество", "open joint stock company", "OJSC"),
    "ZAO": ("ZAO", "Закрытое акционерное общество", "closed joint stock company", "CJSC"),
    "TOV": ("TOV", "Товариство з обмеженою відповідальністю"),
    "LLC": ("limited liability company", "LLC"), "LLP": ("limited liability partnership",), "SC": ("SC",),
    "NV": ("NV", "N.V."), "BV": ("BV", "B.V."),  # "N.V. Nederlandse Gasunie"
}
# Not legal forms but noise that opens names: Indian "M/S" (Messrs), Australian trust names.
# Dutch "Koninklijke" (royal warrant: "Koninklijke Philips N.V." is Philips) and its translation.
_PREFIX_NOISE: tuple[tuple[str, ...], ...] = (("ms",), ("trustee", "for"), ("koninklijke",), ("koninkl",), ("kon",))
# Spelled-out legal-form words that exports mistype or cut at a field's width ("Aktiengesellchaft",
# "CORPORATOIN", "Limted", "CORPOR", "BESLOTEN VENOOTSCHAP"): one of the last four words that is one
# of them mistyped (one edit, two from 11 letters, first letter kept) or cut short (6+ letters, at
# least half of the word) is read as the word when that ends the name with a longer legal form
# (`_repair_form_word`, in `_clean`). The words of 8+ letters of the curated forms are in too
# ("SPÓŁKA Z OGRANICZONĄ ODPOWIEDZILANOŚCIĄ", "KORLÁTOLT FELEŐLSSÉGŰ TÁRSASÁG").
_LONG_FORM_WORDS = tuple(sorted({
    "corporation", "incorporated", "limited", "company", "aktiengesellschaft", "gesellschaft",
    "kommanditgesellschaft", "aktiebolag", "vennootschap", "anonyme", "limitada", "limitata",
    "responsabilita", "responsabilidad", "responsabilite", "haftung", "liability", "partnership",
    "sociedad", "sociedade", "societa", "unipersonal", "unipersonale",
    *(t for spellings in _CANONICAL_FORMS.values() for spelling in spellings for t in _tokens(spelling)
      if len(t) >= 8 and t.isalpha())}))
# Real words next to those: never read as a mistyped form.
_NOT_FORM_WORDS = frozenset({"society", "limiter", "limites", "limiting", "companion", "compagny", "aktien",
                             "gesell", "anonymous", "companys", "partner", "partners", "liable"})
# Status notes written after the legal form: "GmbH i.L." (in liquidation), "GmbH i.Gr." (being founded).
_SUFFIX_NOISE_SPELLINGS = ("i.L.", "i.Liq.", "i.Gr.", "in Liquidation", "en liquidation", "in liquidazione",
                           "in Gründung")
# cleanco terms that are too often a meaningful last word (a region, a country, a bank, a role).
_CLEANCO_EXCLUDED = frozenset({
    "uk", "eu", "ca", "at", "ok", "ec", "ent", "etat", "ong", "ba", "bm", "bl", "fa", "ps", "ep",
    "ss", "sp", "sc", "cic", "gp", "kt", "ud", "pt", "cv", "private", "coop", "ses", "da", "od",
})


def _spelling_table(table: dict[str, tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    """Tokenised spelling -> canonical label (first label wins on a clash)."""
    out: dict[tuple[str, ...], str] = {}
    for label, spellings in table.items():
        for spelling in spellings:
            key = tuple(_tokens(spelling))
            if key:
                out.setdefault(key, label)
    return out


def _sizes_by(forms: dict[tuple[str, ...], str], edge: int) -> dict[str, tuple[int, ...]]:
    """Token at the edge (-1: last, 0: first) -> lengths of the terms ending/starting there, longest
    first: a name whose last word ends no term costs one look-up."""
    sizes: dict[str, set[int]] = {}
    for key in forms:
        sizes.setdefault(key[edge], set()).add(len(key))
    return {token: tuple(sorted(found, reverse=True)) for token, found in sizes.items()}


# ISO 20275 legal forms of every country (GLEIF's ELF list, CC0; derived by
# scripts/derive_elf_forms.py into data/elf_legal_forms.tsv: country, label, spelling).
_ELF_FILE = "elf_legal_forms.tsv"
# ELF spellings too often a meaningful last word or a number ("Fund II", "Acme NL", "Zhu").
_ELF_EXCLUDED = frozenset({"ii", "iii", "iv", "nl", "eu", "uk", "us", "usa", "int", "intl", "ltda do", "the", "and"})
# Forms of cleanco's and the ELF's lists made only of these nouns ("Fund", "Trust", "Investment
# Trust", "Association", "Savings Bank", "Credit Union", "Partnership") are kept as words of the name:
# in names they most often come before the real form ("Offshore Fund Ltd", "Growth Fund, L.P.",
# "American Heart Association, Inc."), and stripped they left "X Fund" and "X Fund Ltd" two legal
# forms, never merged, while "X Fund" and "X Ltd" (a fund and its manager) had one name.
_NAME_NOUNS = frozenset({
    "trust", "fund", "funds", "investment", "investments", "company", "companies", "society", "bank", "union",
    "credit", "building", "savings", "commercial", "insurance", "pension", "international", "charitable",
    "cooperative", "co", "operative", "alternative", "district", "association", "foundation", "partnership",
    "partnerships", "mutual", "assurance", "capital", "holding", "group", "finance", "financial", "development",
    "housing", "community", "corporation", "management", "services", "trustee", "trustees", "benefit", "employee",
})


def _elf_spellings() -> list[tuple[str, str]]:
    """(label, spelling) of the vendored ELF vocabulary: spellings of 3+ characters (not counting
    dots and spaces; the 1-2 letter forms that matter — AG, AB, BV, NV, SA… — are curated above)."""
    from importlib.resources import files

    out = []
    for line in files("accountree.resolve").joinpath("data", _ELF_FILE).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or line.count("\t") != 2:
            continue
        _, label, spelling = line.split("\t")
        if len(re.sub(r"[\s.]", "", spelling)) >= 3:
            out.append((label, spelling))
    return out


def _name_nouns(key: tuple[str, ...]) -> bool:
    """A form spelled only with nouns that names carry (`_NAME_NOUNS`; "a", "of", "the" allowed)."""
    return all(t in _NAME_NOUNS or t in ("a", "of", "the") for t in key)


def _build_forms() -> dict[tuple[str, ...], str]:
    """Suffix term tokens -> canonical label, from the curated list, cleanco's vocabulary, then the
    ISO 20275 list (every country's forms, local and transliterated)."""
    forms = _spelling_table(_CANONICAL_FORMS)
    # cleanco's term list, tokenised once: the forms of ~70 countries not curated above.
    for term in sorted(get_unique_terms()):
        key = tuple(_tokens(term))
        if key and " ".join(key) not in _CLEANCO_EXCLUDED and not _name_nouns(key):
            forms.setdefault(key, term.strip())
    labels = {" ".join(k): v for k, v in forms.items()}  # an ELF spelling of a known form keeps its label
    for label, spelling in _elf_spellings():
        key = tuple(_tokens(spelling))
        joined = " ".join(key)
        if key and len("".join(key)) >= 3 and joined not in _CLEANCO_EXCLUDED and joined not in _ELF_EXCLUDED \
                and not all(t.isdigit() for t in key) and not _name_nouns(key):
            forms.setdefault(key, labels.get(" ".join(_tokens(label)), label))
    return forms


_SUFFIX_FORMS = _build_forms()
_SUFFIX_SIZES = _sizes_by(_SUFFIX_FORMS, -1)
_PREFIX_FORMS = _spelling_table(_PREFIX_SPELLINGS)
_SUFFIX_NOISE = sorted({tuple(_tokens(s)) for s in _SUFFIX_NOISE_SPELLINGS}, key=len, reverse=True)  # longest first
_SUFFIX_NOISE_LAST = frozenset(key[-1] for key in _SUFFIX_NOISE)
_PREFIX_SIZES = _sizes_by(_PREFIX_FORMS, 0)
_NOISE_FIRST = frozenset(noise[0] for noise in _PREFIX_NOISE)

# ---------------------------------------------------------------------------------------------
# Generic words: spelling variants unified, stop words dropped
# ---------------------------------------------------------------------------------------------

_CANONICAL_WORDS: dict[str, str] = {
    **dict.fromkeys(("societe", "ste", "soc", "society", "societa", "sociedade", "gesellschaft"), "ste"),
    **dict.fromkeys(("groupe", "group", "grupo", "gruppo", "gruppe", "groep", "grp", "gpo"), "group"),
    **dict.fromkeys(("international", "internationale", "internacional", "internazionale", "intl"), "intl"),
    **dict.fromkeys(("compagnie", "cie", "compania", "cia", "compagnia", "companhia"), "cie"),
    **dict.fromkeys(("holding", "holdings", "hldg", "hldgs"), "holding"),
    **dict.fromkeys(("brothers", "bros", "freres"), "bros"),
    **dict.fromkeys(("manufacturing", "mfg"), "mfg"),
    "st": "saint", "sainte": "saint", "ets": "etablissements",
}
# Generic words of 8+ letters (and Société's), to read one mistyped as the word ("Manufacturiing", "Internatonal",
# "Holdnigs"): one edit, two from 11 letters, first letter kept. Real words one edit from them are
# kept as typed.
_LONG_CANONICAL = tuple(w for w in _CANONICAL_WORDS if len(w) >= 8 or w in ("societe", "society", "societa"))
_NOT_CANONICAL = frozenset({"campania"})


@lru_cache(maxsize=1 << 16)
def _canonical_typo(token: str) -> str:
    """`token`, or the generic word's spelling when it is one mistyped (see `_LONG_CANONICAL`)."""
    if len(token) < 7 or token in _NOT_CANONICAL or not token.isalpha():
        return token
    for word in _LONG_CANONICAL:
        edits = 2 if len(word) >= 11 else 1
        if word[0] == token[0] and abs(len(word) - len(token)) <= edits \
                and OSA.distance(token, word, score_cutoff=edits) <= edits:
            return _CANONICAL_WORDS[word]
    return token


# The spellings generic words are unified to ("intl", "group", "ste"…).
GENERIC_WORDS: frozenset[str] = frozenset(_CANONICAL_WORDS.values())
_STOP_WORDS = frozenset({
    "the", "of", "a", "an", "de", "des", "du", "la", "le", "les", "l", "d", "der", "die", "das", "den",
    "dem", "del", "della", "di", "da", "do", "dos", "el", "los", "las", "il", "lo", "het",
})
# Words that name a kind of organisation, not a company: skipped when choosing the brand key.
_GENERIC_WORDS = frozenset({
    "ste", "group", "intl", "cie", "holding", "saint", "etablissements", "bank", "banque", "banco",
    "banca", "fund", "fonds",
})


def _suffix_form(tokens: list[str]) -> tuple[int, str] | None:
    """(words, label) of the longest legal form ending `tokens`, never the whole name."""
    for size in _SUFFIX_SIZES.get(tokens[-1], ()):
        label = _SUFFIX_FORMS.get(tuple(tokens[-size:])) if size < len(tokens) else None
        if label is not None:
            return size, label
    return None


@lru_cache(maxsize=1 << 14)
def _repair_form_word(token: str) -> str | None:
    """The spelled-out legal-form word (`_LONG_FORM_WORDS`) `token` is a typo or a cut of, or None."""
    if len(token) < 6 or not token.isalpha() or token in _NOT_FORM_WORDS or token in _LONG_FORM_WORDS:
        return None
    for word in _LONG_FORM_WORDS:
        if word[0] != token[0] or token == word:
            continue
        if len(token) < len(word) and 2 * len(token) >= len(word) and word.startswith(token):
            return word
        edits = 2 if len(word) >= 11 else 1
        if abs(len(word) - len(token)) <= edits and OSA.distance(token, word, score_cutoff=edits) <= edits:
            return word
    return None


def _relabel_misspelt_forms() -> None:
    """Vocabularies list misspelt forms too (cleanco: "Limited Liabilty Company"): label each as
    the form it misspells (LLC), so that the guard does not see two legal forms."""
    for key, label in list(_SUFFIX_FORMS.items()):
        fixed = tuple(_repair_form_word(w) or w for w in key)
        if fixed != key and _SUFFIX_FORMS.get(fixed, label) != label:
            _SUFFIX_FORMS[key] = _SUFFIX_FORMS[fixed]


_relabel_misspelt_forms()


_REPAIR_FIRST = frozenset(word[0] for word in _LONG_FORM_WORDS)


def _clean(name: str) -> tuple[list[str], str | None]:
    """Tokens with legal forms removed (never down to nothing), and the first legal form found."""
    tokens = _tokens(name)
    form: str | None = None
    if "capital" in tokens:  # "SAS au capital de 10 000 euros" (French letterheads)
        at = next((i for i in range(1, len(tokens) - 1) if tokens[i] == "au" and tokens[i + 1] == "capital"), 0)
        if at:
            del tokens[at:]
    if len(tokens) > 2 and tokens[-1] in _SUFFIX_NOISE_LAST:  # "GmbH i.L."
        for noise in _SUFFIX_NOISE:
            if len(tokens) > len(noise) + 1 and tuple(tokens[-len(noise):]) == noise:
                del tokens[-len(noise):]
                break
    while len(tokens) > 1:  # strip trailing forms, longest first ("GmbH & Co. KG" before "KG")
        found = _suffix_form(tokens)
        window = tokens[-4:]
        if any(len(t) >= 6 and t[0] in _REPAIR_FIRST for t in window):
            repaired = [_repair_form_word(t) or t for t in window]
            if repaired != window:  # "Limited Liabbility Company", "Aktiengesellchaft"
                fixed = _suffix_form([*tokens[:-4], *repaired])
                found = fixed if fixed and (found is None or fixed[0] > found[0]) else found
        if found is None:
            break
        form = form or found[1]
        del tokens[-found[0]:]
    first = tokens[0][:1] if tokens else ""
    for noise in _PREFIX_NOISE:
        if noise[0][0] == first and len(tokens) > len(noise) and (tuple(tokens[: len(noise)]) == noise or (
                len(noise) == 1 and len(noise[0]) >= 8 and OSA.distance(tokens[0], noise[0], score_cutoff=1) <= 1)):
            del tokens[: len(noise)]  # "Koninkliske" too: a typo in a word that carries no identity
    for size in _PREFIX_SIZES.get(tokens[0], ()) if tokens else ():
        label = _PREFIX_FORMS.get(tuple(tokens[:size])) if size < len(tokens) else None
        if label is not None:
            form = form or label
            del tokens[:size]
            break
    words = [_CANONICAL_WORDS.get(t) or _canonical_typo(t) for t in tokens]
    # a single letter that ends the name is an initial ("Hughes, L.", "Smith, A."), not an article
    kept = [w for i, w in enumerate(words)
            if w not in _STOP_WORDS or (len(w) == 1 and i == len(words) - 1 and i > 0)]
    return (kept or words), form


def _text(name: object) -> str | None:
    """The name as text; None for None, blanks and the NaN that pandas puts in empty cells."""
    if name is None or (isinstance(name, float) and name != name):
        return None
    text = name if isinstance(name, str) else str(name)
    return text if text.strip() else None


def _may_change(tokens: list[str]) -> bool:
    """Whether `_clean` could change its own output: single letters (joined once neighbours), a
    legal form, noise or stop word at an edge, a canonical word or connector left in it."""
    if not tokens:
        return False
    return (len(tokens) > 1 and 1 in map(len, tokens)) or tokens[0] in _PREFIX_SIZES \
        or tokens[-1] in _SUFFIX_SIZES or not _CHANGING_WORDS.isdisjoint(tokens)


_CHANGING_WORDS = frozenset(_CONNECTORS | _STOP_WORDS | set(_CANONICAL_WORDS) | _NOISE_FIRST)


def _clean_stable(name: str) -> tuple[list[str], str | None]:
    """`_clean`, repeated on its own output until it no longer changes (at most 3 passes), so that
    normalising a normalised name changes nothing ("x de y" -> "x y" -> "xy": letters brought
    together by a removed word are joined on the next pass)."""
    tokens, form = _clean(name)
    for _ in range(2):
        if not _may_change(tokens):
            break
        again, _form = _clean(" ".join(tokens))
        if again == tokens:
            break
        tokens, form = again, form or _form
    return tokens, form


@lru_cache(maxsize=1 << 16)
def _cached(name: str) -> tuple[str, str | None]:
    tokens, form = _clean_stable(name)
    return " ".join(tokens), form


def normalize_name(name: str | None) -> str:
    """Matching key of a company name: "Société Générale S.A." -> "ste generale".

    Lower case ASCII (accents and other scripts transliterated by unidecode: ü -> u, ß -> ss),
    legal forms removed from the end (and a few that open names: PT, OOO…), connectors
    (&, and, et, und, y, e) and articles dropped, punctuation removed (abbreviation dots join
    letters: "S.A.S." -> "sas"), generic words unified (Sté/Société -> ste, Groupe -> group,
    International -> intl, Cie -> cie, Holdings -> holding). Empty string for None/blank/NaN.
    """
    text = _text(name)
    return _cached(text)[0] if text else ""


def normalize_names(names: Iterable[str | None]) -> list[str]:
    """`normalize_name` over a column; repeated names are computed once."""
    return normalize_names_and_forms(names)[0]


def normalize_names_and_forms(names: Iterable[str | None]) -> tuple[list[str], list[str | None]]:
    """`normalize_name` and `legal_form` over a column, each name cleaned once."""
    memo: dict[object, tuple[str, str | None]] = {}
    keys: list[str] = []
    forms: list[str | None] = []
    for name in names:
        found = memo.get(name)
        if found is None:
            text = _text(name)
            if text:
                tokens, form = _clean_stable(text)
                found = (" ".join(tokens), form)
            else:
                found = ("", None)
            memo[name] = found
        keys.append(found[0])
        forms.append(found[1])
    return keys, forms


def legal_form(name: str | None) -> str | None:
    """Canonical legal form found at the end of the name ("Foo GmbH & Co. KG" -> "GmbH & Co. KG"),
    or at its start for the forms written first ("OOO Gazprom" -> "OOO"); None when there is none."""
    text = _text(name)
    return _cached(text)[1] if text else None


@lru_cache(maxsize=1024)
def form_words(label: str) -> frozenset[str]:
    """Words of the spellings of a legal form label, and each spelling written as one word:
    "GmbH & Co. KG" -> {"gmbh", "co", "kg", "gmbhcokg", "und", "gmbhundcokg", …}."""
    words: set[str] = set()
    for key, found in _SUFFIX_FORMS.items():
        if found == label:
            words.update(key)
            words.add("".join(key))
    return frozenset(words)


# Words of the curated legal forms, to recognise one mistyped ("GsBH", "S.r.A.", "Ltdd").
_FORM_WORDS = sorted({w for spellings in _CANONICAL_FORMS.values() for sp in spellings for w in _tokens(sp)
                      if len(w) >= 2 and w not in _STOP_WORDS})


@lru_cache(maxsize=1 << 16)
def looks_like_legal_form(token: str) -> bool:
    """A legal form or one typo away from a word of one (≥ 3 letters on a side): "gsbh", "ltdd",
    "sra". Loose ("gas" ~ "sas"): for blocking keys, not for deciding."""
    if legal_form(f"x {token}") is not None:
        return True
    return any(OSA.distance(token, w, score_cutoff=1) <= 1 and max(len(w), len(token)) >= 3 for w in _FORM_WORDS)


def name_tokens(name: str | None) -> list[str]:
    """Tokens of the normalised name, for token-set comparisons and blocking."""
    return normalize_name(name).split()


def brand_key(name: str | None) -> str:
    """First significant token (not a generic word like group/ste/holding/bank), for blocking.

    "Groupe Renault" -> "renault"; falls back to the first token when all are generic.
    """
    tokens = name_tokens(name)
    return next((t for t in tokens if t not in _GENERIC_WORDS), tokens[0] if tokens else "")


# ---------------------------------------------------------------------------------------------
# Domains
# ---------------------------------------------------------------------------------------------

# Mailbox providers: a contact's address there says nothing about their company.
FREE_MAIL_DOMAINS: frozenset[str] = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "outlook.fr", "outlook.de", "hotmail.com", "live.com",
    "live.fr", "live.de", "live.co.uk", "msn.com", "windowslive.com", "yahoo.com", "ymail.com",
    "rocketmail.com", "aol.com", "aol.fr", "aol.de", "icloud.com", "me.com", "mac.com", "protonmail.com",
    "protonmail.ch", "proton.me", "pm.me", "tutanota.com", "tuta.io", "gmx.de", "gmx.net", "gmx.at",
    "gmx.ch", "gmx.fr", "gmx.com", "web.de", "t-online.de", "freenet.de", "arcor.de", "posteo.de",
    "mailbox.org", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net", "bbox.fr",
    "numericable.fr", "club-internet.fr", "aliceadsl.fr", "cegetel.net", "libero.it", "virgilio.it",
    "tiscali.it", "alice.it", "tin.it", "email.it", "terra.com", "telefonica.net", "skynet.be",
    "telenet.be", "bluewin.ch", "hispeed.ch", "ziggo.nl", "kpnmail.nl", "planet.nl", "home.nl",
    "btinternet.com", "sky.com", "virginmedia.com", "ntlworld.com", "talktalk.net", "comcast.net",
    "verizon.net", "att.net", "sbcglobal.net", "mail.com", "email.com", "zoho.com", "yandex.ru",
    "yandex.com", "mail.ru", "bk.ru", "list.ru", "inbox.ru", "rambler.ru", "qq.com", "163.com",
    "126.com", "sina.com", "naver.com", "daum.net", "hanmail.net", "rediffmail.com", "seznam.cz",
    "wp.pl", "o2.pl", "onet.pl", "interia.pl", "hushmail.com", "fastmail.com", "gmx.es", "uol.com.br",
    "bol.com.br",
})
# Providers present under many country domains: yahoo.fr, hotmail.co.uk, outlook.es…
_FREE_MAIL_LABELS = frozenset({"hotmail", "yahoo", "outlook", "gmx", "ymail", "googlemail", "windowslive"})
# Second-level labels under which companies register (acme.co.uk, acme.com.au, mairie.gouv.fr).
_SECOND_LEVEL = frozenset({
    "co", "com", "net", "org", "gov", "gouv", "ac", "edu", "or", "ne", "go", "mil", "nom", "asso", "ltd",
    "plc", "gv", "priv", "info", "biz", "firm", "gen", "ind",
})
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD_RE = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def is_free_mail_domain(domain: str) -> bool:
    """True for a mailbox provider's domain (gmail.com, yahoo.fr, orange.fr…)."""
    return domain in FREE_MAIL_DOMAINS or domain.split(".", 1)[0] in _FREE_MAIL_LABELS


def normalize_domain(value: str | None) -> str | None:
    """Registrable domain of a URL, e-mail address or host name, or None.

    "https://www.Acme.fr:443/contact?x=1" -> "acme.fr", "jane@sales.acme.co.uk" -> "acme.co.uk",
    "münchen.de" -> "xn--mnchen-3ya.de" (IDNA ASCII form, so both spellings join). None for blanks,
    things that are not a domain (IP addresses, "localhost", "n/a") and free-mail providers,
    which do not identify a company. Subdomains are dropped: without the public-suffix list the
    registrable part is the last two labels, or three under a second-level label such as co.uk.
    """
    if not value:
        return None
    text = value.strip().lower()
    if "<" in text and ">" in text:  # "Jane Doe <jane@acme.fr>"
        text = text[text.index("<") + 1 : text.rindex(">")]
    text = text.removeprefix("mailto:")
    if "://" not in text:  # a bare host or an e-mail; with a scheme, urlsplit handles "user@"
        if "@" in text.split("/", 1)[0]:
            text = text.rsplit("@", 1)[1]
        text = "//" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:  # "http://[bad" and friends
        return None
    host = host.strip().rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = host.split(".")
    if labels[0].startswith("www") and labels[0][3:].isdigit():
        labels = labels[1:]
    if len(labels) < 2 or not _TLD_RE.match(labels[-1]) or not all(_LABEL_RE.match(lb) for lb in labels):
        return None
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    domain = ".".join(labels[-keep:])
    return None if is_free_mail_domain(domain) else domain
