"""Lead spaces (both engines): role × object × read/write matrix through the core reader. A lead
that came in through one BU and was routed to another is the routed BU's lead too — it sees the
lead, its match and its review decisions — but never the other leads of the BU it came from."""

from __future__ import annotations

from datetime import datetime

import pytest

from accountree.api.access import Principal, ScopedReader, TableCatalog
from accountree.ingest import import_bundle
from accountree.leads.match import match
from accountree.leads.route import parse_rules, route
from accountree.leads.service import decide
from tests.conftest import write

ACCOUNTS = """account_id,name,domain,country
A1,Alpha Bank SA,a1.com,FR
B1,Beta Banque,b1.com,FR
"""
DEALS = """deal_id,account_id,seller_bu,stage,amount,owner
D1,A1,bu_serv,proposal,1000,sue
"""
# W1 (web) is routed to Services (its account's open deal) and stays Web's; W2 (web) stays Web's;
# S1 (services) stays Services'; X1 (no BU) goes to Web's pool.
LEADS = """lead_id,email,company,seller_bu
W1,x@a1.com,,bu_web
W2,y@b1.com,,bu_web
S1,z@b1.com,,bu_serv
X1,q@newco.io,NewCo,
"""
RULES = """
pools:
  team: {members: [u1], capacity: 10}
rules:
  - name: open-deal
    when: {matched: true, open_deal: true}
    to: {bu: deal_bu, owner: deal_owner}
    continue: true
  - name: own-bu
    when: {lead_bu: [bu_web, bu_serv]}
    to: {bu: lead_bu}
  - name: rest
    to: {bu: bu_web, pool: team}
"""
ADMIN = Principal("ada", "admin")
CORP = Principal("cora", "corporate")
RO = Principal("rob", "read_only")
WEB = Principal("wes", "bu_member", "bu_web")
SERV = Principal("sue", "bu_member", "bu_serv")
RO_SERV = Principal("rosa", "read_only", "bu_serv")
OTHER = Principal("olga", "bu_member", "bu_other")
NOBU = Principal("nobody", "bu_member", None)
EVERYONE = ("W1", "W2", "S1", "X1")

READS = {
    "leads": "SELECT lead_id FROM leads ORDER BY lead_id",
    "matches": "SELECT m.lead_id FROM lead_matches m ORDER BY m.lead_id",
    "inbox": "SELECT m.lead_id FROM lead_matches m JOIN leads l ON l.lead_id = m.lead_id ORDER BY m.lead_id",
    "decisions": "SELECT lead_id FROM lead_match_decisions ORDER BY lead_id",
    "routes": "SELECT lead_id || ':' || seller_bu FROM lead_routing ORDER BY lead_id, seller_bu",
    "proposals": "SELECT domain FROM new_account_proposals ORDER BY domain",
}
ALL = {"leads": sorted(EVERYONE), "matches": sorted(EVERYONE), "inbox": sorted(EVERYONE), "decisions": ["W1"],
       "routes": ["S1:bu_serv", "W1:bu_serv", "W1:bu_web", "W2:bu_web", "X1:bu_web"], "proposals": ["newco.io"]}
SERV_SEES = {"leads": ["S1", "W1"], "matches": ["S1", "W1"], "inbox": ["S1", "W1"], "decisions": ["W1"],
             "routes": ["S1:bu_serv", "W1:bu_serv"], "proposals": []}
EXPECTED = {
    ADMIN: ALL, CORP: ALL, RO: ALL,
    # Web: its own leads (W1 is still its lead) and X1, which came in without a BU and was routed to it
    WEB: {"leads": ["W1", "W2", "X1"], "matches": ["W1", "W2", "X1"], "inbox": ["W1", "W2", "X1"],
          "decisions": ["W1"], "routes": ["W1:bu_web", "W2:bu_web", "X1:bu_web"], "proposals": []},
    # Services: its own lead S1 and W1 routed to it; never W2, Web's other lead on a Services account's peer
    SERV: SERV_SEES, RO_SERV: SERV_SEES,
    OTHER: {k: [] for k in ALL}, NOBU: {k: [] for k in ALL},
}
NOW = datetime(2026, 12, 5, 9, 0)


@pytest.fixture
def ws(workspace, tmp_path):
    folder = tmp_path / "b"
    write(folder / "accounts.csv", ACCOUNTS)
    write(folder / "deals.csv", DEALS)
    write(folder / "leads.csv", LEADS)
    import_bundle(workspace, [str(folder)])
    match(workspace)
    route(workspace, parse_rules(RULES), now=NOW)
    decide(workspace, "W1", "A1", "accept", user="sue")  # the routed BU reviews its new lead
    return workspace


def _seen(ws, who: Principal, sql: str) -> list:
    return [r[0] for r in ScopedReader(ws.engine, who, TableCatalog()).fetchall(sql)]


def test_read_matrix(ws):
    assert ws.engine.fetch_dicts("SELECT account_id, method FROM lead_matches WHERE lead_id = 'W1'") == [
        {"account_id": "A1", "method": "manual"}]
    for who, expected in EXPECTED.items():
        for name, rows in expected.items():
            assert _seen(ws, who, READS[name]) == rows, (who.username, name)


def test_routed_lead_evidence_is_readable_by_the_routed_bu(ws):
    reader = ScopedReader(ws.engine, SERV, TableCatalog())
    row = reader.fetch_dicts("SELECT m.account_id, m.evidence, l.seller_bu FROM lead_matches m "
                             "JOIN leads l ON l.lead_id = m.lead_id WHERE m.lead_id = 'W1'")
    assert row and row[0]["account_id"] == "A1" and row[0]["seller_bu"] == "bu_web" and row[0]["evidence"]
    # a route to another BU of the same lead stays that BU's
    assert reader.fetchall("SELECT seller_bu FROM lead_routing WHERE lead_id = 'W1'") == [("bu_serv",)]
    # the hand-over is read at query time: re-routed elsewhere, the lead is no longer Services'
    ws.engine.execute("DELETE FROM lead_routing WHERE lead_id = 'W1' AND seller_bu = 'bu_serv'")
    assert reader.fetchall("SELECT lead_id FROM lead_matches WHERE lead_id = 'W1'") == []


def test_write_matrix(ws):
    """Who may accept or reject a lead's account: a writer who sees the lead (the API's rule)."""
    def may_decide(who: Principal, lead_id: str) -> bool:
        seen = ScopedReader(ws.engine, who, TableCatalog()).scalar("SELECT count(*) FROM leads WHERE lead_id = ?",
                                                                   [lead_id])
        return who.can_write and bool(seen)

    allowed = {(who.username, lead) for who in EXPECTED for lead in EVERYONE if may_decide(who, lead)}
    assert allowed == ({(w.username, lead) for w in (ADMIN, CORP) for lead in EVERYONE}
                       | {("wes", "W1"), ("wes", "W2"), ("wes", "X1"), ("sue", "W1"), ("sue", "S1")})


def test_two_runs_at_once_do_not_collide(ws):
    """Work tables are temporary (per connection): a second run while the first is half-way through
    neither waits for it nor sees its tables, and nothing is left in the workspace."""
    from accountree.leads.match import _work
    from accountree.leads.sql import WORK_TABLES
    from accountree.store import open_workspace

    other = open_workspace(ws.location)
    try:
        if other.engine.name == "postgres":
            other.engine.execute("SET lock_timeout = '5s'")  # a collision fails instead of waiting forever
        with ws.engine.transaction():
            _work(ws)  # the first run holds its work tables
            assert other.engine.scalar("SELECT count(*) FROM lead_matches") == 4
            summary = match(other)
            assert summary["leads"] == 4
            assert ws.engine.scalar("SELECT count(*) FROM leads_w_src") == 4  # still its own
        match(ws)
        # seen from another connection, neither run left a work table in the workspace
        assert not any(other.engine.table_exists(t) for t in WORK_TABLES)
    finally:
        other.close()
