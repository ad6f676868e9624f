"""Changes announce, capabilities react.

A write (a link, a merge, an edited deal, new grades) announces what it touched with
`changed(ws, accounts, groups=…, what=…, by=…)`, or wraps itself in `with changing(…):`; each
capability that keeps something derived from those rows reacts, plugged in like build stages:
a module listed in `REACTION_MODULES` with `REACTIONS = [Reaction(...)]`. The writer imports
nothing of the capabilities above it (the hierarchy does not import the KPIs, the KPIs not the API).

- `after(ws, change)`: runs once the write is done, in its transaction; its result (when not
  None) is returned under the reaction's name (a KPI refresh's summary);
- `around(ws, change)`: a context manager entered before the write and left after it and after
  every `after` reaction (the API's read model compares before and after). Only `changing` runs it.

`what` says what changed: "rows" (accounts, deals, activities, links: the default) or "grades"
(scores: the KPIs' cross-sell counts each entity's grade). `by` names the capability that wrote:
its own reactions are skipped (it has done its part).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from accountree.plugins import capability_modules
from accountree.store import Workspace

REACTION_MODULES = ("accountree.kpi.reactions", "accountree.changes_api")


@dataclass(frozen=True)
class Change:
    accounts: tuple[str, ...]
    groups: bool = False  # links or merges: every member of the accounts' groups, before and after
    what: str = "rows"  # "rows" | "grades"
    by: str | None = None
    as_of: date | None = None  # None: the last build's (`accountree.build.build_as_of`)


@dataclass(frozen=True)
class Reaction:
    name: str
    description: str
    after: Callable[[Workspace, Change], Any] | None = None
    around: Callable[[Workspace, Change], AbstractContextManager[None]] | None = None
    kinds: tuple[str, ...] = ("rows",)  # the `what`s it reacts to


def reactions() -> list[Reaction]:
    return [r for module in capability_modules(REACTION_MODULES) for r in module.REACTIONS]


def _concerned(change: Change) -> list[Reaction]:
    return [r for r in reactions() if change.what in r.kinds and r.name != change.by]


def _after(ws: Workspace, change: Change, out: dict[str, Any]) -> None:
    for reaction in _concerned(change):
        if reaction.after is not None:
            result = reaction.after(ws, change)
            if result is not None:
                out[reaction.name] = result


def changed(ws: Workspace, accounts: Iterable[str], groups: bool = False, *, what: str = "rows",
            by: str | None = None, as_of: date | None = None) -> dict[str, Any]:
    """After a write: every capability's `after` reaction; returns their results by name."""
    out: dict[str, Any] = {}
    _after(ws, Change(tuple(accounts), groups, what, by, as_of), out)
    return out


@contextmanager
def changing(ws: Workspace, accounts: Iterable[str], groups: bool = False, *, what: str = "rows",
             by: str | None = None, as_of: date | None = None) -> Iterator[dict[str, Any]]:
    """Around a write: `around` reactions enter, the write runs, then the `after` reactions (their
    results fill the dict yielded), then the `around` reactions leave."""
    change = Change(tuple(accounts), groups, what, by, as_of)
    out: dict[str, Any] = {}
    with ExitStack() as stack:
        for reaction in _concerned(change):
            if reaction.around is not None:
                stack.enter_context(reaction.around(ws, change))
        yield out
        _after(ws, change, out)
