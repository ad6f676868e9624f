"""Lead routing on a hand-made bundle (both engines): each rule kind with its reason, several BUs per
lead, round-robin with capacity remembered between runs, SLA due times, the routing log."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from accountree.build import BuildOptions, build
from accountree.errors import ConfigError
from accountree.ingest import import_bundle
from accountree.leads.match import match
from accountree.leads.route import load_rules, parse_rules, route
from tests.conftest import write

ACCOUNTS = """account_id,name,parent_id,domain,country,industry,employees,owner
A1,Alpha Bank SA,,a1.com,FR,Banking,5000,ann
A2,Alpha Leasing SAS,A1,a2.com,FR,Banking,300,al
B1,Beta Banque,,b1.com,FR,Banking,2000,bob
C1,Gamma Motors,,c1.com,DE,Automotive,90000,cat
E1,Epsilon Foods,,e1.com,IT,Food,800,
"""
DEALS = """deal_id,account_id,seller_bu,stage,amount,owner
D1,A2,bu_soft,proposal,1000,sam
D2,A1,bu_serv,negotiation,2000,sue
D3,A1,bu_x,won,500,xav
"""
LEADS = """lead_id,email,company,seller_bu,product_interest
R1,x@a1.com,,bu_web,
R2,y@b1.com,,bu_web,
R3,z@c1.com,,bu_web,
R4,w@e1.com,,bu_web,
R5,p@gmail.com,,bu_web,Cloud; Data
R6,q@gmail.com,,bu_web,
R7,r@gmail.com,,bu_web,
R8,s@gmail.com,,bu_web,
R9,t@gmail.com,,bu_web,
"""
RULES = """
sla_hours: 24
pools:
  team: {members: [u1, u2], capacity: 2}
rules:
  - name: open-deal
    when: {matched: true, open_deal: true}
    to: {bu: deal_bu, owner: deal_owner}
    sla_hours: 4
    continue: true
  - name: abm
    when: {matched: true, abm_lead_bu: true}
    to: {bu: abm_lead_bu, owner: account_owner}
  - name: tier1
    when: {kam_tier: [1]}
    to: {bu: bu_key, owner: account_owner}
  - name: cloud
    when: {product: [cloud]}
    to: {bu: bu_cloud, pool: team}
  - name: big-banks
    when: {industry: [banking], employees_min: 1000, country: [FR]}
    to: {bu: bu_fin, owner: fin.lead}
  - name: rest
    to: {bu: lead_bu, pool: team}
"""
NOW = datetime(2026, 12, 5, 9, 0)


@pytest.fixture
def ws(workspace, tmp_path):
    folder = tmp_path / "b"
    write(folder / "accounts.csv", ACCOUNTS)
    write(folder / "deals.csv", DEALS)
    write(folder / "leads.csv", LEADS)
    import_bundle(workspace, [str(folder)])
    build(workspace, BuildOptions(stages=["hierarchy"]))
    # KAM tiers and ABM lead BUs as their stages leave them (inputs of routing)
    workspace.engine.execute("CREATE TABLE kam_accounts (account_id VARCHAR, scope VARCHAR, tier INTEGER)")
    workspace.engine.execute("INSERT INTO kam_accounts VALUES ('C1', 'account', 1), ('B1', 'account', 3)")
    workspace.engine.execute("CREATE TABLE abm_accounts (account_id VARCHAR, scope VARCHAR, lead_bu VARCHAR)")
    workspace.engine.execute("INSERT INTO abm_accounts VALUES ('E1', 'account', 'bu_abm')")
    match(workspace)
    return workspace


def _routes(ws):
    return ws.engine.fetch_dicts("SELECT * FROM lead_routing ORDER BY lead_id, seller_bu")


def test_rules_with_reasons(ws):
    summary = route(ws, parse_rules(RULES), now=NOW)
    got = [(r["lead_id"], r["seller_bu"], r["owner"], r["rule"]) for r in _routes(ws)]
    assert got == [
        ("R1", "bu_fin", "fin.lead", "big-banks"),  # after open-deal's `continue`
        ("R1", "bu_serv", "sue", "open-deal"),  # the account's own deal
        ("R1", "bu_soft", "sam", "open-deal"),  # a deal of its group (A2); won deals do not count
        ("R2", "bu_fin", "fin.lead", "big-banks"),
        ("R3", "bu_key", "cat", "tier1"),
        ("R4", "bu_abm", None, "abm"),
        ("R5", "bu_cloud", "u1", "cloud"),
        ("R6", "bu_web", "u2", "rest"),
        ("R7", "bu_web", "u1", "rest"),
        ("R8", "bu_web", "u2", "rest"),
        ("R9", "bu_web", None, "rest"),  # both members at capacity
    ]
    reasons = {(r["lead_id"], r["seller_bu"]): r["reason"] for r in _routes(ws)}
    assert "D1 (proposal, bu_soft, at A2 in the group)" in reasons[("R1", "bu_soft")]
    assert "industry Banking; 5000 employees" in reasons[("R1", "bu_fin")]
    assert "KAM tier 1" in reasons[("R3", "bu_key")] and "account owner cat" in reasons[("R3", "bu_key")]
    assert "ABM lead BU bu_abm" in reasons[("R4", "bu_abm")] and "no owner" in reasons[("R4", "bu_abm")]
    assert "interested in Cloud" in reasons[("R5", "bu_cloud")]
    assert "pool team is full" in reasons[("R9", "bu_web")]
    sla = {(r["lead_id"], r["seller_bu"]): r["sla_due_at"] for r in _routes(ws)}
    assert sla[("R1", "bu_serv")] == NOW + timedelta(hours=4) and sla[("R2", "bu_fin")] == NOW + timedelta(hours=24)
    assert summary["leads to several BUs"] == 1 and summary["routes"] == 11


def test_only_new_leads_and_log(ws):
    route(ws, parse_rules(RULES), now=NOW)
    again = route(ws, parse_rules(RULES), now=NOW)
    assert again["leads routed"] == 0
    assert ws.engine.scalar("SELECT count(*) FROM lead_routing_log") == 11
    # every lead again: the pool counts are remembered, so the team is full
    route(ws, parse_rules(RULES), everything=True, now=NOW)
    owners = {r["lead_id"]: r["owner"] for r in _routes(ws) if r["rule"] == "rest"}
    assert owners == {"R6": None, "R7": None, "R8": None, "R9": None}
    assert ws.engine.scalar("SELECT count(*) FROM lead_routing_log") == 22


def test_default_rules_and_bad_rules(ws, tmp_path):
    summary = route(ws, load_rules(ws), now=NOW)  # the documented default file
    assert summary["leads routed"] == 9
    with pytest.raises(ConfigError, match="pool 'nope'"):
        parse_rules("rules:\n  - name: x\n    to: {pool: nope}\n")
    with pytest.raises(ConfigError):
        parse_rules("rules:\n  - name: x\n    when: {colour: red}\n")
    saved = write(tmp_path / "r.yaml", RULES)
    load_rules(ws, saved, save=True)
    assert load_rules(ws).pools["team"].capacity == 2
