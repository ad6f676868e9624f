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
    auto = {(c.account_id_l, c.account_id_r) for c in found.by_decision("auto")}
    # clusters of auto pairs (transitive closure), as the merge would make them
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in sorted(auto):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    review = {(c.account_id_l, c.account_id_r) for c in found.by_decision("review")}
    return {
        "records": records.num_rows, "pairs_scored": found.scored_pairs, "seconds": round(seconds, 2),
        "auto": _prf(_cluster_pairs({x: root(x) for x in parent}), truth),
        "review_queue": _prf(review, truth), "auto_plus_review": _prf(auto | review, truth),
    }


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
