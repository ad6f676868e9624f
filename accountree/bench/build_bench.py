"""`accountree bench build`: the KPI build on a generated workspace, against two yardsticks.

`run_build_bench(accounts, deals_per_account)` generates a DuckDB workspace directly in SQL
(`range()`: groups of 16 entities, 3 levels under the head, one third of the blocks standalone
companies, a 50/50 joint venture every 50 blocks, deals over 5 years, 2 activities per account;
deals and activities stored in account order, as `accountree import` writes new rows),
then measures, each in a fresh process (wall time and peak RSS):
- the full build: the hierarchy stage (when installed) and the KPI stage, in one transaction as
  `accountree build` runs them (the commit, where DuckDB writes what is left, counts in the KPI time);
- the lookup indexes `accountree build` creates once it has committed (`refresh_index_seconds`,
  not part of the full build's figure: the build's results do not wait for them; see
  accountree.kpi.refresh);
- an incremental refresh after changing one deal: the median of eleven, the first one included;
- the SQL floor: minimal hand-written DuckDB SQL for the core of the same job (group heads by
  pointer jumping, per-account revenue by year, roll-up through a closure table), in temporary
  tables — the target's yardstick; and, for context, the same floor keeping its results (with the
  margins) in a DuckDB file and committing, as a build must (`floor_kept_seconds`);
- a naive pandas + networkx implementation of the same core KPIs, on `naive_accounts` accounts
  (it cannot run at full size in reasonable time), compared with our build at that same size.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from accountree.bench.measure import measured

AS_OF = date(2026, 6, 30)
REFRESHES = 10  # one-deal refreshes timed after the first (their accounts differ: standalone or in groups)

# the parent of account `i`: groups of 16 (a head and 3 levels), one third of the blocks standalone,
# the last entity of every 50th block a joint venture (its holders in `JOINT_VENTURES`)
PARENT = """CASE WHEN i % 16 = 0 OR (i // 16) % 3 = 0 OR ((i // 16) % 50 = 1 AND i % 16 = 15) THEN NULL
            ELSE 'A' || ((i // 16) * 16 + (i % 16 - 1) // 3) END"""

ACCOUNTS = """
INSERT INTO accounts (account_id, name, parent_id, industry, employees, annual_revenue, currency,
                      annual_revenue_rc, source)
SELECT 'A' || i, 'Company ' || i, PARENT,
       'Industry ' || (i % 12), CAST(10 + hash(i) % 5000 AS BIGINT),
       CAST(1e5 + hash(i + 7) % 100000000 AS DOUBLE), 'EUR', CAST(1e5 + hash(i + 7) % 100000000 AS DOUBLE), 'crm'
FROM range($n) t(i)
""".replace("PARENT", PARENT)

JOINT_VENTURES = """
INSERT INTO relationships (child_id, parent_id, relation, ownership_pct, source)
SELECT 'A' || (b * 16 + 15), 'A' || (b * 16 + 4 + o * 16), 'joint_venture', 50.0, 'crm'
FROM range($blocks) t(b), range(2) u(o)
WHERE b % 50 = 1 AND (b + 1) * 16 + 4 < $n AND b % 3 <> 0 AND (b + 1) % 3 <> 0
"""

DEALS = """
INSERT INTO deals (deal_id, account_id, seller_bu, product, stage, amount, gross_margin, currency,
                   amount_rc, gross_margin_rc, created_at, close_date)
SELECT 'D' || i, 'A' || (hash(i) % $n) AS account_id, 'BU' || (hash(i + 1) % 5), 'P' || (hash(i + 2) % 20),
       CASE WHEN hash(i + 3) % 100 < 60 THEN 'won' WHEN hash(i + 3) % 100 < 85 THEN 'lost' ELSE 'negotiation' END,
       amt, amt * 0.3, 'EUR', amt, amt * 0.3, close - 60, close
FROM (SELECT i, CAST(hash(i + 4) % 100000 AS DOUBLE) / 10 AS amt,
             CAST($as_of AS DATE) - CAST(hash(i + 5) % 1800 AS INTEGER) AS close
      FROM range($m) t(i)) d
ORDER BY account_id  -- stored as `accountree import` writes new rows: by account (ingest/writer.py)
"""

ACTIVITIES = """
INSERT INTO activities (activity_id, account_id, "date", type, weight)
SELECT 'T' || i, 'A' || (hash(i + 11) % $n) AS account_id, CAST($as_of AS DATE) - CAST(hash(i + 12) % 365 AS INTEGER),
       'web_visit', CAST(hash(i + 13) % 6 AS DOUBLE)
FROM range($k) t(i)
ORDER BY account_id
"""


def generate(path: str, accounts: int, deals_per_account: int) -> dict[str, Any]:
    from accountree.store import open_workspace

    start = time.perf_counter()
    with open_workspace(path) as ws:
        p = {"n": accounts, "as_of": AS_OF}
        ws.engine.execute(ACCOUNTS, {"n": accounts})
        ws.engine.execute(JOINT_VENTURES, {"n": accounts, "blocks": accounts // 16})
        ws.engine.execute(DEALS, {**p, "m": accounts * deals_per_account})
        ws.engine.execute(ACTIVITIES, {**p, "k": accounts * 2})
        ws.engine.execute("CHECKPOINT")
    return {"seconds": time.perf_counter() - start}


def _hierarchy_tables(ws) -> str:
    """The hierarchy stage when installed; otherwise the same contract built here (bench only)."""
    import importlib.util

    from accountree.build import BuildOptions

    if importlib.util.find_spec("accountree.hierarchy.stage") is not None:
        from accountree.hierarchy.stage import STAGE

        STAGE.run(ws, BuildOptions(as_of=AS_OF))
        return "hierarchy stage"
    raise RuntimeError("the build bench needs the hierarchy stage (accountree.hierarchy.stage)")


def full_build(path: str) -> dict[str, Any]:
    """Runs in a fresh process: hierarchy + KPI stages, then incremental one-deal refreshes."""
    from accountree.kpi.pipeline import build_kpis, prepare_refreshes, refresh_accounts
    from accountree.store import open_workspace

    with open_workspace(path) as ws:
        steps: dict[str, float] = {}
        t0 = time.perf_counter()
        with ws.engine.transaction():  # as `accountree build`: one transaction, committed at the end
            source = _hierarchy_tables(ws)
            t1 = time.perf_counter()
            summary = build_kpis(ws, AS_OF, timings=steps)
            committing = time.perf_counter()
        t2 = time.perf_counter()
        steps["commit"] = t2 - committing
        prepare_refreshes(ws)  # as `accountree build` does once committed: the lookup indexes
        indexing = time.perf_counter() - t2
        incremental = []
        deals = ws.engine.scalar("SELECT count(*) FROM deals")
        for i in range(1 + REFRESHES):
            deal_id, account = ws.engine.fetchone(  # spread over the deals (D0 … D{deals - 1}), any size
                "SELECT deal_id, account_id FROM deals WHERE deal_id = ?", [f"D{(1000 + i * 7919) % deals}"])
            ws.engine.execute("UPDATE deals SET amount_rc = amount_rc + 1 WHERE deal_id = ?", [deal_id])
            s = time.perf_counter()
            refresh_accounts(ws, [account], AS_OF)
            incremental.append(time.perf_counter() - s)
    return {"hierarchy_seconds": t1 - t0, "kpi_seconds": t2 - t1, "kpi_steps": steps, "hierarchy_source": source,
            "indexing_seconds": indexing, "incremental_seconds": incremental, "rows": summary}


FLOOR = [
    "CREATE TEMP TABLE ptr AS SELECT account_id AS id, coalesce(parent_id, account_id) AS anc FROM w.accounts",
    # pointer jumping: every account's pointer moves to its pointer's pointer until all reach a head
    "CREATE TEMP TABLE rev AS SELECT account_id, "
    "sum(amount_rc) FILTER (WHERE extract(year FROM close_date) = 2026) AS r0, "
    "sum(amount_rc) FILTER (WHERE extract(year FROM close_date) = 2025) AS r1, "
    "sum(amount_rc) FILTER (WHERE extract(year FROM close_date) = 2024) AS r2, "
    "sum(amount_rc) FILTER (WHERE extract(year FROM close_date) = 2023) AS r3 "
    "FROM w.deals WHERE stage = 'won' AND close_date <= DATE '2026-06-30' GROUP BY account_id",
    "CREATE TEMP TABLE closure AS WITH RECURSIVE c(a, d) AS ("
    "SELECT account_id, account_id FROM w.accounts UNION ALL "
    "SELECT p.parent_id, c.d FROM c JOIN w.accounts p ON p.account_id = c.a WHERE p.parent_id IS NOT NULL) "
    "SELECT a, d FROM c",
    "CREATE TEMP TABLE roll AS SELECT c.a, sum(r.r0), sum(r.r1), sum(r.r2), sum(r.r3), count(*) "
    "FROM closure c LEFT JOIN rev r ON r.account_id = c.d GROUP BY c.a HAVING count(*) > 1",
]


MARGINS = ("AS r3 ", "AS r3, " + ", ".join(
    f"sum(gross_margin_rc) FILTER (WHERE extract(year FROM close_date) = {2026 - k}) AS m{k}" for k in range(4)) + " ")


def floor(path: str, out: str | None = None, totals: bool = False) -> dict[str, Any]:
    """The SQL floor. `out` None: temporary tables in memory (the issue's yardstick). `out` a file:
    the same statements plus the margins, into tables of that DuckDB file, committed — what a build
    must also do (keep its results, margin beside revenue); printed beside, for context."""
    import duckdb

    con = duckdb.connect(out or ":memory:")
    con.execute("SET enable_progress_bar = false")
    con.execute("ATTACH ? AS w (READ_ONLY)", [path])
    kind = "TABLE" if out else "TEMP TABLE"
    statements = [sql.replace("TEMP TABLE", kind) for sql in FLOOR]
    if out:
        statements[1] = statements[1].replace(*MARGINS)
        statements[3] = statements[3].replace("sum(r.r3), ", "sum(r.r3), sum(r.m0), sum(r.m1), sum(r.m2), sum(r.m3), ")
    start = time.perf_counter()
    if out:
        con.execute("BEGIN")
    con.execute(statements[0])
    rounds = 0
    while con.execute("SELECT count(*) FROM ptr a JOIN ptr b ON b.id = a.anc WHERE b.anc <> a.anc").fetchone()[0]:
        con.execute(f"CREATE OR REPLACE {kind} ptr AS SELECT a.id, b.anc FROM ptr a JOIN ptr b ON b.id = a.anc")  # noqa: S608
        rounds += 1
    steps = {"heads": time.perf_counter() - start}
    for name, sql in zip(("revenue", "closure", "rollup"), statements[1:], strict=True):
        t = time.perf_counter()
        con.execute(sql)
        steps[name] = time.perf_counter() - t
    if out:
        con.execute("COMMIT")
    seconds = time.perf_counter() - start
    result: dict[str, Any] = {"seconds": seconds, "jump_rounds": rounds, "steps": steps}
    if totals:  # what the floor found, to check it against the build (not timed)
        result["totals"] = dict(zip(("revenue_cy", "heads", "groups", "group_revenue_cy"), con.execute(
            "SELECT (SELECT sum(r0) FROM rev), (SELECT count(DISTINCT anc) FROM ptr), (SELECT count(*) FROM roll), "
            "(SELECT sum(r0) FROM roll t(a, r0))").fetchone(), strict=True))
    return result


def naive(path: str) -> dict[str, Any]:
    """pandas + networkx, written the obvious way; the loading from DuckDB is not timed."""
    import duckdb
    import networkx as nx

    con = duckdb.connect(path, read_only=True)
    accounts = con.sql("SELECT account_id, parent_id FROM accounts").df()
    deals = con.sql("SELECT account_id, stage, amount_rc, gross_margin_rc, close_date FROM deals").df()
    edges = con.sql("SELECT child_id, parent_id, ownership_pct FROM relationships").df()
    con.close()
    start = time.perf_counter()
    graph = nx.DiGraph()
    graph.add_nodes_from(accounts["account_id"])
    tree = accounts.dropna(subset=["parent_id"])
    graph.add_edges_from(zip(tree["parent_id"], tree["account_id"], strict=True), control=True)
    for child, parent, pct in edges.itertuples(index=False):
        graph.add_edge(parent, child, control=False, share=pct / 100)
    won = deals[(deals["stage"] == "won") & (deals["close_date"] <= AS_OF.isoformat())].copy()
    won["year"] = won["close_date"].astype(str).str[:4].astype(int)
    per_year = won.pivot_table(index="account_id", columns="year", values=["amount_rc", "gross_margin_rc"],
                               aggfunc="sum", fill_value=0)
    own = {a: per_year.loc[a] for a in per_year.index}
    control = nx.DiGraph([(u, v) for u, v, c in graph.edges(data="control") if c])
    heads = {}
    for node in graph.nodes:
        top = node
        while control.has_node(top) and control.in_degree(top):
            top = next(iter(control.predecessors(top)))
        heads[node] = top
    rollups = {}
    for node in control.nodes:
        members = nx.descendants(control, node) | {node}
        if len(members) > 1:
            rows = [own[m] for m in members if m in own]
            rollups[node] = sum(rows) if rows else 0
    return {"seconds": time.perf_counter() - start, "groups": len(rollups), "heads": len(set(heads.values()))}


def run_build_bench(accounts: int = 1_000_000, deals_per_account: int = 10, naive_accounts: int = 100_000,
                    workdir: str | None = None, skip_naive: bool = False) -> dict[str, Any]:
    """Generate, build, refresh, compare; returns the figures (seconds, MB, ratios, targets met)."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        big = str(Path(tmp) / "build_bench.duckdb")
        gen = generate(big, accounts, deals_per_account)
        build = measured(full_build, big)
        flo = measured(floor, big)
        kept = measured(floor, big, str(Path(tmp) / "floor_kept.duckdb"))
        out: dict[str, Any] = {
            "accounts": accounts, "deals": accounts * deals_per_account, "generate_seconds": round(gen["seconds"], 2),
            "hierarchy_seconds": round(build["result"]["hierarchy_seconds"], 2),
            "kpi_seconds": round(build["result"]["kpi_seconds"], 2),
            # where the KPI stage's time goes: each table's statement, the status history, the commit
            "kpi_step_seconds": {k: round(v, 2) for k, v in build["result"]["kpi_steps"].items()},
            "full_build_seconds": round(build["result"]["hierarchy_seconds"] + build["result"]["kpi_seconds"], 2),
            "peak_mb": round(build["peak_mb"]),
            # after the commit, `accountree build` creates the refreshes' lookup indexes (not in the
            # full build's figure: the build's results do not wait for them)
            "refresh_index_seconds": round(build["result"]["indexing_seconds"], 2),
            "incremental_first_ms": round(build["result"]["incremental_seconds"][0] * 1000, 1),
            "incremental_ms": round(statistics.median(build["result"]["incremental_seconds"]) * 1000, 1),
            "incremental_ms_all": [round(s * 1000, 1) for s in build["result"]["incremental_seconds"]],
            "floor_seconds": round(flo["result"]["seconds"], 2), "floor_peak_mb": round(flo["peak_mb"]),
            # context, not the target: the floor writing its results (and margins) to a file, committed
            "floor_kept_seconds": round(kept["result"]["seconds"], 2),
            "rows": build["result"]["rows"],
        }
        out["ratio_to_floor"] = round(out["full_build_seconds"] / out["floor_seconds"], 2)
        out["kpi_ratio_to_floor"] = round(out["kpi_seconds"] / out["floor_seconds"], 2)
        out["ratio_to_floor_kept"] = round(out["full_build_seconds"] / out["floor_kept_seconds"], 2)
        if not skip_naive:
            if naive_accounts == accounts:
                small, ours = big, out["full_build_seconds"]
            else:
                small = str(Path(tmp) / "naive_bench.duckdb")
                generate(small, naive_accounts, deals_per_account)
                ours_small = measured(full_build, small)["result"]
                ours = ours_small["hierarchy_seconds"] + ours_small["kpi_seconds"]
            slow = measured(naive, small)
            out["naive"] = {"accounts": naive_accounts, "deals": naive_accounts * deals_per_account,
                            "naive_seconds": round(slow["result"]["seconds"], 2), "naive_peak_mb": round(slow["peak_mb"]),
                            "ours_seconds": round(ours, 2), "speedup": round(slow["result"]["seconds"] / ours, 1)}
        out["targets"] = {
            "full_build_under_15s": out["full_build_seconds"] <= 15, "peak_under_3gb": out["peak_mb"] <= 3072,
            "within_3x_floor": out["ratio_to_floor"] <= 3, "incremental_under_100ms": out["incremental_ms"] < 100,
            **({"20x_naive": out["naive"]["speedup"] >= 20} if "naive" in out else {}),
        }
    return out
