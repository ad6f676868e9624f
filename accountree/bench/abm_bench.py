"""`accountree bench abm`: the `abm` build stage at scale (the issue's target: 1M accounts / 10M
deals in ≤ 15 s and ≤ 2 GB on this machine).

A synthetic workspace is generated in DuckDB by SQL (accounts in groups of ten, `deals_per_account`
deals over four BUs, activities, 40 campaigns, two campaign targets per account) and kept on disk
while a fresh process runs the stage, so its wall time and peak memory are the stage's alone.
Baseline side by side: the SQL floor — one GROUP BY of the deals per account and BU, the least any
engine must do to know which BUs are active where — measured in its own process too.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

TARGET_SECONDS_1M = 15.0
TARGET_MB = 2048.0
AS_OF = date(2026, 6, 30)

_GENERATE = [
    """INSERT INTO accounts (account_id, name, parent_id, owner, source)
    SELECT 'A' || i, 'Account ' || i, CASE WHEN i % 10 <> 0 THEN 'A' || (i - i % 10) END, 'owner' || (i % 97), 'crm'
    FROM range(0, $n) t(i)""",
    """CREATE TABLE hierarchy AS SELECT 'A' || i AS account_id, 'A' || (i - i % 10) AS group_head_id
    FROM range(0, $n) t(i)""",
    """INSERT INTO seller_bus (bu_id, name, sales_cycle_days)
    VALUES ('bu_sw', 'Software', 90), ('bu_sv', 'Services', 120), ('bu_hw', 'Hardware', 270), ('bu_cl', 'Cloud', 60)""",
    """INSERT INTO deals (deal_id, account_id, seller_bu, product, stage, amount, amount_rc, created_at, close_date, owner)
    SELECT 'D' || j, 'A' || (j // $per), ['bu_sw', 'bu_sv', 'bu_hw', 'bu_cl'][1 + CAST(hash(j) % 4 AS BIGINT)],
        'P' || (CAST(hash(j * 7) % 12 AS BIGINT)),
        ['won', 'lost', 'won', 'proposal', 'discovery'][1 + CAST(hash(j * 3) % 5 AS BIGINT)],
        1000 + CAST(hash(j * 5) % 90000 AS BIGINT), 1000 + CAST(hash(j * 5) % 90000 AS BIGINT),
        DATE '2026-06-30' - CAST(30 + CAST(hash(j * 11) % 1400 AS BIGINT) AS INTEGER),
        DATE '2026-06-30' - CAST(CAST(hash(j * 11) % 1400 AS BIGINT) AS INTEGER) + 25, 'owner' || (CAST(hash(j) % 97 AS BIGINT))
    FROM range(0, $n * $per) t(j)""",
    """INSERT INTO activities (activity_id, account_id, "date", type, contact_id, seller_bu)
    SELECT 'X' || j, 'A' || (j // 5), DATE '2026-06-30' - CAST(CAST(hash(j * 13) % 700 AS BIGINT) AS INTEGER), 'meeting',
        'C' || (j // 10), ['bu_sw', 'bu_sv', 'bu_hw', 'bu_cl'][1 + CAST(hash(j * 17) % 4 AS BIGINT)]
    FROM range(0, $n * 5) t(j)""",
    """INSERT INTO campaigns (campaign_id, name, seller_bu, start_date, end_date)
    SELECT 'K' || k, 'Campaign ' || k, ['bu_sw', 'bu_sv', 'bu_hw', 'bu_cl'][1 + k % 4],
        DATE '2026-06-30' - CAST(k * 20 AS INTEGER), DATE '2026-06-30' - CAST(k * 20 AS INTEGER) + 21
    FROM range(0, 40) t(k)""",
    """INSERT INTO campaign_accounts (campaign_id, account_id)
    SELECT DISTINCT 'K' || (CAST(hash(j * 19) % 40 AS BIGINT)), 'A' || (j // 2) FROM range(0, $n * 2) t(j)""",
]

_FLOOR = "SELECT account_id, seller_bu, count(*), sum(amount_rc) FROM deals GROUP BY account_id, seller_bu"


def _generate(path: str, accounts: int, per: int) -> None:
    from accountree.store import open_workspace

    ws = open_workspace(path)
    try:
        for statement in _GENERATE:
            params = {k: v for k, v in {"n": accounts, "per": per}.items() if f"${k}" in statement}
            ws.engine.execute(statement, params or None)
    finally:
        ws.close()


class _Timings(list):
    """The stage's per-step timings, each with the process's peak memory once the step is done
    (the step that raises it is the one to look at)."""

    def append(self, item: dict[str, Any]) -> None:
        from accountree.bench.measure import peak_mb

        super().append({**item, "peak_mb": round(peak_mb())})


def _reset(path: str) -> None:
    """A reused workspace back to its state before the first stage run: no output tables, no
    remembered conflicts (else the next run would insert none and time less work)."""
    from accountree.orchestration.stage import OUTPUTS
    from accountree.store import open_workspace

    ws = open_workspace(path)
    try:
        ws.engine.drop_table(*OUTPUTS)
        ws.engine.execute("DELETE FROM abm_conflict_seen")
        ws.engine.execute("CHECKPOINT")
    finally:
        ws.close()


def _stage(path: str) -> dict[str, Any]:
    from accountree.orchestration.stage import compute
    from accountree.store import open_workspace

    ws = open_workspace(path)
    timings = _Timings()
    try:
        with ws.engine.bulk_work(within_limit=True), ws.engine.transaction():  # as the build stage runs it
            summary = compute(ws, AS_OF, timings=timings)
        return {"summary": summary, "steps": list(timings)}
    finally:
        ws.close()


def _floor(path: str) -> int:
    from accountree.store import open_workspace

    ws = open_workspace(path)
    try:
        return int(ws.engine.scalar(f"SELECT count(*) FROM ({_FLOOR}) f"))  # noqa: S608 - static text
    finally:
        ws.close()


def _generated(path: str) -> tuple[int, int]:
    from accountree.store import open_workspace

    ws = open_workspace(path)
    try:
        return (int(ws.engine.scalar("SELECT count(*) FROM accounts")),
                int(ws.engine.scalar("SELECT count(*) FROM deals")))
    finally:
        ws.close()


def run_abm_bench(accounts: int = 100_000, deals_per_account: int = 10, workspace: str | None = None) -> dict[str, Any]:
    """`workspace`: a DuckDB file to keep the generated workspace in (generated there when it does
    not exist, reused as it is when it does: generating 1M accounts takes minutes)."""
    from accountree.bench.measure import measured
    from accountree.errors import WorkspaceError

    with tempfile.TemporaryDirectory(prefix="accountree-abm-bench-") as tmp:
        path = workspace or str(Path(tmp) / "bench.duckdb")
        started = time.perf_counter()
        if workspace and Path(workspace).exists():
            have = measured(_generated, path)["result"]
            if have != (accounts, accounts * deals_per_account):
                raise WorkspaceError(f"{workspace} holds {have[0]} accounts and {have[1]} deals, not {accounts} and "
                                 f"{accounts * deals_per_account}",
                                 hint="Pass the same --accounts and --deals-per-account, or a new --workspace path.")
            measured(_reset, path)
            generate_s = None
        else:
            _generate(path, accounts, deals_per_account)
            generate_s = round(time.perf_counter() - started, 2)
        floor = measured(_floor, path)
        stage = measured(_stage, path)
    seconds, floor_s = stage["seconds"], floor["seconds"]
    scaled = seconds * 1_000_000 / max(accounts, 1)
    return {
        "accounts": accounts,
        "deals": accounts * deals_per_account,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}",
        "generate_s": generate_s if generate_s is not None else f"reused {workspace}",
        "abm_stage_s": round(seconds, 2),
        "abm_stage_peak_mb": round(stage["peak_mb"]),
        "floor_group_by_s": round(floor_s, 2),
        "floor_peak_mb": round(floor["peak_mb"]),
        "ratio_stage_to_floor": round(seconds / floor_s, 1) if floor_s else None,
        "linear_estimate_1m_s": round(scaled, 1),
        "target_1m_s": TARGET_SECONDS_1M,
        "target_mb": TARGET_MB,
        "meets_time_target": scaled <= TARGET_SECONDS_1M,
        "meets_memory_target": stage["peak_mb"] <= TARGET_MB,
        **{f"stage: {k}": v for k, v in stage["result"]["summary"].items()},
        "steps": stage["result"]["steps"],
    }
