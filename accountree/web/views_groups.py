"""Groups list and the group page: tree, consolidated KPIs by year, whitespace, cross-sell, JVs."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from accountree.api.reads import groups as reads
from accountree.api.reads.common import kpi_years
from accountree.web.pages import Page

router = APIRouter(default_response_class=HTMLResponse)
STATE_VALUE = {"never": 0, "pipeline": 1, "bought": 2}


def heatmap(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Whitespace cells as an ECharts heatmap: products across, entities down (0 never, 1 pipeline, 2 bought)."""
    if not rows:
        return None
    entities = list(dict.fromkeys(r["account_id"] for r in rows))
    names = {r["account_id"]: r["name"] for r in rows}
    products = sorted({r["product_name"] for r in rows})
    ei, pi = {e: i for i, e in enumerate(entities)}, {p: i for i, p in enumerate(products)}
    cells = [[pi[r["product_name"]], ei[r["account_id"]], STATE_VALUE.get(r["state"], 0)] for r in rows]
    return {"x": products, "y": [names[e] for e in entities], "cells": cells}


@router.get("/groups")
def groups(pc: Page, q: str | None = Query(None, max_length=200),
           page_no: int = Query(1, alias="page", ge=1, le=100_000), sort: str | None = Query(None, max_length=40),
           desc: bool = True):
    result = reads.list_groups(pc.reader, q, page_no, 50, sort, desc) if pc.reader.has("hierarchy") else None
    return pc.render("groups.html", "groups", "Groups", result=result, q=q, years=kpi_years(pc.reader))


@router.get("/groups/{group_id}", response_model=None)
def group(group_id: str, pc: Page, focus: str | None = Query(None, max_length=200)) -> HTMLResponse | RedirectResponse:
    # an entity's id (a link shared from its account page, a typed URL): its group, opened on it
    head = pc.reader.scalar("SELECT group_head_id FROM hierarchy WHERE account_id = ?", [group_id]) \
        if pc.reader.has("hierarchy") and "group_head_id" in pc.reader.columns("hierarchy") else None
    if head and head != group_id:
        return RedirectResponse(f"/groups/{quote(head, safe='')}?focus={quote(group_id, safe='')}", status_code=303)
    view = pc.ctx.cached("group_view", (group_id,), lambda: reads.group_view(pc.reader, group_id))
    initial = pc.ctx.cached("tree", (group_id, None, 2, None), lambda: reads.tree(pc.reader, group_id, depth=2))
    heat = heatmap(view["whitespace"]["data"]) if view["whitespace"].get("available") else None
    return pc.render("group.html", "groups", view["group"]["name"], v=view, tree=initial["root"], heat=heat,
                     group_id=group_id, focus=focus)
