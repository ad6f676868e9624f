"""Key accounts are units (groups, or designated entities), and their wallet comes from what
comparable units spend with us — a high quantile per industry × size band × country, backing off
to coarser cells — not from a share of the customer's turnover. On DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from accountree.build import BuildOptions, build
from accountree.ingest import import_bundle
from accountree.kam.settings import set_setting
from accountree.kam.wallet import designate
from tests.conftest import write

AS_OF = date(2026, 11, 23)


def _bundle(folder: Path) -> None:
    accounts = ["account_id,name,parent_id,country,industry,employees,annual_revenue,is_group_head"]
    deals = ["deal_id,account_id,stage,amount,close_date"]
    for i in range(1, 11):  # ten comparable customers spending 10 000 … 100 000 this year
        # turnovers of 50 bn: a wallet modelled as a share of turnover would make every one Tier 1
        accounts.append(f"C{i:02d},Client {i:02d} SA,,FR,Energy,300,50000000000,")
        deals.append(f"D{i:02d},C{i:02d},won,{i * 10_000},2026-06-01")
    accounts += ["P1,Prospect Énergie,,FR,Energy,400,900000000,",   # same cell, no relationship
                 "DE1,Energie Deutschland GmbH,,DE,Energy,300,,",    # a cell of its own: backs off
                 "G,Groupe Gamma,,FR,Energy,100,,true", "S1,Gamma Sud,G,FR,Energy,200,,", "S2,Gamma Nord,G,FR,Energy,200,,"]
    deals.append("DG,S1,won,20000,2026-06-01")
    write(folder / "accounts.csv", "\n".join(accounts) + "\n")
    write(folder / "deals.csv", "\n".join(deals) + "\n")


def _rows(ws) -> dict[tuple[str, str], dict]:
    return {(r["scope"], r["account_id"]): r for r in ws.engine.fetch_dicts("SELECT * FROM kam_accounts")}


def test_wallet_is_a_high_quantile_of_comparable_units_spend(workspace, tmp_path: Path) -> None:
    _bundle(tmp_path / "b")
    import_bundle(workspace, [str(tmp_path / "b")])
    build(workspace, BuildOptions(as_of=AS_OF))
    rows = _rows(workspace)
    # the FR / Energy / 250–999 cell: 11 buying units (C01…C10, the Gamma group with 500 employees);
    # nearest-rank 80th percentile = the 9th of [10, 20, 20, 30 … 100] k = 80 000
    c03 = rows[("account", "C03")]
    assert c03["kam_unit"] and c03["wallet"] == pytest.approx(80_000)
    assert c03["potential_3y"] == pytest.approx(3 * 80_000)  # a customer can reach its peers' spend
    assert c03["potential_source"] == "peers: industry × size × country (q80 of 11)"
    assert c03["share_of_wallet"] == pytest.approx(30_000 / 80_000)
    assert rows[("account", "C10")]["potential_3y"] == pytest.approx(3 * 100_000)  # never below its own spend
    p1 = rows[("account", "P1")]  # a cold prospect reaches a fifth of the gap
    assert p1["potential_3y"] == pytest.approx(3 * 0.2 * 80_000) and p1["tier"] == 3
    de1 = rows[("account", "DE1")]  # no buying unit in Energy × 250–999 × DE: industry × size (11 + 0)
    assert de1["potential_source"] == "peers: industry × size (q80 of 11)" and de1["wallet"] == pytest.approx(80_000)
    group = rows[("group", "G")]
    assert group["kam_unit"] and group["potential_3y"] == pytest.approx(3 * 80_000)
    # tiers: no unit above 500 k: no Tier 1; Tier 2 = 20 % of the 11 active units, rounded up: the best 3
    units = {k[1]: r for k, r in rows.items() if r["kam_unit"]}
    assert sorted(a for a, r in units.items() if r["tier"] == 2) == ["C08", "C09", "C10"]
    assert not [a for a, r in units.items() if r["tier"] == 1]
    # entities carry their unit's tier and id
    assert {rows[("account", s)]["kam_unit_id"] for s in ("G", "S1", "S2")} == {"G"}
    assert {rows[("account", s)]["tier"] for s in ("G", "S1", "S2")} == {group["tier"]}


def test_a_designated_entity_is_its_own_unit_and_the_field_wins(workspace, tmp_path: Path) -> None:
    _bundle(tmp_path / "b")
    write(tmp_path / "b" / "accounts.csv", (tmp_path / "b" / "accounts.csv").read_text()
          .replace("account_id,name,parent_id,country,industry,employees,annual_revenue,is_group_head",
                   "account_id,name,parent_id,country,industry,employees,annual_revenue,is_group_head,potential_3y")
          .replace("Client 05 SA,,FR,Energy,300,50000000000,", "Client 05 SA,,FR,Energy,300,50000000000,,2 000 000"))
    import_bundle(workspace, [str(tmp_path / "b")])
    designate(workspace, "S1", "tester")
    set_setting(workspace, "tier1_share", "0.2")
    build(workspace, BuildOptions(as_of=AS_OF))
    rows = _rows(workspace)
    s1 = rows[("account", "S1")]
    assert s1["kam_unit"] and s1["kam_unit_id"] == "S1" and s1["revenue_12m"] == pytest.approx(20_000)
    assert rows[("group", "G")]["entities_total"] == 2  # G and S2 are left in the group's unit
    assert rows[("account", "S2")]["kam_unit_id"] == "G"
    c05 = rows[("account", "C05")]  # a given potential_3y comes first; 20 % of 12 customer units → 3 Tier 1 places
    assert (c05["potential_3y"], c05["potential_source"], c05["tier"]) == (2_000_000, "field", 1)
    designate(workspace, "S1", remove=True)
    build(workspace, BuildOptions(as_of=AS_OF))
    assert _rows(workspace)[("account", "S1")]["kam_unit_id"] == "G"
