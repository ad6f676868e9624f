"""Company names typed by leads, against the accounts' names: pure functions, no I/O.

Names are compared after the resolver's normaliser (`accountree.resolve.normalize`: legal forms,
accents, punctuation, generic words). Per typed name, best first:

- `name`: the whole typed name, or one of its parts ("Dept. of Physics, University of Oxford" is
  cut at commas, semicolons, dashes, brackets), equals an account's name;
- `name_prefix`: the typed name *starts* with an account's name ("IBM Research – China" → "IBM"),
  the longest such name (≥ 2 words, or one distinctive word of ≥ 3 letters), when the words after
  it say where or which part (countries, "research", "labs", "emea", a legal form…), not another
  company ("Jones Engineering Prime" is not "Jones Engineering");
- `name_start`: the typed name is how the names of one group's accounts start ("Doraud" →
  "Doraud Maintenance Italia", "Doraud Energie France"…; the caller checks they are one group);
- `name_fuzzy`: a typo or two (rapidfuzz `process.cdist`, ratio on normalised names, ≥ FUZZY_MIN,
  then `typo_only`: no whole word replaced),
  compared only within blocks (same first three letters, or same first letter and same next
  three in any order: "krichhausen" ~ "kirchhausen", or same last four), in batches.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from accountree.resolve.normalize import GENERIC_WORDS, looks_like_legal_form, normalize_name, normalize_names

FUZZY_MIN = 90.0  # ratio (0–100) on normalised names
FUZZY_MIN_LENGTH = 6  # shorter names must match exactly: "abc" vs "abd" is another company
_PARTS_RE = re.compile(r"\s*(?:[,;|/()\[\]]|\s[-–—]\s|\s@\s)\s*")
BLOCK = 3
PARALLEL_CELLS = 1_000_000  # comparisons in a block from which rapidfuzz uses every core
START_MAX = 500  # a name start shared by more accounts is too common to mean anything


def _blocks(key: str) -> tuple[str, str, str]:
    return key[:BLOCK], key[0] + "".join(sorted(key[1:4])), "$" + key[-4:]


@dataclass(frozen=True)
class NameHit:
    key: str  # the account name (normalised) that matched
    method: str  # name | name_prefix | name_start | name_fuzzy
    score: float  # 0–100
    part: str  # the part of the typed name that matched
    tail: tuple[str, ...] = ()  # name_prefix: the typed words after the account's name

    @property
    def plain_tail(self) -> bool:
        """The words after the account's name say where or which part ("Research China", "Labs
        EMEA"), not another company ("Prime", "Alto")."""
        return all(w in TAIL_WORDS or looks_like_legal_form(w) for w in self.tail)


def _tail_words() -> frozenset[str]:
    import pycountry

    words = set(GENERIC_WORDS) | {
        "research", "lab", "labs", "laboratory", "laboratories", "division", "dept", "department", "unit", "team",
        "office", "branch", "center", "centre", "campus", "hq", "headquarters", "emea", "apac", "latam", "americas",
        "europe", "european", "asia", "africa", "north", "south", "east", "west", "central", "global", "worldwide",
        "local", "site", "plant", "factory", "sales", "marketing", "finance", "it", "hr", "procurement", "purchasing",
        "legal", "operations", "ops", "engineering", "rd", "digital", "software", "services", "support", "hospital",
        "school", "faculty", "institute", "college", "uk", "usa", "us", "eu", "uae", "medicine", "medical",
        "graduate", "health", "clinical", "science", "sciences", "hospitals", "clinic",
    }
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            words.update(normalize_name(getattr(country, attr, "") or "").split())
    normalised = {t for w in words for t in normalize_name(w).split()}
    return frozenset(w for w in words | normalised if w)


TAIL_WORDS = _tail_words()


def typo_only(a: str, b: str) -> bool:
    """Two normalised names differ by typos only: word by word, one slip per word (two in words of
    9+ letters), or one word split or joined — never a whole word replaced ("Jones Engineering" is
    not "Johnson Engineering", "Moreau" not "Morel")."""
    wa, wb = a.split(), b.split()
    if len(wa) != len(wb):
        return abs(len(wa) - len(wb)) == 1 and OSA.distance(a.replace(" ", ""), b.replace(" ", "")) <= 1
    for x, y in zip(wa, wb, strict=True):
        if x != y and OSA.distance(x, y) > (2 if min(len(x), len(y)) >= 9 else 1):
            return False
    return True


def typed_parts(typed: str | None) -> list[tuple[str, str]]:
    """(normalised key, text) of a typed company name and of its parts (cut at commas, dashes…)."""
    if not typed:
        return []
    parts = [typed] + [p for p in _PARTS_RE.split(typed) if p and p != typed]
    return [(k, p) for p in parts[:6] if (k := normalize_name(p))]


class NameIndex:
    """Normalised account names → account rows (positions in the arrays given).

    Built in one pass over the keys (a dictionary); names by their first words come from the
    sorted keys by bisection, and the fuzzy blocks are built only for the blocks the typed names
    left over need — a million names cost a dictionary and a sort.
    """

    def __init__(self, keys: list[str]) -> None:
        self.rows: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            if key:
                self.rows[key].append(i)
        self.sorted = sorted(self.rows)

    @classmethod
    def of_names(cls, names: list[str | None]) -> NameIndex:
        return cls(normalize_names(names))

    def started(self, key: str) -> list[str]:
        """Account names (normalised) that start with the words of `key`; [] when too common."""
        head = key + " "
        at = bisect_left(self.sorted, head)
        found = []
        for name in self.sorted[at:at + START_MAX + 1]:
            if not name.startswith(head):
                break
            found.append(name)
        return [] if len(found) > START_MAX else found

    def _blocks_for(self, wanted: set[str]) -> dict[str, list[str]]:
        """The fuzzy blocks among `wanted`, filled with the account names in them."""
        out: dict[str, list[str]] = defaultdict(list)
        for key in self.rows:
            if len(key) < FUZZY_MIN_LENGTH:
                continue
            for block in {key[:BLOCK], "$" + key[-4:], key[0] + "".join(sorted(key[1:4]))} & wanted:
                out[block].append(key)
        return out

    def accounts_of(self, hit: NameHit) -> list[int]:
        """Positions of the accounts a hit names (for `name_start`: every account starting so)."""
        if hit.method == "name_start":
            return [i for key in self.started(hit.key) for i in self.rows[key]]
        return list(self.rows.get(hit.key, ()))

    def prefix(self, key: str) -> tuple[str, tuple[str, ...]] | None:
        """The longest account name the typed name starts with (whole words) and the words after it."""
        tokens = key.split()
        for k in range(len(tokens) - 1, 0, -1):
            head = tokens[:k]
            if k == 1 and (len(head[0]) < 3 or head[0] in GENERIC_WORDS):
                continue
            cand = " ".join(head)
            if cand in self.rows:
                return cand, tuple(tokens[k:])
        return None

    def match(self, typed: list[str | None]) -> list[NameHit | None]:
        """The best hit of each typed company name (None: no account name close enough)."""
        out: list[NameHit | None] = [None] * len(typed)
        fuzzy: list[tuple[int, str, str]] = []  # (lead position, query key, part)
        for i, text in enumerate(typed):
            keyed = typed_parts(text)
            if not keyed:
                continue
            hit = next((NameHit(k, "name", 100.0, p) for k, p in keyed if k in self.rows), None)
            if hit is None:
                hit = next((h for k, p in keyed if (found := self.prefix(k)) is not None
                            and (h := NameHit(found[0], "name_prefix", 95.0, p, found[1])).plain_tail), None)
            if hit is None:
                hit = next((NameHit(k, "name_start", 90.0, p) for k, p in keyed
                            if len(k) >= 3 and k not in GENERIC_WORDS and self.started(k)), None)
            if hit is not None:
                out[i] = hit
                continue
            for k, p in keyed:
                if len(k) >= FUZZY_MIN_LENGTH:
                    fuzzy.append((i, k, p))
        by_block: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        for item in fuzzy:
            for block in set(_blocks(item[1])):
                by_block[block].append(item)
        blocks = self._blocks_for(set(by_block)) if by_block else {}
        for block, items in by_block.items():
            choices = blocks.get(block)
            if not choices:
                continue
            big = len(items) * len(choices) >= PARALLEL_CELLS  # threads pay off on big blocks only
            for start in range(0, len(items), 512):
                batch = items[start:start + 512]
                scores = process.cdist([q for _, q, _ in batch], choices, scorer=fuzz.ratio,
                                       score_cutoff=FUZZY_MIN, dtype=np.uint8, workers=-1 if big else 1)
                for row in np.flatnonzero(scores.max(axis=1) >= FUZZY_MIN):  # the rows with a close name only
                    i, query, part = batch[row]
                    for col in np.flatnonzero(scores[row] >= FUZZY_MIN)[np.argsort(-scores[row][scores[row] >= FUZZY_MIN],
                                                                                 kind="stable")]:
                        score = float(scores[row, col])
                        if out[i] is not None and score <= out[i].score:  # type: ignore[union-attr]
                            break
                        if typo_only(query, choices[col]):
                            out[i] = NameHit(choices[col], "name_fuzzy", score, part)
                            break
        return out
