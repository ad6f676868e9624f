"""`accountree bench score`: scoring throughput, training time, and AUC of the model vs the grid.

Generates `accounts` accounts with a planted best-customer pattern (accountree.scoring.synthetic) in a
temporary DuckDB workspace, then measures: scoring with the default grid alone (features, grid,
grades, tiers — the 1M-accounts-under-10-s target), training (hold-out evaluation + final fit on at
most `model.max_training_rows` accounts), and scoring again with the trained model.
"""

from __future__ import annotations

import os
import platform
import resource
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

TARGET_SECONDS_1M = 10.0


def run_score_bench(accounts: int = 1_000_000, seed: int = 7) -> dict[str, Any]:
    from accountree.scoring import synthetic
    from accountree.scoring.service import score_workspace
    from accountree.scoring.training import train_model
    from accountree.store import open_workspace

    as_of = date(2026, 11, 1)
    with tempfile.TemporaryDirectory(prefix="accountree-score-bench-") as tmp:
        ws = open_workspace(str(Path(tmp) / "bench.duckdb"))
        ws.engine.execute("SET enable_progress_bar = false")
        try:
            started = time.perf_counter()
            synthetic.load(ws, accounts, seed=seed, as_of=as_of)
            generate_s = time.perf_counter() - started

            started, cpu = time.perf_counter(), _cpu()
            grid_run = score_workspace(ws, as_of)
            grid_s, grid_cpu = time.perf_counter() - started, _cpu() - cpu

            started, cpu = time.perf_counter(), _cpu()
            trained = train_model(ws, as_of)
            train_total_s, train_cpu = time.perf_counter() - started, _cpu() - cpu

            started, cpu = time.perf_counter(), _cpu()
            model_run = score_workspace(ws, as_of)
            model_s, model_cpu = time.perf_counter() - started, _cpu() - cpu
            details = int(ws.engine.scalar("SELECT count(*) FROM score_details"))
        finally:
            ws.close()
    m = trained["metrics"]
    return {
        "accounts": accounts,
        "machine": f"{platform.machine()}, {_cpus()} CPU(s), load average {os.getloadavg()[0]:.1f}",
        "generate_and_load_s": round(generate_s, 2),
        "score_grid_s": round(grid_s, 2),
        "score_grid_cpu_s": round(grid_cpu, 2),
        "score_grid_accounts_per_s": round(accounts / grid_s),
        "criterion_rows_stored": details,
        "target_1m_s": TARGET_SECONDS_1M,
        "grid_meets_target": grid_s * 1_000_000 / max(accounts, 1) < TARGET_SECONDS_1M,
        "train_rows": min(trained["labelled"], 200_000),
        "labelled": trained["labelled"],
        "best_customers": trained["positives"],
        "train_fit_and_evaluate_s": m["train_seconds"],
        "train_total_s_incl_rescoring": round(train_total_s, 2),
        "train_total_cpu_s": round(train_cpu, 2),
        "score_with_model_s": round(model_s, 2),
        "score_with_model_cpu_s": round(model_cpu, 2),
        "score_with_model_accounts_per_s": round(accounts / model_s),
        "auc_model": m["auc_model"],
        "auc_grid": m["auc_grid"],
        "precision_top_decile_model": m["precision_top_decile_model"],
        "precision_top_decile_grid": m["precision_top_decile_grid"],
        "graded": model_run["graded"],
        "grid_only_graded": grid_run["graded"],
    }


def _cpus() -> int:
    return os.cpu_count() or 1


def _cpu() -> float:
    """CPU seconds of this process, all threads (DuckDB's included): honest on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
