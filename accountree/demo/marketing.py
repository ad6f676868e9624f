"""Campaigns of the seller's BUs, the accounts they target, and inbound leads to route.

Campaigns come in waves where every BU runs something at the same time, and large group entities
and live accounts are targeted more: that produces the calendar collisions (two BUs soliciting
the same account in the same weeks) the group marketing calendar has to catch. Leads type the
company name their own way and often use an address the CRM does not know, so routing them needs
matching, not a lookup.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from accountree.demo.brands import UniqueNamer
from accountree.demo.catalog import CAMPAIGN_THEMES, CHANNELS, FREE_MAIL, INDUSTRIES, LEAD_SOURCES, SELLER_BUS
from accountree.demo.contacts import PERSON_LANG, person_names
from accountree.demo.firmographics import CUSTOMER, OPPORTUNITY, Profile
from accountree.demo.groups import Entities
from accountree.demo.names import COUNTRIES, HOME_WEIGHTS, LANGUAGE, LEGAL_FORMS, TLD
from accountree.demo.variants import name_variant, slug, strip_legal_form

CAMPAIGN_COLUMNS = ("campaign_id", "name", "seller_bu", "channel", "start_date", "end_date", "budget", "currency")
LEAD_COLUMNS = ("lead_id", "name", "email", "company", "domain", "country", "seller_bu", "source",
                "created_at", "account_id")
_EPOCH = date(1970, 1, 1)
_BU_WEIGHTS = np.array([w for _, _, w in INDUSTRIES])


class Campaigns:
    """The campaign plan of the run (global, small) and how each campaign picks its targets."""

    def __init__(self, per_bu: int, rng: np.random.Generator, ref_days: int) -> None:
        n_bu = len(SELLER_BUS)
        self.bu = np.repeat(np.arange(n_bu), per_bu)
        n = len(self.bu)
        start = ref_days - rng.integers(-30, 1300, n)
        # Waves: campaign k of every BU starts within a few weeks of the same date (collisions).
        waves = ref_days - np.array([20, 120, 300, 520])
        k = np.tile(np.arange(per_bu), n_bu)
        in_wave = k < len(waves)
        start = np.where(in_wave, waves[np.minimum(k, len(waves) - 1)] + rng.integers(-15, 15, n), start)
        self.start = start
        self.end = start + rng.integers(20, 120, n)
        self.p_base = rng.uniform(0.01, 0.03, n)
        themes = [CAMPAIGN_THEMES[b][i % len(CAMPAIGN_THEMES[b])] for b, i in zip(self.bu.tolist(), k.tolist(), strict=True)]
        years = [(_EPOCH + timedelta(days=int(s))).year for s in start.tolist()]
        self.ids = [f"CMP{i + 1:04d}" for i in range(n)]
        self.table = pa.table({
            "campaign_id": self.ids,
            "name": [f"{t} {y}" for t, y in zip(themes, years, strict=True)],
            "seller_bu": [SELLER_BUS[b].bu_id for b in self.bu.tolist()],
            "channel": [CHANNELS[i] for i in rng.integers(0, len(CHANNELS), n).tolist()],
            "start_date": pa.array(self.start.astype(np.int32)).cast(pa.date32()),
            "end_date": pa.array(self.end.astype(np.int32)).cast(pa.date32()),
            "budget": pa.array(rng.integers(5, 150, n) * 1000, pa.int64()),
            "currency": ["EUR"] * n,
        })

    def targets(self, prof: Profile, e: Entities, entity: np.ndarray, account_id: list[str],
                rng: np.random.Generator) -> pa.Table:
        """``campaign_accounts`` rows of a chunk: a Bernoulli draw per (campaign, record)."""
        kind = np.array(e.kind)[entity]
        boost = np.where(np.isin(kind, ["head", "subsidiary"]), 2.0, 1.0)
        boost *= np.where(np.isin(prof.status[entity], [CUSTOMER, OPPORTUNITY]), 1.6, 1.0)
        fit = _BU_WEIGHTS[prof.industry[entity]]  # (records, BUs)
        camp, rec = [], []
        for c in range(len(self.ids)):
            p = self.p_base[c] * 3 * fit[:, self.bu[c]] * boost
            hit = np.flatnonzero(rng.random(len(entity)) < p)
            camp.append(np.full(len(hit), c))
            rec.append(hit)
        camp_idx, rec_idx = np.concatenate(camp), np.concatenate(rec)
        return pa.table({
            "campaign_id": pa.array(self.ids).take(pa.array(camp_idx)),
            "account_id": pa.array(account_id).take(pa.array(rec_idx)),
        })


def build_leads(e: Entities, prof: Profile, primary: np.ndarray, account_id: list[str], group_brand: list[str],
                n: int, first_id: int, smes: UniqueNamer, rng: np.random.Generator, prng: random.Random,
                ref_days: int) -> tuple[pa.Table, list[tuple[str, int]]]:
    """``n`` inbound leads, and the truth: (lead_id, chunk-local entity or -1 for a new company)."""
    weights = prof.engagement / prof.engagement.sum()
    known = rng.random(n) < 0.75
    ent = np.where(known, rng.choice(len(e), n, p=weights), -1)
    countries = [e.country[i] if i >= 0 else prng.choices(COUNTRIES, HOME_WEIGHTS)[0] for i in ent.tolist()]
    names, local = person_names(np.array([PERSON_LANG[c] for c in countries]), rng)
    cols: dict[str, list] = {c: [] for c in LEAD_COLUMNS}
    truth = []
    for k, (i, country) in enumerate(zip(ent.tolist(), countries, strict=True)):
        lead_id = f"LEAD{first_id + k:07d}"
        if i >= 0:
            company, domain = _typed_company(e.name[i], group_brand[e.group[i]], prng), e.domain[i]
            industry = int(prof.industry[i])
        else:
            base = smes.next(LANGUAGE[country])
            company, domain = f"{base} {prng.choice(LEGAL_FORMS[country])}", f"{slug(base)}.{TLD[country]}"
            industry = prng.randrange(len(INDUSTRIES))
        u = prng.random()
        mail_domain = prng.choice(FREE_MAIL) if u < 0.15 else domain
        bu = prng.choices(range(len(SELLER_BUS)), _BU_WEIGHTS[industry].tolist())[0]
        cols["lead_id"].append(lead_id)
        cols["name"].append(names[k].as_py())
        cols["email"].append(f"{local[k].as_py()}@{mail_domain}")
        cols["company"].append(company if prng.random() < 0.95 else None)
        cols["domain"].append(mail_domain if prng.random() < 0.7 else None)  # free mail included: a trap
        cols["country"].append(country if prng.random() < 0.9 else None)
        cols["seller_bu"].append(SELLER_BUS[bu].bu_id)
        cols["source"].append(prng.choice(LEAD_SOURCES))
        cols["created_at"].append(ref_days - int(prng.random() ** 1.5 * 365))
        cols["account_id"].append(account_id[primary[i]] if i >= 0 and prng.random() < 0.25 else None)
        truth.append((lead_id, i))
    table = pa.table({c: pa.array(cols[c], pa.string()) for c in LEAD_COLUMNS if c != "created_at"})
    created = pa.array(np.array(cols["created_at"], dtype=np.int32)).cast(pa.date32())
    table = table.add_column(LEAD_COLUMNS.index("created_at"), "created_at", created)
    return table, truth


def _typed_company(name: str, brand: str, rng: random.Random) -> str:
    """How a person fills in "Company" on a web form."""
    u = rng.random()
    if u < 0.35:
        return strip_legal_form(name)
    if u < 0.55:
        return brand
    if u < 0.7:
        return name
    return name_variant(name, rng)
