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
  ("defence space" vs "operations") — unless a LEI/SIRET/D-U-N-S is equal, then `review`.
  Two different legal forms (GmbH / GmbH & Co. KG, S.p.A. / S.r.l.) are two legal entities too
  (bilingual twins such as Belgian SA/NV are the same form).
- `review` — never merged automatically: one name has words the other lacks ("Kessler" vs
  "Kessler Énergie": a parent and its subsidiary look like that) — dropped instead when both
  accounts already sit in the same group (same top parent): a group's own entities are
  siblings; or the two records give different cities (two sites?).
- `ok` — no objection; the probability decides.

Words are compared after normalisation, and two words are the same word when equal, when one
abbreviates the other ("svcs"/"services", "tech"/"technologies", "dtl"/"deutschland": same first
letter, the short one a prefix or a subsequence of the long one) or when they differ by one typo.
Legal-form debris, "Sté", "Cie", "& Co" and single letters never distinguish; "Group",
"Holding", "International" do (a group's holding and its international arm are entities of their own).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

from accountree.resolve.normalize import legal_form

# Words that never tell two companies apart ("Sté", "Cie", "Ets", "& Co").
_WEAK = frozenset({"ste", "cie", "etablissements", "co", "company", "corp", "the"})
# Generic words as typed, for the typo'd ones the normaliser could not unify ("Groape" -> group).
_GENERIC_SPELLINGS = {
    "groupe": "group", "gruppe": "group", "gruppo": "group", "grupo": "group", "societe": "ste",
    "holding": "holding", "holdings": "holding", "international": "intl", "compagnie": "cie",
    "company": "co", "corporation": "corp", "aktiengesellschaft": "ag", "limited": "ltd", "incorporated": "inc",
}
# Legal forms that name the same form in two languages (Belgium: SA/NV, SRL/BV), and the
# "GmbH u. Co. KG" spelling the normaliser reads as KG.
_SAME_FORMS = ({"SA", "NV"}, {"BV", "S.r.l."}, {"KG", "GmbH & Co. KG"})
IDS = ("lei", "siren", "siret", "duns")
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
    if len(token) <= 1 or token in _WEAK or legal_form(f"x {token}") is not None:
        return True
    # 4+ letters: one typo away; 3 letters: the same letters swapped ("nic"), not any word one letter off
    return any(OSA.distance(token, f, score_cutoff=1) <= 1 if len(f) >= 4 else sorted(token) == sorted(f)
               for f in _FORM_WORDS if len(token) >= 3)


def same_form(a: str | None, b: str | None) -> bool:
    """Legal forms that may belong to one company: equal, unknown on a side, or bilingual twins."""
    return a is None or b is None or a == b or any(a in s and b in s for s in _SAME_FORMS)


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


@lru_cache(maxsize=1 << 18)
def same_word(a: str, b: str) -> bool:
    """Equal, an abbreviation of one another, or one typo apart."""
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 3 and short[0] == long[0] and (long.startswith(short) or (
            len(long) >= len(short) + 2 and _subsequence(short, long))):
        return True
    return len(short) >= 4 and OSA.distance(a, b, score_cutoff=1) <= 1


def extra_words(left: list[str], right: list[str]) -> tuple[list[str], list[str]]:
    """Distinguishing words of each name that have no counterpart in the other."""
    left, right = [_canonical(w) for w in left], [_canonical(w) for w in right]
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
    extra_l, extra_r = extra_words(left.tokens, right.tokens)
    if extra_l and extra_r:
        reason = f"different words: {' '.join(extra_l)} / {' '.join(extra_r)}"
        return Verdict("review" if strong else "drop", reason)
    if extra_l or extra_r:
        reason = f"extra words: {' '.join(extra_l or extra_r)}"
        same_group = left.top == right.top and (left.ancestors or right.ancestors)
        return Verdict("drop" if same_group and not strong else "review", reason)
    if left.city and right.city and left.city != right.city and not same_word(left.city, right.city):
        return Verdict("review", f"different cities: {left.city} / {right.city}")
    return Verdict("ok")
