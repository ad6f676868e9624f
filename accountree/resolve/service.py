"""Service functions of duplicate resolution, for the CLI, the API and the dashboard.

- `resolve(ws, options)`: find candidates, merge the automatic ones, fill the review queue;
- `candidates(ws, status, limit, offset)`: the review queue (or decided pairs), with both accounts;
- `decide(ws, pair_id, 'accept' | 'reject' | 'skip', user)`: accept merges the pair, reject
  remembers it (the pair never comes back, not even after the ids are merged elsewhere), skip
  leaves it for later;
- `merge(ws, account_ids, survivor_id=None)`: a manual merge; `undo_merge(ws, merge_id)`.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from accountree.errors import ConfigError, NotFoundError
from accountree.resolve.merge import Group, Member, merge_groups
from accountree.resolve.pipeline import Candidate, Found, ResolveOptions, find_candidates
from accountree.resolve.undo import undo_merge
from accountree.store import Workspace, current_user

__all__ = ["candidates", "decide", "merge", "resolve", "undo_merge"]
DECISIONS = {"accept": "merged", "reject": "rejected", "skip": "skipped"}
_SHOWN = ("account_id", "name", "domain", "country", "city", "industry", "siren", "lei", "duns", "parent_id", "source")


def _cannot_link(found: Found, a: str, b: str) -> str | None:
    """Why two accounts cannot be one entity (the guard's drop: other ids, legal forms, parent and
    child, a reviewer's rejection, distinguishing words), or None. Names that are only far-apart
    spellings of one another ("imdepemdemt" / "indepwndent") are no conflict inside a cluster:
    the chain of one-typo links between them is the evidence (see `guard.check_cluster`)."""
    verdict = found.verdict(a, b)
    if verdict.action == "review" and (verdict.reason or "").startswith("different initials"):
        # "Hughes, C." ~ "Hughes" ~ "Hughes, L.": a chain must not make two people's firms one
        return verdict.reason
    if verdict.action != "drop":
        return None
    if verdict.reason and verdict.reason.startswith("different words") and found.spellings(a, b):
        return None
    return verdict.reason or "ruled out by the guard"


def _clusters(auto: list[Candidate], found: Found) -> tuple[list[Group], list[Candidate]]:
    """Entities from the automatic pairs, built link by link, most probable first (cannot-link
    constrained clustering). A link joins two clusters only if no member of one is ruled out with
    a member of the other (`_cannot_link`): a company under several hundred spellings ends as one
    entity when its spellings chain together, and one wrong link cannot glue two companies (or a
    holding and its subsidiary) into one: that link goes to review instead ("held back"). Before,
    any such conflict sent the whole cluster to review, so the larger a company's cluster, the
    surer it was not to be merged at all."""
    parent: dict[str, str] = {}
    members: dict[str, list[str]] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    held: list[Candidate] = []
    best: dict[str, Member] = {}
    for c in sorted(auto, key=lambda c: (-c.match_probability, c.pair_id)):
        a, b = root(c.account_id_l), root(c.account_id_r)
        if a != b:
            left, right = members.get(a, [a]), members.get(b, [b])
            reason = next((r for x in left for y in right if (r := _cannot_link(found, x, y))), None)
            if reason:
                c.guard = f"held back: would join two accounts that cannot be one ({reason})"
                held.append(c)
                continue
            parent[max(a, b)] = min(a, b)
            members[min(a, b)] = left + right
            members.pop(max(a, b), None)
        for uid in (c.account_id_l, c.account_id_r):
            best.setdefault(uid, Member(uid, c.match_probability, c.pair_id))
    clusters: dict[str, list[str]] = {}
    for uid in best:
        clusters.setdefault(root(uid), []).append(uid)
    groups = [Group([best[u] for u in sorted(ids, key=lambda u: (-(best[u].match_probability or 0), u))],
                    method="auto", reason="splink auto-merge")
              for _, ids in sorted(clusters.items()) if len(ids) > 1]
    return groups, held


def cluster_metrics(groups: list[Group], auto: list[Candidate]) -> dict[str, Any]:
    """Size and density (direct automatic links / pairs) of the merged clusters: a large cluster
    with a low density is a chain of spellings, each link checked against every member."""
    links: dict[frozenset, int] = {}
    where = {m.account_id: i for i, g in enumerate(groups) for m in g.members}
    for c in auto:
        i = where.get(c.account_id_l)
        if i is not None and i == where.get(c.account_id_r):
            links[frozenset((i,))] = links.get(frozenset((i,)), 0) + 1
    sizes = [len(g.members) for g in groups]
    density = [links.get(frozenset((i,)), 0) / (k * (k - 1) / 2) for i, k in enumerate(sizes)]
    return {"clusters": len(groups), "largest_cluster": max(sizes, default=0),
            "least_density": round(min(density), 3) if density else None}


def resolve(ws: Workspace, options: ResolveOptions | None = None, *, apply: bool = True,
            user: str | None = None) -> dict[str, Any]:
    """Find duplicates; merge the automatic ones (unless `apply` is False) and queue the others."""
    options = options or ResolveOptions()
    user = user or current_user()
    found = find_candidates(ws, options)
    auto = found.by_decision("auto")
    groups, held = _clusters(auto, found)
    for c in held:
        c.decision = "review"
    auto = [c for c in auto if c not in held]
    review = found.by_decision("review")
    size = {m.account_id: len(g.members) for g in groups for m in g.members}
    value = {c.pair_id: c.match_probability * size.get(c.account_id_l, 1) * size.get(c.account_id_r, 1)
             for c in review}
    engine = ws.engine
    if not apply:  # a preview: what `resolve --auto` would merge and queue, nothing written
        return _preview(ws, found, groups, auto, review, options)
    with engine.transaction():
        engine.execute("DELETE FROM duplicate_candidates WHERE status IN ('pending', 'skipped')")
        keep = {r[0] for r in engine.fetchall("SELECT pair_id FROM duplicate_candidates")}
        rows = [(c, "merged" if apply and c.decision == "auto" else "pending") for c in auto + review
                if c.pair_id not in keep]
        if rows:
            now = engine.scalar("SELECT CAST(now() AS TIMESTAMP)")
            engine.insert_arrow("duplicate_candidates", pa.table({
                "pair_id": [c.pair_id for c, _ in rows], "account_id_l": [c.account_id_l for c, _ in rows],
                "account_id_r": [c.account_id_r for c, _ in rows],
                "match_probability": pa.array([c.match_probability for c, _ in rows], pa.float64()),
                "match_weight": pa.array([c.match_weight for c, _ in rows], pa.float64()),
                "evidence": [json.dumps(c.evidence, sort_keys=True) for c, _ in rows],
                "guard": pa.array([c.guard for c, _ in rows], pa.string()),
                "status": [s for _, s in rows], "method": [c.decision for c, _ in rows],
                "expected_value": pa.array([value.get(c.pair_id) for c, _ in rows], pa.float64()),
                "found_at": pa.array([now] * len(rows), pa.timestamp("us")),
            }))
        merge_ids = merge_groups(ws, groups, user) if apply else []
    return {
        "accounts": found.accounts, "pairs_scored": found.scored_pairs,
        "auto_pairs": len(auto), "merged_records": len(merge_ids),
        "review_pending": int(engine.scalar("SELECT count(*) FROM duplicate_candidates WHERE status = 'pending'")),
        "held_by_guard": found.dropped,
        "auto_threshold": options.auto_threshold, "review_threshold": options.review_threshold,
        "applied": apply, **cluster_metrics(groups, auto),
    }


def _preview(ws: Workspace, found: Found, groups: list[Group], auto: list[Candidate], review: list[Candidate],
             options: ResolveOptions) -> dict[str, Any]:
    """`resolve --dry-run`: the same clusters `resolve` would merge (one merge per absorbed record,
    as `merged_records` counts them) and the pairs it would queue, without writing anything."""
    decided = {r[0] for r in ws.engine.fetchall(
        "SELECT pair_id FROM duplicate_candidates WHERE status NOT IN ('pending', 'skipped')")}
    ids = sorted({m.account_id for g in groups for m in g.members})
    names: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        names.update(ws.engine.fetchall(
            f"SELECT account_id, name FROM accounts WHERE account_id IN ({', '.join('?' for _ in chunk)})",  # noqa: S608
            chunk))
    return {
        "accounts": found.accounts, "pairs_scored": found.scored_pairs, "auto_pairs": len(auto),
        "merged_records": sum(len(g.members) - 1 for g in groups),
        "review_pending": len([c for c in review if c.pair_id not in decided]),
        "held_by_guard": found.dropped,
        "auto_threshold": options.auto_threshold, "review_threshold": options.review_threshold,
        "applied": False, **cluster_metrics(groups, auto),
        "would_merge": [[{"account_id": m.account_id, "name": names.get(m.account_id)} for m in g.members]
                        for g in sorted(groups, key=lambda g: -len(g.members))],
    }


def candidates(ws: Workspace, status: str = "pending", limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Candidate pairs with that status, highest expected value first (probability × the records the
    pair would join: a pair linking two clusters of 40 spellings before a lone pair), each with both
    accounts' fields (a merged account: its row as it was, and `merged_into`)."""
    rows = ws.engine.fetch_dicts(
        "SELECT pair_id, account_id_l, account_id_r, match_probability, match_weight, evidence, guard, status, "
        "method, found_at, decided_by, decided_at, expected_value FROM duplicate_candidates WHERE status = ? "
        "ORDER BY coalesce(expected_value, match_probability) DESC, match_probability DESC, pair_id LIMIT ? OFFSET ?",
        [status, int(limit), int(offset)])
    ids = sorted({r[k] for r in rows for k in ("account_id_l", "account_id_r")})
    accounts: dict[str, dict] = {}
    if ids:
        cols = ", ".join(_SHOWN)
        placeholders = ", ".join("?" for _ in ids)
        for a in ws.engine.fetch_dicts(f"SELECT {cols} FROM accounts WHERE account_id IN ({placeholders})", ids):  # noqa: S608
            accounts[a["account_id"]] = a
        gone = [i for i in ids if i not in accounts]
        if gone:  # merged away since the pair was found: its row as it was, and where it went
            marks = ", ".join("?" for _ in gone)
            for merged_id, survivor, before in ws.engine.fetchall(
                    f"SELECT merged_id, survivor_id, before_merged FROM merges WHERE undone_at IS NULL "  # noqa: S608
                    f"AND merged_id IN ({marks}) ORDER BY merge_id", gone):
                row = json.loads(before) if before else {}
                accounts[merged_id] = {**{k: row.get(k) for k in _SHOWN}, "account_id": merged_id,
                                       "merged_into": survivor}
    for r in rows:
        r["evidence"] = json.loads(r["evidence"]) if r["evidence"] else {}
        r["left"] = accounts.get(r["account_id_l"], {"account_id": r["account_id_l"]})
        r["right"] = accounts.get(r["account_id_r"], {"account_id": r["account_id_r"]})
    return rows


def decide(ws: Workspace, pair_id: str, decision: str, user: str | None = None) -> dict[str, Any]:
    """Accept (merge now), reject (never again) or skip a candidate pair."""
    if decision not in DECISIONS:
        raise ConfigError(f"decision must be accept, reject or skip, not {decision!r}")
    user = user or current_user()
    engine = ws.engine
    row = engine.fetchone("SELECT account_id_l, account_id_r, match_probability, status FROM duplicate_candidates "
                          "WHERE pair_id = ?", [pair_id])
    if row is None:
        raise NotFoundError(f"no candidate pair {pair_id!r}", hint="List them with `accountree review` or "
                            "`accountree export duplicate_candidates`.")
    left, right, probability, status = row
    if status not in ("pending", "skipped"):
        raise ConfigError(f"pair {pair_id} was already decided ({status})")
    merge_ids: list[int] = []
    with engine.transaction():
        if decision == "accept":
            alias = dict(engine.fetchall("SELECT old_id, survivor_id FROM account_aliases WHERE old_id IN (?, ?)",
                                         [left, right]))
            a, b = alias.get(left, left), alias.get(right, right)
            if a != b:
                merge_ids = merge_groups(ws, [Group([Member(a, probability, pair_id), Member(b, probability, pair_id)],
                                                    method="review", reason=f"accepted by {user}")], user)
        engine.execute("UPDATE duplicate_candidates SET status = ?, decided_by = ?, decided_at = CAST(now() AS TIMESTAMP) "
                       "WHERE pair_id = ?", [DECISIONS[decision], user, pair_id])
    return {"pair_id": pair_id, "status": DECISIONS[decision], "merge_ids": merge_ids}


def merge(ws: Workspace, account_ids: list[str], survivor_id: str | None = None, user: str | None = None,
          reason: str | None = None) -> list[int]:
    """Merge accounts by hand (survivor by the survivor rule unless given); returns the merge ids."""
    if len(set(account_ids) | ({survivor_id} if survivor_id else set())) < 2:
        raise ConfigError("a merge needs at least two different accounts")
    group = Group([Member(i) for i in account_ids], survivor_id=survivor_id, method="manual", reason=reason)
    return merge_groups(ws, [group], user)
