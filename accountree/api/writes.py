"""What users edit from the API and the pages. Each write checks the caller may see the record,
changes it and leaves an audit record, in one transaction.

Capability services (duplicate decisions in `accountree.resolve`, manual links in
`accountree.hierarchy`) are called when they are installed; until then the endpoint answers 409
with a hint instead of pretending.
"""

from __future__ import annotations

import functools
import importlib
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from accountree.api.deps import Context
from accountree.api.readmodel import kept_current
from accountree.api.reads.common import FeatureUnavailableError
from accountree.api.reads.stakeholders import BUYING_ROLES
from accountree.api.server import is_retryable
from accountree.errors import ConfigError, NotFoundError

F = TypeVar("F", bound=Callable[..., Any])
# A write that met a concurrent one on the same rows (DuckDB: two edits of one account's 360 row)
# was rolled back whole: it is run again, from a fresh snapshot, before answering 409.
WRITE_ATTEMPTS = 4
# Writes that rebuild the whole hierarchy (links, merges) hold this key too: one at a time.
HIERARCHY_KEY = "*hierarchy"


def retried(fn: F) -> F:
    @functools.wraps(fn)
    def run(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return fn(ctx, *args, **kwargs)
            except Exception as err:
                if attempt == WRITE_ATTEMPTS or not is_retryable(err):
                    raise
                time.sleep(random.uniform(0.005, 0.03) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    return run  # type: ignore[return-value]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _service(module: str, name: str, what: str):
    try:
        fn = getattr(importlib.import_module(module), name, None)
    except ModuleNotFoundError:
        fn = None
    if fn is None:
        raise FeatureUnavailableError(f"{what} is not available in this installation yet",
                                      hint=f"It arrives with `{module}.{name}`; update accountree.")
    return fn


def _account_of(ctx: Context, table: str, key: str, value: str) -> list[str]:
    rows = ctx.engine.fetchall(f"SELECT account_id FROM {table} WHERE {key} = ?", [value])  # noqa: S608 - fixed names
    return [r[0] for r in rows if r[0]]


@retried
def set_buying_role(ctx: Context, contact_id: str, role: str) -> dict[str, Any]:
    if role not in BUYING_ROLES:
        raise ConfigError(f"unknown buying role {role!r}", hint=f"Roles: {', '.join(BUYING_ROLES)}.")
    # The scoped reader decides whether the caller may see (hence edit) this contact.
    if not ctx.reader.scalar("SELECT count(*) FROM contacts WHERE contact_id = ?", [contact_id]):
        raise NotFoundError(f"no contact {contact_id!r}")
    set_role = _service("accountree.kam.stakeholders", "set_buying_role", "editing buying roles")
    accounts = _account_of(ctx, "contacts", "contact_id", contact_id)
    with ctx.server.records_locked(accounts, ctx.engine), ctx.engine.transaction(), kept_current(ctx.ws, accounts):
        result = set_role(ctx.ws, contact_id, role, ctx.principal.username)
        ctx.audit("set_buying_role", "contact", contact_id, {"buying_role": role})
    ctx.server.changed()  # again after the commit: a read racing the write may have cached the old state
    return {"contact_id": contact_id, "buying_role": role, "result": result}


@retried
def ack_alert(ctx: Context, alert_id: str, note: str | None) -> dict[str, Any]:
    if not ctx.reader.has("kam_alerts"):
        raise FeatureUnavailableError("alerts have not been computed in this workspace yet",
                                      hint="Run `accountree build` (or `accountree demo`) and reload.")
    if not ctx.reader.scalar("SELECT count(*) FROM kam_alerts WHERE alert_id = ?", [alert_id]):
        raise NotFoundError(f"no alert {alert_id!r}")
    acknowledge = _service("accountree.kam.alerts", "acknowledge", "acknowledging alerts")
    accounts = _account_of(ctx, "kam_alerts", "alert_id", alert_id)
    with ctx.server.records_locked(accounts, ctx.engine), ctx.engine.transaction(), kept_current(ctx.ws, accounts):
        result = acknowledge(ctx.ws, alert_id, ctx.principal.username)
        ctx.audit("ack_alert", "alert", alert_id, {"note": note} if note else None)
    ctx.server.changed()
    return {"alert_id": alert_id, "acknowledged_by": ctx.principal.username, "result": result}


@retried
def decide_duplicate(ctx: Context, pair_id: str, decision: str) -> dict[str, Any]:
    """Accept (merge), reject or skip a duplicate pair through the resolver's review service."""
    if decision not in ("accept", "reject", "skip"):
        raise ConfigError(f"decision must be accept, reject or skip, not {decision!r}")
    if not ctx.reader.has("duplicate_candidates"):
        raise FeatureUnavailableError("the duplicate review queue has not been computed yet",
                                      hint="Run `accountree build` (or `accountree resolve`) and reload.")
    decide = _service("accountree.resolve.service", "decide", "deciding on duplicates")
    pair = ctx.engine.fetchall("SELECT account_id_l, account_id_r FROM duplicate_candidates WHERE pair_id = ?", [pair_id])
    accounts = [a for a in (pair[0] if pair else ()) if a]
    # the whole hierarchy is rebuilt on a merge: one at a time across every server and CLI
    keys = [*accounts, *([HIERARCHY_KEY] if decision == "accept" else [])]
    with ctx.server.records_locked(keys, ctx.engine), ctx.engine.transaction(), \
            kept_current(ctx.ws, accounts, whole_groups=decision == "accept"):
        result = decide(ctx.ws, pair_id, decision, user=ctx.principal.username)
        ctx.audit(f"duplicate_{decision}", "duplicate_pair", pair_id, {"result": result})
    ctx.server.changed()
    return {"pair_id": pair_id, "decision": decision, "result": result}


@retried
def add_link(ctx: Context, child_id: str, parent_id: str, relation: str, ownership_pct: float | None) -> dict[str, Any]:
    """A manual parent link (Sales Ops' fix of the hierarchy); the hierarchy is rebuilt at once."""
    for account in (child_id, parent_id):
        if not ctx.reader.scalar("SELECT count(*) FROM accounts WHERE account_id = ?", [account]):
            raise NotFoundError(f"no account {account!r}")
    link = _service("accountree.hierarchy.service", "link", "editing hierarchy links")
    with ctx.server.records_locked([child_id, parent_id, HIERARCHY_KEY], ctx.engine), ctx.engine.transaction(), \
            kept_current(ctx.ws, [child_id, parent_id], whole_groups=True):
        result = link(ctx.ws, child_id, parent_id, relation=relation, ownership_pct=ownership_pct,
                      user=ctx.principal.username)
        ctx.audit("add_link", "account", child_id, {"parent_id": parent_id, "relation": relation,
                                                     "ownership_pct": ownership_pct})
    ctx.server.catalog.expire()
    ctx.server.changed()
    return {"child_id": child_id, "parent_id": parent_id, "relation": relation, "result": result}
