"""D&B family-tree exports (D&B Hoovers, D&B Direct+ / Data Blocks flattened to CSV or XLSX).

Each row is one D-U-N-S site carrying up to four D-U-N-S numbers: its own, its parent or
headquarters, its domestic ultimate and its global ultimate (D&B's "corporate linkage"). Header
spellings differ between products and exports (`D-U-N-S Number`, `DUNS`, `duns`,
`organization.duns`; `Parent DUNS`, `Parent/HQ DUNS`, `ParentOrHqDunsNumber`,
`corporateLinkage.parent.duns`…), so columns are matched ignoring case, spaces and punctuation.

Links: a branch (location type "Branch", D&B status code 2) belongs to its headquarters
(`branch`, link_kind `head_office`); any other site's parent D-U-N-S is its direct parent
(`subsidiary`, `direct`). When a file has only a combined Parent/HQ column, the location type
decides; when it has no location type, a site whose HQ D-U-N-S is not itself is a branch. The
domestic and global ultimates give `domestic_ultimate` / `global_ultimate` links (never to the
site itself). D-U-N-S numbers are normalised to 9 digits (dashes removed, leading zeros that a
spreadsheet dropped put back).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc
import pycountry

from accountree.registry._arrow import coalesce, digits_only, lookup, map_unique, to_date
from accountree.registry._base import Format, ParseContext, resolve_columns
from accountree.registry.schema import ENTITY_SCHEMA, LINK_SCHEMA, concat, headcount_band, make_batch

DUNS_EXPECTED = "a D-U-N-S number (9 digits, dashes allowed; 7 or 8 when a spreadsheet dropped leading zeros)"


def _spellings(*names: str, linkage: str | None = None) -> tuple[str, ...]:
    """Header spellings, plus the Direct+ JSON paths `corporateLinkage.<linkage>.duns`."""
    if linkage is None:
        return names
    paths = (f"corporateLinkage.{linkage}.duns", f"{linkage}Duns")
    return names + paths


_ALIASES: dict[str, tuple[str, ...]] = {
    "duns": ("D-U-N-S Number", "DUNS Number", "D-U-N-S", "DUNS", "DUNS #", "DunsNumber", "organization.duns",
             "Site DUNS", "Site D-U-N-S Number", "D&B D-U-N-S Number", "duns_number"),
    "name": ("Company Name", "Business Name", "Primary Name", "primaryName", "organization.primaryName",
             "Name", "Company", "Organization Name"),
    "parent": _spellings("Parent DUNS", "Parent D-U-N-S", "Parent D-U-N-S Number", "Parent DUNS Number",
                         "Immediate Parent DUNS", "parent_duns", linkage="parent"),
    "hq": _spellings("Headquarters DUNS", "Headquarters D-U-N-S", "Headquarters D-U-N-S Number",
                     "Headquarter D-U-N-S Number", "HQ DUNS", "HQ D-U-N-S", "HQ D-U-N-S Number",
                     "hq_duns", linkage="headQuarter"),
    "parent_or_hq": ("Parent/HQ DUNS", "Parent/HQ D-U-N-S", "Parent/HQ D-U-N-S Number", "Parent or HQ DUNS",
                     "ParentOrHqDunsNumber", "Parent HQ DUNS"),
    "domestic": _spellings("Domestic Ultimate DUNS", "Domestic Ultimate D-U-N-S", "Domestic Ultimate D-U-N-S Number",
                           "Domestic Ultimate DUNS Number", "DomesticUltimateDunsNumber", "domestic_ultimate_duns",
                           linkage="domesticUltimate"),
    "global": _spellings("Global Ultimate DUNS", "Global Ultimate D-U-N-S", "Global Ultimate D-U-N-S Number",
                         "Global Ultimate DUNS Number", "GlobalUltimateDunsNumber", "global_ultimate_duns",
                         linkage="globalUltimate"),
    "location": ("Location Type", "Location Status", "LocationStatus", "Entity Type", "Business Structure",
                 "Family Tree Role", "Family Tree Roles", "familytreeRolesPlayed", "Site Type",
                 "corporateLinkage.familytreeRolesPlayed", "Status Code"),
    "country": ("Country", "Country Name", "Country/Region", "Country Code", "Country ISO Code",
                "countryISOAlpha2Code", "Physical Country", "Physical Country Name", "addressCountry",
                "primaryAddress.addressCountry.isoAlpha2Code"),
    "city": ("City", "City Name", "Physical City", "Town", "Locality", "addressLocality",
             "primaryAddress.addressLocality.name"),
    "postal_code": ("Postal Code", "Postcode", "Zip", "ZIP Code", "Physical Zip", "Physical Postal Code", "postalCode",
                    "primaryAddress.postalCode"),
    "employees": ("Employees (All Sites)", "Employees Total", "Employees - Total", "EmployeesTotal", "Total Employees",
                  "Number of Employees", "numberOfEmployees", "Employees", "Employees (Single Site)",
                  "Employees Here", "EmployeesHere"),
    "legal_form": ("Legal Status", "Legal Form", "Business Entity Type", "businessEntityType",
                   "businessEntityType.description"),
    "status": ("Operating Status", "operatingStatus", "dunsControlStatus.operatingStatus.description",
               "Company Status", "Status"),
    "updated": ("Last Update Date", "lastUpdateDate", "dunsControlStatus.lastUpdateDate", "Linkage Update Date"),
}
# Direct+ exports flatten the JSON with or without the leading "organization." segment.
_ALIASES = {f: names + tuple(f"organization.{n}" for n in names if "." in n and not n.startswith("organization."))
            for f, names in _ALIASES.items()}
_LINKAGE = ("parent", "hq", "parent_or_hq", "domestic", "global")
_STATUS = {"active": "active", "out of business": "inactive", "inactive": "inactive", "ceased": "inactive"}
_COUNTRY_ALIASES = {
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "united states of america": "US", "uk": "GB", "u.k.": "GB",
    "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "south korea": "KR", "korea": "KR", "russia": "RU", "czech republic": "CZ", "vietnam": "VN", "taiwan": "TW",
    "iran": "IR", "hong kong sar": "HK", "macau": "MO", "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ",
    "moldova": "MD", "syria": "SY", "laos": "LA", "ivory coast": "CI", "turkey": "TR", "holland": "NL",
}


def _is_header(header: Sequence[str]) -> bool:
    found = resolve_columns(header, _ALIASES)
    return bool(found["duns"] and found["name"] and any(found[k] for k in _LINKAGE))


@cache
def _iso2(value: str) -> str | None:
    """"France", "FRA", "fr", "United States of America" -> ISO 3166 alpha-2."""
    key = value.strip().lower()
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    try:
        return pycountry.countries.lookup(key).alpha_2
    except LookupError:
        return None


def _employees(value: str) -> str | None:
    digits = value.replace(",", "").replace(" ", "").replace("\u00a0", "").split(".")[0]
    return headcount_band(int(digits)) if digits.isdigit() else None


def _duns(ctx: ParseContext, batch: pa.RecordBatch, first_row: int, field: str, *, required: bool) -> pa.Array:
    """The column as 9-digit D-U-N-S; a malformed value is reported and read as null."""
    raw = ctx.col(batch, field)
    clean = digits_only(raw)
    ok = pc.match_substring_regex(clean, r"^[0-9]{7,9}$")  # a spreadsheet drops leading zeros
    ctx.check(ok if required else pc.or_kleene(pc.is_null(raw), ok), first_row, field, raw, DUNS_EXPECTED)
    return pc.utf8_lpad(pc.if_else(pc.fill_null(ok, False), clean, pa.scalar(None, pa.string())), 9, "0")


def _other(target: pa.Array, duns: pa.Array) -> pa.Array:
    """`target` where it is a different site than the row's own, else null."""
    return pc.if_else(pc.fill_null(pc.not_equal(target, duns), False), target, pa.scalar(None, pa.string()))


def _links(duns: pa.Array, parent: pa.Array, kinds: Sequence[tuple[pa.Array, str]], relation: pa.Array,
           status: pa.Array, as_of: pa.Array) -> pa.RecordBatch:
    parts = []
    for target, kind in ((parent, None), *kinds):
        mask = pc.is_valid(target)
        link_kind = kind or pc.if_else(pc.equal(relation, "branch"), "head_office", "direct")
        rel = pc.filter(relation, mask)
        parts.append(make_batch(LINK_SCHEMA, pc.sum(mask).as_py() or 0, {
            "source": "dnb", "child_source_id": pc.filter(duns, mask), "parent_source_id": pc.filter(target, mask),
            "relation": rel, "is_ownership": True,
            "link_kind": pc.filter(link_kind, mask) if kind is None else kind,
            "relationship_status": pc.filter(status, mask), "as_of": pc.filter(as_of, mask),
        }))
    return concat(LINK_SCHEMA, parts)


def _family_tree(ctx: ParseContext, batch: pa.RecordBatch, first_row: int) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    duns = _duns(ctx, batch, first_row, "duns", required=True)
    linkage = {f: _duns(ctx, batch, first_row, f, required=False) for f in _LINKAGE}
    keep = pc.is_valid(duns)
    batch, duns = batch.filter(keep), duns.filter(keep)
    linkage = {f: _other(a.filter(keep), duns) for f, a in linkage.items()}
    location = pc.utf8_lower(ctx.col(batch, "location"))
    said_branch = pc.or_kleene(pc.match_substring(location, "branch"), pc.equal(location, "2"))
    hq_like = pc.fill_null(pc.match_substring_regex(location, r"headquarter|^hq\b|single|^[01]$"), False)
    # no location type: a site pointing to an HQ other than itself, without a parent, is a branch
    guessed = pc.and_kleene(pc.is_null(location), pc.and_kleene(pc.is_valid(linkage["hq"]), pc.is_null(linkage["parent"])))
    branch = pc.fill_null(pc.or_kleene(said_branch, guessed), False)
    relation = pc.if_else(branch, "branch", "subsidiary")
    up = pc.if_else(
        branch,
        coalesce(linkage["hq"], linkage["parent_or_hq"], linkage["parent"]),
        coalesce(linkage["parent"], linkage["parent_or_hq"]),
    )
    status_raw = pc.utf8_lower(ctx.col(batch, "status"))
    status = pc.coalesce(lookup(status_raw, _STATUS), status_raw)
    as_of = ctx.dated(to_date(ctx.col(batch, "updated")))
    head_office = pc.if_else(branch, False, pc.if_else(hq_like, True, pa.scalar(None, pa.bool_())))
    entities = make_batch(ENTITY_SCHEMA, batch.num_rows, {
        "source": "dnb", "source_id": duns, "duns": duns, "name": ctx.col(batch, "name"),
        "legal_form": ctx.col(batch, "legal_form"),
        "country": map_unique(ctx.col(batch, "country"), _iso2, pa.string()),
        "city": ctx.col(batch, "city"), "postal_code": ctx.col(batch, "postal_code"),
        "headcount_band": map_unique(ctx.col(batch, "employees"), _employees, pa.string()),
        "is_head_office": head_office, "status": status, "as_of": as_of,
    })
    kinds = [(linkage["domestic"], "domestic_ultimate"), (linkage["global"], "global_ultimate")]
    return entities, _links(duns, up, kinds, relation, status, as_of)


DNB_FORMATS = (
    Format(
        "dnb_family_tree", "dnb",
        ("D-U-N-S Number (or DUNS, duns, organization.duns)", "Company Name (or primaryName)",
         "at least one of Parent DUNS, Headquarters DUNS, Parent/HQ DUNS, Domestic Ultimate DUNS, Global Ultimate DUNS",
         "optional: Location Type, Hierarchy Level, Country, City, Postal Code, Employees (All Sites)"),
        _is_header, _ALIASES, _family_tree,
    ),
)
