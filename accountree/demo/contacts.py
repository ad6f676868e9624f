"""Contacts of one chunk, vectorised: small org charts with buying roles, departures and successors.

The first contact of an account is its top executive, the next two report to them, the others to
one of those two: enough structure for account mapping (who decides, who champions, who blocks)
without simulating whole companies. About one contact in eleven has left (``end_date``), and a
departed executive is usually replaced: the "new executive" events KAM alerts are about.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accountree.demo.catalog import SELLER_BUS
from accountree.demo.firmographics import CUSTOMER, FORMER, NONE, OPPORTUNITY
from accountree.demo.identifiers import record_ids
from accountree.demo.people import BUYING_ROLES, FIRST_NAMES, LANGS, LAST_NAMES, TITLES
from accountree.demo.variants import slug

CONTACT_COLUMNS = ("contact_id", "account_id", "name", "title", "email", "buying_role", "reports_to",
                   "start_date", "end_date", "seller_bu")
PERSON_LANG = {"FR": 0, "BE": 0, "DE": 1, "CH": 1, "GB": 2, "US": 2, "ES": 3, "IT": 4}


class _Vocab:
    """Flat arrays over the five languages, indexed by ``offset[lang] + k``."""

    def __init__(self, lists: list[tuple[str, ...]]) -> None:
        self.values = [v for values in lists for v in values]
        self.sizes = np.array([len(v) for v in lists])
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        self.array = pa.array(self.values, pa.string())

    def draw(self, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.offsets[group] + (rng.random(len(group)) * self.sizes[group]).astype(np.int64)


FIRST = _Vocab([FIRST_NAMES[lang] for lang in LANGS])
LAST = _Vocab([LAST_NAMES[lang] for lang in LANGS])
FIRST_SLUG = pa.array([slug(v) for v in FIRST.values])
LAST_SLUG = pa.array([slug(v) for v in LAST.values])
# Titles: one vocabulary per (language, tier) pair, group index = lang * 3 + tier.
_TITLE_LISTS = [TITLES[tier][lang] for lang in LANGS for tier in range(3)]
TITLE = _Vocab([tuple(t for t, _ in items) for items in _TITLE_LISTS])
TITLE_ROLE = np.array([BUYING_ROLES.index(r) for items in _TITLE_LISTS for _, r in items])
ROLE = pa.array(BUYING_ROLES)
BU_IDS = pa.array([b.bu_id for b in SELLER_BUS])
_OFF_TITLE_ROLES = np.array([BUYING_ROLES.index(r) for r in ("champion", "influencer", "user", "blocker", "other")])
_ECONOMIC_BUYER, _CHAMPION = BUYING_ROLES.index("economic_buyer"), BUYING_ROLES.index("champion")


@dataclass
class ChunkContacts:
    table: pa.Table
    start: np.ndarray  # first base contact of each record (index into the chunk's contacts)
    count: np.ndarray  # number of base contacts of each record
    contact_id: pa.Array
    economic_buyer: pa.Array  # name of each record's economic buyer (null when none)
    champion: pa.Array


def person_names(lang: np.ndarray, rng: np.random.Generator) -> tuple[pa.Array, pa.Array]:
    """Full names and e-mail local parts (``first.last``, ``f.last``, ``firstlast``) of new people."""
    f, last = FIRST.draw(lang, rng), LAST.draw(lang, rng)
    first_name, last_name = FIRST.array.take(f), LAST.array.take(last)
    fs, ls = FIRST_SLUG.take(f), LAST_SLUG.take(last)
    pattern = rng.random(len(lang))
    initial = pc.utf8_slice_codeunits(fs, 0, 1)
    local = pc.if_else(pattern < 0.65, pc.binary_join_element_wise(fs, ls, "."),
                       pc.if_else(pattern < 0.85, pc.binary_join_element_wise(initial, ls, "."),
                                  pc.binary_join_element_wise(fs, ls, "")))
    return pc.binary_join_element_wise(first_name, last_name, " "), local


def build_contacts(status: np.ndarray, best: np.ndarray, is_dup: np.ndarray, country: list[str],
                   domain: list[str], account_id: list[str], first_id: int,
                   rng: np.random.Generator, ref_days: int) -> ChunkContacts:
    """Contacts of the records of a chunk; arguments are per record except ``rng`` and dates."""
    n = len(status)
    lam = np.select([status == CUSTOMER, status == OPPORTUNITY, status == FORMER], [2.5, 1.5, 1.0], 1.0)
    base = np.select([status == CUSTOMER, status == OPPORTUNITY, status == FORMER], [3, 2, 2], 1)
    count = base + rng.poisson(lam + 2.0 * best)
    count = np.where((status == NONE) & (rng.random(n) < 0.5), 0, count)
    count = np.where(is_dup, (rng.random(n) < 0.3) * (1 + rng.poisson(0.5, n)), count)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    rec = np.repeat(np.arange(n), count)
    m = len(rec)
    pos = np.arange(m) - start[rec]
    ids = record_ids("CON", first_id, m, 9)

    home_lang = np.array([PERSON_LANG[c] for c in country])[rec]
    lang = np.where(rng.random(m) < 0.1, rng.integers(0, len(LANGS), m), home_lang)
    name, local = person_names(lang, rng)
    tier = np.where(pos == 0, 0, np.where(pos <= 2, 1, 2))
    title_lang = np.where(rng.random(m) < 0.4, LANGS.index("en"), home_lang)
    t = TITLE.draw(title_lang * 3 + tier, rng)
    role = np.where(rng.random(m) < 0.2, rng.choice(_OFF_TITLE_ROLES, m), TITLE_ROLE[t])  # people vary
    manager_pos = np.where(pos >= 3, 1 + (rng.random(m) < 0.5), 0)  # pos 1 or 2, else the top
    reports_to = pc.if_else(pa.array(pos == 0), pa.scalar(None, pa.string()),
                            ids.take(pa.array(start[rec] + manager_pos)))
    domains = pa.array(domain).take(pa.array(rec))
    email = pc.binary_join_element_wise(local, domains, "@")
    email = pc.if_else(pa.array(rng.random(m) < 0.05), pa.scalar(None, pa.string()), email)

    started = ref_days - (30 + rng.random(m) ** 1.3 * 3000).astype(np.int64) - 400 * (pos == 0)
    left = rng.random(m) < 0.09
    ended = started + 30 + (rng.random(m) * (ref_days - 30 - started)).astype(np.int64)
    end = np.where(left & (ended < ref_days), ended, -1)

    # Successors of departed executives: same title and manager, a few weeks later.
    succ = np.flatnonzero((end >= 0) & (tier <= 1) & (rng.random(m) < 0.7))
    succ_start = end[succ] + rng.integers(5, 90, len(succ))
    succ = succ[succ_start <= ref_days]
    succ_start = succ_start[succ_start <= ref_days]
    s_name, s_local = person_names(lang[succ], rng)
    s_ids = record_ids("CON", first_id + m, len(succ), 9)
    bu = rng.integers(0, len(SELLER_BUS), m + len(succ))
    shared = rng.random(m + len(succ)) < 0.7

    table = pa.table({
        "contact_id": pa.concat_arrays([ids, s_ids]),
        "account_id": pa.array(account_id).take(pa.array(np.concatenate([rec, rec[succ]]))),
        "name": pa.concat_arrays([name, s_name]),
        "title": TITLE.array.take(pa.array(np.concatenate([t, t[succ]]))),
        "email": pa.concat_arrays([email, pc.binary_join_element_wise(s_local, domains.take(pa.array(succ)), "@")]),
        "buying_role": ROLE.take(pa.array(np.concatenate([role, role[succ]]))),
        "reports_to": pa.concat_arrays([reports_to, reports_to.take(pa.array(succ))]),
        "start_date": _dates(np.concatenate([started, succ_start])),
        "end_date": _dates(np.concatenate([end, np.full(len(succ), -1)])),
        "seller_bu": pc.if_else(pa.array(shared), pa.scalar(None, pa.string()), BU_IDS.take(pa.array(bu))),
    })
    active = end < 0
    return ChunkContacts(table, start, count, ids,
                         _first_with_role(rec, role, active, _ECONOMIC_BUYER, name, n),
                         _first_with_role(rec, role, active, _CHAMPION, name, n))


def _dates(days: np.ndarray) -> pa.Array:
    """Days since epoch as a date column, -1 meaning missing."""
    return pa.array(days.astype(np.int32), pa.int32(), mask=days < 0).cast(pa.date32())


def _first_with_role(rec: np.ndarray, role: np.ndarray, active: np.ndarray, code: int,
                     name: pa.Array, n: int) -> pa.Array:
    """Per record, the name of its first active contact with buying role ``code`` (else null)."""
    hit = np.flatnonzero((role == code) & active)
    recs, first = np.unique(rec[hit], return_index=True)
    idx = np.full(n, -1)
    idx[recs] = hit[first]
    return name.take(pa.array(idx, mask=idx < 0))
