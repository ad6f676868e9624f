"""Generated accounts with a planted best-customer pattern, for tests and `accountree bench score`.

The pattern the model must find — logistics companies, in Germany, using Snowflake, with 500-2,000
employees and recent web visits — is unrelated to what the default grid rewards (software SMEs on
HubSpot/Salesforce with pricing-page visits), so on this data a learned model must beat the grid.
Some accounts win many small, thin-margin deals: the easy-to-convert but unprofitable kind.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

INDUSTRIES = ["Software", "Logistics", "Retail", "Manufacturing", "Financial Services", "Healthcare", "E-commerce",
              "Construction"]
COUNTRIES = ["FR", "DE", "GB", "ES", "IT", "US"]
TECHS = ["HubSpot", "Salesforce", "SAP", "Snowflake", "Zendesk", "Slack", "Shopify", "Oracle"]


def generate(n: int, seed: int = 7, as_of: date | None = None, activities: bool = True) -> dict[str, pa.Table]:
    """Arrow tables `accounts`, `deals`, `activities` for n accounts (insert with `ws.engine.insert_arrow`)."""
    as_of = as_of or date(2026, 11, 1)
    rng = np.random.default_rng(seed)
    ids = np.char.add("A", np.arange(n).astype(str))
    industry = rng.choice(INDUSTRIES, n)
    country = rng.choice(COUNTRIES, n)
    employees = np.round(np.exp(rng.uniform(np.log(5), np.log(20000), n))).astype(np.int64)
    tech_mask = rng.random((n, len(TECHS))) < 0.25
    technologies = np.full(n, "", dtype=object)
    for k, tech in enumerate(TECHS):
        technologies = np.where(tech_mask[:, k], technologies + np.where(technologies == "", "", "; ") + tech, technologies)
    web = rng.poisson(1.0, n)
    latent = (1.6 * (industry == "Logistics") + 1.0 * (country == "DE") + 1.4 * tech_mask[:, TECHS.index("Snowflake")]
              + 1.2 * ((employees >= 500) & (employees <= 2000)) + 0.5 * np.minimum(web, 4) + rng.normal(0, 0.8, n))
    domain = np.char.add(np.char.add("acct", np.arange(n).astype(str)), ".example.com").astype(object)
    domain[rng.random(n) < 0.02] = None
    empty_tech = rng.random(n) < 0.05
    technologies[empty_tech | (technologies == "")] = None
    accounts = pa.table({
        "account_id": ids, "name": np.char.add("Company ", np.arange(n).astype(str)),
        "domain": pa.array(domain, pa.string()), "industry": industry, "country": country,
        "employees": employees, "technologies": pa.array(technologies, pa.string()),
        "created_at": _days_before(as_of, np.full(n, 1500)), "source": np.full(n, "crm"),
    })
    deals = _deals(rng, ids, latent, as_of)
    tables = {"accounts": accounts, "deals": deals}
    if activities:
        tables["activities"] = _activities(rng, ids, web, industry, as_of)
    return tables


def _days_before(as_of: date, days: np.ndarray) -> pa.Array:
    return pa.array(np.datetime64(as_of, "D") - days.astype("timedelta64[D]"), pa.date32())


def _deals(rng: np.random.Generator, ids: np.ndarray, latent: np.ndarray, as_of: date) -> pa.Table:
    n = len(ids)
    rank = latent.argsort().argsort() / max(1, n - 1)
    customer = np.flatnonzero(rank >= 0.7)
    years = np.where(rank[customer] > 0.85, 3, rng.integers(1, 4, len(customer)))
    won_idx = np.repeat(customer, years)
    year_of = np.arange(len(won_idx)) - np.repeat(np.cumsum(years) - years, years)  # 0, 1, 2 within an account
    won_amount = np.exp(9 + 1.5 * latent[won_idx] + rng.normal(0, 0.3, len(won_idx)))
    won_days = 30 + 365 * year_of + rng.integers(0, 300, len(won_idx))
    easy = np.flatnonzero((rank < 0.7) & (rng.random(n) < 0.05))  # many small, thin-margin deals
    easy_idx = np.repeat(easy, 6)
    easy_amount = rng.uniform(500, 1500, len(easy_idx))
    lost_idx = np.flatnonzero((rank < 0.7) & (rng.random(n) < 0.1))
    lost_amount = rng.uniform(1000, 50000, len(lost_idx))
    account = np.concatenate([won_idx, easy_idx, lost_idx])
    amount = np.concatenate([won_amount, easy_amount, lost_amount])
    margin = pa.array(np.concatenate([won_amount * 0.4, easy_amount * 0.02, np.zeros(len(lost_idx))]),
                      mask=np.concatenate([np.zeros(len(won_idx) + len(easy_idx), bool), np.ones(len(lost_idx), bool)]))
    days = np.concatenate([won_days, rng.integers(30, 1000, len(easy_idx)), rng.integers(30, 700, len(lost_idx))])
    stage = np.array(["won"] * (len(won_idx) + len(easy_idx)) + ["lost"] * len(lost_idx))
    m = len(account)
    return pa.table({
        "deal_id": np.char.add("D", np.arange(m).astype(str)), "account_id": ids[account], "stage": stage,
        "amount": amount, "amount_rc": amount, "gross_margin": margin, "gross_margin_rc": margin,
        "currency": np.full(m, "EUR"), "close_date": _days_before(as_of, days),
    })


def _activities(rng: np.random.Generator, ids: np.ndarray, web: np.ndarray, industry: np.ndarray, as_of: date) -> pa.Table:
    acc = np.repeat(ids, web)
    days = rng.integers(0, 30, len(acc))
    types = ["web_visit"] * len(acc)
    pricing = np.flatnonzero(rng.random(len(ids)) < np.where(industry == "Software", 0.3, 0.1))
    acc = np.concatenate([acc, ids[pricing]])
    days = np.concatenate([days, rng.integers(0, 30, len(pricing))])
    types += ["pricing_page"] * len(pricing)
    m = len(acc)
    return pa.table({
        "activity_id": np.char.add("V", np.arange(m).astype(str)), "account_id": acc,
        "date": _days_before(as_of, days), "type": types,
        "weight": np.ones(m),
    })


def load(ws, n: int, seed: int = 7, as_of: date | None = None, activities: bool = True) -> None:
    """Insert generated data into a workspace (both engines)."""
    tables = generate(n, seed, as_of, activities)
    with ws.engine.transaction():
        for name in ("accounts", "deals", "activities"):
            if name in tables:
                ws.engine.insert_arrow(name, tables[name])
