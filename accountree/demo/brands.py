"""Unique brand and small-company names, drawn without replacement across the whole run.

Two distinct groups must never share a brand: siblings of one group share it (and are not
duplicates), so a brand shared across groups would make the duplicate ground truth ambiguous and
put two unrelated companies on one web domain. Each naming language therefore has a finite space of
syllable combinations walked in a seed-dependent pseudo-random order; when a space is exhausted
(demos of hundreds of thousands of accounts) a qualifier word is appended (``Valmont Orion``).
"""

from __future__ import annotations

import math

from accountree.demo.names import BRAND_BLOCKLIST, BRAND_QUALIFIERS, BRAND_SYLLABLES, SME_TEMPLATES
from accountree.demo.people import LAST_NAMES

VOWELS = frozenset("aeiouyáéíóúàèìòùâêîôûäöüAEIOUÉÁÍÓÚ")


def _join(prefix: str, suffix: str) -> str | None:
    """Glue two syllables, avoiding vowel clashes (``Monte`` + ``ero`` → ``Montero``)."""
    if prefix[-1] in VOWELS and suffix[0] in VOWELS:
        if len(prefix) == 1:
            return None
        prefix = prefix[:-1]
    return prefix + suffix


def _build_brand_space() -> dict[str, tuple[str, ...]]:
    # Surnames are excluded: they name small companies (SME_SPACE), and a brand equal to a surname
    # would let "Rinaldi Internazionale" exist twice as two unrelated companies.
    seen: set[str] = {s for names in LAST_NAMES.values() for s in names}
    spaces: dict[str, tuple[str, ...]] = {}
    for lang, (prefixes, suffixes) in BRAND_SYLLABLES.items():
        names = []
        for p in prefixes:
            for s in suffixes:
                name = _join(p, s)
                if name and s != p.lower() and name not in seen and name not in BRAND_BLOCKLIST and len(name) >= 5:
                    seen.add(name)
                    names.append(name)
        spaces[lang] = tuple(names)
    return spaces


def _build_sme_space() -> dict[str, tuple[str, ...]]:
    return {
        lang: tuple(t.format(s=s) for s in LAST_NAMES[lang] for t in templates)
        for lang, templates in SME_TEMPLATES.items()
    }


BRAND_SPACE = _build_brand_space()
SME_SPACE = _build_sme_space()


class UniqueNamer:
    """Hands out names of one space in a fixed pseudo-random order, never twice.

    The order is the affine permutation ``k -> (a*k + b) mod n`` with ``gcd(a, n) = 1``: O(1)
    state (one counter per language), reproducible from the seed, and it spreads consecutive
    names over the alphabet so that neighbouring groups do not look alike.
    """

    def __init__(self, space: dict[str, tuple[str, ...]], seed: int) -> None:
        self.space = space
        self.counters = dict.fromkeys(space, 0)
        self.perm: dict[str, tuple[int, int]] = {}
        for i, (lang, names) in enumerate(sorted(space.items())):
            n = len(names)
            a = int(n * 0.618) | 1
            while math.gcd(a, n) != 1:
                a += 2
            self.perm[lang] = (a, (seed * 7919 + i * 104729) % n)

    def next(self, lang: str) -> str:
        k = self.counters[lang]
        self.counters[lang] = k + 1
        names = self.space[lang]
        a, b = self.perm[lang]
        name = names[(a * k + b) % len(names)]
        cycle = k // len(names)
        if cycle == 0:
            return name
        return f"{name} {_qualifier(cycle - 1)}"


def _qualifier(i: int) -> str:
    """The i-th distinct qualifier: single words first, then ordered pairs, then numbered pairs."""
    q = BRAND_QUALIFIERS
    if i < len(q):
        return q[i]
    i -= len(q)
    pair, rank = i % (len(q) * (len(q) - 1)), i // (len(q) * (len(q) - 1))
    first, offset = divmod(pair, len(q) - 1)
    words = f"{q[first]} {q[(first + 1 + offset) % len(q)]}"
    return words if rank == 0 else f"{words} {rank + 1}"
