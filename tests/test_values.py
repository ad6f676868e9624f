"""The value parsers of imports, cell by cell, as users' files write them."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import duckdb
import pytest


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute(resources.files("accountree.ingest").joinpath("values.sql").read_text(encoding="utf-8"))
    return c


@pytest.mark.parametrize(("text", "decimal_comma", "expected"), [
    ("1234", False, 1234), ("1500.5", False, 1500.5), ("1500.5", True, 1500.5), ("-3.5e3", False, -3500),
    ("1 234,56", True, 1234.56), ("1\u00a0234,56", True, 1234.56), ("1\u202f234", True, 1234),
    ("1.234,56", True, 1234.56), ("1,234.56", False, 1234.56), ("1,234", False, 1234), ("1.234", True, 1234),
    ("12,5", True, 12.5), ("1,5", False, 1.5), ("1 200 €", True, 1200), ("EUR 12", False, 12), ("$1,000", False, 1000),
    ("abc", False, None), ("", False, None), ("1,2,3", False, None),
])
def test_numbers(con, text, decimal_comma, expected) -> None:
    got = con.execute("SELECT at_number(?, ?)", [text, decimal_comma]).fetchall()[0][0]
    assert got == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(("text", "mdy", "expected"), [
    ("2026-11-23", False, dt.date(2026, 11, 23)), ("2026-11-23T10:00:00.000Z", False, dt.date(2026, 11, 23)),
    ("23/11/2026", False, dt.date(2026, 11, 23)), ("23.11.26", False, dt.date(2026, 11, 23)),
    ("1/2/2026", False, dt.date(2026, 2, 1)), ("1/2/2026", True, dt.date(2026, 1, 2)),
    ("31/02/2026", False, None), ("2026/3/5", False, dt.date(2026, 3, 5)), ("soon", False, None),
])
def test_dates(con, text, mdy, expected) -> None:
    assert con.execute("SELECT at_date(?, ?)", [text, mdy]).fetchall()[0][0] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("https://www.Acme.fr/contact?x=1", "acme.fr"), ("jane.doe@acme.co.uk", "acme.co.uk"),
    ("www2.acme.de:8080", "acme.de"), ("acme.fr.", "acme.fr"), ("n/a", None), ("acme", None),
])
def test_domains(con, text, expected) -> None:
    assert con.execute("SELECT at_domain(?)", [text]).fetchall()[0][0] == expected


def test_enumerations(con) -> None:
    row = con.execute("SELECT at_stage('Closed Won'), at_stage('Gagné'), at_stage('Perdu'), at_stage('Proposal'), "
                      "at_buying_role('Decision Maker'), at_relation('Joint Venture'), at_relation('filiale'), "
                      "at_boolean('Oui'), at_boolean('non'), at_boolean('peut-être'), at_percent('40 %', true), "
                      "at_percent('140', true), at_digits('732 829 320', 9), at_lei('5493001kjtiigc8y1r12')").fetchall()[0]
    assert row == ("won", "won", "lost", "Proposal", "economic_buyer", "joint_venture", "subsidiary", True, False,
                   None, 40.0, None, "732829320", "5493001KJTIIGC8Y1R12")
