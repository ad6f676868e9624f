"""Campaigns of the seller's BUs, the accounts they target, and inbound leads to route.

Campaigns come in waves where every BU runs something at the same time, and large group entities
and live accounts are targeted more: that produces the calendar collisions (two BUs soliciting
the same account in the same weeks) the group marketing calendar has to catch. Leads type the
company name their own way and often use an address the CRM does not know, so routing them needs
matching, not a lookup.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from accountree.demo.catalog import CAMPAIGN_THEMES, CHANNELS, INDUSTRIES, SELLER_BUS
from accountree.demo.firmographics import CUSTOMER, OPPORTUNITY, Profile
from accountree.demo.groups import Entities

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
