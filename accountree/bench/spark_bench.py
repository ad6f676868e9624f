"""`accountree bench spark`: the hierarchy, score and KPI stages on Spark local mode, written to a
Parquet lake, side by side with the same stages on DuckDB, on one generated workspace.

The input is generated set-based in DuckDB SQL (`accountree.bench.build_bench.generate`: groups
of 16 entities, 3 levels under the head, one third of the blocks standalone companies, a 50/50
joint venture every 50 blocks, `deals_per_account` deals and 2 activities per account). Then, each
in a fresh process whose whole process tree is sampled for resident memory (Spark's driver is a
JVM child of the Python process: `peak_mb` is the largest sum of RSS seen over both, sampled
every 0.2 s):
- `spark`: `build_on_spark(..., stages=[hierarchy, scores, kpis], lake=DIR, land=False)`: the
  workspace's tables read into Spark, every derived table written to the lake as Parquet, nothing
  landed in the workspace;
- `duckdb`: `accountree build --stage hierarchy --stage scores --stage kpis` on the same
  workspace (skipped with `--skip-duckdb`, or when it would not fit).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from accountree.bench.build_bench import AS_OF, generate
from accountree.bench.measure import result_of

STAGES = ["hierarchy", "scores", "kpis"]
SAMPLE_SECONDS = 0.2


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (0 once it is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):  # ended meanwhile
            total += proc.memory_info().rss
    return total


def tree_measured(fn, *args: Any) -> dict[str, Any]:
    """Run `fn(*args)` in a spawned process: {'seconds', 'peak_mb' (process tree), 'result'}."""
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    start = time.perf_counter()
    proc.start()
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out = result_of(queue, proc)
    finally:
        done.set()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.join()
    if out["error"]:
        raise RuntimeError(out["error"])
    return {"seconds": seconds, "peak_mb": peak / 2**20, "result": out["result"]}


def _child(fn, args: tuple, queue: mp.Queue) -> None:
    try:
        queue.put({"result": fn(*args), "error": None})
    except Exception as err:  # reported to the parent, which raises
        queue.put({"result": None, "error": f"{type(err).__name__}: {err}"})


def spark_run(path: str, lake: str, master: str, driver_memory: str, local_dir: str) -> dict[str, Any]:
    """In a fresh process: the three stages on Spark, written to the lake only."""
    from accountree.build import BuildOptions
    from accountree.spark_build import build_on_spark
    from accountree.store import open_workspace
    from accountree.store.spark_engine import spark_session

    start = time.perf_counter()
    session = spark_session(master, config={"spark.driver.memory": driver_memory, "spark.local.dir": local_dir})
    started = time.perf_counter() - start
    with open_workspace(path) as ws:
        results = build_on_spark(ws, BuildOptions(as_of=AS_OF, stages=STAGES), session=session, lake=lake, land=False)
    session.stop()
    return {"session_seconds": round(started, 2),
            "stage_seconds": {s: results[s].get("spark_seconds") for s in STAGES},
            "lake_seconds": results["spark"].get("lake_seconds"), "lake_rows": results["spark"]["lake_rows"],
            "lake_tables": results["spark"]["lake_tables"],
            "groups": results["hierarchy"].get("groups"), "max_depth": results["hierarchy"].get("max_depth")}


def duckdb_run(path: str, memory_limit: str) -> dict[str, Any]:
    """In a fresh process: the same three stages on the DuckDB workspace, landed there, with
    DuckDB's memory limit set to Spark's driver memory (the workspace's default is lower)."""
    from accountree.build import BuildOptions, build
    from accountree.store import open_workspace

    os.environ["ACCOUNTREE_MEMORY_LIMIT"] = memory_limit.upper().removesuffix("B") + "B"

    timings: list[dict[str, Any]] = []
    with open_workspace(path) as ws:
        results = build(ws, BuildOptions(as_of=AS_OF, stages=STAGES), timings=timings)
    return {"stage_seconds": {t["name"]: t["seconds"] for t in timings}, "rows": sum(t["rows"] for t in timings),
            "groups": results["hierarchy"].get("groups"), "max_depth": results["hierarchy"].get("max_depth")}


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_spark_bench(accounts: int = 1_000_000, deals_per_account: int = 1, master: str = "local[*]",
                    driver_memory: str = "8g", skip_duckdb: bool = False, workdir: str | None = None,
                    keep_lake: str | None = None) -> dict[str, Any]:
    """Generate, build on Spark into a lake, build on DuckDB; returns the figures side by side."""
    with tempfile.TemporaryDirectory(dir=workdir, prefix="spark_bench-") as tmp:
        root = Path(tmp)
        path = str(root / "ws.duckdb")
        gen = generate(path, accounts, deals_per_account)
        workspace_mb = _size(root) / 2**20
        lake = keep_lake or str(root / "lake")
        local_dir = root / "spark-local"
        local_dir.mkdir()
        spark = tree_measured(spark_run, path, lake, master, driver_memory, str(local_dir))
        out: dict[str, Any] = {
            "accounts": accounts, "deals": accounts * deals_per_account, "activities": accounts * 2,
            "generate_seconds": round(gen["seconds"], 2), "workspace_mb": round(workspace_mb),
            "cores": os.cpu_count(), "master": master, "driver_memory": driver_memory,
            "spark_seconds": round(spark["seconds"], 2), "spark_peak_mb": round(spark["peak_mb"]),
            "spark": spark["result"], "lake_mb": round(_size(Path(lake)) / 2**20),
        }
        if not skip_duckdb:
            try:
                duck = tree_measured(duckdb_run, path, driver_memory)
            except RuntimeError as err:  # DuckDB did not fit: the Spark figures still stand
                out["duckdb_error"] = str(err).splitlines()[0]
                return out
            out.update({"duckdb_seconds": round(duck["seconds"], 2), "duckdb_peak_mb": round(duck["peak_mb"]),
                        "duckdb": {**duck["result"], "stage_seconds": {
                            k: round(v, 2) for k, v in duck["result"]["stage_seconds"].items()}}})
            out["spark_to_duckdb_time"] = round(out["spark_seconds"] / out["duckdb_seconds"], 1)
            out["same_groups"] = out["spark"]["groups"] == out["duckdb"]["groups"]
        if keep_lake is None:
            shutil.rmtree(lake, ignore_errors=True)
    return out
