"""``generate_bundle``: the deterministic, streaming demo-bundle generator.

The run is cut into chunks of about 50 000 account records. Each chunk is a closed world (its
groups, JVs, duplicates, deals, contacts, activities, campaign targets and leads only reference
its own accounts) generated from its own random streams, then written and dropped, so memory stays
flat from two thousand to millions of accounts. Only naming and id counters cross chunks, which
keeps brands, registry ids and record ids unique over the whole run. Same arguments → same bytes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from accountree.demo.abm import plant as plant_abm
from accountree.demo.accounts import ACCOUNT_COLUMNS, build_records
from accountree.demo.activities import ACTIVITY_COLUMNS, build_activities
from accountree.demo.brands import BRAND_SPACE, SME_SPACE, UniqueNamer
from accountree.demo.catalog import PRODUCTS, SELLER_BUS
from accountree.demo.contacts import CONTACT_COLUMNS, build_contacts
from accountree.demo.csvout import CsvBundle
from accountree.demo.deals import DEAL_COLUMNS, build_deals
from accountree.demo.firmographics import RegistryCounters, build_profile
from accountree.demo.groups import GroupBuilder, group_sizes
from accountree.demo.leads import build_leads, contact_mailboxes, domains_column, extra_domains
from accountree.demo.links import HIERARCHY_COLUMNS, RELATIONSHIP_COLUMNS, relationships, truth_hierarchy
from accountree.demo.marketing import CAMPAIGN_COLUMNS, LEAD_COLUMNS, Campaigns
from accountree.demo.truth import (
    DUPLICATE_COLUMNS,
    ICP_COLUMNS,
    LEAD_TRUTH_COLUMNS,
    duplicates_table,
    icp_table,
    leads_table,
    readme,
)

Progress = Callable[[str, int, int], None]
CHUNK_ROWS = 50_000
DUPLICATE_SHARE = 0.05
STANDALONE_SHARE = 0.20
MEAN_GROUP_SIZE = 10.1  # ~150 groups for 2,000 accounts
LEAD_SHARE = 0.03
CAMPAIGNS_PER_BU = 10
MIN_ACCOUNTS = 20
BUNDLE_TABLES: dict[str, tuple[str, ...]] = {
    # `domains` (documented) right after the documented columns, before the demo's extras
    "accounts": (*ACCOUNT_COLUMNS[:ACCOUNT_COLUMNS.index("segment")], "domains",
                 *ACCOUNT_COLUMNS[ACCOUNT_COLUMNS.index("segment"):]),
    "relationships": RELATIONSHIP_COLUMNS,
    "deals": DEAL_COLUMNS,
    "contacts": CONTACT_COLUMNS,
    "activities": ACTIVITY_COLUMNS,
    "products": ("product_id", "name", "family", "seller_bu", "list_price", "currency", "margin_pct"),
    "seller_bus": ("bu_id", "name", "sales_cycle_days", "description"),
    "campaigns": CAMPAIGN_COLUMNS,
    "campaign_accounts": ("campaign_id", "account_id"),
    "leads": LEAD_COLUMNS,
}
TRUTH_TABLES: dict[str, tuple[str, ...]] = {
    "duplicates": DUPLICATE_COLUMNS,
    "hierarchy": HIERARCHY_COLUMNS,
    "icp": ICP_COLUMNS,
    "leads": LEAD_TRUTH_COLUMNS,
}


@dataclass
class DemoResult:
    """Where the bundle went and what it holds."""

    out_dir: Path
    files: dict[str, Path]
    truth_dir: Path
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _RunState:
    """What crosses chunk boundaries: unique-name generators and record-id counters."""

    brands: UniqueNamer
    smes: UniqueNamer
    registry: RegistryCounters = field(default_factory=RegistryCounters)
    entity: int = 1
    account: int = 1
    deal: int = 1
    contact: int = 1
    activity: int = 1
    lead: int = 1


def chunk_sizes(accounts: int) -> list[int]:
    """Account records per chunk: as even as possible, none above CHUNK_ROWS."""
    n = math.ceil(accounts / CHUNK_ROWS)
    return [accounts // n + (i < accounts % n) for i in range(n)]


def generate_bundle(out_dir: Path, accounts: int = 2000, seed: int = 7, reference_date: date | None = None,
                    progress: Progress | None = None, lead_share: float = LEAD_SHARE) -> DemoResult:
    """Write a demo bundle of ``accounts`` account records (and their world) into ``out_dir``.

    Deterministic: the same ``(accounts, seed, reference_date)`` gives byte-identical files.
    ``reference_date`` (default: today) is "now" for the data: four years of history up to it,
    open deals closing after it. ``progress(stage, done, total)`` is called as chunks complete.
    """
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"accounts must be at least {MIN_ACCOUNTS}, got {accounts}")
    ref = reference_date or date.today()
    ref_days = (ref - date(1970, 1, 1)).days
    out_dir = Path(out_dir)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda stage, done, total: None)
    state = _RunState(UniqueNamer(BRAND_SPACE, seed), UniqueNamer(SME_SPACE, seed + 1))
    id_width = max(7, len(str(accounts)))
    campaigns = Campaigns(CAMPAIGNS_PER_BU, np.random.default_rng([seed, 1 << 30]), ref_days)

    with CsvBundle(out_dir) as bundle, CsvBundle(truth_dir) as truth:
        for name, columns in BUNDLE_TABLES.items():
            bundle.open(name, columns)
        for name, columns in TRUTH_TABLES.items():
            truth.open(name, columns)
        bundle["seller_bus"].write(pa.table({
            "bu_id": [b.bu_id for b in SELLER_BUS], "name": [b.name for b in SELLER_BUS],
            "sales_cycle_days": pa.array([b.sales_cycle_days for b in SELLER_BUS], pa.int64()),
            "description": [b.description for b in SELLER_BUS],
        }))
        bundle["products"].write(pa.table({
            "product_id": [p.product_id for p in PRODUCTS], "name": [p.name for p in PRODUCTS],
            "family": [p.family for p in PRODUCTS], "seller_bu": [SELLER_BUS[p.bu].bu_id for p in PRODUCTS],
            "list_price": pa.array([p.list_price for p in PRODUCTS]),
            "currency": ["EUR"] * len(PRODUCTS), "margin_pct": pa.array([p.margin_pct for p in PRODUCTS]),
        }))
        bundle["campaigns"].write(campaigns.table)
        done = 0
        for c, rows in enumerate(chunk_sizes(accounts)):
            _chunk(c, rows, seed, ref_days, id_width, state, campaigns, bundle, truth, lead_share)
            done += rows
            report("accounts", done, accounts)
        counts = {name: t.rows for name, t in bundle.tables.items()}
        truth_counts = {f"truth/{name}": t.rows for name, t in truth.tables.items()}
    (truth_dir / "README.md").write_text(readme(accounts, seed, ref.isoformat(), counts | truth_counts),
                                         encoding="utf-8")
    plant_abm(out_dir, truth_dir, ref, seed, accounts)  # the fourth BU's own export and the ABM truth
    report("done", accounts, accounts)
    files = {name: out_dir / f"{name}.csv" for name in BUNDLE_TABLES}
    return DemoResult(out_dir, files, truth_dir, counts)


def _chunk(c: int, rows: int, seed: int, ref_days: int, id_width: int, state: _RunState,
           campaigns: Campaigns, bundle: CsvBundle, truth: CsvBundle, lead_share: float = LEAD_SHARE) -> None:
    """Generate and write one closed world of ``rows`` account records."""
    rng = np.random.default_rng([seed, c])
    prng = random.Random(seed * 1_000_003 + c)
    salt = (seed * 2_654_435_761 + 97) % (1 << 61)
    n_dups = round(rows * DUPLICATE_SHARE)
    n_entities = rows - n_dups

    builder = GroupBuilder(state.brands, state.smes, prng)
    n_jv = round(n_entities * 0.004) if n_entities >= 150 else int(n_entities >= 60)
    jv_children = [prng.choice((0, 0, 1, 2)) for _ in range(n_jv)]
    n_standalone = round(n_entities * STANDALONE_SHARE)
    grouped = n_entities - n_standalone - n_jv - sum(jv_children)
    n_groups = max(1, min(grouped // 2, round(grouped / MEAN_GROUP_SIZE)))
    for size in group_sizes(n_groups, grouped, prng):
        builder.group(size)
    builder.joint_ventures(jv_children)
    while len(builder.e) < n_entities:  # standalones fill the budget (and any JV that could not form)
        builder.standalone()
    builder.minority_stakes(max(1, round(n_entities * 0.003)) if n_entities >= 150 else 0)
    e = builder.e
    entity_ids = [f"E{state.entity + i:0{id_width}d}" for i in range(len(e))]
    state.entity += len(e)

    prof = build_profile(e, builder.n_groups, rng, ref_days, state.registry, salt)
    rec = build_records(e, prof, n_dups, state.account, id_width, prng, ref_days)
    state.account += len(rec.account_id)
    ent = rec.entity
    country = [e.country[i] for i in ent.tolist()]
    currency = [prof.currency[i] for i in ent.tolist()]
    domain = [e.domain[i] for i in ent.tolist()]

    contacts = build_contacts(prof.status[ent], prof.best[ent], rec.is_dup, country, domain, rec.account_id,
                              state.contact, rng, ref_days)
    state.contact += contacts.table.num_rows
    deals = build_deals(prof, ent, rec.is_dup, rec.primary, rec.owner, rec.account_id, currency,
                        contacts.economic_buyer, contacts.champion, state.deal, rng, ref_days)
    state.deal += deals.num_rows
    activities = build_activities(prof, ent, rec.is_dup, rec.account_id, contacts.start, contacts.count,
                                  contacts.contact_id, state.activity, rng, ref_days)
    state.activity += activities.num_rows
    extra = extra_domains(e, c, seed)  # acquired brands, old names: the accounts' `domains`
    leads, lead_truth = build_leads(e, prof, rec.primary, rec.account_id, builder.group_brand, extra,
                                    round(rows * lead_share), state.lead, state.smes, c, seed, ref_days,
                                    contact_mailboxes(contacts.table, ent, rec.account_id))
    state.lead += leads.num_rows

    bundle["accounts"].write(rec.table.add_column(rec.table.schema.get_field_index("segment"), "domains",
                                                  domains_column(ent, rec.primary, extra, len(ent))))
    bundle["relationships"].write(relationships(e, rec.primary, rec.account_id))
    bundle["deals"].write(deals)
    bundle["contacts"].write(contacts.table)
    bundle["activities"].write(activities)
    bundle["campaign_accounts"].write(campaigns.targets(prof, e, ent, rec.account_id, rng))
    bundle["leads"].write(leads)
    truth["duplicates"].write(duplicates_table(rec.account_id, ent, entity_ids))
    truth["hierarchy"].write(truth_hierarchy(e, entity_ids))
    truth["icp"].write(icp_table(prof, entity_ids))
    truth["leads"].write(leads_table(lead_truth, entity_ids))
