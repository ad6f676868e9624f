"""`arg_max(arg, key)` / `arg_min` give the same answer on every engine (DuckDB's aggregates;
PostgreSQL's ordered `array_agg`, `store.sql._postgres_arg_max`): the abm stage's account teams
take the owner of each (account, BU)'s latest deal by it."""

from __future__ import annotations

from accountree.store.sql import transpile

ROWS = """(VALUES
    ('g1', 'o1', DATE '2024-01-01', 'D1'), ('g1', 'o2', DATE '2024-01-02', 'D0'), ('g1', 'o3', DATE '2024-01-02', 'D2'),
    ('g1', NULL, DATE '2024-05-01', 'D9'),
    ('g2', 'o4', NULL, 'D5'), ('g2', 'o5', NULL, 'D6'),
    ('g3', 'o6', NULL, 'D1'), ('g3', 'o7', DATE '2020-01-01', 'D0'),
    ('g4', NULL, DATE '2020-01-01', 'D0')
) t(g, owner, day, deal_id)"""

QUERY = ("SELECT g, arg_max(owner, (coalesce(day, DATE '-infinity'), deal_id)) AS latest, "
         "arg_min(owner, deal_id) AS first_id, arg_min(owner, day) AS first_day "
         f"FROM {ROWS} GROUP BY g ORDER BY g")


def test_arg_max_is_the_same_on_every_engine(workspace) -> None:
    # the greatest (day, deal id), a NULL day least; rows with a NULL arg or key skipped
    assert workspace.engine.fetchall(QUERY) == [("g1", "o3", "o2", "o1"), ("g2", "o5", "o4", None),
                                                ("g3", "o7", "o7", "o7"), ("g4", None, None, None)]


def test_postgresql_gets_an_ordered_array_agg() -> None:
    (sql,) = transpile(QUERY, "postgres")
    assert "ARG_MAX" not in sql.upper() and "ARG_MIN" not in sql.upper()
    assert "ARRAY_AGG(owner ORDER BY day ASC) FILTER(WHERE NOT owner IS NULL AND NOT (day IS NULL)))[1]" in sql
