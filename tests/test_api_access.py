"""Seller-BU scoping, endpoint × role: no endpoint returns what the caller may not see.

The matrix walks every GET route of the OpenAPI schema (and every export) for every role, so an
endpoint added later is covered without editing this file.
"""

from __future__ import annotations

import re

import pytest
import sqlglot

from accountree.api.access import Principal, scope_sql, table_rules
from accountree.errors import PermissionDeniedError
from tests import test_api_fixtures as fx
from tests.test_api_fixtures import PRIVATE, Api

api = fx.api  # module-scoped fixture: the built two-BU workspace

V1 = "/api/v1"
RULES = table_rules({"deals": ("deal_id", "seller_bu"), "contacts": ("contact_id", "seller_bu"),
                     "campaigns": ("campaign_id", "seller_bu"), "campaign_accounts": ("campaign_id", "account_id"),
                     "kam_meddic": ("deal_id", "account_id"), "products": ("product_id", "seller_bu"),
                     "accounts": ("account_id",)})


def _norm(sql: str) -> str:
    return sqlglot.parse_one(sql, read="duckdb").sql(dialect="duckdb")


def test_rules_follow_seller_bu_and_owning_records() -> None:
    assert dict(RULES) == {"deals": "own", "contacts": "own", "campaigns": "own", "campaign_accounts": "campaigns",
                           "kam_meddic": "deals"}


def test_scope_rewrites_every_reference_and_keeps_aliases() -> None:
    sql = scope_sql("SELECT d.deal_id, a.name FROM deals d JOIN accounts a ON a.account_id = d.account_id "
                    "WHERE d.account_id IN (SELECT account_id FROM deals)", "bu_x", RULES)
    assert sql.count('"seller_bu" = \'bu_x\'') == 2
    assert "AS d" in sql and "accounts AS a" in sql
    assert _norm(scope_sql("SELECT * FROM accounts", "bu_x", RULES)) == _norm("SELECT * FROM accounts")
    contacts = scope_sql("SELECT * FROM contacts", "bu_x", RULES)
    assert '"seller_bu" IS NULL' in contacts  # shared people stay visible
    meddic = scope_sql("SELECT * FROM kam_meddic", "bu_x", RULES)
    assert """"deal_id" IN (SELECT "deal_id" FROM "deals" WHERE "seller_bu" = 'bu_x')""" in meddic
    cte = scope_sql("WITH deals AS (SELECT 1 AS x) SELECT * FROM deals", "bu_x", RULES)
    assert "seller_bu" not in cte
    quoted = scope_sql("SELECT * FROM deals", "x' OR '1'='1", RULES)
    assert "'x'' OR ''1''=''1'" in quoted  # the BU id is a literal, never SQL
    assert scope_sql("SELECT * FROM deals", None, RULES) == "SELECT * FROM deals"


def test_scoped_reader_refuses_writes() -> None:
    with pytest.raises(PermissionDeniedError):
        scope_sql("DELETE FROM deals", "bu_x", RULES)


def test_roles() -> None:
    assert Principal("a", "admin").sees_all_bus and Principal("c", "corporate").scope_bu is None
    assert Principal("m", "bu_member", "bu_x").scope_bu == "bu_x"
    assert Principal("m", "bu_member").scope_bu == ""  # no BU: no private record at all
    assert Principal("r", "read_only", "bu_x").scope_bu == "bu_x" and not Principal("r", "read_only").can_write


def _get_urls(api: Api) -> list[str]:
    fill = {"account_id": "A2", "group_id": "G1", "campaign_id": "CMP-SERV", "alert_id": "x", "contact_id": "C3",
            "pair_id": "PAIR-1", "conflict_id": "x", "lead_id": "L-SERV"}
    urls = []
    for path, ops in api.client.app.openapi()["paths"].items():
        if "get" not in ops or path.endswith("/exports/{name}"):
            continue
        urls.append(re.sub(r"{(\w+)}", lambda m: fill[m.group(1)], path))
    exports = [e["name"] for e in api.get(f"{V1}/exports").json()["items"]]
    urls += [f"{V1}/exports/{name}?format=json" for name in exports]
    urls += [f"{V1}/campaigns/CMP-SOFT", f"{V1}/groups/G1/tree?root=A2&depth=2", f"{V1}/accounts/A2/stakeholders",
             f"{V1}/accounts?bu=bu_serv", f"{V1}/accounts?bu=bu_soft"]
    return urls


@pytest.mark.parametrize("user, other_bu", [("soft", "bu_serv"), ("serv", "bu_soft")])
def test_no_endpoint_leaks_another_bus_records(api: Api, user: str, other_bu: str) -> None:
    seen_statuses = set()
    for url in _get_urls(api):
        response = api.get(url, user=user)
        seen_statuses.add(response.status_code)
        assert response.status_code < 500, (url, response.text)
        leaked = [s for s in PRIVATE[other_bu] if s in response.text and s not in url]  # 404s echo the id asked
        assert not leaked, f"{user} sees {leaked} at {url}"
    assert 200 in seen_statuses


@pytest.mark.parametrize("user", ["admin", "corp", "viewer"])
def test_corporate_roles_see_every_bu(api: Api, user: str) -> None:
    texts = "".join(api.get(url, user=user).text for url in _get_urls(api))
    for secrets in PRIVATE.values():
        assert all(s in texts for s in secrets), user


def test_bu_member_sees_own_records_and_a_summary_of_the_others(api: Api) -> None:
    body = api.get(f"{V1}/accounts/A2", user="soft").json()
    assert {d["deal_id"] for d in body["deals"]["data"]} == {"D-SOFT-1"}
    assert {p["contact_id"] for p in body["stakeholders"]["data"]} == {"C1", "C2"}  # C1 is shared
    assert [c["campaign_id"] for c in body["campaigns"]["data"]] == ["CMP-SOFT"]
    assert [o["summary"] for o in body["other_bus"]] == ["Services: 1 deals, 2 activities, 1 contacts"]
    # shared account data is the same for everyone
    assert body["kpis"] == api.get(f"{V1}/accounts/A2", user="corp").json()["kpis"]
    assert body["hierarchy"] == api.get(f"{V1}/accounts/A2", user="serv").json()["hierarchy"]


def test_bu_member_cannot_open_or_edit_another_bus_records(api: Api) -> None:
    denied = api.get(f"{V1}/campaigns/CMP-SERV", user="soft")
    assert denied.status_code == 404 and denied.json()["error"] == "NotFoundError"
    assert api.get(f"{V1}/campaigns/CMP-SERV", user="serv").status_code == 200
    assert [c["campaign_id"] for c in api.get(f"{V1}/campaigns", user="soft").json()["items"]] == ["CMP-SOFT"]
    edit = api.put(f"{V1}/contacts/C3/buying-role", user="soft", json={"buying_role": "blocker"})
    assert edit.status_code == 404
    assert api.put(f"{V1}/contacts/C2/buying-role", user="soft", json={"buying_role": "champion"}).status_code == 200
    assert api.get(f"{V1}/users", user="soft").status_code == 403


def test_alerts_about_a_bus_people_follow_that_bu(api: Api) -> None:
    """A KAM alert about a person is seen by who may see the person; account alerts by everyone."""
    def alerts(user: str, path: str = f"{V1}/accounts/A2") -> dict[str, dict]:
        body = api.get(path, user=user).json()
        items = body["alerts"]["data"] if "alerts" in body else body["items"]
        return {a["alert_id"]: a for a in items}

    serv = alerts("serv")
    left = [a for a in serv.values() if a["kind"] == "stakeholder_left" and a["subject"] == "C3"]
    assert left and "Sébastien Servicier" in left[0]["reason"]
    assert alerts("soft", f"{V1}/alerts")  # alerts about an account (cross-sell, …) are for both BUs
    for path in (f"{V1}/accounts/A2", f"{V1}/alerts", f"{V1}/alerts?account_id=A2"):
        assert set(alerts("soft", path)) == set(alerts("serv", path)) - {left[0]["alert_id"]}, path
        assert left[0]["alert_id"] in alerts("corp", path), path
    # and a BU member cannot acknowledge what they cannot see
    assert api.post(f"{V1}/alerts/{left[0]['alert_id']}/ack", user="soft", json={}).status_code == 404
    assert scope_sql("SELECT * FROM kam_alerts", "bu_x", table_rules(
        {"contacts": ("contact_id", "seller_bu"), "kam_alerts": ("alert_id", "contact_id")})).count("IS NULL") == 2


def test_every_field_that_can_carry_a_person_is_scoped(api: Api) -> None:
    """Object × field: a column naming a person either decides which rows a BU member reads (the row
    follows its contact or deal) or is masked when it names another BU's private contact. A table
    added later with such a column is checked here too. Field-level values: test_api_people_access.py."""
    from accountree.api.access import PERSON_COLUMNS, TableCatalog, person_masks

    columns = TableCatalog().columns(api.ws.engine)
    rules, masks = dict(table_rules(columns)), {t: m for t, m, _ in person_masks(columns)}
    fields = {(t, c) for t, cols in columns.items() for c in cols if c in (*PERSON_COLUMNS, "champion", "economic_buyer")}
    assert {("contacts", "reports_to"), ("activities", "contact_id"), ("kam_stakeholders", "reports_to"),
            ("kam_meddic", "champion"), ("kam_alerts", "contact_id")} <= fields
    for table, column in sorted(fields):
        if column in ("champion", "economic_buyer"):
            assert rules.get(table) == "deals", (table, column)  # MEDDIC rows follow their deal
        elif column == "contact_id" and (table == "contacts" or rules.get(table) == "contacts"):
            continue  # the row itself follows the contact
        else:
            assert column in masks.get(table, ()), (table, column)
