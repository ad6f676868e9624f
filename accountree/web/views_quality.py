"""Data quality: hierarchy issues, the duplicate review queue (accept / reject in the page), imports."""

from __future__ import annotations

import json
from pathlib import PurePath

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from accountree.api import writes
from accountree.api.reads import portfolio as reads
from accountree.web.pages import Page, PageContext, PageWriter

router = APIRouter(default_response_class=HTMLResponse)
ID_COLUMNS = ("candidate_id", "pair_id", "id")


def candidate_id(row: dict) -> str | None:
    return next((str(row[c]) for c in ID_COLUMNS if row.get(c) is not None), None)


@router.get("/quality")
def quality(pc: Page, page_no: int = Query(1, alias="page", ge=1, le=100_000)):
    issues = reads.hierarchy_issues(pc.reader, 1, 100) if pc.reader.has("hierarchy_issues") else None
    dups = None
    if pc.reader.has("duplicate_candidates"):
        status = "pending" if "status" in pc.reader.columns("duplicate_candidates") else None
        dups = reads.duplicate_candidates(pc.reader, status, page_no, 25)
        names = _names(pc, dups.items)
        for row in dups.items:
            row["_id"] = candidate_id(row)
            row["_left"], row["_right"] = _pair(row)
            row["_left_name"], row["_right_name"] = names.get(row["_left"]), names.get(row["_right"])
            row["_why"] = evidence_text(row.get("evidence"))
    imports = reads.imports(pc.reader, 30)
    warnings = import_warnings(pc, imports)
    for row in imports:
        row["warnings"] = warnings["counts"].get(row["import_id"], 0)
    return pc.render("quality.html", "quality", "Data quality", issues=issues, dups=dups, imports=imports,
                     warnings=warnings)


WARNINGS_SHOWN = 100


def import_warnings(pc: PageContext, imports: list[dict]) -> dict:
    """The warnings of the imports listed: counts per import, and the newest import's warnings.

    A warning quotes a value of a row, which may be a BU-private record: only users who see every
    BU read the values; others see the counts."""
    out: dict = {"counts": {}, "items": [], "import_id": None, "values": pc.principal.sees_all_bus}
    if not imports or not pc.reader.has("import_warnings"):
        return out
    ids = [i["import_id"] for i in imports]
    marks = ", ".join("?" * len(ids))
    out["counts"] = dict(pc.reader.fetchall(
        f"SELECT import_id, sum(rows) FROM import_warnings WHERE import_id IN ({marks}) GROUP BY import_id", ids))  # noqa: S608
    newest = next((i for i in ids if out["counts"].get(i)), None)
    if newest is not None:
        out["import_id"] = newest
        out["items"] = pc.reader.fetch_dicts(
            'SELECT file, table_name, "row", rows, "column", value, action FROM import_warnings WHERE import_id = ? '
            'ORDER BY file, "row" LIMIT ?', [newest, WARNINGS_SHOWN])
        for item in out["items"]:
            item["file"] = PurePath(item["file"]).name  # never the server's folders
            if not out["values"]:
                item["value"] = None
    return out


def evidence_text(evidence: object) -> str:
    """The resolver's evidence (JSON: comparison -> level) as a short readable line."""
    if isinstance(evidence, str):
        try:
            evidence = json.loads(evidence)
        except ValueError:
            return evidence
    if isinstance(evidence, dict):
        return " · ".join(f"{k.replace('_', ' ')}: {v}" for k, v in list(evidence.items())[:5])
    return "" if evidence is None else str(evidence)


def _pair(row: dict) -> tuple[str | None, str | None]:
    for left, right in (("account_id_l", "account_id_r"), ("left_id", "right_id"), ("account_id_1", "account_id_2"),
                        ("account_id", "duplicate_id"), ("survivor_id", "duplicate_id")):
        if left in row and right in row:
            return row[left], row[right]
    return None, None


def _names(pc: PageContext, rows: list[dict]) -> dict[str, str]:
    ids = sorted({i for r in rows for i in _pair(r) if i})
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    return dict(pc.reader.fetchall(f"SELECT account_id, name FROM accounts WHERE account_id IN ({marks})", ids))  # noqa: S608


@router.post("/ui/duplicates/{cid}/{decision}")
def decide(cid: str, decision: str, pc: PageWriter):
    writes.decide_duplicate(pc.ctx, cid, decision)
    label = "merged" if decision == "accept" else "kept apart"
    return HTMLResponse(f'<td colspan="6"><span class="badge {"s-customer" if decision == "accept" else ""}">'
                        f'{label}</span> <span class="muted">decision recorded</span></td>')
