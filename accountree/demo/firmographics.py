"""Vectorised attributes of the real entities: size, industry, tech stack, ids, and the planted ICP.

Everything here is per *real entity* (before duplicate records exist), because the planted truth —
who is a customer, who is a best customer and why — belongs to the company, not to a CRM record.
The ICP rule is deliberately a logistic function of four observable features plus noise: a model
trained on best customers can learn it, but cannot reach a perfect score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accountree.demo.catalog import (
    CRM_TECH_MASK,
    EUR_PER_UNIT,
    ICP_INDUSTRIES,
    INDUSTRIES,
    REVENUE_PER_EMPLOYEE,
    TECHNOLOGIES,
)
from accountree.demo.groups import Entities
from accountree.demo.identifiers import duns, leis, sirens, sirets
from accountree.demo.names import CURRENCY
from accountree.demo.people import SALES_REPS

NONE, OPPORTUNITY, FORMER, CUSTOMER = 0, 1, 2, 3
STATUS_NAMES = ("none", "opportunity", "former_customer", "customer")
# Planted ICP rule: logit of P(best customer | customer) = intercept + sum of weights + N(0, sd).
ICP_INTERCEPT, ICP_NOISE_SD = -3.2, 0.5
ICP_WEIGHTS = {"industry": 1.7, "size": 1.3, "crm": 1.3, "intent": 1.5}
ICP_SIZE_RANGE = (200, 5000)
_MEDIAN_EMPLOYEES = {"head": 0, "subsidiary": 600, "bu": 250, "country": 180, "site": 45,
                     "standalone": 60, "jv": 300}
_SIGMA_EMPLOYEES = {"head": 0.5, "subsidiary": 0.9, "bu": 0.8, "country": 1.0, "site": 0.8,
                    "standalone": 1.4, "jv": 0.8}
REP_WEIGHTS = 1.0 / np.arange(1, len(SALES_REPS) + 1) ** 0.9
REP_WEIGHTS /= REP_WEIGHTS.sum()


@dataclass
class RegistryCounters:
    """Run-wide counters behind unique SIREN, LEI and DUNS numbers (carried across chunks)."""

    siren: int = 0
    lei: int = 0
    duns: int = 0


@dataclass
class Profile:
    """Per-entity arrays aligned with :class:`Entities` indexes."""

    industry: np.ndarray  # index into INDUSTRIES
    employees: np.ndarray
    revenue: np.ndarray  # in the local currency, NaN when unknown
    currency: list[str]
    tech: np.ndarray  # bitmask over TECHNOLOGIES
    owner: np.ndarray  # index into SALES_REPS, -1 unassigned
    created: np.ndarray  # days since epoch
    siren: list[str]
    siret: list[str]
    lei: list[str]
    duns: list[str]
    fit: np.ndarray  # (n, 4) bool: industry, size, crm, intent
    p_best: np.ndarray
    status: np.ndarray
    best: np.ndarray
    engagement: np.ndarray  # relative activity level


def build_profile(e: Entities, n_groups: int, rng: np.random.Generator, ref_days: int,
                  counters: RegistryCounters, salt: int) -> Profile:
    n = len(e)
    kind = np.array(e.kind)
    group = np.array(e.group, dtype=np.int64)
    top = np.array(e.top, dtype=np.int64)
    size = np.array(e.group_size, dtype=np.int64)
    country = e.country

    ind_p = np.array([w for _, w, _ in INDUSTRIES])
    industry = rng.choice(len(INDUSTRIES), n_groups, p=ind_p / ind_p.sum())[group]
    other = rng.random(n) < 0.07
    industry = np.where(other, rng.choice(len(INDUSTRIES), n, p=ind_p / ind_p.sum()), industry)

    median = np.array([_MEDIAN_EMPLOYEES[k] for k in kind], dtype=float)
    median = np.where(kind == "head", 300 * np.maximum(size, 1) ** 0.7, median)
    sigma = np.array([_SIGMA_EMPLOYEES[k] for k in kind])
    employees = np.maximum(1, np.round(median * np.exp(rng.normal(0, 1, n) * sigma))).astype(np.int64)

    rev_per_emp = np.array(REVENUE_PER_EMPLOYEE, dtype=float)
    currency = [CURRENCY[c] for c in country]
    fx = np.array([EUR_PER_UNIT[c] for c in currency])
    revenue = employees * rev_per_emp[industry] * 1000 * np.exp(rng.normal(0, 0.35, n)) / fx
    revenue = np.where(revenue > 1e7, np.round(revenue, -4), np.round(revenue, -3))

    icp_ind = np.isin(industry, [i for i, (name, _, _) in enumerate(INDUSTRIES) if name in ICP_INDUSTRIES])
    tech = _tech_masks(group, n_groups, icp_ind, rng)
    owner = _owners(group, n_groups, rng)

    head_created = ref_days - rng.integers(200, 2900, n_groups)
    first_created = head_created[group]
    created = first_created + (rng.random(n) * (ref_days - 10 - first_created)).astype(np.int64)
    created = np.where(top == np.arange(n), first_created, created)

    siren_s, siret_s, lei_s, duns_s = _registry_ids(e, kind, employees, rng, counters, salt)

    fit = np.column_stack([
        icp_ind,
        (employees >= ICP_SIZE_RANGE[0]) & (employees <= ICP_SIZE_RANGE[1]),
        (tech & CRM_TECH_MASK) != 0,
        rng.random(n) < 0.15,
    ])
    weights = np.array(list(ICP_WEIGHTS.values()))
    logit = ICP_INTERCEPT + fit @ weights + rng.normal(0, ICP_NOISE_SD, n)
    p_best = 1 / (1 + np.exp(-logit))
    status, best = _statuses(group, top, size, kind, p_best, n_groups, rng)
    factor = np.array([0.35, 1.3, 0.5, 1.5])[status] + 0.4 * fit[:, 3]
    engagement = factor * rng.lognormal(0, 1, n)
    return Profile(industry, employees, revenue, currency, tech, owner, created, siren_s, siret_s,
                   lei_s, duns_s, fit, p_best, status, best, engagement)


def _tech_masks(group: np.ndarray, n_groups: int, icp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Group-wide stacks with per-entity drift; some entities with an unknown (empty) stack."""
    base = np.array([b for _, b, _ in TECHNOLOGIES])
    extra = np.array([x for _, _, x in TECHNOLOGIES])
    group_icp = np.zeros(n_groups, dtype=bool)
    group_icp[group[icp]] = True
    p = np.clip(base + np.outer(group_icp, extra), 0.01, 0.95)
    bits = 1 << np.arange(len(TECHNOLOGIES))
    group_mask = ((rng.random((n_groups, len(TECHNOLOGIES))) < p) * bits).sum(axis=1)
    flips = ((rng.random((len(group), len(TECHNOLOGIES))) < 0.1) * bits).sum(axis=1)
    mask = group_mask[group] ^ flips
    return np.where(rng.random(len(group)) < 0.12, 0, mask)


def _owners(group: np.ndarray, n_groups: int, rng: np.random.Generator) -> np.ndarray:
    """One key-account owner per group, a few entities owned by other reps, a few unassigned."""
    n = len(group)
    group_owner = rng.choice(len(SALES_REPS), n_groups, p=REP_WEIGHTS)
    owner = np.where(rng.random(n) < 0.75, group_owner[group], rng.choice(len(SALES_REPS), n, p=REP_WEIGHTS))
    return np.where(rng.random(n) < 0.04, -1, owner)


def _registry_ids(e: Entities, kind: np.ndarray, employees: np.ndarray, rng: np.random.Generator,
                  counters: RegistryCounters, salt: int) -> tuple[list[str], list[str], list[str], list[str]]:
    """SIREN/SIRET for French entities (sites share their entity's SIREN), LEI and DUNS for some."""
    n = len(e)
    legal = np.isin(kind, ["head", "subsidiary", "country", "standalone", "jv"])
    french = np.array([c == "FR" for c in e.country])
    own = np.flatnonzero(legal & french)
    siren = np.zeros(n, dtype=np.int64)
    siren[own] = sirens(counters.siren, len(own), salt % 90_000_000)
    counters.siren += len(own)
    nic = np.where(legal, rng.integers(1, 60, n), 0)
    site_no: dict[int, int] = {}
    for i in np.flatnonzero((kind == "site") & french).tolist():
        p = e.parent[i]
        siren[i] = siren[p]
        site_no[p] = site_no.get(p, 0) + 1
        nic[i] = 100 + 7 * site_no[p]
    has = siren > 0
    siret = np.zeros(n, dtype=np.int64)
    siret[has] = sirets(siren[has], nic[has])
    siren_s = [f"{v:09d}" if v else "" for v in siren.tolist()]
    siret_s = [f"{v:014d}" if v else "" for v in siret.tolist()]

    big = (employees >= 250) | np.isin(kind, ["head", "jv"])
    gets_lei = legal & (rng.random(n) < np.where(big, 0.75, 0.05))
    lei_idx = np.flatnonzero(gets_lei)
    lei_s = [""] * n
    for i, v in zip(lei_idx.tolist(), leis(counters.lei, [e.country[i] for i in lei_idx.tolist()], salt),
                    strict=True):
        lei_s[i] = v
    counters.lei += len(lei_idx)

    duns_idx = np.flatnonzero((kind != "bu") & (rng.random(n) < 0.25))
    duns_s = [""] * n
    for i, v in zip(duns_idx.tolist(), duns(counters.duns, len(duns_idx), salt % 10**9), strict=True):
        duns_s[i] = v
    counters.duns += len(duns_idx)
    return siren_s, siret_s, lei_s, duns_s


def _statuses(group: np.ndarray, top: np.ndarray, size: np.ndarray, kind: np.ndarray, p_best: np.ndarray,
              n_groups: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Group-level commercial history, then which entities of each group carry it.

    Groups buy as groups: a customer group has several customer entities, a former-customer group
    stopped buying everywhere, an opportunity group is only in the pipeline. Within a customer
    group, ICP-fitting entities are more likely to buy, and to be best customers.
    """
    n = len(group)
    big = np.zeros(n_groups, dtype=bool)
    big[group[size >= 30]] = True
    mean_fit = np.bincount(group, p_best, n_groups) / np.maximum(np.bincount(group, minlength=n_groups), 1)
    u = rng.random(n_groups)
    p_customer = np.clip(0.06 + 0.6 * mean_fit + 0.2 * big, 0, 0.9)
    g_status = np.select([u < p_customer, u < p_customer + 0.10, u < p_customer + 0.28],
                         [CUSTOMER, FORMER, OPPORTUNITY], NONE)[group]
    v = rng.random(n)
    is_top = top == np.arange(n)
    status = np.full(n, NONE)
    cust = g_status == CUSTOMER
    status[cust & (v < 0.1 + 0.8 * p_best + 0.3 * is_top)] = CUSTOMER
    status[cust & (status == NONE) & (rng.random(n) < 0.3)] = OPPORTUNITY
    status[(g_status == FORMER) & (v < 0.35 + 0.3 * p_best + 0.3 * is_top)] = FORMER
    status[(g_status == OPPORTUNITY) & (v < 0.35 + 0.35 * p_best + 0.3 * is_top)] = OPPORTUNITY
    # Every customer (former customer) group has at least one customer (former) entity: its head.
    for code in (CUSTOMER, FORMER):
        has = np.zeros(n_groups, dtype=bool)
        has[group[status == code]] = True
        fix = (g_status == code) & is_top & ~has[group]
        status[fix] = code
    best = (status == CUSTOMER) & (rng.random(n) < p_best)
    return status, best
