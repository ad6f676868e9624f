"""The canonical bundle, declared once.

Each table lists its columns with a kind (how a raw text value is parsed and checked), whether it
is required, and which columns refer to accounts. Parsing, checking, typing, the store schema test
and the docs all read this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal[
    "text", "id", "integer", "number", "percent", "margin", "date", "boolean", "country", "currency",
    "domain", "email", "siren", "siret", "lei", "duns", "relation", "stage", "buying_role", "slug",
]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    required: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    account_refs: tuple[str, ...] = ()  # must exist in the bundle or the workspace
    soft_account_refs: tuple[str, ...] = ()  # may point to unknown accounts (reported later)
    money: dict[str, str] = field(default_factory=dict)  # amount column -> its converted *_rc column
    derived_key: bool = False  # key derived from the row's content when the file has none

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _cols(*specs: str) -> tuple[Column, ...]:
    """`name:kind*` shorthand keeps the table below readable; `*` marks a required column."""
    out = []
    for spec in specs:
        required = spec.endswith("*")
        name, _, kind = spec.rstrip("*").partition(":")
        out.append(Column(name, kind or "text", required))  # type: ignore[arg-type]
    return tuple(out)


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in [
        TableSpec(
            "accounts",
            ("account_id",),
            _cols(
                "account_id:id*", "name*", "parent_id:id", "domain:domain", "website", "country:country",
                "city", "industry", "employees:integer", "annual_revenue:number", "currency:currency",
                "siren:siren", "siret:siret", "lei:lei", "duns:duns", "is_group_head:boolean",
                "technologies", "owner", "created_at:date", "domains",
            ),
            soft_account_refs=("parent_id",),
            money={"annual_revenue": "annual_revenue_rc"},
        ),
        TableSpec(
            "relationships",
            ("child_id", "parent_id"),
            _cols("child_id:id*", "parent_id:id*", "relation:relation", "ownership_pct:percent"),
            account_refs=("child_id",),
            soft_account_refs=("parent_id",),
        ),
        TableSpec(
            "deals",
            ("deal_id",),
            _cols(
                "deal_id:id*", "account_id:id*", "seller_bu:id", "product", "stage:stage*", "amount:number*",
                "gross_margin:margin", "currency:currency", "created_at:date", "close_date:date", "owner",
            ),
            account_refs=("account_id",),
            money={"amount": "amount_rc", "gross_margin": "gross_margin_rc"},
        ),
        TableSpec(
            "contacts",
            ("contact_id",),
            _cols(
                "contact_id:id*", "account_id:id*", "name", "title", "email:email", "buying_role:buying_role",
                "reports_to:id", "start_date:date", "end_date:date", "seller_bu:id",
            ),
            account_refs=("account_id",),
        ),
        TableSpec(
            "activities",
            ("activity_id",),
            _cols(
                "activity_id:id", "account_id:id*", "date:date*", "type:slug*", "weight:number", "topic",
                "contact_id:id", "seller_bu:id",
            ),
            account_refs=("account_id",),
            derived_key=True,
        ),
        TableSpec(
            "products",
            ("product_id",),
            _cols(
                "product_id:id*", "name*", "family", "seller_bu:id", "list_price:number", "currency:currency",
                "margin_pct:percent",
            ),
            money={"list_price": "list_price_rc"},
        ),
        TableSpec("seller_bus", ("bu_id",), _cols("bu_id:id*", "name*", "sales_cycle_days:integer", "description")),
        TableSpec(
            "campaigns",
            ("campaign_id",),
            _cols(
                "campaign_id:id*", "name*", "seller_bu:id", "channel:slug", "start_date:date", "end_date:date",
                "budget:number", "currency:currency",
            ),
            money={"budget": "budget_rc"},
        ),
        TableSpec(
            "campaign_accounts",
            ("campaign_id", "account_id"),
            _cols("campaign_id:id*", "account_id:id*"),
            account_refs=("account_id",),
        ),
        TableSpec("campaign_contacts", ("campaign_id", "contact_id"), _cols("campaign_id:id*", "contact_id:id*")),
        TableSpec(
            "leads",
            ("lead_id",),
            _cols(
                "lead_id:id*", "name", "email:email", "company", "domain:domain", "country:country", "seller_bu:id",
                "source", "created_at:date", "account_id:id",
            ),
            soft_account_refs=("account_id",),
        ),
        TableSpec("fx_rates", ("currency",), _cols("currency:currency*", "rate:number*")),
    ]
}

# Order in which tables are written: referenced tables first.
WRITE_ORDER = [
    "fx_rates", "seller_bus", "products", "accounts", "relationships", "contacts", "deals", "activities",
    "campaigns", "campaign_accounts", "campaign_contacts", "leads",
]

EXPECTED: dict[str, str] = {
    "id": "a non-empty identifier",
    "integer": "a whole number (e.g. 1200 or 1 200)",
    "number": "a number (e.g. 1234.56 or 1 234,56)",
    "percent": "a percentage between 0 and 100 (e.g. 40 or 40 %)",
    "margin": "an amount or a percentage of the amount (e.g. 1 200 or 32 %)",
    "date": "a date as YYYY-MM-DD or DD/MM/YYYY",
    "boolean": "true/false, yes/no, oui/non or 1/0",
    "country": "an ISO-2 country code or a country name (e.g. FR, France)",
    "currency": "an ISO 4217 currency code in the rates table (e.g. EUR, USD, GBP) or € $ £",
    "domain": "a web domain such as acme.fr",
    "email": "an e-mail address such as jane@acme.fr",
    "siren": "a SIREN of 9 digits",
    "siret": "a SIRET of 14 digits",
    "lei": "an LEI of 20 letters and digits",
    "duns": "a D-U-N-S number of 9 digits",
    "relation": "subsidiary, business_unit, branch or joint_venture",
    "stage": "an open stage name, won or lost",
    "buying_role": "economic_buyer, champion, influencer, user, buyer, blocker or other",
    "slug": "a non-empty label",
    "text": "a value",
}
