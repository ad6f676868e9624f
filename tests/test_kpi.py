"""KPIs on a hand-computed fixture, on DuckDB and PostgreSQL: every figure worked out by hand.

The group (reporting currency EUR, USD at 0.9 from the bundle's own fx_rates):

    G  Valmont Group (head)          P3 won 300 / margin 90 on 2023-02-01; 12 activity points in 90 days
    ├─ F  Valmont France (100 %)      P1 won 1 000 / 400 on 2026-03-15, P2 won 500 / 100 on 2025-06-01,
    │  │                              P1 won 700 on 2026-08-01 (after the as-of date: not counted)
    │  ├─ L  Valmont Lyon (BU)        P1 won 2 000 USD = 1 800 EUR, margin 25 % = 450, on 2024-11-20
    │  └─ J  Valmont-Orion JV (50 %)  P2 won 800 / 200 on 2026-01-10
    └─ U  Valmont USA (80 %)          P1 open 3 000 USD = 2 700 EUR; P3 lost
    O  Orion SA — owns the other 50 % of J; P1 won 100 on 2022-05-01

As of 2026-06-30: cy = 2026, py1 = 2025, py2 = 2024, py3 = 2023.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from accountree.errors import ConfigError, NotFoundError
from accountree.ingest import import_bundle
from accountree.kpi import (
    account_kpis,
    build_kpis,
    cross_sell,
    group_rollup,
    refresh_accounts,
    transitions,
    whitespace,
)
from accountree.kpi.exports import WHITESPACE
from accountree.kpi.rules import parse_rules, save_rules
from tests.conftest import write
from tests.test_kpi_support import AS_OF, make_hierarchy, table_rows

LINKS = [("F", "G", "subsidiary", 100.0), ("L", "F", "business_unit", None), ("U", "G", "subsidiary", 80.0),
         ("J", "F", "joint_venture", 50.0), ("J", "O", "joint_venture", 50.0)]


def valmont(ws, tmp_path: Path) -> None:
    b = tmp_path / "valmont"
    write(b / "accounts.csv", "account_id,name,employees,annual_revenue,currency,industry,wallet\n"
          "G,Valmont Group,5000,100000000,EUR,Manufacturing,\nF,Valmont France,800,20000000,EUR,Manufacturing,10000\n"
          "L,Valmont Lyon,120,,EUR,Manufacturing,\nU,Valmont USA,300,10000000,USD,Manufacturing,\n"
          "J,Valmont-Orion JV,50,,EUR,Energy,\nO,Orion SA,2000,,EUR,Energy,\n")
    write(b / "fx_rates.csv", "currency,rate\nUSD,0.9\n")
    write(b / "products.csv", "product_id,name\nP1,Platform\nP2,Analytics\nP3,Services\n")
    write(b / "deals.csv", "deal_id,account_id,seller_bu,product,stage,amount,gross_margin,currency,close_date\n"
          "d1,F,BU1,P1,won,1000,400,EUR,2026-03-15\nd2,F,BU2,P2,won,500,100,EUR,2025-06-01\n"
          "d3,L,BU1,P1,won,2000,25 %,USD,2024-11-20\nd4,U,BU1,P1,negotiation,3000,,USD,2026-09-30\n"
          "d5,U,BU1,P3,lost,999,,EUR,2026-02-01\nd6,J,BU2,P2,won,800,200,EUR,2026-01-10\n"
          "d7,G,BU3,P3,won,300,90,EUR,2023-02-01\nd8,O,BU1,P1,won,100,10,EUR,2022-05-01\n"
          "d9,F,BU1,P1,won,700,100,EUR,2026-08-01\n")
    write(b / "activities.csv", "activity_id,account_id,date,type,weight\n"
          "a1,G,2026-04-10,pricing_page,5\na2,G,2026-05-10,meeting,5\na3,G,2026-06-01,web_visit,2\n"
          "a4,U,2026-05-01,web_visit,\na5,O,2026-01-15,web_visit,1\n")
    import_bundle(ws, [str(b)])
    make_hierarchy(ws, LINKS)


def pick(row: dict, *cols: str) -> tuple:
    return tuple(row[c] for c in cols)


def test_account_kpis_by_hand(workspace, tmp_path: Path) -> None:
    valmont(workspace, tmp_path)
    build_kpis(workspace, AS_OF)
    k = {r["account_id"]: r for r in table_rows(workspace, "account_kpis")}
    cols = ("status", "revenue_cy", "revenue_py1", "revenue_py2", "revenue_py3",
            "margin_cy", "margin_py1", "margin_py2", "margin_py3", "products")
    assert pick(k["G"], *cols) == ("MQA", 0, 0, 0, 300, 0, 0, 0, 90, "P3")  # 5+5+2 = 12 points >= 10
    assert pick(k["F"], *cols) == ("Customer", 1000, 500, 0, 0, 400, 100, 0, 0, "P1; P2")  # d9 after as-of
    assert pick(k["L"], *cols) == ("Former customer", 0, 0, 1800, 0, 0, 0, 450, 0, "P1")  # lapsed 19 months
    assert pick(k["U"], *cols) == ("Opportunity", 0, 0, 0, 0, 0, 0, 0, 0, None)  # lost P3 is not a product
    assert pick(k["J"], *cols) == ("Customer", 800, 0, 0, 0, 200, 0, 0, 0, "P2")
    assert pick(k["O"], *cols) == ("Former customer", 0, 0, 0, 0, 0, 0, 0, 0, "P1")  # 2022 sale, web visit > 90 d
    assert (k["L"]["lapsing"], k["O"]["lapsing"], k["F"]["lapsing"]) == (True, False, False)
    assert pick(k["F"], "revenue_3y", "margin_3y", "margin_pct_cy", "margin_pct_py1", "nrr", "nrr_ytd") == \
        (500, 100, 0.4, 0.2, None, 2.0)  # NRR 2025/2024 undefined (no 2024 revenue); YTD 1000 / 500
    assert k["L"]["nrr"] == 0  # bought 1 800 in 2024, nothing in 2025
    assert pick(k["F"], "wallet", "wallet_source", "share_of_wallet") == (10000, "attribute", 0.1)  # TTM 1000
    assert pick(k["G"], "wallet", "wallet_source") == (2_000_000, "model")  # 2 % of 100 M
    assert k["U"]["wallet"] == pytest.approx(180_000)  # 2 % of 10 M USD at 0.9
    assert pick(k["F"], "seller_bus", "seller_bu_count", "first_purchase", "last_purchase") == \
        ("BU1; BU2", 2, date(2025, 6, 1), date(2026, 3, 15))
    assert pick(k["U"], "open_pipeline", "open_deals", "engagement_score") == (2700, 1, 1)
    products = workspace.engine.fetch_dicts(
        "SELECT product, first_purchase, last_purchase, revenue_total, open_pipeline FROM kpi_account_products "
        "WHERE account_id = 'F' ORDER BY product")
    assert products == [
        {"product": "P1", "first_purchase": date(2026, 3, 15), "last_purchase": date(2026, 3, 15),
         "revenue_total": 1000, "open_pipeline": 0},
        {"product": "P2", "first_purchase": date(2025, 6, 1), "last_purchase": date(2025, 6, 1),
         "revenue_total": 500, "open_pipeline": 0}]


def test_group_rollups_by_hand(workspace, tmp_path: Path) -> None:
    valmont(workspace, tmp_path)
    build_kpis(workspace, AS_OF)
    g = {r["account_id"]: r for r in table_rows(workspace, "group_kpis")}
    assert sorted(g) == ["F", "G", "O"]  # the accounts with descendants
    cols = ("group_status", "entities", "customer_entities", "revenue_cy", "revenue_py1", "revenue_py2",
            "revenue_py3", "margin_cy", "jv_entities", "products")
    # consolidated: G + F + L + U (the JV is left out); U at 100 % as a controlled subsidiary
    assert pick(g["G"], *cols) == ("customer group", 4, 1, 1000, 500, 1800, 300, 400, 1, "P1; P2; P3")
    assert pick(g["F"], *cols) == ("customer group", 2, 1, 1000, 500, 1800, 0, 400, 1, "P1; P2")
    assert pick(g["O"], *cols) == ("former customer group", 1, 0, 0, 0, 0, 0, 0, 1, "P1")
    # ownership-weighted: the JV at 50 % in each owner's subtree; U's pipeline at 80 %
    assert pick(g["G"], "revenue_cy_weighted", "margin_cy_weighted", "open_pipeline", "open_pipeline_weighted") == \
        (1400, 500, 2700, 2160)
    assert g["O"]["revenue_cy_weighted"] == 400  # the other half of the JV: 400 + 400 = 800, never twice
    assert pick(g["G"], "opportunity_entities", "mqa_entities", "former_customer_entities", "dormant_entities") == \
        (1, 1, 1, 0)
    # penetration: G (2023), F, L buy; U does not. Subsidiaries F, U (F buys); business unit L (buys)
    assert pick(g["G"], "buying_entities", "penetration", "subsidiaries", "buying_subsidiaries",
                "business_units", "buying_business_units") == (3, 0.75, 2, 1, 1, 1)
    assert g["G"]["revenue_3y"] == 2600 and g["G"]["nrr"] == pytest.approx(500 / 1800)


def test_whitespace_and_cross_sell_by_hand(workspace, tmp_path: Path) -> None:
    valmont(workspace, tmp_path)
    build_kpis(workspace, AS_OF)
    ws_ = whitespace(workspace, "L")  # any account of the group gives the group's matrix
    assert ws_["group_id"] == "G" and ws_["products"] == ["P1", "P2", "P3"]
    matrix = {e["account_id"]: [e["cells"][p] for p in ws_["products"]] for e in ws_["entities"]}
    assert matrix == {"F": ["bought", "bought", "never"], "G": ["never", "never", "bought"],
                      "L": ["bought", "never", "never"], "U": ["pipeline", "never", "never"]}
    # the group's rows are the export's rows for that group (the service reads the members by id)
    exported = workspace.engine.fetch_dicts(f"SELECT * FROM ({WHITESPACE}) w WHERE group_id = 'G' "
                                            "ORDER BY account_id, product")
    assert ws_["cells"] == exported and len(exported) == 12
    assert whitespace(workspace, "J")["cells"] == []  # a group of one
    # The JV heads its own group (no controlling parent): it is no sister of G's entities.
    # score = 40 adoption + 20 proximity + 15 size + 15 ICP (no grade: 0.5) + 10 open pipeline
    # G × P1: 40·2/3 + 20·0.5 (no parent, no sibling) + 15·ln(5001)/ln(10001) + 7.5 = 58.0
    # U × P2: 40·1/3 + 20·1 (sister F buys) + 15·ln(301)/ln(10001) + 7.5 + 10 = 60.1
    # F × P3: 40·1/3 + 20·1 (parent G buys) + 15·ln(801)/ln(10001) + 7.5 = 51.7
    # L × P3: 40·1/3 + 20·0.5 (only its grandparent buys) + 15·ln(121)/ln(10001) + 7.5 = 38.6
    targets = {(r["account_id"], r["product"]): r["score"] for r in cross_sell(workspace, "G", limit=100)}
    assert targets == {("U", "P2"): 60.1, ("U", "P3"): 60.1, ("G", "P1"): 58.0, ("F", "P3"): 51.7,
                       ("L", "P2"): 48.6, ("G", "P2"): 44.7, ("L", "P3"): 38.6}  # U × P1: in pipeline already
    best = cross_sell(workspace, limit=1)[0]
    assert best["reason"] == ("1 of 3 other entities in Valmont Group buys Analytics (1 direct sibling); "
                              "this one is Opportunity with open pipeline on other products")
    assert cross_sell(workspace, "J") == []  # a group of one has no sisters


def test_status_history_across_builds(workspace, tmp_path: Path) -> None:
    valmont(workspace, tmp_path)
    build_kpis(workspace, AS_OF)
    build_kpis(workspace, AS_OF)  # same day again: nothing new
    build_kpis(workspace, date(2026, 12, 31))  # G's activities are now > 90 days old
    history = account_kpis(workspace, "G")["status_history"]
    assert history == [
        {"status": "MQA", "entered_on": AS_OF, "left_on": date(2026, 12, 31), "previous_status": None},
        {"status": "Former customer", "entered_on": date(2026, 12, 31), "left_on": None, "previous_status": "MQA"}]
    assert len(account_kpis(workspace, "F")["status_history"]) == 1  # still a customer
    changes = transitions(workspace)
    assert {(t["from_status"], t["to_status"]): t["accounts"] for t in changes}[("MQA", "Former customer")] == 1
    assert all(t["first_on"] == t["last_on"] == date(2026, 12, 31) for t in changes)
    assert sum(t["accounts"] for t in changes) == workspace.engine.scalar(
        "SELECT count(*) FROM kpi_status_history WHERE scope = 'account' AND previous_status IS NOT NULL")
    assert transitions(workspace, since=date(2027, 1, 1)) == []
    from accountree.api.access import Principal, ScopedReader, TableCatalog
    from accountree.api.reads.portfolio import transitions as api_transitions

    reader = ScopedReader(workspace.engine, Principal("b", "bu_member", "BU1"), TableCatalog())
    assert api_transitions(reader, None, None, groups=False) == changes  # the API's read: same rows, any BU
    from accountree.api.reads.portfolio import _last_changes  # the home page's card: the last build's changes

    assert _last_changes(reader) == {"on": date(2026, 12, 31), "changes": changes,
                                     "accounts": sum(t["accounts"] for t in changes)}
    assert transitions(workspace, until=date(2026, 12, 30)) == []
    with pytest.raises(ConfigError, match="scope"):
        transitions(workspace, scope="region")
    build_kpis(workspace, date(2026, 1, 1))  # a back-dated build leaves history alone
    assert len(account_kpis(workspace, "G")["status_history"]) == 2
    assert group_rollup(workspace, "G")["group_status_history"][0]["status"] == "customer group"


def test_incremental_refresh_equals_full_rebuild(workspace, tmp_path: Path) -> None:
    valmont(workspace, tmp_path)
    build_kpis(workspace, AS_OF)
    # one deal changes (U wins P2), one account leaves the group: L moves under Orion
    workspace.engine.execute("INSERT INTO deals (deal_id, account_id, product, stage, amount, amount_rc, "
                             "gross_margin_rc, close_date) VALUES ('d10', 'U', 'P2', 'won', 50, 50, 5, ?)",
                             [date(2026, 6, 1)])
    refresh_accounts(workspace, ["U"], AS_OF)
    make_hierarchy(workspace, [link for link in LINKS if link[0] != "L"] + [("L", "O", "subsidiary", 100.0)])
    refresh_accounts(workspace, ["L", "F"], AS_OF)  # the child and its old parent
    tables = ("kpi_account_products", "account_kpis", "group_kpis", "cross_sell")
    keys = {"kpi_account_products": "account_id,product", "cross_sell": "account_id,product"}
    incremental = {t: table_rows(workspace, t, keys.get(t, "account_id")) for t in tables}
    assert {r["account_id"]: r["revenue_py2"] for r in incremental["group_kpis"]} == {"F": 0, "G": 0, "O": 1800}
    build_kpis(workspace, AS_OF)
    assert incremental == {t: table_rows(workspace, t, keys.get(t, "account_id")) for t in tables}


def _history(ws) -> list[tuple]:
    return sorted(ws.engine.fetchall("SELECT scope, account_id, status, entered_on, left_on, previous_status "
                                     "FROM kpi_status_history"), key=str)


def test_refresh_writes_the_status_history_a_full_build_writes(workspace, tmp_path: Path) -> None:
    valmont(workspace, tmp_path)
    build_kpis(workspace, AS_OF)
    before = _history(workspace)
    # a deal whose amount changes: no status changes, the history is left as it is
    workspace.engine.execute("UPDATE deals SET amount_rc = amount_rc + 1 WHERE deal_id = 'd1'")
    refresh_accounts(workspace, ["F"], AS_OF)
    assert _history(workspace) == before
    # a month later U wins a deal: U becomes a customer; refresh and full build agree on the history
    later = date(2026, 7, 31)
    workspace.engine.execute("INSERT INTO deals (deal_id, account_id, product, stage, amount, amount_rc, "
                             "gross_margin_rc, close_date) VALUES ('d10', 'U', 'P2', 'won', 50, 50, 5, ?)",
                             [date(2026, 7, 15)])
    workspace.engine.execute("CREATE TABLE history_before AS SELECT * FROM kpi_status_history")
    refresh_accounts(workspace, ["U"], later)
    refreshed = _history(workspace)
    assert ("account", "U", "Customer", later, None, "Opportunity") in refreshed
    workspace.engine.execute("DELETE FROM kpi_status_history")
    workspace.engine.execute("INSERT INTO kpi_status_history SELECT * FROM history_before")
    build_kpis(workspace, later)
    rebuilt = _history(workspace)
    # the full build also sees the month's other changes (G's activities age); U's rows and its group's agree
    in_scope = {("account", "U"), ("group", "G")}
    assert [r for r in refreshed if r[:2] in in_scope] == [r for r in rebuilt if r[:2] in in_scope]
    assert len([r for r in rebuilt if r[:2] in in_scope]) == 3


def test_refresh_of_a_standalone_company_and_of_a_dissolved_stake(workspace, tmp_path: Path) -> None:
    """The refresh skips the roll-up and cross-sell statements when their rows are provably none
    (no descendant, no sister): the tables must still be what a full build writes."""
    valmont(workspace, tmp_path)
    build_kpis(workspace, AS_OF)
    tables = ("kpi_account_products", "account_kpis", "group_kpis", "cross_sell")
    keys = {"kpi_account_products": "account_id,product", "cross_sell": "account_id,product"}
    assert "O" in {r["account_id"] for r in table_rows(workspace, "group_kpis")}  # O holds half of the JV
    # Orion sells its stake in the JV: O is a standalone company now, with no roll-up row
    make_hierarchy(workspace, [link for link in LINKS if link[:2] != ("J", "O")])
    refresh_accounts(workspace, ["J", "O"], AS_OF)
    # and a deal of that standalone company changes
    workspace.engine.execute("UPDATE deals SET amount_rc = amount_rc + 5 WHERE deal_id = 'd8'")
    refresh_accounts(workspace, ["O"], AS_OF)
    incremental = {t: table_rows(workspace, t, keys.get(t, "account_id")) for t in tables}
    history = _history(workspace)
    assert "O" not in {r["account_id"] for r in incremental["group_kpis"]}
    build_kpis(workspace, AS_OF)
    assert incremental == {t: table_rows(workspace, t, keys.get(t, "account_id")) for t in tables}
    assert history == _history(workspace)


def test_refresh_lookups_span_several_batches(workspace, tmp_path: Path, monkeypatch) -> None:
    """Id lookups go in batches (parameters per statement are limited): with batches of 2, one
    lookup statement holds several batches of several tables, and statements are flushed."""
    from accountree.kpi import refresh

    valmont(workspace, tmp_path)
    build_kpis(workspace, AS_OF)
    monkeypatch.setattr(refresh, "BATCH", 2)
    ids = ["G", "F", "L", "U", "J", "O", "nobody", "ghost"]
    assert refresh.known_ids(workspace, ids) == {"G", "F", "L", "U", "J", "O"}
    assert refresh.find_scope(workspace, ["L"]).groups == ["G"]


def test_rules_are_validated_and_change_the_statuses(workspace, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_rules("lifecycle:\n  customer_months: 0\n  precedence: [customer]\ncross_sell: {weights: {size: -1}}\n")
    assert len(err.value.problems) == 3
    valmont(workspace, tmp_path)
    save_rules(workspace, "lifecycle: {lapsed_as: customer}\n")  # the 12–24 month gap stays a customer
    build_kpis(workspace, AS_OF)
    assert account_kpis(workspace, "L")["status"] == "Customer"
    with pytest.raises(NotFoundError):
        account_kpis(workspace, "nobody")
    with pytest.raises(NotFoundError, match="no subsidiaries"):
        group_rollup(workspace, "L")


def test_refresh_of_an_unknown_account_says_so_and_writes_nothing(duckdb_workspace, tmp_path: Path) -> None:
    valmont(duckdb_workspace, tmp_path)
    build_kpis(duckdb_workspace, AS_OF)
    before = table_rows(duckdb_workspace, "account_kpis")
    with pytest.raises(NotFoundError, match="no account NOPE"):
        refresh_accounts(duckdb_workspace, ["F", "NOPE"], AS_OF)
    assert table_rows(duckdb_workspace, "account_kpis") == before


def test_refresh_of_tables_an_earlier_version_built_rebuilds_them(workspace, tmp_path: Path) -> None:
    """Tables built with another layout (an earlier version had no `account_kpis.relation`): the
    refresh cannot insert its rows into them, so it runs a full build, which records the layout."""
    valmont(workspace, tmp_path)
    build_kpis(workspace, AS_OF)
    expected = table_rows(workspace, "account_kpis")
    workspace.engine.execute("ALTER TABLE account_kpis DROP COLUMN relation")
    # and layouts before 4 stored the account × product rows in a table, indexed by a refresh
    workspace.engine.execute("DROP VIEW kpi_account_products")
    workspace.engine.execute("CREATE TABLE kpi_account_products AS SELECT account_id, product FROM deals")
    workspace.engine.execute("CREATE INDEX kpi_ix_kpi_account_products_account_id ON kpi_account_products (account_id)")
    workspace.set_meta("kpi_layout", "1")
    workspace.engine.execute("UPDATE deals SET amount_rc = amount_rc + 1 WHERE deal_id = 'd1'")
    refresh_accounts(workspace, ["F"], AS_OF)
    rows = table_rows(workspace, "account_kpis")
    assert {r["account_id"]: r["relation"] for r in rows} == {"G": None, "F": "subsidiary", "L": "business_unit",
                                                              "U": "subsidiary", "J": "joint_venture", "O": None}
    assert [r["revenue_cy"] for r in rows if r["account_id"] == "F"] == \
        [1 + next(r["revenue_cy"] for r in expected if r["account_id"] == "F")]
    assert workspace.meta("kpi_layout") != "1"
    kind = workspace.engine.scalar("SELECT table_type FROM information_schema.tables WHERE table_name = ? "
                                   "AND table_schema = ?", ["kpi_account_products", workspace.engine.schema])
    assert kind == "VIEW"
    assert workspace.engine.scalar("SELECT revenue_total FROM kpi_account_products WHERE account_id = 'F' "
                                   "AND product = 'P1'") == 1001


def test_a_build_failing_at_a_later_stage_leaves_the_workspace_as_it_was(workspace, tmp_path: Path,
                                                                         monkeypatch) -> None:
    """`accountree build` runs its stages in one transaction: never a new hierarchy under old KPIs."""
    from accountree import build as build_module
    from accountree.build import BuildOptions, BuildStage, build

    valmont(workspace, tmp_path)
    for child, parent, relation, pct in LINKS:
        workspace.engine.execute("INSERT INTO relationships (child_id, parent_id, relation, ownership_pct, source) "
                                 "VALUES (?, ?, ?, ?, 'crm')", [child, parent, relation, pct])
    options = BuildOptions(as_of=AS_OF, stages=["hierarchy", "kpis"])
    build(workspace, options)
    tables = ("hierarchy", "hierarchy_closure", "account_kpis", "group_kpis")
    before = {t: table_rows(workspace, t, "ancestor_id,descendant_id" if t == "hierarchy_closure" else "account_id")
              for t in tables}
    assert {r["account_id"]: r["group_head_id"] for r in before["hierarchy"]}["L"] == "G"
    workspace.engine.execute("UPDATE relationships SET parent_id = 'O', relation = 'subsidiary' WHERE child_id = 'L'")
    hierarchy_stage = next(s for s in build_module.stages() if s.name == "hierarchy")

    def fail(ws, options):
        raise RuntimeError("the KPI stage fails")

    monkeypatch.setattr(build_module, "stages", lambda: [hierarchy_stage, BuildStage("kpis", "fails", fail)])
    with pytest.raises(RuntimeError, match="KPI stage fails"):
        build(workspace, options)
    assert before == {t: table_rows(workspace, t, "ancestor_id,descendant_id" if t == "hierarchy_closure"
                                    else "account_id") for t in tables}
    monkeypatch.undo()
    build(workspace, options)  # and once it succeeds, L is in Orion's group
    assert {r["account_id"]: r["group_head_id"] for r in table_rows(workspace, "hierarchy")}["L"] == "O"


def test_a_refresh_runs_on_one_thread_and_gives_the_others_back(duckdb_workspace, tmp_path: Path,
                                                               monkeypatch) -> None:
    from accountree.kpi import refresh

    ws = duckdb_workspace
    valmont(ws, tmp_path)
    build_kpis(ws, AS_OF)
    threads = lambda: int(ws.engine.scalar("SELECT current_setting('threads')"))  # noqa: E731
    ws.engine.execute("SET threads = 2")
    seen = []
    steps = refresh.refresh_scope

    def spy(*args, **kwargs):
        seen.append(threads())
        return steps(*args, **kwargs)

    monkeypatch.setattr(refresh, "refresh_scope", spy)
    refresh_accounts(ws, ["F"], AS_OF)
    assert (seen, threads()) == ([1], 2)
    with pytest.raises(RuntimeError), ws.engine.small_work():
        raise RuntimeError("a step fails")
    assert threads() == 2


def test_build_without_hierarchy_says_what_to_run(duckdb_workspace) -> None:
    with pytest.raises(NotFoundError, match="hierarchy"):
        build_kpis(duckdb_workspace, AS_OF)


def test_exports_have_the_contract_columns(workspace, tmp_path: Path) -> None:
    from accountree.exports import export_query

    valmont(workspace, tmp_path)
    build_kpis(workspace, AS_OF)
    contract = {
        "account_kpis": ["account_id", "status", "revenue_cy", "revenue_py1", "revenue_py2", "revenue_py3", "margin_cy",
                         "margin_py1", "margin_py2", "margin_py3", "products"],
        "group_kpis": ["account_id", "group_status", "entities", "customer_entities", "revenue_cy", "revenue_py1",
                       "revenue_py2", "revenue_py3", "margin_cy"],
        "whitespace": ["group_id", "account_id", "product", "state"],
        "cross_sell": ["group_id", "account_id", "product", "score", "reason"],
        "account_products": ["account_id", "product", "first_purchase", "last_purchase"],
        "status_history": ["scope", "account_id", "status", "entered_on", "left_on", "previous_status"],
    }
    sizes = {}
    for name, columns in contract.items():
        table = workspace.engine.fetch_arrow(export_query(workspace, name))
        assert set(columns) <= set(table.column_names), name
        sizes[name] = table.num_rows
    assert sizes == {"account_kpis": 6, "group_kpis": 3, "whitespace": 12, "cross_sell": 7, "account_products": 7,
                     "status_history": 9}


def _sets_bundle(tmp_path: Path, products: int) -> tuple[Path, dict[str, set[str]]]:
    """Group H → C0, C1, C2 (C2 under C1); each entity buys its own slice of `products` products."""
    bought = {a: {f"P{i:03d}" for i in range(products) if i % 4 == k} for k, a in enumerate(("H", "C0", "C1", "C2"))}
    bought["C0"] |= {"P000"}  # shared with H
    b = tmp_path / "sets"
    write(b / "accounts.csv", "account_id,name,parent_id\nH,Head,\nC0,Zero,H\nC1,One,H\nC2,Two,C1\n")
    rows = [f"{a}-{p},{a},{p},won,10,2026-01-0{1 + k}" for k, (a, ps) in enumerate(bought.items()) for p in sorted(ps)]
    write(b / "deals.csv", "deal_id,account_id,product,stage,amount,close_date\n" + "\n".join(rows) + "\n")
    return b, bought


def test_product_sets_past_one_mask_word_and_new_products_in_a_refresh(workspace, tmp_path: Path) -> None:
    """Sets are bit masks of 62 products per word (accountree.kpi.bits): lists, group unions and
    cross-sell gaps must not depend on where a product's bit falls, nor on the refresh path."""
    bundle, bought = _sets_bundle(tmp_path, 62)  # exactly one word
    import_bundle(workspace, [str(bundle)])
    from accountree.hierarchy.stage import build_hierarchy

    build_hierarchy(workspace)
    save_rules(workspace, "cross_sell: {max_per_entity: 500}\n")
    build_kpis(workspace, AS_OF)

    def check() -> None:
        k = {r["account_id"]: r for r in table_rows(workspace, "account_kpis")}
        for a, ps in bought.items():
            assert (k[a]["products"], k[a]["products_count"]) == ("; ".join(sorted(ps)), len(ps)), a
        g = {r["account_id"]: r for r in table_rows(workspace, "group_kpis")}
        assert g["H"]["products"] == "; ".join(sorted(set().union(*bought.values())))
        assert g["C1"]["products"] == "; ".join(sorted(bought["C1"] | bought["C2"]))
        everything = set().union(*bought.values())
        gaps = {(a, p) for a, ps in bought.items() for p in everything - ps}
        assert {(r["account_id"], r["product"]) for r in table_rows(workspace, "cross_sell", "account_id,product")} == gaps

    check()
    # a 63rd product arrives: it needs a second word, so the refresh rebuilds every mask
    workspace.engine.execute("INSERT INTO deals (deal_id, account_id, product, stage, amount, amount_rc, close_date) "
                             "VALUES ('n1', 'C2', 'Z-new', 'won', 5, 5, ?)", [date(2026, 2, 1)])
    bought["C2"].add("Z-new")
    refresh_accounts(workspace, ["C2"], AS_OF)
    assert workspace.engine.scalar("SELECT max(word) FROM kpi_product_bits") == 1
    check()
    # a 64th product fits the second word: the ordinary refresh path, equal to a full rebuild
    workspace.engine.execute("INSERT INTO deals (deal_id, account_id, product, stage, amount, amount_rc, close_date) "
                             "VALUES ('n2', 'C0', 'A-first', 'won', 5, 5, ?)", [date(2026, 3, 1)])
    bought["C0"].add("A-first")
    refresh_accounts(workspace, ["C0"], AS_OF)
    check()
    tables = {"account_kpis": "account_id", "group_kpis": "account_id", "cross_sell": "account_id,product"}
    incremental = {t: table_rows(workspace, t, key) for t, key in tables.items()}
    build_kpis(workspace, AS_OF)
    check()
    assert incremental == {t: table_rows(workspace, t, key) for t, key in tables.items()}


def test_icp_grade_from_scores_moves_the_cross_sell_score(workspace, tmp_path: Path) -> None:
    valmont(workspace, tmp_path)
    workspace.engine.execute("CREATE TABLE scores (account_id VARCHAR, grade VARCHAR)")
    workspace.engine.execute("INSERT INTO scores VALUES ('U', 'A'), ('G', 'D'), ('F', 'F')")
    build_kpis(workspace, AS_OF)
    targets = {(r["account_id"], r["product"]): (r["score"], r["icp_grade"]) for r in cross_sell(workspace, "G", 100)}
    assert targets[("U", "P2")] == (67.6, "A")  # 60.1 + 15 · (1 - 0.5)
    assert targets[("G", "P1")] == (56.5, "D")  # 58.0 + 15 · (0.4 - 0.5)
    assert targets[("F", "P3")] == (44.2, "F")  # 51.7 - 15 · 0.5: F is the worst fit (it counted 0.5, above D)
    assert targets[("L", "P3")] == (38.6, None)  # no grade: 0.5


def test_refresh_keeps_the_cross_sell_rows_only_when_nothing_they_read_changed(workspace, tmp_path: Path,
                                                                              monkeypatch) -> None:
    """The refresh skips the cross-sell step when the scope's product sets, group, parent, size,
    pipeline and grades are unchanged; every edit below must still leave what a full build writes."""
    from accountree.kpi import refresh

    valmont(workspace, tmp_path)
    workspace.engine.execute("CREATE TABLE scores (account_id VARCHAR, grade VARCHAR)")
    workspace.engine.execute("INSERT INTO scores VALUES ('U', 'A'), ('G', 'D'), ('F', 'F')")
    build_kpis(workspace, AS_OF)
    created: list[str] = []
    create = refresh._create
    monkeypatch.setattr(refresh, "_create", lambda ws, table, *a: (created.append(table), create(ws, table, *a))[1])
    tables = ("kpi_account_products", "account_kpis", "group_kpis", "cross_sell")
    keys = {"kpi_account_products": "account_id,product", "cross_sell": "account_id,product"}

    def refreshed_as_built(account: str, change: str) -> bool:
        workspace.engine.execute(change)
        created.clear()
        refresh_accounts(workspace, [account], AS_OF)
        incremental = {t: table_rows(workspace, t, keys.get(t, "account_id")) for t in tables}
        build_kpis(workspace, AS_OF)
        assert incremental == {t: table_rows(workspace, t, keys.get(t, "account_id")) for t in tables}, change
        return "kpi_r_new_kpi_cross_sell" in created

    # a won deal's amount: revenue moves, the product sets do not — the cross-sell rows stand
    assert not refreshed_as_built("F", "UPDATE deals SET amount_rc = amount_rc + 7 WHERE deal_id = 'd1'")
    assert not refreshed_as_built("U", "UPDATE deals SET amount_rc = 5 WHERE deal_id = 'd5'")  # a lost deal
    # an open deal's amount: the view reads the pipeline amount, the rows only whether there is one
    assert not refreshed_as_built("U", "UPDATE deals SET amount_rc = 4000 WHERE deal_id = 'd4'")
    assert {r["open_pipeline"] for r in table_rows(workspace, "cross_sell") if r["account_id"] == "U"} == {4000}
    # what cross-sell reads: open deals where there were none, a grade, a size, a product set
    assert refreshed_as_built("F", "INSERT INTO deals (deal_id, account_id, product, stage, amount, amount_rc) "
                                   "VALUES ('d11', 'F', 'P1', 'proposal', 10, 10)")
    assert refreshed_as_built("U", "UPDATE scores SET grade = 'C' WHERE account_id = 'U'")
    assert refreshed_as_built("G", "DELETE FROM scores WHERE account_id = 'G'")
    assert refreshed_as_built("L", "UPDATE accounts SET employees = 9000 WHERE account_id = 'L'")
    assert refreshed_as_built("L", "UPDATE deals SET product = 'P2' WHERE deal_id = 'd3'")


def test_refresh_reads_the_scope_deals_through_an_index(workspace, tmp_path: Path) -> None:
    from accountree.kpi.refresh import DEALS_INDEX

    valmont(workspace, tmp_path)
    build_kpis(workspace, AS_OF)
    workspace.engine.execute("UPDATE deals SET amount_rc = 1100 WHERE deal_id = 'd1'")
    refresh_accounts(workspace, ["F"], AS_OF)
    refresh_accounts(workspace, ["F"], AS_OF)  # the index is created once
    assert account_kpis(workspace, "F")["revenue_cy"] == 1100
    assert group_rollup(workspace, "G")["revenue_cy"] == 1100
    indexes = ("SELECT count(*) FROM duckdb_indexes() WHERE index_name = ? AND schema_name = ?"
               if workspace.engine.name == "duckdb" else
               "SELECT count(*) FROM pg_indexes WHERE indexname = ? AND schemaname = ?")  # tests run in parallel schemas
    assert workspace.engine.scalar(indexes, [DEALS_INDEX, workspace.engine.schema]) == 1
    # the products view, asked for some accounts, reads their deals through that index too
    # (its filter on the deals is a HAVING: the id filter is the scan's only filter)
    lookup = "SELECT * FROM kpi_account_products WHERE account_id IN ('F', 'L')"
    if workspace.engine.name == "duckdb":  # DuckDB picks the index when it runs the scan
        plan = "\n".join(r[1] for r in workspace.engine.fetchall(f"EXPLAIN ANALYZE {lookup}"))
    else:
        workspace.engine.execute("SET enable_seqscan = off")  # a tiny table: the planner would rather scan it
        plan = "\n".join(r[0] for r in workspace.engine.fetchall(f"EXPLAIN {lookup}"))
        workspace.engine.execute("RESET enable_seqscan")
    assert "Index Scan" in plan, plan


def test_refresh_indexes_the_hierarchy_once(workspace, tmp_path: Path) -> None:
    """`accountree build` creates the refreshes' lookup indexes once committed, so no refresh waits
    for them. On PostgreSQL the hierarchy stage indexes its tables; those serve instead of a copy
    of each (DuckDB: the stage adds none, the build's after-commit step does)."""
    from accountree.build import BuildOptions, build
    from accountree.kpi.refresh import LOOKUPS

    valmont(workspace, tmp_path)
    for child, parent, relation, pct in LINKS:
        workspace.engine.execute("INSERT INTO relationships (child_id, parent_id, relation, ownership_pct, source) "
                                 "VALUES (?, ?, ?, ?, 'crm')", [child, parent, relation, pct])
    first = build(workspace, BuildOptions(as_of=AS_OF, stages=["hierarchy", "kpis"]))
    names = workspace.engine.index_names()
    ours = [n for n in names if n.startswith(("kpi_ix_", "kpi_deals_"))]
    assert first["kpis"]["refresh_indexes"] == len(ours) > 0
    tables = {t for t, _ in LOOKUPS if t != "scores"}  # no scoring stage here
    assert tables <= {t for t, c in LOOKUPS if f"kpi_ix_{t}_{c}" in names or f"ix_{t}_{c}" in names} | {"deals"}
    assert "kpi_deals_account_id" in names
    # a second build replaces the tables it computes (their indexes go with them), not its inputs
    again = build(workspace, BuildOptions(as_of=AS_OF, stages=["hierarchy", "kpis"]))
    kept = {"kpi_deals_account_id", "kpi_ix_activities_account_id"}
    assert kept <= names
    assert again["kpis"]["refresh_indexes"] == first["kpis"]["refresh_indexes"] - len(kept)
    assert workspace.engine.index_names() == names
    refresh_accounts(workspace, ["F"], AS_OF)
    assert workspace.engine.index_names() == names  # nothing left for the refresh to create
    names = workspace.engine.index_names()
    for table, column in (("hierarchy", "account_id"), ("hierarchy", "group_head_id"),
                          ("hierarchy_closure", "ancestor_id"), ("hierarchy_closure", "descendant_id")):
        ours, stage = f"kpi_ix_{table}_{column}", f"ix_{table}_{column}"
        assert (ours in names, stage in names) == ((False, True) if workspace.engine.name == "postgres"
                                                   else (True, False))
    assert account_kpis(workspace, "F")["revenue_cy"] == 1000


def test_a_build_grades_the_cross_sell_with_its_own_scores_and_rescoring_regrades_it(workspace, tmp_path: Path) -> None:
    """Scores run before the KPIs in a build, so the cross-sell targets count this build's ICP
    grades (they used to count none on a first build, the previous build's afterwards); scoring
    again outside a build regrades them."""
    from accountree.build import BuildOptions, build
    from accountree.demo import generate_bundle
    from accountree.kpi.pipeline import regrade_cross_sell
    from accountree.scoring import score_workspace

    generate_bundle(tmp_path / "demo", accounts=300, seed=7, reference_date=AS_OF)
    import_bundle(workspace, [str(tmp_path / "demo")])
    build(workspace, BuildOptions(as_of=AS_OF, stages=["hierarchy", "scores", "kpis"]))
    differ = ("SELECT count(*) FROM kpi_cross_sell x LEFT JOIN scores s ON s.account_id = x.account_id "
              "WHERE x.icp_grade IS DISTINCT FROM s.grade")
    graded = workspace.engine.scalar("SELECT count(*) FROM kpi_cross_sell WHERE icp_grade IS NOT NULL")
    assert graded > 0 and workspace.engine.scalar(differ) == 0

    before = {(r[0], r[1]): (r[2], r[3]) for r in workspace.engine.fetchall(
        "SELECT account_id, product, score, entity_rank FROM kpi_cross_sell")}
    workspace.engine.execute("UPDATE scores SET grade = 'A'")  # as a new grid or model would
    assert regrade_cross_sell(workspace) == len(before)
    after = {(r[0], r[1]): (r[2], r[3], r[4]) for r in workspace.engine.fetchall(
        "SELECT account_id, product, score, entity_rank, icp_grade FROM cross_sell")}
    assert set(after) == set(before)  # same targets, same ranks: the grade does not rank them
    assert all(after[k][1] == before[k][1] and after[k][2] == "A" and after[k][0] >= before[k][0] for k in before)
    assert any(after[k][0] > before[k][0] for k in before)

    result = score_workspace(workspace, AS_OF)  # the grades back from the grid; the rows follow
    assert result["cross_sell_regraded"] == len(before) and workspace.engine.scalar(differ) == 0


def test_a_manual_link_refreshes_the_kpis_of_the_groups_it_touches(workspace, tmp_path: Path) -> None:
    """`accountree link` / `unlink` rebuild the hierarchy and refresh the KPIs of the child and
    of the groups it leaves and joins (roll-ups used to wait for the next build)."""
    from accountree.build import BuildOptions, build
    from accountree.hierarchy.service import link, unlink

    b = tmp_path / "b"
    write(b / "accounts.csv", "account_id,name\nH1,Head One\nS1,Sub One\nS2,Sub Two\nH2,Head Two\nT1,Sub Three\n")
    write(b / "relationships.csv", "child_id,parent_id,relation\nS1,H1,subsidiary\nS2,H1,subsidiary\nT1,H2,subsidiary\n")
    write(b / "deals.csv", "deal_id,account_id,product,stage,amount,currency,close_date\n"
          "d1,S1,P1,won,1000,EUR,2026-03-01\nd2,S2,P1,won,500,EUR,2026-03-01\nd3,T1,P2,won,200,EUR,2026-03-01\n"
          "d4,H2,P2,won,50,EUR,2026-03-01\n")
    import_bundle(workspace, [str(b)])
    build(workspace, BuildOptions(as_of=AS_OF, stages=["hierarchy", "kpis"]))

    def revenue() -> dict[str, float]:
        return dict(workspace.engine.fetchall("SELECT account_id, revenue_cy FROM group_kpis"))

    assert revenue() == {"H1": 1500, "H2": 250}
    change = link(workspace, "S1", "H2")
    assert change["kpis"]["groups"] == 2
    assert revenue() == {"H1": 500, "H2": 1250}
    assert workspace.engine.scalar("SELECT group_head_id FROM account_kpis WHERE account_id = 'S1'") == "H2"
    unlink(workspace, "S2")  # H1 is left alone: no group row any more
    assert revenue() == {"H2": 1250}
    tables = {"account_kpis": "account_id", "group_kpis": "account_id", "cross_sell": "account_id,product"}
    refreshed = {t: table_rows(workspace, t, key) for t, key in tables.items()}
    build_kpis(workspace, AS_OF)  # a full build gives the same rows
    assert refreshed == {t: table_rows(workspace, t, key) for t, key in tables.items()}
