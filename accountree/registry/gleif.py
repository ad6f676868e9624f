"""GLEIF golden-copy CSV files: level 1 (LEI-CDF, who is who), level 2 (RR-CDF, who owns whom)
and level-2 reporting exceptions (why an entity reports no parent).

Direction: in a relationship record the start node is the child and the end node the parent
("child IS_DIRECTLY_CONSOLIDATED_BY parent"). Consolidation links are ownership (they build the
tree: `direct` is the tree edge, `ultimate` checks and completes chains); an international branch
belongs to its head office (`branch`, `head_office`, part of the tree); fund relations (managed
by, sub-fund of, feeder to) are contractual and never ownership. Records GLEIF itself declares
void (registration status ANNULLED or DUPLICATE) are skipped and counted, not reported.
LEIs are checked for shape, not check digits: GLEIF has published a few LEIs whose ISO 7064
check digits fail, and in its own files a published LEI is by definition the identifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from accountree.registry._arrow import coalesce, first_matching, is_lei, join_non_null, lookup, text, to_date
from accountree.registry._base import Format, ParseContext, norm_key
from accountree.registry.codes import elf_legal_forms
from accountree.registry.schema import ENTITY_SCHEMA, LINK_SCHEMA, empty_entities, empty_links, make_batch

GleifLevel = Literal["level1", "level2", "level2_exceptions"]

LEI_EXPECTED = "a 20-character LEI (ISO 17442: 18 capital letters or digits, then 2 digits)"
_VOID_REGISTRATIONS = pa.array(["ANNULLED", "DUPLICATE"])

# RelationshipType -> (relation, link_kind)
RELATIONSHIP_TYPES: dict[str, tuple[str, str]] = {
    "IS_DIRECTLY_CONSOLIDATED_BY": ("subsidiary", "direct"),
    "IS_ULTIMATELY_CONSOLIDATED_BY": ("subsidiary", "ultimate"),
    "IS_INTERNATIONAL_BRANCH_OF": ("branch", "head_office"),
    "IS_FUND-MANAGED_BY": ("fund", "fund_manager"),
    "IS_SUBFUND_OF": ("fund", "umbrella_fund"),
    "IS_FEEDER_TO": ("fund", "master_fund"),
}
# Accounting consolidation is a statement of control (IFRS 10 / US GAAP): the child belongs to the
# parent's group whatever the share; the share is kept as information only.
CONSOLIDATION_TYPES = ("IS_DIRECTLY_CONSOLIDATED_BY", "IS_ULTIMATELY_CONSOLIDATED_BY")
EXCEPTION_CATEGORIES = {
    "DIRECT_ACCOUNTING_CONSOLIDATION_PARENT": "direct",
    "ULTIMATE_ACCOUNTING_CONSOLIDATION_PARENT": "ultimate",
}

_LEVEL1_ALIASES = {
    "lei": ("LEI",), "name": ("Entity.LegalName",), "elf": ("Entity.LegalForm.EntityLegalFormCode",),
    "other_form": ("Entity.LegalForm.OtherLegalForm",), "country": ("Entity.LegalAddress.Country",),
    "city": ("Entity.LegalAddress.City",), "postal_code": ("Entity.LegalAddress.PostalCode",),
    "category": ("Entity.EntityCategory",), "status": ("Entity.EntityStatus",),
    "registration_status": ("Registration.RegistrationStatus",), "updated": ("Registration.LastUpdateDate",),
}
_RR_ALIASES = {
    "child": ("Relationship.StartNode.NodeID",), "parent": ("Relationship.EndNode.NodeID",),
    "type": ("Relationship.RelationshipType",), "status": ("Relationship.RelationshipStatus",),
    "registration_status": ("Registration.RegistrationStatus",), "updated": ("Registration.LastUpdateDate",),
}
_REPEX_ALIASES = {
    "lei": ("LEI",), "category": ("ExceptionCategory", "Exception.Category", "Exception.ExceptionCategory"),
    "updated": ("Registration.LastUpdateDate", "LastUpdateDate"),
}
_PERIOD = "Relationship.Period.{n}.{part}"
_QUANTIFIER = "Relationship.Quantifiers.{n}.{part}"


def _keys(header: Sequence[str]) -> set[str]:
    return {norm_key(h) for h in header}


def _is_level2(header: Sequence[str]) -> bool:
    keys = _keys(header)
    return {"relationshipstartnodenodeid", "relationshipendnodenodeid", "relationshiprelationshiptype"} <= keys


def _reason_columns(header: Sequence[str]) -> list[str]:
    return [h for h in header if norm_key(h).startswith(("exceptionreason", "exceptionexceptionreason"))]


def _is_exceptions(header: Sequence[str]) -> bool:
    keys = _keys(header)
    return "lei" in keys and any(k.endswith("exceptioncategory") for k in keys) and bool(_reason_columns(header))


def _is_level1(header: Sequence[str]) -> bool:
    return {"lei", "entitylegalname"} <= _keys(header)


def detect_gleif_level(header: Sequence[str]) -> GleifLevel | None:
    """Which GLEIF golden-copy file a CSV header belongs to, or None.

    level1: LEI-CDF records (`LEI`, `Entity.LegalName`, …); level2: relationship records
    (`Relationship.StartNode.NodeID`, `Relationship.EndNode.NodeID`, `Relationship.RelationshipType`);
    level2_exceptions: reporting exceptions (`LEI`, `ExceptionCategory`, `ExceptionReason`…).
    """
    if _is_level2(header):
        return "level2"
    if _is_exceptions(header):
        return "level2_exceptions"
    if _is_level1(header):
        return "level1"
    return None


def _status(arr: pa.Array) -> pa.Array:
    """ACTIVE / INACTIVE in lower case; GLEIF's literal "NULL" (status unknown) is null."""
    return pc.if_else(pc.equal(pc.utf8_upper(arr), "NULL"), pa.scalar(None, pa.string()), pc.utf8_lower(arr))


def _not_void(ctx: ParseContext, batch: pa.RecordBatch, valid: pa.Array) -> pa.Array:
    void = pc.is_in(ctx.col(batch, "registration_status"), value_set=_VOID_REGISTRATIONS)
    void = pc.and_(valid, pc.fill_null(void, False))
    ctx.skipped_rows += pc.sum(void).as_py() or 0
    return pc.and_(valid, pc.invert(void))


def _level1(ctx: ParseContext, batch: pa.RecordBatch, first_row: int) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    lei = pc.utf8_upper(ctx.col(batch, "lei"))
    valid = is_lei(lei, check_digits=False)
    ctx.check(valid, first_row, "lei", ctx.col(batch, "lei"), LEI_EXPECTED)
    keep = _not_void(ctx, batch, valid)
    batch, lei = batch.filter(keep), lei.filter(keep)
    code = pc.utf8_upper(ctx.col(batch, "elf"))
    real_code = pc.if_else(pc.is_in(code, value_set=pa.array(["8888", "9999"])), pa.scalar(None, pa.string()), code)
    category = ctx.col(batch, "category")
    return make_batch(ENTITY_SCHEMA, batch.num_rows, {
        "source": "gleif", "source_id": lei, "lei": lei, "name": ctx.col(batch, "name"),
        "legal_form": coalesce(lookup(code, elf_legal_forms()), ctx.col(batch, "other_form"), real_code),
        "country": pc.utf8_upper(ctx.col(batch, "country")), "city": ctx.col(batch, "city"),
        "postal_code": ctx.col(batch, "postal_code"),
        "is_head_office": pc.if_else(pc.equal(category, "BRANCH"), False, pa.scalar(None, pa.bool_())),
        "status": _status(ctx.col(batch, "status")),
        "as_of": ctx.dated(to_date(ctx.col(batch, "updated"))),
    }), empty_links()


def _numbered(header: Sequence[str]) -> list[str]:
    """Relationship.Period.N.* and Relationship.Quantifiers.N.* columns present in the file."""
    return [h for h in header if h.startswith(("Relationship.Period.", "Relationship.Quantifiers."))]


def _period(batch: pa.RecordBatch, part: str) -> pa.Array:
    """The RELATIONSHIP_PERIOD's start or end (accounting periods are not the link's life)."""
    values, conds = [], []
    for n in range(1, 6):
        kind = _PERIOD.format(n=n, part="periodType")
        if kind in batch.schema.names:
            values.append(to_date(text(batch, _PERIOD.format(n=n, part=part))))
            conds.append(pc.equal(text(batch, kind), "RELATIONSHIP_PERIOD"))
    return first_matching(values, conds) if values else pa.nulls(batch.num_rows, pa.date32())


def _percentage(batch: pa.RecordBatch) -> pa.Array:
    """First quantifier expressed in PERCENTAGE (GLEIF: share of accounting consolidation)."""
    values, conds = [], []
    for n in range(1, 6):
        units = _QUANTIFIER.format(n=n, part="QuantifierUnits")
        if units in batch.schema.names:
            amount = text(batch, _QUANTIFIER.format(n=n, part="QuantifierAmount"))
            numeric = pc.match_substring_regex(amount, r"^-?[0-9]+(\.[0-9]+)?$")
            values.append(pc.if_else(numeric, amount, pa.scalar(None, pa.string())).cast(pa.float64()))
            conds.append(pc.and_(pc.equal(text(batch, units), "PERCENTAGE"), pc.fill_null(numeric, False)))
    return first_matching(values, conds) if values else pa.nulls(batch.num_rows, pa.float64())


def _consolidation_share(pct: pa.Array, rel_type: pa.Array) -> pa.Array:
    """A consolidation's PERCENTAGE quantifier as a percentage: `0 < q <= 1` is a fraction (GLEIF
    files carry `1.00` for 100 %), `0` is no share at all (nothing measured: null); others as given."""
    consolidation = pc.fill_null(pc.is_in(rel_type, value_set=pa.array(CONSOLIDATION_TYPES)), False)
    fraction = pc.and_(consolidation, pc.fill_null(pc.and_(pc.greater(pct, 0.0), pc.less_equal(pct, 1.0)), False))
    zero = pc.and_(consolidation, pc.fill_null(pc.equal(pct, 0.0), False))
    pct = pc.if_else(fraction, pc.multiply(pct, 100.0), pct)
    return pc.if_else(zero, pa.scalar(None, pa.float64()), pct)


def _level2(ctx: ParseContext, batch: pa.RecordBatch, first_row: int) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    child, parent = pc.utf8_upper(ctx.col(batch, "child")), pc.utf8_upper(ctx.col(batch, "parent"))
    rel_type = pc.utf8_upper(ctx.col(batch, "type"))
    ok_child, ok_parent = is_lei(child, check_digits=False), is_lei(parent, check_digits=False)
    ok_type = pc.is_valid(rel_type)
    ctx.check(ok_child, first_row, "child", ctx.col(batch, "child"), LEI_EXPECTED)
    ctx.check(ok_parent, first_row, "parent", ctx.col(batch, "parent"), LEI_EXPECTED)
    ctx.check(ok_type, first_row, "type", rel_type, "a GLEIF relationship type (IS_DIRECTLY_CONSOLIDATED_BY…)")
    keep = _not_void(ctx, batch, pc.and_(pc.and_(ok_child, ok_parent), ok_type))
    batch, child, parent, rel_type = (x.filter(keep) for x in (batch, child, parent, rel_type))
    relation = pc.coalesce(lookup(rel_type, {k: v[0] for k, v in RELATIONSHIP_TYPES.items()}), "other")
    kind = pc.coalesce(lookup(rel_type, {k: v[1] for k, v in RELATIONSHIP_TYPES.items()}), pc.utf8_lower(rel_type))
    return empty_entities(), make_batch(LINK_SCHEMA, batch.num_rows, {
        "source": "gleif", "child_source_id": child, "parent_source_id": parent,
        "relation": relation, "link_kind": kind,
        "is_ownership": pc.is_in(relation, value_set=pa.array(["subsidiary", "branch"])),
        "ownership_pct": _consolidation_share(_percentage(batch), rel_type), "relationship_status": _status(ctx.col(batch, "status")),
        "start_date": _period(batch, "startDate"), "end_date": _period(batch, "endDate"),
        "as_of": ctx.dated(to_date(ctx.col(batch, "updated"))),
    })


def _exceptions(ctx: ParseContext, batch: pa.RecordBatch, first_row: int) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    lei = pc.utf8_upper(ctx.col(batch, "lei"))
    valid = is_lei(lei, check_digits=False)
    ctx.check(valid, first_row, "lei", ctx.col(batch, "lei"), LEI_EXPECTED)
    batch, lei = batch.filter(valid), lei.filter(valid)
    category = pc.utf8_upper(ctx.col(batch, "category"))
    reasons = [pc.utf8_upper(text(batch, c)) for c in _reason_columns(batch.schema.names)]
    reason = join_non_null(reasons, ";") if reasons else None
    kind = pc.coalesce(lookup(category, EXCEPTION_CATEGORIES), pc.utf8_lower(category), "other")
    return empty_entities(), make_batch(LINK_SCHEMA, batch.num_rows, {
        "source": "gleif", "child_source_id": lei, "relation": "subsidiary", "is_ownership": True,
        "link_kind": kind, "exception_reason": reason, "as_of": ctx.dated(to_date(ctx.col(batch, "updated"))),
    })


GLEIF_FORMATS = (
    Format(
        "gleif_level2", "gleif",
        ("Relationship.StartNode.NodeID", "Relationship.EndNode.NodeID", "Relationship.RelationshipType",
         "Relationship.RelationshipStatus", "Relationship.Period.N.startDate/endDate/periodType"),
        _is_level2, _RR_ALIASES, _level2, _numbered,
    ),
    Format(
        "gleif_level2_exceptions", "gleif", ("LEI", "ExceptionCategory", "ExceptionReason", "ExceptionReference"),
        _is_exceptions, _REPEX_ALIASES, _exceptions, _reason_columns,
    ),
    Format(
        "gleif_level1", "gleif",
        ("LEI", "Entity.LegalName", "Entity.LegalAddress.Country", "Entity.LegalForm.EntityLegalFormCode",
         "Entity.EntityStatus"),
        _is_level1, _LEVEL1_ALIASES, _level1,
    ),
)
