"""The KAM rules the engine runs as SQL steps (`accountree.kam.steps`) give the rows the former
per-row Python rules gave: each test recomputes one step with that rule, row by row, on the
hand-made bundle (with a sentiment column, an odd MEDDIC header and a stage change), on DuckDB
and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from accountree.kam import steps
from accountree.kam.inputs import load_inputs
from accountree.kam.portfolio import COMMITTEE_ROLES
from accountree.kam.settings import KamSettings
from accountree.kam.stakeholders import stakeholder_row
from tests.test_kam_fixtures import AS_OF, CONTACTS, DEALS, build, load

SENTIMENT = CONTACTS.replace("end_date\n", "end_date,Sentiment\n", 1).replace("C3,TAS,Paul Martin,CIO,influencer,C1,,",
                                                                              "C3,TAS,Paul Martin,CIO,influencer,C1,,,warm")
ODD_MEDDIC = DEALS.replace("metrics,champion\n", "metrics,champion,Economic Buyer\n", 1).replace(
    "D8,SUB,qualification,20000,EUR,2025-12-01,2026-12-31,bob,,", "D8,SUB,qualification,20000,EUR,2025-12-01,2026-12-31,bob,,,Ada King")


@pytest.fixture
def ws(workspace, tmp_path: Path):
    load(workspace, tmp_path / "bundle", contacts=SENTIMENT, deals=ODD_MEDDIC)
    build(workspace)
    return workspace


def _contacts(ws) -> list[dict]:
    rows = ws.engine.fetch_dicts(
        "SELECT c.contact_id, c.account_id, c.name, c.title, coalesce(r.buying_role, c.buying_role) AS buying_role, "
        "c.reports_to, c.start_date, c.end_date, c.attributes FROM contacts c "
        "LEFT JOIN kam_contact_roles r ON r.contact_id = c.contact_id ORDER BY c.contact_id")
    for c in rows:
        c["left"] = c["end_date"] is not None and c["end_date"] <= AS_OF
    return rows


def test_stakeholders_step_gives_the_per_contact_rule(ws) -> None:
    from accountree.kam.inputs import attribute

    settings = KamSettings()
    year_ago, recent = AS_OF - timedelta(days=365), AS_OF - timedelta(days=90)
    activity: dict[str, dict] = {}
    for cid, day, weight in ws.engine.fetchall('SELECT contact_id, "date", weight FROM activities WHERE contact_id IS NOT NULL'):
        if day > AS_OF:
            continue
        a = activity.setdefault(cid, {"last_interaction": day, "interactions": 0, "recent_points": 0, "year_points": 0})
        a["last_interaction"] = max(a["last_interaction"], day)
        a["interactions"] += 1
        a["recent_points"] += (weight if weight is not None else 1) if day > recent else 0
        a["year_points"] += (weight if weight is not None else 1) if day > year_ago else 0
    expected = []
    for c in _contacts(ws):
        c["sentiment"] = attribute(c["attributes"], "sentiment") or attribute(c["attributes"], "relationship")
        expected.append(stakeholder_row(c, activity.get(c["contact_id"]), settings))
    got = ws.engine.fetch_dicts("SELECT * FROM kam_stakeholders ORDER BY contact_id")
    assert got == expected
    assert {r["contact_id"]: r["sentiment"] for r in got}["C3"] == "warm"
    assert {r["contact_id"]: r["strength"] for r in got}["C3"] == "strong"  # X1 (3, recent: twice) + X2 (1) = 7 ≥ 6


def test_account_facts_give_the_per_deal_rule(ws) -> None:
    inputs = load_inputs(ws, AS_OF)
    facts = steps.account_facts(ws, inputs)
    bu_cycle = dict(ws.engine.fetchall("SELECT bu_id, sales_cycle_days FROM seller_bus WHERE sales_cycle_days IS NOT NULL"))
    for account_id in inputs.accounts:
        deals = ws.engine.fetch_dicts("SELECT * FROM deals WHERE account_id = ?", [account_id])
        cycles = [max((d["close_date"] - d["created_at"]).days, 0) for d in deals
                  if d["stage"] == "won" and d["created_at"] and d["close_date"]]
        bus = [float(bu_cycle[d["seller_bu"]]) for d in deals if d["seller_bu"] in bu_cycle]
        roles = {c["buying_role"] for c in _contacts(ws)
                 if c["account_id"] == account_id and not c["left"] and c["buying_role"] in COMMITTEE_ROLES}
        f = facts[account_id]
        assert (f["cycle_n"], f["cycle_sum"], f["bu_n"], f["bu_sum"]) == (len(cycles), sum(cycles), len(bus), sum(bus))
        assert f["open"] == sum(1 for d in deals if d["stage"] not in ("won", "lost"))
        assert f["roles"] == roles
    assert facts["TAS"]["open"] == 3 and facts["TAS"]["roles"] == {"influencer", "buyer"}  # the champion left


def test_deal_stages_and_no_progress_give_the_per_deal_rule(ws) -> None:
    before = dict(ws.engine.fetchall("SELECT deal_id, since FROM kam_deal_stages"))
    created = dict(ws.engine.fetchall("SELECT deal_id, created_at FROM deals"))
    assert before == created  # first seen: in its stage since its creation
    later = AS_OF + timedelta(days=30)
    ws.engine.execute("UPDATE deals SET stage = 'negotiation' WHERE deal_id = 'D8'")
    steps.deal_stages(ws, later)
    since = dict(ws.engine.fetchall("SELECT deal_id, since FROM kam_deal_stages"))
    assert since == {**before, "D8": later}
    settings = KamSettings()
    window = timedelta(days=round(settings.no_progress_months * 30.44))
    far = AS_OF + timedelta(days=400)
    got = steps.no_progress_candidates(ws, far, settings)
    expected = []
    for account_id, in ws.engine.fetchall("SELECT DISTINCT account_id FROM deals ORDER BY account_id"):
        deals = ws.engine.fetch_dicts("SELECT * FROM deals WHERE account_id = ?", [account_id])
        moments, has_open = [], 0
        for d in deals:
            moments += [d["created_at"], since.get(d["deal_id"])]
            if d["stage"] in ("won", "lost") and d["close_date"] and d["close_date"] <= far:
                moments.append(d["close_date"])
            else:
                has_open = 1
        last = max(m for m in moments if m is not None)
        active = ws.engine.scalar('SELECT count(*) FROM activities WHERE account_id = ? AND "date" > ? AND "date" <= ?',
                                  [account_id, far - window, far])
        if last <= far - window and active >= settings.no_progress_min_activities:
            expected.append((account_id, last, has_open, active))
    assert [(r["account_id"], r["last_progress"], int(r["has_open"]), int(r["activities"])) for r in got] == expected


def test_meddic_elements_under_any_header_spelling_are_read(ws) -> None:
    stored = {r["deal_id"]: r for r in ws.engine.fetch_dicts("SELECT * FROM meddic")}
    assert stored["D8"]["economic_buyer"] == "Ada King"  # "Economic Buyer": parsed in Python, not missed by SQL
    assert (stored["D3"]["metrics"], stored["D3"]["champion"]) == ("cut costs", "Marie Curie")
    assert set(stored) == {"D3", "D8"}


def test_snapshot_keeps_the_resolved_group_heads(ws) -> None:
    got = dict(ws.engine.fetchall("SELECT account_id, group_head_id FROM kam_snapshot_parents"))
    assert got == {"G1": "G1", "TAS": "G1", "SUB": "G1", "ACME": "ACME", "LONE": "LONE"}
    assert ws.engine.scalar("SELECT count(*) FROM kam_snapshot_contacts WHERE snapshot_at = ?", [AS_OF]) == 5
