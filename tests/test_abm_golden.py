"""The `abm` stage's every output table on a generated workspace, compared row for row with the
expectation in tests/fixtures/abm_expected/ (written by the stage before its set-based rewrite
for speed: the rewrite changes no row), on both engines.

The workspace: 60 accounts in groups of six, 5 BUs and deals without one, deals open, won and
lost with amounts in cents (some negative, some without amount_rc, some created after the build
date or without dates), activities with and without contacts, campaigns targeting accounts and
contacts, substitutes, manual lead-BU decisions (one undone), strategic marks, team members and
handovers. Regenerate the expectation (only when the stage's results are meant to change):
`python -m tests.test_abm_golden tests/fixtures/abm_expected`.
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from accountree.build import BuildOptions, build
from accountree.orchestration import sql
from accountree.orchestration.settings import set_setting
from accountree.orchestration.stage import OUTPUTS
from accountree.store import Workspace

AS_OF = date(2026, 6, 30)
EXPECTED = Path(__file__).parent / "fixtures" / "abm_expected"
BUS = ["bu_a", "bu_b", "bu_c", "bu_d", "bu_e"]
RULES = ("lead_bu_bonus", "touch_weighted", "equal")


def _day(rng: random.Random, before: int, after: int = 0) -> date:
    return AS_OF + timedelta(days=rng.randint(-before, after))


def load(ws: Workspace, seed: int = 5) -> None:
    rng = random.Random(seed)
    accounts = [f"A{i:02d}" for i in range(60)]
    tables: dict[str, list[dict]] = {
        "seller_bus": [{"bu_id": b, "name": b.upper(), "sales_cycle_days": c}
                       for b, c in zip(BUS, [90, 120, 90, None, 270], strict=True)],
        "accounts": [{"account_id": a, "name": f"Account {a}", "owner": rng.choice(["Ann", "Bob", None]),
                      "parent_id": None if i % 6 == 0 else accounts[i - i % 6]} for i, a in enumerate(accounts)],
        "contacts": [{"contact_id": f"C{i:03d}", "account_id": accounts[i // 2]} for i in range(120)],
        "deals": [], "activities": [], "campaigns": [], "campaign_accounts": [], "campaign_contacts": [],
    }
    for i in range(500):
        created = _day(rng, 1100, 20) if rng.random() > 0.03 else None
        close = (created or AS_OF) + timedelta(days=rng.randint(0, 300)) if rng.random() > 0.05 else None
        amount = round(rng.uniform(-50, 90_000), 2) if rng.random() > 0.1 else float(rng.randint(1, 9) * 1000)
        tables["deals"].append({
            "deal_id": f"D{i:03d}", "account_id": rng.choice(accounts), "seller_bu": rng.choice(BUS + BUS[:2])
            if rng.random() > 0.05 else None, "product": f"P{rng.randint(0, 5)}",
            "stage": rng.choice(["won", "won", "lost", "proposal", "discovery"]), "amount": amount,
            "amount_rc": amount if rng.random() > 0.1 else None, "created_at": created, "close_date": close,
            "owner": rng.choice(["Ann", "Bob", "Cid", "Dee", None])})
    for i in range(400):
        account = rng.choice(accounts)
        contact = f"C{accounts.index(account) * 2 + rng.randint(0, 1):03d}" if rng.random() > 0.2 else None
        tables["activities"].append({"activity_id": f"X{i:03d}", "account_id": account, "date": _day(rng, 700, 30),
                                     "type": "meeting", "contact_id": contact,
                                     "seller_bu": rng.choice(BUS) if rng.random() > 0.05 else None})
    for k in range(12):
        start = _day(rng, 400, 200)
        tables["campaigns"].append({"campaign_id": f"K{k:02d}", "name": f"Campaign {k}", "seller_bu": BUS[k % 5],
                                    "start_date": start,
                                    "end_date": start + timedelta(days=rng.randint(0, 30)) if k % 4 else None})
    tables["campaign_accounts"] = [{"campaign_id": k, "account_id": a} for k, a in sorted(
        {(f"K{rng.randint(0, 11):02d}", rng.choice(accounts)) for _ in range(90)})]
    tables["campaign_contacts"] = [{"campaign_id": k, "contact_id": c} for k, c in sorted(
        {(f"K{rng.randint(0, 11):02d}", f"C{rng.randint(0, 119):03d}") for _ in range(60)})]
    at = datetime(2026, 6, 1, 9, 0)
    tables["abm_substitutes"] = [{"product_a": "P0", "product_b": "P1", "marked_by": "u", "marked_at": at},
                                 {"product_a": "P2", "product_b": "P3", "marked_by": "u", "marked_at": at}]
    tables["abm_lead_bu_decisions"] = [
        {"decision_id": f"L{i}", "scope": scope, "account_id": a, "lead_bu": bu, "why": "committee", "decided_by": "ceo",
         "decided_at": at + timedelta(hours=i), "undone_by": "ceo" if i == 1 else None,
         "undone_at": at + timedelta(days=1) if i == 1 else None}
        for i, (scope, a, bu) in enumerate([("account", "A01", "bu_c"), ("account", "A02", "bu_b"),
                                            ("group", "A06", "bu_e"), ("account", "A07", "bu_x")])]
    tables["abm_strategic_marks"] = [{"scope": "account", "account_id": "A03", "why": "board", "marked_by": "ceo",
                                      "marked_at": at},
                                     {"scope": "group", "account_id": "A12", "why": None, "marked_by": "ceo",
                                      "marked_at": at}]
    tables["abm_team_members"] = [{"account_id": "A04", "role": "ae", "member": "Zoe", "member_bu": "bu_a",
                                   "set_by": "u", "set_at": at},
                                  {"account_id": "A04", "role": "se", "member": "Sam", "member_bu": "bu_b",
                                   "set_by": "u", "set_at": at}]
    won = [d for d in tables["deals"] if d["stage"] == "won" and d["close_date"] and d["close_date"] <= AS_OF][:4]
    tables["abm_handovers"] = [
        {"handover_id": f"H{i}", "deal_id": d["deal_id"], "account_id": d["account_id"], "seller_bu": d["seller_bu"],
         "from_ae": d["owner"], "to_csm": f"csm{i % 2}", "decision_context": "ctx" if i % 2 else None,
         "value_objectives": "obj", "stakeholders": "st", "commitments": "com",
         "meeting_at": datetime(2026, 7, 15) if i == 0 else (datetime(2026, 6, 1) if i < 3 else None),
         "meeting_customer": "cust", "recorded_by": "u", "recorded_at": at + timedelta(days=i)}
        for i, d in enumerate(won)]
    for table, rows in tables.items():
        if rows:
            ws.engine.insert_arrow(table, pa.Table.from_pylist(rows))


def _text(v: object) -> str:
    if v is None:
        return "∅"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float, Decimal)):
        return f"{round(float(v), 6) + 0.0:.6f}"
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return str(v)


def _table(ws: Workspace, table: str) -> list[list[str]]:
    rows = ws.engine.fetch_dicts(f"SELECT * FROM {table}")
    return [list(rows[0])] + sorted([_text(v) for v in row.values()] for row in rows)


def outputs(ws: Workspace) -> dict[str, list[list[str]]]:
    """Every output table (and the attribution under each rule) as sorted rows of text."""
    build(ws, BuildOptions(as_of=AS_OF, stages=["hierarchy", "abm"]))
    out = {}
    for table in OUTPUTS:
        out[table] = _table(ws, table)
    for rule in RULES[1:]:
        set_setting(ws, "attribution_rule", rule)
        build(ws, BuildOptions(as_of=AS_OF, stages=["abm"]))
        out[f"abm_attribution_{rule}"] = _table(ws, "abm_attribution")
    return out


def _read(name: str) -> list[list[str]]:
    with open(EXPECTED / f"{name}.csv", newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    return [header] + rows


def _assert_expected(ws: Workspace) -> None:
    load(ws)
    got = outputs(ws)
    assert sum(len(rows) - 1 for rows in got.values()) > 1000
    for name, rows in got.items():
        expected = _read(name)
        assert rows[0] == expected[0], name  # the columns, in order
        missing = [r for r in expected[1:] if r not in rows]
        extra = [r for r in rows[1:] if r not in expected]
        assert (missing, extra) == ([], []), name


def test_abm_outputs_equal_the_expectation(workspace):
    _assert_expected(workspace)


def test_abm_outputs_without_pivots_equal_the_expectation(duckdb_workspace, monkeypatch):
    """The statements written for more than PIVOT_MAX_BUS BUs (ordered string_agg, windows, the
    scores table) give the rows of the pivoted ones (one column per BU number)."""
    monkeypatch.setattr(sql, "PIVOT_MAX_BUS", 2)
    assert not sql.pivots(len(BUS) + 1)
    _assert_expected(duckdb_workspace)


if __name__ == "__main__":  # write the expectation
    import tempfile

    from accountree.store import open_workspace

    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ws = open_workspace(str(Path(tmp) / "golden.duckdb"))
        load(ws)
        for name, rows in outputs(ws).items():
            with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows(rows)
            print(name, len(rows) - 1)
        ws.close()
