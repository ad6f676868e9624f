"""`accountree bench leads`: lead-to-account matching scored against ground truth, timed.

Demo: the bundle's `truth/leads.csv` names the real entity behind each lead (empty: a company that
is no account); `truth/duplicates.csv` maps account records to entities, `truth/hierarchy.csv`
gives each entity's parent. A match is

- **right** when the account is a record of the lead's entity, or of one of its parents when the
  evidence cannot tell the entity (a site's employee typing the group's brand from the group's
  domain: the group's holder is "the most specific the evidence supports") — `exact` counts the
  entity alone;
- **wrong** otherwise (another group, a sibling, or any account for a lead of no account).

Baseline: the domain-only rule (`e-mail domain = accounts.domain`, first account, no free-mail
list), what LeanData's ~70 % figure describes.

Real data: the ROR affiliation strings (`../shared/data/ror-affiliation-matching`, MIT): the
Crossref organisations become accounts (named by the part of their strings seen most often), the
Springer Nature strings are leads' typed company names (held out; those of organisations that are
no account must stay unmatched), plus the curators' `NP` strings.
"""

from __future__ import annotations

import csv
import re
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from accountree.bench.measure import measured

ROR_FILES = ("20230628_Crossref_publisher_asserted_affiliation_string_ROR_IDs.csv", "20231031_springer_nature.csv")
ROR_LOGS = "20230903_affiliation_matching_logs.csv"


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _match_in_child(location: str) -> dict[str, Any]:
    from accountree.leads.match import match
    from accountree.store import open_workspace

    ws = open_workspace(location)
    try:
        return match(ws)
    finally:
        ws.close()


def _score(rows: list[dict[str, Any]], truth: dict[str, str | None], right_of) -> dict[str, Any]:
    """right / wrong / unmatched over the leads; per-method precision."""
    n = len(rows)
    matchable = sum(1 for r in rows if truth.get(r["lead_id"]))
    right = exact = wrong = 0
    per_method: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        account, want = r["account_id"], truth.get(r["lead_id"])
        if account is None:
            per_method[r["method"]]["none"] += 1
            continue
        verdict = right_of(account, want) if want else "wrong"
        per_method[r["method"]][verdict] += 1
        if verdict == "wrong":
            wrong += 1
        else:
            right += 1
            exact += verdict == "exact"
    methods = {m: {"leads": sum(c.values()), "precision": round((c["exact"] + c["parent"]) / max(1, c["exact"] + c["parent"] + c["wrong"]), 4)}
               for m, c in sorted(per_method.items())}
    return {"leads": n, "matchable": matchable,
            "right % of matchable": round(100 * right / max(1, matchable), 2),
            "exact entity % of matchable": round(100 * exact / max(1, matchable), 2),
            "wrong % of all leads": round(100 * wrong / max(1, n), 2),
            "unmatched or review": sum(1 for r in rows if r["account_id"] is None), "by method": methods}


def _demo_workspace(folder: Path, accounts: int, leads: int | None, seed: int) -> tuple[str, Path, float | None]:
    """The demo workspace (imported, hierarchy built) in `folder`: reused when a former run made it
    with the same sizes and seed (`--keep`), else generated. Returns (location, truth folder,
    hierarchy build seconds or None when reused)."""
    from accountree.build import BuildOptions, build
    from accountree.demo import generate_bundle
    from accountree.ingest import import_bundle
    from accountree.store import open_workspace

    location, truth_dir, marker = folder / "bench.duckdb", folder / "demo" / "truth", folder / "bench.made"
    made = f"accounts={accounts} leads={leads} seed={seed}"
    if location.exists() and truth_dir.is_dir() and marker.exists() and marker.read_text() == made:
        ws = open_workspace(str(location))
        try:  # cold again: every account name normalised once, as on a first run
            ws.engine.execute("DELETE FROM lead_name_keys")
        finally:
            ws.close()
        return str(location), truth_dir, None
    marker.unlink(missing_ok=True)
    location.unlink(missing_ok=True)
    share = (leads / accounts) if leads else 0.03
    result = generate_bundle(folder / "demo", accounts=accounts, seed=seed, lead_share=share)
    ws = open_workspace(str(location))
    try:
        import_bundle(ws, [str(result.out_dir)])
        started = time.perf_counter()
        build(ws, BuildOptions(stages=["hierarchy"]))
        hierarchy_s = time.perf_counter() - started
    finally:
        ws.close()
    marker.write_text(made)
    return str(location), result.truth_dir, hierarchy_s


def run_demo(accounts: int, leads: int | None, seed: int = 7, keep: Path | None = None) -> dict[str, Any]:
    from accountree.store import open_workspace

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(keep) if keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        location, truth_dir, hierarchy_s = _demo_workspace(folder, accounts, leads, seed)
        timed = measured(_match_in_child, location)  # cold: every account name normalised once
        warm = measured(_match_in_child, location)  # the next runs: name keys kept (lead_name_keys)
        ws = open_workspace(location)
        try:
            rows = ws.engine.fetch_dicts("SELECT lead_id, account_id, method FROM lead_matches")
            baseline = ws.engine.fetch_dicts("""
                SELECT l.lead_id, min(a.account_id) AS account_id, 'domain_only' AS method
                FROM leads l LEFT JOIN accounts a ON a.domain = split_part(lower(l.email), '@', 2)
                GROUP BY l.lead_id""")
            n_leads = ws.engine.scalar("SELECT count(*) FROM leads")
        finally:
            ws.close()
        entity_of = {r["account_id"]: r["entity_id"] for r in _read(truth_dir / "duplicates.csv")}
        parent = {r["entity_id"]: r["parent_entity_id"] for r in _read(truth_dir / "hierarchy.csv")
                  if r["parent_entity_id"]}
        truth = {r["lead_id"]: r["entity_id"] or None for r in _read(truth_dir / "leads.csv")}

    def right_of(account: str, want: str) -> str:
        got = entity_of.get(account)
        if got == want:
            return "exact"
        seen, e = 0, parent.get(want)
        while e and seen < 100:
            if e == got:
                return "parent"
            e, seen = parent.get(e), seen + 1
        return "wrong"

    scored = _score(rows, truth, right_of)
    base = _score(baseline, truth, right_of)
    return {"accounts": accounts, "leads": n_leads, "match seconds (first run)": round(timed["seconds"], 2),
            "match seconds (next runs)": round(warm["seconds"], 2),
            "match peak MB": round(max(timed["peak_mb"], warm["peak_mb"])), "hierarchy build seconds (not counted)": round(hierarchy_s, 2) if hierarchy_s is not None else "reused (--keep)",
            **{k: v for k, v in scored.items() if k != "by method"},
            "baseline domain-only right % of matchable": base["right % of matchable"],
            "baseline domain-only wrong % of all leads": base["wrong % of all leads"],
            "by method": scored["by method"]}


_ORG = re.compile(r"(?i)univ|hospital|hôpital|hospital|klinik|clinic|institut|college|colegio|centre|center|centro|"
                  r"academ|laborator|company|corporation|inc\b|ltd|gmbh|s\.a\.|foundation|fundaci|council|agency|"
                  r"ministry|museum|society|école|ecole|escuela|scuola|hochschule|polytechn|research|bank|"
                  r"organi[sz]ation|association|authority|service")
_DEPT = re.compile(r"(?i)\s*(dept|department|division|faculty|section|unit|chair|lab of|laboratory of|school of|"
                   r"graduate school|key laboratory|state key|program|service de|servicio de|departamento|"
                   r"dipartimento|institut für|fakultät)")


def _segments(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def run_ror(folder: Path) -> dict[str, Any]:
    """ROR organisations as accounts, Springer Nature's affiliation strings as typed company names.

    Accounts: the organisations of the Crossref file, each named by the comma-separated part most
    often seen in its Crossref strings among the parts at most two organisations use ("University
    of Verona", not "China"), as a CRM would hold it. Leads: the
    Springer Nature strings (another publisher, held out), plus the curators' `NP` strings; a lead
    whose organisation is not among the accounts must stay unmatched.
    """
    from accountree.ingest import import_bundle
    from accountree.leads.match import match
    from accountree.store import open_workspace

    parts: dict[str, Counter] = defaultdict(Counter)
    for r in _read(folder / ROR_FILES[0]):
        text, ror = (r.get("affiliation") or "").strip(), (r.get("ror_id") or "").strip()
        if text and ror.startswith("https://ror.org/"):
            parts[ror.rsplit("/", 1)[1]].update(_segments(text))
    # the CRM name: the organisation's most frequent part that names an organisation (not a
    # department, a city or a country), used by at most two organisations; none: not an account
    used_by = Counter(p.casefold() for c in parts.values() for p in c)
    accounts = []
    for ror, c in sorted(parts.items()):
        own = [kv for kv in c.items() if used_by[kv[0].casefold()] <= 2 and _ORG.search(kv[0]) and not _DEPT.match(kv[0])]
        if own:
            accounts.append((ror, min(own, key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0].rstrip(".")))
    parts = {ror: parts[ror] for ror, _ in accounts}
    leads, truth = [], {}
    for r in _read(folder / ROR_FILES[1]):
        text, ror = (r.get("affiliation") or "").strip(), (r.get("ror_id") or "").strip().rsplit("/", 1)[-1]
        if text:
            lead = f"L{len(leads) + 1:06d}"
            leads.append((lead, text))
            truth[lead] = ror if ror in parts else None
    for r in _read(folder / ROR_LOGS):
        if (r.get("ror_id") or "").strip() == "NP" and (r.get("affiliation") or "").strip():
            lead = f"L{len(leads) + 1:06d}"
            leads.append((lead, r["affiliation"].strip()))
            truth[lead] = None
    with tempfile.TemporaryDirectory() as tmp:
        folder_b = Path(tmp) / "b"
        folder_b.mkdir()
        with open(folder_b / "accounts.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["account_id", "name"])
            w.writerows(accounts)
        with open(folder_b / "leads.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["lead_id", "company"])
            w.writerows(leads)
        ws = open_workspace(str(Path(tmp) / "ror.duckdb"))
        try:
            import_bundle(ws, [str(folder_b)])
            started = time.perf_counter()
            match(ws)
            seconds = time.perf_counter() - started
            rows = ws.engine.fetch_dicts("SELECT lead_id, account_id, method FROM lead_matches")
        finally:
            ws.close()
    scored = _score(rows, truth, lambda account, want: "exact" if account == want else "wrong")
    # ROR gives a hospital or an institute its own id beside its university's: a match to an account
    # of the very same name is wrong for the score, but no reader could have told them apart
    name = dict(accounts)
    same_name = sum(1 for r in rows if r["account_id"] and truth.get(r["lead_id"])
                    and r["account_id"] != truth[r["lead_id"]] and name[r["account_id"]] == name[truth[r["lead_id"]]])
    return {"accounts (ROR organisations)": len(accounts), "match seconds": round(seconds, 2), **scored,
            "wrong with the same account name": same_name}


def run_leads_bench(accounts: int = 10_000, leads: int | None = None, seed: int = 7,
                    ror: bool = True, keep: Path | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"demo": run_demo(accounts, leads, seed, keep)}
    folder = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ror-affiliation-matching"
    if ror and folder.exists():
        out["ror (real strings)"] = run_ror(folder)
    elif ror:
        out["ror (real strings)"] = f"not found at {folder}"
    return out
