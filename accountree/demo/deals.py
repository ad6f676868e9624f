"""Four years of deals for one chunk, vectorised, following each entity's planted history.

Customers win deals spread over the four years (with at least one in the last twelve months),
former customers only won three or more years ago, opportunities only have open and lost deals.
Best customers (the planted ICP outcome) win more often, across several years, and at a higher
margin: what "high-margin repeat customer" means in the KPIs. Some deals land on a duplicate
record of the entity, as they do when two reps each keep their own account.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accountree.demo.catalog import EUR_PER_UNIT, INDUSTRIES, MEDDIC, OPEN_STAGES, PRODUCTS, SELLER_BUS
from accountree.demo.firmographics import CUSTOMER, FORMER, OPPORTUNITY, REP_WEIGHTS, Profile
from accountree.demo.identifiers import record_ids
from accountree.demo.people import SALES_REPS

DEAL_COLUMNS = ("deal_id", "account_id", "seller_bu", "product", "stage", "amount", "gross_margin",
                "currency", "created_at", "close_date", "owner", "metrics", "economic_buyer",
                "decision_criteria", "decision_process", "identify_pain", "champion")
HISTORY_DAYS = 4 * 365
WON, LOST, OPEN = 0, 1, 2
_CURRENCIES = ("EUR", "USD", "GBP", "CHF")
_BU_WEIGHTS = np.array([w for _, _, w in INDUSTRIES])
_CYCLE = np.array([b.sales_cycle_days for b in SELLER_BUS], dtype=float)
_PRICE = np.array([p.list_price for p in PRODUCTS])
_MARGIN = np.array([p.margin_pct for p in PRODUCTS])
_PRODUCTS_OF_BU = [np.array([i for i, p in enumerate(PRODUCTS) if p.bu == b]) for b in range(len(SELLER_BUS))]


def _counts(prof: Profile, rng: np.random.Generator) -> np.ndarray:
    """(n_entities, 3) numbers of won, lost and open deals of each entity."""
    st, best = prof.status, prof.best
    scale = np.clip((prof.employees / 300) ** 0.2, 0.6, 2.0)
    won_base = np.select([st == CUSTOMER, st == FORMER], [1, 1], 0)
    won_lam = np.select([best, st == CUSTOMER, st == FORMER], [15.0, 5.0, 3.0], 0.0)
    lost_lam = np.select([best, st == CUSTOMER, st == FORMER, st == OPPORTUNITY], [6.0, 5.0, 3.0, 4.0], 0.35)
    open_lam = np.select([best, st == CUSTOMER, st == FORMER, st == OPPORTUNITY], [3.5, 2.0, 0.1, 2.2], 0.0)
    won = won_base + 2 * best + rng.poisson(won_lam * scale)
    lost = rng.poisson(lost_lam * scale)
    opened = (st == OPPORTUNITY) + rng.poisson(open_lam * scale)
    return np.column_stack([won, lost, opened])


def build_deals(prof: Profile, entity: np.ndarray, is_dup: np.ndarray, primary: np.ndarray,
                record_owner: np.ndarray, account_id: list[str], currency: list[str],
                economic_buyer: pa.Array, champion: pa.Array, first_id: int,
                rng: np.random.Generator, ref_days: int) -> pa.Table:
    """The deals of a chunk; ``entity``/``is_dup``/``currency`` are per record, ``primary`` per entity."""
    counts = _counts(prof, rng)
    n_ent = len(counts)
    ent = np.repeat(np.repeat(np.arange(n_ent), 3), counts.ravel())
    outcome = np.tile(np.arange(3), n_ent).repeat(counts.ravel())
    m = len(ent)

    rec = primary[ent]
    dup_rec = np.flatnonzero(is_dup)
    if len(dup_rec):  # deals on a duplicate record: pick one of the entity's duplicates
        order = np.argsort(entity[dup_rec], kind="stable")
        dup_rec, dup_ent = dup_rec[order], entity[dup_rec[order]]
        first = np.searchsorted(dup_ent, ent)
        n_dups = np.searchsorted(dup_ent, ent, side="right") - first
        move = (n_dups > 0) & (rng.random(m) < 0.3)
        pick = first + (rng.random(m) * np.maximum(n_dups, 1)).astype(np.int64)
        rec = np.where(move, dup_rec[np.minimum(pick, len(dup_rec) - 1)], rec)

    cum = np.cumsum(_BU_WEIGHTS[prof.industry[ent]], axis=1)
    bu = (rng.random(m)[:, None] > cum[:, :-1]).sum(axis=1)
    product = np.empty(m, dtype=np.int64)
    for b, prods in enumerate(_PRODUCTS_OF_BU):
        sel = bu == b
        product[sel] = rng.choice(prods, sel.sum())

    cycle = np.round(_CYCLE[bu] * rng.lognormal(0, 0.35, m)).astype(np.int64)
    st = prof.status[ent]
    ago = (rng.random(m) * (HISTORY_DAYS - 30)).astype(np.int64)
    former_ago = 3 * 365 + 1 + (rng.random(m) * (HISTORY_DAYS - 3 * 365 - 1)).astype(np.int64)
    ago = np.where((st == FORMER) & (outcome == WON), former_ago, ago)
    # Each customer's first won deal closes in the last twelve months: it is a customer *now*.
    first_won = (outcome == WON) & np.r_[True, (ent[1:] != ent[:-1]) | (outcome[1:] != outcome[:-1])]
    ago = np.where(first_won & (st == CUSTOMER), (rng.random(m) * 365).astype(np.int64), ago)
    close = ref_days - ago
    created = np.maximum(close - cycle, ref_days - HISTORY_DAYS)
    is_open = outcome == OPEN
    open_created = ref_days - (rng.random(m) * 0.9 * cycle).astype(np.int64)
    late_close = ref_days - rng.integers(1, 30, m)  # ~10 % of open deals are past their close date
    overdue = (rng.random(m) < 0.1) & (late_close > open_created)
    open_close = np.where(overdue, late_close, np.maximum(open_created + cycle, ref_days + rng.integers(7, 60, m)))
    created = np.where(is_open, open_created, created)
    close = np.where(is_open, open_close, close)
    progress = (ref_days - created) / np.maximum(cycle, 1)
    open_stage = np.minimum((progress * 4).astype(np.int64), 3)
    stage_names = pa.array(["won", "lost", *OPEN_STAGES])
    stage = np.where(is_open, 2 + open_stage, outcome)

    best = prof.best[ent]
    size = np.clip((prof.employees[ent] / 500) ** 0.25, 0.4, 3.0)
    amount_eur = _PRICE[product] * rng.lognormal(0, 0.6, m) * size * np.where(best, 1.3, 1.0)
    account_cur = np.array([_CURRENCIES.index(c) for c in currency])[rec]
    other = np.where(account_cur == 0, 1, 0)
    cur = np.where(rng.random(m) < 0.88, account_cur, other)
    amount = amount_eur / np.array([EUR_PER_UNIT[c] for c in _CURRENCIES])[cur]
    amount = np.where(amount >= 10_000, np.round(amount, -2), np.round(amount, -1))
    margin = _MARGIN[product] + rng.normal(0, 4, m) + np.where(best, 8, 0)
    margin -= np.where((st == CUSTOMER) & ~best, 5, 0)
    gross_margin = np.round(amount * np.clip(margin, 5, 85) / 100, 2)

    owner = record_owner[rec]
    owner = np.where((owner < 0) | (rng.random(m) < 0.2), rng.choice(len(SALES_REPS), m, p=REP_WEIGHTS), owner)
    meddic = pa.array(is_open & (open_stage >= 2) & (rng.random(m) < 0.6))
    nothing = pa.scalar(None, pa.string())

    def text(values: tuple[str, ...]) -> pa.Array:
        return pc.if_else(meddic, pa.array(values).take(pa.array(rng.integers(0, len(values), m))), nothing)

    order = np.lexsort((np.arange(m), created))  # deals numbered in creation order
    table = pa.table({
        "deal_id": record_ids("DEAL", first_id, m, 8),
        "account_id": pa.array(account_id).take(pa.array(rec)),
        "seller_bu": pa.array([b.bu_id for b in SELLER_BUS]).take(pa.array(bu)),
        "product": pa.array([p.product_id for p in PRODUCTS]).take(pa.array(product)),
        "stage": stage_names.take(pa.array(stage)),
        "amount": pa.array(amount).cast(pa.decimal128(14, 2)),
        "gross_margin": pa.array(gross_margin).cast(pa.decimal128(14, 2)),
        "currency": pa.array(_CURRENCIES).take(pa.array(cur)),
        "created_at": pa.array(created.astype(np.int32)).cast(pa.date32()),
        "close_date": pa.array(close.astype(np.int32)).cast(pa.date32()),
        "owner": pa.array(SALES_REPS).take(pa.array(owner)),
        "metrics": text(MEDDIC["metrics"]),
        "economic_buyer": pc.if_else(meddic, economic_buyer.take(pa.array(rec)), nothing),
        "decision_criteria": text(MEDDIC["decision_criteria"]),
        "decision_process": text(MEDDIC["decision_process"]),
        "identify_pain": text(MEDDIC["identify_pain"]),
        "champion": pc.if_else(meddic, champion.take(pa.array(rec)), nothing),
    })
    sorted_table = table.take(pa.array(order))
    return sorted_table.set_column(0, "deal_id", table.column("deal_id"))
