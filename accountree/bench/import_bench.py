"""Import throughput: our checked, atomic import against a raw DuckDB load of the same files.

The files are generated with DuckDB (fast, deterministic) in the formats users send: French
number formats and dd/mm/yyyy dates in the deals, so every value goes through the parsers.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from accountree.bench.measure import measured

COUNTRIES = "['FR','DE','GB','ES','IT','US','BE','CH']"


def generate_files(folder: Path, accounts: int, deals: int) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    files = {"accounts": folder / "accounts.csv", "deals": folder / "deals.csv"}
    con.execute(
        f"""COPY (SELECT 'A' || i AS account_id, 'Société ' || i || ' SAS' AS name,
                   CASE WHEN i % 10 = 0 THEN NULL ELSE 'A' || (i - i % 10) END AS parent_id,
                   'company' || i || '.example' AS domain, {COUNTRIES}[1 + i % 8] AS country,
                   (i * 7919) % 50000 AS employees, round((i * 104729) % 1000000000 / 3.0, 2) AS annual_revenue,
                   'EUR' AS currency, DATE '2015-01-01' + CAST(i % 3000 AS INTEGER) AS created_at
                 FROM range({int(accounts)}) t(i)) TO '{files["accounts"]}' (HEADER, DELIMITER ',')"""  # noqa: S608 - generated test data
    )
    con.execute(
        f"""COPY (SELECT 'D' || i AS deal_id, 'A' || (i * 7) % {int(accounts)} AS account_id,
                   CASE i % 5 WHEN 0 THEN 'lost' WHEN 1 THEN 'proposal' ELSE 'won' END AS stage,
                   replace(CAST(round(1000 + (i * 31) % 200000 + 0.5, 2) AS VARCHAR), '.', ',') AS amount,
                   replace(CAST(round(((i * 31) % 200000) * 0.3, 2) AS VARCHAR), '.', ',') AS gross_margin,
                   CASE i % 3 WHEN 0 THEN 'USD' ELSE 'EUR' END AS currency,
                   strftime(DATE '2022-01-01' + CAST(i % 1800 AS INTEGER), '%d/%m/%Y') AS close_date,
                   'P' || i % 12 AS product
                 FROM range({int(deals)}) t(i)) TO '{files["deals"]}' (HEADER, DELIMITER ';')"""  # noqa: S608
    )
    con.close()
    return files


def _import(folder: str, workspace: str) -> int:
    from accountree.ingest import import_bundle
    from accountree.store import open_workspace

    with open_workspace(workspace) as ws:
        return import_bundle(ws, [folder]).rows


def _raw_load(folder: str, workspace: str) -> int:
    con = duckdb.connect(workspace)
    con.execute("SET enable_progress_bar = false")
    rows = 0
    for name, delim in (("accounts", ","), ("deals", ";")):
        rel = con.read_csv(str(Path(folder) / f"{name}.csv"), header=True, delimiter=delim, all_varchar=True)
        con.register("src", rel)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM src")  # noqa: S608 - fixed names
        rows += con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]  # noqa: S608
    con.close()
    return rows


def run_import_bench(accounts: int = 1_000_000, deals: int = 10_000_000, workdir: Path | None = None) -> dict[str, Any]:
    root = Path(workdir or tempfile.mkdtemp(prefix="accountree-bench-"))
    try:
        generate_files(root / "bundle", accounts, deals)
        size_mb = sum(p.stat().st_size for p in (root / "bundle").iterdir()) / 1e6
        ours = measured(_import, str(root / "bundle"), str(root / "ours.duckdb"))
        floor = measured(_raw_load, str(root / "bundle"), str(root / "floor.duckdb"))
        rows = accounts + deals
        return {
            "accounts": accounts, "deals": deals, "files_mb": round(size_mb, 1),
            "import_seconds": round(ours["seconds"], 2), "import_rows_per_s": round(rows / ours["seconds"]),
            "import_peak_mb": round(ours["peak_mb"]),
            "raw_load_seconds": round(floor["seconds"], 2), "raw_load_peak_mb": round(floor["peak_mb"]),
            "ratio_vs_raw_load": round(ours["seconds"] / floor["seconds"], 2),
        }
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)
