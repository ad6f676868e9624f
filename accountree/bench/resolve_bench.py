"""Quality of duplicate resolution against the demo ground truth (and labelled real data).

`run_resolve_bench(accounts=2000, seed=7)` generates the demo bundle, imports it into a fresh
DuckDB workspace, runs `resolve` (automatic merges applied) and scores, against
`truth/duplicates.csv`:

- **auto** — *cluster-based pairwise* metrics of the automatic merges: the predicted entities are
  the survivors of `export resolution`; every pair of records inside one predicted entity is a
  predicted match (transitive closure included), every pair inside one true entity a true match.
  precision = correct predicted pairs / predicted pairs, recall = correct / true pairs.
- **review** — *pairwise* metrics of the review queue: precision of the pending pairs, and the
  recall of auto ∪ review (what a reviewer who accepts every true pair would reach).

`score_records(records, truth_entity, options)` runs the same scoring on any labelled records
(the Chicago ECE and ROR sets in `tests/test_resolve_bench.py` / the README).
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections import defaultdict
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

import pyarrow as pa

from accountree.resolve.pipeline import ResolveOptions, find_candidates
from accountree.resolve.service import _clusters


def _true_pairs(entity_of: dict[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for record, entity in entity_of.items():
        members[entity].append(record)
    return {tuple(sorted(p)) for ids in members.values() for p in combinations(sorted(ids), 2)}


def _prf(predicted: set, truth: set) -> dict[str, float]:
    hit = len(predicted & truth)
    p = hit / len(predicted) if predicted else 1.0
    r = hit / len(truth) if truth else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "predicted": len(predicted),
            "correct": hit, "true": len(truth)}


def _cluster_pairs(survivor_of: dict[str, str]) -> set[tuple[str, str]]:
    return _true_pairs(survivor_of)


def score_records(records: pa.Table, entity_of: dict[str, str], options: ResolveOptions | None = None) -> dict[str, Any]:
    """Score the resolver on labelled records (no workspace: the model and guard only)."""
    from accountree.store import open_workspace

    options = options or ResolveOptions()
    with tempfile.TemporaryDirectory() as tmp:
        ws = open_workspace(str(Path(tmp) / "bench.duckdb"))
        try:
            started = time.perf_counter()
            found = find_candidates(ws, options, accounts=records)
            seconds = time.perf_counter() - started
        finally:
            ws.close()
    truth = _true_pairs(entity_of)
    # clusters of auto pairs (transitive closure), as `resolve` would merge them
    groups, held = _clusters(found.by_decision("auto"), found)
    survivor_of = {m.account_id: group.members[0].account_id for group in groups for m in group.members}
    auto = {(c.account_id_l, c.account_id_r) for c in found.by_decision("auto") if c not in held}
    review = {(c.account_id_l, c.account_id_r) for c in found.by_decision("review") + held}
    predicted = _cluster_pairs(survivor_of)
    return {
        "records": records.num_rows, "pairs_scored": found.scored_pairs, "seconds": round(seconds, 2),
        "auto": _prf(predicted, truth), "_predicted": predicted,
        "review_queue": _prf(review, truth), "auto_plus_review": _prf(predicted | auto | review, truth),
    }


SHARED_DATA = Path("/work/shared/data")
CHICAGO = Path("chicago-ece-sites-dedupe") / "csv_example_input_with_true_ids.csv"
ROR = Path("ror-affiliation-matching") / "20230628_Crossref_publisher_asserted_affiliation_string_ROR_IDs.csv"


def load_chicago(path: str | Path, country: str | None = "US") -> tuple[pa.Table, dict[str, str]]:
    """Chicago early-childhood sites (dedupe-examples, see shared/data): records and true entities.

    As accounts: `Site name` -> name, `Address` -> city (the only location field; sites of one
    agency differ by it), `Website` -> website; every site is in Chicago, so country "US" (None
    to leave it out, as in an export without countries)."""
    with Path(path).open(encoding="utf-8", errors="replace", newline="") as fh:
        rows = list(csv.DictReader(fh))
    records = pa.table({
        "account_id": [r["Id"] for r in rows], "name": [r["Site name"] for r in rows],
        "city": [r["Address"] or None for r in rows], "website": [r["Website"] or None for r in rows],
        "country": [country] * len(rows),
    })
    return records, {r["Id"]: r["True Id"] for r in rows}


def load_ror(path: str | Path, rows: int = 3000, scorable: bool = False) -> tuple[pa.Table, dict[str, str]]:
    """The first `rows` labelled ROR affiliation strings (Crossref set, see shared/data): the string
    is the name, nothing else is known; the ROR id is the true entity. `scorable`: without the
    strings whose normalised form the set labels with two or more ROR ids ("Howard Hughes Medical
    Institute, Stanford University" is HHMI in one row, Stanford in another: no name-based answer
    can be right for both)."""
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        labelled = [r for r in csv.DictReader(fh) if r["ror_id"]][:rows]
    if scorable:
        from accountree.resolve.normalize import normalize_name

        ids_of: dict[str, set[str]] = defaultdict(set)
        for r in labelled:
            ids_of[normalize_name(r["affiliation"])].add(r["ror_id"])
        labelled = [r for r in labelled if len(ids_of[normalize_name(r["affiliation"])]) == 1]
    ids = [f"R{i:05d}" for i in range(len(labelled))]
    records = pa.table({"account_id": ids, "name": [r["affiliation"] for r in labelled]})
    return records, {i: r["ror_id"] for i, r in zip(ids, labelled, strict=True)}


def run_resolve_bench(accounts: int = 2000, seed: int = 7, options: ResolveOptions | None = None,
                      out_dir: str | Path | None = None) -> dict[str, Any]:
    """Generate the demo, import it, resolve (auto merges applied), score against the truth."""
    from accountree.demo import generate_bundle
    from accountree.ingest import import_bundle
    from accountree.resolve.service import resolve
    from accountree.store import open_workspace

    options = options or ResolveOptions()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(out_dir) if out_dir else Path(tmp) / "bundle"
        if not (bundle / "accounts.csv").exists():
            generate_bundle(bundle, accounts=accounts, seed=seed, reference_date=date(2026, 11, 1))
        with (bundle / "truth" / "duplicates.csv").open(encoding="utf-8") as fh:
            entity_of = {r["account_id"]: r["entity_id"] for r in csv.DictReader(fh)}
        ws = open_workspace(str(Path(tmp) / "bench.duckdb"))
        try:
            import_bundle(ws, [str(bundle)])
            started = time.perf_counter()
            summary = resolve(ws, options, user="bench")
            seconds = time.perf_counter() - started
            survivor_of = dict(ws.engine.fetchall(
                "SELECT account_id, account_id FROM accounts UNION ALL SELECT old_id, survivor_id FROM account_aliases"))
            review = {tuple(sorted(r)) for r in ws.engine.fetchall(
                "SELECT account_id_l, account_id_r FROM duplicate_candidates WHERE status = 'pending'")}
        finally:
            ws.close()
    truth = _true_pairs(entity_of)
    auto = _cluster_pairs(survivor_of)
    return {
        "accounts": accounts, "seed": seed, "seconds": round(seconds, 2),
        "auto_threshold": options.auto_threshold, "review_threshold": options.review_threshold,
        "metric": "pairwise; auto = pairs inside merged clusters (transitive closure)",
        "auto": _prf(auto, truth), "review_queue": _prf(review, truth), "auto_plus_review": _prf(auto | review, truth),
        "summary": summary,
    }


# ---------------------------------------------------------------------------------------------
# Every labelled set, with its other columns and name only (`accountree bench resolve --all`)
# ---------------------------------------------------------------------------------------------

NAME_ONLY_KEEP = ("account_id", "name")


def name_only(records: pa.Table) -> pa.Table:
    """The same records with every column but the id and the name blanked (a name-only list)."""
    return records.select([c for c in records.column_names if c in NAME_ONLY_KEEP])


def load_name_mapping(path: str | Path) -> tuple[pa.Table, dict[str, str]]:
    """A `variant -> canonical` list, one pair a line (`#` comments), such as cncf/gitdm's
    `src/company-names-mapping` (read from a path the user gives: not shipped, its licence is not
    stated). Each variant is one record; its canonical name is its true entity."""
    names, entities = [], []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or " -> " not in line:
            continue
        variant, canonical = line.split(" -> ", 1)
        if variant.strip() and canonical.strip():
            names.append(variant.strip())
            entities.append(canonical.strip().lower())
    ids = [f"G{i:05d}" for i in range(len(names))]
    return pa.table({"account_id": ids, "name": names}), dict(zip(ids, entities, strict=True))


def name_sharing_pairs(records: pa.Table, truth: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The true pairs whose two names share most of their name (the normalised names, spaces
    removed, ≥ 80 % alike by edit distance, or all the words of the shorter name in the longer):
    what name evidence can find at all ("AWS" / "Amazon" cannot be)."""
    from rapidfuzz import fuzz

    from accountree.resolve.normalize import normalize_name

    norm = {i: normalize_name(n) for i, n in zip(records.column("account_id").to_pylist(),
                                                  records.column("name").to_pylist(), strict=True)}
    out = set()
    for a, b in truth:
        x, y = norm.get(a, ""), norm.get(b, "")
        if x and y and (fuzz.ratio(x.replace(" ", ""), y.replace(" ", "")) >= 80
                        or fuzz.token_set_ratio(x, y) == 100):
            out.add((a, b))
    return out


# A generated name-only list shaped like a real trade or event list: each company under tens to
# hundreds of spellings (legal form dotted / spaced / glued / spelled out / left out, case,
# apostrophes and back-ticks, typos, words swapped, a word cut short, exact repeats), next to
# sister companies of its group that must stay apart.
_FORM_SPELLINGS = {
    "N.V.": ("N.V.", "NV", "N V", "N.V", "nv", "Naamloze Vennootschap", ""),
    "B.V.": ("B.V.", "BV", "B V", "B.V", "bv", "Besloten Vennootschap", ""),
    "GmbH": ("GmbH", "GMBH", "G.m.b.H.", "Gmbh", "G m b H", ""),
    "S.A.": ("S.A.", "SA", "S A", "S.A", "Société Anonyme", ""),
    "Ltd": ("Ltd", "Ltd.", "LTD", "Limited", "L.T.D.", ""),
    "AG": ("AG", "A.G.", "Aktiengesellschaft", "ag", ""),
}


def _typo(word: str, rng, shortest: int = 6, letters: str = "aeinorst", doubled: bool = False) -> str:
    """One typo inside `word` (not its first or last letter): a letter left out, two swapped, one
    replaced by one of `letters`, or (`doubled`) one typed twice."""
    if len(word) < shortest:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4 if doubled else 3)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 2:
        return word[:i] + rng.choice(letters) + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def spelling(words: list[str], form: str, rng) -> str:
    """One way a person might write the company `words` + legal `form`."""
    words = list(words)
    if rng.random() < 0.25:
        j = rng.randrange(len(words))
        words[j] = _typo(words[j], rng)
    if rng.random() < 0.15 and len(words[-1]) >= 8:
        words[-1] = words[-1][: max(5, len(words[-1]) * 6 // 10)]  # cut short
    if rng.random() < 0.1 and len(words) >= 2:
        words = words[1:] + words[:1] if words[0].lower() != "koninklijke" else words
    text = " ".join(words)
    text = text.replace("'", rng.choice(["'", "’", "`", "´", ""]))
    text = text.replace(" & ", rng.choice([" & ", " and ", " en ", "&", " + "]) if " & " in text else " & ")
    legal = rng.choice(_FORM_SPELLINGS[form])
    if legal:
        text = f"{text}{rng.choice([' ', ', ', ' '])}{legal}"
    case = rng.random()
    if case < 0.2:
        text = text.upper()
    elif case < 0.3:
        text = text.lower()
    if rng.random() < 0.05:
        text = f"  {text} "
    return text


_GROUPS = (
    # (holding words, form, sisters: (words, form))
    (["Koninklijke", "Vandermeer", "Holding"], "N.V.",
     ((["Vandermeer", "IP", "Assets"], "B.V."), (["Vandermeer", "Research"], "B.V."))),
    (["Brouwerij", "De", "Kroon"], "B.V.", ((["Brouwerij", "De", "Kroon", "Export"], "B.V."),)),
    (["Hoffmann", "Maschinenbau"], "GmbH", ((["Hoffmann", "Maschinenbau", "Service"], "GmbH"),)),
    (["L'Atelier", "Dufresne"], "S.A.", ((["Dufresne", "Immobilier"], "S.A."),)),
    (["Ashcombe", "&", "Rowley", "Engineering"], "Ltd", ((["Ashcombe", "&", "Rowley", "Holdings"], "Ltd"),)),
    (["Keller", "Pharma"], "AG", ((["Keller", "Pharma", "Research"], "AG"),)),
)


def many_spellings(spellings: int = 200, sister_spellings: int = 12, seed: int = 5) -> tuple[pa.Table, dict[str, str]]:
    """A generated name-only list: the first company of `_GROUPS` under `spellings` spellings, the
    other groups' main companies under a fifth of that, every sister under `sister_spellings`;
    a third of the rows repeat an earlier row exactly. Returns records and true entities."""
    import random

    rng = random.Random(seed)
    rows: list[tuple[str, str]] = []
    for g, (words, form, sisters) in enumerate(_GROUPS):
        companies = [(words, form, spellings if g == 0 else max(10, spellings // 5))]
        companies += [(w, f, sister_spellings) for w, f in sisters]
        for c, (w, f, n) in enumerate(companies):
            entity = f"E{g}.{c}"
            made = [spelling(w, f, rng) for _ in range(n)]
            for k in range(n):
                rows.append((made[k] if k < n * 2 // 3 or k == 0 else rng.choice(made[:k]), entity))
    rng.shuffle(rows)
    ids = [f"S{i:05d}" for i in range(len(rows))]
    return (pa.table({"account_id": ids, "name": [r[0] for r in rows]}),
            dict(zip(ids, [r[1] for r in rows], strict=True)))


GLEIF_NAMES = Path("gleif-level1-names-sample") / "gleif_level1_names_sample_1in20.csv"
# How a register or a CRM writes a legal form (the `_FORM_SPELLINGS` above, for real names' forms).
_REGISTER_FORMS = {
    "N.V.": ("N.V.", "NV", "N V", "N.V", "N. V.", ""), "B.V.": ("B.V.", "BV", "B V", "B.V", "B. V.", ""),
    "GMBH": ("GmbH", "GMBH", "G.m.b.H.", "Gmbh", ""), "LIMITED": ("Limited", "LTD", "Ltd.", "Ltd", ""),
    "LTD": ("Limited", "LTD", "Ltd.", "Ltd", ""), "S.A.": ("S.A.", "SA", "S A", "S.A", ""),
    "SA": ("S.A.", "SA", "S A", ""), "AG": ("AG", "A.G.", "Aktiengesellschaft", ""),
    "INC.": ("Inc.", "INC", "Inc", "Incorporated", ""), "LLC": ("LLC", "L.L.C.", "llc", ""),
    "SAS": ("SAS", "S.A.S.", "S.A.S", ""), "AB": ("AB", "Aktiebolag", ""), "S.R.L.": ("S.R.L.", "SRL", "S.r.l.", ""),
    "PLC": ("PLC", "plc", "P.L.C.", ""),
}
_REGISTER_COUNTRIES = ("NL", "DE", "FR", "GB", "US", "BE", "IT", "ES", "SE", "CH")


def register_spelling(name: str, rng) -> str:
    """One way a register or a CRM export writes the real legal name `name`: a typo in a word
    (30 %), the last word cut short (10 %), words rotated (5 %), apostrophes and `&` written
    otherwise, the legal form dotted / spaced / spelled out / left out, the case changed, a
    trailing comma or a double space."""
    words = name.split()
    form = words[-1].upper() if words[-1].upper() in _REGISTER_FORMS else None
    if form:
        words = words[:-1]
    if rng.random() < 0.3 and words:
        j = rng.randrange(len(words))
        words[j] = _typo(words[j], rng, 4, "aeioulnrst", doubled=True)
    if rng.random() < 0.1 and len(words[-1]) >= 8:
        words[-1] = words[-1][: max(5, len(words[-1]) * 6 // 10)] + rng.choice(["", "."])
    if rng.random() < 0.05 and len(words) >= 2:
        words = words[1:] + words[:1]
    text = " ".join(words).replace("'", rng.choice(["'", "’", "`", "´", " "]))
    text = text.replace(" & ", rng.choice([" & ", " and ", "&", " + "]))
    if form and (legal := rng.choice(_REGISTER_FORMS[form])):
        text += rng.choice([" ", ", ", " "]) + legal
    case = rng.random()
    text = text.upper() if case < 0.4 else text.title() if case < 0.6 else text.lower() if case < 0.7 else text
    if rng.random() < 0.03:
        text += rng.choice([",", ".", " ", " -"])
    if rng.random() < 0.03:
        text = text.replace(" ", "  ", 1)
    return text


def register_list(path: str | Path, companies: int = 100, seed: int = 3) -> tuple[pa.Table, dict[str, str]]:
    """A list shaped like the issue's real one, from real names: `companies` GLEIF legal names (2–6
    words, ten countries) each written 3 to 300 ways (Zipf: the first 300, the hundredth 5), a third
    of each company's rows exact repeats, ~1,900 rows with the LEI's country; truth = the LEI."""
    import csv
    import random

    rng = random.Random(seed)
    with Path(path).open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["Entity.LegalAddress.Country"] in _REGISTER_COUNTRIES
                and 2 <= len(r["Entity.LegalName"].split()) <= 6]
    rng.shuffle(rows)
    out: list[tuple[str, str, str]] = []
    for k, r in enumerate(rows[:companies]):
        n = max(3, min(300, int(300 / (k + 1) ** 0.9)))
        made = [register_spelling(r["Entity.LegalName"], rng) for _ in range(n)]
        for i in range(n):
            out.append((made[i] if i < n * 2 // 3 or i == 0 else rng.choice(made[:i]), r["LEI"],
                        r["Entity.LegalAddress.Country"]))
    rng.shuffle(out)
    ids = [f"L{i:05d}" for i in range(len(out))]
    return (pa.table({"account_id": ids, "name": [o[0] for o in out], "country": [o[2] for o in out]}),
            dict(zip(ids, [o[1] for o in out], strict=True)))


def crm_list(path: str | Path, names: int = 3000, duplicated: float = 0.1, seed: int = 1) -> tuple[pa.Table, dict[str, str]]:
    """A list shaped like a CRM export, from real names: `names` GLEIF legal names (every country,
    as the file has them), most once; a share `duplicated` of them also written 1 to 3 more ways
    (`register_spelling`), with the LEI's country; truth = the LEI. Unlike `register_list`, most
    records have no duplicate, and real distinct companies with near names sit side by side
    ("Van der Lugt Beheer B.V." / "Van der Vlugt Beheer B.V."): precision is tested as much as recall."""
    import random

    rng = random.Random(seed)
    with Path(path).open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["Entity.LegalName"].strip()]
    rng.shuffle(rows)
    out: list[tuple[str, str, str]] = []
    for r in rows[:names]:
        name, lei, country = r["Entity.LegalName"], r["LEI"], r["Entity.LegalAddress.Country"]
        out.append((name, lei, country))
        if rng.random() < duplicated:
            out.extend((register_spelling(name, rng), lei, country) for _ in range(rng.randint(1, 3)))
    rng.shuffle(out)
    ids = [f"C{i:05d}" for i in range(len(out))]
    return (pa.table({"account_id": ids, "name": [o[0] for o in out], "country": [o[2] for o in out]}),
            dict(zip(ids, [o[1] for o in out], strict=True)))


def _row(data: str, fields: str, result: dict[str, Any], sharing: dict[str, float] | None = None) -> dict[str, Any]:
    auto = result["auto"]
    return {"data": data, "fields": fields, "records": result.get("records", result.get("accounts")),
            "true pairs": auto["true"], "auto P": auto["precision"], "auto R": auto["recall"], "auto F1": auto["f1"],
            "R (names alike)": sharing.get("recall") if sharing else None,
            "queue": result["review_queue"]["predicted"], "queue P": result["review_queue"]["precision"],
            "auto+review R": result["auto_plus_review"]["recall"], "seconds": result["seconds"]}


def score_set(data: str, fields: str, records: pa.Table, entity_of: dict[str, str],
              options: ResolveOptions | None = None) -> dict[str, Any]:
    """`score_records`, plus the auto recall on the true pairs whose names are alike."""
    result = score_records(records, entity_of, options)
    truth = _true_pairs(entity_of)
    alike = name_sharing_pairs(records, truth)
    predicted = result.pop("_predicted", set())
    sharing = _prf(predicted & alike, alike) if alike else None
    return _row(data, fields, result, sharing)


def run_all(shared: str | Path = SHARED_DATA, names_file: str | Path | None = None, accounts: int = 2000,
            seed: int = 7, options: ResolveOptions | None = None) -> list[dict[str, Any]]:
    """The `bench resolve --all` table: the demo; Chicago sites with their columns and name only;
    ROR affiliation strings; a `variant -> canonical` names file when given; a generated list of
    one company under 200 spellings beside its sisters; three lists of 100 real GLEIF legal names
    written the ways registers write them (`register_list`); two CRM-shaped lists of 3,000 real
    GLEIF names, a tenth of them duplicated (`crm_list`). Sets absent from `shared` are skipped."""
    rows = []
    demo = run_resolve_bench(accounts=accounts, seed=seed, options=options)
    rows.append(_row(f"demo {accounts:,} (seed {seed}, generated)", "all", demo))
    shared = Path(shared)
    if (shared / CHICAGO).exists():
        records, truth = load_chicago(shared / CHICAGO)
        rows.append(score_set("Chicago ECE sites (real)", "name, address, website, country", records, truth, options))
        rows.append(score_set("Chicago ECE sites (real)", "name only", name_only(records), truth, options))
    if (shared / ROR).exists():
        records, truth = load_ror(shared / ROR)
        rows.append(score_set("ROR affiliation strings (real, 3,000)", "name only", records, truth, options))
        records, truth = load_ror(shared / ROR, scorable=True)
        rows.append(score_set("ROR, strings with one ROR id (real)", "name only", records, truth, options))
    if names_file and Path(names_file).exists():
        records, truth = load_name_mapping(names_file)
        rows.append(score_set(f"{Path(names_file).name} (real)", "name only", records, truth, options))
    records, truth = many_spellings()
    rows.append(score_set("one company × 200 spellings + sisters (generated)", "name only", records, truth, options))
    if (shared / GLEIF_NAMES).exists():
        for list_seed in (3, 4, 5):
            records, truth = register_list(shared / GLEIF_NAMES, seed=list_seed)
            data = f"100 real GLEIF names × 3–300 register spellings (generated, seed {list_seed})"
            rows.append(score_set(data, "name, country", records, truth, options))
            rows.append(score_set(data, "name only", name_only(records), truth, options))
        for list_seed in (1, 2):
            records, truth = crm_list(shared / GLEIF_NAMES, seed=list_seed)
            data = f"3,000 real GLEIF names, 1 in 10 written 1–3 more ways (generated, seed {list_seed})"
            rows.append(score_set(data, "name, country", records, truth, options))
            rows.append(score_set(data, "name only", name_only(records), truth, options))
    return rows
