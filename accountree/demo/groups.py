"""The real companies of one chunk: group trees, standalone companies and joint ventures.

This module decides *who exists and how they are related* (the ground truth of the hierarchy);
firmographics, CRM records and duplicates are layered on top by other modules. Group trees are
built level by level (head → subsidiary → business unit → country entity → site) because a
level-wise construction reaches depth 5 in large groups in O(size), where preferential attachment
would be quadratic.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from accountree.demo.brands import UniqueNamer
from accountree.demo.names import (
    BUSINESS_UNITS,
    CITIES,
    COUNTRIES,
    COUNTRY_LOCAL,
    DIVISIONS,
    HEAD_TEMPLATES,
    HOME_WEIGHTS,
    JV_WORDS,
    LANGUAGE,
    LEGAL_FORMS,
    SITE_TEMPLATES,
    TLD,
)
from accountree.demo.variants import slug

# What a node of each kind may have as children.
_CHILD_KIND = {"head": "subsidiary", "bu": "country", "country": "site", "jv": "country"}
JV_SHARES: tuple[tuple[float, ...], ...] = ((50, 50), (50, 50), (40, 30, 30), (45, 45), (35, 35, 30))
MINORITY_SHARES: tuple[float, ...] = (70, 75, 80, 60, 65)


@dataclass
class Entities:
    """Column lists of the real entities of one chunk (indexes are chunk-local)."""

    kind: list[str] = field(default_factory=list)  # head subsidiary bu country site standalone jv
    group: list[int] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)  # controlling / direct parent, -1 for tops
    relation: list[str] = field(default_factory=list)
    ownership: list[float | None] = field(default_factory=list)
    level: list[int] = field(default_factory=list)
    top: list[int] = field(default_factory=list)  # the group head (itself for tops)
    country: list[str] = field(default_factory=list)
    lang: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    base: list[str] = field(default_factory=list)  # name without legal form, for children names
    city: list[str] = field(default_factory=list)
    domain: list[str] = field(default_factory=list)  # the real web / e-mail domain
    group_size: list[int] = field(default_factory=list)
    # Extra parent links: (child, parent, relation, ownership_pct) for JVs and minority stakes.
    links: list[tuple[int, int, str, float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.kind)

    def add(self, kind: str, group: int, parent: int, relation: str, ownership: float | None,
            country: str, lang: str, name: str, base: str, city: str, domain: str) -> int:
        i = len(self.kind)
        self.kind.append(kind)
        self.group.append(group)
        self.parent.append(parent)
        self.relation.append(relation)
        self.ownership.append(ownership)
        self.level.append(0 if parent < 0 else self.level[parent] + 1)
        self.top.append(i if parent < 0 else self.top[parent])
        self.country.append(country)
        self.lang.append(lang)
        self.name.append(name)
        self.base.append(base)
        self.city.append(city)
        self.domain.append(domain)
        self.group_size.append(0)
        return i


def group_sizes(n_groups: int, budget: int, rng: random.Random) -> list[int]:
    """Skewed sizes summing to ``budget``: ~3 % of groups with 100+ entities, most with 3-15."""
    if n_groups <= 0:
        return []
    n_big = round(n_groups * 0.03)
    while n_big and budget - n_big * 100 < 3 * (n_groups - n_big):
        n_big -= 1
    sizes = [rng.randint(100, 220) for _ in range(n_big)]
    sizes += [max(2, min(40, round(math.exp(rng.gauss(1.75, 0.55))))) for _ in range(n_groups - n_big)]
    diff = budget - sum(sizes)
    small = list(range(n_big, n_groups)) or list(range(n_groups))
    while diff:
        i = rng.choice(small if diff > 0 or n_big == 0 else small + list(range(n_big)))
        if diff > 0:
            sizes[i] += 1
            diff -= 1
        elif sizes[i] > (100 if i < n_big else 2):
            sizes[i] -= 1
            diff += 1
    return sizes


@dataclass
class _GroupContext:
    """Naming state of the group being built."""

    brand: str
    lang: str
    home: str
    tld: str
    footprint: list[str]
    size: int
    divisions: list[str]
    used: set[str] = field(default_factory=set)
    children: dict[int, set[str]] = field(default_factory=dict)
    by_level: list[list[int]] = field(default_factory=list)  # nodes that may take children


class GroupBuilder:
    """Builds the entities of one chunk; brand and name state is carried across chunks."""

    def __init__(self, brands: UniqueNamer, smes: UniqueNamer, rng: random.Random) -> None:
        self.brands = brands
        self.smes = smes
        self.rng = rng
        self.e = Entities()
        self.n_groups = 0
        self.group_brand: list[str] = []

    def _new_group(self, brand: str) -> int:
        self.group_brand.append(brand)
        self.n_groups += 1
        return self.n_groups - 1

    def _home(self) -> tuple[str, str]:
        country = self.rng.choices(COUNTRIES, HOME_WEIGHTS)[0]
        lang = LANGUAGE[country] if country != "CH" or self.rng.random() < 0.7 else "fr"
        return country, lang

    @staticmethod
    def _unique(used: set[str], base: str, city: str, form: str | None) -> tuple[str, str]:
        """A base name and full name (base + legal form) that no other entity of the group has.

        Both are checked: two entities differing only by their legal form (``X USA Inc.`` and
        ``X USA LLC``) would be indistinguishable once a duplicate drops the form.
        """
        candidate, suffix = base, ""
        while True:
            name = f"{candidate} {form}" if form else candidate
            if candidate not in used and name not in used:
                used.update((candidate, name))
                return candidate, name
            suffix = f" {city}" if not suffix else suffix + " II"
            candidate = base + suffix

    def group(self, size: int) -> None:
        """One group of ``size`` entities under a head flagged ``is_group_head``."""
        rng, e = self.rng, self.e
        home, lang = self._home()
        brand = self.brands.next(lang)
        g = self._new_group(brand)
        tld = "com" if rng.random() < 0.35 or home == "US" else TLD[home]
        footprint = [home] + rng.sample([c for c in COUNTRIES if c != home], min(7, 1 + size // 10))
        ctx = _GroupContext(brand, lang, home, tld, footprint, size, rng.sample(DIVISIONS[lang], len(DIVISIONS[lang])))
        head_name = rng.choice(HEAD_TEMPLATES[home]).format(b=brand)
        ctx.used.add(head_name)
        head = e.add("head", g, -1, "", None, home, lang, head_name, brand, CITIES[home][0], f"{slug(brand)}.{tld}")
        ctx.by_level.append([head])
        for level, count in enumerate(self._level_counts(size), start=1):
            ctx.by_level.append([])
            for _ in range(count):
                self._attach(ctx, level)
        for i in range(head, len(e)):
            e.group_size[i] = size

    @staticmethod
    def _level_counts(size: int) -> list[int]:
        rest = size - 1
        if rest <= 0:
            return []
        n1 = rest if size <= 4 else max(1, min(rest, round(1 + math.sqrt(rest) * 0.7)))
        rest -= n1
        if size < 25:
            return [n1, rest]
        if size < 100:
            n2 = round(rest * 0.55)
            return [n1, n2, rest - n2]
        n2, n3 = round(rest * 0.35), round(rest * 0.35)
        return [n1, n2, n3, rest - n2 - n3]

    def _attach(self, ctx: _GroupContext, level: int) -> None:
        rng, e = self.rng, self.e
        while not ctx.by_level[level - 1]:  # no parent able to take a child: attach higher up
            level -= 1
        p = rng.choice(ctx.by_level[level - 1])
        kind = _CHILD_KIND.get(e.kind[p], "")
        if e.kind[p] == "subsidiary":
            p_bu = 0.45 if ctx.size >= 100 else 0.3 if ctx.size >= 25 else 0.15
            kind = "bu" if rng.random() < p_bu else "country"
        taken = ctx.children.setdefault(p, set())
        country, ownership, legal, domain = e.country[p], None, True, e.domain[p]
        city: str | None = None
        if kind == "subsidiary":
            div = ctx.divisions[len(taken) % len(ctx.divisions)]
            base = f"{ctx.brand} {div}"
            if len(taken) >= len(ctx.divisions):
                base += f" {rng.choice(CITIES[country])}"
            taken.add(base)
            ownership = 100.0 if rng.random() < 0.85 else float(rng.choice((51, 60, 66, 75, 80, 90, 95)))
            relation = "subsidiary"
            if rng.random() < 0.2:
                domain = f"{slug(ctx.brand)}-{slug(div.split()[0])}.{ctx.tld}"
        elif kind == "bu":
            words = [w for w in BUSINESS_UNITS[ctx.lang] if w not in taken]
            word = rng.choice(words) if words else f"{rng.choice(BUSINESS_UNITS[ctx.lang])} {len(taken)}"
            taken.add(word)
            base, relation, legal = f"{e.base[p]} {word}", "business_unit", False
        elif kind == "country":
            free = [c for c in ctx.footprint if c not in taken]
            country = rng.choice(free or ctx.footprint)
            taken.add(country)
            base, relation, ownership = f"{e.base[p]} {COUNTRY_LOCAL[country]}", "branch", 100.0
            if not free:  # a second entity in the same country: named after its city
                city = rng.choice(CITIES[country])
                base += f" {city}"
            if country != ctx.home and rng.random() < 0.45:
                domain = f"{slug(ctx.brand)}.{TLD[country]}"
        else:  # site of a country entity: another establishment of the same legal entity
            city = rng.choice([c for c in CITIES[country] if c not in taken] or list(CITIES[country]))
            taken.add(city)
            base = SITE_TEMPLATES[LANGUAGE[country]].format(base=e.base[p], city=city)
            relation, legal = "branch", False
        city = city or rng.choice(CITIES[country])
        base, name = self._unique(ctx.used, base, city, rng.choice(LEGAL_FORMS[country]) if legal else None)
        i = e.add(kind, e.group[p], p, relation, ownership, country, ctx.lang, name, base, city, domain)
        if kind != "site":
            ctx.by_level[level].append(i)

    def standalone(self) -> None:
        """A company outside any group (a group of one): an SME or a mid-size brand."""
        rng, e = self.rng, self.e
        country, lang = self._home()
        if rng.random() < 0.55:
            base = self.smes.next(lang)
            g = self._new_group(base)
        else:
            brand = self.brands.next(lang)
            g = self._new_group(brand)
            base = brand if rng.random() < 0.6 else f"{brand} {rng.choice(DIVISIONS[lang])}"
        name = f"{base} {rng.choice(LEGAL_FORMS[country])}"
        domain = f"{slug(base)}.{TLD[country] if rng.random() < 0.7 else 'com'}"
        i = e.add("standalone", g, -1, "", None, country, lang, name, base, rng.choice(CITIES[country]), domain)
        e.group_size[i] = 1

    def joint_ventures(self, children: list[int]) -> None:
        """One JV per item of ``children`` (its number of country entities), held by 2-3 groups,
        none of them above 50 %. Needs at least three groups of three or more entities."""
        rng, e = self.rng, self.e
        candidates = [i for i in range(len(e)) if e.kind[i] in ("head", "subsidiary") and e.group_size[i] >= 3]
        if len({e.group[i] for i in candidates}) < 3:
            return
        for n_children in children:
            shares = rng.choice(JV_SHARES)
            parents: list[int] = []
            while len(parents) < len(shares):
                p = rng.choice(candidates)
                if all(e.group[p] != e.group[q] for q in parents):
                    parents.append(p)
            brands = [self.group_brand[e.group[p]] for p in parents[:2]]
            country = e.country[parents[0]]
            base = f"{brands[0]}-{brands[1]} {rng.choice(JV_WORDS)}"
            g = self._new_group(base)
            domain = f"{slug(brands[0])}{slug(brands[1])}.com"
            name = f"{base} {rng.choice(LEGAL_FORMS[country])}"
            jv = e.add("jv", g, -1, "", None, country, LANGUAGE[country], name, base,
                       rng.choice(CITIES[country]), domain)
            for p, pct in zip(parents, shares, strict=True):
                e.links.append((jv, p, "joint_venture", pct))
            for c in rng.sample([c for c in COUNTRIES if c != country], n_children):
                child_base = f"{base} {COUNTRY_LOCAL[c]}"
                e.add("country", g, jv, "branch", 100.0, c, LANGUAGE[country],
                      f"{child_base} {rng.choice(LEGAL_FORMS[c])}", child_base, rng.choice(CITIES[c]), domain)
            for i in range(jv, len(e)):
                e.group_size[i] = len(e) - jv

    def minority_stakes(self, count: int) -> None:
        """Subsidiaries controlled at 60-80 % whose other shares belong to another group's head.

        Only heads take minority stakes and heads have no parents, so these links cannot close a
        cycle in the ownership graph.
        """
        rng, e = self.rng, self.e
        heads = [i for i in range(len(e)) if e.kind[i] == "head"]
        targets = [i for i in range(len(e)) if e.kind[i] in ("subsidiary", "country")
                   and e.kind[e.top[i]] == "head"]
        if not targets or len({e.group[h] for h in heads}) < 2:
            return
        for child in rng.sample(targets, min(count, len(targets))):
            owner = rng.choice(heads)
            while e.group[owner] == e.group[child]:
                owner = rng.choice(heads)
            pct = float(rng.choice(MINORITY_SHARES))
            e.ownership[child] = pct
            e.links.append((child, owner, "subsidiary", 100.0 - pct))
