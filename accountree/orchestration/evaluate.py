"""Precision and recall of the conflicts and collisions a build found against a demo bundle's
ground truth (`truth/abm_conflicts.csv`, `truth/campaign_collisions.csv`, accountree.demo.abm)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv

from accountree.errors import NotFoundError
from accountree.store import Workspace

KINDS = ("open_deals", "same_contact")  # the kinds the truth lists (the others depend on user input)


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise NotFoundError(f"no ground truth at {path}", hint="Point to the truth/ folder of a demo bundle.")
    options = pacsv.ConvertOptions(strings_can_be_null=True, column_types={"contact_id": "string", "account_id": "string"})
    return pacsv.read_csv(path, convert_options=options).to_pylist()


def _scores(found: set, truth: set, planted: set) -> dict[str, Any]:
    hits = len(found & truth)
    return {"found": len(found), "truth": len(truth), "true_positives": hits,
            "precision": round(hits / len(found), 4) if found else None,
            "recall": round(hits / len(truth), 4) if truth else None,
            "planted": len(planted), "planted_recall": round(len(found & planted) / len(planted), 4) if planted else None,
            "missed": sorted(truth - found, key=str)[:5], "unexpected": sorted(found - truth, key=str)[:5]}


def evaluate_demo(ws: Workspace, truth_dir: Path) -> dict[str, Any]:
    truth_dir = Path(truth_dir)
    conflicts = _read(truth_dir / "abm_conflicts.csv")
    collisions = _read(truth_dir / "campaign_collisions.csv")
    if not ws.engine.table_exists("abm_conflicts"):
        raise NotFoundError("the ABM tables are not built yet", hint="Run `accountree build`.")
    out: dict[str, Any] = {}
    for kind in KINDS:
        truth = {(r["account_id"], r["contact_id"], r["bus"]) for r in conflicts if r["kind"] == kind}
        planted = {(r["account_id"], r["contact_id"], r["bus"]) for r in conflicts if r["kind"] == kind and r["planted"]}
        found = {tuple(r) for r in ws.engine.fetchall(
            "SELECT account_id, contact_id, bus FROM abm_conflicts WHERE kind = ?", [kind])}
        out[kind] = _scores(found, truth, planted)
    truth = {(r["account_id"], r["campaign_ids"], r["bus"]) for r in collisions}
    planted = {(r["account_id"], r["campaign_ids"], r["bus"]) for r in collisions if r["planted"]}
    found = {tuple(r) for r in ws.engine.fetchall("SELECT account_id, campaign_ids, bus FROM abm_collisions")}
    out["campaign_collisions"] = _scores(found, truth, planted)
    return out
