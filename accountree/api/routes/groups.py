"""Groups: group heads, the group view (roll-ups, JVs, whitespace, cross-sell) and its lazy tree."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from accountree.api.deps import Ctx
from accountree.api.reads import groups as reads
from accountree.api.routes.params import PageNo, PageSize, Text

router = APIRouter(tags=["groups"])
GroupId = Annotated[str, Path(min_length=1, max_length=200)]


SortKey = Annotated[str | None, Query(max_length=40, description="Sort key: " + ", ".join(reads.GROUP_SORTS) +
                                       " (default: consolidated revenue of the current year).")]


@router.get("/groups", summary="Group heads with their consolidated roll-ups")
def list_groups(ctx: Ctx, q: Text = None, page: PageNo = 1, page_size: PageSize = 50, sort: SortKey = None,
                desc: bool = True) -> dict[str, Any]:
    """`group_*` figures are the group's (consolidated `group_kpis`); `status` and `revenue_cy` the head entity's own."""
    result = reads.list_groups(ctx.reader, q, page, page_size, sort, desc)
    return {**result.as_dict(), "sort": result.sort, "desc": result.desc}


@router.get("/groups/{group_id}", summary="Group view")
def group_view(group_id: GroupId, ctx: Ctx) -> dict[str, Any]:
    return ctx.cached_json("group_view", (group_id,), lambda: reads.group_view(ctx.reader, group_id))


@router.get("/groups/{group_id}/tree", summary="A slice of the group's tree")
def group_tree(
    group_id: GroupId, ctx: Ctx,
    root: Annotated[str | None, Query(max_length=200, description="Sub-tree root (default: the group head).")] = None,
    depth: Annotated[int, Query(ge=0, le=4)] = 2,
    focus: Annotated[str | None, Query(max_length=200, description="Open the path down to this entity.")] = None,
) -> dict[str, Any]:
    """At most 60 children per node (largest sub-trees first); `more_children` counts the rest."""
    return ctx.cached_json("tree", (group_id, root, depth, focus), lambda: reads.tree(ctx.reader, group_id, root, depth, focus))
