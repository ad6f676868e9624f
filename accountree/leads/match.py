"""Lead-to-account matching: `accountree leads match` and the `leads` build stage.

Set-based SQL decides what the e-mail says (`sql.py`: a review decision, the CRM's own link, a
known contact, the e-mail's domain or a parent domain held by an account); the leads left with a
choice (a company name to read: which entity of the group, or no domain evidence at all) go to one
bounded Python pass over the resolver's normaliser and rapidfuzz (`names.py`). Results land in
`lead_matches` (one row per lead), the review list is its `review` rows, and unmatched corporate
domains become `new_account_proposals`.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from accountree.leads import freemail, sql
from accountree.leads.domains import registrable
from accountree.leads.names import NameHit, NameIndex
from accountree.resolve.parallel import normalize_names
from accountree.store import Workspace

# Confidence of each method: the share of right answers measured per method (`accountree bench
# leads`, 2026-12-05: demo 100k accounts / 10k leads, and the ROR strings for the name methods),
# the lower of the two where both apply, rounded down; see README.md for the table.
CONFIDENCE = {
    "manual": 1.0,
    "crm": 0.99,
    "contact": 0.99,  # demo 0.990 (417 leads)
    "domain+name": 0.99,  # demo 0.999 (3826)
    "domain_group": 0.98,  # demo 0.994 (313)
    "domain": 0.95,  # demo 0.962 (288)
    "domain_group_head": 0.95,  # demo 0.994 (156)
    "domain_majority": 0.9,  # demo 0.984 (191)
    "website": 0.9,  # demo 0.946 (55)
    "domain_country": 0.8,  # rare on the demo (< 10)
    "domain_duplicates": 0.7,  # demo 2 of 3; always for review
    "name_over_domain": 0.9,  # demo 1.0 (46)
    "name": 0.88,  # demo 1.0 (1086), ROR 0.882 (3948)
    "name_fuzzy": 0.9,  # demo 0.949 (194), ROR 0.907 (107); × 0.9–1 by score
    "name_start": 0.85,  # demo 0.938 (96)
    "name_prefix": 0.63,  # demo 0.923 (26), ROR 0.634 (213)
}
# A corporate e-mail domain that no account holds makes a name-only match less likely right.
UNKNOWN_DOMAIN_FACTOR = 0.85
REVIEW_BELOW = 0.6

_WHENS = " ".join("WHEN ? THEN CAST(? AS DOUBLE)" for _ in CONFIDENCE)  # placeholders only
_CONF_SQL = f"""SELECT lead_id, account_id, method, CASE method {_WHENS} END AS confidence, evidence,
FALSE AS review, CAST(NULL AS VARCHAR) AS candidates FROM leads_w_decided"""  # noqa: S608
_CONF_PARAMS = [v for pair in CONFIDENCE.items() for v in pair]

RESULT_SCHEMA = pa.schema([("lead_id", pa.string()), ("account_id", pa.string()), ("method", pa.string()),
                           ("confidence", pa.float64()), ("evidence", pa.string()), ("review", pa.bool_()),
                           ("candidates", pa.string())])
PROPOSAL_COLUMNS = ("domain", "proposed_name", "country", "leads", "lead_ids", "companies_typed")


@dataclass
class _Accounts:
    ids: list[str]
    heads: list[str]
    levels: list[int]
    countries: list[str | None]
    names: list[str | None]  # normalised (lead_name_keys)
    domains: list[str | None]
    descendants: list[int]
    pos: dict[str, int]


KEYS_VERSION = "leads_name_keys_version"


def _normaliser_version() -> str:
    import hashlib
    import inspect

    from accountree.resolve import normalize

    return hashlib.sha1(inspect.getsource(normalize).encode(), usedforsecurity=False).hexdigest()[:16]


def refresh_name_keys(ws: Workspace) -> int:
    """Normalise the names of new or renamed accounts into `lead_name_keys`; returns how many."""
    e = ws.engine
    version = _normaliser_version()
    if ws.meta(KEYS_VERSION) != version:  # another normaliser: every key again
        e.execute("DELETE FROM lead_name_keys")
        ws.set_meta(KEYS_VERSION, version)
    e.execute("DELETE FROM lead_name_keys WHERE account_id NOT IN (SELECT account_id FROM accounts) "
              "OR account_id IN (SELECT a.account_id FROM accounts a JOIN lead_name_keys k ON k.account_id = a.account_id "
              "WHERE k.name IS DISTINCT FROM a.name)")
    todo = e.fetch_arrow("SELECT a.account_id, a.name FROM accounts a LEFT JOIN lead_name_keys k "
                         "ON k.account_id = a.account_id WHERE k.account_id IS NULL")
    if todo.num_rows:
        keys = normalize_names(todo.column("name").to_pylist())
        e.insert_arrow("lead_name_keys", todo.append_column("name_key", pa.array(keys, pa.string())))
    return todo.num_rows


def _load_accounts(ws: Workspace) -> _Accounts:
    t = ws.engine.fetch_arrow("SELECT g.account_id, g.group_head_id, g.level, g.country, k.name_key AS name, g.domain, "
                              "g.descendants FROM leads_w_groups g LEFT JOIN lead_name_keys k ON k.account_id = g.account_id "
                              "ORDER BY g.account_id")
    ids = t.column("account_id").to_pylist()
    return _Accounts(ids, t.column("group_head_id").to_pylist(), [int(x or 0) for x in t.column("level").to_pylist()],
                     t.column("country").to_pylist(), t.column("name").to_pylist(), t.column("domain").to_pylist(),
                     [int(x or 0) for x in t.column("descendants").to_pylist()], {a: i for i, a in enumerate(ids)})


def _temp(ws: Workspace, table: str, select_sql: str, params: list[Any] | None = None) -> None:
    """(Re)create a work table as a TEMPORARY table: private to this connection (two runs at once on
    PostgreSQL never see each other's), never written to the workspace, gone with the session."""
    e = ws.engine
    e.execute(f'DROP TABLE IF EXISTS "{table}"')
    e.execute(f'CREATE TEMPORARY TABLE "{table}" AS {select_sql}', params)


def _drop_work(ws: Workspace) -> None:
    for table in sql.WORK_TABLES:
        ws.engine.execute(f'DROP TABLE IF EXISTS "{table}"')


def _work(ws: Workspace) -> None:
    e = ws.engine
    t = functools.partial(_temp, ws)
    t("leads_free_mail", "SELECT CAST(NULL AS VARCHAR) AS domain, CAST(NULL AS VARCHAR) AS kind WHERE 1 = 0")
    e.insert_arrow("leads_free_mail", freemail.table())
    hier = e.table_exists("hierarchy") and e.table_exists("hierarchy_closure")
    t("leads_w_src", sql.SOURCE)
    t("leads_w_suffixes", sql.SUFFIXES)
    t("leads_w_hostkinds", sql.HOST_KINDS)
    t("leads_w_keys", sql.KEYS)
    t("leads_w_groups", sql.GROUPS_FROM_HIERARCHY if hier else sql.GROUPS_ALONE)
    t("leads_w_holders", sql.HOLDERS)
    t("leads_w_keystats", sql.KEY_STATS)
    t("leads_w_closure", sql.CLOSURE_FROM_HIERARCHY if hier else sql.CLOSURE_ALONE)
    t("leads_w_keyowners", sql.KEY_OWNERS)
    t("leads_w_pick", sql.PICK)
    t("leads_w_contact", sql.CONTACT)
    t("leads_w_accepted", """
        SELECT d.lead_id, min(d.account_id) AS account_id, min(d.decided_by) AS decided_by
        FROM lead_match_decisions d JOIN accounts a ON a.account_id = d.account_id
        WHERE d.decision = 'accept' GROUP BY d.lead_id""")
    t("leads_w_decided", sql.DECIDED)
    t("leads_w_result", _CONF_SQL, _CONF_PARAMS)


def _under(ws: Workspace, pairs: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """The (lead, ancestor, descendant) pairs where descendant is the ancestor or sits under it."""
    if not pairs:
        return set()
    e = ws.engine
    _temp(ws, "leads_w_pairs", "SELECT CAST(NULL AS VARCHAR) AS lead_id, CAST(NULL AS VARCHAR) AS ancestor_id, "
                                     "CAST(NULL AS VARCHAR) AS descendant_id WHERE 1 = 0")
    e.insert_arrow("leads_w_pairs", pa.table({"lead_id": [p[0] for p in pairs], "ancestor_id": [p[1] for p in pairs],
                                              "descendant_id": [p[2] for p in pairs]}))
    return {tuple(r) for r in e.fetchall(sql.UNDER)}  # type: ignore[misc]


def _topmost(acc: _Accounts, rows: list[int], country: str | None) -> int:
    """Of accounts of one group: same country first, then the highest level, then the lowest id."""
    return min(rows, key=lambda i: (acc.countries[i] != country if country else False, acc.levels[i], acc.ids[i]))


def _describe_hit(hit: NameHit, account: str) -> str:
    how = {"name": "is the name of", "name_prefix": "starts with the name of", "name_start": "begins the name of",
           "name_fuzzy": f"is close ({hit.score:.0f} %) to the name of"}[hit.method]
    return f"company '{hit.part}' {how} {account}"


def _python_pass(ws: Workspace, rejected: dict[str, set[str]]) -> tuple[list[dict[str, Any]], int]:
    """Decide the leads SQL left open; returns the result rows and how many leads were read."""
    e = ws.engine
    rows = e.fetch_dicts(sql.UNDECIDED)
    if not rows:
        return [], 0
    refresh_name_keys(ws)
    acc = _load_accounts(ws)
    holders: dict[str, list[int]] = defaultdict(list)
    for r in e.fetch_dicts(sql.AMBIGUOUS_HOLDERS):
        if r["account_id"] in acc.pos:
            holders[r["key"]].append(acc.pos[r["account_id"]])
    with_company = [r for r in rows if r["company"]]
    hits: dict[str, NameHit] = {}
    named_of: dict[str, list[int]] = {}
    if with_company:
        index = NameIndex([n or "" for n in acc.names])
        for r, hit in zip(with_company, index.match([r["company"] for r in with_company]), strict=True):
            if hit is not None:
                no = rejected.get(r["lead_id"], set())
                named = [i for i in index.accounts_of(hit) if acc.ids[i] not in no]
                if named:
                    hits[r["lead_id"]], named_of[r["lead_id"]] = hit, named
    # name candidates under the domain's account: one join for all leads
    pairs = []
    for r in rows:
        dom = r["domain_account"]
        if r["lead_id"] in hits and dom in acc.pos:
            head = acc.heads[acc.pos[dom]]
            pairs += [(r["lead_id"], dom, acc.ids[i]) for i in named_of[r["lead_id"]] if acc.heads[i] == head]
    under = _under(ws, pairs)
    out = []
    for r in rows:
        lead = r["lead_id"]
        result = _decide(r, hits.get(lead), named_of.get(lead, []), holders.get(r["key"] or "", []), acc, under,
                         rejected.get(lead, set()))
        if result is not None:
            out.append({"lead_id": lead, **result})
    return out, len(rows)


def _domain_words(r: dict[str, Any]) -> str:
    where = "e-mail domain" if r["via"] == "email" else "typed domain"
    return f"{where} {r['key']}"


def _own_domain(acc: _Accounts, i: int, key: str | None) -> bool:
    """The account has a domain of its own that is not `key` (another company's site)."""
    d = acc.domains[i]
    return bool(d) and d != key and not (key or "").endswith("." + d)


def _decide(r: dict[str, Any], hit: NameHit | None, named: list[int], holders: list[int], acc: _Accounts,
            under: set[tuple[str, str, str]], rejected: set[str]) -> dict[str, Any] | None:
    country = r["country"]
    dom = r["domain_account"] if r["domain_account"] not in rejected else None
    if dom is not None:
        return _with_domain(r, dom, hit, named, acc, under)
    holders = [i for i in holders if acc.ids[i] not in rejected]
    if holders:
        return _with_holders(r, holders, hit, named, acc)
    if hit is None or not named:
        return None
    corporate = r["host"] if r["host"] and r["host_kind"] is None else None  # a domain no account holds
    if corporate and hit.method != "name":
        # the lead's company has a web domain no account holds: a near or longer name is another company
        return None
    factor = UNKNOWN_DOMAIN_FACTOR if corporate else 1.0
    if hit.method == "name_start":
        return _brand(r, hit, named, acc, factor)
    heads = {acc.heads[i] for i in named}
    if len(heads) > 1 and country:
        local = [i for i in named if acc.countries[i] == country]
        if local and len({acc.heads[i] for i in local}) == 1:
            best = _topmost(acc, local, country)
            return _row(acc.ids[best], hit.method, f"{_describe_hit(hit, acc.ids[best])} (and {len(named) - len(local)} "
                        f"other account(s) elsewhere); country {country} decides", factor=factor * 0.95, score=hit.score)
    if len(heads) > 1:
        keys = {acc.names[i] for i in named}
        countries = {acc.countries[i] for i in named if acc.countries[i]}
        if hit.method == "name" and len(keys) == 1 and len(countries) <= 1:  # one name, one country: duplicates
            best = min(named, key=lambda i: (not acc.domains[i], acc.levels[i], acc.ids[i]))
            return _row(acc.ids[best], "name", f"{_describe_hit(hit, acc.ids[best])}; {len(named)} accounts of that "
                        "name (duplicates?)", factor=factor * 0.95, review=True)
        return _ambiguous(f"company '{hit.part}' names accounts of {len(heads)} groups", [acc.ids[i] for i in named])
    best = _topmost(acc, named, country)
    evidence = _describe_hit(hit, acc.ids[best])
    if len(named) > 1 and hit.method == "name_start":
        evidence += f" and {len(named) - 1} other account(s) of its group: the topmost"
    if factor < 1:
        evidence += f"; e-mail domain {r['host']} is not an account's"
    return _row(acc.ids[best], hit.method, evidence, factor=factor, score=hit.score)


def _brand(r: dict[str, Any], hit: NameHit, named: list[int], acc: _Accounts, factor: float) -> dict[str, Any]:
    """A brand alone names a group: its head, when one group holds (nearly) all such names."""
    per_group = Counter(acc.heads[i] for i in named)
    (head, n), *rest = per_group.most_common()
    if n < 2 and not any(acc.descendants[i] for i in named):  # one longer name: another company's
        return None
    if rest and n < 2 * rest[0][1]:
        return _ambiguous(f"company '{hit.part}' begins names in {len(per_group)} groups",
                          [h for h, _ in per_group.most_common(20)])
    evidence = f"company '{hit.part}' begins the names of {n} account(s) of {head}'s group: its head"
    if rest:
        evidence += f" ({sum(c for _, c in rest)} more elsewhere)"
    return _row(head, "name_start", evidence, factor=factor * (0.9 if rest else 1.0))


def _with_domain(r: dict[str, Any], dom: str, hit: NameHit | None, named: list[int], acc: _Accounts,
                 under: set[tuple[str, str, str]]) -> dict[str, Any]:
    """A domain decided the account (or its group's holder): the typed name may pick an entity under it."""
    lead, country, key = r["lead_id"], r["country"], r["key"]
    # a brand alone ("Doraud", name_start) names the group, not one of its entities
    inside = [i for i in named if (lead, dom, acc.ids[i]) in under] if hit and hit.method != "name_start" else []
    if inside and hit is not None:
        best = _topmost(acc, inside, country)
        evidence = f"{_domain_words(r)} → {dom}; {_describe_hit(hit, acc.ids[best])}"
        if acc.ids[best] != dom:
            evidence += f", under {dom}"
        return _row(acc.ids[best], "domain+name", evidence)
    if hit is not None and hit.method == "name" and dom in acc.pos:
        # the exact name of an account outside the domain's: it wins when it has no other domain (a CRM
        # where the entity's record lacks the domain, or is not linked to the group)
        free = [i for i in named if not _own_domain(acc, i, key)]
        if free and len({acc.heads[i] for i in free}) == 1:
            best = _topmost(acc, free, country)
            return _row(acc.ids[best], "name_over_domain",
                        f"{_describe_hit(hit, acc.ids[best])}; {_domain_words(r)} is {dom}'s, whose name differs")
    method = "website" if r["via_rank"] == 3 else (
        "domain" if r["n_holders"] == 1 else "domain_group" if r["pick"] == "owner" else "domain_group_head")
    evidence = f"{_domain_words(r)} → {dom} ({r['n_holders']} account(s) hold it)"
    review = False
    if hit is not None and named and hit.method == "name":
        other = acc.ids[named[0]]
        evidence += f"; but company '{hit.part}' is the name of {other} (with its own domain): the domain wins"
        review = True
    return _row(dom, method, evidence, review=review)


def _with_holders(r: dict[str, Any], holders: list[int], hit: NameHit | None, named: list[int],
                  acc: _Accounts) -> dict[str, Any]:
    """A domain held in several groups: the name, the country, then the group holding most of it."""
    country = r["country"]
    by_group: dict[str, list[int]] = defaultdict(list)
    for i in holders:
        by_group[acc.heads[i]].append(i)
    same = [i for i in named if acc.heads[i] in by_group]
    if same and hit is not None and hit.method == "name_start":  # the brand says which groups, not which entity
        by_group = {h: v for h, v in by_group.items() if h in {acc.heads[i] for i in same}}
        holders = [i for v in by_group.values() for i in v]
        if len(by_group) == 1:
            best = _topmost(acc, holders, None)
            return _row(acc.ids[best], "domain+name", f"{_domain_words(r)} is held in several groups; company "
                        f"'{hit.part}' begins names of {acc.ids[best]}'s group only: its topmost holder")
        same = []
    if same and hit is not None:
        best = _topmost(acc, same, country)
        return _row(acc.ids[best], "domain+name",
                    f"{_domain_words(r)} is held in {len(by_group)} groups; {_describe_hit(hit, acc.ids[best])}")
    sizes = sorted(((len(v), h) for h, v in by_group.items()), reverse=True)
    if len(sizes) == 1 or (sizes[0][0] >= 2 * sizes[1][0] and sizes[0][0] >= 3):  # most holders are one group: the others are loose
        head = sizes[0][1]
        return _row(head, "domain_majority", f"{_domain_words(r)} is held by {len(holders)} accounts, "
                    f"{sizes[0][0]} of them in {head}'s group: its head")
    local = [i for i in holders if country and acc.countries[i] == country]
    if local and len({acc.heads[i] for i in local}) == 1:
        best = _topmost(acc, local, country)
        return _row(acc.ids[best], "domain_country",
                    f"{_domain_words(r)} is held in {len(by_group)} groups; only {acc.ids[best]}'s is in {country}")
    if len({acc.names[i] for i in holders}) == 1:
        best = _topmost(acc, holders, country)
        return _row(acc.ids[best], "domain_duplicates",
                    f"{_domain_words(r)} is held by {len(holders)} accounts of the same name (duplicates?); "
                    f"{acc.ids[best]} chosen", review=True)
    return _ambiguous(f"{_domain_words(r)} is held in {len(by_group)} groups", [acc.ids[i] for i in holders])


def _row(account: str, method: str, evidence: str, *, review: bool = False, factor: float = 1.0,
         score: float = 100.0) -> dict[str, Any]:
    confidence = CONFIDENCE[method] * factor
    if method == "name_fuzzy":  # 90 → ×0.9, 100 → ×1
        confidence *= 0.9 + (score - 90.0) / 100.0
    confidence = round(min(confidence, 1.0), 3)
    return {"account_id": account, "method": method, "confidence": confidence, "evidence": evidence,
            "review": review or confidence < REVIEW_BELOW, "candidates": None}


def _ambiguous(evidence: str, candidates: list[str]) -> dict[str, Any]:
    shown = sorted(set(candidates))
    return {"account_id": None, "method": "ambiguous", "confidence": 0.0, "evidence": evidence + ": for review",
            "review": True, "candidates": "; ".join(shown[:20]) + (f"; … ({len(shown)})" if len(shown) > 20 else "")}


def _proposals(ws: Workspace) -> pa.Table:
    """Unmatched leads with a corporate e-mail (or typed) domain, grouped by registrable domain."""
    rows = ws.engine.fetch_dicts("""
        SELECT m.lead_id, m.company, m.country, coalesce(m.email_domain, s.typed_domain) AS host
        FROM lead_matches m JOIN leads_w_src s ON s.lead_id = m.lead_id
        WHERE m.method = 'unmatched' AND coalesce(m.email_domain, s.typed_domain) IS NOT NULL
          AND m.email_kind IS NULL ORDER BY m.lead_id""")
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        domain = registrable(r["host"])
        if domain and freemail.kind_of(domain) is None:
            groups[domain].append(r)
    out: dict[str, list] = {c: [] for c in PROPOSAL_COLUMNS}
    for domain, leads in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        names = Counter(r["company"] for r in leads if r["company"])
        countries = Counter(r["country"] for r in leads if r["country"])
        out["domain"].append(domain)
        out["proposed_name"].append(names.most_common(1)[0][0] if names else domain.split(".")[0].title())
        out["country"].append(countries.most_common(1)[0][0] if countries else None)
        out["leads"].append(len(leads))
        out["lead_ids"].append("; ".join(r["lead_id"] for r in leads[:50]) + ("; …" if len(leads) > 50 else ""))
        out["companies_typed"].append("; ".join(n for n, _ in names.most_common(5)))
    return pa.table({c: pa.array(v, pa.int64() if c == "leads" else pa.string()) for c, v in out.items()})


def match(ws: Workspace) -> dict[str, Any]:
    """Match every lead; rewrites `lead_matches` and `new_account_proposals`. Returns a summary."""
    e = ws.engine
    with e.transaction():
        _work(ws)
        rejected: dict[str, set[str]] = defaultdict(set)
        for lead, account in e.fetchall("SELECT lead_id, account_id FROM lead_match_decisions WHERE decision = 'reject'"):
            rejected[lead].add(account)
        rows, read = _python_pass(ws, rejected)
        if rows:
            e.insert_arrow("leads_w_result", pa.Table.from_pylist(rows, schema=RESULT_SCHEMA))
        e.replace_table("lead_matches", sql.FINAL)
        proposals = _proposals(ws)
        e.replace_table("new_account_proposals", "SELECT CAST(NULL AS VARCHAR) AS domain, CAST(NULL AS VARCHAR) AS "
                        "proposed_name, CAST(NULL AS VARCHAR) AS country, CAST(NULL AS BIGINT) AS leads, "
                        "CAST(NULL AS VARCHAR) AS lead_ids, CAST(NULL AS VARCHAR) AS companies_typed WHERE 1 = 0")
        if proposals.num_rows:
            e.insert_arrow("new_account_proposals", proposals)
        _drop_work(ws)
    counts = dict(e.fetchall("SELECT method, count(*) FROM lead_matches GROUP BY method ORDER BY method"))
    total = sum(counts.values())
    summary: dict[str, Any] = {
        "leads": total,
        "matched": total - counts.get("unmatched", 0) - counts.get("ambiguous", 0),
        "for review": int(e.scalar("SELECT count(*) FROM lead_matches WHERE review") or 0),
        "unmatched": counts.get("unmatched", 0),
        "new account proposals": proposals.num_rows,
        "read by name": read,
    }
    summary.update({f"by {k}": v for k, v in counts.items() if k not in ("unmatched",)})
    return summary
