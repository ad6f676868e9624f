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
    return {
        "records": records.num_rows, "pairs_scored": found.scored_pairs, "seconds": round(seconds, 2),
        "auto": _prf(_cluster_pairs(survivor_of), truth),
        "review_queue": _prf(review, truth), "auto_plus_review": _prf(auto | review, truth),
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


def load_ror(path: str | Path, rows: int = 3000) -> tuple[pa.Table, dict[str, str]]:
    """The first `rows` labelled ROR affiliation strings (Crossref set, see shared/data): the string
    is the name, nothing else is known; the ROR id is the true entity."""
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        labelled = [r for r in csv.DictReader(fh) if r["ror_id"]][:rows]
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
