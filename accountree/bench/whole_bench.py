"""`accountree bench build --whole`: the whole `accountree build`, every stage, on a demo-shaped
workspace, against the hand-written DuckDB floor of heads + closure + KPIs + roll-ups.

`generate(path, accounts)` writes a DuckDB workspace directly in SQL (`range()`, deterministic,
~1 minute at 1M accounts), shaped like the demo bundle so that every stage has real work:
- accounts with name, domain, country, city, industry, employees, revenue, technologies, owner,
  segment, in the hierarchy of `bench build` (groups of 16 entities, 3 levels under the head, one
  third standalone companies, a 50/50 joint venture every 50 blocks: the floor runs on it as is);
- the demo's three seller BUs and thirteen products; `deals_per_account` deals per account over
  5 years (won, lost and open stages, open ones with MEDDIC fields in `attributes` as the demo
  imports them); 2 contacts per account (an org chart of two with titles, buying roles, e-mails
  at the account's domain, 5 % gone); 4 activities per account (typed, weighted, 40 % with a
  contact, half stamped with a BU); 30 campaigns and ~1 campaign target per account; leads for
  3 % of the accounts (corporate e-mail, free mail with the company typed, unknown companies,
  dirty rows).
No registry file is stored: the registry stage has nothing to attach (as on a CRM-only workspace).

`run_whole_bench(accounts)` then measures, each in a fresh process (wall time, peak RSS):
the whole build (`accountree.build.build`, every stage timed, with the peak RSS reached at the end
of each), the SQL floor of `bench build` (and the same floor keeping its results in a file,
for context), and a one-deal refresh (median of eleven) after the build.
"""

# ruff: noqa: S608 - the generator's SQL is static text composed from this module's constants; values are parameters
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from accountree.bench.build_bench import AS_OF, JOINT_VENTURES, PARENT, floor
from accountree.bench.measure import measured, peak_mb

REFRESHES = 11

_SYL1 = "['Bel', 'Aur', 'Mar', 'Vid', 'Kor', 'Lum', 'Sol', 'Ner', 'Tal', 'Quin', 'Ros', 'Fen', 'Gal', 'Hel', 'Ist', 'Jor']"
_SYL2 = "['enne', 'bourg', 'aldi', 'tech', 'ora', 'vant', 'ix', 'amo', 'eris', 'tor', 'ano', 'ella', 'ium', 'ex', 'ova', 'lux']"
_COUNTRY = "['FR', 'FR', 'FR', 'DE', 'DE', 'GB', 'ES', 'IT', 'US', 'BE']"
_TLD = "['fr', 'fr', 'fr', 'de', 'de', 'co.uk', 'es', 'it', 'com', 'be']"
_CITY = "['Paris', 'Lyon', 'Lille', 'Berlin', 'Munich', 'London', 'Madrid', 'Milano', 'New York', 'Brussels']"
_FORM = "[' SAS', ' SA', ' SARL', ' GmbH', ' AG', ' Ltd', ' SL', ' S.p.A.', ' Inc.', ' NV']"
_INDUSTRY = ("['Software', 'E-commerce', 'Financial services', 'Manufacturing', 'Energy', 'Retail', 'Healthcare', "
             "'Logistics', 'Construction', 'Telecommunications', 'Food & beverage', 'Automotive']")
_TECH = ("['Salesforce', 'HubSpot', 'SAP', 'Oracle', 'Microsoft Dynamics', 'Snowflake', 'AWS', 'Azure', 'Shopify', "
         "'Zendesk', 'Slack', 'Jira']")
_BU = "['bu_software', 'bu_services', 'bu_hardware']"
_PRODUCT = ("['P-SW-ANL', 'P-SW-INT', 'P-SW-POR', 'P-SW-SEC', 'P-SW-AIF', 'P-SV-IMP', 'P-SV-MAN', 'P-SV-TRN', "
            "'P-SV-MIG', 'P-HW-GTW', 'P-HW-SEN', 'P-HW-CTL', 'P-HW-PDM']")
_OPEN = "['qualification', 'discovery', 'proposal', 'negotiation']"
_TITLE = ("['Directeur Général', 'Chief Financial Officer', 'Head of IT', 'Procurement Manager', 'Operations Manager', "
          "'Data Analyst', 'Legal Counsel', 'Plant Manager']")
_ROLE = "['economic_buyer', 'economic_buyer', 'champion', 'buyer', 'user', 'influencer', 'blocker', 'user']"
_FIRST = "['Camille', 'Julien', 'Élodie', 'Lukas', 'Anna', 'James', 'Lucía', 'Marco', 'Sophie', 'Thomas']"
_LAST = "['Martin', 'Mercier', 'Vidal', 'Schmidt', 'Müller', 'Smith', 'García', 'Rossi', 'Dubois', 'Peeters']"
_ACTIVITY = "['web_visit', 'web_visit', 'web_visit', 'email_click', 'email_click', 'pricing_page', 'form_fill', " \
            "'meeting', 'event', 'intent_topic']"
_WEIGHT = "[1, 1, 1, 2, 2, 5, 8, 10, 6, 3]"


def _pick(values: str, key: str, n: int) -> str:
    """`values[key % n]` (DuckDB lists are 1-based)."""
    return f"{values}[1 + CAST({key} % {n} AS BIGINT)]"


def _name(i: str) -> str:
    return (f"{_pick(_SYL1, f'hash({i} + 21)', 16)} || {_pick(_SYL2, f'hash({i} + 22)', 16)} || ' ' || {i} || "
            f"{_pick(_FORM, f'hash({i} + 23)', 10)}")


def _domain(i: str) -> str:
    return (f"lower({_pick(_SYL1, f'hash({i} + 21)', 16)} || {_pick(_SYL2, f'hash({i} + 22)', 16)}) || {i} || '.' || "
            f"{_pick(_TLD, f'hash({i} + 24)', 10)}")


ACCOUNTS = f"""
INSERT INTO accounts (account_id, name, parent_id, domain, website, country, city, industry, employees,
                      annual_revenue, currency, annual_revenue_rc, technologies, owner, created_at, source, attributes)
SELECT 'A' || i, {_name('i')}, {PARENT}, {_domain('i')}, 'https://' || {_domain('i')},
       {_pick(_COUNTRY, 'hash(i + 24)', 10)}, {_pick(_CITY, 'hash(i + 24)', 10)}, {_pick(_INDUSTRY, 'hash(i + 25)', 12)},
       CASE WHEN hash(i + 26) % 10 = 0 THEN NULL ELSE CAST(5 + hash(i) % 5000 AS BIGINT) END,
       CAST(1e5 + hash(i + 7) % 100000000 AS DOUBLE), 'EUR', CAST(1e5 + hash(i + 7) % 100000000 AS DOUBLE),
       {_pick(_TECH, 'hash(i + 27)', 12)} || '; ' || {_pick(_TECH, 'hash(i + 28)', 12)},
       'Owner ' || (hash(i + 29) % 200), DATE '2015-01-01' + CAST(hash(i + 30) % 3000 AS INTEGER), 'crm',
       '{{"segment":"' || ['SMB', 'Mid-market', 'Enterprise'][1 + CAST(hash(i + 31) % 3 AS BIGINT)] || '"}}'
FROM range($n) t(i)
"""

DEALS = f"""
INSERT INTO deals (deal_id, account_id, seller_bu, product, stage, amount, gross_margin, currency,
                   amount_rc, gross_margin_rc, created_at, close_date, owner, attributes)
SELECT 'D' || i, 'A' || a, CASE WHEN p < 5 THEN 'bu_software' WHEN p < 9 THEN 'bu_services' ELSE 'bu_hardware' END, {_PRODUCT}[1 + p],
       stage, amt, amt * 0.3, 'EUR', amt, amt * 0.3, close - 60, close, 'Owner ' || (hash(i + 6) % 200),
       CASE WHEN stage IN ('proposal', 'negotiation') AND hash(i + 8) % 3 = 0
            THEN '{{"metrics":"Save 150 k€ a year on licences","economic_buyer":null,"decision_criteria":'
                 || '"TCO over 3 years; SSO; EU hosting","decision_process":null,"identify_pain":'
                 || '"Fragmented CRMs across BUs","champion":null}}' END
FROM (SELECT i, hash(i) % $n AS a, CAST(hash(i + 2) % 13 AS BIGINT) AS p,
             CASE WHEN hash(i + 3) % 100 < 55 THEN 'won' WHEN hash(i + 3) % 100 < 80 THEN 'lost'
                  ELSE {_pick(_OPEN, 'hash(i + 9)', 4)} END AS stage,
             CAST(hash(i + 4) % 100000 AS DOUBLE) / 10 AS amt,
             CASE WHEN hash(i + 3) % 100 < 80 THEN CAST($as_of AS DATE) - CAST(hash(i + 5) % 1800 AS INTEGER)
                  ELSE CAST($as_of AS DATE) + CAST(hash(i + 5) % 200 AS INTEGER) END AS close
      FROM range($m) t(i)) d
ORDER BY a  -- stored as `accountree import` writes new rows: by account
"""

CONTACTS = f"""
INSERT INTO contacts (contact_id, account_id, name, title, email, buying_role, reports_to, start_date, end_date,
                      seller_bu)
SELECT 'C' || j, 'A' || (j // 2), {_pick(_FIRST, 'hash(j + 41)', 10)} || ' ' || {_pick(_LAST, 'hash(j + 42)', 10)},
       {_TITLE}[1 + t], lower(left({_pick(_FIRST, 'hash(j + 41)', 10)}, 1) || '.' || {_pick(_LAST, 'hash(j + 42)', 10)})
           || j || '@' || {_domain('(j // 2)')},
       {_ROLE}[1 + t], CASE WHEN j % 2 = 1 THEN 'C' || (j - 1) END,
       CAST($as_of AS DATE) - CAST(200 + hash(j + 43) % 2000 AS INTEGER),
       CASE WHEN hash(j + 44) % 20 = 0 THEN CAST($as_of AS DATE) - CAST(hash(j + 45) % 150 AS INTEGER) END,
       CASE WHEN hash(j + 46) % 3 = 0 THEN {_pick(_BU, 'hash(j + 47)', 3)} END
FROM (SELECT j, CASE WHEN j % 2 = 0 THEN CAST(hash(j + 40) % 2 AS BIGINT) ELSE 2 + CAST(hash(j + 40) % 6 AS BIGINT) END AS t
      FROM range($c) t(j)) c
"""

ACTIVITIES = f"""
INSERT INTO activities (activity_id, account_id, "date", type, weight, topic, contact_id, seller_bu)
SELECT 'T' || i, 'A' || a, CAST($as_of AS DATE) - CAST(hash(i + 12) % 730 AS INTEGER), {_ACTIVITY}[1 + k],
       {_WEIGHT}[1 + k], NULL, CASE WHEN hash(i + 14) % 10 < 4 THEN 'C' || (a * 2 + hash(i + 15) % 2) END,
       CASE WHEN hash(i + 16) % 2 = 0 THEN {_pick(_BU, 'hash(i + 17)', 3)} END
FROM (SELECT i, hash(i + 11) % $n AS a, CAST(hash(i + 13) % 10 AS BIGINT) AS k FROM range($k) t(i)) x
ORDER BY a
"""

SELLER_BUS = """
INSERT INTO seller_bus (bu_id, name, sales_cycle_days, description)
VALUES ('bu_software', 'Software', 90, 'SaaS analytics, integration and customer-portal suite'),
       ('bu_services', 'Services', 120, 'Implementation, migration, training and managed services'),
       ('bu_hardware', 'Industrial Hardware', 270, 'Edge gateways, sensors and controllers for plants')
"""

CAMPAIGNS = f"""
INSERT INTO campaigns (campaign_id, name, seller_bu, channel, start_date, end_date, budget, currency, budget_rc)
SELECT 'K' || k, 'Campaign ' || k, {_BU}[1 + k % 3], ['email', 'event', 'ads', 'webinar', 'abm', 'direct_mail'][1 + k % 6],
       CAST($as_of AS DATE) - CAST(k * 20 AS INTEGER), CAST($as_of AS DATE) - CAST(k * 20 AS INTEGER) + 30,
       50000, 'EUR', 50000
FROM range(30) t(k)
"""

CAMPAIGN_ACCOUNTS = """
INSERT INTO campaign_accounts (campaign_id, account_id)
SELECT 'K' || (hash(i + 51) % 30), 'A' || i FROM range($n) t(i) WHERE hash(i + 52) % 100 < 95
"""

# leads for 3 % of the accounts: 6/10 a corporate e-mail and the company typed, 2/10 free mail and the
# company typed, 1/10 a company that is no account, 1/10 no e-mail nor company
LEADS = f"""
INSERT INTO leads (lead_id, name, email, company, domain, country, seller_bu, source, created_at)
SELECT 'L' || l, {_pick(_FIRST, 'hash(l + 61)', 10)} || ' ' || {_pick(_LAST, 'hash(l + 62)', 10)},
       CASE WHEN kind < 6 THEN 'lead' || l || '@' || {_domain('a')}
            WHEN kind < 8 THEN 'lead' || l || '@' || ['gmail.com', 'outlook.com', 'yahoo.fr', 'gmx.de'][1 + l % 4]
            WHEN kind = 8 THEN 'lead' || l || '@unknown' || l || '.com' END,
       CASE WHEN kind < 8 THEN {_name('a')} WHEN kind = 8 THEN 'Unknown Company ' || l END,
       NULL, {_pick(_COUNTRY, 'hash(a + 24)', 10)}, {_pick(_BU, 'hash(l + 63)', 3)},
       ['web', 'web', 'event', 'partner', 'webinar', 'referral'][1 + l % 6],
       CAST($as_of AS DATE) - CAST(hash(l + 64) % 90 AS INTEGER)
FROM (SELECT l, hash(l + 60) % $n AS a, CAST(hash(l + 65) % 10 AS BIGINT) AS kind FROM range($q) t(l)) x
"""


def generate(path: str, accounts: int, deals_per_account: int = 10) -> dict[str, Any]:
    """Write the demo-shaped workspace at `path` (DuckDB); returns its row counts and seconds."""
    from accountree.store import open_workspace

    start = time.perf_counter()
    p = {"n": accounts, "as_of": AS_OF}
    with open_workspace(path) as ws:
        for sql, params in ((ACCOUNTS, {"n": accounts}),
                            (JOINT_VENTURES, {"n": accounts, "blocks": accounts // 16}),
                            (SELLER_BUS, None),
                            (DEALS, {**p, "m": accounts * deals_per_account}),
                            (CONTACTS, {"as_of": AS_OF, "c": accounts * 2}),
                            (ACTIVITIES, {**p, "k": accounts * 4}),
                            (CAMPAIGNS, {"as_of": AS_OF}),
                            (CAMPAIGN_ACCOUNTS, {"n": accounts}),
                            (LEADS, {**p, "q": max(1, accounts * 3 // 100)})):
            ws.engine.execute(sql, params)
        _products(ws)
        ws.engine.execute("CHECKPOINT")
        counts = {t: int(ws.engine.scalar(f"SELECT count(*) FROM {t}"))
                  for t in ("accounts", "relationships", "deals", "contacts", "activities", "campaigns",
                            "campaign_accounts", "leads", "products", "seller_bus")}
    return {"seconds": time.perf_counter() - start, "rows": counts}


def _products(ws) -> None:
    import pyarrow as pa

    from accountree.demo.catalog import PRODUCTS, SELLER_BUS

    ws.engine.insert_arrow("products", pa.table({
        "product_id": [p.product_id for p in PRODUCTS], "name": [p.name for p in PRODUCTS],
        "family": [p.family for p in PRODUCTS], "seller_bu": [SELLER_BUS[p.bu].bu_id for p in PRODUCTS],
        "list_price": [float(p.list_price) for p in PRODUCTS], "currency": ["EUR"] * len(PRODUCTS),
        "list_price_rc": [float(p.list_price) for p in PRODUCTS], "margin_pct": [float(p.margin_pct) for p in PRODUCTS]}))


def _count(summary: dict[str, Any]) -> int:
    """A stage's rows: the largest count its summary reports (accounts, rows of its main table)."""
    counts = [v for v in summary.values() if isinstance(v, int) and not isinstance(v, bool)]
    return max(counts, default=0)


def whole_build(path: str) -> dict[str, Any]:
    """Runs in a fresh process: `accountree build` (every stage), each stage timed."""
    import dataclasses

    import accountree.build as build_module
    from accountree.store import open_workspace

    timings: list[dict[str, Any]] = []

    def timed(stage, fn):
        def run(*args):
            start = time.perf_counter()
            out = fn(*args)
            timings.append({"stage": stage.name if fn is stage.run else f"{stage.name} (after commit)",
                            "seconds": time.perf_counter() - start, "peak_mb": peak_mb()})
            # as it goes, on stderr: a long build shows where it is (stdout may be --json)
            print(f"  {timings[-1]['stage']}: {timings[-1]['seconds']:.1f} s, peak {timings[-1]['peak_mb']:.0f} MB",
                  file=sys.stderr, flush=True)
            return out
        return run

    original = build_module.stages
    wrapped = [dataclasses.replace(s, run=timed(s, s.run), after=timed(s, s.after) if s.after else None)
               for s in original()]
    build_module.stages = lambda: wrapped
    try:
        with open_workspace(path) as ws:
            start = time.perf_counter()
            results = build_module.build(ws, build_module.BuildOptions(as_of=AS_OF))
            total = time.perf_counter() - start
            totals = {
                "revenue_cy": ws.engine.scalar("SELECT sum(revenue_cy) FROM account_kpis"),
                "heads": ws.engine.scalar("SELECT count(DISTINCT group_head_id) FROM hierarchy"),
                "groups": ws.engine.scalar("SELECT count(*) FROM hierarchy WHERE descendants > 0"),
                "group_revenue_cy": ws.engine.scalar(
                    "SELECT sum(g.revenue_cy) FROM group_kpis g JOIN hierarchy h USING (account_id) "
                    "WHERE h.descendants > 0"),
            }
    finally:
        build_module.stages = original
    staged = sum(t["seconds"] for t in timings if "(after" not in t["stage"])
    after = sum(t["seconds"] for t in timings if "(after" in t["stage"])
    for t in timings:
        name = t["stage"].split(" (")[0]
        t["rows"] = _count(results.get(name, {})) if "(after" not in t["stage"] else None
    # the commit (DuckDB writes the tables once, at the end of the build's transaction)
    timings.insert(len([t for t in timings if "(after" not in t["stage"]]),
                   {"stage": "commit", "seconds": max(0.0, total - staged - after), "peak_mb": None, "rows": None})
    return {"seconds": total, "stages": timings, "summaries": results, "totals": totals}


def refresh(path: str) -> dict[str, Any]:
    """Runs in a fresh process after the build: one deal changed, its accounts refreshed; eleven
    times, spread over the deals (standalone companies and group members)."""
    from accountree.kpi.pipeline import refresh_accounts
    from accountree.store import open_workspace

    seconds = []
    with open_workspace(path) as ws:
        deals = ws.engine.scalar("SELECT count(*) FROM deals")
        for i in range(REFRESHES):
            deal_id, account = ws.engine.fetchone(
                "SELECT deal_id, account_id FROM deals WHERE deal_id = ?", [f"D{(1000 + i * 7919) % deals}"])
            ws.engine.execute("UPDATE deals SET amount_rc = amount_rc + 1 WHERE deal_id = ?", [deal_id])
            start = time.perf_counter()
            refresh_accounts(ws, [account], AS_OF)
            seconds.append(time.perf_counter() - start)
    return {"seconds": seconds}


def _reuse(workspace: str, accounts: int, deals_per_account: int) -> dict[str, Any]:
    """A kept, never-built workspace: its row counts, checked against what was asked."""
    from accountree.errors import WorkspaceError
    from accountree.store import open_workspace

    with open_workspace(workspace) as ws:
        counts = {t: int(ws.engine.scalar(f"SELECT count(*) FROM {t}"))
                  for t in ("accounts", "relationships", "deals", "contacts", "activities", "campaigns",
                            "campaign_accounts", "leads", "products", "seller_bus")}
    if counts["accounts"] != accounts or counts["deals"] != accounts * deals_per_account:
        raise WorkspaceError(f"{workspace} holds {counts['accounts']} accounts and {counts['deals']} deals, not "
                             f"{accounts} and {accounts * deals_per_account}",
                             hint="Pass the same --accounts and --deals-per-account, or a new --workspace path.")
    return {"seconds": None, "rows": counts}


def run_whole_bench(accounts: int = 100_000, deals_per_account: int = 10, workdir: str | None = None,
                    keep: str | None = None, workspace: str | None = None) -> dict[str, Any]:
    """Generate, build (every stage), floor, refresh; the figures as one dict. `keep`: a path to
    copy the built workspace to (for `bench all`'s API latency). `workspace`: a DuckDB file keeping
    the generated workspace (generated there when it does not exist, reused otherwise); the build
    runs on a copy of it, so it stays as generated and every run is a first build."""
    import shutil

    with tempfile.TemporaryDirectory(dir=workdir, prefix="accountree-whole-") as tmp:
        path = str(Path(tmp) / "whole.duckdb")
        if workspace and Path(workspace).exists():
            gen = _reuse(workspace, accounts, deals_per_account)
        else:
            gen = generate(workspace or path, accounts, deals_per_account)
        if workspace:
            shutil.copyfile(workspace, path)
        flo = measured(floor, path, None, True)
        kept = measured(floor, path, str(Path(tmp) / "floor_kept.duckdb"))
        whole = measured(whole_build, path)
        ref = measured(refresh, path)
        if keep:
            shutil.copyfile(path, keep)
    w, f = whole["result"], flo["result"]
    build_s = w["seconds"]
    stages = []
    for t in w["stages"]:
        stages.append({"stage": t["stage"], "seconds": round(t["seconds"], 2),
                       "share_%": round(100 * t["seconds"] / build_s, 1) if "(after" not in t["stage"] else None,
                       "peak_mb_so_far": round(t["peak_mb"]) if t["peak_mb"] else None, "rows": t["rows"]})
    core = sum(t["seconds"] for t in w["stages"] if t["stage"] in ("hierarchy", "kpis"))
    refresh_ms = [s * 1000 for s in ref["result"]["seconds"]]
    out: dict[str, Any] = {
        "accounts": accounts, "rows": gen["rows"],
        "generate_seconds": round(gen["seconds"], 2) if gen["seconds"] is not None else f"reused {workspace}",
        "whole_build_seconds": round(build_s, 2), "whole_build_process_seconds": round(whole["seconds"], 2),
        "whole_build_peak_mb": round(whole["peak_mb"]),
        "floor_seconds": round(f["seconds"], 2), "floor_process_seconds": round(flo["seconds"], 2),
        "floor_peak_mb": round(flo["peak_mb"]),
        "floor_step_seconds": {k: round(v, 3) for k, v in f["steps"].items()},
        "floor_kept_seconds": round(kept["result"]["seconds"], 2),
        # the ratio: the whole build against the floor, each timed as a whole process
        "ratio_whole_to_floor": round(whole["seconds"] / flo["seconds"], 1),
        "ratio_hierarchy_kpis_to_floor": round(core / f["seconds"], 1),
        "stages": stages,
        "where_the_time_goes": ", ".join(f"{s['stage']} {s['share_%']} %" for s in sorted(
            (s for s in stages if s["share_%"] is not None), key=lambda s: -s["share_%"])[:3]),
        "refresh_ms_median": round(statistics.median(refresh_ms), 1),
        "refresh_ms_all": [round(ms, 1) for ms in refresh_ms],
        "build_totals": w["totals"], "floor_totals": f["totals"],
        "summaries": w["summaries"],
    }
    out["totals_agree"] = totals_agree(out)
    out["targets"] = {"ratio_to_floor_le_15": out["ratio_whole_to_floor"] <= 15,
                      "refresh_median_lt_100ms": out["refresh_ms_median"] < 100}
    if accounts >= 1_000_000:
        out["targets"].update({"whole_build_le_60s": build_s <= 60, "peak_le_2_5gb": out["whole_build_peak_mb"] <= 2560})
    return out


def totals_agree(result: dict[str, Any]) -> bool:
    """The floor found what the build found: revenue of the year, heads, groups, group revenue
    (sums of doubles: equal to 1e-9, the order of the additions differs)."""
    import math

    build, floor_ = result["build_totals"], result["floor_totals"]
    return all(math.isclose(float(build[k] or 0), float(floor_[k] or 0), rel_tol=1e-9) for k in floor_)


def print_whole(result: dict[str, Any]) -> None:
    """The stage table, the ratios and where the time goes, on the console."""
    from accountree.console import console, table_of

    rows = dict(result["rows"])
    console.print(f"[bold]bench build --whole[/bold]: {result['accounts']:,} accounts, {rows['deals']:,} deals, "
                  f"{rows['contacts']:,} contacts, {rows['activities']:,} activities, {rows['leads']:,} leads "
                  f"({'generated in ' + str(result['generate_seconds']) + ' s' if isinstance(result['generate_seconds'], float) else result['generate_seconds']})")
    floor_steps = result["floor_step_seconds"]
    table = [{**s, "floor_s": None, "ratio": None} for s in result["stages"]]
    for s in table:  # the floor's counterpart of the stages it covers
        part = {"hierarchy": floor_steps["heads"] + floor_steps["closure"],
                "kpis": floor_steps["revenue"] + floor_steps["rollup"]}.get(s["stage"])
        if part:
            s["floor_s"], s["ratio"] = round(part, 3), round(s["seconds"] / part, 1) if part else None
    table.append({"stage": "whole build (process)", "seconds": result["whole_build_process_seconds"], "share_%": 100.0,
                  "peak_mb_so_far": result["whole_build_peak_mb"], "rows": None,
                  "floor_s": result["floor_process_seconds"], "ratio": result["ratio_whole_to_floor"]})
    console.print(table_of(table, title="whole build, stage by stage (floor: heads + closure + KPIs + roll-ups in "
                                        "hand-written DuckDB SQL)"))
    console.print(f"where the time goes: {result['where_the_time_goes']}; floor peak {result['floor_peak_mb']} MB; "
                  f"floor keeping its results in a file {result['floor_kept_seconds']} s")
    console.print(f"one-deal refresh: median {result['refresh_ms_median']} ms over {len(result['refresh_ms_all'])}")
    console.print(f"floor totals = build totals: {totals_agree(result)}; "
                  f"targets: {result['targets']}")
