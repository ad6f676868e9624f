"""CRM account records of one chunk: one record per real entity plus ~5 % duplicate records.

A duplicate is a second record of the same real company typed by someone else (another BU, a
trade-show import, a web form): another spelling, a different or missing domain, ids sometimes
copied and sometimes missing, a parent sometimes set. Records are numbered in creation order, as
CRM ids are, so duplicates are not next to their original in the file.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from accountree.demo.catalog import INDUSTRIES, TECHNOLOGIES
from accountree.demo.firmographics import Profile
from accountree.demo.groups import Entities
from accountree.demo.names import TLD
from accountree.demo.people import SALES_REPS
from accountree.demo.variants import name_variant

ACCOUNT_COLUMNS = (
    "account_id", "name", "parent_id", "domain", "website", "country", "city", "industry",
    "employees", "annual_revenue", "currency", "siren", "siret", "lei", "duns", "is_group_head",
    "technologies", "owner", "created_at", "segment",
)
_WEBSITE_FORMATS = ("https://www.{d}", "https://www.{d}/", "http://{d}", "www.{d}", "https://{d}/en/")


@dataclass
class Records:
    """The account rows of a chunk, in file order, and what each one is in truth."""

    entity: np.ndarray  # chunk-local entity index of each record
    is_dup: np.ndarray
    account_id: list[str]
    primary: np.ndarray  # record index of each entity's original record
    owner: np.ndarray  # index into SALES_REPS, -1 unassigned
    table: pa.Table


def _segment(employees: int | None) -> str | None:
    if employees is None:
        return None
    return "Enterprise" if employees >= 1000 else "Mid-Market" if employees >= 100 else "SMB"


@functools.cache
def _tech_string(mask: int) -> str | None:
    if not mask:
        return None
    return "; ".join(name for bit, (name, _, _) in enumerate(TECHNOLOGIES) if mask >> bit & 1)


def _other_domain(domain: str, country: str, rng: random.Random) -> str:
    """Another domain a rep might type for the same company: other TLD, hyphenated group site."""
    stem, _, tld = domain.partition(".")
    choice = rng.randrange(3)
    if choice == 0 and tld != TLD[country]:
        return f"{stem}.{TLD[country]}"
    if choice == 1:
        return f"{stem}-group.com"
    return f"{stem}.com" if tld != "com" else f"{stem}.eu"


def build_records(e: Entities, prof: Profile, n_dups: int, first_id: int, id_width: int,
                  rng: random.Random, ref_days: int) -> Records:
    n = len(e)
    weights = [1.0 + 2.0 * (s > 0) + (k in ("head", "subsidiary", "standalone"))
               for s, k in zip(prof.status.tolist(), e.kind, strict=True)]
    dup_src = rng.choices(range(n), weights, k=n_dups)
    entity = np.concatenate([np.arange(n), np.array(dup_src, dtype=np.int64)])
    is_dup = np.arange(len(entity)) >= n
    created = np.concatenate([prof.created, [
        int(prof.created[i]) + int(rng.random() * (ref_days - 5 - int(prof.created[i]))) for i in dup_src]])
    order = np.lexsort((np.arange(len(entity)), created))  # creation order, stable
    entity, is_dup, created = entity[order], is_dup[order], created[order]
    account_id = [f"ACC{first_id + k:0{id_width}d}" for k in range(len(entity))]
    primary = np.empty(n, dtype=np.int64)
    primary[entity[~is_dup]] = np.flatnonzero(~is_dup)

    taken = set(e.name)  # a duplicate must not take the exact name of another real company
    cols: dict[str, list] = {c: [] for c in ACCOUNT_COLUMNS}
    owners = np.empty(len(entity), dtype=np.int64)
    for r, (i, dup) in enumerate(zip(entity.tolist(), is_dup.tolist(), strict=True)):
        row = _entity_row(e, prof, i, primary, account_id, rng)
        if dup:
            _disguise(row, e.kind[i], e.country[i], e.domain[i], rng)
            while row["name"] in taken:
                row["name"] = name_variant(e.name[i], rng)
        owners[r] = row.pop("_owner")
        row["account_id"] = account_id[r]
        row["created_at"] = int(created[r])
        row["segment"] = _segment(row["employees"])
        for c in ACCOUNT_COLUMNS:
            cols[c].append(row[c])
    typed = {"employees", "annual_revenue", "is_group_head", "created_at"}
    table = pa.table({
        **{c: pa.array(cols[c], pa.string()) for c in ACCOUNT_COLUMNS if c not in typed},
        "employees": pa.array(cols["employees"], pa.int64()),
        "annual_revenue": pa.array(cols["annual_revenue"], pa.int64()),
        "is_group_head": pa.array(cols["is_group_head"], pa.bool_()),
        "created_at": pa.array(np.array(cols["created_at"], dtype=np.int32), pa.int32()).cast(pa.date32()),
    }).select(list(ACCOUNT_COLUMNS))
    return Records(entity, is_dup, account_id, primary, owners, table)


def _entity_row(e: Entities, prof: Profile, i: int, primary: np.ndarray, account_id: list[str],
                rng: random.Random) -> dict:
    """The original record of entity ``i``, with the gaps a real CRM has."""
    kind, parent = e.kind[i], e.parent[i]
    domain = e.domain[i]
    revenue = prof.revenue[i]
    show_revenue = rng.random() < (0.35 if kind in ("bu", "site") else 0.85)
    owner = int(prof.owner[i])
    return {
        "name": e.name[i],
        "parent_id": account_id[primary[parent]] if parent >= 0 else None,
        "domain": domain if rng.random() < 0.8 else None,
        "website": rng.choice(_WEBSITE_FORMATS).format(d=domain) if rng.random() < 0.7 else None,
        "country": e.country[i],
        "city": e.city[i] if rng.random() < 0.9 else None,
        "industry": INDUSTRIES[prof.industry[i]][0] if rng.random() < 0.93 else None,
        "employees": int(prof.employees[i]) if rng.random() < 0.94 or kind == "head" else None,
        "annual_revenue": int(revenue) if show_revenue else None,
        "currency": prof.currency[i],
        "siren": prof.siren[i] if prof.siren[i] and (kind == "site" or rng.random() < 0.92) else None,
        "siret": prof.siret[i] if prof.siret[i] and rng.random() < 0.7 else None,
        "lei": prof.lei[i] or None,
        "duns": prof.duns[i] or None,
        "is_group_head": kind == "head",
        "technologies": _tech_string(int(prof.tech[i])),
        "owner": SALES_REPS[owner] if owner >= 0 else None,
        "_owner": owner,
    }


def _disguise(row: dict, kind: str, country: str, true_domain: str, rng: random.Random) -> None:
    """Turn an original record into a plausible duplicate of it, in place."""
    row["name"] = name_variant(row["name"], rng)
    if row["parent_id"] and rng.random() < 0.5:
        row["parent_id"] = None
    u = rng.random()
    row["domain"] = None if u < 0.3 else _other_domain(true_domain, country, rng) if u < 0.5 else true_domain
    row["website"] = None if rng.random() < 0.6 or not row["domain"] else f"www.{row['domain']}"
    for col, keep in (("siren", 0.35), ("siret", 0.3), ("lei", 0.35), ("duns", 0.3), ("industry", 0.7),
                      ("city", 0.6), ("technologies", 0.5)):
        if rng.random() >= keep:
            row[col] = None
    if row["employees"] is not None:
        u = rng.random()
        row["employees"] = None if u < 0.3 else row["employees"] if u < 0.7 else max(
            1, round(row["employees"] * rng.uniform(0.8, 1.2)))
    if rng.random() < 0.5:
        row["annual_revenue"] = None
    row["is_group_head"] = kind == "head" and rng.random() < 0.3
    if rng.random() < 0.5:
        row["_owner"] = rng.randrange(len(SALES_REPS))
        row["owner"] = SALES_REPS[row["_owner"]]
