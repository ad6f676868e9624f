"""The read model on a small generated demo (every BU, group, alert, timestamp and money column the
demo produces), on DuckDB and PostgreSQL: for a corporate user and a member of each BU, the model's
account 360s, trees and group views are the live queries' answers, and a BU member's read of the
model carries no other BU's private record."""

from __future__ import annotations

import json
from datetime import date

import pytest

from accountree.api import readmodel
from accountree.api.access import Principal, ScopedReader
from accountree.api.reads import accounts, groups
from accountree.api.server import Server, to_json_bytes
from accountree.build import BuildOptions, build
from accountree.demo import generate_bundle
from accountree.ingest import import_bundle
from accountree.store.sql import table_comments_sql

REF = date(2026, 11, 23)


def _pick(engine, sql: str, params: list | None = None) -> list[str]:
    return [r[0] for r in engine.fetchall(sql, params)]


@pytest.fixture
def demo(workspace, tmp_path):
    result = generate_bundle(tmp_path / "demo", accounts=120, seed=5, reference_date=REF)
    import_bundle(workspace, [str(result.out_dir)])
    build(workspace, BuildOptions(as_of=REF))
    return workspace


def test_the_read_model_of_a_demo_answers_like_the_live_queries(demo) -> None:
    engine = demo.engine
    assert readmodel.state(engine)[0]
    # accounts with several BUs' records, with alerts, with the most contacts; group heads
    ids = _pick(engine, "SELECT account_id FROM api_account_records GROUP BY account_id "
                        "ORDER BY count(*) DESC, account_id LIMIT 6")
    ids += _pick(engine, "SELECT DISTINCT account_id FROM kam_alerts ORDER BY account_id LIMIT 3")
    ids += _pick(engine, "SELECT account_id FROM contacts GROUP BY account_id ORDER BY count(*) DESC, account_id LIMIT 3")
    heads = _pick(engine, "SELECT account_id FROM hierarchy WHERE descendants > 0 "
                          "ORDER BY descendants DESC, account_id LIMIT 3")
    ids = list(dict.fromkeys(ids + heads))
    bus = _pick(engine, "SELECT DISTINCT seller_bu FROM deals WHERE seller_bu IS NOT NULL ORDER BY 1")
    assert len(bus) >= 2 and len(ids) >= 8
    server = Server(demo)
    private = {bu: set(_pick(engine, "SELECT deal_id FROM deals WHERE seller_bu = ?", [bu])) for bu in bus}
    for principal in [Principal("corp", "corporate")] + [Principal(f"m_{bu}", "bu_member", bu) for bu in bus]:
        live = ScopedReader(engine, principal, server.catalog, read_model=False)
        model = ScopedReader(engine, principal, server.catalog, read_model=True)
        for account_id in ids:
            got = json.loads(accounts.account_360_json(model, account_id))
            expected = json.loads(to_json_bytes(accounts.live_account_360(live, account_id)))
            assert got.keys() == expected.keys()
            # JSON columns come as text; PostgreSQL's live reads re-serialise it (`json.dumps` spacing)
            got["account"]["attributes"], expected["account"]["attributes"] = (
                json.loads(x["account"]["attributes"] or "null") for x in (got, expected))
            for section in expected:
                assert got[section] == expected[section], (principal, account_id, section)
            if principal.bu_id:  # a member's 360 names none of another BU's deals
                seen = {d["deal_id"] for d in got["deals"]["data"]}
                assert not seen & set().union(*(d for bu, d in private.items() if bu != principal.bu_id))
        for head in heads:
            assert json.loads(to_json_bytes(groups.tree(model, head, head, 2))) == \
                json.loads(to_json_bytes(groups.tree(live, head, head, 2))), (principal, head)
            assert json.loads(to_json_bytes(groups.group_view(model, head))) == \
                json.loads(to_json_bytes(groups.group_view(live, head))), (principal, head)


def test_table_comments_are_read_on_each_engine(workspace) -> None:
    engine = workspace.engine
    engine.execute("CREATE TABLE t (x DOUBLE)")
    engine.execute("COMMENT ON TABLE t IS 'a mark'")
    assert dict(engine.fetchall(table_comments_sql(engine.dialect)))["t"] == "a mark"
