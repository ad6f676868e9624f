"""The sibling guard: rules on top of splink that keep entities of one group apart.

A probabilistic model adds up evidence, and two companies of one group agree on almost
everything it looks at: the brand word, the country, often the city, the industry and the group's
domain (the very reason HubSpot's domain-keyed dedup collapses subsidiaries into one company).
"Airbus Defence and Space GmbH" and "Airbus Operations SAS" score high. What tells them apart is
(a) the words of their names that carry identity, and (b) facts that no duplicate can have.

`check(pair)` returns a verdict for one scored pair:

- `drop` — cannot be the same record: two different values of one registry id (LEI, SIREN,
  SIRET, D-U-N-S: a site and its legal entity share a SIREN but not a SIRET), one account is the
  other's parent or ancestor, or each name has a distinguishing word the other lacks
  ("defence space" vs "operations", "fund 2" vs "fund 3") — unless a LEI/SIRET/D-U-N-S is equal,
  then `review`. Two different legal forms (GmbH / GmbH & Co. KG, S.p.A. / S.r.l.) are two legal
  entities too (one form in two languages, SA/NV, or with its single-shareholder mark, SAS/SASU,
  is one form).
- `review` — never merged automatically: one name has words the other lacks ("Kessler" vs
  "Kessler Énergie": a parent and its subsidiary look like that) — dropped instead when both
  accounts already sit in the same group (same top parent): a group's own entities are
  siblings; the names differ by one word two typos apart; the two records give different places
  (two sites?); each record's domain spells its own name and the names differ (two companies
  with near names); the two records sit in two different groups.
- `ok` — no objection; the probability decides.

Words are compared after normalisation, and two words are the same word when equal, when one
abbreviates the other ("svcs"/"services", "tech"/"technologies", "dtl"/"deutschland": same first
letter, the short one a short prefix or subsequence of the long one) or when they differ by one
typo. Legal-form debris, "Sté", "Cie", "& Co", single letters and a trailing word that mistypes
the other record's legal form ("GsBH" for GmbH) never distinguish; "Group", "Holding",
"International" and numbers do (a group's holding and its international arm are entities of
their own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from accountree.resolve.normalize import GENERIC_WORDS, form_words, legal_form

# Words that never tell two companies apart ("Sté", "Cie", "Ets", "& Co"), and nouns that the
# normaliser keeps as words of the name but that name the kind of body, not another one ("Chicago
# Commons Association - Nia Family Center" / "Chicago Commons - Nia Family Center"). Not "Fund",
# "Trust": "X Fund" and "X" (its manager) are two entities.
_WEAK = frozenset({"ste", "cie", "etablissements", "co", "company", "corp", "the", "association", "society",
                   "cooperative", "partnership", "partnerships", "district"})
# Generic words as typed, for the typo'd ones the normaliser could not unify ("Groape" -> group).
_GENERIC_SPELLINGS = {
    "groupe": "group", "gruppe": "group", "gruppo": "group", "grupo": "group", "societe": "ste",
    "holding": "holding", "holdings": "holding", "international": "intl", "compagnie": "cie",
    "company": "co", "corporation": "corp", "aktiengesellschaft": "ag", "limited": "ltd", "incorporated": "inc",
}
# Legal forms that name one form: in two languages (Belgium: SA/NV, SRL/BV), with or without the
# single-shareholder mark (SAS/SASU, SARL/EURL, S.L./S.L.U., S.A./S.A.U.: the same company after a
# share transfer), "Co., Ltd." / "Ltd", the private limited companies of India, Singapore and
# Australia written with or without their "Private" ("X Private Limited" / "X Ltd": a rep drops
# the word, a company that goes public drops it too), and the "KG" a rep types for a "GmbH & Co. KG".
_SAME_FORMS = ({"SA", "NV", "S.A.U."}, {"BV", "S.r.l."}, {"SAS", "SASU"}, {"SARL", "EURL"}, {"S.L.", "S.L.U."},
               {"Ltd", "Co. Ltd", "Co", "Pvt Ltd", "Pvt", "Pte Ltd", "Pte", "Pty Ltd", "Pty"},
               {"KG", "GmbH & Co. KG"}, {"Inc", "Corp"})
# "Company" ends names as a word as often as a form ("Shell Oil Company", "Food Truck Company B.V."
# written without its "B.V."): it never rules out another form.
_ANY_FORM = frozenset({"Co"})
# The normaliser's spellings of generic words ("Internacional" -> "intl"): a word of their own, never
# an abbreviation of another ("intl" is not "industrial").
_GENERIC = GENERIC_WORDS
IDS = ("lei", "siren", "siret", "duns")
_CITY_WORD = re.compile(r"[a-z0-9]+")
STRONG_IDS = ("lei", "siret", "duns")


@dataclass(frozen=True)
class Verdict:
    action: str  # ok | review | drop
    reason: str | None = None


@lru_cache(maxsize=1 << 16)
def _canonical(token: str) -> str:
    if len(token) >= 5 and token not in _GENERIC_SPELLINGS:
        for spelling, canonical in _GENERIC_SPELLINGS.items():
            if OSA.distance(token, spelling, score_cutoff=1) <= 1:
                return canonical
    return _GENERIC_SPELLINGS.get(token, token)


# One-word legal forms, to recognise them typed with a typo ("GMBBH", "nIc", "SAARL", "imited").
_FORM_WORDS = ("gmbh", "inc", "ltd", "limited", "llc", "corp", "plc", "sarl", "sas", "srl", "spa", "bv", "nv")


@lru_cache(maxsize=1 << 16)
def _weak(token: str) -> bool:
    """A word that never distinguishes two companies: connectors' leftovers, legal-form debris."""
    if token.isdigit():
        return False
    if len(token) <= 1 or token in _WEAK or legal_form(f"x {token}") is not None:
        return True
    # 4+ letters: one typo away; 3 letters: two neighbours swapped ("nic"; not "dtl", Deutschland)
    return any(OSA.distance(token, f, score_cutoff=1) <= 1 and (len(f) >= 4 or sorted(token) == sorted(f))
               for f in _FORM_WORDS if len(token) >= 3)


def same_form(a: str | None, b: str | None) -> bool:
    """Legal forms that may belong to one company: equal, unknown on a side, or bilingual twins."""
    return (a is None or b is None or a == b or a in _ANY_FORM or b in _ANY_FORM
            or any(a in s and b in s for s in _SAME_FORMS))


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


@lru_cache(maxsize=1 << 18)
def same_word(a: str, b: str) -> bool:
    """Equal, an abbreviation of one another, or one typo apart.

    An abbreviation starts with the same letter and is short next to the word: a prefix of at
    most 65 % of it ("tech", "distrib", "assoc"; not "reti" for "retail"), or a subsequence of at
    most 60 % that ends like the word or has 3 letters ("svcs", "mgmt", "dtl"; not "bremau"
    for "bremhausen"). Numbers only match themselves ("Fund 2" is not "Fund 3")."""
    if a == b:
        return True
    if any(ch.isdigit() for ch in a + b) or a in _GENERIC or b in _GENERIC or (_roman(a) and _roman(b)):
        return False
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 3 and short[0] == long[0]:
        if long.startswith(short) and len(short) <= 0.65 * len(long):
            return True
        if (len(short) <= 0.6 * len(long) and (short[-1] == long[-1] or len(short) == 3)
                and _subsequence(short, long)):
            return True
    if len(short) == 3 and len(long) == 4 and short[0] == long[0] and short[-1] == long[-1]:
        return OSA.distance(a, b, score_cutoff=1) <= 1  # a letter left out inside: "pln" / "plan", "cip" / "chip"
    return len(short) >= 4 and OSA.distance(a, b, score_cutoff=1) <= 1


_ROMAN = re.compile(r"m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})")


def _roman(word: str) -> bool:
    """A roman numeral of 2+ letters ("ii", "xxvii"): like a number, it only matches itself
    ("Trust Service XXVII" is not "XXVIII")."""
    return len(word) >= 2 and _ROMAN.fullmatch(word) is not None


@lru_cache(maxsize=1 << 16)
def same_city(a: str, b: str) -> bool:
    """Equal, one typo apart, or one names the place more precisely ("frankfurt" / "frankfurt am
    main", "1073 w maxwell st" / "1073 w maxwell": no distinguishing word on both sides)."""
    if a == b:
        return True
    words_a, words_b = _CITY_WORD.findall(a), _CITY_WORD.findall(b)
    numbers_a, numbers_b = [w for w in words_a if w.isdigit()], [w for w in words_b if w.isdigit()]
    if numbers_a and numbers_b and numbers_a != numbers_b:  # another street number, another district
        return False
    if min(len(a), len(b)) >= 4 and OSA.distance(a, b, score_cutoff=1) <= 1:
        return True
    extra_a, extra_b = extra_words(words_a, words_b)
    return not (extra_a and extra_b)


def _close(a: str, b: str) -> bool:
    """Two words of 6+ letters two typos apart (not the same word for `same_word`)."""
    return min(len(a), len(b)) >= 6 and not any(ch.isdigit() for ch in a + b) and OSA.distance(
        a, b, score_cutoff=2) <= 2


@lru_cache(maxsize=1 << 16)
def _form_typo(token: str, form: str | None) -> bool:
    """`token` is the legal form `form` (of the other record) mistyped: one typo from a word of it,
    the first letter kept or only letters swapped ("GsBH", "S.r.A.", "Ld", "AGG", "SSA"; not "Gas"
    for "SAS")."""
    if form is None or token.isdigit():
        return False
    return any(OSA.distance(token, word, score_cutoff=1) <= 1 and max(len(token), len(word)) >= 3
               and (token[0] == word[0] or sorted(token) == sorted(word)) for word in form_words(form))


def _without_form_typos(tokens: list[str], other: list[str], other_form: str | None) -> list[str]:
    """`tokens` without the trailing words that mistype the other record's legal form."""
    out = list(tokens)
    # a single letter left of the form ("Acme G", "Acme GmbH"), never a number ("Properties 1 Ltd")
    while len(out) > 1 and out[-1] not in other and (
            (len(out[-1]) == 1 and not out[-1].isdigit()) or _form_typo(out[-1], other_form)):
        out.pop()
    return out


def extra_words(left: list[str], right: list[str], form_left: str | None = None,
                form_right: str | None = None) -> tuple[list[str], list[str]]:
    """Distinguishing words of each name that have no counterpart in the other. With the legal
    forms of the two records, a trailing word of one name that mistypes the other's form is none."""
    if form_left or form_right:
        left, right = _without_form_typos(left, right, form_right), _without_form_typos(right, left, form_left)
    left, right = [_canonical(w) for w in left], [_canonical(w) for w in right]
    if len(left) == len(right) == 1 and left[0][0] != right[0][0] and not (_weak(left[0]) or _weak(right[0])):
        # a one-word name with another first letter is another name ("Alcott" / "Talcott": two
        # Chicago schools), as for the name's one-typo level; in a longer name a word's first
        # letter may be mistyped ("kessler ervices") since the other words carry the identity
        return [left[0]], [right[0]]
    unmatched_right = list(right)
    extra_left = []
    for word in left:
        for j, other in enumerate(unmatched_right):
            if same_word(word, other):
                del unmatched_right[j]
                break
        else:
            extra_left.append(word)
    if not extra_left and not unmatched_right:
        return [], []
    # A typo may split or join words ("data ia" / "dataia"): compare the joined forms too.
    if "".join(left) == "".join(right):
        return [], []
    return [w for w in extra_left if not _weak(w)], [w for w in unmatched_right if not _weak(w)]


@dataclass
class Record:
    """What the guard needs of one account."""

    tokens: list[str]
    ids: dict[str, str | None]
    form: str | None
    city: str | None
    ancestors: frozenset[str]  # parent, grand-parent… (account ids)
    top: str  # the top of its group (itself when it has no parent)
    domain_stem: str | None = None  # `features.domain_stem` of its domain


def _spells_name(stem: str, tokens: list[str]) -> bool:
    """The domain stem spells the name, or words of it in a row, up to one letter: "lamelleprime" /
    "lamelle prime", "navares" / "industrias navares", "calaresnova" / "corporacion calares nova",
    "martinyasociados" / "martin asociados"."""
    compact = stem.replace("-", "")
    runs = ("".join(tokens[i:j]) for i in range(len(tokens)) for j in range(i + 1, len(tokens) + 1))
    return len(compact) >= 4 and any(len(run) >= 4 and OSA.distance(compact, run, score_cutoff=1) <= 1 for run in runs)


def check(id_l: str, left: Record, id_r: str, right: Record) -> Verdict:
    for kind in IDS:
        a, b = left.ids.get(kind), right.ids.get(kind)
        if a and b and a != b:
            return Verdict("drop", f"different {kind.upper()}")
    if id_l in right.ancestors or id_r in left.ancestors:
        return Verdict("drop", "one is the other's parent")
    strong = any(left.ids.get(k) and left.ids.get(k) == right.ids.get(k) for k in STRONG_IDS)
    if not same_form(left.form, right.form):
        return Verdict("review" if strong else "drop", f"different legal forms: {left.form} / {right.form}")
    extra_l, extra_r = extra_words(left.tokens, right.tokens, left.form, right.form)
    if extra_l and extra_r:
        if len(extra_l) == len(extra_r) == 1 and _close(extra_l[0], extra_r[0]):
            # two typos apart: two mistyped copies of one name ("indstrial" / "induustrial"), or two
            # companies ("birchwood" / "birchford"): a reviewer decides
            return Verdict("review", f"close words: {extra_l[0]} / {extra_r[0]}")
        reason = f"different words: {' '.join(extra_l)} / {' '.join(extra_r)}"
        return Verdict("review" if strong else "drop", reason)
    if extra_l or extra_r:
        reason = f"extra words: {' '.join(extra_l or extra_r)}"
        same_group = left.top == right.top and (left.ancestors or right.ancestors)
        return Verdict("drop" if same_group and not strong else "review", reason)
    initials_l = {t for t in left.tokens if len(t) == 1 and t.isalpha()}
    initials_r = {t for t in right.tokens if len(t) == 1 and t.isalpha()}
    if initials_l and initials_r and initials_l != initials_r:  # "Hughes, C." / "Hughes, L."
        return Verdict("review", f"different initials: {' '.join(sorted(initials_l))} / {' '.join(sorted(initials_r))}")
    if left.city and right.city and not same_city(left.city, right.city):
        return Verdict("review", f"different cities: {left.city} / {right.city}")
    if (left.domain_stem and right.domain_stem and left.domain_stem != right.domain_stem
            and left.tokens != right.tokens and _spells_name(left.domain_stem, left.tokens)
            and _spells_name(right.domain_stem, right.tokens)):
        # "Lamelle Prime" (lamelleprime.com) / "Lavelle Prime" (lavelleprime.be): each site spells its own name
        return Verdict("review", f"each domain spells its own name: {left.domain_stem} / {right.domain_stem}")
    if left.ancestors and right.ancestors and left.top != right.top:
        return Verdict("review", "in two different groups")
    return Verdict("ok")


# Two words are another spelling of each other inside a cluster at this similarity (rapidfuzz's
# normalised Indel ratio, 0-100), the first letter kept, 4+ letters: "imdepemdemt" / "indepwndent"
# (64), not "kessler" / "kellogg" (43); or one is the other cut short with a typo ("dufre" /
# "dufesne", "engine" / "egineering"); numbers never.
SPELLING_RATIO = 60


def _spelling(a: str, b: str) -> bool:
    if min(len(a), len(b)) < 3 or a[0] != b[0] or any(ch.isdigit() for ch in a + b):
        return False
    if min(len(a), len(b)) == 3:  # short words, each a typo of one word: "pln" / "pan" / "pean" ("plan"), "cip" / "chip"
        return max(len(a), len(b)) <= 4 and OSA.distance(a, b, score_cutoff=2) <= 2
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return fuzz.ratio(a, b) >= SPELLING_RATIO or OSA.distance(short, long[: len(short)], score_cutoff=2) <= 2


def spellings_only(left: Record, right: Record) -> bool:
    """The distinguishing words of the two names pair up as spellings of one another (one word
    for one word, in order): far-apart typos or cut-short copies of one name, which a chain of
    one-typo links may join inside a cluster (never on their own: the pair itself is not merged)."""
    extra_l, extra_r = extra_words(left.tokens, right.tokens, left.form, right.form)
    if not extra_l or len(extra_l) != len(extra_r):
        return False
    return all(_spelling(a, b) for a, b in zip(extra_l, extra_r, strict=True))
