"""The API read model's reaction to a change (`accountree.changes`), until `accountree/api/`
ships it as `accountree.api.reactions` (then: list that module in `REACTION_MODULES`, delete this one)."""

from __future__ import annotations

from contextlib import AbstractContextManager

from accountree.changes import Change, Reaction
from accountree.store import Workspace


def _kept_current(ws: Workspace, change: Change) -> AbstractContextManager[None]:
    try:
        from accountree.api.readmodel import kept_current
    except ImportError:  # the server extra is not installed: no read model to keep
        from contextlib import nullcontext

        return nullcontext()
    return kept_current(ws, list(change.accounts), whole_groups=change.groups)


REACTIONS = [Reaction("api", "the API read model's rows of the accounts (and their groups) follow",
                      around=_kept_current, kinds=("rows",))]
