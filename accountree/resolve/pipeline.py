"""Finding duplicates: accounts -> features -> splink scores -> sibling guard -> decisions.

`find_candidates(ws, options)` is pure reading: it pulls the accounts out of the workspace (both
engines: the linkage itself runs on an in-memory DuckDB, or on Spark with `engine="spark"`, see
`model.py` and `linkage.py`), scores the
blocked pairs and classifies each one:

- `auto`   — probability ≥ `auto_threshold` and the guard has no objection: merged by `resolve`;
- `review` — probability ≥ `review_threshold` (or above `auto_threshold` but held back by the
  guard): goes to the review queue;
- below `review_threshold` (never returned by the model), or dropped by the guard, or already
  rejected by a reviewer: nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from accountree.errors import ConfigError
from accountree.resolve.features import ACCOUNT_FIELDS, build_features
from accountree.resolve.guard import Record, Verdict, check, spellings_only
from accountree.resolve.linkage import ENGINES
from accountree.resolve.model import ModelOptions, score_pairs
from accountree.store import Workspace

DEFAULT_AUTO = 0.75  # README "Decisions": between the evidence patterns that are sure and those that are not
DEFAULT_REVIEW = 0.5


@dataclass(frozen=True)
class ResolveOptions:
    auto_threshold: float = DEFAULT_AUTO
    review_threshold: float = DEFAULT_REVIEW
    seed: int = 42
    u_max_pairs: float = 1e6
    engine: str = "duckdb"  # where splink scores the pairs: "duckdb" (in memory) or "spark" (`linkage.py`)
    spark_master: str | None = None  # with engine "spark" (default local[*])

    def check(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"--engine must be {' or '.join(ENGINES)}, not {self.engine!r}")
        if self.spark_master and self.engine != "spark":
            raise ConfigError("--spark-master needs --engine spark")
        if not 0 < self.review_threshold <= self.auto_threshold <= 1:
            raise ConfigError(
                f"thresholds must satisfy 0 < review ({self.review_threshold}) <= auto ({self.auto_threshold}) <= 1",
                hint="e.g. --auto-threshold 0.75 --review-threshold 0.5",
            )


@dataclass
class Candidate:
    pair_id: str
    account_id_l: str
    account_id_r: str
    match_probability: float
    match_weight: float
    evidence: dict
    decision: str  # auto | review
    guard: str | None = None


@dataclass
class Found:
    candidates: list[Candidate] = field(default_factory=list)
    scored_pairs: int = 0  # blocked pairs compared by the model
    accounts: int = 0
    model: dict = field(default_factory=dict)
    prior: float | None = None  # the model's probability that two random records match
    dropped: int = 0  # pairs at or above the review threshold that the guard ruled out
    rejected: set[frozenset[str]] = field(default_factory=set)
    # the guard's verdict on any two accounts (reviewers' rejections included), for the merge clusters
    verdict: Callable[[str, str], Verdict] = field(default=lambda a, b: Verdict("ok"))
    # the two accounts' distinguishing words are only other spellings of each other (`guard.spellings_only`)
    spellings: Callable[[str, str], bool] = field(default=lambda a, b: False)

    def by_decision(self, decision: str) -> list[Candidate]:
        return [c for c in self.candidates if c.decision == decision]


def pair_id(a: str, b: str) -> str:
    """Stable id of an unordered pair of account ids."""
    lo, hi = sorted((a, b))
    return hashlib.sha1(f"{lo}\x1f{hi}".encode()).hexdigest()[:16]


def load_accounts(ws: Workspace) -> pa.Table:
    cols = ", ".join(ACCOUNT_FIELDS)
    return ws.engine.fetch_arrow(f"SELECT {cols} FROM accounts ORDER BY account_id")  # noqa: S608 - constant


def _parents(ws: Workspace, accounts: pa.Table) -> dict[str, list[str]]:
    parents: dict[str, list[str]] = {}
    parent_ids = (accounts.column("parent_id").to_pylist() if "parent_id" in accounts.column_names
                  else [None] * accounts.num_rows)
    for child, parent in zip(accounts.column("account_id").to_pylist(), parent_ids, strict=True):
        if parent and parent != child:
            parents.setdefault(child, []).append(parent)
    for child, parent in ws.engine.fetchall("SELECT child_id, parent_id FROM relationships ORDER BY child_id, parent_id"):
        if parent != child and parent not in parents.get(child, []):
            parents.setdefault(child, []).append(parent)
    return parents


def _ancestry(account_id: str, parents: dict[str, list[str]]) -> tuple[frozenset[str], str]:
    seen: set[str] = set()
    stack = list(parents.get(account_id, []))
    while stack:
        p = stack.pop()
        if p not in seen and p != account_id:
            seen.add(p)
            stack.extend(parents.get(p, []))
    top, hops = account_id, 0
    while parents.get(top) and hops < 50:
        top, hops = parents[top][0], hops + 1
    return frozenset(seen), top


def rejected_pairs(ws: Workspace) -> set[frozenset[str]]:
    """Pairs a reviewer rejected, with ids mapped onto today's survivors."""
    alias = dict(ws.engine.fetchall("SELECT old_id, survivor_id FROM account_aliases"))
    rows = ws.engine.fetchall("SELECT account_id_l, account_id_r FROM duplicate_candidates WHERE status = 'rejected'")
    return {frozenset((alias.get(a, a), alias.get(b, b))) for a, b in rows}


def _in_pairs(features: pa.Table, pairs: pa.Table) -> pa.Table:
    """The rows of `features` whose account is in one of `pairs`."""
    if pairs.num_rows == 0:
        return features.slice(0, 0)
    both = pa.chunked_array(pairs.column("unique_id_l").chunks + pairs.column("unique_id_r").chunks)
    return features.filter(pc.is_in(features.column("unique_id"), value_set=pc.unique(both)))


def _label(summary: dict, comparison: str, gamma: int) -> str:
    if gamma < 0:
        return f"{comparison} missing"
    return next((lv["label"] for lv in summary.get(comparison, []) if lv["gamma"] == gamma), comparison)


def find_candidates(ws: Workspace, options: ResolveOptions | None = None, accounts: pa.Table | None = None) -> Found:
    """Score the blocked pairs and classify those at or above the review threshold (the others are
    dropped without a look: nothing is written for them)."""
    options = options or ResolveOptions()
    options.check()
    accounts = load_accounts(ws) if accounts is None else accounts
    features = build_features(accounts)
    scored = score_pairs(features, ModelOptions(seed=options.seed, u_max_pairs=options.u_max_pairs,
                                                floor=options.review_threshold, engine=options.engine,
                                                spark_master=options.spark_master))
    pairs, summary = scored.pairs, scored.model
    found = Found(scored_pairs=scored.compared, accounts=accounts.num_rows, model=summary, prior=scored.prior)
    # the guard's columns of the accounts in a scored pair only (every cluster member is one): in
    # Python lists for the whole workspace they were ~1 GB at a million accounts
    scored = _in_pairs(features, pairs)
    index = {uid: i for i, uid in enumerate(scored.column("unique_id").to_pylist())}
    tokens = scored.column("tokens").to_pylist()
    ids = {k: scored.column(k).to_pylist() for k in ("lei", "siren", "siret", "duns")}
    forms, cities = scored.column("legal_form").to_pylist(), scored.column("city").to_pylist()
    stems = scored.column("domain_stem").to_pylist()
    parents = _parents(ws, accounts)
    found.rejected = rejected_pairs(ws)
    records: dict[str, Record] = {}

    def record(uid: str) -> Record:
        if uid not in records:
            if uid not in index:  # not in a scored pair (no caller asks for one today): from the whole table
                row = features.filter(pc.equal(features.column("unique_id"), uid)).slice(0, 1)
                index[uid] = len(tokens)
                tokens.append(row.column("tokens")[0].as_py())
                for k, v in ids.items():
                    v.append(row.column(k)[0].as_py())
                forms.append(row.column("legal_form")[0].as_py())
                cities.append(row.column("city")[0].as_py())
                stems.append(row.column("domain_stem")[0].as_py())
            i = index[uid]
            ancestors, top = _ancestry(uid, parents)
            records[uid] = Record(tokens[i], {k: v[i] for k, v in ids.items()}, forms[i], cities[i], ancestors, top,
                                  stems[i])
        return records[uid]

    def verdict(a: str, b: str) -> Verdict:
        a, b = sorted((a, b))
        if frozenset((a, b)) in found.rejected:
            return Verdict("drop", "rejected by a reviewer")
        return check(a, record(a), b, record(b))

    found.verdict = verdict
    found.spellings = lambda a, b: spellings_only(record(a), record(b))
    comparisons = [c[3:] for c in pairs.column_names if c.startswith("mw_")]
    columns = {c: pairs.column(c).to_pylist() for c in pairs.column_names}
    for k in range(pairs.num_rows):
        p = float(columns["match_probability"][k])
        a, b = sorted((columns["unique_id_l"][k], columns["unique_id_r"][k]))
        v = verdict(a, b)
        if v.action == "drop":  # counted, never written
            found.dropped += v.reason != "rejected by a reviewer"
            continue
        if p >= options.auto_threshold and v.action == "ok":
            decision, reason = "auto", None
        elif p >= options.review_threshold:
            decision, reason = "review", v.reason
        else:  # near-certain names under the review threshold: the queue is the safety net
            decision, reason = "review", v.reason or "names near-identical, little else to go on"
        evidence = {c: {"level": _label(summary, c, columns[f"gamma_{c}"][k]), "weight": round(columns[f"mw_{c}"][k], 2)}
                    for c in comparisons}
        found.candidates.append(Candidate(pair_id(a, b), a, b, p, float(columns["match_weight"][k]), evidence,
                                          decision, reason))
    return found


def evidence_json(candidate: Candidate) -> str:
    return json.dumps(candidate.evidence, ensure_ascii=False, sort_keys=True)
