"""Set-based routing (`accountree.leads.route`) gives the same routes as the former per-lead code
(`tests/leads_route_oracle.py`) on a generated lead set, on both engines: every lead, BU, owner,
rule, reason, SLA due time and pool, and the pool counts after — on a first run, then on `--all`
with the counts remembered (pools fill up)."""

from __future__ import annotations

import csv
import zlib
from datetime import datetime

import pytest

from accountree.build import BuildOptions, build
from accountree.demo import generate_bundle
from accountree.ingest import import_bundle
from accountree.leads.match import match
from accountree.leads.route import parse_rules, route
from tests.leads_route_oracle import oracle_routes

# Every condition and target kind, pools with and without capacity, `continue`, a BU given twice.
RULES = """
sla_hours: 36
pools:
  team: {members: [u1, u2, u3], capacity: 25}
  open: {members: [o1, o2]}
rules:
  - name: deal-pool
    when: {open_deal: true, country: [fr, DE]}
    to: {bu: deal_bu, pool: open}
    continue: true
  - name: open-deal
    when: {matched: true, open_deal: true}
    to: {bu: deal_bu, owner: deal_owner}
    sla_hours: 4
    continue: true
  - name: abm
    when: {abm_lead_bu: true}
    to: {bu: abm_lead_bu, owner: account_owner}
  - name: tier
    when: {kam_tier: [1, 2]}
    to: {bu: bu_key, owner: account_owner, pool: team}
    sla_hours: 8
  - name: cloud
    when: {product: [cloud, DATA]}
    to: {bu: bu_cloud, pool: team}
    continue: true
  - name: sized
    when: {matched: true, industry: [software, Manufacturing, energy], employees_min: 50, employees_max: 20000}
    to: {bu: lead_bu, owner: account_owner, pool: team}
  - name: software-no-deal
    when: {matched: true, open_deal: false, lead_bu: [BU_SOFTWARE]}
    to: {bu: lead_bu, owner: named.person}
  - name: new-business
    when: {matched: false, abm_lead_bu: false}
    to: {bu: lead_bu, pool: open}
    continue: true
  - name: europe
    when: {country: [FR, DE, ES, IT, GB, NL]}
    to: {bu: lead_bu, pool: team}
"""
PRODUCTS = ["", "Cloud; Data", "data, Security", "Security", "", "cloud", " Cloud ;; AI,", ""]
NOW = datetime(2026, 12, 5, 9, 0)


@pytest.fixture
def ws(workspace, tmp_path):
    result = generate_bundle(tmp_path / "demo", accounts=600, seed=11, lead_share=0.5)
    leads = result.out_dir / "leads.csv"
    with open(leads, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(leads, "w", encoding="utf-8", newline="") as f:  # a product interest for some leads
        w = csv.DictWriter(f, [*rows[0], "product_interest"])
        w.writeheader()
        w.writerows({**r, "product_interest": PRODUCTS[zlib.crc32(r["lead_id"].encode()) % len(PRODUCTS)]} for r in rows)
    import_bundle(workspace, [str(result.out_dir)])
    build(workspace, BuildOptions(stages=["hierarchy"]))
    e = workspace.engine
    e.execute("CREATE TABLE kam_accounts (account_id VARCHAR, scope VARCHAR, tier INTEGER)")
    e.execute("INSERT INTO kam_accounts SELECT account_id, 'account', CAST(length(account_id) % 3 AS INTEGER) + 1 "
              "FROM accounts WHERE employees > 5000")
    e.execute("CREATE TABLE abm_accounts (account_id VARCHAR, scope VARCHAR, lead_bu VARCHAR)")
    e.execute("INSERT INTO abm_accounts SELECT account_id, 'account', 'bu_abm' FROM accounts "
              "WHERE industry = 'Retail' AND employees > 1000")
    match(workspace)
    return workspace


def _table(ws):
    return sorted((r["lead_id"], r["seller_bu"] or "", r["owner"] or "", r["rule"], r["reason"], r["sla_due_at"], r["pool"] or "")
                  for r in ws.engine.fetch_dicts("SELECT * FROM lead_routing"))


def _oracle(routes):
    return sorted((r["lead_id"], r["seller_bu"] or "", r["owner"] or "", r["rule"], r["reason"], r["sla_due_at"], r["pool"] or "")
                  for r in routes)


def _counts(ws):
    return {(p, m): int(n) for p, m, n in ws.engine.fetchall("SELECT pool, member, assigned FROM lead_pool_counts")}


def test_set_based_routing_equals_per_lead_routing(ws):
    rules = parse_rules(RULES)
    expected, counts = oracle_routes(ws, rules, False, NOW)
    summary = route(ws, rules, now=NOW)
    got = _table(ws)
    assert got == _oracle(expected)
    assert _counts(ws) == counts
    # the set is rich enough to mean something: every rule routes, pools fill, leads go to several BUs
    assert {r[3] for r in got} == {"open-deal", "deal-pool", "abm", "tier", "cloud", "sized", "software-no-deal",
                                   "new-business", "europe", "none"}
    assert any("is full" in r[4] for r in got) and any("round-robin in pool open" in r[4] for r in got)
    assert any("interested in Cloud, Data" in r[4] for r in got) and summary["leads to several BUs"] > 10
    assert summary["leads routed"] == ws.engine.scalar("SELECT count(*) FROM leads") > 250

    # every lead again, the counts remembered: the capped pool is full from the start
    expected, counts = oracle_routes(ws, rules, True, NOW)
    route(ws, rules, everything=True, now=NOW)
    assert _table(ws) == _oracle(expected)
    assert _counts(ws) == counts
    assert not any("round-robin in pool team" in r[4] for r in _table(ws))
