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
