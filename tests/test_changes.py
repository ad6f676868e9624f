"""Changes announce, capabilities react (`accountree.changes`)."""

from __future__ import annotations

from contextlib import contextmanager

import accountree.changes as changes
from accountree.changes import Reaction, changed, changing

LOG: list[str] = []


@contextmanager
def _around(ws, change):
    LOG.append(f"enter {','.join(change.accounts)}")
    yield
    LOG.append("leave")


REACTIONS = [
    Reaction("one", "counts the accounts", after=lambda ws, c: LOG.append("one") or len(c.accounts)),
    Reaction("quiet", "returns nothing", after=lambda ws, c: LOG.append("quiet")),
    Reaction("graded", "grades only", after=lambda ws, c: LOG.append("graded") or "regraded", kinds=("grades",)),
    Reaction("wrapped", "around the write", around=_around),
]


def test_reactions_run_in_order_skip_their_writer_and_filter_by_kind(monkeypatch):
    monkeypatch.setattr(changes, "REACTION_MODULES", ("tests.test_changes",))
    LOG.clear()
    assert changed(None, ["A", "B"]) == {"one": 2}  # None results are not reported; `around` needs `changing`
    assert LOG == ["one", "quiet"]
    LOG.clear()
    assert changed(None, ["A"], by="one") == {} and LOG == ["quiet"]
    LOG.clear()
    assert changed(None, [], what="grades") == {"graded": "regraded"} and LOG == ["graded"]
    LOG.clear()
    with changing(None, ["A"], groups=True) as out:
        LOG.append("write")
    assert LOG == ["enter A", "write", "one", "quiet", "leave"] and out == {"one": 1}


def test_the_shipped_reactions_are_found():
    names = {r.name for r in changes.reactions()}
    assert {"kpis", "cross_sell", "api"} <= names
