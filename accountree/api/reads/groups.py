"""Groups: the list of group heads, the group view and its tree, loaded level by level.

A 10,000-entity group is never sent whole: the tree comes `depth` levels at a time under a root,
at most `MAX_CHILDREN` children per node (biggest sub-trees first, the rest counted in
`more_children`), and the page expands a node by asking for its sub-tree. `focus` returns the
path from the group head down to one entity, so search can open the tree where the entity is.
"""

from __future__ import annotations

from typing import Any

from accountree.api.access import ScopedReader
from accountree.api.reads import model
from accountree.api.reads.common import (
    ACCENTS_FROM,
    ACCENTS_TO,
    MAX_CHILDREN,
    Page,
    kpi_years,
    needs_build,
    section,
    year_label,
)
from accountree.errors import NotFoundError
from accountree.kpi import bits

YEARS = ("cy", "py1", "py2", "py3")


def _require_hierarchy(r: ScopedReader) -> None:
    if not r.has("hierarchy"):
        raise needs_build("the account hierarchy")


def _node_columns(r: ScopedReader) -> tuple[str, str]:
    """Select list and joins of a tree node: hierarchy facts, status and revenue, grade."""
    cols = ["h.account_id", "h.name", "h.parent_id"]
    hcols = r.columns("hierarchy")
    cols += [f"h.{c}" for c in ("level", "relation", "ownership_pct", "is_joint_venture", "descendants", "has_issue")
             if c in hcols]
    joins = ""
    if r.has("account_kpis"):
        kcols = r.columns("account_kpis")
        cols += [f"k.{c}" for c in ("status", "revenue_cy", "margin_cy") if c in kcols]
        joins += " LEFT JOIN account_kpis k ON k.account_id = h.account_id"
    if r.has("scores") and "grade" in r.columns("scores"):
        cols.append("s.grade")
        joins += " LEFT JOIN scores s ON s.account_id = h.account_id"
    if r.has("group_kpis"):  # a node with entities below: its subtree's consolidated figures
        from accountree.api.readmodel import SUBTREE_COLUMNS

        gcols = r.columns("group_kpis")
        cols += [f"gk.{c} AS subtree_{c}" for c in SUBTREE_COLUMNS if c in gcols]
        joins += " LEFT JOIN group_kpis gk ON gk.account_id = h.account_id"
    return ", ".join(cols), joins


GROUP_FIGURES = ("group_status", "entities", "customer_entities", "buying_entities", "penetration", "revenue_cy",
                 "revenue_py1", "revenue_py2", "revenue_py3", "margin_cy", "margin_pct_cy", "margin_py1", "nrr",
                 "open_pipeline", "revenue_ttm")
# Sort keys of the groups list (a request never names a column: only these keys)
GROUP_SORTS = {"name": "h.name", "entities": "gk.entities", "status": "gk.group_status", "revenue_cy": "gk.revenue_cy",
               "revenue_py1": "gk.revenue_py1", "revenue_py2": "gk.revenue_py2", "revenue_py3": "gk.revenue_py3",
               "margin_cy": "gk.margin_cy", "margin_pct_cy": "gk.margin_pct_cy", "open_pipeline": "gk.open_pipeline",
               "penetration": "gk.penetration", "nrr": "gk.nrr"}


def list_groups(r: ScopedReader, q: str | None, page: int, page_size: int, sort: str | None = None,
                desc: bool = True) -> Page:
    """Group heads with their **group's** figures (the consolidated roll-up of `group_kpis`: status,
    revenue of the current year and the three before, margin, pipeline, entities, penetration) —
    `group_*` columns — beside the head entity's own (`status`, `revenue_cy`)."""
    from accountree.api.reads.accounts import fold_text

    _require_hierarchy(r)
    select, joins = _node_columns(r)
    where, params = "WHERE h.account_id = h.group_head_id", []
    if "descendants" in r.columns("hierarchy"):  # a standalone company is not a group
        where += " AND h.descendants > 0"
    if q:
        where += " AND translate(lower(h.name), ?, ?) LIKE ?"
        params = [ACCENTS_FROM, ACCENTS_TO, f"%{fold_text(q)}%"]
    has_gk = r.has("group_kpis")
    if has_gk:  # `_node_columns` joined the roll-up as gk
        gcols = r.columns("group_kpis")
        select += "".join(f", gk.{c} AS group_{c}" for c in GROUP_FIGURES if c in gcols and c != "group_status")
        select += ", gk.group_status" if "group_status" in gcols else ""
    key = GROUP_SORTS.get(sort or "")
    if key is None or (key.startswith("gk.") and not has_gk):
        key, sort = ("gk.revenue_cy", "revenue_cy") if has_gk else ("h.name", "name")
        desc = key != "h.name"
    order = f"{key} {'DESC' if desc else 'ASC'} NULLS LAST"
    if "descendants" in r.columns("hierarchy"):
        order += ", h.descendants DESC NULLS LAST"
    base = f"SELECT {select} FROM hierarchy h{joins} {where}"  # noqa: S608 - columns from the catalog, values bound
    total = int(r.scalar(f"SELECT count(*) FROM ({base}) x", params) or 0)  # noqa: S608
    rows = r.fetch_dicts(f"{base} ORDER BY {order}, h.name, h.account_id LIMIT {int(page_size)} "
                         f"OFFSET {int((page - 1) * page_size)}", params)
    result = Page(rows, total, page, page_size)
    result.sort, result.desc = sort, desc  # type: ignore[attr-defined]
    return result


def _children(r: ScopedReader, parents: list[str]) -> list[dict[str, Any]]:
    if not parents:
        return []
    select, joins = _node_columns(r)
    order = "h.descendants DESC NULLS LAST, h.name" if "descendants" in r.columns("hierarchy") else "h.name"
    marks = ", ".join("?" * len(parents))
    return r.fetch_dicts(
        f"SELECT * FROM (SELECT {select}, row_number() OVER (PARTITION BY h.parent_id ORDER BY {order}, h.account_id) AS rn, "  # noqa: S608
        f"count(*) OVER (PARTITION BY h.parent_id) AS siblings FROM hierarchy h{joins} WHERE h.parent_id IN ({marks})) x "
        f"WHERE rn <= {MAX_CHILDREN} ORDER BY parent_id, rn", parents)


def _shared_jvs(r: ScopedReader, parents: list[str]) -> list[dict[str, Any]]:
    """JV entities held by `parents` whose hierarchy parent is another company: shown as shared leaves."""
    select, joins = _node_columns(r)
    marks = ", ".join("?" * len(parents))
    rows = r.fetch_dicts(
        f"SELECT {select}, rel.parent_id AS shown_under, rel.ownership_pct AS held_pct FROM relationships rel "  # noqa: S608
        f"JOIN hierarchy h ON h.account_id = rel.child_id{joins} WHERE rel.relation = 'joint_venture' "
        f"AND rel.parent_id IN ({marks}) AND (h.parent_id IS NULL OR h.parent_id <> rel.parent_id) LIMIT 200", parents)
    for row in rows:
        row["shared"] = True
        row["descendants"] = 0  # its sub-tree lives under its main parent
    return rows


def _node(r: ScopedReader, account_id: str) -> dict[str, Any]:
    select, joins = _node_columns(r)
    row = r.fetchone_dict(f"SELECT {select} FROM hierarchy h{joins} WHERE h.account_id = ?", [account_id])  # noqa: S608
    if row is None:
        raise NotFoundError(f"{account_id!r} is not in the hierarchy", hint="Run `accountree build` after importing it.")
    return row


class _LiveNodes:
    """Tree nodes read from the hierarchy, KPI and score tables."""

    def __init__(self, r: ScopedReader) -> None:
        self.r = r

    def node(self, account_id: str) -> tuple[dict[str, Any], str | None]:
        row = _node(self.r, account_id)
        head = (self.r.scalar("SELECT group_head_id FROM hierarchy WHERE account_id = ?", [account_id])
                if "group_head_id" in self.r.columns("hierarchy") else None)
        return row, head

    def children(self, parents: list[str]) -> list[dict[str, Any]]:
        return _children(self.r, parents)

    def shared_jvs(self, parents: list[str]) -> list[dict[str, Any]]:
        return _shared_jvs(self.r, parents)

    def parent_of(self, account_id: str) -> str | None:
        return self.r.scalar("SELECT parent_id FROM hierarchy WHERE account_id = ?", [account_id])


class _ModelNodes:
    """The same nodes from the build's read model (`api_tree_nodes`, indexed on id and parent)."""

    def __init__(self, r: ScopedReader) -> None:
        self.r = r

    def node(self, account_id: str) -> tuple[dict[str, Any], str | None]:
        return model.node(self.r, account_id)

    def children(self, parents: list[str]) -> list[dict[str, Any]]:
        return model.children(self.r, parents) if parents else []

    def shared_jvs(self, parents: list[str]) -> list[dict[str, Any]]:
        return model.shared_jvs(self.r, parents)

    def parent_of(self, account_id: str) -> str | None:
        return model.parent_of(self.r, account_id)


def _nodes(r: ScopedReader) -> _LiveNodes | _ModelNodes:
    return _ModelNodes(r) if r.read_model else _LiveNodes(r)


def ancestors(r: ScopedReader, account_id: str) -> list[str]:
    """Ids from the group head down to `account_id` (inclusive)."""
    src = _nodes(r)
    chain = [account_id]
    seen = {account_id}
    while True:
        parent = src.parent_of(chain[-1])
        if not parent or parent in seen or len(chain) > 64:
            return list(reversed(chain))
        chain.append(parent)
        seen.add(parent)


def tree(r: ScopedReader, group_id: str, root: str | None = None, depth: int = 2,
         focus: str | None = None) -> dict[str, Any]:
    """The sub-tree under `root` (default: the group head), `depth` levels deep."""
    _require_hierarchy(r)
    src = _nodes(r)
    root = root or group_id
    top, head = src.node(root)
    if "group_head_id" in r.columns("hierarchy") and head != group_id:
        raise NotFoundError(f"{root!r} is not in group {group_id!r}")
    nodes = {root: top}
    frontier = [root]
    expand: set[str] = set()
    path = ancestors(r, focus) if focus else []
    if focus and path[0] != root:
        raise NotFoundError(f"{focus!r} is not under {root!r}")
    for level in range(max(depth, len(path))):
        wanted = [n for n in frontier if level < depth or n in path]
        rows = src.children(wanted)
        for row in rows:
            nodes[row["account_id"]] = row
        for row in src.shared_jvs(wanted) if wanted else []:
            if row["account_id"] not in nodes:
                row["parent_id"] = row.pop("shown_under")
                nodes[row["account_id"]] = row
        frontier = [row["account_id"] for row in rows]
        expand.update(wanted)
        if not frontier:
            break
    if path:  # the focused entity may sit beyond the MAX_CHILDREN shown under its parent
        for cid in path[1:]:
            if cid not in nodes:
                nodes[cid] = {**src.node(cid)[0], "rn": 0}
    for row in nodes.values():
        row["children"] = []
        row["loaded"] = row["account_id"] in expand
    for aid, row in nodes.items():
        if aid != root and row.get("parent_id") in nodes:
            nodes[row["parent_id"]]["children"].append(row)
    for row in nodes.values():
        siblings = max((int(c.get("siblings") or 0) for c in row["children"]), default=0)
        row["more_children"] = max(0, siblings - len(row["children"])) if row["loaded"] else 0
    for row in nodes.values():
        row.pop("siblings", None)
        row.pop("rn", None)
    return {"group_id": group_id, "root": top, "path": path}


def group_view(r: ScopedReader, group_id: str) -> dict[str, Any]:
    """The group page: head, consolidated KPIs by year, JVs, whitespace and cross-sell."""
    _require_hierarchy(r)
    head = _nodes(r).node(group_id)[0]
    members = "SELECT account_id FROM hierarchy WHERE group_head_id = ?"
    counts = r.fetchone_dict(
        "SELECT count(*) AS entities, count(DISTINCT a.country) AS countries FROM hierarchy h "
        "JOIN accounts a ON a.account_id = h.account_id WHERE h.group_head_id = ?", [group_id])
    return {
        "group": head,
        "counts": counts,
        "kpis": section(r, "group_kpis", lambda: _group_kpis(r, group_id)),
        "statuses": section(r, "account_kpis", lambda: r.fetch_dicts(
            f"SELECT k.status, count(*) AS entities FROM account_kpis k WHERE k.account_id IN ({members}) "  # noqa: S608
            "GROUP BY k.status ORDER BY entities DESC, k.status", [group_id])),
        "joint_ventures": _joint_ventures(r, group_id),
        "whitespace": section(r, "kpi_account_products", lambda: whitespace(r, group_id)),
        "cross_sell": section(r, "cross_sell", lambda: r.fetch_dicts(
            "SELECT account_id, name, status, product, product_name, score, icp_grade, reason FROM cross_sell WHERE group_id = ? "
            "ORDER BY score DESC, account_id, product LIMIT 50", [group_id])),
        "issues": section(r, "hierarchy_issue_accounts", lambda: r.fetch_dicts(
            "SELECT DISTINCT i.issue_id, i.kind, i.severity, i.message, i.suggested_fix FROM hierarchy_issues i "
            "JOIN hierarchy_issue_accounts ia ON ia.issue_id = i.issue_id WHERE ia.account_id IN "
            "(SELECT account_id FROM hierarchy WHERE group_head_id = ?) ORDER BY i.issue_id LIMIT 100", [group_id])),
    }


def _group_kpis(r: ScopedReader, group_id: str) -> dict[str, Any] | None:
    row = r.fetchone_dict("SELECT * FROM group_kpis WHERE account_id = ?", [group_id])
    if row is None:
        return None
    years = kpi_years(r)
    row["years"] = years
    row["by_year"] = [{"year": y, "label": year_label(years, y), "revenue": row.get(f"revenue_{y}"),
                       "margin": row.get(f"margin_{y}")} for y in YEARS if f"revenue_{y}" in row]
    for i, y in enumerate(row["by_year"]):  # the P&L: margin %, growth on the year before
        y["margin_pct"] = y["margin"] / y["revenue"] if y["revenue"] and y["margin"] is not None else None
        before = row["by_year"][i + 1]["revenue"] if i + 1 < len(row["by_year"]) else None
        y["yoy"] = (y["revenue"] - before) / before if before and y["revenue"] is not None else None
    return row


def whitespace(r: ScopedReader, group_id: str, entities: int = 30) -> list[dict[str, Any]]:
    """Entity × product cells of the group's largest entities: bought, pipeline or never (whitespace).

    The group's products (bought or in pipeline anywhere in it) and each cell's state come from the
    product masks of `kpi_account_facts`; only the shown entities' per-product revenue is read from
    the `kpi_account_products` view (a view over the deals: never aggregated for the whole group)."""
    words = int(r.scalar(bits.words_sql(bits.PRODUCTS)))
    masks = f"{bits.columns('bought', words, 'f')}, {bits.columns('owned', words, 'f')}"
    top = r.fetch_dicts(
        f"SELECT k.account_id, k.name, k.status, {masks} FROM account_kpis k "  # noqa: S608 - integer positions
        "LEFT JOIN kpi_account_facts f ON f.account_id = k.account_id WHERE k.group_head_id = ? "
        "ORDER BY coalesce(k.revenue_3y, 0) + coalesce(k.open_pipeline, 0) DESC, k.account_id LIMIT ?",
        [group_id, entities])
    if not top:
        return []
    products = r.fetch_dicts(
        f"WITH g AS (SELECT {bits.merge('owned', words, 'f')} FROM kpi_account_facts f "  # noqa: S608 - integer positions
        "JOIN account_kpis k ON k.account_id = f.account_id WHERE k.group_head_id = ?) "
        "SELECT b.product, coalesce(pr.name, b.product) AS product_name, b.word, b.bit FROM kpi_product_bits b "
        f"CROSS JOIN g LEFT JOIN products pr ON pr.product_id = b.product WHERE {bits.has('owned', words, 'g')} "
        "ORDER BY b.product", [group_id])
    ids = [t["account_id"] for t in top]
    revenue = {(row["account_id"], row["product"]): row["revenue_total"] for row in r.fetch_dicts(
        f"SELECT account_id, product, revenue_total FROM kpi_account_products "  # noqa: S608 - placeholders only
        f"WHERE account_id IN ({', '.join('?' for _ in ids)}) AND product IS NOT NULL", ids)}

    def state(entity: dict[str, Any], product: dict[str, Any]) -> str:
        def has(name: str) -> bool:
            return bool(((entity.get(f"{name}_{product['word']}") or 0) >> product["bit"]) & 1)
        return "bought" if has("bought") else "pipeline" if has("owned") else "never"

    return [{"account_id": t["account_id"], "name": t["name"], "status": t["status"], "product": p["product"],
             "product_name": p["product_name"], "state": state(t, p),
             "revenue_total": revenue.get((t["account_id"], p["product"]), 0)}
            for t in top for p in products]


def _joint_ventures(r: ScopedReader, group_id: str) -> list[dict[str, Any]]:
    """JVs the group holds or belongs to, with every parent, so the page shows them as shared."""
    return r.fetch_dicts(
        "WITH members AS (SELECT account_id FROM hierarchy WHERE group_head_id = ?), "
        "jv AS (SELECT DISTINCT child_id FROM relationships WHERE relation = 'joint_venture' AND "
        " (child_id IN (SELECT account_id FROM members) OR parent_id IN (SELECT account_id FROM members))) "
        "SELECT rel.child_id AS account_id, c.name, rel.parent_id, p.name AS parent_name, rel.ownership_pct, "
        "ph.group_head_id AS parent_group_id, ch.group_head_id AS jv_group_id FROM relationships rel "
        "JOIN jv ON jv.child_id = rel.child_id JOIN accounts c ON c.account_id = rel.child_id "
        "LEFT JOIN accounts p ON p.account_id = rel.parent_id LEFT JOIN hierarchy ph ON ph.account_id = rel.parent_id "
        "LEFT JOIN hierarchy ch ON ch.account_id = rel.child_id "
        "WHERE rel.relation = 'joint_venture' ORDER BY c.name, rel.ownership_pct DESC NULLS LAST, p.name LIMIT 200",
        [group_id])
