"""What users change in ABM: lead-BU arbitrations, strategic marks, conflict states, substitute
products, team members, and each BU's private notes and plans.

Every function takes the acting `Principal` (`accountree.api.access`); `None` is the local
command line, acting as an admin under `current_user()`. Who may do what:

| action | admin / corporate | bu_member | read_only |
|---|---|---|---|
| lead BU, undo, strategic mark, substitutes | yes | no (the group ABM committee arbitrates) | no |
| conflict state | yes | only a conflict of their BU (involved or lead) | no |
| private note / plan | yes, naming the BU | only their own BU's | no |
| team member | yes | only a member of their own BU | no |
| AE → CSM handover of a won deal | yes | only a deal of their own BU | no |
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from accountree.api.access import Principal
from accountree.errors import ConfigError, NotFoundError, PermissionDeniedError
from accountree.store import Workspace, current_user

STATES = ("open", "arbitrated", "resolved")
ROLES = ("ae", "se", "csm", "group_account_manager")
SCOPES = ("account", "group")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _actor(principal: Principal | None) -> Principal:
    return principal or Principal(current_user(), "admin")


def _require_committee(actor: Principal) -> None:
    actor.require_write()
    if not actor.sees_all_bus:
        raise PermissionDeniedError(f"user {actor.username!r} is a BU member: only corporate users arbitrate between BUs",
                                    hint="Ask a corporate user (the group ABM committee).")


def _bu_for_write(actor: Principal, bu: str | None) -> str:
    """The BU a private record is written for: a BU member's own, or the one a corporate user names."""
    actor.require_write()
    if actor.sees_all_bus:
        if not bu:
            raise ConfigError("name the BU the record belongs to", hint="Pass --bu BU_ID.")
        return bu
    if bu and bu != actor.bu_id:
        raise PermissionDeniedError(f"user {actor.username!r} of {actor.bu_id!r} cannot write {bu!r}'s records")
    if not actor.bu_id:
        raise PermissionDeniedError(f"user {actor.username!r} belongs to no BU")
    return actor.bu_id


def _check_account(ws: Workspace, account_id: str) -> None:
    if not ws.engine.scalar("SELECT count(*) FROM accounts WHERE account_id = ?", [account_id]):
        raise NotFoundError(f"no account {account_id!r}", hint="Check the id with `accountree export accounts`.")


def _check_bu(ws: Workspace, bu: str) -> None:
    known = [r[0] for r in ws.engine.fetchall(
        "SELECT bu_id FROM seller_bus UNION SELECT seller_bu FROM deals WHERE seller_bu IS NOT NULL "
        "UNION SELECT seller_bu FROM activities WHERE seller_bu IS NOT NULL "
        "UNION SELECT seller_bu FROM campaigns WHERE seller_bu IS NOT NULL")]
    if bu not in known:
        raise ConfigError(f"no seller BU {bu!r}", hint=f"BUs: {', '.join(sorted(known)) or 'none imported'}.")


def current_lead(ws: Workspace, scope: str, account_id: str) -> str | None:
    if not ws.engine.table_exists("abm_accounts"):
        return None
    return ws.engine.scalar("SELECT lead_bu FROM abm_accounts WHERE scope = ? AND account_id = ?", [scope, account_id])


def set_lead_bu(ws: Workspace, account_id: str, bu: str, why: str, scope: str = "account",
                principal: Principal | None = None) -> dict[str, Any]:
    """Record a manual lead-BU decision: it wins over the rule from the next build until undone."""
    actor = _actor(principal)
    _require_committee(actor)
    if scope not in SCOPES:
        raise ConfigError(f"scope must be account or group, not {scope!r}")
    if not why or not why.strip():
        raise ConfigError("say why the lead BU is set by hand", hint='--why "…" is recorded with the decision.')
    _check_account(ws, account_id)
    _check_bu(ws, bu)
    row = {"decision_id": uuid.uuid4().hex, "scope": scope, "account_id": account_id, "lead_bu": bu,
           "previous_lead_bu": current_lead(ws, scope, account_id), "why": why.strip(),
           "decided_by": actor.username, "decided_at": _now()}
    ws.engine.execute(
        "INSERT INTO abm_lead_bu_decisions (decision_id, scope, account_id, lead_bu, previous_lead_bu, why, decided_by, "
        "decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", list(row.values()))
    return row


def undo_lead_bu(ws: Workspace, account_id: str, scope: str = "account",
                 principal: Principal | None = None) -> dict[str, Any]:
    """Undo the decision in force: the previous decision, else the rule, applies again."""
    actor = _actor(principal)
    _require_committee(actor)
    rows = ws.engine.fetch_dicts(
        "SELECT decision_id, lead_bu FROM abm_lead_bu_decisions WHERE scope = ? AND account_id = ? AND undone_at IS NULL "
        "ORDER BY decided_at DESC, decision_id DESC LIMIT 1", [scope, account_id])
    if not rows:
        raise NotFoundError(f"no lead-BU decision in force on {scope} {account_id!r}")
    ws.engine.execute("UPDATE abm_lead_bu_decisions SET undone_by = ?, undone_at = ? WHERE decision_id = ?",
                      [actor.username, _now(), rows[0]["decision_id"]])
    return {"decision_id": rows[0]["decision_id"], "undone_lead_bu": rows[0]["lead_bu"], "undone_by": actor.username}


def decisions(ws: Workspace, account_id: str | None = None) -> list[dict[str, Any]]:
    sql = ("SELECT decision_id, scope, account_id, lead_bu, previous_lead_bu, why, decided_by, decided_at, undone_by, "
           "undone_at FROM abm_lead_bu_decisions")
    if account_id:
        return ws.engine.fetch_dicts(sql + " WHERE account_id = ? ORDER BY decided_at, decision_id", [account_id])
    return ws.engine.fetch_dicts(sql + " ORDER BY decided_at, decision_id")


def mark_strategic(ws: Workspace, account_id: str, why: str | None, scope: str = "account", remove: bool = False,
                   principal: Principal | None = None) -> None:
    actor = _actor(principal)
    _require_committee(actor)
    _check_account(ws, account_id)
    with ws.engine.transaction():
        ws.engine.execute("DELETE FROM abm_strategic_marks WHERE scope = ? AND account_id = ?", [scope, account_id])
        if not remove:
            ws.engine.execute("INSERT INTO abm_strategic_marks (scope, account_id, why, marked_by, marked_at) "
                              "VALUES (?, ?, ?, ?, ?)", [scope, account_id, why, actor.username, _now()])


def mark_substitutes(ws: Workspace, product_a: str, product_b: str, principal: Principal | None = None) -> None:
    actor = _actor(principal)
    _require_committee(actor)
    a, b = sorted((product_a, product_b))
    if a == b:
        raise ConfigError("a product is not its own substitute")
    with ws.engine.transaction():
        ws.engine.execute("DELETE FROM abm_substitutes WHERE product_a = ? AND product_b = ?", [a, b])
        ws.engine.execute("INSERT INTO abm_substitutes (product_a, product_b, marked_by, marked_at) VALUES (?, ?, ?, ?)",
                          [a, b, actor.username, _now()])


def conflict(ws: Workspace, conflict_id: str) -> dict[str, Any]:
    if not ws.engine.table_exists("abm_conflicts"):
        raise NotFoundError("no conflicts computed yet", hint="Run `accountree build`.")
    rows = ws.engine.fetch_dicts("SELECT * FROM abm_conflicts WHERE conflict_id = ?", [conflict_id])
    if not rows:
        rows = ws.engine.fetch_dicts("SELECT * FROM abm_conflicts WHERE conflict_id LIKE ? ORDER BY conflict_id",
                                     [conflict_id + "%"]) if len(conflict_id) >= 6 else []
        if len(rows) != 1:
            raise NotFoundError(f"no conflict {conflict_id!r}" if not rows else f"{conflict_id!r} names several conflicts",
                                   hint="List them with `accountree abm conflicts`.")
    return rows[0]


def set_conflict_state(ws: Workspace, conflict_id: str, state: str,
                       principal: Principal | None = None) -> dict[str, Any]:
    """Change a conflict's escalation state; recorded in the log and kept across builds."""
    actor = _actor(principal)
    actor.require_write()
    if state not in STATES:
        raise ConfigError(f"state must be one of {', '.join(STATES)}, not {state!r}")
    found = conflict(ws, conflict_id)
    involved = (found.get("notify_bus") or found["bus"]).split(",")
    if not actor.sees_all_bus and actor.bu_id not in involved:
        raise PermissionDeniedError(f"user {actor.username!r} of {actor.bu_id!r} is not party to conflict "
                                    f"{found['conflict_id']} ({found['bus']})")
    now = _now()
    with ws.engine.transaction():
        ws.engine.execute("DELETE FROM abm_conflict_states WHERE conflict_id = ?", [found["conflict_id"]])
        ws.engine.execute("INSERT INTO abm_conflict_states (conflict_id, state, changed_by, changed_at) VALUES (?, ?, ?, ?)",
                          [found["conflict_id"], state, actor.username, now])
        ws.engine.execute("INSERT INTO abm_conflict_state_log (conflict_id, previous_state, state, changed_by, changed_at) "
                          "VALUES (?, ?, ?, ?, ?)", [found["conflict_id"], found["state"], state, actor.username, now])
        ws.engine.execute("UPDATE abm_conflicts SET state = ?, state_changed_by = ?, state_changed_at = ? "
                          "WHERE conflict_id = ?", [state, actor.username, now, found["conflict_id"]])
    return {**found, "previous_state": found["state"], "state": state, "state_changed_by": actor.username}


def add_conflict_note(ws: Workspace, conflict_id: str, note: str, bu: str | None = None,
                      principal: Principal | None = None) -> dict[str, Any]:
    actor = _actor(principal)
    owner = _bu_for_write(actor, bu)
    found = conflict(ws, conflict_id)
    row = {"note_id": uuid.uuid4().hex, "conflict_id": found["conflict_id"], "seller_bu": owner, "note": note,
           "written_by": actor.username, "written_at": _now()}
    ws.engine.execute("INSERT INTO abm_conflict_notes (note_id, conflict_id, seller_bu, note, written_by, written_at) "
                      "VALUES (?, ?, ?, ?, ?, ?)", list(row.values()))
    return row


def add_plan(ws: Workspace, account_id: str, plan: str, bu: str | None = None,
             principal: Principal | None = None) -> dict[str, Any]:
    actor = _actor(principal)
    owner = _bu_for_write(actor, bu)
    _check_account(ws, account_id)
    row = {"plan_id": uuid.uuid4().hex, "account_id": account_id, "seller_bu": owner, "plan": plan,
           "written_by": actor.username, "written_at": _now()}
    ws.engine.execute("INSERT INTO abm_plans (plan_id, account_id, seller_bu, plan, written_by, written_at) "
                      "VALUES (?, ?, ?, ?, ?, ?)", list(row.values()))
    return row


def set_team_member(ws: Workspace, account_id: str, role: str, member: str, bu: str | None = None,
                    principal: Principal | None = None) -> None:
    actor = _actor(principal)
    actor.require_write()
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not actor.sees_all_bus and bu != actor.bu_id:
        raise PermissionDeniedError(f"user {actor.username!r} of {actor.bu_id!r} can only name members of their BU")
    _check_account(ws, account_id)
    with ws.engine.transaction():
        ws.engine.execute("DELETE FROM abm_team_members WHERE account_id = ? AND role = ? AND member = ?",
                          [account_id, role, member])
        ws.engine.execute("INSERT INTO abm_team_members (account_id, role, member, member_bu, set_by, set_at) "
                          "VALUES (?, ?, ?, ?, ?, ?)", [account_id, role, member, bu, actor.username, _now()])


HANDOVER_FIELDS = ("decision_context", "value_objectives", "stakeholders", "commitments")


def record_handover(ws: Workspace, deal_id: str, to_csm: str, *, decision_context: str | None = None,
                    value_objectives: str | None = None, stakeholders: str | None = None,
                    commitments: str | None = None, meeting_at: datetime | None = None,
                    meeting_customer: str | None = None, principal: Principal | None = None) -> dict[str, Any]:
    """Record the AE → CSM handover of a won deal: what is passed on and the three-way meeting
    (the deal's owner, the CSM, a customer contact). The CSM joins the account's team (role `csm`
    of the deal's BU) at the next build; the handover is the deal's BU's private record."""
    actor = _actor(principal)
    actor.require_write()
    deal = ws.engine.fetch_dicts("SELECT deal_id, account_id, seller_bu, owner, stage FROM deals WHERE deal_id = ?",
                                 [deal_id])
    if not deal:
        raise NotFoundError(f"no deal {deal_id!r}", hint="Check the deal id (`accountree export deals`).")
    d = deal[0]
    if d["stage"] != "won":
        raise ConfigError(f"deal {deal_id} is {d['stage']}, not won", hint="A handover follows the signature.")
    if not actor.sees_all_bus and d["seller_bu"] != actor.bu_id:
        raise PermissionDeniedError(f"user {actor.username!r} of {actor.bu_id!r} can only hand over deals of their BU")
    if not to_csm.strip():
        raise ConfigError("the handover needs the CSM who takes the account over", hint="Give --csm NAME.")
    if meeting_at is not None and not (meeting_customer or "").strip():
        raise ConfigError("the three-way meeting needs its customer attendee",
                          hint="Give --customer (a contact id or name) with --meeting.")
    row = {"handover_id": uuid.uuid4().hex, "deal_id": deal_id, "account_id": d["account_id"],
           "seller_bu": d["seller_bu"], "from_ae": d["owner"], "to_csm": to_csm.strip(),
           "decision_context": decision_context, "value_objectives": value_objectives, "stakeholders": stakeholders,
           "commitments": commitments, "meeting_at": meeting_at, "meeting_customer": meeting_customer,
           "recorded_by": actor.username, "recorded_at": _now()}
    ws.engine.execute(f"INSERT INTO abm_handovers ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",  # noqa: S608
                      list(row.values()))
    return row
