"""Small shared pieces of the read models: pages, optional sections, query helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from accountree.api.access import ScopedReader
from accountree.errors import AccountreeError

BUILD_HINT = "Run `accountree build` (or `accountree demo`) and reload."
# Children shown per tree node (the rest are counted in `more_children`); the read model ranks by it.
MAX_CHILDREN = 60
# Accented letters of the languages our users write (French, German, Spanish, Italian, Portuguese…)
ACCENTS_FROM = "àáâãäåāçćčèéêëēěìíîïīñńòóôõöøōùúûüūýÿžšł"
ACCENTS_TO = "aaaaaaaccceeeeeeiiiiinnooooooouuuuuyyzsl"


class FeatureUnavailableError(AccountreeError):
    """A section needs a table the build has not computed yet, or a capability not installed."""

    http_status = 409


def needs_build(what: str) -> FeatureUnavailableError:
    return FeatureUnavailableError(f"{what} has not been computed in this workspace yet", hint=BUILD_HINT)


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "total": self.total, "page": self.page, "page_size": self.page_size,
                "pages": self.pages}


def section(r: ScopedReader, table: str, load: Callable[[], Any]) -> dict[str, Any]:
    """`{"available": true, "data": …}` when `table` was built, else the empty state and its hint."""
    if not r.has(table):
        return {"available": False, "hint": BUILD_HINT, "table": table}
    return {"available": True, "data": load()}


def col(table: str, name: str) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def param() -> exp.Placeholder:
    return exp.Placeholder()


def paginate(r: ScopedReader, query: exp.Select, params: list[Any], page: int, page_size: int,
             *order: exp.Expression) -> Page:
    total = int(r.scalar(exp.select("count(*)").from_(query.subquery("x")), params) or 0)
    rows = r.fetch_dicts(query.order_by(*order).limit(page_size).offset((page - 1) * page_size), params)
    return Page(rows, total, page, page_size)


KPI_YEARS = ("cy", "py1", "py2", "py3")


def kpi_years(r: ScopedReader) -> dict[str, int | None]:
    """The calendar year of each KPI column (`cy` = the year of the build's as-of date), for labels."""
    as_of = r.scalar("SELECT value FROM workspace_meta WHERE key = ?", ["kpi_as_of"]) if r.has("workspace_meta") else None
    try:
        year = int(str(as_of)[:4])
    except (TypeError, ValueError):
        return dict.fromkeys(KPI_YEARS)
    return {y: year - i for i, y in enumerate(KPI_YEARS)}


def year_label(years: dict[str, int | None], key: str) -> str:
    return str(years.get(key)) if years.get(key) else {"cy": "Current year", "py1": "Y-1", "py2": "Y-2", "py3": "Y-3"}[key]
