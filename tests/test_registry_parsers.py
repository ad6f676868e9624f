"""Registry parsers (accountree.registry): GLEIF, D&B family trees and INSEE SIRENE."""

from __future__ import annotations

import collections
import csv
import datetime as dt
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from accountree.errors import AccountreeError
from accountree.registry import (
    ENTITY_SCHEMA,
    LINK_SCHEMA,
    TREE_LINK_KINDS,
    RegistryFormatError,
    RegistryReadError,
    detect_gleif_level,
    headcount_band,
    parse_registry,
    read_registry,
)

FIXTURES = Path(__file__).parent / "fixtures" / "registry"
SHARED = Path("/work/shared/data")
RR_FILES = sorted((SHARED / "gleif-level2-relationships-subset").glob("*-rr-golden-copy-subset*.csv"))


def header_of(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh))


def links_of(table: pa.Table) -> set[tuple[str, str | None, str, str]]:
    return {
        (r["child_source_id"], r["parent_source_id"], r["relation"], r["link_kind"]) for r in table.to_pylist()
    }


def by_id(table: pa.Table) -> dict[str, dict]:
    return {r["source_id"]: r for r in table.to_pylist()}


# --------------------------------------------------------------------------------------------
# GLEIF
# --------------------------------------------------------------------------------------------


def test_detect_gleif_level() -> None:
    assert detect_gleif_level(header_of(FIXTURES / "gleif_rr_sample.csv")) == "level2"
    assert detect_gleif_level(header_of(FIXTURES / "gleif_level1_golden.csv")) == "level1"
    assert detect_gleif_level(header_of(FIXTURES / "gleif_level1_names_sample.csv")) == "level1"
    assert detect_gleif_level(header_of(FIXTURES / "gleif_repex_sample.csv")) == "level2_exceptions"
    assert detect_gleif_level(["LEI", "Exception.Category", "Exception.Reason.1"]) == "level2_exceptions"
    assert detect_gleif_level(["lei", "entity.legalname"]) == "level1"
    assert detect_gleif_level(["siren", "denominationUniteLegale"]) is None


def _expected_rr(path: Path) -> list[dict]:
    """An independent reading of an RR file with the csv module, for comparison."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_gleif_relationships_sample() -> None:
    result = read_registry("gleif", FIXTURES / "gleif_rr_sample.csv")
    assert result.format == "gleif_level2"
    assert result.entities.num_rows == 0 and result.problem_count == 0
    assert result.links.schema == LINK_SCHEMA
    links = result.links.to_pylist()
    assert len(links) == 29
    kinds = collections.Counter((r["relation"], r["link_kind"], r["is_ownership"]) for r in links)
    assert kinds == {
        ("subsidiary", "direct", True): 14, ("subsidiary", "ultimate", True): 8,
        ("branch", "head_office", True): 3, ("fund", "fund_manager", False): 3,
        ("fund", "umbrella_fund", False): 1,
    }
    raw = _expected_rr(FIXTURES / "gleif_rr_sample.csv")
    for row, link in zip(raw, links, strict=True):  # start node = child, end node = parent
        assert link["child_source_id"] == row["Relationship.StartNode.NodeID"]
        assert link["parent_source_id"] == row["Relationship.EndNode.NodeID"]
        assert link["relationship_status"] == row["Relationship.RelationshipStatus"].lower()
        assert link["as_of"] == dt.date.fromisoformat(row["Registration.LastUpdateDate"][:10])
    first = links[0]  # accounting period 2021, relationship period from 2017-10-02
    assert first["start_date"] == dt.date(2017, 10, 2) and first["end_date"] is None
    pct = {(r["child_source_id"], r["parent_source_id"]): r["ownership_pct"] for r in links if r["ownership_pct"]}
    assert pct[("25340038P8SYW80B9W34", "25340076UP17XECUF417")] == pytest.approx(97.52)
    assert pct[("2138005QGPNS719GGT61", "213800CJL8BEGCDR4525")] == 100.0
    # a chain: 2138002U29YTPPRF1O03 -> 969500TKFV51RUNNJK56 -> R0MUWSFPU8MPRO8K5P83 (also its ultimate)
    edges = links_of(result.links)
    assert ("2138002U29YTPPRF1O03", "969500TKFV51RUNNJK56", "subsidiary", "direct") in edges
    assert ("969500TKFV51RUNNJK56", "R0MUWSFPU8MPRO8K5P83", "subsidiary", "direct") in edges
    assert ("2138002U29YTPPRF1O03", "R0MUWSFPU8MPRO8K5P83", "subsidiary", "ultimate") in edges
    # a self-managed fund is kept, as a non-ownership link
    assert ("2549000KL9FJCOGOZ082", "2549000KL9FJCOGOZ082", "fund", "fund_manager") in edges
    assert {"direct", "head_office"} == set(TREE_LINK_KINDS)


@pytest.mark.skipif(not RR_FILES, reason="real GLEIF RR subsets not found under /work/shared/data")
@pytest.mark.parametrize("path", RR_FILES, ids=lambda p: p.name[-30:])
def test_gleif_relationships_real_files(path: Path) -> None:
    raw = _expected_rr(path)
    result = read_registry("gleif", path, block_size=1 << 18)  # several blocks
    assert result.rows_read == len(raw) and result.links.num_rows == len(raw)
    assert result.problem_count == 0 and result.skipped_rows == 0
    types = collections.Counter(r["Relationship.RelationshipType"] for r in raw)
    links = result.links.to_pylist()
    kinds = collections.Counter(r["link_kind"] for r in links)
    assert kinds["direct"] == types["IS_DIRECTLY_CONSOLIDATED_BY"]
    assert kinds["ultimate"] == types["IS_ULTIMATELY_CONSOLIDATED_BY"]
    assert kinds["head_office"] == types["IS_INTERNATIONAL_BRANCH_OF"]
    assert kinds["fund_manager"] == types["IS_FUND-MANAGED_BY"]
    assert not any(r["is_ownership"] for r in links if r["relation"] == "fund")
    # the direct edges reach the declared ultimate parent for nearly every child
    direct = {r["child_source_id"]: r["parent_source_id"] for r in links if r["link_kind"] == "direct"}
    ultimate = {r["child_source_id"]: r["parent_source_id"] for r in links if r["link_kind"] == "ultimate"}
    reached = 0
    for child, top in ultimate.items():
        node, seen = child, set()
        while node in direct and node not in seen:
            seen.add(node)
            node = direct[node]
        reached += node == top
    assert reached / len(ultimate) > 0.9


def test_gleif_level1_golden_copy() -> None:
    result = read_registry("gleif", FIXTURES / "gleif_level1_golden.csv")
    assert result.format == "gleif_level1" and result.entities.schema == ENTITY_SCHEMA
    assert result.skipped_rows == 1  # the DUPLICATE registration
    assert [(p.row, p.column, p.value) for p in result.problems] == [(7, "LEI", "ABC123")]
    assert "gleif_level1_golden.csv" in str(result.problems[0])
    rows = by_id(result.entities)
    assert set(rows) == {
        "9845000ACCTREE000167", "9845000ACCTREE000264", "9845000ACCTREE000361", "9845000ACCTREE000458",
        "9845000ACCTREE000652", "9845000ACCTREE000749",
    }
    airbus = rows["9845000ACCTREE000167"]
    assert airbus | {} == airbus and airbus["legal_form"] == "SAS"  # ELF 6CHY
    assert (airbus["city"], airbus["postal_code"], airbus["country"]) == ("Blagnac", "31700", "FR")
    assert airbus["status"] == "active" and airbus["as_of"] == dt.date(2025, 6, 30)
    assert airbus["lei"] == airbus["source_id"] and airbus["source"] == "gleif"
    assert rows["9845000ACCTREE000264"]["legal_form"] == "GmbH & Co. KG"  # 8888 + OtherLegalForm
    namibia = rows["9845000ACCTREE000361"]
    assert namibia["country"] == "NA" and namibia["legal_form"] is None and namibia["status"] == "inactive"
    assert rows["9845000ACCTREE000458"]["is_head_office"] is False  # a BRANCH
    assert rows["9845000ACCTREE000652"]["legal_form"] == "SE"  # lower-case LEI accepted
    assert rows["9845000ACCTREE000749"]["legal_form"] == "ZZZZ"  # unknown code kept


def test_gleif_level1_real_names() -> None:
    result = read_registry("gleif", FIXTURES / "gleif_level1_names_sample.csv")
    assert result.problem_count == 0 and result.entities.num_rows == 18
    rows = by_id(result.entities)
    assert "391200014QLC3E6FR705" in rows  # published by GLEIF with failing check digits: kept
    assert rows["254900K6TJFDYKSQWV49"]["country"] is None  # Namibia, lost upstream
    assert rows["2138005BXCB29GMQF588"]["name"].startswith("ΚΟΡΙΝΘΟΣ POWER")


def test_gleif_reporting_exceptions(tmp_path: Path) -> None:
    result = read_registry("gleif", FIXTURES / "gleif_repex_sample.csv", as_of="2026-01-23")
    assert result.format == "gleif_level2_exceptions"
    assert [(p.row, p.value) for p in result.problems] == [(6, "NOT-AN-LEI")]
    got = {(r["child_source_id"], r["link_kind"], r["exception_reason"]) for r in result.links.to_pylist()}
    assert got == {
        ("9845000ACCTREE000167", "direct", "NATURAL_PERSONS"), ("9845000ACCTREE000167", "ultimate", "NATURAL_PERSONS"),
        ("9845000ACCTREE000264", "ultimate", "NON_CONSOLIDATING"), ("9845000ACCTREE000361", "direct", "NO_KNOWN_PERSON"),
    }
    assert all(r["parent_source_id"] is None and r["as_of"] == dt.date(2026, 1, 23) for r in result.links.to_pylist())
    numbered = tmp_path / "repex.csv"
    numbered.write_text(
        "LEI,Exception.Category,Exception.Reason.1,Exception.Reason.2\n"
        "9845000ACCTREE000167,DIRECT_ACCOUNTING_CONSOLIDATION_PARENT,NATURAL_PERSONS,NON_PUBLIC\n"
        "9845000ACCTREE000264,ULTIMATE_ACCOUNTING_CONSOLIDATION_PARENT,,\n",
        encoding="utf-8",
    )
    links = read_registry("gleif", numbered).links.to_pylist()
    assert [r["exception_reason"] for r in links] == ["NATURAL_PERSONS;NON_PUBLIC", None]


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_unknown_header_fails_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("account_id,name,country\n1,Acme,FR\n", encoding="utf-8")
    with pytest.raises(RegistryFormatError) as caught:
        parse_registry("gleif", path)
    err = caught.value
    assert isinstance(err, ValueError) and isinstance(err, AccountreeError)
    message = str(err)
    assert str(path) in message and "Relationship.StartNode.NodeID" in message and "Entity.LegalName" in message
    assert "account_id" in message and err.found == ["account_id", "name", "country"]
    with pytest.raises(RegistryFormatError, match="siret"):
        parse_registry("sirene", FIXTURES / "gleif_rr_sample.csv")
    with pytest.raises(RegistryFormatError, match="D-U-N-S"):
        parse_registry("dnb", FIXTURES / "sirene_StockUniteLegale_utf8.csv")
    with pytest.raises(ValueError, match="unknown registry kind"):
        parse_registry("orbis", path)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        parse_registry("gleif", tmp_path / "missing.csv")


def test_unreadable_bytes_part_way(tmp_path: Path) -> None:
    path = tmp_path / "StockUniteLegale_utf8.csv"
    head = "siren,denominationUniteLegale,etatAdministratifUniteLegale\n" + "552032534,DANONE,A\n" * 40_000
    path.write_bytes(head.encode() + "552032534,SOCIÉTÉ,A\n".encode("cp1252"))
    parser = parse_registry("sirene", path, block_size=1 << 16)
    with pytest.raises(RegistryReadError, match="StockUniteLegale_utf8.csv: cannot read the file in the rows from"):
        for _ in parser:
            pass
    assert parser.rows_read > 30_000  # what came before was streamed


def test_rows_that_do_not_split_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "tree.csv"
    path.write_text(
        "DUNS,Company Name,Parent DUNS\n150483782,Acme Holdings,\n275374108,Acme France,150483782,EXTRA\n"
        "381042265,Acme Industrie,275374108\n",
        encoding="utf-8",
    )
    result = read_registry("dnb", path)
    assert sorted(by_id(result.entities)) == ["150483782", "381042265"]
    assert result.problem_count == 1 and "EXTRA" in result.problems[0].value


# --------------------------------------------------------------------------------------------
# D&B
# --------------------------------------------------------------------------------------------

ACME_HOOVERS_LINKS = {
    ("150483790", "150483782", "branch", "head_office"),
    ("275374108", "150483782", "subsidiary", "direct"),
    ("381042265", "275374108", "subsidiary", "direct"),
    ("412298723", "275374108", "branch", "head_office"),
    ("012345678", "150483782", "subsidiary", "direct"),
    ("150483790", "150483782", "branch", "domestic_ultimate"),
    ("381042265", "275374108", "subsidiary", "domestic_ultimate"),
    ("412298723", "275374108", "branch", "domestic_ultimate"),
    ("150483790", "150483782", "branch", "global_ultimate"),
    ("275374108", "150483782", "subsidiary", "global_ultimate"),
    ("381042265", "150483782", "subsidiary", "global_ultimate"),
    ("412298723", "150483782", "branch", "global_ultimate"),
    ("012345678", "150483782", "subsidiary", "global_ultimate"),
}


def test_dnb_family_tree_csv() -> None:
    result = read_registry("dnb", FIXTURES / "dnb_hoovers_family_tree.csv", as_of=dt.date(2026, 2, 1))
    assert result.format == "dnb_family_tree"
    assert [(p.row, p.column, p.value) for p in result.problems] == [(8, "D-U-N-S Number", "N/A")]
    rows = by_id(result.entities)
    assert set(rows) == {"150483782", "150483790", "275374108", "381042265", "412298723", "012345678"}
    top = rows["150483782"]  # "15-048-3782" normalised
    assert (top["country"], top["headcount_band"], top["is_head_office"], top["status"]) == ("US", "10000+", True, "active")
    assert rows["150483790"]["country"] == "US" and rows["150483790"]["is_head_office"] is False  # "USA", branch
    assert rows["012345678"]["country"] == "GB" and rows["012345678"]["status"] == "inactive"
    assert rows["381042265"]["city"] == "Saint-Étienne" and rows["381042265"]["headcount_band"] == "20-49"
    assert all(r["as_of"] == dt.date(2026, 2, 1) and r["duns"] == r["source_id"] for r in rows.values())
    assert links_of(result.links) == ACME_HOOVERS_LINKS  # no link from a site to itself
    assert all(r["is_ownership"] for r in result.links.to_pylist())


def test_dnb_file_without_any_link(tmp_path: Path) -> None:
    path = tmp_path / "tops.csv"
    path.write_text("DUNS,Company Name,Global Ultimate DUNS\n150483782,Acme Holdings,150483782\n", encoding="utf-8")
    result = read_registry("dnb", path)
    assert result.entities.num_rows == 1 and result.links.num_rows == 0


def test_dnb_direct_plus_paths() -> None:
    result = read_registry("dnb", FIXTURES / "dnb_direct_plus_family_tree.csv")
    assert result.problem_count == 0
    assert links_of(result.links) == {
        ("804735140", "804735132", "branch", "head_office"),
        ("316004551", "804735132", "subsidiary", "direct"),
        ("804735140", "804735132", "branch", "domestic_ultimate"),
        ("804735140", "804735132", "branch", "global_ultimate"),
        ("316004551", "804735132", "subsidiary", "global_ultimate"),
    }
    rows = by_id(result.entities)
    assert rows["804735132"]["is_head_office"] is True and rows["316004551"]["city"] == "München"


def test_dnb_windows_export_with_title_line() -> None:
    """cp1252, ';', CRLF, a title above the header, a combined Parent/HQ column, date in the name."""
    result = read_registry("dnb", FIXTURES / "dnb_export_2026-03-01.csv")
    rows = by_id(result.entities)
    assert rows["381042265"]["city"] == "Saint-Étienne"
    assert {r["as_of"] for r in rows.values()} == {dt.date(2026, 3, 1)}
    direct = {(c, p, rel, k) for c, p, rel, k in links_of(result.links) if k in TREE_LINK_KINDS}
    assert direct == {
        ("275374108", "150483782", "subsidiary", "direct"),
        ("412298723", "275374108", "branch", "head_office"),
        ("381042265", "275374108", "subsidiary", "direct"),
    }


def test_dnb_xlsx(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["D&B Hoovers — Family Tree export"])
    sheet.append([])
    sheet.append(["DUNS Number", "Company Name", "Location Type", "Parent DUNS", "Global Ultimate DUNS", "Country"])
    sheet.append([150483782, "Acme Holdings, Inc.", "Headquarters", None, 150483782, "United States"])
    sheet.append([12345678, "Acme UK Limited", "Headquarters", 150483782, 150483782, "GB"])  # lost its 0
    sheet.append([412298723.0, "Acme France - Lyon", "Branch", 275374108, 150483782, "France"])
    path = tmp_path / "family_tree.xlsx"
    book.save(path)
    result = read_registry("dnb", path)
    assert result.problem_count == 0
    assert sorted(by_id(result.entities)) == ["012345678", "150483782", "412298723"]
    assert ("012345678", "150483782", "subsidiary", "direct") in links_of(result.links)
    assert ("412298723", "275374108", "branch", "head_office") in links_of(result.links)


# --------------------------------------------------------------------------------------------
# SIRENE
# --------------------------------------------------------------------------------------------


def test_sirene_unites_legales() -> None:
    result = read_registry("sirene", FIXTURES / "sirene_StockUniteLegale_utf8.csv")
    assert result.format == "sirene_unite_legale" and result.links.num_rows == 0
    assert [(p.row, p.column, p.value) for p in result.problems] == [(8, "siren", "123456789")]
    rows = by_id(result.entities)
    danone = rows["552032534"]
    assert (danone["name"], danone["legal_form"], danone["naf_code"], danone["headcount_band"]) == (
        "DANONE", "SA", "70.10Z", "500-999",
    )
    assert danone["siren"] == "552032534" and danone["country"] == "FR" and danone["as_of"] == dt.date(2025, 3, 14)
    assert rows["383474814"]["legal_form"] == "SAS" and rows["383474814"]["headcount_band"] == "10000+"
    person = rows["325437259"]  # usual first name + usage name
    assert (person["name"], person["legal_form"], person["headcount_band"]) == ("JEAN MARTIN", "Entrepreneur individuel", "0")
    assert rows["200780963"]["name"] is None  # [ND]: not published
    assert rows["130437866"]["status"] == "inactive" and rows["130437866"]["legal_form"] == "SARL"
    assert rows["518554019"]["legal_form"] == "9970"  # code not in the table: kept


def test_sirene_etablissements() -> None:
    result = read_registry("sirene", FIXTURES / "sirene_StockEtablissement_utf8.csv")
    assert result.format == "sirene_etablissement"
    assert [(p.row, p.column) for p in result.problems] == [(7, "siret"), (8, "siren")]
    rows = by_id(result.entities)
    assert set(rows) == {"55203253400018", "55203253400026", "38347481400001", "38347481400506", "35600000000001"}
    siege = rows["55203253400018"]
    assert (siege["siren"], siege["is_head_office"], siege["postal_code"], siege["city"]) == (
        "552032534", True, "75009", "PARIS",
    )
    assert siege["headcount_band"] == "250-499" and siege["name"] is None
    assert rows["55203253400026"]["name"] == "DANONE RECHERCHE" and rows["55203253400026"]["status"] == "inactive"
    assert rows["38347481400001"]["name"] == "AIRBUS OPERATIONS"  # usual name before the sign
    abroad = rows["38347481400506"]
    assert abroad["country"] is None and abroad["city"] == "HAMBOURG"
    assert "35600000000001" in rows  # La Poste: digit-sum rule instead of Luhn
    links = {r["child_source_id"]: r for r in result.links.to_pylist()}
    assert set(links) == set(rows)
    assert all(
        (r["parent_source_id"], r["relation"], r["link_kind"], r["is_ownership"]) == (r["child_source_id"][:9], "branch", "head_office", True)
        for r in links.values()
    )
    closed = links["55203253400026"]
    assert (closed["start_date"], closed["end_date"], closed["relationship_status"]) == (
        dt.date(1990, 6, 1), dt.date(2019, 12, 31), "inactive",
    )


def _with_luhn_digit(digits: str) -> str:
    """`digits` followed by the check digit that makes the whole pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):  # the check digit will sit right of these
        d = int(ch) * (1 if i % 2 else 2)
        total += d - 9 if d > 9 else d
    return digits + str(-total % 10)


# The 2024+ StockEtablissement layout (more address columns): columns are found by name.
NEW_ETAB_HEADER = (
    "siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,trancheEffectifsEtablissement,"
    "anneeEffectifsEtablissement,activitePrincipaleRegistreMetiersEtablissement,dateDernierTraitementEtablissement,"
    "etablissementSiege,nombrePeriodesEtablissement,complementAdresseEtablissement,numeroVoieEtablissement,"
    "indiceRepetitionEtablissement,dernierNumeroVoieEtablissement,indiceRepetitionDernierNumeroVoieEtablissement,"
    "typeVoieEtablissement,libelleVoieEtablissement,codePostalEtablissement,libelleCommuneEtablissement,"
    "libelleCommuneEtrangerEtablissement,distributionSpecialeEtablissement,codeCommuneEtablissement,"
    "codeCedexEtablissement,libelleCedexEtablissement,codePaysEtrangerEtablissement,libellePaysEtrangerEtablissement,"
    "identifiantAdresseEtablissement,coordonneeLambertAbscisseEtablissement,coordonneeLambertOrdonneeEtablissement,"
    "dateDebut,etatAdministratifEtablissement,enseigne1Etablissement,enseigne2Etablissement,enseigne3Etablissement,"
    "denominationUsuelleEtablissement,activitePrincipaleEtablissement,nomenclatureActivitePrincipaleEtablissement,"
    "caractereEmployeurEtablissement"
)


def _write_big_sirene(path: Path, rows: int, bad_at: int) -> None:
    columns = NEW_ETAB_HEADER.split(",")
    at = {name: columns.index(name) for name in columns}
    template = [""] * len(columns)
    for name, value in {
        "codePostalEtablissement": "75008", "libelleCommuneEtablissement": "PARIS",
        "etatAdministratifEtablissement": "A", "trancheEffectifsEtablissement": "12",
    }.items():
        template[at[name]] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for i in range(rows):
            siren = _with_luhn_digit(f"{40000000 + i // 1000:08d}")  # 1,000 establishments per unit
            siret = _with_luhn_digit(f"{siren}{i % 1000:04d}")
            row = template.copy()
            row[at["siren"]], row[at["nic"]] = siren, siret[9:]
            row[at["siret"]] = "12345678901234" if i == bad_at else siret
            row[at["etablissementSiege"]] = "true" if i % 1000 == 0 else "false"
            row[at["libelleVoieEtablissement"]] = f"RUE {i}"
            writer.writerow(row)


def test_streaming_a_bigger_file(tmp_path: Path) -> None:
    rows, bad_at = 120_000, 98_765
    path = tmp_path / "StockEtablissement_utf8.csv"
    _write_big_sirene(path, rows, bad_at)
    parser = parse_registry("sirene", path, block_size=1 << 20, as_of="2026-01-01")
    sizes = []
    total = 0
    for entities, links in parser:
        assert entities.schema == ENTITY_SCHEMA and links.schema == LINK_SCHEMA
        assert entities.num_rows == links.num_rows
        sizes.append(entities.num_rows)
        total += entities.num_rows
    assert len(sizes) > 5 and max(sizes) < rows / 3  # streamed in blocks, never the whole file
    assert total == rows - 1 and parser.rows_read == rows
    assert [(p.row, p.column, p.value) for p in parser.problems] == [(bad_at + 2, "siret", "12345678901234")]
    archive = tmp_path / "StockEtablissement_utf8.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, "StockEtablissement_utf8.csv")
    zipped = read_registry("sirene", archive)
    assert zipped.entities.num_rows == rows - 1 and zipped.problem_count == 1
    assert set(zipped.entities.column("as_of").to_pylist()) == {None}  # no record date, no date in name


def test_max_problems_caps_the_list(tmp_path: Path) -> None:
    path = tmp_path / "StockUniteLegale_utf8.csv"
    lines = ["siren,denominationUniteLegale,etatAdministratifUniteLegale"]
    lines += [f"{100000000 + i},BAD {i},A" for i in range(1, 500, 2)]  # mostly failing Luhn
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parser = parse_registry("sirene", path, max_problems=10)
    kept = sum(b.entities.num_rows for b in parser)
    assert len(parser.problems) == 10 and parser.problem_count + kept == 250


def test_headcount_band() -> None:
    assert [headcount_band(n) for n in (None, -1, 0, 1, 35, 250, 12_500)] == [
        None, None, "0", "1-2", "20-49", "250-499", "10000+",
    ]
