"""How the same company gets typed differently: the variants behind duplicate records and leads.

Each transform reproduces a real-world cause of CRM duplicates: a rep who drops or restyles the
legal form (``SAS`` → ``S.A.S.``), a keyboard without accents, habitual abbreviations
(``Société`` → ``Sté``), ``&``/``et``/``and``/``und`` swaps, a one-letter typo, an import that
upper-cases everything. Duplicates get one to three of them, so a resolver has to combine
normalisation with fuzzy matching and identifiers to find them.
"""

from __future__ import annotations

import random
import re
import unicodedata

_LEGAL_RESTYLE: dict[str, tuple[str, ...]] = {
    "SAS": ("S.A.S.", "S.A.S", "sas"), "SA": ("S.A.",), "SARL": ("S.A.R.L.", "Sarl"),
    "SASU": ("S.A.S.U.",), "GmbH": ("Gmbh", "G.m.b.H.", "GMBH"), "AG": ("Aktiengesellschaft",),
    "GmbH & Co. KG": ("GmbH & Co KG", "GmbH u. Co. KG"), "Ltd": ("Limited", "Ltd.", "LTD"),
    "Limited": ("Ltd", "Ltd."), "PLC": ("plc", "Public Limited Company"), "plc": ("PLC",),
    "S.L.": ("SL", "S.L"), "S.A.": ("SA", "S.A"), "S.r.l.": ("Srl", "SRL", "S.R.L."),
    "S.p.A.": ("SpA", "S.P.A.", "Spa"), "Inc.": ("Inc", "Incorporated"), "LLC": ("L.L.C.",),
    "Corp.": ("Corp", "Corporation"), "Corporation": ("Corp.", "Corp"), "SA/NV": ("NV", "SA"),
    "SRL/BV": ("BV", "SRL"), "Sàrl": ("Sarl", "SARL"),
}
# Longest first, so that "GmbH & Co. KG" wins over "KG"-less "GmbH".
_LEGAL_FORMS = sorted(_LEGAL_RESTYLE, key=len, reverse=True)
_LEGAL_RE = re.compile(r"\s+(" + "|".join(re.escape(f) for f in _LEGAL_FORMS) + r")$")

_ABBREVIATIONS: dict[str, str] = {
    "Société": "Sté", "International": "Intl", "Internacional": "Intl", "Internazionale": "Intl",
    "Groupe": "Grp", "Gruppo": "Gr.", "Grupo": "Gpo.", "Compagnie": "Cie", "Services": "Svcs",
    "Holdings": "Hldgs", "Holding": "Hldg", "Deutschland": "Dtl.", "Industrie": "Ind.",
    "Industries": "Inds", "Technologies": "Tech", "Corporation": "Corp", "Associés": "Assoc.",
    "Ingénierie": "Ing.", "Maintenance": "Maint.", "Engineering": "Eng.", "Distribution": "Distrib.",
    "Logistique": "Log.", "Nouvelle": "Nlle", "Solutions": "Sol.", "Systems": "Sys.",
}
_CONJUNCTIONS: dict[str, tuple[str, ...]] = {
    " & ": (" et ", " and ", " und ", " + "), " et ": (" & ",), " and ": (" & ", " + "),
    " und ": (" & ", " u. "), " y ": (" & ",), " e ": (" & ",),
}
_SPECIAL_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O"})


def ascii_fold(text: str) -> str:
    """Strip accents the way an accent-less keyboard or an old system does (``Énergie`` → ``Energie``)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def strip_legal_form(name: str) -> str:
    """The name without its trailing legal form (``Kessler Industrie AG`` → ``Kessler Industrie``)."""
    return _LEGAL_RE.sub("", name).strip()


def _restyle_legal_form(name: str, rng: random.Random) -> str:
    m = _LEGAL_RE.search(name)
    if not m:
        return name
    return name[: m.start(1)] + rng.choice(_LEGAL_RESTYLE[m.group(1)])


def _abbreviate(name: str, rng: random.Random) -> str:
    words = [w for w in _ABBREVIATIONS if re.search(rf"\b{w}\b", name)]
    if not words:
        return name
    w = rng.choice(words)
    return re.sub(rf"\b{w}\b", _ABBREVIATIONS[w], name, count=1)


def _swap_conjunction(name: str, rng: random.Random) -> str:
    for token, repl in _CONJUNCTIONS.items():
        if token in name:
            return name.replace(token, rng.choice(repl), 1)
    return name


def _typo(name: str, rng: random.Random) -> str:
    """One keyboard slip on a letter that is not the first: delete, double, swap or replace."""
    positions = [i for i in range(1, len(name)) if name[i].isalpha()]
    if not positions:
        return name + "e"
    i = rng.choice(positions)
    kind = rng.randrange(4)
    if kind == 0:
        return name[:i] + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i] + name[i:]
    if kind == 2 and i + 1 < len(name) and name[i + 1].isalpha() and name[i + 1] != name[i]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    replacement = rng.choice("aeinorstlu".replace(name[i].lower(), ""))
    return name[:i] + replacement + name[i + 1 :]


_TRANSFORMS = (
    (lambda n, r: strip_legal_form(n), 0.30),
    (_restyle_legal_form, 0.22),
    (lambda n, r: ascii_fold(n), 0.22),
    (_abbreviate, 0.18),
    (_swap_conjunction, 0.15),
    (_typo, 0.22),
    (lambda n, r: n.upper(), 0.10),
)


def name_variant(name: str, rng: random.Random) -> str:
    """A different spelling of ``name`` combining one to three real-world transforms."""
    out = name
    applied = 0
    target = 1 + (rng.random() < 0.45) + (rng.random() < 0.15)
    for transform, p in rng.sample(_TRANSFORMS, len(_TRANSFORMS)):
        if applied >= target:
            break
        if rng.random() < p * 2.5:
            changed = transform(out, rng)
            if changed != out:
                out = changed
                applied += 1
    if out == name or out.casefold() == name.casefold() and rng.random() < 0.5:
        out = _typo(out, rng)
    return out


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits only, for domains and e-mail local parts."""
    return re.sub(r"[^a-z0-9]+", "", ascii_fold(text).lower())
