"""Every field that can carry a person, role × object × field (issue 17, item 2).

A BU member sees shared people and their own BU's, never another BU's private people — not as a
record, and not through a field of a record they may see: a MEDDIC champion or economic buyer
inferred from contacts, a colleague's `reports_to`, an activity's `contact_id`, an alert's subject
or reason, the org chart. Checked on the read model and on the live queries, on both engines.

The account A2 has people of every kind: shared ones (no seller BU), Software's and Services'.
Two fields point across BUs on purpose: a shared person and a Software person report to a
Services manager, and a Software activity was logged against a Services person.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from accountree.api import create_app
from accountree.api.access import person_masks, scope_sql, table_rules
from accountree.api.auth import add_user, new_token
from accountree.build import BuildOptions, build
from accountree.ingest import import_bundle
from accountree.kam.meddic import meddic
from accountree.store import open_workspace
from tests.conftest import write
from tests.test_api_fixtures import AS_OF, PASSWORD, USERS, Api, _drop, _location

V1 = "/api/v1"
BUNDLE = {
    "seller_bus.csv": "bu_id,name,sales_cycle_days\nbu_soft,Software,90\nbu_serv,Services,120\n",
    "accounts.csv": "account_id,name,parent_id,country,industry,employees,annual_revenue,is_group_head\n"
                    "G1,Groupe Quartz SA,,FR,Energy,5000,500000000,true\n"
                    "A2,Quartz Énergie SAS,G1,FR,Energy,800,90000000,\n",
    "deals.csv": "deal_id,account_id,seller_bu,stage,amount,close_date\n"
                 "D-SOFT-OPEN,A2,bu_soft,proposal,80000,2027-02-01\n"
                 "D-SERV-OPEN,A2,bu_serv,proposal,40000,2027-03-01\n"
                 "D-SOFT-WON,A2,bu_soft,won,50000,2026-05-01\n",
    "contacts.csv": (
        "contact_id,account_id,name,title,buying_role,reports_to,start_date,end_date,seller_bu\n"
        "P-SHARED-CFO,A2,Anne Partagée,Directrice financière,influencer,,2022-01-01,,\n"
        "P-SHARED-OPS,A2,Bruno Commun,Responsable exploitation,user,P-SERV-BOSS,2022-01-01,,\n"
        "P-SOFT-CH,A2,Sophie Logicielle,DSI adjointe,champion,P-SERV-BOSS,2023-01-01,,bu_soft\n"
        "P-SERV-BOSS,A2,Serge Patronservices,Directeur général délégué,economic_buyer,,2021-01-01,,bu_serv\n"
        "P-SERV-CH,A2,Sylvain Championservices,Responsable achats,champion,P-SERV-BOSS,2023-01-01,,bu_serv\n"
        "P-SERV-GONE,A2,Gaston Partiservices,Acheteur,champion,,2022-01-01,2026-10-20,bu_serv\n"
    ),
    "activities.csv": "activity_id,account_id,date,type,topic,contact_id,seller_bu\n"
                      "ACT-SOFT-1,A2,2026-10-01,meeting,kick-off,P-SERV-CH,bu_soft\n"
                      "ACT-SOFT-2,A2,2026-10-02,call,follow-up,P-SOFT-CH,bu_soft\n"
                      "ACT-SERV-1,A2,2026-10-03,meeting,review,P-SERV-CH,bu_serv\n",
}
SERV_PEOPLE = ["P-SERV-BOSS", "P-SERV-CH", "P-SERV-GONE", "Serge Patronservices", "Sylvain Championservices",
               "Gaston Partiservices"]
SOFT_PEOPLE = ["P-SOFT-CH", "Sophie Logicielle"]
HIDDEN = {"soft": SERV_PEOPLE, "serv": SOFT_PEOPLE}
PERSON_EXPORTS = ("contacts", "activities", "meddic", "stakeholders", "alerts")


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request, tmp_path_factory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp(f"people_{request.param}")
    location, schema = _location(request.param, tmp)
    ws = open_workspace(location)
    try:
        for name, text in BUNDLE.items():
            write(tmp / "bundle" / name, text)
        import_bundle(ws, [str(tmp / "bundle")])
        build(ws, BuildOptions(as_of=AS_OF))
        tokens = {}
        for username, (role, bu) in USERS.items():
            add_user(ws, username, role, PASSWORD, bu)
            tokens[username] = new_token(ws, username)
        with TestClient(create_app(ws), raise_server_exceptions=False) as client:
            yield Api(client, tokens, ws)
    finally:
        ws.close()
        _drop(schema)


def _live(api: Api) -> None:
    """Make the server fall back to the live queries: any edit outside a build changes the stamp."""
    api.ws.engine.execute("INSERT INTO workspace_meta (key, value) VALUES (?, ?)", [f"x.{uuid.uuid4().hex}", "1"])


def _meddic(body: dict) -> dict[str, dict]:
    return {m["deal_id"]: m for m in body["meddic"]["data"]}


def _people(body: dict) -> dict[str, dict]:
    return {p["contact_id"]: p for p in body["stakeholders"]["data"]}


def _export(api: Api, name: str, user: str, fmt: str = "json") -> list[dict]:
    response = api.get(f"{V1}/exports/{name}?format={fmt}", user=user)
    assert response.status_code == 200, (name, response.text)
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(response.text)))
    body = response.json()
    return body["items"] if isinstance(body, dict) else body


def test_meddic_is_inferred_only_from_people_the_deals_bu_may_see(api: Api) -> None:
    for path in ("read model", "live"):
        if path == "live":
            _live(api)
        soft = _meddic(api.get(f"{V1}/accounts/A2", user="soft").json())
        assert set(soft) == {"D-SOFT-OPEN"}, path
        assert (soft["D-SOFT-OPEN"]["champion"], soft["D-SOFT-OPEN"]["champion_source"]) == (
            "Sophie Logicielle", "inferred from contacts"), path
        assert soft["D-SOFT-OPEN"]["economic_buyer"] is None, path  # Serge is Services' private person
        assert "Economic buyer" in soft["D-SOFT-OPEN"]["gaps"], path
        serv = _meddic(api.get(f"{V1}/accounts/A2", user="serv").json())
        assert set(serv) == {"D-SERV-OPEN"}, path
        assert serv["D-SERV-OPEN"]["champion"] == "Sylvain Championservices", path  # Gaston left
        assert serv["D-SERV-OPEN"]["economic_buyer"] == "Serge Patronservices", path
        corp = _meddic(api.get(f"{V1}/accounts/A2", user="corp").json())
        assert {k: v["champion"] for k, v in corp.items()} == {
            "D-SOFT-OPEN": "Sophie Logicielle", "D-SERV-OPEN": "Sylvain Championservices"}, path
    # the live MEDDIC of one deal (CLI `accountree meddic`) follows the same rule
    one = meddic(api.ws, "D-SOFT-OPEN", AS_OF)
    assert (one["champion"], one["economic_buyer"]) == ("Sophie Logicielle", None)


@pytest.mark.parametrize("source", ["read model", "live"])
def test_reports_to_never_names_another_bus_private_person(api: Api, source: str) -> None:
    if source == "live":
        _live(api)
    soft = _people(api.get(f"{V1}/accounts/A2", user="soft").json())
    assert set(soft) == {"P-SHARED-CFO", "P-SHARED-OPS", "P-SOFT-CH"}
    assert soft["P-SHARED-OPS"]["reports_to"] is None and soft["P-SOFT-CH"]["reports_to"] is None
    serv = _people(api.get(f"{V1}/accounts/A2", user="serv").json())
    assert set(serv) == {"P-SHARED-CFO", "P-SHARED-OPS", "P-SERV-BOSS", "P-SERV-CH", "P-SERV-GONE"}
    assert serv["P-SHARED-OPS"]["reports_to"] == "P-SERV-BOSS" and serv["P-SERV-CH"]["reports_to"] == "P-SERV-BOSS"
    for user in ("corp", "admin", "viewer"):  # corporate roles see every link, as stored
        every = _people(api.get(f"{V1}/accounts/A2", user=user).json())
        assert {k: v["reports_to"] for k, v in every.items() if v["reports_to"]} == {
            "P-SHARED-OPS": "P-SERV-BOSS", "P-SOFT-CH": "P-SERV-BOSS", "P-SERV-CH": "P-SERV-BOSS"}, user


def test_org_chart_and_stakeholders_page(api: Api) -> None:
    body = api.get(f"{V1}/accounts/A2/stakeholders", user="soft")
    assert body.status_code == 200
    assert not [s for s in SERV_PEOPLE if s in body.text]
    serv = api.get(f"{V1}/accounts/A2/stakeholders", user="serv").text
    assert "P-SERV-BOSS" in serv and "Sophie Logicielle" not in serv


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_exports_matrix_person_fields(api: Api, fmt: str) -> None:
    """role × export × person field: contacts.reports_to, activities.contact_id, stakeholders.reports_to,
    meddic.champion / economic_buyer, alerts.subject / reason."""
    def by(rows: list[dict], key: str) -> dict[str, dict]:
        return {r[key]: r for r in rows}

    def none(value) -> None:
        return None if value in (None, "") else value

    soft = {name: _export(api, name, "soft", fmt) for name in PERSON_EXPORTS}
    assert {k: none(r["reports_to"]) for k, r in by(soft["contacts"], "contact_id").items()} == {
        "P-SHARED-CFO": None, "P-SHARED-OPS": None, "P-SOFT-CH": None}
    assert {k: none(r["contact_id"]) for k, r in by(soft["activities"], "activity_id").items()} == {
        "ACT-SOFT-1": None, "ACT-SOFT-2": "P-SOFT-CH"}
    assert {k: none(r["reports_to"]) for k, r in by(soft["stakeholders"], "contact_id").items()} == {
        "P-SHARED-CFO": None, "P-SHARED-OPS": None, "P-SOFT-CH": None}
    assert {(r["deal_id"], none(r["champion"]), none(r["economic_buyer"])) for r in soft["meddic"]} == {
        ("D-SOFT-OPEN", "Sophie Logicielle", None)}
    assert not [r for r in soft["alerts"] if r["kind"] in ("champion_lost", "stakeholder_left", "new_executive")]
    serv = {name: _export(api, name, "serv", fmt) for name in PERSON_EXPORTS}
    assert {k: none(r["contact_id"]) for k, r in by(serv["activities"], "activity_id").items()} == {
        "ACT-SERV-1": "P-SERV-CH"}
    assert by(serv["contacts"], "contact_id")["P-SHARED-OPS"]["reports_to"] == "P-SERV-BOSS"
    assert {(r["deal_id"], r["champion"], r["economic_buyer"]) for r in serv["meddic"]} == {
        ("D-SERV-OPEN", "Sylvain Championservices", "Serge Patronservices")}
    gone = [r for r in serv["alerts"] if r["subject"] == "P-SERV-GONE"]
    assert [r["kind"] for r in gone] == ["champion_lost"]
    assert "Gaston Partiservices" in gone[0]["reason"] and "1 other champion(s) in place" in gone[0]["reason"]
    corp = {name: _export(api, name, "corp", fmt) for name in PERSON_EXPORTS}
    assert by(corp["activities"], "activity_id")["ACT-SOFT-1"]["contact_id"] == "P-SERV-CH"
    assert by(corp["contacts"], "contact_id")["P-SOFT-CH"]["reports_to"] == "P-SERV-BOSS"
    for user, hidden in HIDDEN.items():
        for name in PERSON_EXPORTS:
            text = api.get(f"{V1}/exports/{name}?format={fmt}", user=user).text
            assert not [s for s in hidden if s in text], (user, name)


def test_alerts_about_private_people_and_counts_of_champions(api: Api) -> None:
    for user, hidden in HIDDEN.items():
        for path in (f"{V1}/alerts", f"{V1}/accounts/A2", f"{V1}/overview"):
            text = api.get(path, user=user).text
            assert not [s for s in hidden if s in text], (user, path)
    assert "Gaston Partiservices" in api.get(f"{V1}/alerts", user="serv").text


def test_no_get_endpoint_names_another_bus_people(api: Api) -> None:
    """The whole GET surface (every route of the schema, every export) for each BU member."""
    fill = {"account_id": "A2", "group_id": "G1", "campaign_id": "x", "alert_id": "x", "contact_id": "P-SOFT-CH",
            "pair_id": "x"}
    import re

    urls = [re.sub(r"{(\w+)}", lambda m: fill.get(m.group(1), "x"), p)
            for p, ops in api.client.app.openapi()["paths"].items() if "get" in ops and not p.endswith("/{name}")]
    urls += [f"{V1}/exports/{e['name']}?format={f}" for e in api.get(f"{V1}/exports").json()["items"]
             for f in ("json", "csv")]
    for source in ("read model", "live"):
        if source == "live":
            _live(api)
        for user, hidden in HIDDEN.items():
            for url in urls:
                response = api.get(url, user=user)
                assert response.status_code < 500, (url, response.text)
                leaked = [s for s in hidden if s in response.text and s not in url]
                assert not leaked, f"{user} sees {leaked} at {url} ({source})"


def test_person_masks_cover_every_person_column() -> None:
    columns = {"contacts": ("contact_id", "reports_to", "seller_bu"), "activities": ("activity_id", "contact_id", "seller_bu"),
               "kam_stakeholders": ("contact_id", "reports_to"), "kam_alerts": ("alert_id", "contact_id"),
               "deals": ("deal_id", "seller_bu"), "leads": ("lead_id", "contact_id", "seller_bu")}
    masks = {t: m for t, m, _ in person_masks(columns)}
    # kam_alerts follows its contact (rows filtered whole): nothing to mask; the others name a person
    assert masks == {"contacts": ("reports_to",), "activities": ("contact_id",), "kam_stakeholders": ("reports_to",),
                     "leads": ("contact_id",)}
    sql = scope_sql("SELECT reports_to FROM contacts", "bu_x", table_rules(columns), person_masks(columns))
    assert "EXISTS" in sql and "'bu_x'" in sql
    assert scope_sql("SELECT reports_to FROM contacts", None, frozenset()) == "SELECT reports_to FROM contacts"
