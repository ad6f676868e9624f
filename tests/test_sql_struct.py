"""A packed struct's JSON is the same text on every engine (the API read model's row objects:
DuckDB's `struct_pack`, PostgreSQL's row of named fields, `store.sql._postgres_row`)."""

from __future__ import annotations

import json

from accountree.store.sql import transpile

OBJECT = ("SELECT CAST(to_json(struct_pack(\"deal id\" := v.x, n := v.y, d := v.z, amount := v.a)) AS VARCHAR) "
          "FROM (SELECT 'say \"hi\"' AS x, CAST(NULL AS VARCHAR) AS y, DATE '2024-01-02' AS z, 12.5 AS a) v")


def test_a_packed_struct_is_the_same_json_text_on_every_engine(workspace) -> None:
    (text,) = workspace.engine.fetchone(OBJECT)
    assert text == '{"deal id":"say \\"hi\\"","n":null,"d":"2024-01-02","amount":12.5}'
    assert list(json.loads(text)) == ["deal id", "n", "d", "amount"]


def test_postgresql_gets_a_row_of_named_fields_not_a_struct() -> None:
    (sql,) = transpile(OBJECT, "postgres")
    assert "STRUCT" not in sql.upper()
    assert 'SELECT v.x AS "deal id", v.y AS "n", v.z AS "d", v.a AS "amount"' in sql
