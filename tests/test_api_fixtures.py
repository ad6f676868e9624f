"""A small two-BU workspace for the API and web tests, built once per module and engine.

Group Étoile (FR) has five entities, one of them a 50/50 joint venture with Nordwind AG. The
Software BU and the Services BU each own deals, a contact, activities, a campaign and a lead on
Étoile Énergie: what one BU owns must never reach the other's members.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accountree.api import create_app
from accountree.api.auth import add_user, new_token
from accountree.build import BuildOptions, build
from accountree.ingest import import_bundle
from accountree.store import Workspace, open_workspace
from tests.conftest import PG_AVAILABLE, PG_URL, write

AS_OF = date(2026, 11, 23)
PASSWORD = "correct-horse-42"
USERS = {"admin": ("admin", None), "corp": ("corporate", None), "soft": ("bu_member", "bu_soft"),
         "serv": ("bu_member", "bu_serv"), "viewer": ("read_only", None)}
# Records of each BU: a member of the other BU must never see these strings.
PRIVATE = {
    "bu_soft": ["D-SOFT-1", "D-SOFT-2", "Charlotte Logiciel", "CMP-SOFT", "Printemps SaaS", "L-SOFT", "soft-secret-topic"],
    "bu_serv": ["D-SERV-1", "D-SERV-2", "Sébastien Servicier", "CMP-SERV", "Automne Services", "L-SERV", "serv-secret-topic"],
}

BUNDLE = {
    "seller_bus.csv": "bu_id,name,sales_cycle_days\nbu_soft,Software,90\nbu_serv,Services,120\n",
    "products.csv": "product_id,name,family,seller_bu,list_price\nP1,Suite Logicielle,software,bu_soft,10000\n"
                    "P2,Pack Services,services,bu_serv,5000\n",
    "accounts.csv": (
        "account_id,name,parent_id,domain,country,industry,employees,annual_revenue,siren,lei,duns,is_group_head\n"
        "G1,Groupe Étoile SA,,etoile.fr,FR,Energy,12000,900000000,552120222,,,true\n"
        "A2,Étoile Énergie SAS,G1,etoile-energie.fr,FR,Energy,800,120000000,,,,\n"
        "A3,Étoile Deutschland GmbH,G1,etoile.de,DE,Energy,300,40000000,,,,\n"
        "A4,Étoile Réseaux Services,A2,,FR,Utilities,60,5000000,,,,\n"
        "J5,Étoile-Nordwind Offshore JV,,,DE,Energy,40,3000000,,,,\n"
        "N1,Nordwind AG,,nordwind.de,DE,Energy,2500,300000000,,,,true\n"
        "S1,Crème & Fils SAS,,cremefils.fr,FR,Food,45,9000000,,969500ABCDEFGHIJKL12,123456789,\n"
        "S2,Creme et Fils,,cremefils.fr,FR,Food,45,,,,,\n"
    ),
    "relationships.csv": "child_id,parent_id,relation,ownership_pct\nJ5,A2,joint_venture,50\nJ5,N1,joint_venture,50\n",
    "deals.csv": (
        "deal_id,account_id,seller_bu,product,stage,amount,gross_margin,close_date\n"
        "D-SOFT-1,A2,bu_soft,P1,won,100000,40000,2026-03-01\n"
        "D-SOFT-2,A3,bu_soft,P1,proposal,60000,,2027-01-15\n"
        "D-SERV-1,A2,bu_serv,P2,won,50000,20000,2025-06-01\n"
        "D-SERV-2,G1,bu_serv,P2,lost,30000,,2024-02-01\n"
    ),
    "contacts.csv": (
        "contact_id,account_id,name,title,buying_role,reports_to,start_date,end_date,seller_bu\n"
        "C1,A2,Amélie Décideur,Directrice financière,economic_buyer,,2023-01-01,,\n"
        "C2,A2,Charlotte Logiciel,DSI,champion,C1,2024-01-01,,bu_soft\n"
        # left a month before the build: a KAM alert about a Services person
        "C3,A2,Sébastien Servicier,Responsable achats,influencer,C1,2024-06-01,2026-10-15,bu_serv\n"
    ),
    "activities.csv": (
        "activity_id,account_id,date,type,topic,seller_bu\n"
        "AC1,A2,2026-10-01,web_visit,soft-secret-topic,bu_soft\n"
        "AC2,A2,2026-10-05,meeting,serv-secret-topic,bu_serv\n"
        "AC3,A2,2026-10-07,event,serv-secret-topic,bu_serv\n"
    ),
    "campaigns.csv": "campaign_id,name,seller_bu,channel,start_date,budget\n"
                     "CMP-SOFT,Printemps SaaS,bu_soft,email,2026-03-01,10000\n"
                     "CMP-SERV,Automne Services,bu_serv,event,2026-09-01,20000\n",
    "campaign_accounts.csv": "campaign_id,account_id\nCMP-SOFT,A2\nCMP-SERV,A2\nCMP-SERV,G1\n",
    "leads.csv": "lead_id,name,company,seller_bu,account_id\nL-SOFT,Jean Lead,Etoile,bu_soft,A2\n"
                 "L-SERV,Paul Lead,Etoile,bu_serv,A2\n",
}


def build_workspace(ws: Workspace, folder: Path) -> dict[str, str]:
    """Import the bundle, build every stage, queue one duplicate pair, create users; returns tokens."""
    for name, text in BUNDLE.items():
        write(folder / name, text)
    import_bundle(ws, [str(folder)])
    build(ws, BuildOptions(as_of=AS_OF))
    if ws.engine.table_exists("duplicate_candidates"):
        ws.engine.execute(
            "INSERT INTO duplicate_candidates (pair_id, account_id_l, account_id_r, match_probability, evidence, status, "
            "method, found_at) VALUES ('PAIR-1', 'S1', 'S2', 0.97, '{\"name\": \"close\", \"domain\": \"exact\"}', 'pending', 'test', "
            "TIMESTAMP '2026-11-23 10:00:00')")
    tokens = {}
    for username, (role, bu) in USERS.items():
        add_user(ws, username, role, PASSWORD, bu)
        tokens[username] = new_token(ws, username)
    return tokens


class Api:
    """A TestClient that knows each user's bearer token."""

    def __init__(self, client: TestClient, tokens: dict[str, str], ws: Workspace) -> None:
        self.client, self.tokens, self.ws = client, tokens, ws

    def get(self, path: str, user: str = "admin", **kw):
        return self.client.get(path, headers={"Authorization": f"Bearer {self.tokens[user]}"}, **kw)

    def post(self, path: str, user: str = "admin", **kw):
        return self.client.post(path, headers={"Authorization": f"Bearer {self.tokens[user]}"}, **kw)

    def put(self, path: str, user: str = "admin", **kw):
        return self.client.put(path, headers={"Authorization": f"Bearer {self.tokens[user]}"}, **kw)


def _location(engine: str, tmp: Path) -> tuple[str, str | None]:
    if engine == "duckdb":
        return str(tmp / "ws.duckdb"), None
    if not PG_AVAILABLE:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL does not answer at {PG_URL}")
        pytest.skip(f"PostgreSQL does not answer at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    return f"{PG_URL}?schema={schema}", schema


def _drop(schema: str | None) -> None:
    if schema:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request, tmp_path_factory) -> Iterator[Api]:
    """The two-BU workspace served in-process, on DuckDB and PostgreSQL."""
    tmp = tmp_path_factory.mktemp(f"api_{request.param}")
    location, schema = _location(request.param, tmp)
    ws = open_workspace(location)
    try:
        tokens = build_workspace(ws, tmp / "bundle")
        with TestClient(create_app(ws), raise_server_exceptions=False) as client:
            yield Api(client, tokens, ws)
    finally:
        ws.close()
        _drop(schema)


@pytest.fixture(scope="module")
def duck_api(tmp_path_factory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("api_duck")
    ws = open_workspace(str(tmp / "ws.duckdb"))
    try:
        tokens = build_workspace(ws, tmp / "bundle")
        with TestClient(create_app(ws), raise_server_exceptions=False) as client:
            yield Api(client, tokens, ws)
    finally:
        ws.close()


def test_fixture_bundle_builds_every_section(duck_api: Api) -> None:
    engine = duck_api.ws.engine
    for table in ("hierarchy", "account_kpis", "group_kpis", "scores", "kam_accounts", "duplicate_candidates"):
        assert engine.table_exists(table), table
    assert engine.scalar("SELECT group_head_id FROM hierarchy WHERE account_id = 'A4'") == "G1"
