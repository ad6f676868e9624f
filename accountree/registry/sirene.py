"""INSEE SIRENE stock files: `StockUniteLegale_utf8.csv` (legal units, by SIREN) and
`StockEtablissement_utf8.csv` (establishments, by SIRET).

An establishment is a place of business of its legal unit, not a separate company: it becomes an
entity of its own (so sites can be matched, with their address, NAF code and headcount) plus a
`branch` link to the SIREN with link_kind `head_office` — the SIREN is the legal entity the site
belongs to. The siège (head office) establishment is linked the same way and flagged with
`is_head_office`; no link ever goes from one establishment to another. SIRENE holds no group
structure: parents of legal units come from GLEIF or D&B.

Names: a company's `denominationUniteLegale`, else for an individual entrepreneur "first name
last name" (usual name first); an establishment's `denominationUsuelleEtablissement`, else its
`enseigne1Etablissement` (else null: join the legal unit through the link). Values INSEE hides
("[ND]", partial diffusion) are null.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from accountree.registry._arrow import (
    coalesce,
    digit_sum_multiple_of,
    is_luhn,
    join_non_null,
    lookup,
    to_date,
)
from accountree.registry._base import Format, ParseContext, norm_key
from accountree.registry.codes import INSEE_LEGAL_FORMS
from accountree.registry.schema import (
    ENTITY_SCHEMA,
    INSEE_HEADCOUNT_BANDS,
    LINK_SCHEMA,
    empty_links,
    make_batch,
)

SIREN_EXPECTED = "a SIREN: 9 digits with a valid check digit"
SIRET_EXPECTED = "a SIRET: 14 digits (SIREN + NIC) with a valid check digit"
_LA_POSTE = "356000000"  # its SIRETs follow their own rule (sum of digits multiple of 5)
_STATUS = {"A": "active", "C": "inactive", "F": "inactive"}  # actif, cessé (unit), fermé (site)

_UNITE_ALIASES = {
    "siren": ("siren",), "denomination": ("denominationUniteLegale",),
    "usual_name": ("denominationUsuelle1UniteLegale",), "last_name": ("nomUniteLegale",),
    "usage_name": ("nomUsageUniteLegale",), "usual_first": ("prenomUsuelUniteLegale",),
    "first_name": ("prenom1UniteLegale",), "cj": ("categorieJuridiqueUniteLegale",),
    "naf": ("activitePrincipaleUniteLegale",), "tranche": ("trancheEffectifsUniteLegale",),
    "etat": ("etatAdministratifUniteLegale",), "updated": ("dateDernierTraitementUniteLegale",),
}
_ETAB_ALIASES = {
    "siret": ("siret",), "siren": ("siren",), "siege": ("etablissementSiege",),
    "usual_name": ("denominationUsuelleEtablissement",), "sign": ("enseigne1Etablissement",),
    "postal_code": ("codePostalEtablissement",), "city": ("libelleCommuneEtablissement",),
    "city_abroad": ("libelleCommuneEtrangerEtablissement",), "country_abroad": ("codePaysEtrangerEtablissement",),
    "naf": ("activitePrincipaleEtablissement",), "tranche": ("trancheEffectifsEtablissement",),
    "etat": ("etatAdministratifEtablissement",), "created": ("dateCreationEtablissement",),
    "period_start": ("dateDebut",), "updated": ("dateDernierTraitementEtablissement",),
    # joined extracts (établissement + unité légale columns) also give the company's name and form
    "unit_name": ("denominationUniteLegale",), "unit_cj": ("categorieJuridiqueUniteLegale",),
}


def _keys(header: Sequence[str]) -> set[str]:
    return {norm_key(h) for h in header}


def _is_etablissement(header: Sequence[str]) -> bool:
    return {"siret", "etablissementsiege"} <= _keys(header)


def _is_unite_legale(header: Sequence[str]) -> bool:
    keys = _keys(header)
    return "siren" in keys and "siret" not in keys and bool(
        keys & {"denominationunitelegale", "categoriejuridiqueunitelegale", "etatadministratifunitelegale"}
    )


def _shown(arr: pa.Array) -> pa.Array:
    """INSEE writes "[ND]" (non diffusible) where a person asked not to be published."""
    return pc.if_else(pc.equal(arr, "[ND]"), pa.scalar(None, pa.string()), arr)


def _valid_siren(siren: pa.Array) -> pa.Array:
    return is_luhn(siren, 9)


def _valid_siret(siret: pa.Array) -> pa.Array:
    la_poste = pc.fill_null(pc.starts_with(siret, _LA_POSTE), False)
    return pc.if_else(la_poste, digit_sum_multiple_of(siret, 14, 5), is_luhn(siret, 14))


def _legal_form(cj: pa.Array) -> pa.Array:
    """INSEE catégorie juridique -> label; the raw 4-digit code when the table lacks it."""
    return pc.coalesce(lookup(cj, INSEE_LEGAL_FORMS), cj)


def _unite_legale(ctx: ParseContext, batch: pa.RecordBatch, first_row: int) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    siren = ctx.col(batch, "siren")
    valid = _valid_siren(siren)
    ctx.check(valid, first_row, "siren", siren, SIREN_EXPECTED)
    batch, siren = batch.filter(valid), siren.filter(valid)
    col = lambda name: _shown(ctx.col(batch, name))  # noqa: E731
    person = join_non_null(
        [coalesce(col("usual_first"), col("first_name")), coalesce(col("usage_name"), col("last_name"))], " "
    )
    return make_batch(ENTITY_SCHEMA, batch.num_rows, {
        "source": "sirene", "source_id": siren, "siren": siren,
        "name": coalesce(col("denomination"), col("usual_name"), person),
        "legal_form": _legal_form(ctx.col(batch, "cj")), "country": "FR",
        "naf_code": ctx.col(batch, "naf"), "headcount_band": lookup(ctx.col(batch, "tranche"), INSEE_HEADCOUNT_BANDS),
        "status": lookup(ctx.col(batch, "etat"), _STATUS),
        "as_of": ctx.dated(to_date(ctx.col(batch, "updated"))),
    }), empty_links()


def _etablissement(ctx: ParseContext, batch: pa.RecordBatch, first_row: int) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    siret = ctx.col(batch, "siret")
    valid = _valid_siret(siret)
    ctx.check(valid, first_row, "siret", siret, SIRET_EXPECTED)
    head = pc.utf8_slice_codeunits(siret, 0, 9)
    siren = pc.coalesce(ctx.col(batch, "siren"), head)
    same = pc.fill_null(pc.equal(siren, head), False)
    ctx.check(pc.or_(pc.invert(valid), same), first_row, "siren", siren, "the first 9 digits of the SIRET")
    keep = pc.and_(valid, same)
    batch, siret, siren = batch.filter(keep), siret.filter(keep), siren.filter(keep)
    col = lambda name: _shown(ctx.col(batch, name))  # noqa: E731
    abroad = ctx.col(batch, "country_abroad")
    status = lookup(ctx.col(batch, "etat"), _STATUS)
    as_of = ctx.dated(to_date(ctx.col(batch, "updated")))
    entities = make_batch(ENTITY_SCHEMA, batch.num_rows, {
        "source": "sirene", "source_id": siret, "siren": siren, "siret": siret,
        "name": coalesce(col("usual_name"), col("sign"), col("unit_name")),
        "legal_form": _legal_form(ctx.col(batch, "unit_cj")),
        # foreign establishments carry an INSEE country code (99xxx), not ISO: left null
        "country": pc.if_else(pc.is_null(abroad), "FR", pa.scalar(None, pa.string())),
        "city": coalesce(ctx.col(batch, "city"), ctx.col(batch, "city_abroad")),
        "postal_code": ctx.col(batch, "postal_code"), "naf_code": ctx.col(batch, "naf"),
        "headcount_band": lookup(ctx.col(batch, "tranche"), INSEE_HEADCOUNT_BANDS),
        "is_head_office": lookup(pc.utf8_lower(ctx.col(batch, "siege")), {"true": "true", "false": "false"}),
        "status": status, "as_of": as_of,
    })
    closed = pc.fill_null(pc.equal(status, "inactive"), False)
    links = make_batch(LINK_SCHEMA, batch.num_rows, {
        "source": "sirene", "child_source_id": siret, "parent_source_id": siren, "relation": "branch",
        "is_ownership": True, "link_kind": "head_office", "relationship_status": status,
        "start_date": to_date(ctx.col(batch, "created")),
        # the current period of a closed site starts on its closing date
        "end_date": pc.if_else(closed, to_date(ctx.col(batch, "period_start")), pa.scalar(None, pa.date32())),
        "as_of": as_of,
    })
    return entities, links


SIRENE_FORMATS = (
    Format(
        "sirene_etablissement", "sirene",
        ("siret", "siren", "etablissementSiege", "denominationUsuelleEtablissement", "enseigne1Etablissement",
         "codePostalEtablissement", "libelleCommuneEtablissement", "etatAdministratifEtablissement"),
        _is_etablissement, _ETAB_ALIASES, _etablissement,
    ),
    Format(
        "sirene_unite_legale", "sirene",
        ("siren", "denominationUniteLegale", "categorieJuridiqueUniteLegale", "activitePrincipaleUniteLegale",
         "trancheEffectifsUniteLegale", "etatAdministratifUniteLegale"),
        _is_unite_legale, _UNITE_ALIASES, _unite_legale,
    ),
)
