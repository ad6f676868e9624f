"""Data quality: hierarchy issues, the duplicate review queue and its decisions, import history."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel

from accountree.api import writes
from accountree.api.deps import Ctx, WriterCtx
from accountree.api.reads import portfolio as reads
from accountree.api.routes.params import PageNo, PageSize, Text

router = APIRouter(tags=["data quality"])


@router.get("/quality/hierarchy-issues", summary="Hierarchy issues found by the build")
def hierarchy_issues(ctx: Ctx, page: PageNo = 1, page_size: PageSize = 50) -> dict[str, Any]:
    return reads.hierarchy_issues(ctx.reader, page, page_size).as_dict()


@router.get("/quality/duplicates", summary="The duplicate review queue")
def duplicates(ctx: Ctx, status: Text = None,
               page: PageNo = 1, page_size: PageSize = 50) -> dict[str, Any]:
    return reads.duplicate_candidates(ctx.reader, status, page, page_size).as_dict()


class Decision(BaseModel):
    decision: Literal["accept", "reject", "skip"]


@router.post("/quality/duplicates/{pair_id}/decision", summary="Accept (merge), reject or skip a duplicate pair")
def decide(pair_id: Annotated[str, Path(min_length=1, max_length=200)], body: Decision,
           ctx: WriterCtx) -> dict[str, Any]:
    return writes.decide_duplicate(ctx, pair_id, body.decision)


@router.get("/imports", summary="Import history: who, when, rows read, inserted, updated")
def imports(ctx: Ctx) -> dict[str, Any]:
    return {"items": reads.imports(ctx.reader)}
