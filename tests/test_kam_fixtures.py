"""A hand-made KAM bundle (no tests here): the Thales-like group used by every test_kam* file.

As of 2026-11-23, the current year is (2025-11-23, 2026-11-23].
- G1 Thales (group head, alice): won 100 000 this year, 80 000 last year; a 59-day won cycle.
- TAS Thales Alenia Space (child of G1, alice): potential_3y field "600 000 €"; 3 open deals;
  CEO without a role, champion Marie Curie who left on 2026-10-01, a CIO influencer, a purchaser,
  a CFO who started on 2026-10-15. D3 carries MEDDIC columns (metrics, champion).
- SUB Thales Services (child of G1, bob): one open deal created 2025-12-01, activity since.
- ACME (bob): 50 000 this year vs 100 000 last year.
- LONE: no owner, nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from accountree.ingest import import_bundle
from accountree.store import Workspace, open_workspace
from tests.conftest import PG_AVAILABLE, PG_URL, write

AS_OF = date(2026, 11, 23)

ACCOUNTS = """account_id,name,parent_id,is_group_head,owner,potential_3y
G1,Thales,,true,alice,
TAS,Thales Alenia Space,G1,,alice,600 000 €
SUB,Thales Services,G1,,bob,
ACME,Acme Industries,,,bob,
LONE,Lone Startup,,,,
"""

DEALS = """deal_id,account_id,stage,amount,currency,created_at,close_date,owner,metrics,champion
D1,G1,won,100000,EUR,2026-01-01,2026-03-01,alice,,
D2,G1,won,80000,EUR,2025-01-10,2025-06-01,alice,,
D3,TAS,proposal,200000,EUR,2026-02-01,2026-12-31,alice,cut costs,Marie Curie
D4,TAS,negotiation,50000,EUR,2026-03-01,2027-01-31,alice,,
D5,TAS,discovery,10000,EUR,2026-09-01,2027-03-31,alice,,
D6,ACME,won,50000,EUR,2026-05-01,2026-06-01,bob,,
D7,ACME,won,100000,EUR,2025-03-01,2025-04-01,bob,,
D8,SUB,qualification,20000,EUR,2025-12-01,2026-12-31,bob,,
"""

CONTACTS = """contact_id,account_id,name,title,buying_role,reports_to,start_date,end_date
C1,TAS,Jean Dupont,CEO,,,,
C2,TAS,Marie Curie,CMO,champion,C1,,2026-10-01
C3,TAS,Paul Martin,CIO,influencer,C1,,
C4,TAS,Anne Petit,Acheteuse,buyer,C3,,
C5,TAS,Luc Noir,Directeur Financier,other,C1,2026-10-15,
"""

ACTIVITIES = """activity_id,account_id,date,type,weight,contact_id
X1,TAS,2026-11-01,meeting,3,C3
X2,TAS,2026-06-01,email_click,1,C3
X3,TAS,2026-01-10,meeting,1,C4
X4,TAS,2026-10-20,meeting,1,C1
X5,SUB,2026-07-01,web_visit,1,
X6,SUB,2026-08-01,web_visit,1,
X7,SUB,2026-10-01,meeting,1,
"""


def load(ws: Workspace, folder: Path, **replace: str) -> None:
    """Import the bundle; `replace` swaps a table's CSV text (e.g. contacts=...)."""
    tables = {"accounts": ACCOUNTS, "deals": DEALS, "contacts": CONTACTS, "activities": ACTIVITIES, **replace}
    for name, text in tables.items():
        write(folder / f"{name}.csv", text)
    import_bundle(ws, [str(folder)])


def build(ws: Workspace, as_of: date = AS_OF) -> dict:
    from accountree.build import BuildOptions
    from accountree.kam.stage import run

    return run(ws, BuildOptions(as_of=as_of, stages=["kam"]))


def row(ws: Workspace, account_id: str, scope: str = "account") -> dict:
    (found,) = ws.engine.fetch_dicts("SELECT * FROM kam_accounts WHERE account_id = ? AND scope = ?", [account_id, scope])
    return found


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def built_ws(request, tmp_path_factory) -> Iterator[Workspace]:
    """The bundle imported and built once per test module and engine, for tests that only read."""
    folder = tmp_path_factory.mktemp("kam")
    schema = None
    if request.param == "duckdb":
        location = str(folder / "ws.duckdb")
    else:
        if not PG_AVAILABLE:
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL does not answer at {PG_URL}")
            pytest.skip(f"PostgreSQL does not answer at {PG_URL}")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        location = f"{PG_URL}?schema={schema}"
    ws = open_workspace(location)
    try:
        load(ws, folder / "bundle")
        build(ws)
        yield ws
    finally:
        ws.close()
        if schema:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as con:
                con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
