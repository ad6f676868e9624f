"""ABM on real data: SAP's sample bike wholesaler (../shared/data/sap-bikes-sales, Apache-2.0), product
categories as seller BUs, sales orders split by category as deals (C won, X lost, I open)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from accountree.build import BuildOptions, build
from accountree.ingest import import_bundle
from tests.conftest import SHARED_DATA

SAP = SHARED_DATA / "sap-bikes-sales" / "SAP_Sample_Content"
AS_OF = date(2021, 5, 2)  # the last completed order; later 'I' orders are dated up to 2035


def sap_bundle(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"""CREATE VIEW items AS SELECT * FROM read_csv('{SAP / "Sales/SalesOrderItems.csv"}', delim=';',
                        all_varchar=true)""")
        con.execute(f"""CREATE VIEW orders AS SELECT * FROM read_csv('{SAP / "Sales/SalesOrders.csv"}', delim=';',
                        all_varchar=true)""")
        con.execute(f"""CREATE VIEW products AS SELECT * FROM read_csv('{SAP / "FI/Products.csv"}', all_varchar=true)""")
        con.execute(f"""CREATE VIEW partners AS SELECT * FROM read_csv('{SAP / "Sales/BusinessPartners.csv"}', delim=';',
                        all_varchar=true)""")
        con.execute(f"""COPY (SELECT PARTNERID AS account_id, COMPANYNAME AS name, WEBADDRESS AS website FROM partners)
                        TO '{out / "accounts.csv"}' (HEADER)""")
        con.execute(f"""COPY (SELECT DISTINCT 'cat_' || p.PRODUCTCATEGORYID AS bu_id, p.PRODUCTCATEGORYID AS name
                        FROM products p WHERE p.PRODUCTCATEGORYID <> '#') TO '{out / "seller_bus.csv"}' (HEADER)""")
        con.execute(f"""COPY (
            SELECT o.SALESORDERID || '-' || p.PRODUCTCATEGORYID AS deal_id, o.PARTNERID AS account_id,
                'cat_' || p.PRODUCTCATEGORYID AS seller_bu, min(i.PRODUCTID) AS product,
                CASE o.LIFECYCLESTATUS WHEN 'C' THEN 'won' WHEN 'X' THEN 'lost' ELSE 'proposal' END AS stage,
                round(sum(CAST(replace(i.NETAMOUNT, ',', '.') AS DOUBLE)), 2) AS amount, o.CURRENCY AS currency,
                strptime(o.CREATEDAT, '%Y%m%d')::DATE AS created_at,
                CASE WHEN o.LIFECYCLESTATUS IN ('C', 'X') THEN strptime(o.CHANGEDAT, '%Y%m%d')::DATE END AS close_date,
                'emp' || o.CREATEDBY AS owner
            FROM orders o JOIN items i USING (SALESORDERID) JOIN products p USING (PRODUCTID)
            WHERE p.PRODUCTCATEGORYID <> '#'
            GROUP BY ALL) TO '{out / "deals.csv"}' (HEADER)""")
    finally:
        con.close()
    return out


@pytest.mark.skipif(not SAP.exists(), reason="../shared/data/sap-bikes-sales is absent (real data, not committed)")
def test_abm_on_sap_bikes(duckdb_workspace, tmp_path):
    ws = duckdb_workspace
    import_bundle(ws, [str(sap_bundle(tmp_path / "sap"))])
    build(ws, BuildOptions(as_of=AS_OF, stages=["hierarchy", "abm"]))
    accounts = ws.engine.scalar("SELECT count(*) FROM accounts")
    assert ws.engine.scalar("SELECT count(*) FROM abm_accounts WHERE scope = 'account'") == accounts
    # every account gets one class, and every multi-BU one a lead BU with its reason
    assert ws.engine.scalar("SELECT count(*) FROM abm_accounts WHERE priority_class IS NULL OR reason IS NULL") == 0
    assert ws.engine.scalar("SELECT count(*) FROM abm_accounts WHERE bus_active_count >= 2 AND lead_bu IS NULL") == 0
    # every won deal attributed, to the cent
    won = ws.engine.fetchall("SELECT deal_id, CAST(round(amount_rc * 100) AS BIGINT) FROM deals WHERE stage = 'won' "
                             "AND close_date <= ? ORDER BY deal_id", [AS_OF])
    split = ws.engine.fetchall("SELECT deal_id, sum(amount_cents) FROM abm_attribution GROUP BY deal_id ORDER BY deal_id")
    assert split == won
